/* TLS plaintext from OpenSSL's SSL_write/SSL_read (and _ex) uprobes, fed to
 * the same parsers as the wire bytes of plain sockets.
 *
 * Kernel subtlety: a uprobe sees the SSL object, not the socket. Libraries
 * that own the socket (libssl with a socket BIO: curl, nginx, libpq) make the
 * socket syscall inside the SSL call, on the same thread: that syscall names
 * the socket, and SSL object -> socket is remembered. Node.js uses memory
 * BIOs: it reads ciphertext before SSL_read and writes it after SSL_write, on
 * the same thread. So SSL_read falls back to the last TLS socket the thread
 * read, and an SSL_write whose socket is not known yet waits for the thread's
 * next socket write. The ciphertext itself is never parsed. */

enum { TLS_WRITE = 1, TLS_READ = 2, TLS_PENDING_WRITE = 3 };

struct dh_tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr;  /* _ex: where the byte count is written */
	__u64 cookie;   /* the socket of a nested syscall, if any */
	__u32 len;      /* pending write: plaintext bytes */
	__u8 kind;
	__u8 ex;
	__u8 pad[2];
};

struct dh_tls_key {
	__u64 ssl;
	__u32 pid;
	__u32 pad;
};

/* Threads inside an SSL call (or with a plaintext write waiting for its socket). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct dh_tls_call);
} tls_calls SEC(".maps");

/* Plaintext written to a memory BIO, waiting for the thread's next socket write
 * (apart from tls_calls: Node calls SSL_read before it flushes the ciphertext). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct dh_tls_call);
} tls_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct dh_tls_key);
	__type(value, __u64);
} tls_socks SEC(".maps");

/* Gauge of tls_calls and tls_pending (maps.h): while it is 0, no socket syscall
 * can be an SSL call's, and every socket read and write skips both lookups. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tls_inflight SEC(".maps");

static __always_inline void tls_count(__s64 d)
{
	gauge_add(&tls_inflight, d);
}

static __always_inline int tls_idle(void)
{
	return !gauge_read(&tls_inflight);
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} tls_last_recv SEC(".maps");

static __always_inline void tls_learn(__u64 ssl, __u64 cookie)
{
	struct dh_tls_key k = {.ssl = ssl, .pid = bpf_get_current_pid_tgid() >> 32};
	bpf_map_update_elem(&tls_socks, &k, &cookie, BPF_ANY);
}

/* Marks a socket as carrying TLS, so its wire bytes are not parsed. */
static __always_inline struct dh_l7_sock *tls_mark(__u64 cookie)
{
	struct dh_l7_sock *st = bpf_map_lookup_elem(&l7_socks, &cookie);
	if (st) {
		st->flags |= DH_L7_F_TLS;
		return st;
	}
	struct dh_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (!c)
		return 0; /* a closed socket: a state made now would never be closed, its counts never read */
	st = l7_sock_new(cookie, c);
	if (st) {
		st->proto = DH_L7_TLS;
		st->flags = DH_L7_F_TLS;
		__u8 mid = 0;
		st->side = l7_side_of(c, &mid);
		st->pid = bpf_get_current_pid_tgid() >> 32;
	}
	return st;
}

/* Parses plaintext of a TLS socket. */
static __always_inline void tls_feed(__u64 cookie, __u64 buf, __u32 len, int is_send)
{
	struct dh_l7_config *cfg = l7_cfg();
	if (!cfg || !cfg->enabled || !len)
		return;
	struct dh_l7_sock *st = tls_mark(cookie);
	struct dh_l7_scratch *sc = l7_scratch_get();
	if (!st || !sc || (st->flags & (DH_L7_F_CLOSED | DH_L7_F_STOPPED)))
		return;
	l7_io_one(sc, buf, len);
	sc->total = len;
	sc->now = bpf_ktime_get_ns(); /* the clock of l7_sock_now; no socket to read it from here */
	sc->cookie = cookie;
	sc->tls = 1;
	sc->carry_len = 0;
	l7_feed(sc, st, is_send, 0, 0);
}

/* Called for every socket syscall: is it the ciphertext of an SSL call in progress? */
static __always_inline int tls_nested(__u64 cookie, int ret, int is_send)
{
	if (tls_idle())
		return 0;
	__u64 tid = bpf_get_current_pid_tgid();
	if (is_send) {
		struct dh_tls_call *p = bpf_map_lookup_elem(&tls_pending, &tid);
		if (p) {
			__u64 ssl = p->ssl, buf = p->buf;
			__u32 len = p->len;
			bpf_map_delete_elem(&tls_pending, &tid);
			tls_count(-1);
			tls_learn(ssl, cookie);
			tls_feed(cookie, buf, len, 1);
			return 1;
		}
	}
	struct dh_tls_call *c = bpf_map_lookup_elem(&tls_calls, &tid);
	if (!c)
		return 0;
	if ((c->kind == TLS_WRITE) != !!is_send)
		return 0;
	c->cookie = cookie;
	tls_learn(c->ssl, cookie);
	tls_mark(cookie);
	return 1;
}

