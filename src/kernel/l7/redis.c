/* Redis (RESP2/RESP3). A request is an array of bulk strings (or an inline
 * line); a reply is one top-level value, however nested (followed by a count
 * of values still to read, not a stack). Replies are paired
 * with requests in order, which is exact for pipelines as long as every
 * value's length prefix is followed. -ERR / !bulk-error replies are errors;
 * a simple error's prefix (WRONGTYPE, NOAUTH, ...) goes with its sample.
 *
 * Kernel subtlety: after SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE or MONITOR the server
 * pushes values no request asked for; the connection stops being paired
 * (DH_L7_F_STOPPED) instead of mis-pairing. RESP3 out-of-band pushes (">")
 * are never taken as replies. */

enum { RD_START = 0, RD_ARGS = 1, RD_BULK_DONE = 2, RD_LINE_TAIL = 3 };
enum { RD_M_PUSH = 1 };         /* request meta: the reply switches to push mode */
enum { RD_OK = 0, RD_ERR = 1, RD_NOREPLY = 2 }; /* dir.code of the top-level value */

static __always_inline int redis_classify(struct dh_l7_scratch *sc, __u32 n)
{
	__u8 *w = sc->win;
	if (n < 8 || w[0] != '*' || w[1] < '1' || w[1] > '9')
		return 0;
	int p = w[2] == '\r' ? 2 : (w[2] >= '0' && w[2] <= '9' && w[3] == '\r') ? 3 : 0;
	if (!p || w[(p + 1) & 7] != '\n' || w[(p + 2) & 7] != '$')
		return 0;
	__u8 d = w[(p + 3) & 15];
	return d >= '0' && d <= '9';
}

/* Reads "<int>\r\n" after the type byte at the window start. Returns the header length, or -1. */
static __always_inline int redis_int(struct dh_l7_scratch *sc, __u32 n, __s64 *out)
{
	__s64 v = 0;
	int neg = 0, i = 1;
	if (sc->win[1] == '-') {
		neg = 1;
		i = 2;
	}
	int digits = 0;
	for (int k = 0; k < 20; k++) {
		__u8 b = l7_byte(sc, i);
		if (b < '0' || b > '9')
			break;
		v = v * 10 + (b - '0');
		i++;
		digits++;
	}
	if (!digits || i + 1 >= n || l7_byte(sc, i) != '\r' || l7_byte(sc, i + 1) != '\n')
		return -1;
	*out = neg ? -v : v;
	return i + 2;
}

static __always_inline int redis_upper_is(struct dh_l7_scratch *sc, __u32 at, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if ((l7_byte(sc, at + i) & ~0x20) != s[i])
			return 0;
	return 1;
}

/* An error reply's prefix ("-WRONGTYPE Operation ..."): its first six capital
 * letters, 5 bits each (A = 1, 0 ends it), with DH_RD_ERRCODE set and
 * DH_RD_ERRLONG when more letters follow; 0 when the line starts with none.
 * User space (l7/protocols/redis.ts) names the prefix. */
#define DH_RD_ERRCODE 0x80000000u
#define DH_RD_ERRLONG 0x40000000u
static __always_inline __u32 redis_err_code(struct dh_l7_scratch *sc, __u32 n)
{
	__u32 v = 0;
	int k;
	for (k = 0; k < 6; k++) {
		if (k + 1 >= n)
			break;
		__u8 c = sc->win[(k + 1) & 31];
		if (c < 'A' || c > 'Z')
			break;
		v |= (__u32)(c - 'A' + 1) << (25 - 5 * k);
	}
	if (k == 6 && n > 7 && sc->win[7] >= 'A' && sc->win[7] <= 'Z')
		v |= DH_RD_ERRLONG;
	return k ? v | DH_RD_ERRCODE : 0;
}

/* One value of the reply is read: the reply is done when none is left to read
 * (d->nest[0]: values still to come, an aggregate's header adding its elements),
 * so no stack is kept and any depth is followed (XREAD, COMMAND DOCS). */
static __always_inline void redis_value_done(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	if (d->nest[0] > 1) {
		d->nest[0]--;
		return;
	}
	d->nest[0] = 0;
	if (d->code != RD_NOREPLY) {
		struct dh_l7_req *h = l7_head(st);
		if (h && (h->meta & RD_M_PUSH))
			st->flags |= DH_L7_F_STOPPED;
		l7_pop(sc, st, d->code == RD_ERR ? DH_L7_C_ERROR : DH_L7_C_OK,
		       d->code != RD_ERR ? 0 : h && h->detail ? h->detail : 1);
	}
}

