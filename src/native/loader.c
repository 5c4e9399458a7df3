/* Thin N-API addon over libbpf: open/load/attach a BPF object, deliver ring
 * buffer records to JavaScript in batches from a libuv poll on the ring
 * buffer's epoll fd, and read maps in batches. All logic lives in TypeScript. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#define MAX_LINKS 1024 /* tracepoints plus uprobes on every TLS library found */
#define MAX_RINGS 8 /* connection events, L7 samples and finals, DNS */

/* One ring buffer map delivered to one JavaScript callback. */
typedef struct {
	char name[128]; /* the map */
	struct ring_buffer *rb;
	uv_poll_t *poll; /* heap: libuv frees it after close completes */
	uv_timer_t *timer; /* delays a drain so records arrive in batches, not one wake-up each */
	unsigned int delay_ms;
	int polling;
	napi_env env;
	napi_ref callback;
	size_t record_size;
	/* batch being filled by the ring buffer callback */
	char *batch;
	size_t batch_len, batch_cap;
	/* with `reuse`: a JavaScript Buffer over `batch` (not a copy), made again only when `batch` moves */
	int reuse;
	napi_ref batch_buf;
	char *batch_buf_data;
	size_t batch_buf_cap;
	unsigned long long malformed;
} ring_t;

typedef struct {
	struct bpf_object *obj;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	ring_t rings[MAX_RINGS];
	int nrings;
	napi_env env;
} loader_t;

static char errbuf[512];

static napi_value throw_err(napi_env env, const char *fmt, int err)
{
	snprintf(errbuf, sizeof errbuf, fmt, strerror(err > 0 ? err : -err));
	napi_throw_error(env, NULL, errbuf);
	return NULL;
}

#define NAPI_CALL(env, call)                                                   \
	do {                                                                   \
		if ((call) != napi_ok) {                                       \
			napi_throw_error((env), NULL, "N-API call failed: " #call); \
			return NULL;                                           \
		}                                                              \
	} while (0)

static loader_t *get_loader(napi_env env, napi_value v)
{
	loader_t *l = NULL;
	if (napi_get_value_external(env, v, (void **)&l) != napi_ok || !l) {
		napi_throw_type_error(env, NULL, "expected a loader handle");
		return NULL;
	}
	if (!l->obj) {
		napi_throw_error(env, NULL, "loader is closed");
		return NULL;
	}
	return l;
}

static char *get_string(napi_env env, napi_value v, char *buf, size_t len)
{
	size_t n;
	if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok)
		return NULL;
	return buf;
}

static void free_handle(uv_handle_t *h) { free(h); }

/* Drops the Buffer over the batch memory (before that memory moves or is freed). */
static void forget_batch_buffer(ring_t *l)
{
	if (l->batch_buf) {
		napi_delete_reference(l->env, l->batch_buf);
		l->batch_buf = NULL;
		l->batch_buf_data = NULL;
	}
}

static void stop_polling(ring_t *l)
{
	if (l->polling) {
		uv_poll_stop(l->poll);
		l->poll->data = NULL;
		uv_close((uv_handle_t *)l->poll, free_handle);
		l->poll = NULL;
		uv_timer_stop(l->timer);
		l->timer->data = NULL;
		uv_close((uv_handle_t *)l->timer, free_handle);
		l->timer = NULL;
		l->polling = 0;
	}
	if (l->callback) {
		napi_delete_reference(l->env, l->callback);
		l->callback = NULL;
	}
	forget_batch_buffer(l);
}

/* Closing a tracepoint or uprobe link waits for an RCU grace period (tens of
 * ms each): one after another, a dozen links held an exiting agent for over a
 * second. Closed from several threads at once, the waits overlap. */
#define DETACH_THREADS 16

typedef struct {
	struct bpf_link **links;
	int n, first;
} detach_job_t;

static void *detach_some(void *arg)
{
	detach_job_t *j = arg;
	for (int i = j->first; i < j->n; i += DETACH_THREADS)
		bpf_link__destroy(j->links[i]); /* NULL (a freed slot) is a no-op */
	return NULL;
}

/* Closes n links, their RCU waits overlapping on up to DETACH_THREADS threads. */
static void destroy_link_array(struct bpf_link **links, int n)
{
	pthread_t threads[DETACH_THREADS];
	detach_job_t jobs[DETACH_THREADS];
	int started = 0;
	for (int t = 0; t < DETACH_THREADS && t < n; t++) {
		jobs[t] = (detach_job_t){.links = links, .n = n, .first = t};
		if (pthread_create(&threads[t], NULL, detach_some, &jobs[t]) != 0)
			break;
		started++;
	}
	for (int t = started; t < DETACH_THREADS && t < n; t++) /* no thread for these: inline */
		detach_some(&(detach_job_t){.links = links, .n = n, .first = t});
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
}

