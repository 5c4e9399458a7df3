/* DNS messages as processes send and receive them, from tp_btf
 * sock_send_length and sock_recv_length: every socket syscall (read, write,
 * readv, writev, sendto, recvfrom, sendmsg, recvmsg) passes there, in every
 * network namespace, for UDP and TCP alike. The payload is read from the
 * syscall's user buffer (syscall_buf.h); one record per buffer segment,
 * bounded in size and rate, and every drop counted.
 * Kernel subtleties: the tracepoint fires after the copy (so a receive's
 * bytes are in the buffer), once per message of sendmmsg/recvmmsg without
 * saying which (a cursor per thread counts them, below), and with MSG_PEEK for
 * reads that leave the data queued (skipped: the real read follows). */

static __always_inline void dns_emit_segment(const struct dh_dns_config *cfg, const struct dns_sock_facts *f,
					     __u8 sys, __u8 msg_index, __u32 msg_len, __u32 off, __u32 seg,
					     __u64 base, int last)
{
	struct dh_dns_event *e = bpf_ringbuf_reserve(&dns_events, sizeof(*e), 0);
	if (!e) {
		dns_count_loss(DH_DNS_LOSS_RINGBUF_FULL);
		return;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cookie = f->cookie;
	e->cgroup_id = bpf_get_current_cgroup_id();
	__builtin_memcpy(e->saddr, f->saddr, 16);
	__builtin_memcpy(e->daddr, f->daddr, 16);
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->netns = f->netns;
	e->msg_len = msg_len;
	e->seg_off = off;
	e->seg_len = seg;
	e->sport = f->sport;
	e->dport = f->dport;
	e->family = f->family;
	e->dir = f->dir;
	e->flags = f->flags | (last ? DH_DNS_F_LAST_SEG : 0);
	e->syscall = sys;
	e->msg_index = msg_index;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	__builtin_memset(e->pad, 0, sizeof(e->pad));

	__u64 cap = seg < cfg->capture_bytes ? seg : cfg->capture_bytes;
	asm volatile("" : "+r"(cap)); /* keep the clamp below on the register the copy uses */
	if (cap > DH_DNS_DATA_MAX)
		cap = DH_DNS_DATA_MAX;
	if (cap && bpf_probe_read_user(e->data, cap, (void *)base)) {
		cap = 0;
		e->flags |= DH_DNS_F_READ_FAULT;
		dns_count_loss(DH_DNS_LOSS_READ_FAULT);
	}
	e->cap = cap;
	bpf_ringbuf_submit(e, 0);
}

struct dns_seg_loop {
	const struct dns_sock_facts *f;
	const struct dh_sys_buf *b;
	__u32 msg_len;
	__u32 off;
	__u8 msg_index;
};

/* One buffer segment; a bpf_loop callback, so the verifier walks it once. */
static long dns_emit_one(__u64 i, void *ctx)
{
	struct dns_seg_loop *l = ctx;
	const struct dh_sys_buf *b = l->b;
	if (i >= DH_SYS_MAX_IOV || i >= b->niov || l->off >= l->msg_len)
		return 1;
	struct dh_dns_config *cfg = dns_enabled_config();
	if (!cfg)
		return 1;
	__u64 seg = b->iov[i].len;
	if (seg > l->msg_len - l->off)
		seg = l->msg_len - l->off;
	if (!seg)
		return 0;
	int last = l->off + seg >= l->msg_len || i + 1 >= b->niov;
	dns_emit_segment(cfg, l->f, b->kind, l->msg_index, l->msg_len, l->off, seg, b->iov[i].base, last);
	l->off += seg;
	return 0;
}

/* One message (msg_len bytes) spread over the call's buffers, one record per segment. */
static __always_inline void dns_emit_message(const struct dh_dns_config *cfg, const struct dns_sock_facts *f,
					     const struct dh_sys_buf *b, __u32 msg_len, __u8 msg_index)
{
	struct dns_seg_loop l = { .f = f, .b = b, .msg_len = msg_len, .msg_index = msg_index };
	bpf_loop(DH_SYS_MAX_IOV, dns_emit_one, &l, 0);
	if (l.off < msg_len && b->more_iov)
		dns_count_loss(DH_DNS_LOSS_SEGMENTS);
}

#define DH_DNS_MAX_MMSG 8 /* messages of one sendmmsg/recvmmsg read */

#define DH_UIO_MAXIOV 1024 /* the kernel sends or receives at most this many messages per call */

/* Which message of its sendmmsg/recvmmsg this firing is about. The kernel sends
 * or receives them in order, one tracepoint each (an empty one too, with ret
 * 0), so a thread's cursor on the same array and socket names the next
 * message, and the last one drops it. (Reading them at the syscall's exit
 * would need a sys_exit program, which puts every task of the host on the slow
 * syscall path.) A failed message (ret < 0) ends the call, and dns_capture
 * drops the cursor. A call can also end with no failing tracepoint: a timeout
 * between received messages, a message refused before it reached the socket
 * (a bad msghdr, an LSM), a fault writing msg_len back. Then the cursor is
 * stale, so it is checked: the kernel writes each message's length into the
 * array before taking the next, and a caller that clears its array between
 * calls (glibc does) shows a stale cursor a length it did not write. A caller
 * that reuses an uncleared array after such an end has its next call read
 * from the wrong message (an answer that then pairs with no query). */
static __always_inline __u32 dns_mmsg_index(const struct dh_sys_buf *b, __u64 cookie, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 vlen = b->vlen > DH_UIO_MAXIOV ? DH_UIO_MAXIOV : b->vlen;
	struct dns_mmsg_cursor *cur = bpf_map_lookup_elem(&dns_mmsg, &tid);
	__u32 i = 0;
	if (cur && cur->mmsg == b->mmsg && cur->cookie == cookie && cur->next && cur->next < vlen) {
		__u32 written = 0;
		__u64 at = b->mmsg + (__u64)(cur->next - 1) * sizeof(struct mmsghdr) + __builtin_offsetof(struct mmsghdr, msg_len);
		if (!bpf_probe_read_user(&written, sizeof(written), (void *)at) && written == cur->last)
			i = cur->next;
	}
	if (i + 1 < vlen) {
		if (cur) {
			cur->mmsg = b->mmsg;
			cur->cookie = cookie;
			cur->next = i + 1;
			cur->last = ret;
		} else {
			struct dns_mmsg_cursor c = { .mmsg = b->mmsg, .cookie = cookie, .next = i + 1, .last = ret };
			if (bpf_map_update_elem(&dns_mmsg, &tid, &c, BPF_NOEXIST))
				dns_count_loss(DH_DNS_LOSS_MMSG_MAP_FULL);
			else
				gauge_add(&dns_mmsg_open, 1);
		}
	} else if (cur && !bpf_map_delete_elem(&dns_mmsg, &tid)) {
		gauge_add(&dns_mmsg_open, -1);
	}
	return i;
}

/* A socket call failed: if it was a sendmmsg/recvmmsg message, its call ends. Every failed
 * send and receive of the host passes here (EAGAIN), so with no cursor open it costs one array read. */
static __always_inline void dns_mmsg_failed(void)
{
	if (!gauge_read(&dns_mmsg_open))
		return;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!bpf_map_delete_elem(&dns_mmsg, &tid))
		gauge_add(&dns_mmsg_open, -1);
}

