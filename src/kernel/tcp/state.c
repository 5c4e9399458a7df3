/* TCP lifecycle from sock:inet_sock_set_state: attempt, established (both
 * sides), close with its error, and listening sockets. */

static __always_inline int on_syn_sent(const struct sock *sk, __u64 cookie, int oldstate)
{
	/* A socket may connect again after a failed attempt: report that one first. */
	struct dh_conn *prev = bpf_map_lookup_elem(&conns, &cookie);
	if (prev && prev->close_state)
		emit(DH_EV_CLOSE, cookie, prev, prev->close_state, TCP_CLOSE);

	/* Process context: the connecting task owns the socket. The source port
	 * is not chosen yet; ESTABLISHED and CLOSE re-read the tuple. */
	struct dh_conn c = {};
	read_tuple(sk, &c);
	c.start_ns = bpf_ktime_get_boot_ns();
	c.netns = sk_netns(sk);
	c.cgroup_id = bpf_get_current_cgroup_id();
	c.side = DH_SIDE_CLIENT;
	set_owner_from_current(&c);
	if (bpf_map_update_elem(&conns, &cookie, &c, BPF_ANY))
		count_loss(DH_LOSS_CONN_MAP_FULL);
	if (dh_report_connect)
		emit(DH_EV_CONNECT, cookie, &c, oldstate, TCP_SYN_SENT);
	return 0;
}

static __always_inline int on_syn_recv(const struct sock *sk, __u64 cookie)
{
	/* Softirq: the current task is unrelated, so owner facts come from the
	 * socket; the pid is attached at its first send/recv (the listener's owner
	 * stands in until then). Not at accept(): the only hook there is a syscall
	 * tracepoint, and attaching any sys_enter/sys_exit program puts every task
	 * of the host on the kernel's slow syscall path (about 40 ns per syscall
	 * here, whatever the syscall). */
	struct dh_conn c = {};
	read_tuple(sk, &c);
	c.start_ns = bpf_ktime_get_boot_ns();
	c.netns = sk_netns(sk);
	c.cgroup_id = sk_cgroup_id(sk);
	c.side = DH_SIDE_SERVER;
	if (bpf_map_update_elem(&conns, &cookie, &c, BPF_ANY))
		count_loss(DH_LOSS_CONN_MAP_FULL);
	return 0;
}

static __always_inline int on_established(const struct sock *sk, __u64 cookie, int oldstate)
{
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c)
		c = track_midflight(sk, cookie, oldstate == TCP_SYN_SENT ? DH_SIDE_CLIENT : DH_SIDE_SERVER);
	if (!c)
		return 0;
	read_tuple(sk, c);
	c->flags |= DH_F_ESTABLISHED;
	c->srtt_us = sk_srtt_us(sk);
	emit(DH_EV_ESTABLISHED, cookie, c, oldstate, TCP_ESTABLISHED);
	return 0;
}

/* Reaching TCP_CLOSE is not the end of a socket: its owner may still read
 * data that arrived before the FIN. Record how it closed; tcp/destroy.c
 * reports it when the socket is freed, with the final counters. */
static __always_inline int on_close(const struct sock *sk, __u64 cookie, int oldstate)
{
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c) /* never tracked: predates the agent and stayed silent */
		c = track_midflight(sk, cookie, DH_SIDE_UNKNOWN);
	if (!c)
		return 0;
	__u16 sport = c->sport;
	read_tuple(sk, c);
	if (!c->sport)
		c->sport = sport;
	c->srtt_us = sk_srtt_us(sk);
	c->end_ns = bpf_ktime_get_boot_ns();
	c->close_err = sk->sk_err;
	c->close_state = oldstate;
	if (oldstate == TCP_SYN_SENT && sk_total_retrans(sk))
		c->flags |= DH_F_SYN_RESENT;
	return 0;
}

static __always_inline int on_listen(const struct sock *sk, __u64 cookie, int oldstate, int newstate)
{
	struct dh_conn c = {};
	read_tuple(sk, &c);
	c.netns = sk_netns(sk);
	c.cgroup_id = sk_cgroup_id(sk);
	c.side = DH_SIDE_SERVER;
	set_owner_from_current(&c); /* listen() and close() run in the owner's context */
	emit(newstate == TCP_LISTEN ? DH_EV_LISTEN : DH_EV_LISTEN_CLOSE, cookie, &c, oldstate, newstate);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(dh_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	/* Half of a connection's ten state changes (the FIN steps) concern no one: they leave before any read of the socket. */
	if (newstate != TCP_SYN_SENT && newstate != TCP_SYN_RECV && newstate != TCP_ESTABLISHED &&
	    newstate != TCP_CLOSE && newstate != TCP_LISTEN)
		return 0;
	if (!is_inet_tcp(sk))
		return 0;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);

	if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE))
		return on_listen(sk, cookie, oldstate, newstate);
	switch (newstate) {
	case TCP_SYN_SENT:
		return on_syn_sent(sk, cookie, oldstate);
	case TCP_SYN_RECV:
		return on_syn_recv(sk, cookie);
	case TCP_ESTABLISHED:
		return on_established(sk, cookie, oldstate);
	case TCP_CLOSE:
		return on_close(sk, cookie, oldstate);
	}
	return 0;
}