static void destroy_links(loader_t *l)
{
	destroy_link_array(l->links, l->nlinks);
	l->nlinks = 0;
}

/* A slot for a new link: the next one, or one freed by detachLinks; -1 when all are taken. */
static int free_link_slot(loader_t *l)
{
	if (l->nlinks < MAX_LINKS)
		return l->nlinks++;
	for (int i = 0; i < MAX_LINKS; i++)
		if (!l->links[i])
			return i;
	return -1;
}

static void destroy(loader_t *l)
{
	for (int r = 0; r < l->nrings; r++) {
		ring_t *rg = &l->rings[r];
		stop_polling(rg);
		if (rg->rb) {
			ring_buffer__free(rg->rb);
			rg->rb = NULL;
		}
		free(rg->batch);
		rg->batch = NULL;
	}
	l->nrings = 0;
	destroy_links(l);
	if (l->obj) {
		bpf_object__close(l->obj);
		l->obj = NULL;
	}
}

static void cleanup_hook(void *arg) { destroy((loader_t *)arg); }

static void finalize(napi_env env, void *data, void *hint)
{
	loader_t *l = data;
	napi_remove_env_cleanup_hook(env, cleanup_hook, l);
	destroy(l);
	free(l);
}

/* Why the verifier refused a program, for the load error: "<program>: <the log's last
 * line that is not a summary>". libbpf prints a refused program's whole verifier log at
 * warning level, between BEGIN/END PROG LOAD LOG markers, with the reason last. */
static char refusal[256];

static int summary_line(const char *l)
{
	return !strncmp(l, "verification time", 17) || !strncmp(l, "stack depth", 11) ||
	       !strncmp(l, "processed ", 10) || !strncmp(l, "-- END", 6) || *l == '\n' || !*l;
}

