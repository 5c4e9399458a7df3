/* Resets sent and received, remembered on the socket so the close event can
 * say whether a connection ended normally. */

static __always_inline void mark(const struct sock *sk, __u8 flag)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (c)
		c->flags |= flag;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(dh_tcp_receive_reset, struct sock *sk)
{
	if (sk)
		mark(sk, DH_F_RST_RECV);
	return 0;
}

/* sk is NULL when the reset answers a segment for no socket (a closed port). */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(dh_tcp_send_reset, const struct sock *sk)
{
	if (sk && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_TIME_WAIT)
		mark(sk, DH_F_RST_SENT);
	return 0;
}
