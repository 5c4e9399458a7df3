/* L7 maps and the bookkeeping every protocol shares: reading the syscall's
 * user buffer, the per-socket FIFO of requests in flight, the aggregates and
 * the rate-limited samples.
 *
 * Kernel subtlety: parsing runs in the syscall's own thread after the copy
 * (tp_btf sock_send_length / sock_recv_length), so the user pages are resident
 * and bpf_probe_read_user does not fault. Scratch space is per CPU: these
 * programs never nest on one CPU (they run in process context, and BPF
 * programs run with migration disabled). */
#ifndef DHRISHTI_L7_STATE_H
#define DHRISHTI_L7_STATE_H

#define DH_L7_IOV 32       /* iovec entries held at once (a window over the caller's array, see l7_iov_seek) */
#define DH_L7_IOV_MAX 1024 /* entries followed per syscall: UIO_MAXIOV, all a caller may pass */
#define DH_L7_IOV_MOVES 48 /* window moves per seek: enough to cross DH_L7_IOV_MAX entries */
#define DH_L7_WIN 256      /* bytes read per parsing step */
#define DH_L7_STEPS 8192   /* parsing steps per syscall buffer (messages, chunks, frames, Redis values): a 64 KB read of 8-byte messages */
#define DH_L7_M_RESPONSE 0xffff0000 /* request meta bits set by its response */
#define DH_L7_M_SETUP 0x8000 /* request meta: a connection's setup (PostgreSQL's startup), counted only when refused, never unpaired */
#define DH_L7_ATTEMPTS 8   /* buffers tried before a socket is declared not L7 */

enum dh_l7_dir_flag {
	DH_L7_D_MIDLINE = 1,    /* the last buffer ended inside an HTTP header line */
	DH_L7_D_MIDLINE_CR = 2, /* ... and that partial line was "\r" */
	DH_L7_D_RESYNC = 4,     /* framing lost: restart at the next syscall */
	DH_L7_D_FIRST = 8,      /* first line of a header window is a start line */
	DH_L7_D_LONG = 16,      /* Redis: a request or reply too long to walk, not walked further (l7/redis.c redis_long_reply) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* entries in directly mapped memory, as conns (maps.h) */
	__type(key, __u64);
	__type(value, struct dh_l7_sock);
} l7_socks SEC(".maps");

/* An all-zero socket state to insert from (the state is too big for the BPF stack). Never written. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dh_l7_sock);
} l7_zero SEC(".maps");

/* Sockets found not to carry a known protocol, or left to their client (l7/peer.c), that have no conns
 * entry to keep the verdict in (dh_conn.l7_skip); LRU: forgetting one only costs a new look. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} l7_skip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} l7_samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dh_l7_config);
} l7_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} l7_final SEC(".maps");

/* Sample rate limit (GCRA): the theoretical arrival time of the next sample. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} l7_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DH_L7_LOSS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} l7_losses SEC(".maps");

/* Key of h2_streams (l7/http2.c): an HTTP/2 stream. */
struct dh_h2_key {
	__u64 cookie;
	__u32 sid;
	__u32 pad;
};

/* An HTTP/2 stream in flight (value of h2_streams, l7/http2.c), with its request's names for a sample (l7/http2_paths.c). */
struct dh_h2_stream {
	struct dh_l7_req req;
	__u8 method;      /* H2_M_*, 0 if not known */
	__u8 path_len;    /* coded bytes in path, 0 if not kept */
	__u8 huff;        /* path is Huffman-coded */
	__u8 path_static; /* :path from the static table: its index (4 "/", 5 "/index.html") */
	__u8 mlen;        /* H2_M_LITERAL: coded bytes in mbytes */
	__u8 mhuff;       /* ... Huffman-coded */
	__u8 pad[2];
	__u8 mbytes[DH_L7_H2_METHOD]; /* H2_M_LITERAL: the :method as the client coded it */
	__u8 path[DH_L7_H2_PATH];
};

