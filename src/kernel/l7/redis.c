/* Redis (RESP2/RESP3). A request is an array of bulk strings (or an inline
 * line); a reply is one top-level value, however nested (followed by a count
 * of values still to read, not a stack). Replies are paired
 * with requests in order, which is exact for pipelines as long as every
 * value's length prefix is followed. -ERR / !bulk-error replies are errors;
 * a simple error's prefix (WRONGTYPE, NOAUTH, ...) goes with its sample.
 *
 * Kernel subtlety: pub/sub. A (P|S)(UN)SUBSCRIBE naming N channels is answered
 * by N confirmations, arrays `*3 subscribe ch count` (RESP3: `>3 ...` pushes);
 * an UNSUBSCRIBE naming none by one per channel it drops (unknown here, at least
 * one). Published messages (`*3 message ch payload`, `*4 pmessage pat ch payload`,
 * `*3 smessage ...`) answer nothing. So each command counts once: its FIRST
 * confirmation of its own kind completes it (its latency runs to that one), the
 * N - 1 that follow are owed to it (dir[1].aux) and passed over, as is any other
 * confirmation that no command of its kind waits for (the rest of an
 * unsubscribe-all; the kind keeps them apart from a pipelined SUBSCRIBE behind
 * it). Messages are never replies, never unpaired. A RESP2 array is looked at
 * (its first element's name, within the first 32 bytes) only while the
 * connection is subscribed (dir[1].mode RD_S_CHANNELS / RD_S_SHARDS) or a
 * (un)subscribe waits, so no plain reply that happens to read "message" is taken
 * for a push; the mode follows the count every RESP2 confirmation ends with (0:
 * no subscriptions of that family left, so Redis left subscribe mode: channels
 * and patterns share one count, shard channels have their own, as in Redis 7)
 * and RESET's reply. In subscribe mode RESP2 answers PING with `*2 pong ""`, a
 * reply like any other. RESP3 `>` pushes are never replies, except these
 * confirmations. MONITOR's feed cannot be told from replies: the connection
 * stops being paired (DH_L7_F_STOPPED). Inline commands (`SUBSCRIBE ch` typed on
 * a terminal) are not looked at. */

enum { RD_START = 0, RD_ARGS = 1, RD_BULK_DONE = 2, RD_LINE_TAIL = 3 };
enum { RD_OK = 0, RD_ERR = 1, RD_NOREPLY = 2 }; /* dir.code of the top-level value */
/* Request meta (low 16 bits): the command's kind (RD_K_*) and, for the (un)subscribe kinds, the channels
 * it names (capped) << RD_M_NAMED; the same kinds name the confirmations. */
enum {
	RD_K_SUBSCRIBE = 1, RD_K_PSUBSCRIBE = 2, RD_K_SSUBSCRIBE = 3,
	RD_K_UNSUBSCRIBE = 4, RD_K_PUNSUBSCRIBE = 5, RD_K_SUNSUBSCRIBE = 6,
	RD_K_RESET = 7, RD_K_MONITOR = 8, RD_K_MESSAGE = 9, /* message, pmessage, smessage */
	RD_M_KIND = 0xf, RD_M_NAMED = 4, RD_M_NAMED_MAX = 0xfff,
};
/* dir[1].mode: RESP2 subscribe mode, by subscription family; the confirmation being read, whose count
 * decides its family's bit. */
enum { RD_S_CHANNELS = 1, RD_S_SHARDS = 2, RD_S_COUNT_CH = 4, RD_S_COUNT_SH = 8, RD_S_COUNT = 12 };

/* A command: `*<count>\r\n$<digit>`. The count may run to 6 digits: a first command of a pooled connection
 * can be a big MSET, DEL or ZADD, and a connection left unrecognised is never counted. */
