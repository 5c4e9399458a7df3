/* Retransmitted segments per socket, from tcp:tcp_retransmit_skb. SYN
 * retransmits count too: they tell a timeout from a quick abort. */

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(dh_tcp_retransmit_skb, const struct sock *sk)
{
	if (!sk)
		return 0;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (c)
		__sync_fetch_and_add(&c->retransmits, 1);
	return 0;
}
