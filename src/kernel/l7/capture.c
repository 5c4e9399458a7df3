/* Request capture: where the bytes of each socket syscall are found, how a
 * socket's protocol is recognised, and the parsing loop.
 *
 * Kernel subtlety: sock:sock_send_length / sock:sock_recv_length fire inside
 * sock_sendmsg/sock_recvmsg after the copy, on the syscall's thread, with the
 * socket. The user registers saved at syscall entry (bpf_task_pt_regs) give
 * the syscall number and its buffer argument, so one program per direction
 * sees every socket read and write without sys_enter/sys_exit programs
 * firing on all file I/O of the host, and without fd tables: a socket is its
 * cookie, so fd reuse cannot mix two connections. I/O with no user buffer
 * (io_uring, sendfile, splice, kernel threads) is counted and skipped. */

#include "state.h"

/* A socket not parsed: directions already looked at, and tries for sockets that predate us. Kept in the
 * socket's conns entry (dh_conn.l7_skip), or in the l7_skip LRU for a socket with none (the map was full). */
enum { DH_L7_SKIP_SEND = 1, DH_L7_SKIP_RECV = 2, DH_L7_SKIP_MIDFLIGHT = 4, DH_L7_SKIP_TRY = 8 };

/* The socket's verdict: in its conns entry c, else in the LRU (NULL when the LRU has none either). */
static __always_inline __u8 *l7_verdict(struct dh_conn *c, __u64 cookie)
{
	return c ? &c->l7_skip : bpf_map_lookup_elem(&l7_skip, &cookie);
}

/* A verdict that leaves this direction of the socket unparsed for good. */
static __always_inline int l7_verdict_final(__u8 v, int is_send)
{
	return (v & DH_L7_SKIP_MIDFLIGHT) ? (v >> 3) >= DH_L7_ATTEMPTS : (v & (is_send ? DH_L7_SKIP_SEND : DH_L7_SKIP_RECV));
}

enum dh_l7_first {
	DH_L7_FIRST_REQUEST = 1, /* travels client -> server */
	DH_L7_FIRST_REPLY = 2,   /* travels server -> client (a greeting, or a response seen mid-connection) */
};

#include "http1.c"
#include "http2.c"
#include "postgres.c"
#include "mysql.c"
#include "redis.c"
#include "peer.c"

static __always_inline int tls_nested(__u64 cookie, int ret, int is_send);
static __always_inline void tls_remember_recv(__u64 cookie);

/* DH_PF_KTHREAD and the syscall numbers (DH_NR_*): syscall_buf.h. */

struct dh_user_msghdr {
	__u64 name;
	__u32 namelen;
	__u32 pad;
	__u64 iov;
	__u64 iovlen;
	__u64 control;
	__u64 controllen;
	__u32 flags;
};

/* The caller's iovec array: its first DH_L7_IOV entries are held now, the rest as parsing reaches them (l7_iov_seek). */
static __always_inline int l7_read_iov(struct dh_l7_scratch *sc, __u64 iov, __u64 cnt)
{
	if (!iov || !cnt)
		return -1;
	l7_io_at(sc, iov, cnt, sc->total);
	return l7_iov_fill(sc);
}

/* Fills sc with the user buffer of the syscall in progress; -1 if it has none. */
static __always_inline int l7_user_io(struct dh_l7_scratch *sc)
{
#ifdef __TARGET_ARCH_x86
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->flags & DH_PF_KTHREAD)
		return -1;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return -1;
	long nr = regs->orig_ax;
	__u64 a1 = regs->si, a2 = regs->dx;
	struct dh_user_msghdr m;
	switch (nr) {
	case DH_NR_READ:
	case DH_NR_WRITE:
	case DH_NR_SENDTO:
	case DH_NR_RECVFROM:
		l7_io_one(sc, a1, sc->total);
		return 0;
	case DH_NR_READV:
	case DH_NR_WRITEV:
		return l7_read_iov(sc, a1, a2);
	case DH_NR_SENDMMSG:
	case DH_NR_RECVMMSG:
		if (a2 != 1) /* the tracepoint fires per message; which one is unknown here */
			return -1;
		/* fall through: an mmsghdr starts with its msghdr */
	case DH_NR_SENDMSG:
	case DH_NR_RECVMSG:
		if (bpf_probe_read_user(&m, sizeof(m), (void *)a1))
			return -1;
		return l7_read_iov(sc, m.iov, m.iovlen);
	}
