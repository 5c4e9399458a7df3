/* Retransmitted segments per socket, from tcp:tcp_retransmit_skb. SYN
 * retransmits count too: they tell a timeout from a quick abort. An attempt
 * that failed (err: no route, a neighbour that never answered ARP) sent
 * nothing and is not counted, as RetransSegs does not count it.
 *
 * Tail loss probes are not counted as retransmits. With two segments in
 * flight the probe timer is 2·srtt + 2 jiffies, a few ms on a bridge or
 * loopback, while a receiver that delays its ACK waits 40 ms: short requests
 * between containers then "retransmit" with nothing lost (TcpExtTCPLossProbes
 * equals RetransSegs). They are counted host-wide in tcp_loss_probes.
 *
 * Kernel subtlety: the tracepoint does not say why it fired. A probe is sent
 * from the write timer with icsk_pending still ICSK_TIME_LOSS_PROBE (only an
 * RTO clears it first) and that timer already expired; a fast retransmit while
 * a probe is merely armed sees its expiry still ahead. */

#define DH_ICSK_TIME_LOSS_PROBE 5 /* include/net/inet_connection_sock.h */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tcp_loss_probes SEC(".maps");

static __always_inline int is_loss_probe(const struct sock *sk)
{
	/* a probe read: tp_btf types sk as struct sock, which the icsk fields lie beyond */
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	if (BPF_CORE_READ(icsk, icsk_pending) != DH_ICSK_TIME_LOSS_PROBE)
		return 0;
	return (__s64)(bpf_jiffies64() - BPF_CORE_READ(icsk, icsk_retransmit_timer.expires)) >= 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(dh_tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (!sk || err)
		return 0;
	if (is_loss_probe(sk)) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&tcp_loss_probes, &zero);
		if (n)
			*n += 1;
		return 0;
	}
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (c)
		__sync_fetch_and_add(&c->retransmits, 1);
	return 0;
}