/* The syscall being parsed: its user buffer and the parsing cursor. */
struct dh_l7_scratch {
	__u64 base[DH_L7_IOV];
	__u64 len[DH_L7_IOV];  /* clamped to the bytes the syscall moved */
	__u64 uiov;            /* the caller's iovec array (0: one buffer, base[0]) */
	__u32 iov_cnt;         /* its entries, at most DH_L7_IOV_MAX */
	__u32 iov_first;       /* the entry held in base[0] */
	__u32 iov_before;      /* syscall bytes in the entries before it */
	__u32 io_total;        /* bytes the syscall moved (total without a carried header) */
	__u32 seek_off;        /* l7_iov_seek: the offset in the segment found */
	__u32 nseg;            /* entries held */
	__u32 seek_passed;     /* l7_iov_find: bytes of the held entries before the one found */
	__u32 seek_pad;
	__u64 iov_raw[2 * DH_L7_IOV]; /* entries as the caller wrote them ({base, len} pairs), before clamping */
	__u32 total;   /* bytes the syscall moved */
	__u32 cur;     /* parse position in [0, total) */
	__u32 dir;     /* 0: requests, 1: responses */
	__u64 now;
	__u64 cookie;
	__u32 ls;      /* HTTP header scan: current line start in win */
	__u32 found;   /* HTTP header scan: end of headers (offset after the blank line), 0 if not yet */
	__u8 tls;
	__u8 skip_first; /* HTTP header scan: the window's first line is not a header */
	__u8 first_cr;   /* ... and the last buffer ended with a lone "\r" */
	__u8 pad;
	__u16 h2_status; /* HTTP/2 header block: :status found */
	__u16 h2_grpc;   /* ... grpc-status + 1 found */
	__u32 carry_len; /* bytes of the last syscall that come before this one's (a cut header) */
	__u32 carry_pad;
	__u8 carry[DH_L7_CARRY];
	__u64 s_lat;     /* the request l7_sample() looks at */
	__u32 s_id, s_cls, s_status;
	__u32 s_flags;   /* sample flags the request adds (DH_L7_S_NO_RESPONSE, DH_L7_S_ABANDONED) */
	__u32 s_meta;    /* its request meta (HTTP/1: its method) */
	char s_comm[DH_L7_COMM_LEN]; /* with DH_L7_S_NO_RESPONSE: the socket owner's name (the current task may be another) */
	struct dh_h2_stream h2; /* HTTP/2: the stream a client's HEADERS start, with its names (too big for the stack) */
	struct dh_h2_key h2_key; /* HTTP/2: a stream a sample looks up (l7/http2_paths.c) */
	struct {
		__u32 at, p, end, base, n, loads, sid, fresh;
	} hb; /* HTTP/2: walking a client's header block (l7/http2_paths.c h2_request_names) */
	__u8 win[DH_L7_WIN * 3]; /* a window, room for reads past it, and slack for the verifier's bounds */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2); /* [1]: tcp_destroy_sock's, which may run in a softirq on top of a send or receive using [0] */
	__type(key, __u32);
	__type(value, struct dh_l7_scratch);
} l7_scratch SEC(".maps");

static __always_inline void l7_loss(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&l7_losses, &what);
	if (n)
		*n += 1;
}

/* A socket's L7 state, made from the all-zero template (NULL if the map is full: counted); c: its conns entry, if any.
 * Its connection is marked, so that its close tells user space a closing count follows. */
static __always_inline struct dh_l7_sock *l7_sock_new(__u64 cookie, struct dh_conn *c)
{
	__u32 zero = 0;
	struct dh_l7_sock *tmpl = bpf_map_lookup_elem(&l7_zero, &zero);
	if (!tmpl)
		return 0;
	if (bpf_map_update_elem(&l7_socks, &cookie, tmpl, BPF_NOEXIST)) {
		l7_loss(DH_L7_LOSS_SOCK_MAP_FULL);
		return 0;
	}
	if (c) {
		c->l7 = 1;
		c->l7_skip = 0; /* a verdict in conns means "no parser state" (l7_capture's first test) */
	}
	return bpf_map_lookup_elem(&l7_socks, &cookie);
}