#endif
	return -1;
}

static __always_inline int l7_is(struct dh_l7_scratch *sc, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (sc->win[i & 31] != s[i])
			return 0;
	return 1;
}

/* Recognises a protocol from the first bytes of a message; sets *first to the
 * direction such bytes travel and *init to the request direction's first framing state. */
static __always_inline __u8 l7_classify(struct dh_l7_scratch *sc, int *first, __u8 *init)
{
	__u32 n = l7_load(sc, 0, 32);
	if (n < 4)
		return DH_L7_UNKNOWN;
	__u8 c0 = sc->win[0], c1 = sc->win[1], c2 = sc->win[2];
	*first = DH_L7_FIRST_REQUEST;
	if (n >= 8 && h1_method(sc) && h1_request_line(sc))
		return DH_L7_HTTP1;
	if (n >= 24 && l7_is(sc, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24)) {
		*init = H2_PREFACE;
		return DH_L7_HTTP2;
	}
	if (c0 == 0x16 && c1 == 0x03 && c2 <= 0x04 && n >= 6 && sc->win[5] == 0x01) /* ClientHello */
		return DH_L7_TLS;
	int pg = pg_classify(sc, n);
	if (pg) {
		*init = pg == 2 ? PG_STARTUP : PG_TYPED;
		return DH_L7_POSTGRES;
	}
	if (redis_classify(sc, n))
		return DH_L7_REDIS;
	int mf = my_classify(sc, n);
	if (mf) {
		*first = mf;
		return DH_L7_MYSQL;
	}
	*first = DH_L7_FIRST_REPLY;
	if (n >= 12 && l7_is(sc, "HTTP/1.", 7) && sc->win[8] == ' ')
		return DH_L7_HTTP1;
	return DH_L7_UNKNOWN;
}

struct dh_l7_loop {
	struct dh_l7_scratch *sc;
	struct dh_l7_sock *st;
};

/* One parsing step: pass over a body, then read one message header (or chunk, frame, value). */
static __noinline long l7_step(__u32 i, void *ctx)
{
	struct dh_l7_loop *lp = ctx;
	struct dh_l7_scratch *sc = lp->sc;
	struct dh_l7_sock *st = lp->st;
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	if (d->skip) { /* a body, payload or frame: passed over without reading it */
		__u64 left = sc->total > sc->cur ? sc->total - sc->cur : 0;
		if (d->skip > left) {
			d->skip -= left;
			sc->cur = sc->total;
			return 1;
		}
		sc->cur += d->skip;
		d->skip = 0;
	}
	if (sc->cur >= sc->total) {
		/* a Redis bulk reply that ends with the data ends its value now, not at the next read */
		if (st->proto == DH_L7_REDIS && sc->dir == 1 && d->state == RD_BULK_DONE)
			redis_step(sc, st);
		return 1;
	}
	if (st->flags & DH_L7_F_STOPPED)
		return 1;
	int r = 1;
	switch (st->proto) {
	case DH_L7_HTTP1:
		r = h1_step(sc, st);
		break;
	case DH_L7_HTTP2:
		r = h2_step(sc, st);
		break;
	case DH_L7_POSTGRES:
		r = pg_step(sc, st);
		break;
	case DH_L7_MYSQL:
		r = my_step(sc, st);
		break;
	case DH_L7_REDIS:
		r = redis_step(sc, st);
		break;
	}
	if (r == DH_L7_MORE) { /* keep the cut header for the next syscall */
		__u32 rem = sc->total - sc->cur;
		if (rem > DH_L7_CARRY || !rem || l7_load(sc, sc->cur, rem) != rem) {
			l7_desync(sc, st);
			return 1;
		}
		for (int k = 0; k < DH_L7_CARRY; k++)
			if (k < rem)
				d->carry[k] = sc->win[k];
		d->carry_len = rem;
		sc->cur = sc->total;
		return 1;
	}
	if (r < 0) {
		l7_desync(sc, st);
		return 1;
	}
	return r ? 1 : 0;
}

