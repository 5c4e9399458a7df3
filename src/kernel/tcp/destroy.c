/* The end of a socket's life (tcp:tcp_destroy_sock): its connection entry gets
 * how it closed. The program (sock_close.c) reports it, with the socket's
 * request counts when it has any, then forgets it. */

static __always_inline struct dh_conn *tcp_destroy(const struct sock *sk, __u64 cookie)
{
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c)
		return 0;
	if (!c->close_state) { /* freed without passing TCP_CLOSE (e.g. never connected) */
		c->close_state = sk->__sk_common.skc_state;
		c->close_err = sk->sk_err;
		c->end_ns = bpf_ktime_get_boot_ns();
	}
	return c;
}
