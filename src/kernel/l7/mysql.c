/* MySQL / MariaDB client protocol. Packets are [length:3 LE][sequence:1]
 * [payload], followed by length in both directions. A command is a packet
 * with sequence 0 from the client; its response starts with the server's
 * packet of sequence 1: ERR (0xff) is a failure, anything else (OK, a result
 * set's column count, EOF) a success. The protocol has no pipelining, so one
 * command is in flight; latency runs to the first response packet. A client
 * reads the whole response before it sends its next command, so the next
 * response starts at the first server read after that command: once a
 * response is paired the rest (a result set's rows, thousands of packets) is
 * passed over without framing it, and a lost framing cannot outlive it. LOCAL
 * INFILE's file request (0xfb) is not the end: the client sends the file and
 * the server's OK or ERR after it is. A client that asks for the compressed
 * protocol in its login (CLIENT_COMPRESS) wraps every packet after it in a
 * compression header: the connection is no longer parsed (DH_L7_F_STOPPED)
 * rather than misread.
 *
 * Kernel subtlety: the server speaks first (greeting, sequence 0, protocol
 * 10); that and the authentication exchange (sequence >= 1 from the client)
 * are not commands. COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA get
 * no response and are not counted. */

#define MY_COM_QUIT 0x01
#define MY_COM_STMT_SEND_LONG_DATA 0x18
#define MY_COM_STMT_CLOSE 0x19
#define MY_LOCAL_INFILE 0xfb /* first byte of the response packet that asks for a LOAD DATA LOCAL file */

enum { MY_CMD = 1, MY_LOGIN = 2 }; /* requests: a command's or the login's header was read alone */
#define MY_CLIENT_COMPRESS 0x20 /* capability flag of the client's login (and SSLRequest) */

/* The client's login (sequence 1), its capability flags at w: compression stops the parsing. */
static __always_inline void my_login(struct dh_l7_sock *st, const __u8 *w)
{
	if (w[0] & MY_CLIENT_COMPRESS)
		st->flags |= DH_L7_F_STOPPED;
}

static __always_inline int my_is_command(__u8 c)
{
	return c != MY_COM_QUIT && c != MY_COM_STMT_CLOSE && c != MY_COM_STMT_SEND_LONG_DATA && c < 0x20;
}

/* The server greeting (sent by the server) or, mid-connection, a whole COM_QUERY. */
static __always_inline int my_classify(struct dh_l7_scratch *sc, __u32 n)
{
	__u8 *w = sc->win;
	__u32 len = w[0] | (__u32)w[1] << 8 | (__u32)w[2] << 16;
	if (n < 8 || len + 4 != sc->total)
		return 0;
	if (w[3] == 0 && w[4] == 10 && w[5] >= '1' && w[5] <= '9') /* greeting: "5.7.x", "10.11.x-MariaDB" */
		return DH_L7_FIRST_REPLY;
	if (w[3] == 0 && w[4] == 3 && len > 6)
		return DH_L7_FIRST_REQUEST;
	return 0;
}

__noinline int my_step(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	__u32 n = l7_load(sc, sc->cur, 8);
	if (sc->dir == 1 && !st->nreq) { /* no command waits: the rest of a paired response, a greeting, the login */
		d->skip = 0;
		sc->cur = sc->total;
		return 1;
	}
	if (n < 1 || (n < 4 && !d->state))
		return l7_at_end(sc, n) ? DH_L7_MORE : -1;
	__u8 *w = sc->win;
	if (w[0] == 0x16 && w[1] == 0x03 && w[2] <= 0x04) { /* TLS after the client's SSLRequest */
		st->flags |= DH_L7_F_TLS;
		return 1;
	}
	if (d->state == MY_CMD || d->state == MY_LOGIN) { /* the payload of a packet whose header came alone */
		if (d->state == MY_LOGIN)
			my_login(st, w);
		else if (my_is_command(w[0]))
			l7_push(sc, st, w[0], 0);
		d->state = 0;
		d->skip = d->aux;
		return 0;
	}
	__u32 len = w[0] | (__u32)w[1] << 8 | (__u32)w[2] << 16;
	__u8 seq = w[3], first = n > 4 ? w[4] : 0;
	if (sc->dir == 1) { /* the response's first packet pairs the command; the rest of the read is passed over */
		if (!(n > 4 && first == MY_LOCAL_INFILE)) {
			int err = n > 4 && first == 0xff;
			__u32 code = err && n >= 7 ? (w[5] | (__u32)w[6] << 8) : 0;
			l7_pop(sc, st, err ? DH_L7_C_ERROR : DH_L7_C_OK, code);
		}
		d->skip = 0;
		sc->cur = sc->total;
		return 1;
	}
	int login = seq == 1 && !st->seq; /* before any command: a 16 MB command's next packet has sequence 1 too */
	if (sc->dir == 0 && (seq == 0 || login) && n == 4 && len) {
		/* servers read the 4-byte header first, then the payload: decide at the payload */
		d->state = login ? MY_LOGIN : MY_CMD;
		d->aux = len;
		sc->cur += 4;
		return 0;
	}
	if (sc->dir == 0 && login && len >= 4 && n >= 8)
		my_login(st, w + 4);
	if (sc->dir == 0 && seq == 0 && len >= 1 && my_is_command(first))
		l7_push(sc, st, first, 0);
	sc->cur += 4;
	d->skip = len;
	return 0;
}
