/* Bytes each way, counted in the kernel per socket from sock:sock_send_length
 * and sock:sock_recv_length; user space reads the conns map in batches, so no
 * event leaves the kernel per send. The first syscall also names the owner of
 * a server-side socket, which was established in softirq. Called from the one
 * program per tracepoint in sock_io.c; returns the socket's entry (NULL if it
 * has none), which request capture reads next. */

static __always_inline struct dh_conn *tcp_traffic(struct sock *sk, __u64 cookie, int ret, int flags, int is_send)
{
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c) {
		if (sk->__sk_common.skc_state == TCP_LISTEN)
			return 0;
		c = track_midflight(sk, cookie, DH_SIDE_UNKNOWN);
		if (!c)
			return 0;
	}
	if (!c->pid) {
		set_owner_from_current(c);
		if (!c->cgroup_id)
			c->cgroup_id = bpf_get_current_cgroup_id();
	}
	if (ret > 0) {
		if (is_send)
			__sync_fetch_and_add(&c->bytes_sent, ret);
		else if (!(flags & MSG_PEEK))
			__sync_fetch_and_add(&c->bytes_received, ret);
	}
	c->srtt_us = sk_srtt_us(sk);
	return c;
}