/* The time of a send or receive of TCP socket sk, in ns on CLOCK_MONOTONIC (tcp_clock_ns()).
 *
 * Kernel subtlety: reading the clock (bpf_ktime_get_*_ns) orders the CPU's pipeline (rdtsc after
 * lfence) and goes through the clocksource's indirect call: on this VM about 100 ns, more than a
 * short parse. TCP keeps the time it last took per socket (tcp_clock_cache, only ever moving
 * forward), refreshed by every segment an established socket receives (tcp_rcv_established) and
 * by every send that transmits (tcp_write_xmit). So a send reads the moment its data went (an
 * autocorked send, queued behind earlier unsent data, keeps the time that data went or the last
 * ACK came), and a receive the arrival of the newest segment it could read, or a later transmit:
 * never before the data came, never after the read. A response is thus timed at its arrival when
 * its reader is slow to read it (what the server took, not the client's own delay). A socket in
 * another state (half-closed: FIN_WAIT, its segments go through tcp_rcv_state_process) does not
 * refresh it on receipt, so its receives read the clock. */
static __always_inline __u64 l7_sock_now(const struct sock *sk, int is_send)
{
	__u64 ns = 0;
	if ((is_send || sk->__sk_common.skc_state == TCP_ESTABLISHED) && bpf_core_field_exists(struct tcp_sock, tcp_clock_cache)) {
		const struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
		ns = tp->tcp_clock_cache;
	}
	return ns ? ns : bpf_ktime_get_ns();
}

static __always_inline struct dh_l7_config *l7_cfg(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&l7_config, &zero);
}

/* Where the syscall's len bytes are: a user iovec array of cnt entries (uiov), or one buffer (uiov 0). */
static __always_inline void l7_io_at(struct dh_l7_scratch *sc, __u64 uiov, __u64 cnt, __u32 len)
{
	sc->uiov = uiov;
	sc->iov_cnt = cnt > DH_L7_IOV_MAX ? DH_L7_IOV_MAX : cnt;
	sc->iov_first = 0;
	sc->iov_before = 0;
	sc->io_total = len;
}

/* The syscall's data is one user buffer. */
static __always_inline void l7_io_one(struct dh_l7_scratch *sc, __u64 buf, __u32 len)
{
	l7_io_at(sc, 0, 1, len);
	sc->base[0] = buf;
	sc->len[0] = len;
	sc->nseg = 1;
}

/* Holds the caller's iovec entries from sc->iov_first on (DH_L7_IOV of them, in one read),
 * each clamped to the bytes the syscall moved. 0, or -1 if none could be read. */
__noinline int l7_iov_fill(struct dh_l7_scratch *sc)
{
	if (!sc || !sc->uiov || sc->iov_first >= sc->iov_cnt || sc->iov_first >= DH_L7_IOV_MAX)
		return -1;
	__u32 n = sc->iov_cnt - sc->iov_first;
	if (n > DH_L7_IOV)
		n = DH_L7_IOV;
	asm volatile("%0 &= 0x3f" : "+r"(n)); /* <= DH_L7_IOV, restated for the verifier */
	if (!n || n > DH_L7_IOV)
		return -1;
	/* read as {base, len} pairs into base[] and len[] side by side: base[] first, then spread */
	if (bpf_probe_read_user(sc->iov_raw, n * 16, (void *)(sc->uiov + (__u64)sc->iov_first * 16)))
		return -1;
	__u32 left = sc->io_total > sc->iov_before ? sc->io_total - sc->iov_before : 0;
	sc->nseg = 0;
	for (int i = 0; i < DH_L7_IOV; i++) {
		if (i >= n || !left)
			break;
		__u64 l = sc->iov_raw[2 * i + 1];
		__u32 take = l > left ? left : l;
		sc->base[i] = sc->iov_raw[2 * i];
		sc->len[i] = take;
		sc->nseg = i + 1;
		left -= take;
	}
	return sc->nseg ? 0 : -1;
}