static void note_refusal(const char *fmt, va_list args)
{
	va_list c;
	va_copy(c, args);
	int n = vsnprintf(NULL, 0, fmt, c);
	va_end(c);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (!s)
		return;
	va_copy(c, args);
	vsnprintf(s, (size_t)n + 1, fmt, c);
	va_end(c);
	const char *name = strstr(s, "prog '"), *end = strstr(s, "-- END PROG LOAD LOG");
	int name_len = 0;
	if (name) {
		name += 6;
		const char *q = strchr(name, '\'');
		name_len = q ? (int)(q - name) : 0;
	}
	if (end) { /* walk back from the end marker to the last line that says why */
		const char *line_end = end;
		while (line_end > s) {
			const char *ls = line_end - 1;
			while (ls > s && ls[-1] != '\n')
				ls--;
			if (!summary_line(ls)) {
				int len = (int)(line_end - ls);
				if (len > 0 && ls[len - 1] == '\n')
					len--;
				snprintf(refusal, sizeof refusal, "%.*s: %.*s", name_len > 64 ? 64 : name_len, name ? name : "",
					 len > 160 ? 160 : len, ls);
				break;
			}
			line_end = ls;
		}
	}
	free(s);
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && strstr(fmt, "BEGIN PROG LOAD LOG"))
		note_refusal(fmt, args);
	if (level == LIBBPF_DEBUG || !getenv("DHRISHTI_LIBBPF_LOG"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Sets a `const volatile` global of the object (a load-time setting in .rodata)
 * before load: the verifier then sees a constant and drops the dead branch. */
static int set_const(struct bpf_object *obj, const char *name, long long value)
{
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return -ENOENT;
	int sec = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (sec < 0)
		return -ENOENT;
	const struct btf_type *t = btf__type_by_id(btf, sec);
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *var = btf__type_by_id(btf, vs[i].type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		struct bpf_map *m;
		bpf_object__for_each_map(m, obj) {
			size_t size = 0;
			const void *cur;
			if (!strstr(bpf_map__name(m), ".rodata") || !(cur = bpf_map__initial_value(m, &size)))
				continue;
			if (vs[i].offset + vs[i].size > size || vs[i].size > sizeof value)
				return -EINVAL;
			char *data = malloc(size);
			if (!data)
				return -ENOMEM;
			memcpy(data, cur, size);
			memcpy(data + vs[i].offset, &value, vs[i].size); /* little-endian: the low bytes */
			int err = bpf_map__set_initial_value(m, data, size);
			free(data);
			return err;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* Is name in the list of strings? An entry ending in '*' matches by prefix. */
static int in_list(napi_env env, napi_value list, const char *name)
{
	uint32_t n = 0;
	if (!list || napi_get_array_length(env, list, &n) != napi_ok)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		napi_value v;
		char buf[128];
		if (napi_get_element(env, list, i, &v) != napi_ok || !get_string(env, v, buf, sizeof buf))
			continue;
		size_t n = strlen(buf);
		if (n && buf[n - 1] == '*' ? !strncmp(buf, name, n - 1) : !strcmp(buf, name))
			return 1;
	}
	return 0;
}

/* open(path, { mapName: maxEntries, ... }[, skipPrograms[, { constName: value, ... }]]) -> handle.
 * Loads but does not attach; programs named in skipPrograms are not even loaded
 * (a feature the kernel rejects can be left out); load-time settings are set first. */
static napi_value js_open(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char path[4096];
	if (argc < 1 || !get_string(env, argv[0], path, sizeof path)) {
		napi_throw_type_error(env, NULL, "open(path, sizes, skipPrograms, consts): path must be a string");
		return NULL;
	}
	libbpf_set_print(silent_print);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return throw_err(env, "cannot open BPF object: %s", errno);

	/* Map sizes (argument 2), then load-time settings (argument 4): { name: number } each. */
	for (size_t arg = 1; arg < argc && arg < 4; arg += 2) {
		napi_valuetype type;
		if (napi_typeof(env, argv[arg], &type) != napi_ok || type == napi_undefined || type == napi_null)
			continue;
		napi_value names;
		uint32_t n;
		NAPI_CALL(env, napi_get_property_names(env, argv[arg], &names));
		NAPI_CALL(env, napi_get_array_length(env, names, &n));
		for (uint32_t i = 0; i < n; i++) {
			napi_value key, val;
			char name[128];
			int64_t value;
			napi_get_element(env, names, i, &key);
			napi_get_property(env, argv[arg], key, &val);
			if (!get_string(env, key, name, sizeof name) || napi_get_value_int64(env, val, &value) != napi_ok) {
				bpf_object__close(obj);
				napi_throw_type_error(env, NULL, arg == 1 ? "map sizes must be { name: number }" : "load-time settings must be { name: number }");
				return NULL;
			}
			struct bpf_map *m = arg == 1 ? bpf_object__find_map_by_name(obj, name) : NULL;
			int bad = arg == 1 ? (!m || value < 0 || value > UINT32_MAX || bpf_map__set_max_entries(m, (uint32_t)value)) : set_const(obj, name, value);
			if (bad) {
				bpf_object__close(obj);
				if (arg == 1)
					snprintf(errbuf, sizeof errbuf, "cannot size map '%s' to %lld", name, (long long)value);
				else
					snprintf(errbuf, sizeof errbuf, "no load-time setting '%s' in the BPF object", name);
				napi_throw_error(env, NULL, errbuf);
				return NULL;
			}
		}
	}
	/* Uprobes need a binary and a symbol: attachUprobe() attaches them, attach() skips them. */
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		const char *sec = bpf_program__section_name(p);
		if (!strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9))
			bpf_program__set_autoattach(p, false);
		if (argc >= 3 && in_list(env, argv[2], bpf_program__name(p))) { /* in_list ignores a non-array (undefined) */
			bpf_program__set_autoload(p, false);
			bpf_program__set_autoattach(p, false);
		}
	}
	/* The verifier gives up with EAGAIN while a signal is pending (kernel/bpf/verifier.c do_check),
	 * and libbpf retries only a few times: a sampling profiler's SIGPROF every few ms (node
	 * --cpu-prof) failed every long verification. Held back while loading, it is delivered after. */
	sigset_t prof, old;
	sigemptyset(&prof);
	sigaddset(&prof, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &prof, &old);
	refusal[0] = 0;
	int err = bpf_object__load(obj);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		bpf_object__close(obj);
		snprintf(errbuf, sizeof errbuf, "cannot load BPF object (verifier or permissions): %s%s%s",
			 strerror(err > 0 ? err : -err), refusal[0] ? "; the verifier refused " : "", refusal);
		napi_throw_error(env, NULL, errbuf);
		return NULL;
	}
	loader_t *l = calloc(1, sizeof *l);
	l->obj = obj;
	l->env = env;
	napi_value handle;
	NAPI_CALL(env, napi_create_external(env, l, finalize, NULL, &handle));
	napi_add_env_cleanup_hook(env, cleanup_hook, l);
	return handle;
}

/* attach(handle[, exclude]) -> [{ program, ok, error }]: one entry per program, never throws
 * for a single program so callers can decide what is required. Uprobes and
 * programs named in exclude are left alone. */
static napi_value js_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], result;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	napi_value exclude = argc >= 2 ? argv[1] : NULL;
	NAPI_CALL(env, napi_create_array(env, &result));
	struct bpf_program *prog;
	uint32_t i = 0;
	bpf_object__for_each_program(prog, l->obj) {
		if (!bpf_program__autoload(prog) || !bpf_program__autoattach(prog) || in_list(env, exclude, bpf_program__name(prog)))
			continue;
		napi_value entry, v;
		napi_create_object(env, &entry);
		napi_create_string_utf8(env, bpf_program__name(prog), NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, entry, "program", v);
		napi_create_string_utf8(env, bpf_program__section_name(prog), NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, entry, "section", v);
		int slot = free_link_slot(l);
		struct bpf_link *link = slot >= 0 ? bpf_program__attach(prog) : NULL;
		int err = link ? 0 : (slot < 0 ? E2BIG : errno ? errno : EINVAL);
		if (link)
			l->links[slot] = link;
		else if (slot == l->nlinks - 1)
			l->nlinks--;
		napi_get_boolean(env, link != NULL, &v);
		napi_set_named_property(env, entry, "ok", v);
		if (!link) {
			napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &v);
			napi_set_named_property(env, entry, "error", v);
		}
		napi_set_element(env, result, i++, entry);
	}
	return result;
}