/* Parses one syscall's bytes: message after message, skipping bodies. A deep
 * pipeline in one buffer takes many steps, so the loop is bpf_loop's. */
__noinline int l7_process(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 0;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	if (d->flags & DH_L7_D_RESYNC) {
		d->flags = 0;
		d->state = 0;
		d->skip = 0;
		d->aux = 0;
		d->nest[0] = 0;
		d->carry_len = 0;
	}
	/* a header cut at the end of the last syscall comes first */
	sc->carry_len = d->carry_len > DH_L7_CARRY ? 0 : d->carry_len;
	__builtin_memcpy(sc->carry, d->carry, DH_L7_CARRY);
	d->carry_len = 0;
	sc->total += sc->carry_len;
	struct dh_l7_loop lp = {.sc = sc, .st = st};
	/* Most syscalls hold a message header and maybe its body: two direct steps; bpf_loop
	 * only for more. (A step with nothing left returns at once, except that it ends a
	 * Redis bulk reply which ends with the data.) */
	if (!l7_step(0, &lp) && (sc->cur < sc->total || st->proto == DH_L7_REDIS) &&
	    !l7_step(1, &lp) && (sc->cur < sc->total || st->proto == DH_L7_REDIS))
		bpf_loop(DH_L7_STEPS - 2, l7_step, &lp, 0);
	/* Bytes left past what is being passed over were not parsed: the framing is lost, unless a long
	 * Redis message is left to end by itself. */
	if (sc->cur < sc->total && sc->total - sc->cur > d->skip && !(st->flags & DH_L7_F_STOPPED) && !redis_long_reply(sc, st, d)) {
		l7_loss(DH_L7_LOSS_STEPS);
		l7_desync(sc, st);
	}
	return 0;
}

/* c: the socket's conns entry, already looked up by the caller (NULL: none). */
static __always_inline __u8 l7_side_of(const struct dh_conn *c, __u8 *midflight)
{
	if (!c) {
		*midflight = 1;
		return DH_SIDE_UNKNOWN;
	}
	*midflight = (c->flags & DH_F_MIDFLIGHT) != 0;
	return c->side;
}

/* Feeds one syscall's (or one TLS call's) bytes of a socket to its parser,
 * recognising the protocol first if the socket is new. sk: the socket, or
 * NULL when it is not to be paired with its peer (TLS plaintext, both ends parsed). */
