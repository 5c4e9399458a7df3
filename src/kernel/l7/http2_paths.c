/* HTTP/2 request names for samples: each stream's :method and :path.
 *
 * Kernel subtlety: streams interleave, so a sample cannot take "the newest
 * request's bytes" of its connection: each stream keeps its own coded :path
 * (h2_streams, l7/http2.c). And a client may send a path in full once, then
 * refer to it in its HPACK dynamic table (grpc-go names each method in full
 * once per connection; nghttp2, Node's, never indexes :path). An index counts
 * back from the newest insertion, whatever was evicted, so counting every
 * insertion the client makes names the entry a reference means exactly. The
 * :path insertions themselves are kept (their coded bytes) by insertion
 * number, and so are the :method ones (a method other than GET and POST is
 * a literal, which nghttp2 and hpack.js insert and refer to afterwards): the
 * DH_L7_H2_NAMES newest of either. A header block not read whole
 * (cut by the end of the syscall, longer than the fields walked, followed by
 * CONTINUATION, or in bytes passed over at a desync) may hide insertions: from then on references are not
 * resolved on that connection, and its samples have :method, and a path only
 * when sent in full. Never a wrong name.
 *
 * Cost: only the HEADERS frames a client sends are walked, field by field;
 * a path's coded bytes (at most DH_L7_H2_PATH) are copied once per request. */

#define DH_H2_FIELDS 32 /* fields walked per header block */
_Static_assert((DH_L7_H2_NAMES & (DH_L7_H2_NAMES - 1)) == 0, "name slots are a ring indexed by a mask");
_Static_assert(DH_L7_H2_PATH < 127, "a kept path's length fits the one-byte HPACK length of the rebuilt block");
_Static_assert(DH_L7_H2_METHOD + 2 <= 15, "the rebuilt block's :method part (2 + its bytes) stays under 16 (h2_sample_names masks it so)");

/* A kept insertion: a :path, or a literal :method (its first DH_L7_H2_METHOD bytes), as the client coded it. */
struct dh_h2_name {
	__u32 key;   /* insertion number + 1 */
	__u8 len;
	__u8 huff;   /* bytes are Huffman-coded */
	__u8 method; /* a :method, not a :path */
	__u8 pad;
	__u8 bytes[DH_L7_H2_PATH];
};