/* The held entry that holds byte off, counted from the first held entry: its index (nseg if off lies
 * past them), its offset in it in sc->seek_off, the bytes of the entries before it in sc->seek_passed.
 * A function of its own so that the verifier walks its loop once, not once per window move of
 * l7_iov_seek (it took 577k of the 1M instructions the verifier may process per program). */
__noinline int l7_iov_find(struct dh_l7_scratch *sc, __u32 off)
{
	if (!sc)
		return 0;
	__u32 passed = 0;
	int k = 0;
	for (; k < DH_L7_IOV; k++) {
		if (k >= sc->nseg || off < sc->len[k])
			break;
		off -= sc->len[k];
		passed += sc->len[k];
	}
	sc->seek_off = off;
	sc->seek_passed = passed;
	return k;
}

/* The held segment that holds byte off of the syscall's own data; its offset in it goes to sc->seek_off.
 * Returns -1 past the data. Parsing only moves forward, so when off lies past the held entries (an
 * HTTP/2 writev carries a few entries per frame, hundreds in all), the window moves on over the
 * caller's array; it also moves when fewer than 4 entries, the most one window of bytes spans,
 * would follow the one found. */
__noinline int l7_iov_seek(struct dh_l7_scratch *sc, __u32 off)
{
	if (!sc)
		return -1;
	if (off < sc->iov_before) { /* a look back past the window (none of today's parsers does): from the first entry again */
		sc->iov_first = 0;
		sc->iov_before = 0;
		if (l7_iov_fill(sc))
			return -1;
	}
	off -= sc->iov_before;
	for (int m = 0; m < DH_L7_IOV_MOVES; m++) {
		int k = l7_iov_find(sc, off);
		if (k < 0 || k > DH_L7_IOV) /* a global function's result has no bounds for the verifier */
			return -1;
		int more = sc->uiov && sc->iov_first + sc->nseg < sc->iov_cnt;
		if (k < sc->nseg && (k <= DH_L7_IOV - 4 || !more))
			return k;
		if (!more || !k)
			return -1;
		/* move the window to start at entry k: the bytes before it are behind the parser */
		off = sc->seek_off;
		sc->iov_first += k;
		sc->iov_before += sc->seek_passed;
		if (l7_iov_fill(sc))
			return -1;
	}
	return -1;
}

/* Copies up to len (<= DH_L7_WIN) bytes at offset off of the syscall's data
 * into sc->win; returns the number copied. Offsets count the carried bytes of
 * a cut header first, then the syscall's own bytes across its iovec segments. */
