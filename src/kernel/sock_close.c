/* The end of every TCP socket (tcp:tcp_destroy_sock): one program reports the
 * connection's close (tcp/destroy.c) and, for a socket the request parser took,
 * its last request counts (l7/capture.c), in one record of the events ring.
 *
 * Kernel subtlety: two programs on one tracepoint run in attach order, but
 * their records went to two rings that user space drains at different times,
 * so a socket's counts and its close had to be joined again by cookie, ten
 * thousand times a second under connection-per-request load. In one record
 * they arrive together and in order. The counts' own ring (l7_final) is left
 * for a socket with no connection entry, or a full events ring. */

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(dh_tcp_destroy_sock, struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct dh_conn *c = tcp_destroy(sk, cookie);
	struct dh_l7_sock *st = dh_l7_on ? l7_destroy(sk, cookie, c) : 0;
	if (c && st && st->proto) {
		struct dh_event_l7 *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (r) {
			fill_event(&r->ev, DH_EV_CLOSE, cookie, c, c->close_state, TCP_CLOSE);
			r->ev.l7_proto = st->proto;
			r->ev.l7_side = st->side;
			r->ev.l7_flags = st->flags | DH_L7_F_CLOSED;
			__builtin_memcpy(&r->counts, &st->counts, sizeof(r->counts));
			/* Both entries go before the submit: a map read after it must not find them again. */
			bpf_map_delete_elem(&l7_socks, &cookie);
			bpf_map_delete_elem(&conns, &cookie);
			bpf_ringbuf_submit(r, 0);
			return 0;
		}
	}
	if (c) {
		emit(DH_EV_CLOSE, cookie, c, c->close_state, TCP_CLOSE);
		bpf_map_delete_elem(&conns, &cookie);
	}
	if (st)
		l7_final_send(cookie, st);
	return 0;
}
