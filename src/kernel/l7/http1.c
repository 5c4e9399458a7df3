/* HTTP/1.x framing: request line or status line, headers up to the blank
 * line, then a body given by Content-Length or chunked encoding. Following
 * the framing (not syscall boundaries) is what pairs pipelined requests and
 * keeps bodies that look like requests from counting. Latency runs from the
 * request's first byte to the response's headers (time to first byte).
 *
 * Kernel subtlety: headers are scanned in windows of DH_L7_WIN bytes that
 * always start at a line start; a header line split across two syscalls is
 * skipped (its Content-Length would be lost, so the framing could slip: the
 * next message that does not start as expected resyncs and is counted). */

enum { H1_START = 0, H1_HEADERS = 1, H1_CHUNK = 2, H1_TRAILERS = 3, H1_UNTIL_CLOSE = 4 };
enum { H1_HAS_CL = 1, H1_CHUNKED = 2 };      /* dir.aux while reading headers */
enum { H1_M_HEAD = 1, H1_M_CONNECT = 2 };    /* request meta */

/* Returns the request meta (its method, HEAD and CONNECT bits) | 0x80 if the window starts with a request line, else 0. */
static __always_inline __u32 h1_method(struct dh_l7_scratch *sc)
{
	__u8 *w = sc->win;
	__u32 m = 0, len = 0, code = 0;
	switch (w[0]) {
	case 'G':
		if (w[1] == 'E' && w[2] == 'T') {
			len = 3;
			code = DH_L7_H1_GET;
		}
		break;
	case 'P':
		if (w[1] == 'O' && w[2] == 'S' && w[3] == 'T') {
			len = 4;
			code = DH_L7_H1_POST;
		} else if (w[1] == 'U' && w[2] == 'T') {
			len = 3;
			code = DH_L7_H1_PUT;
		} else if (w[1] == 'A' && w[2] == 'T' && w[3] == 'C' && w[4] == 'H') {
			len = 5;
			code = DH_L7_H1_PATCH;
		}
		break;
	case 'H':
		if (w[1] == 'E' && w[2] == 'A' && w[3] == 'D') {
			len = 4;
			m = H1_M_HEAD;
			code = DH_L7_H1_HEAD;
		}
		break;
	case 'D':
		if (w[1] == 'E' && w[2] == 'L' && w[3] == 'E' && w[4] == 'T' && w[5] == 'E') {
			len = 6;
			code = DH_L7_H1_DELETE;
		}
		break;
	case 'O':
		if (w[1] == 'P' && w[2] == 'T' && w[3] == 'I' && w[4] == 'O' && w[5] == 'N' && w[6] == 'S') {
			len = 7;
			code = DH_L7_H1_OPTIONS;
		}
		break;
	case 'C':
		if (w[1] == 'O' && w[2] == 'N' && w[3] == 'N' && w[4] == 'E' && w[5] == 'C' && w[6] == 'T') {
			len = 7;
			m = H1_M_CONNECT;
			code = DH_L7_H1_CONNECT;
		}
		break;
	case 'T':
		if (w[1] == 'R' && w[2] == 'A' && w[3] == 'C' && w[4] == 'E') {
			len = 5;
			code = DH_L7_H1_TRACE;
		}
		break;
	}
	if (!len || w[len & 7] != ' ')
		return 0;
	__u8 t = w[(len + 1) & 15];
	if (t != '/' && t != '*' && !(t >= 'a' && t <= 'z') && !(t >= 'A' && t <= 'Z') && !(t >= '0' && t <= '9'))
		return 0;
	return m | code << DH_L7_H1_METHOD_SHIFT | 0x80;
}

_Static_assert((DH_L7_H1_TRACE << DH_L7_H1_METHOD_SHIFT | H1_M_HEAD | H1_M_CONNECT) < 0x80, "the method bits fit the request meta under 0x80");

static __always_inline int h1_name_is(struct dh_l7_scratch *sc, __u32 at, const char *name, int n)
{
	for (int i = 0; i < n; i++)
		if ((l7_byte(sc, at + i) | 0x20) != name[i])
			return 0;
	return 1;
}