__noinline int l7_load(struct dh_l7_scratch *sc, __u32 off, __u32 len)
{
	__u32 done = 0, seg = DH_L7_IOV;
	if (!sc || off >= sc->total)
		return 0;
	if (len > sc->total - off)
		len = sc->total - off;
	if (len > DH_L7_WIN)
		len = DH_L7_WIN;
	if (off < sc->carry_len && sc->carry_len <= DH_L7_CARRY) {
		/* whole-array copy: bytes past the carried ones are overwritten below */
		bpf_probe_read_kernel(sc->win, DH_L7_CARRY, &sc->carry[off & (DH_L7_CARRY - 1)]);
		done = sc->carry_len - off;
		if (done > len)
			done = len;
		off = 0;
	} else {
		off -= sc->carry_len;
	}
	int k0 = l7_iov_seek(sc, off);
	if (k0 >= 0) {
		seg = k0;
		asm volatile("%0 &= 0x1f" : "+r"(seg)); /* < DH_L7_IOV: a global function's result has no bounds for the verifier */
		off = sc->seek_off;
	}
	/* a window spans a few segments at most */
	for (int r = 0; r < 4; r++) {
		__u32 k = seg + r;
		if (k >= sc->nseg || k >= DH_L7_IOV || done >= len)
			break;
		__u32 sl = sc->len[k & (DH_L7_IOV - 1)];
		if (off >= sl)
			break;
		__u32 n = sl - off;
		if (n > len - done)
			n = len - done;
		if (done >= DH_L7_WIN)
			break;
		if (n > DH_L7_WIN)
			n = DH_L7_WIN;
		/* clang may drop the clamp's bound on the register it passes: restate it for the verifier */
		__u32 at = done;
		asm volatile("%0 &= 0x1ff" : "+r"(n));
		asm volatile("%0 &= 0xff" : "+r"(at));
		if (bpf_probe_read_user(&sc->win[at], n, (void *)(sc->base[k & (DH_L7_IOV - 1)] + off)))
			break;
		done += n;
		off = 0;
	}
	if (done < DH_L7_WIN * 2)
		sc->win[done & (DH_L7_WIN * 2 - 1)] = 0;
	return done;
}

/* The loaded n bytes run to the end of the syscall's data: a header that is
 * not complete in them may continue in the next syscall. */
static __always_inline int l7_at_end(struct dh_l7_scratch *sc, __u32 n)
{
	return sc->cur + n >= sc->total;
}

/* Return value of a step whose message header is cut by the end of the data. */
#define DH_L7_MORE 2

/* An index into sc->win the verifier can bound (clang would fold a plain mask away). */
static __always_inline __u32 l7_idx(__u32 i)
{
	asm volatile("%0 &= 0x1ff" : "+r"(i));
	return i;
}

static __always_inline __u8 l7_byte(struct dh_l7_scratch *sc, __u32 i)
{
	return sc->win[l7_idx(i)];
}

/* Eight bytes at i, little-endian (x86 and arm64 allow unaligned map value loads). */
static __always_inline __u64 l7_u64(struct dh_l7_scratch *sc, __u32 i)
{
	return *(__u64 *)&sc->win[l7_idx(i)];
}

/* Copies the request's first bytes (at the cursor) for a later sample. `have`
 * bytes at the cursor are in the window already (a parser's own load). */
__noinline int l7_keep_text(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 id, __u32 have)
{
	struct dh_l7_config *cfg = l7_cfg();
	if (!sc || !st || !cfg || !cfg->samples)
		return 0;
	__u32 want = cfg->text_bytes;
	if (want > DH_L7_TEXT)
		want = DH_L7_TEXT;
	__u32 left = sc->total > sc->cur ? sc->total - sc->cur : 0;
	__u32 n = have;
	if (have < want && have < left) /* a whole window, so a parser's window at the same cursor stays as it was */
		n = l7_load(sc, sc->cur, DH_L7_WIN);
	if (n > want)
		n = want;
	__builtin_memcpy(st->text, sc->win, DH_L7_TEXT);
	st->text_len = n > 255 ? 255 : n;
	st->text_id = id;
	return 0;
}

/* A request starts behind another in flight (pipelining): the first bytes of the newest so far, whose text the new
 * one's replaces, are kept by its number, so its sample can name it. Only while requests wait: no cost without pipelining. */
static __always_inline void l7_name_keep(struct dh_l7_sock *st)
{
	if (!st->nreq || !st->text_len)
		return;
	struct dh_l7_name *n = &st->names[st->text_id & (DH_L7_NAMES - 1)];
	n->id = st->text_id;
	n->len = st->text_len < DH_L7_NAME_LEN ? st->text_len : DH_L7_NAME_LEN;
	n->cut = st->text_len > DH_L7_NAME_LEN;
	__builtin_memcpy(n->b, st->text, DH_L7_NAME_LEN);
	for (int i = 0; i < DH_L7_NAME_LEN; i++) /* nothing past its bytes (the window may hold another socket's) */
		if (i >= n->len)
			n->b[i] = 0;
}