static __always_inline int l7_feed(struct dh_l7_scratch *sc, struct dh_l7_sock *st, int is_send, const struct sock *sk,
				   struct dh_conn *c)
{
	__u64 cookie = sc->cookie;
	if (!st || st->proto == DH_L7_TLS) {
		int first = 0;
		__u8 midflight = 0, init = 0;
		__u8 side = st ? st->side : l7_side_of(c, &midflight);
		__u8 proto = l7_classify(sc, &first, &init);
		/* The role comes from the connection; bytes that travel the wrong way for it are not a start. */
		int from_client = (side == DH_SIDE_CLIENT) == !!is_send;
		if (proto != DH_L7_UNKNOWN && side != DH_SIDE_UNKNOWN &&
		    (first == DH_L7_FIRST_REQUEST) != from_client)
			proto = DH_L7_UNKNOWN;
		if (proto == DH_L7_UNKNOWN) {
			if (st) /* TLS plaintext that is not a known protocol: stop looking */
				st->flags |= DH_L7_F_STOPPED;
			else {
				/* The first bytes each way decide (a server may speak first, like an
				 * HTTP/2 server's SETTINGS); a socket that predates us gets a few tries,
				 * since its first bytes seen may fall inside a message. */
				__u8 *tries = l7_verdict(c, cookie);
				__u8 bit = is_send ? DH_L7_SKIP_SEND : DH_L7_SKIP_RECV;
				__u8 v = bit | (midflight ? DH_L7_SKIP_MIDFLIGHT | DH_L7_SKIP_TRY : 0);
				if (!tries) {
					bpf_map_update_elem(&l7_skip, &cookie, &v, BPF_ANY);
				} else if (!*tries) {
					*tries = v;
				} else {
					*tries |= bit;
					if ((*tries & DH_L7_SKIP_MIDFLIGHT) && (*tries >> 3) < DH_L7_ATTEMPTS)
						*tries += DH_L7_SKIP_TRY;
				}
			}
			return 0;
		}
		if (!st) {
			int peers = sk && proto != DH_L7_TLS;
			if (peers && side == DH_SIDE_SERVER && l7_peer_parses(sk, proto)) {
				__u8 v = DH_L7_SKIP_SEND | DH_L7_SKIP_RECV;
				__u8 *verdict = l7_verdict(c, cookie);
				if (verdict)
					*verdict = v;
				else
					bpf_map_update_elem(&l7_skip, &cookie, &v, BPF_ANY);
				l7_loss(DH_L7_TALLY_LEFT_TO_CLIENT);
				return 0;
			}
			st = l7_sock_new(cookie, c);
			if (!st)
				return 0;
			if (peers && side == DH_SIDE_CLIENT)
				l7_peer_remember(sk, cookie);
			if (side == DH_SIDE_UNKNOWN) {
				int sender_is_client = first == DH_L7_FIRST_REQUEST;
				side = (sender_is_client == !!is_send) ? DH_SIDE_CLIENT : DH_SIDE_SERVER;
				st->flags |= DH_L7_F_ROLE_INFERRED;
			}
			st->side = side;
			st->pid = bpf_get_current_pid_tgid() >> 32;
			if (proto == DH_L7_TLS) {
				st->proto = proto;
				st->flags |= DH_L7_F_TLS;
				return 0;
			}
		}
		st->proto = proto;
		st->dir[0].state = init;
	}
	sc->dir = ((st->side == DH_SIDE_CLIENT) == !!is_send) ? 0 : 1;
	sc->cur = 0;
	return l7_process(sc, st);
}

static __always_inline struct dh_l7_scratch *l7_scratch_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&l7_scratch, &zero);
}