/* One message of a sendmmsg/recvmmsg: ret bytes, in the buffers its msghdr names. */
static __always_inline void dns_mmsg_message(const struct dh_dns_config *cfg, struct dns_sock_facts *f, int sock_kind,
					     const struct dh_sys_buf *call, int ret)
{
	__u32 i = dns_mmsg_index(call, f->cookie, ret);
	if (i >= DH_DNS_MAX_MMSG) {
		dns_count_loss(DH_DNS_LOSS_SEGMENTS);
		return;
	}
	struct dh_sys_buf *b = dns_buf(1);
	if (!b)
		return;
	b->kind = call->kind;
	if (read_user_msghdr(b, call->mmsg + (__u64)i * sizeof(struct mmsghdr))) {
		dns_count_loss(DH_DNS_LOSS_READ_FAULT);
		return;
	}
	/* A send names its server per message (a receive's sender is written after the tracepoint: dns_capture took the query's). */
	if (sock_kind == DNS_SOCK_UNCONNECTED && f->dir == DH_DNS_DIR_SEND) {
		if (!dns_peer_from_args(cfg, b->name, b->namelen, f))
			return; /* not known to be DNS: nothing lost */
		dns_remember_peer(f);
	}
	if (!dns_rate_allows(cfg))
		return;
	dns_emit_message(cfg, f, b, ret, i);
}

