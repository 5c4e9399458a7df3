/* Every send and receive of the host: one program per tracepoint
 * (sock:sock_send_length, sock:sock_recv_length) runs each concern in turn:
 * TCP byte counts (tcp/traffic.c), request capture (l7/capture.c) and DNS
 * capture (dns/capture.c).
 *
 * Kernel subtlety: each program attached to a tracepoint is a dispatch of its
 * own (bpf_trace_run: RCU, migration and recursion guards, an indirect call),
 * and three programs would each work out the socket's cookie again, on the
 * hottest tracepoints a host has. The captures are switched by load-time
 * constants (set by src/collector/engine.ts before the verifier runs), so a
 * capture not in use, or one the kernel refused, leaves no code behind and
 * costs nothing. */

const volatile __u8 dh_l7_on = 1;  /* request capture (L7) in use */
const volatile __u8 dh_dns_on = 1; /* DNS capture in use */

static __always_inline int on_sock_io(struct sock *sk, int ret, int flags, int is_send)
{
	if (is_inet_tcp(sk)) {
		__u64 cookie = bpf_get_socket_cookie(sk);
		struct dh_conn *c = tcp_traffic(sk, cookie, ret, flags, is_send);
		if (dh_l7_on)
			l7_capture(sk, c, cookie, ret, flags, is_send);
	}
	if (dh_dns_on)
		dns_capture(sk, ret, flags, is_send ? DH_DNS_DIR_SEND : DH_DNS_DIR_RECV);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(dh_sock_send_length, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk, ret, flags, 1);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(dh_sock_recv_length, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk, ret, flags, 0);
}