/* One send or receive of a TCP socket (called from sock_io.c). */
static __always_inline int l7_capture(struct sock *sk, struct dh_conn *c, __u64 cookie, int ret, int flags, int is_send)
{
	if (ret <= 0 || (!is_send && (flags & MSG_PEEK)))
		return 0;
	struct dh_l7_config *cfg = l7_cfg();
	if (!cfg || !cfg->enabled)
		return 0;
	if (tls_nested(cookie, ret, is_send))
		return 0;
	/* A socket left unparsed (the server end of a local connection, whose client parses: half of all
	 * local sockets) is told by its conns entry, without the l7_socks lookup: a socket that gets parser
	 * state has its verdict cleared (l7_sock_new). */
	if (c && l7_verdict_final(c->l7_skip, is_send))
		return 0;
	struct dh_l7_sock *st = bpf_map_lookup_elem(&l7_socks, &cookie);
	if (st) {
		if (st->flags & DH_L7_F_TLS) {
			if (!is_send)
				tls_remember_recv(cookie);
			return 0;
		}
		if (st->flags & (DH_L7_F_CLOSED | DH_L7_F_STOPPED | DH_L7_F_PEER))
			return 0;
		/* Wholly inside a body (or frame) being passed over: no buffer, no registers to read. */
		struct dh_l7_dir *d = &st->dir[((st->side == DH_SIDE_CLIENT) == !!is_send) ? 0 : 1];
		if (d->skip >= (__u64)ret && !d->carry_len && !(d->flags & DH_L7_D_RESYNC) &&
		    !(st->proto == DH_L7_REDIS && d->skip == (__u64)ret)) {
			d->skip -= ret;
			return 0;
		}
	} else if (!c) { /* a verdict in conns was read above */
		__u8 *tries = bpf_map_lookup_elem(&l7_skip, &cookie);
		if (tries && l7_verdict_final(*tries, is_send))
			return 0;
	}
	struct dh_l7_scratch *sc = l7_scratch_get();
	if (!sc)
		return 0;
	sc->total = ret;
	if (l7_user_io(sc)) {
		l7_loss(DH_L7_LOSS_SKIPPED_IO);
		if (st && st->proto == DH_L7_HTTP2) { /* bytes unseen may hold the client's HPACK insertions */
			sc->cookie = cookie;
			h2_request_lost(sc);
		}
		return 0;
	}
	sc->now = l7_sock_now(sk, is_send);
	sc->cookie = cookie;
	sc->tls = 0;
	sc->carry_len = 0;
	const struct sock *peer_sk = cfg->both_ends ? 0 : sk;
	l7_feed(sc, st, is_send, peer_sk, c);
	if (st && peer_sk)
		l7_peer_retry(peer_sk, st);
	return 0;
}

_Static_assert(DH_L7_COMM_LEN == DH_COMM_LEN, "a sample takes its name from the socket's connection entry");

/* Did the server's end close first, with requests unanswered: the server died, reset, or hung up? Then those
 * requests failed. When the client's end closed first (a load generator stopping, a client timing out) they
 * stay unpaired: no one can say how they would have ended. */
static __always_inline int l7_server_closed_first(const struct dh_l7_sock *st, const struct dh_conn *c)
{
	if (!c)
		return 0;
	__u8 s = c->close_state;
	int we_closed = s == TCP_FIN_WAIT1 || s == TCP_FIN_WAIT2 || s == TCP_CLOSING; /* our FIN went first */
	int peer_closed = s == TCP_CLOSE_WAIT || s == TCP_LAST_ACK;                  /* the peer's FIN came first */
	/* A reset counts only where no FIN went before it: the kernel resets a socket that closed first itself when
	 * data still arrives (tcp_reset after FIN_WAIT: TCPABORTONDATA, traced as a received reset), and a socket whose
	 * peer closed first sends one when its owner closes with data unread. */
	if (st->side == DH_SIDE_CLIENT)
		return peer_closed || ((c->flags & DH_F_RST_RECV) && !we_closed);
	if (st->side == DH_SIDE_SERVER)
		return we_closed || ((c->flags & DH_F_RST_SENT) && !peer_closed);
	return 0;
}

/* The requests of one in-flight slot got no response because the server's end closed: each fails (class
 * ERROR), timed to the socket's end, and the slot's first is sampled (flag NO_RESPONSE), named by the socket's
 * owner (this may run in a softirq, or in the peer's task on loopback). */
static __always_inline void l7_no_response(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_req *r)
{
	l7_account_n(sc, st, r->id, r->start_ns, DH_L7_C_ERROR, 0, r->count, DH_L7_S_NO_RESPONSE, r->meta);
}

/* The requests of one in-flight slot that the client's end gave up on (closed first): unpaired, as no one can say
 * how they would have ended, but the slot's first is sampled (flag ABANDONED) when it waited past the slow
 * threshold, so a client's timeout names the slow request behind it. A load generator stopping leaves requests of
 * microseconds, not sampled. */
