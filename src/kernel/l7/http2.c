/* HTTP/2 (h2c, and h2 inside TLS) and gRPC. Frames are [length:3][type]
 * [flags][stream:4], so framing is exact; streams interleave, so requests in
 * flight are a small table keyed by stream id, not a FIFO. A request is the
 * client's HEADERS on a new stream; it ends with the server's END_STREAM (or
 * RST_STREAM). The status is :status, and grpc-status when the response
 * carries one (gRPC: non-zero is a failure).
 *
 * Streams in flight live in a map of their own (h2_streams, keyed by socket
 * and stream), not in the socket's small FIFO: a gRPC client keeps a hundred
 * calls open on one connection. A stream id is never reused on a connection,
 * so a stream in flight at a desync stays paired by its id when its end is
 * seen later; one whose end was in the lost bytes is unpaired at the close.
 * A closed socket's entries are looked up among its newest ids (l7/http2_paths.c
 * h2_no_response); the rest are left to the LRU (cookies are never reused).
 * Each keeps its request's :method and :path for a sample (l7/http2_paths.c).
 *
 * Kernel subtlety: headers are HPACK-compressed with a per-connection dynamic
 * table. Only :status and grpc-status matter in a response, and an index into the
 * dynamic table counts back from the newest insertion, whatever was evicted,
 * so remembering what the server's last DH_L7_HPACK insertions held (not
 * their text) decodes later references to them exactly. Values are decoded
 * from plain or Huffman digits. A reference to an older entry, or a header
 * block beyond one window or split into CONTINUATION frames, leaves the
 * status unknown (class OTHER) rather than guessed; so does, after such a
 * block, a reference to an entry from before it (the insertions it held
 * were not seen, so older entries' places are not known). */

enum { H2_FRAMES = 0, H2_PREFACE = 1 };
enum { H2_DATA = 0, H2_HEADERS = 1, H2_RST_STREAM = 3, H2_GOAWAY = 7, H2_CONTINUATION = 9 };
enum { H2_END_STREAM = 1, H2_END_HEADERS = 4, H2_PADDED = 8, H2_PRIORITY = 0x20 };
enum { H2_REFUSED_STREAM = 7 }; /* an RST_STREAM error code */
enum { HP_STATUS = 1, HP_GRPC = 2 };
enum { H2_M_GET = 1, H2_M_POST = 2, H2_M_LITERAL = 3 }; /* a request's :method: the static table's (indexes 2 and 3), or coded bytes */

/* "grpc-status" as little-endian words: plain (bytes 0-7 and 3-10), and
 * Huffman-coded (RFC 7541 appendix B: 9a ca c8 b2 12 34 da 8f). */
#define HP_GRPC_PLAIN_0 0x6174732d63707267ULL /* "grpc-sta" */
#define HP_GRPC_PLAIN_3 0x7375746174732d63ULL /* "c-status" */
#define HP_GRPC_HUFF 0x8fda3412b2c8ca9aULL

/* An HPACK integer with an N-bit prefix; two continuation bytes at most (values < 16511). */
static __always_inline int hp_int(struct dh_l7_scratch *sc, __u32 *pos, __u32 mask, __u32 *out)
{
	__u32 p = *pos, v = l7_byte(sc, p) & mask;
	p++;
	if (v == mask) {
		__u8 b = l7_byte(sc, p++);
		v += b & 0x7f;
		if (b & 0x80) {
			b = l7_byte(sc, p++);
			v += (__u32)(b & 0x7f) << 7;
			if (b & 0x80)
				return -1;
		}
	}
	*pos = p;
	*out = v;
	return 0;
}

/* Up to three decimal digits, plain or Huffman-coded; -1 if not digits. */
static __always_inline int hp_digits(struct dh_l7_scratch *sc, __u32 at, __u32 len, int huff)
{
	int v = 0, nd = 0;
	if (!huff) {
		for (int i = 0; i < 3; i++) {
			if (i >= len)
				break;
			__u8 b = l7_byte(sc, at + i);
			if (b < '0' || b > '9')
				return -1;
			v = v * 10 + (b - '0');
			nd++;
		}
		return nd ? v : -1;
	}
	__u32 acc = 0, nbits = len * 8, bit = 0;
	for (int i = 0; i < 3; i++)
		acc = acc << 8 | (i < len ? l7_byte(sc, at + i) : 0xff);
	if (len < 3)
		acc >>= (3 - len) * 8;
	for (int k = 0; k < 3; k++) {
		if (nbits - bit < 5)
			break;
		__u32 c5 = (acc >> (nbits - bit - 5)) & 0x1f;
		if (c5 <= 2) { /* '0' '1' '2': 00000 00001 00010 */
			v = v * 10 + c5;
			bit += 5;
		} else {
			if (nbits - bit < 6)
				break;
			__u32 c6 = (acc >> (nbits - bit - 6)) & 0x3f;
			if (c6 < 0x19 || c6 > 0x1f) /* '3'..'9': 011001..011111 */
				break;
			v = v * 10 + (c6 - 0x19 + 3);
			bit += 6;
		}
		nd++;
	}
	return nd ? v : -1;
}

