/* Connections with both ends on this host: the client's socket and the
 * server's carry the same requests, and user space keeps only the client's
 * count (src/graph/requests.ts). So the server's socket is left unparsed once
 * its client is known to parse them: half the capture cost of every
 * container-to-container or loopback request.
 *
 * Kernel subtlety: nothing links the two sockets of a local connection, and
 * their cookies differ, so the client's socket is remembered under its
 * address tuple when classified, and the server looks its own tuple up
 * reversed. A loopback address names a host per network namespace, so it is
 * keyed with the namespace; bridge and veth addresses are keyed without it (the
 * ends sit in two namespaces). Behind NAT the tuples differ: both ends parse,
 * as before. The server's first bytes may arrive before the client's send
 * tracepoint has run (loopback delivers inside the client's sendmsg), so a
 * server that found no client yet asks again after its next few responses.
 * A server socket left at its first bytes keeps that verdict in its own conns
 * entry (dh_conn.l7_skip), so it is counted once; only one with no entry (the
 * map was full) falls back to the shared l7_skip LRU, where one forgotten is
 * looked at again and counted again. */

#define DH_L7_PEER_TRIES 8 /* idle moments after a response at which a server socket looks for its client again */

struct dh_l7_tuple {
	__u8 client[16]; /* IPv6, or IPv4-mapped */
	__u8 server[16];
	__u16 cport;
	__u16 sport;
	__u32 netns;     /* loopback only, else 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* set to l7_socks' size by user space */
	__type(key, struct dh_l7_tuple);
	__type(value, __u64);      /* the client socket's cookie */
} l7_peers SEC(".maps");

static __always_inline void l7_addr_of(__u8 *out, const struct sock *sk, int local)
{
	if (sk->__sk_common.skc_family == AF_INET) {
		__u32 a = local ? sk->__sk_common.skc_rcv_saddr : sk->__sk_common.skc_daddr;
		__builtin_memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		__builtin_memcpy(out + 12, &a, 4);
	} else if (local) {
		__builtin_memcpy(out, &sk->__sk_common.skc_v6_rcv_saddr, 16);
	} else {
		__builtin_memcpy(out, &sk->__sk_common.skc_v6_daddr, 16);
	}
}

static __always_inline int l7_is_loopback(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;
	if (w[0] || w[1])
		return 0;
	if (w[2] == bpf_htonl(0xffff))
		return a[12] == 127;
	return !w[2] && w[3] == bpf_htonl(1);
}

/* The tuple of sk's connection, client first, whichever end sk is. */
static __always_inline void l7_tuple_of(struct dh_l7_tuple *t, const struct sock *sk, int is_client)
{
	l7_addr_of(t->client, sk, is_client);
	l7_addr_of(t->server, sk, !is_client);
	__u16 local = sk_sport(sk), remote = bpf_ntohs(sk->__sk_common.skc_dport);
	t->cport = is_client ? local : remote;
	t->sport = is_client ? remote : local;
	t->netns = l7_is_loopback(t->server) ? sk_netns(sk) : 0;
}

/* A client socket was classified: its server end, if on this host, may leave the parsing to it. */
static __always_inline void l7_peer_remember(const struct sock *sk, __u64 cookie)
{
	struct dh_l7_tuple t = {};
	l7_tuple_of(&t, sk, 1);
	bpf_map_update_elem(&l7_peers, &t, &cookie, BPF_ANY);
}

/* Only its own entry: a socket reset earlier may share its tuple with a newer client. */
static __always_inline void l7_peer_forget(const struct sock *sk, __u64 cookie)
{
	struct dh_l7_tuple t = {};
	l7_tuple_of(&t, sk, 1);
	__u64 *v = bpf_map_lookup_elem(&l7_peers, &t);
	if (v && *v == cookie)
		bpf_map_delete_elem(&l7_peers, &t);
}

/* Is the client end of server socket sk on this host, parsing its requests of proto in plain text? */
static __noinline int l7_peer_parses(const struct sock *sk, __u8 proto)
{
	if (!sk)
		return 0;
	struct dh_l7_tuple t = {};
	l7_tuple_of(&t, sk, 0);
	__u64 *client = bpf_map_lookup_elem(&l7_peers, &t);
	if (!client)
		return 0;
	__u64 cookie = *client;
	struct dh_l7_sock *c = bpf_map_lookup_elem(&l7_socks, &cookie);
	if (!c || c->proto != proto || c->side != DH_SIDE_CLIENT ||
	    (c->flags & (DH_L7_F_TLS | DH_L7_F_STOPPED | DH_L7_F_CLOSED)))
		return 0;
	/* it has seen a request of its own (a client sending with sendfile sees only responses) */
	return c->seq || c->nreq || c->counts.latency_sum_ns;
}

/* A server socket already parsing, after a response and with nothing in flight: stops if its client
 * turned out to parse the same requests. Handshakes (a MySQL greeting, Postgres SCRAM, HTTP/2 SETTINGS)
 * spend no tries: by a first response, its client has sent a request. */
static __always_inline void l7_peer_retry(const struct sock *sk, struct dh_l7_sock *st)
{
	if (st->side != DH_SIDE_SERVER || st->nreq || st->peer_tries >= DH_L7_PEER_TRIES ||
	    (st->flags & (DH_L7_F_TLS | DH_L7_F_ROLE_INFERRED | DH_L7_F_STOPPED | DH_L7_F_PEER)))
		return;
	if (!st->counts.latency_sum_ns && !st->counts.unpaired)
		return; /* no response yet */
	st->peer_tries++;
	if (l7_peer_parses(sk, st->proto)) {
		st->flags |= DH_L7_F_PEER;
		l7_loss(DH_L7_TALLY_LEFT_TO_CLIENT);
	}
}