static int on_record(void *ctx, void *data, size_t size)
{
	ring_t *l = ctx;
	/* A record is one slot of the ring's record size, or two: a close with its request
	 * counts (struct dh_event_l7, src/kernel/l7.h). JavaScript reads the batch as slots. */
	if (size != l->record_size && size != 2 * l->record_size) {
		l->malformed++;
		return 0;
	}
	if (l->batch_len + size > l->batch_cap) {
		size_t cap = l->batch_cap ? l->batch_cap * 2 : 1 << 16;
		while (cap < l->batch_len + size)
			cap *= 2;
		char *nb = realloc(l->batch, cap);
		if (!nb)
			return -ENOMEM;
		l->batch = nb;
		l->batch_cap = cap;
	}
	memcpy(l->batch + l->batch_len, data, size);
	l->batch_len += size;
	return 0;
}

/* Drain the ring buffer and hand JavaScript one Buffer with every record.
 * Returns how many bytes of records it took. */
static size_t drain(ring_t *l)
{
	l->batch_len = 0;
	ring_buffer__consume(l->rb);
	size_t took = l->batch_len;
	if (!took || !l->callback)
		return took;
	napi_env env = l->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	napi_value cb, global, buf, count;
	void *dst;
	napi_get_reference_value(env, l->callback, &cb);
	napi_get_global(env, &global);
	if (!l->reuse) {
		napi_create_buffer_copy(env, l->batch_len, l->batch, &dst, &buf);
	} else if (!l->batch_buf || l->batch_buf_data != l->batch || l->batch_buf_cap != l->batch_cap) {
		/* One Buffer over the batch memory, reused batch after batch: no copy and no
		 * allocation per batch. JavaScript reads it only during the call (the count
		 * says how many records it holds). */
		forget_batch_buffer(l);
		if (napi_create_external_buffer(env, l->batch_cap, l->batch, NULL, NULL, &buf) != napi_ok) {
			napi_create_buffer_copy(env, l->batch_len, l->batch, &dst, &buf); /* no external buffers here: copy */
		} else {
			napi_create_reference(env, buf, 1, &l->batch_buf);
			l->batch_buf_data = l->batch;
			l->batch_buf_cap = l->batch_cap;
		}
	} else {
		napi_get_reference_value(env, l->batch_buf, &buf);
	}
	napi_create_uint32(env, (uint32_t)(l->batch_len / l->record_size), &count);
	napi_value args[2] = {buf, count};
	/* napi_make_callback runs microtasks and reports exceptions like any
	 * libuv-driven callback. */
	napi_async_context actx;
	napi_value resname;
	napi_create_string_utf8(env, "dhrishti.ringbuf", NAPI_AUTO_LENGTH, &resname);
	napi_async_init(env, NULL, resname, &actx);
	napi_callback_scope cscope;
	napi_open_callback_scope(env, global, actx, &cscope);
	napi_status st = napi_call_function(env, global, cb, 2, args, NULL);
	if (st == napi_pending_exception) {
		napi_value exc;
		napi_get_and_clear_last_exception(env, &exc);
		napi_fatal_exception(env, exc);
	}
	napi_close_callback_scope(env, cscope);
	napi_async_destroy(env, actx);
	napi_close_handle_scope(env, scope);
	if (l->batch_cap > (1 << 24)) { /* do not hold on to a burst's memory */
		forget_batch_buffer(l);
		free(l->batch);
		l->batch = NULL;
		l->batch_cap = 0;
	}
	return took;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* While records keep coming, the timer alone drains every delay_ms: one
 * wake-up per batch, and no epoll_ctl to re-arm the poll in between. The
 * first drain that finds nothing hands back to the poll (so a lone burst
 * costs one wake-up more than before: poll, drain, empty drain). */
static void on_timer(uv_timer_t *t)
{
	ring_t *l = t->data;
	if (!l || !l->rb || !l->polling)
		return;
	size_t took = drain(l);
	if (!l->polling) /* the callback may have closed the loader */
		return;
	if (took)
		uv_timer_start(l->timer, on_timer, l->delay_ms, 0);
	else
		uv_poll_start(l->poll, UV_READABLE, on_poll);
}

/* The first record after a quiet spell wakes us; wait delay_ms for the rest of
 * the burst, so a busy host costs a few wake-ups a second, not one per record. */
static void on_poll(uv_poll_t *h, int status, int events)
{
	ring_t *l = h->data;
	if (!l || status < 0 || !l->rb)
		return;
	if (!l->delay_ms) {
		drain(l);
		return;
	}
	uv_poll_stop(l->poll);
	uv_timer_start(l->timer, on_timer, l->delay_ms, 0);
}

/* poll(handle, ringbufMapName, recordSize, callback(buffer, count)[, delayMs[, reuseBuffer]]): once per ring buffer map.
 * With reuseBuffer, every batch comes in the same Buffer over the loader's memory (read it during the call only). */
static napi_value js_poll(napi_env env, napi_callback_info info)
{
	size_t argc = 6;
	napi_value argv[6];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 4) {
		napi_throw_type_error(env, NULL, "poll(handle, mapName, recordSize, callback[, delayMs[, reuseBuffer]])");
		return NULL;
	}
	loader_t *ld = get_loader(env, argv[0]);
	if (!ld)
		return NULL;
	if (ld->nrings >= MAX_RINGS) {
		napi_throw_error(env, NULL, "poll: too many ring buffers");
		return NULL;
	}
	char name[128];
	uint32_t rsize;
	if (!get_string(env, argv[1], name, sizeof name) || napi_get_value_uint32(env, argv[2], &rsize) != napi_ok || !rsize) {
		napi_throw_type_error(env, NULL, "poll: bad map name or record size");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(ld->obj, name);
	if (!m) {
		napi_throw_error(env, NULL, "poll: no such map");
		return NULL;
	}
	ring_t *l = &ld->rings[ld->nrings];
	memset(l, 0, sizeof *l);
	snprintf(l->name, sizeof l->name, "%s", name);
	l->env = env;
	l->record_size = rsize;
	l->rb = ring_buffer__new(bpf_map__fd(m), on_record, l, NULL);
	if (!l->rb)
		return throw_err(env, "cannot create ring buffer: %s", errno);
	NAPI_CALL(env, napi_create_reference(env, argv[3], 1, &l->callback));
	uv_loop_t *loop;
	napi_get_uv_event_loop(env, &loop);
	l->delay_ms = 0;
	if (argc >= 5)
		napi_get_value_uint32(env, argv[4], &l->delay_ms);
	bool reuse = false;
	if (argc >= 6)
		napi_get_value_bool(env, argv[5], &reuse);
	l->reuse = reuse;
	l->poll = malloc(sizeof *l->poll);
	uv_poll_init(loop, l->poll, ring_buffer__epoll_fd(l->rb));
	l->poll->data = l;
	l->timer = malloc(sizeof *l->timer);
	uv_timer_init(loop, l->timer);
	l->timer->data = l;
	uv_poll_start(l->poll, UV_READABLE, on_poll);
	l->polling = 1;
	ld->nrings++;
	return NULL;
}

/* drain(handle[, mapName]): consume what is pending now, in every ring buffer
 * or in the one named (a capture whose records must be read before another's). */
static napi_value js_drain(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	char name[128] = "";
	if (argc >= 2 && !get_string(env, argv[1], name, sizeof name)) {
		napi_throw_type_error(env, NULL, "drain(handle[, mapName])");
		return NULL;
	}
	for (int r = 0; r < l->nrings; r++)
		if (l->rings[r].rb && (!name[0] || !strcmp(name, l->rings[r].name)))
			drain(&l->rings[r]);
	return NULL;
}

/* readMap(handle, name[, keysBuf, valuesBuf]) -> { keySize, valueSize, count, keys, values }.
 * Per-CPU maps return one value slot (rounded to 8 bytes) per possible CPU.
 * Given buffers large enough for the whole map, it reads straight into them
 * and returns them: a periodic reader then allocates nothing. */
static napi_value js_read_map(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	char name[128];
	if (argc < 2 || !get_string(env, argv[1], name, sizeof name)) {
		napi_throw_type_error(env, NULL, "readMap(handle, name)");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);
	if (!m) {
		napi_throw_error(env, NULL, "readMap: no such map");
		return NULL;
	}
	int fd = bpf_map__fd(m);
	enum bpf_map_type type = bpf_map__type(m);
	int percpu = type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
		     type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	size_t ksize = bpf_map__key_size(m), vsize = bpf_map__value_size(m);
	size_t vslot = percpu ? ((vsize + 7) & ~7ul) * libbpf_num_possible_cpus() : vsize;
	size_t max = bpf_map__max_entries(m);
	char *keys = NULL, *values = NULL;
	int caller_buffers = 0;
	if (argc >= 4) {
		void *kd, *vd;
		size_t kl, vl;
		if (napi_get_buffer_info(env, argv[2], &kd, &kl) == napi_ok &&
		    napi_get_buffer_info(env, argv[3], &vd, &vl) == napi_ok && kl >= ksize * max && vl >= vslot * max) {
			keys = kd;
			values = vd;
			caller_buffers = 1;
		}
	}
	if (!caller_buffers) {
		keys = malloc(ksize * max + 1);
		values = malloc(vslot * max + 1);
	}
	size_t count = 0;
	if (!keys || !values) {
		if (!caller_buffers) {
			free(keys);
			free(values);
		}
		return throw_err(env, "readMap: %s", ENOMEM);
	}
	if (type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		for (uint32_t k = 0; k < max; k++) {
			memcpy(keys + count * ksize, &k, sizeof k);
			if (!bpf_map_lookup_elem(fd, &k, values + count * vslot))
				count++;
		}
	} else {
		/* Batched lookup: a few syscalls for the whole map. */
		char out_batch[8];
		void *in = NULL;
		int done = 0;
		while (!done && count < max) {
			__u32 n = max - count;
			int err = bpf_map_lookup_batch(fd, in, out_batch, keys + count * ksize,
						       values + count * vslot, &n, NULL);
			if (err) {
				if (errno != ENOENT) {
					int e = errno;
					if (!caller_buffers) {
						free(keys);
						free(values);
					}
					return throw_err(env, "readMap: %s", e);
				}
				done = 1;
			}
			count += n;
			in = out_batch;
		}
	}
	napi_value res, v;
	void *dst;
	napi_create_object(env, &res);
	napi_create_uint32(env, ksize, &v);
	napi_set_named_property(env, res, "keySize", v);
	napi_create_uint32(env, vslot, &v);
	napi_set_named_property(env, res, "valueSize", v);
	napi_create_uint32(env, count, &v);
	napi_set_named_property(env, res, "count", v);
	if (caller_buffers) {
		napi_set_named_property(env, res, "keys", argv[2]);
		napi_set_named_property(env, res, "values", argv[3]);
		return res;
	}
	napi_create_buffer_copy(env, count * ksize, keys, &dst, &v);
	napi_set_named_property(env, res, "keys", v);
	napi_create_buffer_copy(env, count * vslot, values, &dst, &v);
	napi_set_named_property(env, res, "values", v);
	free(keys);
	free(values);
	return res;
}

/* attachUprobe(handle, program, binaryPath, symbol, retprobe) -> { ok, link, error }.
 * libbpf resolves the symbol in the ELF file; the probe covers every process
 * that maps that file (pid -1). `link` names it for detachLinks. */
static napi_value js_attach_uprobe(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5], res, v;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = argc >= 5 ? get_loader(env, argv[0]) : NULL;
	if (!l)
		return NULL;
	char prog_name[128], path[4096], sym[256];
	bool ret = false;
	if (!get_string(env, argv[1], prog_name, sizeof prog_name) || !get_string(env, argv[2], path, sizeof path) ||
	    !get_string(env, argv[3], sym, sizeof sym) || napi_get_value_bool(env, argv[4], &ret) != napi_ok) {
		napi_throw_type_error(env, NULL, "attachUprobe(handle, program, path, symbol, retprobe)");
		return NULL;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(l->obj, prog_name);
	int err = 0, slot = -1;
	struct bpf_link *link = NULL;
	if (!prog)
		err = ENOENT;
	else if ((slot = free_link_slot(l)) < 0)
		err = E2BIG;
	else {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = sym, .retprobe = ret);
		link = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
		if (!link) {
			err = errno ? errno : EINVAL;
			if (slot == l->nlinks - 1)
				l->nlinks--;
		} else
			l->links[slot] = link;
	}
	napi_create_object(env, &res);
	napi_get_boolean(env, link != NULL, &v);
	napi_set_named_property(env, res, "ok", v);
	if (link) {
		napi_create_int32(env, slot, &v);
		napi_set_named_property(env, res, "link", v);
	} else {
		napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, res, "error", v);
	}
	return res;
}