/* Newlines eight bytes at a time: bit 7 of each byte of the word at i that is '\n'
 * (and maybe of a 0x0b just after one: the lowest flag is always a true '\n'). */
static __always_inline __u64 h1_newlines(struct dh_l7_scratch *sc, __u32 i)
{
	__u64 y = l7_u64(sc, i) ^ 0x0a0a0a0a0a0a0a0aULL;
	return (y - 0x0101010101010101ULL) & ~y & 0x8080808080808080ULL;
}

/* The byte index in its word of flag `low` (one bit 8j+7): (low >> 7) * that constant has j in its top byte. */
static __always_inline __u32 h1_flag_byte(__u64 low)
{
	return (__u32)(((low >> 7) * 0x0001020304050607ULL) >> 56);
}

/* Taking a socket for HTTP/1 needs its whole request line: method, target, and
 * " HTTP/1.x" at the line's end. Text protocols with verbs start like one (a
 * key-value store's "GET key\n"). A line longer than the window, or cut by the
 * end of the syscall, is taken on its method. Once per socket: later requests
 * on it are framed, so their method suffices (h1_step). */
__noinline int h1_request_line(struct dh_l7_scratch *sc)
{
	if (!sc)
		return 0;
	__u32 n = l7_load(sc, 0, DH_L7_WIN);
	for (__u32 w = 0; w < DH_L7_WIN / 8; w++) {
		__u32 i0 = w * 8;
		if (i0 >= n)
			break;
		__u64 m = h1_newlines(sc, i0);
		if (!m)
			continue;
		__u32 e = i0 + h1_flag_byte(m & -m);
		if (e >= n)
			break;
		if (e && l7_byte(sc, e - 1) == '\r')
			e--;
		if (e < 14) /* "GET / HTTP/1.1" is the shortest */
			return 0;
		__u8 v = l7_byte(sc, e - 1);
		return l7_byte(sc, e - 9) == ' ' && h1_name_is(sc, e - 8, "http/1.", 7) && v >= '0' && v <= '9';
	}
	return 1;
}

/* One header line [ls, end) (end at its '\n'): Content-Length or Transfer-Encoding. */
__noinline int h1_header(struct dh_l7_scratch *sc, struct dh_l7_dir *d, __u32 ls, __u32 end)
{
	if (!sc || !d || ls >= DH_L7_WIN || end > DH_L7_WIN)
		return 0;
	__u8 c = l7_byte(sc, ls) | 0x20;
	if (c == 'c' && end - ls > 15 && h1_name_is(sc, ls, "content-length:", 15)) {
		__u64 v = 0;
		__u32 i = ls + 15;
		for (int k = 0; k < 8; k++) { /* optional blanks */
			__u8 b = l7_byte(sc, i);
			if (b != ' ' && b != '\t')
				break;
			i++;
		}
		for (int k = 0; k < 16; k++) {
			__u8 b = l7_byte(sc, i + k);
			if (b < '0' || b > '9')
				break;
			v = v * 10 + (b - '0');
		}
		d->aux |= H1_HAS_CL;
		d->nest[0] = v > 0xffffffffULL ? 0xffffffff : v;
	} else if (c == 't' && end - ls > 18 && h1_name_is(sc, ls, "transfer-encoding:", 18)) {
		/* chunked is the last coding when present: "...chunked\r\n" */
		__u32 e = end;
		if (l7_byte(sc, e - 1) == '\r')
			e--;
		if (e >= ls + 25 && h1_name_is(sc, e - 7, "chunked", 7))
			d->aux |= H1_CHUNKED;
	}
	return 0;
}