static __always_inline void l7_abandoned(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_req *r)
{
	st->counts.unpaired += r->count;
	if (!sc)
		return;
	sc->s_lat = sc->now > r->start_ns ? sc->now - r->start_ns : 0;
	sc->s_id = r->id;
	sc->s_cls = DH_L7_C_OTHER;
	sc->s_status = 0;
	sc->s_flags = DH_L7_S_ABANDONED;
	sc->s_meta = r->meta;
	l7_sample(sc, st);
}

/* The socket is gone (tcp:tcp_destroy_sock, sock_close.c): requests still in flight
 * never got their response: failed if the server's end closed first, else unpaired (and sampled when slow:
 * l7_abandoned); its client-side peer entry goes. A socket with requests
 * and none in flight marks its connection entry (c, if any) DH_F_L7_ANSWERED: a reset
 * after its peer's FIN then lost nothing (a TLS client's close_notify written after the
 * server's FIN meets the server's reset). Returns its entry, whose counts then leave
 * with its close (or l7_final_send), or NULL. */
static __always_inline struct dh_l7_sock *l7_destroy(const struct sock *sk, __u64 cookie, struct dh_conn *c)
{
	/* An l7_skip entry is left to the LRU: cookies are never reused, and most sockets' verdicts are in conns. */
	struct dh_l7_sock *st = bpf_map_lookup_elem(&l7_socks, &cookie);
	if (!st)
		return 0;
	if (st->side == DH_SIDE_CLIENT && !(st->flags & DH_L7_F_ROLE_INFERRED))
		l7_peer_forget(sk, cookie);
	redis_long_close(st);
	if (c && st->seq && !st->nreq)
		c->flags |= DH_F_L7_ANSWERED; /* no race with a reset's |=: the socket is being destroyed */
	/* tcp_destroy_sock's own scratch: this may run in a softirq on top of a send or receive using slot 0 */
	__u32 one = 1;
	int failed = st->nreq && l7_server_closed_first(st, c);
	struct dh_l7_scratch *sc = st->nreq && c ? bpf_map_lookup_elem(&l7_scratch, &one) : 0;
	if (sc && c) {
		sc->cookie = cookie;
		sc->now = bpf_ktime_get_ns(); /* the clock of l7_sock_now */
		__builtin_memcpy(sc->s_comm, c->comm, DH_L7_COMM_LEN);
	}
	if (st->proto == DH_L7_HTTP2) { /* its streams are in h2_streams, counted by nreq */
		if (sc && failed)
			h2_no_response(sc, st);
		st->counts.unpaired += st->nreq;
		bpf_map_delete_elem(&h2_clients, &cookie);
	} else {
		for (int i = 0; i < DH_L7_INFLIGHT; i++) {
			struct dh_l7_req *r = &st->req[i];
			if (!r->start_ns || (r->meta & DH_L7_M_SETUP)) /* a setup left unanswered is no request */
				continue;
			if (sc && failed)
				l7_no_response(sc, st, r);
			else
				l7_abandoned(sc, st, r);
		}
	}
	st->nreq = 0;
	return st;
}

/* A destroyed socket's counts in a record of their own (ring buffer l7_final), when
 * they could not go with its close. If that ring is full too the entry stays,
 * marked closed, and user space deletes it once read. */
static __always_inline void l7_final_send(__u64 cookie, struct dh_l7_sock *st)
{
	struct dh_l7_final *f = bpf_ringbuf_reserve(&l7_final, sizeof(*f), 0);
	if (!f) { /* only then is an entry marked closed: user space reports and deletes it */
		st->flags |= DH_L7_F_CLOSED;
		l7_loss(DH_L7_LOSS_FINAL_RINGBUF);
		return;
	}
	f->cookie = cookie;
	__builtin_memcpy(&f->counts, &st->counts, sizeof(f->counts));
	f->pid = st->pid;
	f->proto = st->proto;
	f->side = st->side;
	f->flags = st->flags | DH_L7_F_CLOSED;
	f->pad = 0;
	bpf_map_delete_elem(&l7_socks, &cookie); /* before the submit: a map read after it must not count them again */
	bpf_ringbuf_submit(f, 0);
}
