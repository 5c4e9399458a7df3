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

/* Did the owner's own close cause this reset? Closing with data still unread
 * (or data arriving after the close) resets the peer by the kernel's rule, not
 * because the connection failed: wrk stopping with responses in flight does it.
 *
 * Kernel subtlety: the reason is the tracepoint's third argument only since
 * 6.10 (enum sk_rst_reason). The CO-RE check turns into a constant at load, so
 * on an older kernel the verifier never walks the read of an argument the
 * tracepoint lacks, and every reset counts as one. */
static __always_inline int reset_by_unread_close(unsigned long long *ctx)
{
	if (!bpf_core_enum_value_exists(enum sk_rst_reason, SK_RST_REASON_TCP_ABORT_ON_CLOSE))
		return 0;
	__u64 r = ctx[2];
	return r == bpf_core_enum_value(enum sk_rst_reason, SK_RST_REASON_TCP_ABORT_ON_CLOSE) ||
	       r == bpf_core_enum_value(enum sk_rst_reason, SK_RST_REASON_TCP_ABORT_ON_DATA) ||
	       r == bpf_core_enum_value(enum sk_rst_reason, SK_RST_REASON_TCP_DISCONNECT_WITH_DATA);
}

/* sk is NULL when the reset answers a segment for no socket (a closed port). */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(dh_tcp_send_reset, const struct sock *sk)
{
	if (sk && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_TIME_WAIT)
		mark(sk, DH_F_RST_SENT | (reset_by_unread_close(ctx) ? DH_F_RST_UNREAD : 0));
	return 0;
}