/* detachLinks(handle, [link...]) -> number closed: closes links attachUprobe
 * returned (all at once, see destroy_link_array) and frees their slots. */
static napi_value js_detach_links(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], res;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = argc >= 2 ? get_loader(env, argv[0]) : NULL;
	if (!l)
		return NULL;
	uint32_t n = 0;
	bool is_array = false;
	if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &n) != napi_ok) {
		napi_throw_type_error(env, NULL, "detachLinks(handle, links)");
		return NULL;
	}
	struct bpf_link **gone = calloc(n ? n : 1, sizeof *gone);
	if (!gone)
		return throw_err(env, "detachLinks: %s", ENOMEM);
	int count = 0;
	for (uint32_t i = 0; i < n; i++) {
		napi_value e;
		int32_t slot;
		if (napi_get_element(env, argv[1], i, &e) != napi_ok || napi_get_value_int32(env, e, &slot) != napi_ok)
			continue;
		if (slot < 0 || slot >= l->nlinks || !l->links[slot])
			continue; /* not a link, or already closed */
		gone[count++] = l->links[slot];
		l->links[slot] = NULL;
	}
	destroy_link_array(gone, count);
	free(gone);
	napi_create_int32(env, count, &res);
	return res;
}

/* The (handle, name, key, value) arguments of updateMap and lookupMap: the map's fd, with key and value
 * buffers of its sizes; -1 after throwing. */