static __always_inline __u32 hp_static_status(__u32 idx)
{
	switch (idx) {
	case 8: return 200;
	case 9: return 204;
	case 10: return 206;
	case 11: return 304;
	case 12: return 400;
	case 13: return 404;
	case 14: return 500;
	}
	return 0;
}

/* Decodes one header field of a server header block at pos; returns the next position or -1. */
__noinline int h2_field(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 pos)
{
	if (!sc || !st || pos >= DH_L7_WIN)
		return -1;
	__u8 b = l7_byte(sc, pos);
	__u32 idx = 0, kind = 0, code = 0, insert = 0, len = 0, valid = 0;
	if (b & 0x80) {
		if (hp_int(sc, &pos, 0x7f, &idx))
			return -1;
		if (idx >= 8 && idx <= 14) {
			kind = HP_STATUS;
			code = hp_static_status(idx);
			valid = 1;
		} else if (idx >= 62 && idx < 62 + DH_L7_HPACK) {
			__u32 e = st->hpack[(st->hpack_next - 1 - (idx - 62)) & (DH_L7_HPACK - 1)];
			kind = e >> 16;
			code = e & 0xffff;
			valid = kind != 0;
		}
	} else if ((b & 0xe0) == 0x20) { /* dynamic table size update */
		return hp_int(sc, &pos, 0x1f, &idx) ? -1 : pos;
	} else {
		insert = b & 0x40;
		if (hp_int(sc, &pos, insert ? 0x3f : 0x0f, &idx))
			return -1;
		if (!idx) {
			int huff = l7_byte(sc, pos) & 0x80;
			if (hp_int(sc, &pos, 0x7f, &len))
				return -1;
			if (!huff && len == 11 && l7_u64(sc, pos) == HP_GRPC_PLAIN_0 && l7_u64(sc, pos + 3) == HP_GRPC_PLAIN_3)
				kind = HP_GRPC;
			else if (huff && len == 8 && l7_u64(sc, pos) == HP_GRPC_HUFF)
				kind = HP_GRPC;
			pos += len;
		} else if (idx >= 8 && idx <= 14) {
			kind = HP_STATUS;
		} else if (idx >= 62 && idx < 62 + DH_L7_HPACK) {
			kind = st->hpack[(st->hpack_next - 1 - (idx - 62)) & (DH_L7_HPACK - 1)] >> 16;
		}
		int huff = l7_byte(sc, pos) & 0x80;
		if (hp_int(sc, &pos, 0x7f, &len) || len > DH_L7_WIN)
			return -1;
		if (kind && len >= 1 && len <= 3) {
			int v = hp_digits(sc, pos, len, huff);
			if (v >= 0) {
				code = v;
				valid = 1;
			}
		}
		pos += len;
		if (insert) { /* remember what the new newest entry holds */
			st->hpack[st->hpack_next & (DH_L7_HPACK - 1)] = valid ? (kind << 16 | code) : 0;
			st->hpack_next++;
		}
	}
	if (valid && kind == HP_STATUS)
		sc->h2_status = code;
	else if (valid && kind == HP_GRPC)
		sc->h2_grpc = code + 1;
	return pos;
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384); /* set by the loader (L7_DEFAULTS.h2Streams) */
	__type(key, struct dh_h2_key);
	__type(value, struct dh_h2_stream);
} h2_streams SEC(".maps");

/* A stream in flight leaves: its entry, and its count in nreq (answered, reset, refused, or failed at the close). */
static __always_inline void h2_forget(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 sid)
{
	struct dh_h2_key k = {.cookie = sc->cookie, .sid = sid};
	bpf_map_delete_elem(&h2_streams, &k);
	if (st->nreq)
		st->nreq--;
}

#include "http2_paths.c"

#define DH_H2_INFLIGHT 255 /* streams in flight per connection (dh_l7_sock.nreq is a byte); more are counted as INFLIGHT_FULL */

static __always_inline struct dh_l7_req *h2_stream(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 sid)
{
	struct dh_h2_key k = {.cookie = sc->cookie, .sid = sid};
	return bpf_map_lookup_elem(&h2_streams, &k);
}

static __always_inline void h2_start(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 sid)
{
	if (st->nreq >= DH_H2_INFLIGHT) {
		l7_loss(DH_L7_LOSS_INFLIGHT_FULL);
		return;
	}
	struct dh_h2_key k = {.cookie = sc->cookie, .sid = sid};
	/* the value is built in the scratch, beside the names h2_request_names found (no room on the stack) */
	sc->h2.req.start_ns = sc->now;
	sc->h2.req.id = sid;
	sc->h2.req.meta = 0;
	sc->h2.req.count = 1;
	sc->h2.req.detail = 0;
	if (bpf_map_update_elem(&h2_streams, &k, &sc->h2, BPF_ANY))
		return;
	st->seq++;
	st->nreq++;
	l7_keep_text(sc, st, sid, 0);
}