/* A call on a socket that may be DNS: its buffers. A subprogram of its own, and
 * its buffers in dns_bufs: the verifier caps the stack of a whole call chain at
 * 512 bytes (bpf_loop callbacks included), and the chain from the send program
 * through the L7 parser already needs most of that. */
static __noinline int dns_capture_call(struct sock *sk, int ret, int flags, struct dns_sock_facts *f, int kind)
{
	struct dh_dns_config *cfg = dns_enabled_config(); /* five arguments at most: read again */
	if (!cfg)
		return 0;
	struct dh_sys_buf *b = dns_buf(0);
	if (!b)
		return 0;
	if (!ret) { /* nothing to read, but an empty message still takes its place in a sendmmsg/recvmmsg */
		syscall_buf(b);
		if (b->kind == DH_SYS_RECVMMSG || b->kind == DH_SYS_SENDMMSG)
			dns_mmsg_index(b, bpf_get_socket_cookie(sk), 0);
		return 0;
	}
	__u8 dir = f->dir;
	if (dir == DH_DNS_DIR_RECV && (flags & MSG_PEEK))
		return 0;
	f->cookie = bpf_get_socket_cookie(sk);
	if (kind == DNS_SOCK_UNCONNECTED && dir == DH_DNS_DIR_RECV && !dns_peer_from_query(f))
		return 0;

	int err = syscall_buf(b);
	if (b->kind == DH_SYS_RECVMMSG || b->kind == DH_SYS_SENDMMSG) {
		dns_mmsg_message(cfg, f, kind, b, ret);
		return 0;
	}
	if (kind == DNS_SOCK_UNCONNECTED && dir == DH_DNS_DIR_SEND) {
		if (err || !dns_peer_from_args(cfg, b->name, b->namelen, f))
			return 0; /* not known to be DNS: nothing lost */
		dns_remember_peer(f);
	}
	if (err) {
		dns_count_loss(err == -1 ? DH_DNS_LOSS_NO_SYSCALL : DH_DNS_LOSS_READ_FAULT);
		return 0;
	}
	if (!dns_rate_allows(cfg))
		return 0;
	dns_emit_message(cfg, f, b, ret, 0);
	return 0;
}

/* One send or receive of a socket (called from sock_io.c): most sockets are
 * told apart here, inline, without a call. */
static __always_inline int dns_capture(struct sock *sk, int ret, int flags, __u8 dir)
{
	if (!sk)
		return 0;
	if (ret < 0) {
		dns_mmsg_failed();
		return 0;
	}
	struct dh_dns_config *cfg = dns_enabled_config();
	if (!cfg)
		return 0;
	struct dns_sock_facts f = {};
	int kind = dns_socket(sk, cfg, &f);
	if (kind == DNS_SOCK_NONE)
		return 0;
	f.dir = dir;
	return dns_capture_call(sk, ret, flags, &f, kind);
}