static int map_element_args(napi_env env, napi_callback_info info, const char *usage, void **k, void **v)
{
	size_t argc = 4;
	napi_value argv[4];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return -1;
	loader_t *l = argc >= 4 ? get_loader(env, argv[0]) : NULL;
	if (!l)
		return -1;
	char name[128];
	size_t kl, vl;
	if (!get_string(env, argv[1], name, sizeof name) || napi_get_buffer_info(env, argv[2], k, &kl) != napi_ok ||
	    napi_get_buffer_info(env, argv[3], v, &vl) != napi_ok) {
		napi_throw_type_error(env, NULL, usage);
		return -1;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);
	if (!m || kl != bpf_map__key_size(m) || vl != bpf_map__value_size(m)) {
		napi_throw_error(env, NULL, "no such map, or wrong key/value size");
		return -1;
	}
	return bpf_map__fd(m);
}

/* updateMap(handle, name, key, value): writes one element (BPF_ANY). */
static napi_value js_update_map(napi_env env, napi_callback_info info)
{
	void *k, *v;
	int fd = map_element_args(env, info, "updateMap(handle, name, key, value)", &k, &v);
	if (fd >= 0 && bpf_map_update_elem(fd, k, v, BPF_ANY))
		return throw_err(env, "updateMap: %s", errno);
	return NULL;
}

