/* PostgreSQL wire protocol v3. Every message after the startup one is
 * [type:1][length:4, counting itself][payload], so both directions are
 * followed exactly by length. A request is a simple Query ('Q'), a function
 * call ('F'), or an extended-query batch (Parse/Bind/Describe/Execute/...
 * up to Sync); it ends at ReadyForQuery ('Z'), and an ErrorResponse ('E')
 * on the way makes it a failure. Pipelined batches pair in order.
 *
 * The startup message is the connection's setup, not a request: it is held in
 * the FIFO (DH_L7_M_SETUP, its bytes kept as the request text) until the
 * server answers it. The first ReadyForQuery drops it uncounted; an
 * ErrorResponse before that (the server refuses: no such database, wrong
 * password, pg_hba.conf, too many connections, always FATAL, the server then
 * closes) counts it as one failed request with its SQLSTATE. A startup the
 * client gives up on (asked for a password it has not) is neither. It is not
 * a request started (st->seq): a connection that only set up, or was refused,
 * ends as before (DH_F_L7_ANSWERED, l7/peer.c).
 *
 * Kernel subtlety: the startup message and SSLRequest have no type byte; the
 * server's answer to SSLRequest is a single unframed byte ('S' then TLS, or
 * 'N'). */

enum { PG_TYPED = 0, PG_STARTUP = 1, PG_SSL_REPLY = 2 };
enum { PG_BATCH = 1 };     /* dir.aux (requests): an extended batch is open */
enum { PG_M_ERROR = 1 << 16 };   /* request meta (response part): an ErrorResponse came */
#define PG_M_STARTUP DH_L7_M_SETUP /* request meta: the startup message */

#define PG_SSL_REQUEST 80877103
#define PG_GSS_REQUEST 80877104
#define PG_PROTO_3 196608

static __always_inline __u32 pg_be32(struct dh_l7_scratch *sc, __u32 at)
{
	return (__u32)l7_byte(sc, at) << 24 | (__u32)l7_byte(sc, at + 1) << 16 | (__u32)l7_byte(sc, at + 2) << 8 |
	       l7_byte(sc, at + 3);
}

/* A startup message, SSLRequest or GSSENCRequest (2); or, mid-connection, one whole simple Query (1). */
static __always_inline int pg_classify(struct dh_l7_scratch *sc, __u32 n)
{
	if (n < 8)
		return 0;
	__u32 len = pg_be32(sc, 0), code = pg_be32(sc, 4);
	if (len >= 8 && len <= 10000 && (code == PG_PROTO_3 || code == PG_SSL_REQUEST || code == PG_GSS_REQUEST))
		return 2;
	len = pg_be32(sc, 1);
	if (sc->win[0] == 'Q' && len + 1 == sc->total && len > 5) {
		__u8 last = 0;
		if (!bpf_probe_read_user(&last, 1, (void *)(sc->base[0] + len)) && last == 0 && sc->nseg == 1)
			return 1;
	}
	return 0;
}

static __always_inline int pg_request(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	__u32 n = l7_load(sc, sc->cur, 8);
	if (d->state == PG_STARTUP) {
		if (n < 8)
			return l7_at_end(sc, n) ? DH_L7_MORE : -1;
		__u32 len = pg_be32(sc, 0), code = pg_be32(sc, 4);
		if (len < 8 || len > 10000)
			return -1;
		if (code == PG_SSL_REQUEST || code == PG_GSS_REQUEST) {
			st->dir[1].state = PG_SSL_REPLY; /* the startup message comes next, maybe inside TLS */
		} else {
			d->state = PG_TYPED;
			if (code == PG_PROTO_3) {
				l7_push(sc, st, PG_M_STARTUP, 0);
				st->seq--; /* requests started: the setup is none (see the top) */
			}
		}
		sc->cur += 8;
		d->skip = len - 8;
		return 0;
	}
	if (n < 5)
		return l7_at_end(sc, n) ? DH_L7_MORE : -1;
	__u8 t = sc->win[0];
	__u32 len = pg_be32(sc, 1);
	if (len < 4 || len > (1 << 30))
		return -1;
	switch (t) {
	case 'Q':
	case 'F':
		l7_push(sc, st, 0, 0);
		break;
	case 'P': case 'B': case 'D': case 'E': case 'C': case 'H':
		if (!(d->aux & PG_BATCH)) {
			l7_push(sc, st, 0, 0);
			d->aux |= PG_BATCH;
		}
		break;
	case 'S':
		if (!(d->aux & PG_BATCH))
			l7_push(sc, st, 0, 0);
		d->aux &= ~PG_BATCH;
		break;
	case 'X': case 'p': case 'd': case 'c': case 'f':
		break;
	default:
		return -1;
	}
	sc->cur += 5;
	d->skip = len - 4;
	return 0;
}

