/* The end of a socket's life (tcp:tcp_destroy_sock): report the connection
 * with its final counters and how it closed, then forget it. */

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(dh_tcp_destroy_sock, struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c)
		return 0;
	if (!c->close_state) { /* freed without passing TCP_CLOSE (e.g. never connected) */
		c->close_state = sk->__sk_common.skc_state;
		c->close_err = sk->sk_err;
		c->end_ns = bpf_ktime_get_boot_ns();
	}
	emit(DH_EV_CLOSE, cookie, c, c->close_state, TCP_CLOSE);
	bpf_map_delete_elem(&conns, &cookie);
	return 0;
}