static __always_inline int redis_classify(struct dh_l7_scratch *sc, __u32 n)
{
	__u8 *w = sc->win;
	if (n < 8 || w[0] != '*' || w[1] < '1' || w[1] > '9')
		return 0;
	__u32 p = 2;
	for (int k = 0; k < 5; k++) {
		if (w[p & 31] < '0' || w[p & 31] > '9')
			break;
		p++;
	}
	if (n < p + 4 || w[p & 31] != '\r' || w[(p + 1) & 31] != '\n' || w[(p + 2) & 31] != '$')
		return 0;
	__u8 d = w[(p + 3) & 31];
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

/* Which pub/sub word the len bytes at s name (any case): RD_K_*, or 0. */
__noinline int redis_word(struct dh_l7_scratch *sc, __u32 s, __u32 len)
{
	if (!sc || len < 5 || len > 12)
		return 0;
	__u8 c = l7_byte(sc, s) & ~0x20;
	int ps = c == 'P' ? 1 : c == 'S' ? 2 : 0; /* pattern or shard */
	if (len >= 9 && redis_upper_is(sc, s + len - 9, "SUBSCRIBE", 9)) {
		if (len == 9)
			return RD_K_SUBSCRIBE;
		if (len == 10)
			return ps ? RD_K_SUBSCRIBE + ps : 0;
		if (len == 11)
			return redis_upper_is(sc, s, "UN", 2) ? RD_K_UNSUBSCRIBE : 0;
		return ps && redis_upper_is(sc, s + 1, "UN", 2) ? RD_K_UNSUBSCRIBE + ps : 0;
	}
	if (len == 7 || len == 8) {
		if (redis_upper_is(sc, s + len - 7, "MESSAGE", 7))
			return len == 7 || ps ? RD_K_MESSAGE : 0;
		return len == 7 && redis_upper_is(sc, s, "MONITOR", 7) ? RD_K_MONITOR : 0;
	}
	return len == 5 && redis_upper_is(sc, s, "RESET", 5) ? RD_K_RESET : 0;
}

/* The name of the bulk string at a (a command's, or a push's first element): its kind, 0 when it is
 * none of them, or -1 when the loaded n bytes end before it and more may come. */
static __always_inline int redis_name_at(struct dh_l7_scratch *sc, __u32 n, __u32 a)
{
	if (l7_byte(sc, a) != '$')
		return a < n ? 0 : -1;
	__u32 len, s;
	__u8 d1 = l7_byte(sc, a + 1) - '0', d2 = l7_byte(sc, a + 2);
	if (d2 == '\r') {
		len = d1;
		s = a + 4;
	} else if (l7_byte(sc, a + 3) == '\r') {
		len = d1 * 10 + (__u8)(d2 - '0');
		s = a + 5;
	} else {
		return a + 4 < n ? 0 : -1;
	}
	if (len < 5 || len > 12)
		return 0;
	if (s + len > n)
		return -1;
	return redis_word(sc, s, len);
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
		__u32 k = h ? h->meta & RD_M_KIND : 0;
		if (k == RD_K_MONITOR)
			st->flags |= DH_L7_F_STOPPED;
		else if (k == RD_K_RESET) /* out of subscribe mode, nothing owed */
			d->mode = d->aux = 0;
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
	l7_tally(st, (__u64)r->nest[1] * 1000, r->code == RD_ERR ? DH_L7_C_ERROR : DH_L7_C_OK, 1);
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
		/* The command name follows: pub/sub commands, RESET and MONITOR are marked for their replies. */
		int k = redis_name_at(sc, n, h);
		if (k < 0)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		__u32 meta = 0;
		if (k && k <= RD_K_SUNSUBSCRIBE)
			meta = k | (v - 1 > RD_M_NAMED_MAX ? RD_M_NAMED_MAX : v - 1) << RD_M_NAMED;
		else if (k == RD_K_RESET || k == RD_K_MONITOR)
			meta = k;
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
		if (d->mode & RD_S_COUNT)
			d->mode &= ~RD_S_COUNT;
		struct dh_l7_req *h = t == '-' ? l7_head(st) : 0;
		if (h)
			h->detail = redis_err_code(sc, n);
	}
	switch (t) {
	case '+': case '-': case ':': case '_': case ',': case '#': case '(':
		if (top)
			d->nest[0] = 1;
		else if (t == ':' && (d->mode & RD_S_COUNT)) { /* a RESP2 confirmation's count: its family is subscribed or not */
			__u8 bit = d->mode & RD_S_COUNT_CH ? RD_S_CHANNELS : RD_S_SHARDS;
			d->mode &= ~RD_S_COUNT;
			if (sc->win[1] == '0' && sc->win[2] == '\r')
				d->mode &= ~bit;
			else
				d->mode |= bit;
		}
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
		if (top && (t == '>' || (t == '*' && (v == 3 || v == 4)))) {
			struct dh_l7_req *q = l7_head(st);
			__u32 want = q ? q->meta & RD_M_KIND : 0;
			if (want > RD_K_SUNSUBSCRIBE)
				want = 0;
			if (t == '>' || want || (d->mode & (RD_S_CHANNELS | RD_S_SHARDS))) {
				int k = redis_name_at(sc, n, h);
				if (k < 0)
					return l7_at_end(sc, n) ? DH_L7_MORE : -1;
				if (k == RD_K_MESSAGE) {
					d->code = RD_NOREPLY;
				} else if (k && k <= RD_K_SUNSUBSCRIBE) { /* a confirmation: the first of its command's */
					if (d->aux) {
						d->aux--;
						d->code = RD_NOREPLY;
					} else if (q && k == want) {
						__u32 named = q->meta >> RD_M_NAMED & RD_M_NAMED_MAX;
						d->code = RD_OK;
						d->aux = named > 1 ? named - 1 : 0;
					} else {
						d->code = RD_NOREPLY;
					}
					if (t == '*')
						d->mode |= k == RD_K_SSUBSCRIBE || k == RD_K_SUNSUBSCRIBE ? RD_S_COUNT_SH : RD_S_COUNT_CH;
				}
			}
		}
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