/* The SQLSTATE of an ErrorResponse whose fields start at off: fields are a type byte and a NUL-ended
 * string, the code's type is 'C' (after severity, usually within the first 32 bytes). Five characters
 * of [0-9A-Z] packed 6 bits each, with DH_PG_SQLSTATE set; 0 if not within the first 64 bytes. */
#define DH_PG_SQLSTATE 0x80000000u
static __always_inline __u32 pg_sqlstate(struct dh_l7_scratch *sc, __u32 off)
{
	__u32 n = l7_load(sc, off, 64);
	int start = 1;
	for (int i = 0; i < 58; i++) {
		if (i >= n)
			break;
		__u8 b = sc->win[i];
		if (!start) {
			start = b == 0;
			continue;
		}
		if (b == 0)
			break;
		if (b != 'C') {
			start = 0;
			continue;
		}
		if (i + 6 > n)
			break;
		__u32 v = 0;
		for (int k = 1; k <= 5; k++) {
			__u8 c = sc->win[(i + k) & 63];
			__u32 d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 64;
			if (d == 64)
				return 0;
			v = v << 6 | d;
		}
		return v | DH_PG_SQLSTATE;
	}
	return 0;
}

static __always_inline int pg_reply(struct dh_l7_scratch *sc, struct dh_l7_sock *st, struct dh_l7_dir *d)
{
	__u32 n = l7_load(sc, sc->cur, 8);
	if (d->state == PG_SSL_REPLY) {
		d->state = PG_TYPED;
		sc->cur += 1;
		if (sc->win[0] == 'S' || sc->win[0] == 'G') {
			st->flags |= DH_L7_F_TLS; /* the rest is ciphertext; plaintext comes from the TLS uprobes */
			return 1;
		}
		return sc->win[0] == 'N' ? 0 : -1;
	}
	if (n < 5)
		return l7_at_end(sc, n) ? DH_L7_MORE : -1;
	__u8 t = sc->win[0];
	__u32 len = pg_be32(sc, 1);
	if (len < 4 || len > (1 << 30) || t < '1' || t > 'z')
		return -1;
	struct dh_l7_req *h = l7_head(st);
	if (t == 'E' && h) {
		h->meta |= PG_M_ERROR;
		if (!h->detail) /* the first error of the request names it */
			h->detail = pg_sqlstate(sc, sc->cur + 5);
		if (h->meta & PG_M_STARTUP) /* refused: no ReadyForQuery follows */
			l7_pop(sc, st, DH_L7_C_ERROR, h->detail ? h->detail : 1);
	} else if (t == 'Z' && h && (h->meta & PG_M_STARTUP)) {
		l7_drop(st); /* the connection is set up */
	} else if (t == 'Z' && h) {
		int err = h->meta & PG_M_ERROR;
		l7_pop(sc, st, err ? DH_L7_C_ERROR : DH_L7_C_OK, err ? (h->detail ? h->detail : 1) : 0);
	}
	sc->cur += 5;
	d->skip = len - 4;
	return 0;
}

__noinline int pg_step(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	return sc->dir == 0 ? pg_request(sc, st, d) : pg_reply(sc, st, d);
}