/* lookupMap(handle, name, key, value) -> true with value filled, false when the key is absent (one element:
 * a miss costs one syscall, not a read of the whole map). */
static napi_value js_lookup_map(napi_env env, napi_callback_info info)
{
	void *k, *v;
	napi_value res;
	int fd = map_element_args(env, info, "lookupMap(handle, name, key, value)", &k, &v);
	if (fd < 0)
		return NULL;
	int found = bpf_map_lookup_elem(fd, k, v) == 0;
	if (!found && errno != ENOENT)
		return throw_err(env, "lookupMap: %s", errno);
	NAPI_CALL(env, napi_get_boolean(env, found, &res));
	return res;
}

/* deleteKeys(handle, name, keys, count) -> number deleted. */
static napi_value js_delete_keys(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], res;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = argc >= 4 ? get_loader(env, argv[0]) : NULL;
	if (!l)
		return NULL;
	char name[128];
	void *k;
	size_t kl;
	uint32_t count;
	if (!get_string(env, argv[1], name, sizeof name) || napi_get_buffer_info(env, argv[2], &k, &kl) != napi_ok ||
	    napi_get_value_uint32(env, argv[3], &count) != napi_ok) {
		napi_throw_type_error(env, NULL, "deleteKeys(handle, name, keys, count)");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);
	size_t ks = m ? bpf_map__key_size(m) : 0;
	if (!m || kl < ks * count) {
		napi_throw_error(env, NULL, "deleteKeys: no such map, or keys buffer too small");
		return NULL;
	}
	uint32_t done = 0;
	for (uint32_t i = 0; i < count; i++)
		if (!bpf_map_delete_elem(bpf_map__fd(m), (char *)k + i * ks))
			done++;
	napi_create_uint32(env, done, &res);
	return res;
}