/* A request starts (ordered protocols): appended to the FIFO, or merged into
 * the last entry when it came in the same syscall with the same meta. HTTP/1
 * requests of another method take a slot of their own while one is free, else
 * merge too, and that slot then names no method. Returns its slot or -1. */
static __always_inline int l7_push(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 meta, __u32 have)
{
	l7_name_keep(st);
	st->seq++;
	if (st->nreq) {
		__u32 last = (st->head + st->nreq - 1) & (DH_L7_INFLIGHT - 1);
		struct dh_l7_req *r = &st->req[last];
		__u32 loose = st->proto == DH_L7_HTTP1 ? DH_L7_H1_METHOD_MASK << DH_L7_H1_METHOD_SHIFT : 0;
		__u32 diff = r->meta ^ meta;
		if (r->start_ns == sc->now && r->count < 0xffff && (!diff || (!(diff & ~loose) && st->nreq >= DH_L7_INFLIGHT))) {
			if (diff)
				r->meta &= ~loose;
			r->count++;
			l7_keep_text(sc, st, st->seq, have);
			return last;
		}
	}
	if (st->nreq >= DH_L7_INFLIGHT) {
		l7_loss(DH_L7_LOSS_INFLIGHT_FULL);
		return -1;
	}
	__u32 slot = (st->head + st->nreq) & (DH_L7_INFLIGHT - 1);
	st->req[slot].start_ns = sc->now;
	st->req[slot].id = st->seq;
	st->req[slot].meta = meta;
	st->req[slot].count = 1;
	st->req[slot].detail = 0;
	st->nreq++;
	l7_keep_text(sc, st, st->seq, have);
	return slot;
}

static __always_inline __u32 l7_bucket_of(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 b = 0;
	if (us >= 1 << 16) { us >>= 16; b += 16; }
	if (us >= 1 << 8) { us >>= 8; b += 8; }
	if (us >= 1 << 4) { us >>= 4; b += 4; }
	if (us >= 1 << 2) { us >>= 2; b += 2; }
	if (us >= 1 << 1) { b += 1; }
	return b >= DH_L7_BUCKETS ? DH_L7_BUCKETS - 1 : b;
}

static __always_inline __u32 l7_http_class(__u32 status)
{
	if (status >= 100 && status < 600)
		return status / 100;
	return DH_L7_C_OTHER;
}

/* l7/http2_paths.c */
static __always_inline int h2_sample_names(struct dh_l7_scratch *sc, struct dh_l7_sample *s);
static __always_inline void h2_request_lost(struct dh_l7_scratch *sc);

/* GCRA: at most one sample per gap on average, bursts up to burst. */
static __always_inline int l7_sample_allowed(struct dh_l7_config *cfg, __u64 now)
{
	__u32 zero = 0;
	__u64 *tat = bpf_map_lookup_elem(&l7_bucket, &zero);
	if (!tat)
		return 0;
	__u64 old = *tat;
	__u64 base = old > now ? old : now;
	if (base > now + cfg->sample_burst_ns)
		return 0;
	return __sync_val_compare_and_swap(tat, old, base + cfg->sample_gap_ns) == old;
}