static __always_inline void h2_done(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_req *e, int reset)
{
	__u32 grpc = (e->meta >> 16) & 0xff, status = e->meta & 0x3ff, cls;
	if (reset)
		cls = sc->dir == 1 ? DH_L7_C_ERROR : DH_L7_C_OTHER;
	else if (grpc) {
		status = grpc - 1;
		cls = status == 0 ? DH_L7_C_OK : DH_L7_C_ERROR;
	} else
		cls = l7_http_class(status);
	l7_account(sc, st, e->id, e->start_ns, cls, status);
	h2_forget(sc, st, e->id);
}

/* The server's RST_STREAM (payload at the cursor) with REFUSED_STREAM: the stream was never processed (RFC 9113
 * 8.7), so a client retries it: unpaired, not a failure, as a GOAWAY's refused streams. Returns 1 then. */
static __always_inline int h2_refused(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 sid)
{
	if (l7_load(sc, sc->cur, 4) < 4 || sc->win[0] || sc->win[1] || sc->win[2] || sc->win[3] != H2_REFUSED_STREAM)
		return 0;
	h2_forget(sc, st, sid);
	st->counts.unpaired++;
	return 1;
}

/* A server header block: decode :status / grpc-status into the stream's meta. */
static __always_inline void h2_headers(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 flen, __u8 flags,
				       struct dh_l7_req *e)
{
	__u32 n = l7_load(sc, sc->cur, DH_L7_WIN);
	__u32 pos = 0, stop = flen; /* the header block ends at stop, before any padding */
	if (flags & H2_PADDED) {
		__u32 pad = sc->win[0];
		pos = 1;
		stop = flen > pad ? flen - pad : 0;
	}
	if (flags & H2_PRIORITY)
		pos += 5;
	__u32 end = stop < n ? stop : n;
	sc->h2_status = 0;
	sc->h2_grpc = 0;
	for (int i = 0; i < 24; i++) {
		if (pos >= end)
			break;
		int next = h2_field(sc, st, pos);
		if (next < 0 || next > end)
			break;
		pos = next;
	}
	/* Fields not decoded (past the window, the 24th, or in CONTINUATION frames) may have added to the table: the
	 * entries remembered no longer sit where later references count from, so none is trusted (class OTHER). */
	if (pos < stop || !(flags & H2_END_HEADERS))
		for (int i = 0; i < DH_L7_HPACK; i++)
			st->hpack[i] = 0;
	if (!e)
		return;
	if (sc->h2_status)
		e->meta = (e->meta & ~0x3ffu) | (sc->h2_status & 0x3ff) | 0x400;
	if (sc->h2_grpc)
		e->meta = (e->meta & 0xffff) | (__u32)(sc->h2_grpc & 0xff) << 16;
}

__noinline int h2_step(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	if (d->state == H2_PREFACE) {
		__u32 n = l7_load(sc, sc->cur, 24);
		if (n < 24)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		if (sc->win[0] != 'P' || sc->win[1] != 'R' || sc->win[2] != 'I')
			return -1;
		sc->cur += 24;
		d->state = H2_FRAMES;
		return 0;
	}
	__u32 n = l7_load(sc, sc->cur, 9);
	if (n < 9)
		return l7_at_end(sc, n) ? DH_L7_MORE : -1;
	__u8 *w = sc->win;
	__u32 len = (__u32)w[0] << 16 | (__u32)w[1] << 8 | w[2];
	__u8 type = w[3], flags = w[4];
	__u32 sid = ((__u32)w[5] << 24 | (__u32)w[6] << 16 | (__u32)w[7] << 8 | w[8]) & 0x7fffffff;
	if (len > (1 << 24))
		return -1;
	/* the stream's entry, for the frames that start, answer or end one (not for every DATA frame) */
	int wanted = sid && (type == H2_HEADERS || type == H2_RST_STREAM || (sc->dir == 1 && type == H2_DATA && (flags & H2_END_STREAM)));
	struct dh_l7_req *e = wanted ? h2_stream(sc, st, sid) : 0;
	if (sc->dir == 0) {
		if (type == H2_HEADERS) { /* a new stream's (a request), or trailers: either may add to the client's HPACK table */
			h2_request_names(sc, sc->cur + 9, len, flags, sid);
			if (sid && !e && sc->hb.fresh)
				h2_start(sc, st, sid);
		} else if (type == H2_CONTINUATION) {
			h2_request_lost(sc);
		} else if (type == H2_RST_STREAM && e) {
			h2_done(sc, st, e, 1);
		}
		sc->cur += 9;
	} else {
		if (type == H2_GOAWAY && !sid && len >= 8) {
			__u32 got = l7_load(sc, sc->cur, 13);
			if (got < 13) /* its last stream id cut by the end of the data: the header waits for the next read */
				return l7_at_end(sc, got) ? DH_L7_MORE : -1;
			h2_goaway(sc, st);
		}
		sc->cur += 9;
		if (type == H2_HEADERS)
			h2_headers(sc, st, len, flags, e);
		if (e && (type == H2_HEADERS || type == H2_DATA) && (flags & H2_END_STREAM))
			h2_done(sc, st, e, 0);
		else if (e && type == H2_RST_STREAM && !h2_refused(sc, st, sid))
			h2_done(sc, st, e, 1);
	}
	d->skip = len;
	return 0;
}