static napi_value js_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = NULL;
	if (argc >= 1 && napi_get_value_external(env, argv[0], (void **)&l) == napi_ok && l)
		destroy(l);
	return NULL;
}

/* stats(handle) -> { malformed, rings: { map: malformed } }: records the loader itself had to skip (wrong size), in all and per ring buffer. */
static napi_value js_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], res, v;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	unsigned long long malformed = 0;
	for (int r = 0; r < l->nrings; r++)
		malformed += l->rings[r].malformed;
	napi_create_object(env, &res);
	napi_create_double(env, (double)malformed, &v);
	napi_set_named_property(env, res, "malformed", v);
	napi_value rings;
	napi_create_object(env, &rings);
	for (int r = 0; r < l->nrings; r++) {
		napi_create_double(env, (double)l->rings[r].malformed, &v);
		napi_set_named_property(env, rings, l->rings[r].name, v);
	}
	napi_set_named_property(env, res, "rings", rings);
	/* Runs the kernel skipped because the program was already running on that CPU
	 * (a softirq beneath it): each is an event never seen. */
	napi_value skipped, verified, run_ns, runs;
	napi_create_object(env, &skipped);
	/* Instructions the verifier processed to accept each program: how close it came to its limit. */
	napi_create_object(env, &verified);
	/* Time spent in each program and its runs, counted by the kernel only while kernel.bpf_stats_enabled is 1. */
	napi_create_object(env, &run_ns);
	napi_create_object(env, &runs);
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, l->obj) {
		int fd = bpf_program__fd(prog);
		struct bpf_prog_info pi = {0};
		uint32_t len = sizeof(pi);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &pi, &len))
			continue;
		napi_create_double(env, (double)pi.recursion_misses, &v);
		napi_set_named_property(env, skipped, bpf_program__name(prog), v);
		if (len >= offsetof(struct bpf_prog_info, verified_insns) + sizeof(pi.verified_insns)) {
			napi_create_double(env, (double)pi.verified_insns, &v);
			napi_set_named_property(env, verified, bpf_program__name(prog), v);
		}
		napi_create_double(env, (double)pi.run_time_ns, &v);
		napi_set_named_property(env, run_ns, bpf_program__name(prog), v);
		napi_create_double(env, (double)pi.run_cnt, &v);
		napi_set_named_property(env, runs, bpf_program__name(prog), v);
	}
	napi_set_named_property(env, res, "skipped", skipped);
	napi_set_named_property(env, res, "verified", verified);
	napi_set_named_property(env, res, "runTimeNs", run_ns);
	napi_set_named_property(env, res, "runCount", runs);
	return res;
}

static napi_value js_boot_time_ns(napi_env env, napi_callback_info info)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	napi_value v;
	napi_create_double(env, (double)ts.tv_sec * 1e9 + ts.tv_nsec, &v);
	return v;
}

static napi_value js_num_cpus(napi_env env, napi_callback_info info)
{
	napi_value v;
	napi_create_int32(env, libbpf_num_possible_cpus(), &v);
	return v;
}

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
		{"attach", NULL, js_attach, NULL, NULL, NULL, napi_default, NULL},
		{"attachUprobe", NULL, js_attach_uprobe, NULL, NULL, NULL, napi_default, NULL},
		{"detachLinks", NULL, js_detach_links, NULL, NULL, NULL, napi_default, NULL},
		{"updateMap", NULL, js_update_map, NULL, NULL, NULL, napi_default, NULL},
		{"deleteKeys", NULL, js_delete_keys, NULL, NULL, NULL, napi_default, NULL},
		{"poll", NULL, js_poll, NULL, NULL, NULL, napi_default, NULL},
		{"drain", NULL, js_drain, NULL, NULL, NULL, napi_default, NULL},
		{"readMap", NULL, js_read_map, NULL, NULL, NULL, napi_default, NULL},
		{"lookupMap", NULL, js_lookup_map, NULL, NULL, NULL, napi_default, NULL},
		{"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
		{"bootTimeNs", NULL, js_boot_time_ns, NULL, NULL, NULL, napi_default, NULL},
		{"numPossibleCpus", NULL, js_num_cpus, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