/* A reply with more values than one pass walks (KEYS, a big LRANGE or HGETALL, COMMAND DOCS) is not
 * walked further when it is the only request in flight: its client waits for all of it before it sends
 * again, so it ends with the last reply bytes before the client's next request, or at the close. The
 * reply's own status was read from its first header; its latency runs to its last bytes seen, kept in
 * d->nest[1] (microseconds after the request). A request with more arguments than a pass walks (RPUSH
 * of thousands) ends where its reply starts, the server answering only a whole command. Pipelined
 * requests still lose their framing, as before. */
static __always_inline __u32 redis_long_us(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	struct dh_l7_req *h = l7_head(st);
	__u64 lat = h && sc->now > h->start_ns ? (sc->now - h->start_ns) / 1000 : 0;
	return lat > 0xffffffffULL ? 0xffffffff : lat;
}

static __always_inline int redis_long_reply(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	if (st->proto != DH_L7_REDIS || st->nreq != 1)
		return 0;
	if (sc->dir == 0 ? d->state != RD_ARGS : !d->nest[0] || d->code == RD_NOREPLY)
		return 0;
	d->flags |= DH_L7_D_LONG;
	d->skip = 0;
	if (sc->dir == 1)
		d->nest[1] = redis_long_us(sc, st);
	sc->cur = sc->total;
	l7_loss(DH_L7_TALLY_LONG_REPLY);
	return 1;
}

/* The reply starts: the long request before it is whole. */
static __always_inline void redis_long_request_done(struct dh_l7_sock *st)
{
	struct dh_l7_dir *q = &st->dir[0];
	q->flags &= ~DH_L7_D_LONG;
	q->state = RD_START;
	q->aux = 0;
	q->skip = 0;
	q->carry_len = 0;
}

/* The client sends again: the long reply ended with its last bytes. */
static __always_inline void redis_long_done(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	struct dh_l7_dir *r = &st->dir[1];
	struct dh_l7_req *h = l7_head(st);
	__u64 now = sc->now;
	if (h)
		sc->now = h->start_ns + (__u64)r->nest[1] * 1000;
	r->nest[0] = 0;
	redis_value_done(sc, st, r);
	sc->now = now;
	r->flags &= ~DH_L7_D_LONG;
	r->state = RD_START;
	r->skip = 0;
	r->carry_len = 0;
	r->nest[1] = 0;
}

/* The socket closes with a long reply under way: it ended with its last bytes (no sample: no scratch here). */
static __always_inline void redis_long_close(struct dh_l7_sock *st)
{
	struct dh_l7_dir *r = &st->dir[1];
	if (st->proto != DH_L7_REDIS || !(r->flags & DH_L7_D_LONG) || st->nreq != 1)
		return;
	l7_tally(st, (__u64)r->nest[1] * 1000, r->code == RD_ERR ? DH_L7_C_ERROR : DH_L7_C_OK);
	struct dh_l7_req *h = l7_head(st);
	if (h)
		h->start_ns = 0;
	st->nreq = 0;
}

static __always_inline int redis_request(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	if (st->dir[1].flags & DH_L7_D_LONG)
		redis_long_done(sc, st);
	__u32 n = l7_load(sc, sc->cur, 64);
	__s64 v = 0;
	if (d->state == RD_ARGS) {
		if (n && sc->win[0] != '$')
			return -1;
		int h = redis_int(sc, n, &v);
		if (h < 0)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		if (v < 0)
			return -1;
		sc->cur += h;
		d->skip = v + 2;
		if (--d->aux == 0)
			d->state = RD_START;
		return 0;
	}
	__u8 c = sc->win[0];
	if (c == '*') {
		int h = redis_int(sc, n, &v);
		if (h < 0)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		if (v <= 0 || v > (1 << 20))
			return -1;
		/* The command name follows: "$9\r\nSUBSCRIBE\r\n" and kin switch to push mode. */
		__u32 a = h, meta = 0;
		if (l7_byte(sc, a) == '$' && l7_byte(sc, a + 2) == '\r') {
			__u32 len = l7_byte(sc, a + 1) - '0', s = a + 4;
			if ((len == 9 && redis_upper_is(sc, s, "SUBSCRIBE", 9)) || (len == 7 && redis_upper_is(sc, s, "MONITOR", 7)))
				meta = RD_M_PUSH;
		} else if (l7_byte(sc, a) == '$' && l7_byte(sc, a + 1) == '1' && l7_byte(sc, a + 2) == '0' &&
			   (redis_upper_is(sc, a + 5, "PSUBSCRIBE", 10) || redis_upper_is(sc, a + 5, "SSUBSCRIBE", 10))) {
			meta = RD_M_PUSH;
		}
		l7_push(sc, st, meta, 0);
		sc->cur += h;
		d->aux = v;
		d->state = RD_ARGS;
		return 0;
	}
	if (c == '\r' || c == '\n') { /* an empty inline line: the server ignores it, no reply */
		sc->cur += (c == '\r' && sc->win[1] == '\n') ? 2 : 1;
		return 0;
	}
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') { /* inline command: one line */
		for (int i = 0; i < 64; i++) {
			if (i >= n)
				break;
			if (sc->win[i] == '\n') {
				l7_push(sc, st, 0, 0);
				sc->cur += i + 1;
				return 0;
			}
		}
		if (l7_at_end(sc, n))
			return DH_L7_MORE;
	}
	return -1;
}

