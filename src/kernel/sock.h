/* Reading facts off a struct sock, shared by every TCP probe. */
#ifndef DHRISHTI_SOCK_H
#define DHRISHTI_SOCK_H

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2

/* Every reader here takes a typed socket (tp_btf's, or one cast with
 * bpf_rdonly_cast): plain loads, not a probe-read helper call per field. They
 * run on every send and receive of the host, and several times per state
 * change under connection-per-request load. */
static __always_inline int is_inet_tcp(const struct sock *sk)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	return family == AF_INET || family == AF_INET6;
}

/* A kfunc the verifier turns into no instruction: a typed view of a pointer
 * (a socket as its inet_sock or tcp_sock, or a socket pointer kept as a number). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* inet_sport, not skc_num: closing unhashes the socket and zeroes skc_num
 * before the TCP_CLOSE tracepoint fires. */
static __always_inline __u16 sk_sport(const struct sock *sk)
{
	const struct inet_sock *inet = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct inet_sock));
	return bpf_ntohs(inet->inet_sport);
}

static __always_inline void read_tuple(const struct sock *sk, struct dh_conn *c)
{
	c->family = sk->__sk_common.skc_family;
	c->sport = sk_sport(sk);
	c->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (c->family == AF_INET) {
		*(__u32 *)c->saddr = sk->__sk_common.skc_rcv_saddr;
		*(__u32 *)c->daddr = sk->__sk_common.skc_daddr;
	} else {
		__builtin_memcpy(c->saddr, &sk->__sk_common.skc_v6_rcv_saddr, sizeof(c->saddr));
		__builtin_memcpy(c->daddr, &sk->__sk_common.skc_v6_daddr, sizeof(c->daddr));
	}
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	const struct net *net = sk->__sk_common.skc_net.net;
	return net ? net->ns.inum : 0;
}

/* The socket keeps the cgroup of the task that created it; for accepted
 * sockets it is the listener's. Valid in softirq, unlike the current task. */
static __always_inline __u64 sk_cgroup_id(const struct sock *sk)
{
	const struct cgroup *cg = sk->sk_cgrp_data.cgroup;
	if (!cg)
		return 0;
	const struct kernfs_node *kn = cg->kn;
	return kn ? kn->id : 0;
}

/* The socket is known to be TCP. */
static __always_inline __u32 sk_srtt_us(const struct sock *sk)
{
	const struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
	return tp->srtt_us >> 3;
}

/* Segments the socket retransmitted in its life (SYNs included; a resend the device refused is not one). */
static __always_inline __u32 sk_total_retrans(const struct sock *sk)
{
	const struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
	return tp->total_retrans;
}

static __always_inline void set_owner_from_current(struct dh_conn *c)
{
	c->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&c->comm, sizeof(c->comm));
}

/* A socket we did not see being born: track it from now on. A subprogram (once
 * per such socket), so its dh_conn is not in the frame of every program that
 * may call it: the verifier caps a call chain's stack at 512 bytes. */
static __noinline struct dh_conn *track_midflight(const struct sock *sk, __u64 cookie, __u8 side)
{
	struct dh_conn c = {};
	read_tuple(sk, &c);
	c.netns = sk_netns(sk);
	c.cgroup_id = sk_cgroup_id(sk);
	c.side = side;
	c.flags = DH_F_MIDFLIGHT;
	if (bpf_map_update_elem(&conns, &cookie, &c, BPF_NOEXIST) && !bpf_map_lookup_elem(&conns, &cookie)) {
		count_loss(DH_LOSS_CONN_MAP_FULL);
		return 0;
	}
	return bpf_map_lookup_elem(&conns, &cookie);
}

static __always_inline void fill_event(struct dh_event *e, __u8 kind, __u64 cookie, const struct dh_conn *c,
				       int old_state, int new_state)
{
	/* A close's moment is its entry's end_ns (user space reads that one): no second clock read, about 100 ns on a VM. */
	e->ts_ns = kind == DH_EV_CLOSE && c->end_ns ? c->end_ns : bpf_ktime_get_boot_ns();
	e->cookie = cookie;
	__builtin_memcpy(&e->conn, c, sizeof(*c));
	e->kind = kind;
	e->old_state = old_state;
	e->new_state = new_state;
	e->l7_proto = 0;
	e->l7_side = 0;
	e->l7_flags = 0;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
}

static __always_inline void emit(__u8 kind, __u64 cookie, const struct dh_conn *c, int old_state,
				 int new_state)
{
	struct dh_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(DH_LOSS_RINGBUF_FULL);
		return;
	}
	fill_event(e, kind, cookie, c, old_state, new_state);
	bpf_ringbuf_submit(e, 0);
}

#endif
