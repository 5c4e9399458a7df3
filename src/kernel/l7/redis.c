/* Redis (RESP2/RESP3). A request is an array of bulk strings (or an inline
 * line); a reply is one top-level value, however nested. Replies are paired
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

/* A value ended at the current nesting level: climb, and pair a finished top-level reply. */
static __always_inline void redis_value_done(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	for (int k = 0; k < 5; k++) {
		if (!d->depth) {
			if (d->code != RD_NOREPLY) {
				struct dh_l7_req *h = l7_head(st);
				if (h && (h->meta & RD_M_PUSH))
					st->flags |= DH_L7_F_STOPPED;
				l7_pop(sc, st, d->code == RD_ERR ? DH_L7_C_ERROR : DH_L7_C_OK,
				       d->code != RD_ERR ? 0 : h && h->detail ? h->detail : 1);
			}
			return;
		}
		__u32 lvl = (d->depth - 1) & 3;
		if (d->nest[lvl] > 1) {
			d->nest[lvl]--;
			return;
		}
		d->nest[lvl] = 0;
		d->depth--;
	}
}

static __always_inline int redis_request(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
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
	if (d->state == RD_BULK_DONE) {
		d->state = RD_START;
		redis_value_done(sc, st, d);
		return 0;
	}
	if (d->state == RD_LINE_TAIL)
		return redis_line_tail(sc, st, d, 0);
	__u32 n = l7_load(sc, sc->cur, 32);
	__u8 t = sc->win[0];
	__s64 v = 0;
	if (!d->depth) {
		d->code = (t == '-' || t == '!') ? RD_ERR : (t == '>' || t == '|') ? RD_NOREPLY : RD_OK;
		struct dh_l7_req *h = t == '-' ? l7_head(st) : 0;
		if (h)
			h->detail = redis_err_code(sc, n);
	}
	switch (t) {
	case '+': case '-': case ':': case '_': case ',': case '#': case '(':
		return redis_line_tail(sc, st, d, 1);
	case '$': case '!': case '=': {
		int h = redis_int(sc, n, &v);
		if (h < 0)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		sc->cur += h;
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
		if (t == '%' || t == '|')
			v *= 2;
		if (v <= 0) {
			redis_value_done(sc, st, d);
			return 0;
		}
		if (d->depth >= 4)
			return -1;
		d->nest[d->depth & 3] = v;
		d->depth++;
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
	return sc->dir == 0 ? redis_request(sc, st, d) : redis_reply(sc, st, d);
}