static __always_inline int redis_line_tail(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d, __u32 from)
{
	__u32 n = l7_load(sc, sc->cur, DH_L7_WIN);
	for (__u32 i = 0; i < DH_L7_WIN; i++) {
		if (i >= n)
			break;
		if (i >= from && sc->win[i] == '\n') {
			sc->cur += i + 1;
			d->state = RD_START;
			redis_value_done(sc, st, d);
			return 0;
		}
	}
	sc->cur += n;
	d->state = RD_LINE_TAIL;
	return sc->cur >= sc->total;
}

static __always_inline int redis_reply(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	if (st->dir[0].flags & DH_L7_D_LONG)
		redis_long_request_done(st);
	if (d->state == RD_BULK_DONE) { /* the payload was passed over: the value is done, and the next header is read in the same step */
		d->state = RD_START;
		redis_value_done(sc, st, d);
		if (sc->cur >= sc->total || (st->flags & DH_L7_F_STOPPED))
			return 0;
	}
	if (d->state == RD_LINE_TAIL)
		return redis_line_tail(sc, st, d, 0);
	__u32 n = l7_load(sc, sc->cur, 32);
	__u8 t = sc->win[0];
	__s64 v = 0;
	int top = !d->nest[0]; /* a reply starts: its first header decides its status */
	if (top) {
		d->code = (t == '-' || t == '!') ? RD_ERR : (t == '>' || t == '|') ? RD_NOREPLY : RD_OK;
		struct dh_l7_req *h = t == '-' ? l7_head(st) : 0;
		if (h)
			h->detail = redis_err_code(sc, n);
	}
	switch (t) {
	case '+': case '-': case ':': case '_': case ',': case '#': case '(':
		if (top)
			d->nest[0] = 1;
		return redis_line_tail(sc, st, d, 1);
	case '$': case '!': case '=': {
		int h = redis_int(sc, n, &v);
		if (h < 0)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		sc->cur += h;
		if (top)
			d->nest[0] = 1;
		if (v < 0) {
			redis_value_done(sc, st, d);
			return 0;
		}
		d->skip = v + 2;
		d->state = RD_BULK_DONE;
		return 0;
	}
	case '*': case '~': case '>': case '%': case '|': {
		int h = redis_int(sc, n, &v);
		if (h < 0)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		sc->cur += h;
		if (v > (1 << 30))
			return -1;
		if (t == '%' || t == '|')
			v *= 2;
		if (t == '|' && !top) { /* an attribute inside a reply: its pairs come first, the value it describes keeps its place */
			d->nest[0] += v > 0 ? v : 0;
			return 0;
		}
		if (top)
			d->nest[0] = 1;
		if (v <= 0) {
			redis_value_done(sc, st, d);
			return 0;
		}
		__u64 left = (__u64)d->nest[0] - 1 + v; /* the aggregate's place goes to its elements */
		if (left > 0xffffffffULL)
			return -1;
		d->nest[0] = left;
		return 0;
	}
	}
	return -1;
}

__noinline int redis_step(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	if (d->flags & DH_L7_D_LONG) { /* more of a long request or reply: only a reply's time is kept */
		if (sc->dir == 1)
			d->nest[1] = redis_long_us(sc, st);
		sc->cur = sc->total;
		return 1;
	}
	return sc->dir == 0 ? redis_request(sc, st, d) : redis_reply(sc, st, d);
}