/* A connection's client side of HPACK (key: socket cookie; deleted with the socket's L7 state). */
struct dh_h2_client {
	__u32 inserted; /* dynamic-table insertions the client made */
	__u32 last_sid; /* the newest stream it opened */
	__u8 lost;      /* a header block was not read whole: insertions may be missing */
	__u8 next;      /* next slot of name */
	__u8 pad[2];
	__u32 goaway;   /* the server's GOAWAY: the last stream it may have processed, + 1 (0: none) */
	__u32 lost_sid; /* the newest stream when bytes were last lost: the ends of streams up to it may be in them */
	struct dh_h2_name name[DH_L7_H2_NAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* set to l7_socks' size by the loader */
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory only for connections that speak HTTP/2 */
	__type(key, __u64);
	__type(value, struct dh_h2_client);
} h2_clients SEC(".maps");

/* All zero, to insert from (the value is too big for the BPF stack). Never written. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dh_h2_client);
} h2_client_zero SEC(".maps");

static __always_inline struct dh_h2_client *h2_client_of(__u64 cookie, int create)
{
	struct dh_h2_client *cl = bpf_map_lookup_elem(&h2_clients, &cookie);
	if (cl || !create)
		return cl;
	__u32 zero = 0;
	struct dh_h2_client *z = bpf_map_lookup_elem(&h2_client_zero, &zero);
	if (!z || bpf_map_update_elem(&h2_clients, &cookie, z, BPF_NOEXIST))
		return 0;
	return bpf_map_lookup_elem(&h2_clients, &cookie);
}

/* A value the request sent as coded bytes [i, i + len) of the window, copied to dst when it fits in max (a
 * constant, at most DH_L7_H2_PATH): the value's bytes only (the next header may be a credential), in one copy,
 * not a loop the verifier walks per byte. Returns 1 when copied. */
static __always_inline int h2_value_take(struct dh_l7_scratch *sc, __u8 *dst, __u32 max, __u32 i, __u32 len)
{
	__builtin_memset(dst, 0, max);
	if (!len || len > max || i >= DH_L7_WIN)
		return 0;
	__u32 n = len;
	asm volatile("%0 &= 0x7f" : "+r"(n)); /* restated for the verifier: len <= max */
	if (n > max)
		return 0;
	bpf_probe_read_kernel(dst, n, &sc->win[l7_idx(i)]);
	return 1;
}

/* A :path the request sent (an earlier field's path is not this one). */
static __always_inline void h2_path_take(struct dh_l7_scratch *sc, __u32 i, __u32 len, __u8 huff)
{
	sc->h2.path_len = 0;
	if (h2_value_take(sc, sc->h2.path, DH_L7_H2_PATH, i, len)) {
		sc->h2.path_len = len;
		sc->h2.huff = huff;
	}
}

/* A :method the request sent as a literal: kept if it fits, else not known. */
static __always_inline void h2_method_take(struct dh_l7_scratch *sc, __u32 i, __u32 len, __u8 huff)
{
	sc->h2.method = 0;
	if (h2_value_take(sc, sc->h2.mbytes, DH_L7_H2_METHOD, i, len)) {
		sc->h2.method = H2_M_LITERAL;
		sc->h2.mlen = len;
		sc->h2.mhuff = huff;
	}
}

/* The request referred to dynamic-table insertion number key - 1: its :path or :method, if that insertion was kept. */
static __always_inline void h2_name_ref(struct dh_l7_scratch *sc, struct dh_h2_client *cl, __u32 key)
{
	for (int k = 0; k < DH_L7_H2_NAMES; k++) {
		struct dh_h2_name *p = &cl->name[k];
		if (p->key != key || !p->len || p->len > (p->method ? DH_L7_H2_METHOD : DH_L7_H2_PATH))
			continue;
		if (p->method) {
			__builtin_memcpy(sc->h2.mbytes, p->bytes, DH_L7_H2_METHOD);
			sc->h2.method = H2_M_LITERAL;
			sc->h2.mlen = p->len;
			sc->h2.mhuff = p->huff;
		} else {
			__builtin_memcpy(sc->h2.path, p->bytes, DH_L7_H2_PATH);
			sc->h2.path_len = p->len;
			sc->h2.huff = p->huff;
		}
		return;
	}
}

/* The client inserted the :path or the literal :method (method) this field sent: kept under its insertion number + 1. */
static __always_inline void h2_name_insert(struct dh_l7_scratch *sc, struct dh_h2_client *cl, __u32 key, int method)
{
	__u8 len = method ? (sc->h2.method == H2_M_LITERAL ? sc->h2.mlen : 0) : sc->h2.path_len;
	if (!len || len > (method ? DH_L7_H2_METHOD : DH_L7_H2_PATH))
		return;
	struct dh_h2_name *p = &cl->name[cl->next & (DH_L7_H2_NAMES - 1)];
	cl->next++;
	p->key = key;
	p->len = len;
	p->method = method;
	if (method) {
		p->huff = sc->h2.mhuff;
		__builtin_memcpy(p->bytes, sc->h2.mbytes, DH_L7_H2_METHOD);
	} else {
		p->huff = sc->h2.huff;
		__builtin_memcpy(p->bytes, sc->h2.path, DH_L7_H2_PATH);
	}
}

/* One field of a client header block at window offset i, whose loaded bytes end at lim:
 * returns its length, or -1 if it is malformed or its header runs past lim. */
__noinline int h2_request_field(struct dh_l7_scratch *sc, struct dh_h2_client *cl, __u32 i, __u32 lim)
{
	if (!sc || !cl || i >= DH_L7_WIN || lim > DH_L7_WIN || i >= lim)
		return -1;
	__u32 pos = i, idx = 0, len = 0;
	__u8 b = l7_byte(sc, pos);
	if (b & 0x80) { /* indexed */
		if (hp_int(sc, &pos, 0x7f, &idx) || pos > lim)
			return -1;
		if (idx == 2 || idx == 3)
			sc->h2.method = idx == 2 ? H2_M_GET : H2_M_POST;
		else if (idx == 4 || idx == 5)
			sc->h2.path_static = idx;
		else if (idx >= 62 && !cl->lost && cl->inserted >= idx - 61)
			h2_name_ref(sc, cl, cl->inserted - (idx - 62));
		return pos - i;
	}
	if ((b & 0xe0) == 0x20) /* dynamic table size update */
		return hp_int(sc, &pos, 0x1f, &idx) || pos > lim ? -1 : pos - i;
	__u32 insert = b & 0x40;
	if (hp_int(sc, &pos, insert ? 0x3f : 0x0f, &idx))
		return -1;
	if (!idx) { /* a literal name: passed over */
		if (pos >= lim || hp_int(sc, &pos, 0x7f, &len))
			return -1;
		pos += len;
	}
	if (pos >= lim || pos >= DH_L7_WIN)
		return -1;
	__u8 huff = l7_byte(sc, pos) >> 7;
	if (hp_int(sc, &pos, 0x7f, &len) || pos > lim)
		return -1;
	int path = idx == 4 || idx == 5; /* :path's name, a value of its own */
	int method = idx == 2 || idx == 3; /* :method's name: PUT, DELETE, PATCH... */
	if ((path && len <= DH_L7_H2_PATH && pos + len > lim) || (method && len <= DH_L7_H2_METHOD && pos + len > lim))
		return -1; /* a value that fits but crosses the window's end: read it again from the field's start */
	if (path)
		h2_path_take(sc, pos, len, huff);
	if (method)
		h2_method_take(sc, pos, len, huff);
	if (insert) {
		cl->inserted++;
		if (path || method)
			h2_name_insert(sc, cl, cl->inserted, method);
	}
	return pos + len - i;
}

/* A CONTINUATION frame from the client (its fields are not walked), framing lost (l7_desync), or I/O the kernel
 * gave no buffer for: insertions may be missing, and the ends of the streams open so far may be in the lost bytes. */
static __always_inline void h2_request_lost(struct dh_l7_scratch *sc)
{
	struct dh_h2_client *cl = h2_client_of(sc->cookie, 0);
	if (cl) {
		cl->lost = 1;
		cl->lost_sid = cl->last_sid;
	}
}

/* Walks the header block of a HEADERS frame the client sent, from sc->hb.p: counts its insertions,
 * and finds :method and :path (sc->h2). Returns 1 when a field's header runs past the window (the
 * caller loads the window from sc->hb.p and calls again), else 0. The walk's cursor is kept in the
 * scratch (sc->hb), and loads are left to the caller: this runs at the bottom of the deepest call chain. */
__noinline int h2_request_fields(struct dh_l7_scratch *sc)
{
	if (!sc)
		return 0;
	struct dh_h2_client *cl = h2_client_of(sc->cookie, 1);
	if (!cl)
		return 0;
	if (!sc->hb.loads) { /* a new stream's id is odd and above the last (RFC 9113 5.1.1): not bytes met after a desync */
		sc->hb.fresh = (sc->hb.sid & 1) && sc->hb.sid > cl->last_sid;
		if (sc->hb.fresh)
			cl->last_sid = sc->hb.sid;
	}
	for (int k = 0; k < DH_H2_FIELDS; k++) {
		if (sc->hb.p >= sc->hb.end)
			return 0;
		int r = -1;
		__u32 lim = sc->hb.end - sc->hb.base < sc->hb.n ? sc->hb.end - sc->hb.base : sc->hb.n; /* not past the frame */
		if (sc->hb.p - sc->hb.base < lim)
			r = h2_request_field(sc, cl, sc->hb.p - sc->hb.base, lim);
		if (r < 0 && sc->hb.p != sc->hb.base && sc->hb.loads < 3)
			return 1;
		if (r <= 0)
			break;
		sc->hb.p += r;
	}
	cl->lost = 1; /* not read to its end */
	return 0;
}

/* The client's HEADERS frame on stream sid (payload at offset at, flen bytes): its names and insertions
 * (above), and whether it can open a stream (sc->hb.fresh). */
static __always_inline void h2_request_names(struct dh_l7_scratch *sc, __u32 at, __u32 flen, __u8 flags, __u32 sid)
{
	sc->hb.sid = sid;
	sc->hb.fresh = sid & 1; /* without the connection's state: any client stream id */
	sc->h2.method = 0;
	sc->h2.mlen = 0;
	sc->h2.path_static = 0;
	sc->h2.path_len = 0;
	sc->hb.at = at;
	sc->hb.n = l7_load(sc, at, DH_L7_WIN);
	sc->hb.p = 0;
	sc->hb.end = flen;
	sc->hb.base = 0;
	sc->hb.loads = 0;
	if (flags & H2_PADDED) {
		__u32 pad = sc->win[0];
		sc->hb.p = 1;
		sc->hb.end = flen > pad ? flen - pad : 0;
	}
	if (flags & H2_PRIORITY)
		sc->hb.p += 5;
	if (!(flags & H2_END_HEADERS)) /* CONTINUATION frames follow, unread */
		h2_request_lost(sc);
	for (int w = 0; w < 4 && h2_request_fields(sc); w++) {
		sc->hb.base = sc->hb.p;
		sc->hb.n = l7_load(sc, at + sc->hb.p, DH_L7_WIN);
		sc->hb.loads++;
	}
}

/* A sample's request names, from its stream, as a header block of :method and :path (flag DH_L7_S_HPACK),
 * in s->text (zeroed by the caller). Returns 2 with a path, 1 with :method only, 0 with neither. */
static __always_inline int h2_sample_names(struct dh_l7_scratch *sc, struct dh_l7_sample *s)
{
	/* the key in the scratch: l7_sample's frame is in the deepest call chain, with no stack to spare */
	sc->h2_key.cookie = sc->cookie;
	sc->h2_key.sid = sc->s_id;
	sc->h2_key.pad = 0;
	struct dh_h2_stream *e = bpf_map_lookup_elem(&h2_streams, &sc->h2_key);
	if (!e)
		return 0;
	__u32 o = 0;
	if (e->method == H2_M_GET || e->method == H2_M_POST) {
		s->text[0] = e->method == H2_M_GET ? 0x82 : 0x83;
		o = 1;
	} else if (e->method == H2_M_LITERAL && e->mlen && e->mlen <= DH_L7_H2_METHOD) {
		s->text[0] = 0x02; /* a literal without indexing, named :method */
		s->text[1] = (e->mhuff ? 0x80 : 0) | e->mlen;
		__builtin_memcpy(&s->text[2], e->mbytes, DH_L7_H2_METHOD);
		o = 2 + e->mlen;
	}
	o &= 0xf; /* restated for the verifier: at most 2 + DH_L7_H2_METHOD */
	s->text_len = o;
	if (e->path_len && e->path_len <= DH_L7_H2_PATH) {
		s->text[o] = 0x04; /* a literal without indexing, named :path */
		s->text[o + 1] = (e->huff ? 0x80 : 0) | e->path_len;
		__builtin_memcpy(&s->text[o + 2], e->path, DH_L7_H2_PATH);
		s->text_len = o + 2 + e->path_len;
		return 2;
	}
	if (e->path_static) {
		s->text[o] = 0x80 | (e->path_static & 0x7f);
		s->text_len = o + 1;
		return 2;
	}
	return o ? 1 : 0;
}

/* The server's GOAWAY (its header and the payload's first 4 bytes loaded at the cursor): streams above its last stream id were
 * never processed, so a client retries them; they are not failures when the connection then ends. */
static __always_inline void h2_goaway(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	__u32 last = ((__u32)sc->win[9] << 24 | (__u32)sc->win[10] << 16 | (__u32)sc->win[11] << 8 | sc->win[12]) & 0x7fffffff;
	struct dh_h2_client *cl = h2_client_of(sc->cookie, 0);
	if (cl && (!cl->goaway || last + 1 < cl->goaway))
		cl->goaway = last + 1;
}

/* l7/capture.c */
static __always_inline void l7_no_response(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_req *r);

#define DH_H2_CLOSE_PROBES 64 /* stream ids looked up, newest first, for the streams in flight when a connection ends */

struct h2_close_walk {
	struct dh_l7_scratch *sc;
	struct dh_l7_sock *st;
	__u32 sid;      /* the client's newest stream */
	__u32 goaway;   /* dh_h2_client.goaway */
	__u32 lost_sid; /* dh_h2_client.lost_sid */
};

/* One stream id, k below the newest: a stream in flight fails, unless a GOAWAY said it was never processed
 * or its end may have been in bytes the parser lost (then it is unpaired, as before).
 * A bpf_loop callback, so the verifier walks it once, not once per id. */
static long h2_close_probe(__u32 k, void *ctx)
{
	struct h2_close_walk *w = ctx;
	struct dh_l7_scratch *sc = w->sc;
	struct dh_l7_sock *st = w->st;
	if (!sc || !st || !st->nreq || 2 * k >= w->sid)
		return 1;
	__u32 sid = w->sid - 2 * k;
	sc->h2_key.cookie = sc->cookie;
	sc->h2_key.sid = sid;
	sc->h2_key.pad = 0;
	struct dh_l7_req *e = bpf_map_lookup_elem(&h2_streams, &sc->h2_key);
	if (!e)
		return 0;
	if ((w->goaway && sid >= w->goaway) || sid <= w->lost_sid)
		st->counts.unpaired++;
	else
		l7_no_response(sc, st, e); /* samples it by its stream's names, so the entry goes after */
	h2_forget(sc, st, sid);
	return 0;
}

/* The connection ended with streams in flight (nreq of them) and the server's end closed first: each stream
 * found among the client's newest ids fails, unless a GOAWAY said the server never processed it; the rest
 * are unpaired. Entries found leave h2_streams. sc: tcp_destroy_sock's scratch, with cookie and now set. */
static __always_inline void h2_no_response(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	struct dh_h2_client *cl = h2_client_of(sc->cookie, 0);
	if (!cl)
		return;
	struct h2_close_walk w = {.sc = sc, .st = st, .sid = cl->last_sid, .goaway = cl->goaway, .lost_sid = cl->lost_sid};
	bpf_loop(DH_H2_CLOSE_PROBES, h2_close_probe, &w, 0);
}