/* Samples the request described by sc->s_*, if failed or slow and within the rate. */
__noinline int l7_sample(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	struct dh_l7_config *cfg = l7_cfg();
	if (!sc || !st || !cfg || !cfg->samples)
		return 0;
	__u64 lat = sc->s_lat;
	__u32 id = sc->s_id, cls = sc->s_cls, status = sc->s_status;
	__u8 why = 0;
	if (cls == DH_L7_C_5XX || cls == DH_L7_C_4XX || cls == DH_L7_C_ERROR)
		why |= DH_L7_S_FAILED;
	if (lat >= cfg->slow_ns)
		why |= DH_L7_S_SLOW;
	if (!why && !cfg->sample_all)
		return 0;
	__u64 now = bpf_ktime_get_boot_ns(); /* sc->now is a socket's clock, not boot time (l7_sock_now) */
	if (!l7_sample_allowed(cfg, now)) {
		l7_loss(DH_L7_LOSS_SAMPLE_RATE);
		return 0;
	}
	struct dh_l7_sample *s = bpf_ringbuf_reserve(&l7_samples, sizeof(*s), 0);
	if (!s) {
		l7_loss(DH_L7_LOSS_SAMPLE_RINGBUF);
		return 0;
	}
	s->ts_ns = now;
	s->cookie = sc->cookie;
	s->latency_ns = lat;
	s->pid = st->pid;
	s->status = status;
	s->proto = st->proto;
	s->cls = cls;
	s->side = st->side;
	s->flags = why | (sc->s_flags & (DH_L7_S_NO_RESPONSE | DH_L7_S_ABANDONED)) | (st->flags & DH_L7_F_TLS ? DH_L7_S_TLS : 0);
	s->method = st->proto == DH_L7_HTTP1 ? (sc->s_meta >> DH_L7_H1_METHOD_SHIFT) & DH_L7_H1_METHOD_MASK : 0;
	s->pad = 0;
	if (sc->s_flags & (DH_L7_S_NO_RESPONSE | DH_L7_S_ABANDONED)) /* at the socket's end: named by its owner */
		__builtin_memcpy(s->comm, sc->s_comm, sizeof(s->comm));
	else
		bpf_get_current_comm(s->comm, sizeof(s->comm));
	int h2 = 0;
	if (st->proto == DH_L7_HTTP2) {
		__builtin_memset(s->text, 0, DH_L7_TEXT);
		h2 = h2_sample_names(sc, s);
	}
	int own = st->text_id == id && st->text_len; /* the newest request's text */
	struct dh_l7_name *name = &st->names[id & (DH_L7_NAMES - 1)];
	if (h2 == 2 || (h2 && !own)) {
		s->flags |= DH_L7_S_TEXT | DH_L7_S_HPACK;
	} else if (own) {
		s->flags |= DH_L7_S_TEXT;
		s->text_len = st->text_len;
		__builtin_memcpy(s->text, st->text, DH_L7_TEXT);
	} else if (st->proto != DH_L7_HTTP2 && !(sc->s_meta & DH_L7_M_SETUP) && name->id == id && name->len) {
		/* an older one of a pipeline (not a PostgreSQL startup, which shares its number with the first query) */
		s->flags |= DH_L7_S_TEXT | (name->cut ? DH_L7_S_CUT : 0);
		s->text_len = name->len;
		__builtin_memset(s->text, 0, DH_L7_TEXT);
		__builtin_memcpy(s->text, name->b, DH_L7_NAME_LEN);
	} else {
		s->text_len = 0;
		__builtin_memset(s->text, 0, DH_L7_TEXT);
	}
	bpf_ringbuf_submit(s, 0);
	return 0;
}

/* n completed requests of one latency in the socket's counts: their class, their latency bucket and the exact sum. */
static __always_inline void l7_tally(struct dh_l7_sock *st, __u64 lat, __u32 cls, __u32 n)
{
	st->counts.requests[cls & (DH_L7_CLASSES - 1)] += n;
	__u32 b = l7_bucket_of(lat);
	if (b < DH_L7_BUCKETS)
		st->counts.buckets[b] += n;
	st->counts.latency_sum_ns += lat * n;
	__u64 us = lat / 1000;
	if (us > 0xffffffff)
		us = 0xffffffff;
	/* The maximum restarts with each flush's epoch: a socket's slowest request of all time would bound the
	 * percentiles of every later interval of a long-lived connection (an inlined array lookup: no hashing). */
	struct dh_l7_config *cfg = l7_cfg();
	__u32 epoch = cfg ? cfg->epoch : 0;
	if (st->max_epoch != epoch) {
		st->max_epoch = epoch;
		st->counts.latency_max_us = us;
	} else if (us > st->counts.latency_max_us) {
		st->counts.latency_max_us = us;
	}
}