/* Headers ended (or trailers): what follows, and for a response, the pairing. */
__noinline int h1_done(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 0;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	__u32 aux = d->aux, cl = d->nest[0];
	int trailers = d->state == H1_TRAILERS;
	d->aux = 0;
	d->nest[0] = 0;
	d->flags = 0;
	d->state = H1_START;
	if (trailers)
		return 0;
	int body = 1;
	if (sc->dir == 1) {
		__u32 code = d->code;
		if (code >= 100 && code < 200 && code != 101)
			return 0; /* interim (100 Continue, 103 Early Hints): the final response follows */
		struct dh_l7_req *h = l7_head(st);
		__u32 meta = h ? h->meta : 0;
		l7_pop(sc, st, l7_http_class(code), code);
		if (code == 101 || ((meta & H1_M_CONNECT) && code < 300)) {
			st->flags |= DH_L7_F_STOPPED; /* another protocol, or a tunnel, from here */
			return 0;
		}
		if ((meta & H1_M_HEAD) || code == 204 || code == 304)
			body = 0;
		else if (!(aux & (H1_HAS_CL | H1_CHUNKED))) {
			d->state = H1_UNTIL_CLOSE; /* HTTP/1.0 style: the body runs to the close */
			return 0;
		}
	}
	if (!body)
		return 0;
	if (aux & H1_CHUNKED)
		d->state = H1_CHUNK;
	else if (aux & H1_HAS_CL)
		d->skip = cl;
	return 0;
}

/* A '\n' at i of the header window: the line before it ends. Returns 1 at the blank line. */
__noinline int h1_newline(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 i)
{
	if (!sc || !st || i >= DH_L7_WIN)
		return 1;
	__u32 ls = sc->ls;
	if (sc->skip_first) { /* a start line, or the tail of a line begun in the last buffer */
		sc->skip_first = 0;
		if (sc->first_cr && i == 0) { /* "\r" ended the last buffer, "\n" starts this one */
			sc->found = 1;
			return 1;
		}
	} else if (i == ls || (i == ls + 1 && l7_byte(sc, ls) == '\r')) {
		sc->found = i + 1;
		return 1;
	} else {
		h1_header(sc, &st->dir[sc->dir & 1], ls, i);
	}
	sc->ls = i + 1;
	return 0;
}

/* After a header window: finish the message, or remember where the next window starts. */
__noinline int h1_window_end(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 n)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	if (sc->found) {
		sc->cur += sc->found;
		h1_done(sc, st);
		return 0;
	}
	__u32 ls = sc->ls;
	if (sc->cur + n >= sc->total) { /* buffer used up inside the headers */
		d->flags = 0;
		if (sc->skip_first && ls == 0)
			d->flags = DH_L7_D_MIDLINE | (sc->first_cr ? DH_L7_D_MIDLINE_CR : 0);
		else if (ls < n)
			d->flags = DH_L7_D_MIDLINE | ((n - ls == 1 && l7_byte(sc, ls) == '\r') ? DH_L7_D_MIDLINE_CR : 0);
		sc->cur = sc->total;
		return 1;
	}
	if (ls) {
		sc->cur += ls;
		d->flags = 0;
	} else {
		sc->cur += n; /* a line longer than the window */
		d->flags = DH_L7_D_MIDLINE;
	}
	return 0;
}

/* The line [ls, i) is a header other than Content-Length and Transfer-Encoding
 * (by its first and ninth or third bytes; h1_header checks the whole name): passed
 * over without a call. Most lines of a response are such headers. */
static __always_inline int h1_other_header(struct dh_l7_scratch *sc, __u32 i)
{
	__u32 ls = sc->ls;
	if (i <= ls + 1)
		return 0; /* blank, or too short to tell */
	__u8 c = l7_byte(sc, ls) | 0x20;
	if (c == 'c')
		return (l7_byte(sc, ls + 8) | 0x20) != 'l';
	if (c == 't')
		return (l7_byte(sc, ls + 2) | 0x20) != 'a';
	return 1;
}

/* Scans a window of n header bytes at the cursor. Returns 0 to go on, 1 when the buffer is used up.
 * The loop bodies are loads, compares and bit arithmetic; all else is in calls, so the verifier walks them cheaply. */
