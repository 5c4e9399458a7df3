/* Which sockets carry a DNS client's traffic.
 *
 * A connected socket (glibc, c-ares, Go, TCP) names its server: a peer port
 * in the configured list, or Docker's embedded DNS at 127.0.0.11. Inside a
 * container Docker DNATs 127.0.0.11:53 to a random port, but conntrack undoes
 * that for the socket, which keeps seeing the address it connected to; any
 * port on 127.0.0.11 counts all the same.
 * An unconnected UDP socket (musl, dnsmasq's upstream sockets) names its
 * server per call: a send is DNS when the address argument is a DNS server,
 * and the socket is remembered (dns_peers) so its answers, whose sender
 * address reaches user memory only after the tracepoint, are taken too.
 * Server sockets (local port 53) are left alone: the client side tells who asked. */

#define DH_IPPROTO_UDP 17
#define DH_IPPROTO_TCP 6
#define DH_DOCKER_DNS_V4 0x0b00007f /* 127.0.0.11 as read from memory on a little-endian host */

enum dns_sock_kind {
	DNS_SOCK_NONE = 0,
	DNS_SOCK_CONNECTED = 1,   /* its peer is a DNS server */
	DNS_SOCK_UNCONNECTED = 2, /* UDP without a peer: decided per call */
};

/* What every record of one call carries about its socket. */
struct dns_sock_facts {
	__u64 cookie;
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 netns;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 flags; /* enum dh_dns_flag */
	__u8 dir;   /* enum dh_dns_dir */
};

static __always_inline int dns_is_port(const struct dh_dns_config *cfg, __u16 port)
{
	for (int i = 0; i < DH_DNS_PORTS; i++)
		if (cfg->ports[i] && cfg->ports[i] == port)
			return 1;
	return 0;
}

/* 127.0.0.11, as IPv4 or IPv4-mapped IPv6. */
static __always_inline int dns_is_docker_resolver(__u16 family, const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;
	if (family == AF_INET)
		return w[0] == DH_DOCKER_DNS_V4;
	return w[0] == 0 && w[1] == 0 && w[2] == 0xffff0000 && w[3] == DH_DOCKER_DNS_V4;
}

static __always_inline int dns_is_server(const struct dh_dns_config *cfg, __u16 family, const __u8 *addr, __u16 port)
{
	return dns_is_port(cfg, port) || dns_is_docker_resolver(family, addr);
}

/* Reads the (typed) socket's tuple into f and says whether it may be a DNS client's.
 * The caller sets f->cookie: plain tracepoints cannot call bpf_get_socket_cookie. */
static __always_inline int dns_socket(const struct sock *sk, const struct dh_dns_config *cfg, struct dns_sock_facts *f)
{
	__u16 proto = sk->sk_protocol;
	if (proto != DH_IPPROTO_UDP && proto != DH_IPPROTO_TCP)
		return DNS_SOCK_NONE;
	__u16 family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return DNS_SOCK_NONE;
	f->family = family;
	f->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (family == AF_INET)
		*(__u32 *)f->daddr = sk->__sk_common.skc_daddr;
	else
		__builtin_memcpy(f->daddr, &sk->__sk_common.skc_v6_daddr, sizeof(f->daddr));

	int kind;
	if (f->dport)
		kind = dns_is_server(cfg, family, f->daddr, f->dport) ? DNS_SOCK_CONNECTED : DNS_SOCK_NONE;
	else
		kind = proto == DH_IPPROTO_UDP ? DNS_SOCK_UNCONNECTED : DNS_SOCK_NONE;
	if (kind == DNS_SOCK_NONE)
		return kind;

	f->netns = sk_netns(sk);
	f->sport = sk_sport(sk);
	if (family == AF_INET)
		*(__u32 *)f->saddr = sk->__sk_common.skc_rcv_saddr;
	else
		__builtin_memcpy(f->saddr, &sk->__sk_common.skc_v6_rcv_saddr, sizeof(f->saddr));
	if (proto == DH_IPPROTO_TCP)
		f->flags |= DH_DNS_F_TCP;
	return kind;
}

/* Unconnected send: is the address the caller named a DNS server? If so it
 * becomes the peer, and the socket is remembered for the answers. */
static __always_inline int dns_peer_from_args(const struct dh_dns_config *cfg, __u64 name, __u32 namelen,
					      struct dns_sock_facts *f)
{
	if (!name || namelen < sizeof(struct sockaddr_in))
		return 0;
	struct sockaddr_in6 sa = {};
	int full = namelen >= sizeof(sa);
	long err = full ? bpf_probe_read_user(&sa, sizeof(sa), (void *)name)
			: bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), (void *)name);
	if (err)
		return 0;
	__u8 addr[16] = {};
	__u16 port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET)
		__builtin_memcpy(addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	else if (sa.sin6_family == AF_INET6 && full)
		__builtin_memcpy(addr, &sa.sin6_addr, 16);
	else
		return 0;
	if (!dns_is_server(cfg, sa.sin6_family, addr, port))
		return 0;
	f->family = sa.sin6_family;
	f->dport = port;
	__builtin_memcpy(f->daddr, addr, 16);
	f->flags |= DH_DNS_F_PEER_FROM_ARGS;
	return 1;
}

static __always_inline void dns_remember_peer(const struct dns_sock_facts *f)
{
	struct dh_dns_peer p = {};
	__builtin_memcpy(p.addr, f->daddr, 16);
	p.port = f->dport;
	p.family = f->family;
	bpf_map_update_elem(&dns_peers, &f->cookie, &p, BPF_ANY);
}

/* Unconnected receive: only on a socket that sent a DNS query; the peer is where it went. */
static __always_inline int dns_peer_from_query(struct dns_sock_facts *f)
{
	struct dh_dns_peer *p = bpf_map_lookup_elem(&dns_peers, &f->cookie);
	if (!p)
		return 0;
	__builtin_memcpy(f->daddr, p->addr, 16);
	f->dport = p->port;
	f->family = p->family;
	f->flags |= DH_DNS_F_PEER_FROM_QUERY;
	return 1;
}