/* n requests (the first: id, with request meta) that started at start ended now: counted, and the first maybe
 * sampled (with flags). */
static __always_inline void l7_account_n(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 id, __u64 start,
					 __u32 cls, __u32 status, __u32 n, __u32 flags, __u32 meta)
{
	__u64 lat = sc->now > start ? sc->now - start : 0;
	l7_tally(st, lat, cls, n);
	sc->s_lat = lat;
	sc->s_id = id;
	sc->s_cls = cls;
	sc->s_status = status;
	sc->s_flags = flags;
	sc->s_meta = meta;
	l7_sample(sc, st);
}

static __always_inline void l7_account(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 id, __u64 start,
				       __u32 cls, __u32 status)
{
	l7_account_n(sc, st, id, start, cls, status, 1, 0, 0);
}

/* The oldest request in flight got its response. */
static __always_inline void l7_pop(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 cls, __u32 status)
{
	if (!st->nreq) {
		st->counts.unpaired++;
		return;
	}
	__u32 slot = st->head & (DH_L7_INFLIGHT - 1);
	struct dh_l7_req *r = &st->req[slot];
	l7_account_n(sc, st, r->id, r->start_ns, cls, status, 1, 0, r->meta);
	if (r->count > 1) { /* the next request of a pipelined burst */
		r->count--;
		r->id++;
		r->meta &= ~DH_L7_M_RESPONSE;
		r->detail = 0;
		return;
	}
	r->start_ns = 0;
	st->head = (slot + 1) & (DH_L7_INFLIGHT - 1);
	st->nreq--;
}

/* The oldest request in flight leaves uncounted (a connection's setup that succeeded). The caller has seen it (l7_head). */
static __always_inline void l7_drop(struct dh_l7_sock *st)
{
	__u32 slot = st->head & (DH_L7_INFLIGHT - 1);
	st->req[slot].start_ns = 0;
	st->head = (slot + 1) & (DH_L7_INFLIGHT - 1);
	st->nreq--;
}

static __always_inline struct dh_l7_req *l7_head(struct dh_l7_sock *st)
{
	if (!st->nreq)
		return 0;
	return &st->req[st->head & (DH_L7_INFLIGHT - 1)];
}

/* Framing is lost: drop what is in flight (it can no longer be paired) and
 * restart both directions at their next syscall. */
static __always_inline void l7_desync(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	l7_loss(DH_L7_LOSS_DESYNC);
	if (st->proto == DH_L7_HTTP2) { /* its streams in flight stay paired by id (l7/http2.c) */
		h2_request_lost(sc); /* the client's HPACK insertions may be in the bytes passed over */
		goto framing;
	}
	for (int i = 0; i < DH_L7_INFLIGHT; i++) {
		struct dh_l7_req *r = &st->req[(st->head + i) & (DH_L7_INFLIGHT - 1)];
		if (i < st->nreq && !(r->meta & DH_L7_M_SETUP))
			st->counts.unpaired += r->count;
	}
	st->nreq = 0;
	st->head = 0;
	for (int i = 0; i < DH_L7_INFLIGHT; i++)
		st->req[i].start_ns = 0;
framing:
	for (int d = 0; d < 2; d++) {
		st->dir[d].flags = DH_L7_D_RESYNC;
		st->dir[d].skip = 0;
		st->dir[d].carry_len = 0;
	}
	sc->cur = sc->total;
}

#endif
