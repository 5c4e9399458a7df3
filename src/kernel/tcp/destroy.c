/* The end of a socket's life (tcp:tcp_destroy_sock): its connection entry gets
 * how it closed. The program (sock_close.c) reports it, with the socket's
 * request counts when it has any, then forgets it. */

static __always_inline struct dh_conn *tcp_destroy(const struct sock *sk, __u64 cookie)
{
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c)
		return 0;
	/* Kernel subtlety: tcp/state.c may never see this socket reach TCP_CLOSE.
	 * A tracing program does not nest on its CPU: when a softirq closes the
	 * socket (an ICMP error, a SYN timeout) while the same program runs in
	 * process context beneath it, the kernel skips that run and counts a
	 * recursion miss (dhrishti_probe_runs_skipped_total). The state read here
	 * is then TCP_CLOSE; events/classify.ts still knows an attempt by its flags. */
	if (!c->close_state) {
		c->close_state = sk->__sk_common.skc_state;
		c->close_err = sk->sk_err;
		c->end_ns = bpf_ktime_get_boot_ns();
	}
	return c;
}