static __always_inline void tls_remember_recv(__u64 cookie)
{
	__u64 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&tls_last_recv, &tid, &cookie, BPF_ANY);
}

static __always_inline int tls_enter(struct pt_regs *ctx, __u8 kind, __u8 ex)
{
	struct dh_l7_config *cfg = l7_cfg();
	if (!cfg || !cfg->enabled)
		return 0;
	__u64 tid = bpf_get_current_pid_tgid();
	struct dh_tls_call c = {
		.ssl = PT_REGS_PARM1(ctx),
		.buf = PT_REGS_PARM2(ctx),
		.len_ptr = ex ? PT_REGS_PARM4(ctx) : 0,
		.kind = kind,
		.ex = ex,
	};
	tls_count(1); /* before the entry: a nested socket call never sees it uncounted */
	bpf_map_update_elem(&tls_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* Bytes an SSL call moved: its return value, or *len_ptr for the _ex forms. */
static __always_inline __u32 tls_bytes(struct pt_regs *ctx, struct dh_tls_call *c)
{
	int ret = (int)PT_REGS_RC(ctx); /* an int in eax: the upper half of rax is not its sign */
	if (c->ex) {
		__u64 n = 0;
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)c->len_ptr))
			return 0;
		return n > 0x7fffffff ? 0 : n;
	}
	return ret > 0 ? ret : 0;
}

/* The socket an SSL object was last seen on, if that socket still exists. Allocators reuse
 * addresses: Node frees a connection's SSL object and the next connection's gets its address,
 * so without the check a new connection's requests went to a closed socket (a fresh state the
 * close had already passed: counted nowhere). */
static __always_inline __u64 tls_known(__u64 ssl)
{
	struct dh_tls_key k = {.ssl = ssl, .pid = bpf_get_current_pid_tgid() >> 32};
	__u64 *found = bpf_map_lookup_elem(&tls_socks, &k);
	if (!found)
		return 0;
	__u64 cookie = *found;
	if (!bpf_map_lookup_elem(&conns, &cookie)) { /* destroyed (tcp_destroy_sock removed its entry) */
		bpf_map_delete_elem(&tls_socks, &k);
		return 0;
	}
	return cookie;
}

static __always_inline int tls_exit(struct pt_regs *ctx)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct dh_tls_call *c = bpf_map_lookup_elem(&tls_calls, &tid);
	if (!c || (c->kind != TLS_WRITE && c->kind != TLS_READ))
		return 0;
	int is_write = c->kind == TLS_WRITE;
	__u32 n = tls_bytes(ctx, c);
	__u64 cookie = c->cookie, ssl = c->ssl, buf = c->buf;
	if (!cookie)
		cookie = tls_known(ssl);
	if (!n) {
		bpf_map_delete_elem(&tls_calls, &tid);
		tls_count(-1);
		return 0;
	}
	if (!cookie) {
		/* Memory BIO (Node): the socket this thread last read TLS from. A client's
		 * first write is made in the callback that read the server's Finished. */
		__u64 *last = bpf_map_lookup_elem(&tls_last_recv, &tid);
		if (last) {
			cookie = *last;
			tls_learn(ssl, cookie);
		}
	}
	if (!cookie && is_write) { /* the ciphertext is written next, on this thread */
		c->kind = TLS_PENDING_WRITE;
		c->len = n;
		bpf_map_update_elem(&tls_pending, &tid, c, BPF_ANY); /* the call's count goes with it */
		bpf_map_delete_elem(&tls_calls, &tid);
		return 0;
	}
	bpf_map_delete_elem(&tls_calls, &tid);
	tls_count(-1);
	if (!cookie) {
		l7_loss(DH_L7_LOSS_TLS_UNMATCHED);
		return 0;
	}
	tls_feed(cookie, buf, n, is_write);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(dh_ssl_write) { return tls_enter(ctx, TLS_WRITE, 0); }

SEC("uprobe")
int BPF_KPROBE(dh_ssl_write_ex) { return tls_enter(ctx, TLS_WRITE, 1); }


SEC("uprobe")
int BPF_KPROBE(dh_ssl_read) { return tls_enter(ctx, TLS_READ, 0); }

SEC("uprobe")
int BPF_KPROBE(dh_ssl_read_ex) { return tls_enter(ctx, TLS_READ, 1); }

/* One return probe for all four: the call remembered at entry says which it was
 * (and the parsers are verified once for it, not once per direction). */
SEC("uretprobe")
int BPF_KRETPROBE(dh_ssl_ret) { return tls_exit(ctx); }