__noinline int h1_scan(struct dh_l7_scratch *sc, struct dh_l7_sock *st, __u32 n)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	sc->skip_first = (d->flags & (DH_L7_D_FIRST | DH_L7_D_MIDLINE)) != 0;
	sc->first_cr = (d->flags & DH_L7_D_MIDLINE_CR) != 0;
	sc->ls = 0;
	sc->found = 0;
	/* Eight bytes at a time, and in a word only its '\n' bytes (a false flag is dropped by the byte check). */
	for (__u32 w = 0; w < DH_L7_WIN / 8; w++) {
		__u32 i0 = w * 8;
		if (i0 >= n)
			break;
		__u64 m = h1_newlines(sc, i0);
		for (__u32 k = 0; k < 8; k++) {
			if (!m)
				break;
			__u64 low = m & -m;
			m ^= low;
			__u32 i = i0 + h1_flag_byte(low);
			if (i >= n)
				break;
			if (l7_byte(sc, i) != '\n')
				continue;
			if (!sc->skip_first && h1_other_header(sc, i)) {
				sc->ls = i + 1;
				continue;
			}
			if (h1_newline(sc, st, i))
				return h1_window_end(sc, st, n);
		}
	}
	return h1_window_end(sc, st, n);
}

static __always_inline int h1_chunk(struct dh_l7_scratch *sc, struct dh_l7_dir *d)
{
	__u32 n = l7_load(sc, sc->cur, 32);
	__u64 size = 0;
	int digits = 0;
	for (int i = 0; i < 16; i++) {
		__u8 b = sc->win[i];
		__u32 v;
		if (b >= '0' && b <= '9')
			v = b - '0';
		else if ((b | 0x20) >= 'a' && (b | 0x20) <= 'f')
			v = (b | 0x20) - 'a' + 10;
		else
			break;
		size = size << 4 | v;
		digits++;
	}
	if (!digits)
		return -1;
	int nl = -1;
	for (int i = 0; i < 32; i++) {
		if (i >= n)
			break;
		if (sc->win[i] == '\n') {
			nl = i;
			break;
		}
	}
	if (nl < 0)
		return l7_at_end(sc, n) ? DH_L7_MORE : -1;
	sc->cur += nl + 1;
	if (!size) {
		d->state = H1_TRAILERS;
		d->flags = 0;
	} else {
		d->skip = size + 2;
	}
	return 0;
}

__noinline int h1_step(struct dh_l7_scratch *sc, struct dh_l7_sock *st)
{
	if (!sc || !st)
		return 1;
	struct dh_l7_dir *d = &st->dir[sc->dir & 1];
	__u32 n;
	switch (d->state) {
	case H1_START:
		n = l7_load(sc, sc->cur, DH_L7_WIN);
		if (n < 16 && l7_at_end(sc, n))
			return DH_L7_MORE; /* a start line cut by the end of the data */
		if (n < 8)
			return -1;
		if (sc->dir == 0) {
			__u32 m = h1_method(sc);
			if (!m)
				return -1;
			l7_push(sc, st, m & 0x7f, n);
		} else {
			__u8 *w = sc->win;
			if (w[0] != 'H' || w[1] != 'T' || w[2] != 'T' || w[3] != 'P' || w[4] != '/' || w[8] != ' ')
				return -1;
			if (w[9] < '0' || w[9] > '9' || w[10] < '0' || w[10] > '9' || w[11] < '0' || w[11] > '9')
				return -1;
			d->code = (w[9] - '0') * 100 + (w[10] - '0') * 10 + (w[11] - '0');
		}
		d->state = H1_HEADERS;
		d->aux = 0;
		d->nest[0] = 0;
		d->flags = DH_L7_D_FIRST;
		return h1_scan(sc, st, n);
	case H1_HEADERS:
	case H1_TRAILERS:
		n = l7_load(sc, sc->cur, DH_L7_WIN);
		return h1_scan(sc, st, n);
	case H1_CHUNK:
		return h1_chunk(sc, d);
	}
	sc->cur = sc->total; /* body until close */
	return 1;
}
