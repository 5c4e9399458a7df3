/* Thin N-API addon over libbpf: open/load/attach a BPF object, deliver ring
 * buffer records to JavaScript in batches from a libuv poll on the ring
 * buffer's epoll fd, and read maps in batches. All logic lives in TypeScript. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#define MAX_LINKS 64
#define MAX_RINGS 4

/* A further ring buffer (DNS, L7) consumed with the first one: same wake-ups,
 * its own record size and JavaScript callback. */
typedef struct {
	char name[64];
	napi_ref callback;
	size_t record_size;
	char *batch;
	size_t batch_len, batch_cap;
	unsigned long long malformed;
} ring_sub_t;

typedef struct {
	struct bpf_object *obj;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
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
	unsigned long long malformed;
	ring_sub_t rings[MAX_RINGS];
	int nrings;
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

static void stop_polling(loader_t *l)
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
	for (int i = 0; i < l->nrings; i++) {
		if (l->rings[i].callback)
			napi_delete_reference(l->env, l->rings[i].callback);
		l->rings[i].callback = NULL;
	}
}

static void destroy(loader_t *l)
{
	stop_polling(l);
	if (l->rb) {
		ring_buffer__free(l->rb);
		l->rb = NULL;
	}
	for (int i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	if (l->obj) {
		bpf_object__close(l->obj);
		l->obj = NULL;
	}
	free(l->batch);
	l->batch = NULL;
	for (int i = 0; i < l->nrings; i++) {
		free(l->rings[i].batch);
		l->rings[i].batch = NULL;
	}
	l->nrings = 0;
}

static void cleanup_hook(void *arg) { destroy((loader_t *)arg); }

static void finalize(napi_env env, void *data, void *hint)
{
	loader_t *l = data;
	napi_remove_env_cleanup_hook(env, cleanup_hook, l);
	destroy(l);
	free(l);
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !getenv("DHRISHTI_LIBBPF_LOG"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* open(path, { mapName: maxEntries, ... }) -> handle. Loads but does not attach. */
static napi_value js_open(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char path[4096];
	if (argc < 1 || !get_string(env, argv[0], path, sizeof path)) {
		napi_throw_type_error(env, NULL, "open(path, sizes): path must be a string");
		return NULL;
	}
	libbpf_set_print(silent_print);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return throw_err(env, "cannot open BPF object: %s", errno);

	if (argc >= 2) {
		napi_value names;
		uint32_t n;
		NAPI_CALL(env, napi_get_property_names(env, argv[1], &names));
		NAPI_CALL(env, napi_get_array_length(env, names, &n));
		for (uint32_t i = 0; i < n; i++) {
			napi_value key, val;
			char name[128];
			uint32_t size;
			napi_get_element(env, names, i, &key);
			napi_get_property(env, argv[1], key, &val);
			if (!get_string(env, key, name, sizeof name) || napi_get_value_uint32(env, val, &size) != napi_ok) {
				bpf_object__close(obj);
				napi_throw_type_error(env, NULL, "map sizes must be { name: number }");
				return NULL;
			}
			struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
			if (!m || bpf_map__set_max_entries(m, size)) {
				bpf_object__close(obj);
				snprintf(errbuf, sizeof errbuf, "cannot size map '%s' to %u", name, size);
				napi_throw_error(env, NULL, errbuf);
				return NULL;
			}
		}
	}
	int err = bpf_object__load(obj);
	if (err) {
		bpf_object__close(obj);
		return throw_err(env, "cannot load BPF object (verifier or permissions): %s", err);
	}
	loader_t *l = calloc(1, sizeof *l);
	l->obj = obj;
	l->env = env;
	napi_value handle;
	NAPI_CALL(env, napi_create_external(env, l, finalize, NULL, &handle));
	napi_add_env_cleanup_hook(env, cleanup_hook, l);
	return handle;
}

/* attach(handle) -> [{ program, ok, error }]: one entry per program, never throws
 * for a single program so callers can decide what is required. */
static napi_value js_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	NAPI_CALL(env, napi_create_array(env, &result));
	struct bpf_program *prog;
	uint32_t i = 0;
	bpf_object__for_each_program(prog, l->obj) {
		napi_value entry, v;
		napi_create_object(env, &entry);
		napi_create_string_utf8(env, bpf_program__name(prog), NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, entry, "program", v);
		napi_create_string_utf8(env, bpf_program__section_name(prog), NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, entry, "section", v);
		struct bpf_link *link = l->nlinks < MAX_LINKS ? bpf_program__attach(prog) : NULL;
		int err = link ? 0 : (errno ? errno : E2BIG);
		if (link)
			l->links[l->nlinks++] = link;
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

static int append_record(char **batch, size_t *len, size_t *cap, const void *data, size_t size)
{
	if (*len + size > *cap) {
		size_t ncap = *cap ? *cap * 2 : 1 << 16;
		while (ncap < *len + size)
			ncap *= 2;
		char *nb = realloc(*batch, ncap);
		if (!nb)
			return -ENOMEM;
		*batch = nb;
		*cap = ncap;
	}
	memcpy(*batch + *len, data, size);
	*len += size;
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	loader_t *l = ctx;
	if (size != l->record_size) {
		l->malformed++;
		return 0;
	}
	return append_record(&l->batch, &l->batch_len, &l->batch_cap, data, size);
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	ring_sub_t *r = ctx;
	if (size != r->record_size) {
		r->malformed++;
		return 0;
	}
	return append_record(&r->batch, &r->batch_len, &r->batch_cap, data, size);
}

/* Hands JavaScript one Buffer holding a batch of records. */
static void deliver(napi_env env, napi_ref callback, const char *batch, size_t len, size_t record_size)
{
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	napi_value cb, global, buf, count;
	void *dst;
	napi_get_reference_value(env, callback, &cb);
	napi_get_global(env, &global);
	napi_create_buffer_copy(env, len, batch, &dst, &buf);
	napi_create_uint32(env, (uint32_t)(len / record_size), &count);
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
}

static void shrink(char **batch, size_t *cap)
{
	if (*cap > (1 << 24)) { /* do not hold on to a burst's memory */
		free(*batch);
		*batch = NULL;
		*cap = 0;
	}
}

/* Drain the ring buffers and hand JavaScript one Buffer per ring with every record. */
static void drain(loader_t *l)
{
	l->batch_len = 0;
	for (int i = 0; i < l->nrings; i++)
		l->rings[i].batch_len = 0;
	ring_buffer__consume(l->rb);
	if (l->batch_len && l->callback)
		deliver(l->env, l->callback, l->batch, l->batch_len, l->record_size);
	if (l->obj)
		shrink(&l->batch, &l->batch_cap);
	/* a callback may close the loader: check before each ring */
	for (int i = 0; l->obj && i < l->nrings; i++) {
		ring_sub_t *r = &l->rings[i];
		if (r->batch_len && r->callback)
			deliver(l->env, r->callback, r->batch, r->batch_len, r->record_size);
		if (l->obj)
			shrink(&r->batch, &r->batch_cap);
	}
}

static void on_poll(uv_poll_t *h, int status, int events);

static void on_timer(uv_timer_t *t)
{
	loader_t *l = t->data;
	if (!l || !l->rb || !l->polling)
		return;
	drain(l);
	if (l->polling) /* the callback may have closed the loader */
		uv_poll_start(l->poll, UV_READABLE, on_poll);
}

/* The first record after a quiet spell wakes us; wait delay_ms for the rest of
 * the burst, so a busy host costs a few wake-ups a second, not one per record. */
static void on_poll(uv_poll_t *h, int status, int events)
{
	loader_t *l = h->data;
	if (!l || status < 0 || !l->rb)
		return;
	if (!l->delay_ms) {
		drain(l);
		return;
	}
	uv_poll_stop(l->poll);
	uv_timer_start(l->timer, on_timer, l->delay_ms, 0);
}

static napi_value add_ring(napi_env env, loader_t *l, napi_value *argv);

/* poll(handle, ringbufMapName, recordSize, callback(buffer, count)[, delayMs]),
 * once per ring buffer map: the first starts the polling, later ones add
 * their ring to it (same wake-ups and delay). */
static napi_value js_poll(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 4) {
		napi_throw_type_error(env, NULL, "poll(handle, mapName, recordSize, callback)");
		return NULL;
	}
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	if (l->rb)
		return add_ring(env, l, argv);
	char name[128];
	uint32_t rsize;
	if (!get_string(env, argv[1], name, sizeof name) || napi_get_value_uint32(env, argv[2], &rsize) != napi_ok || !rsize) {
		napi_throw_type_error(env, NULL, "poll: bad map name or record size");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);
	if (!m) {
		napi_throw_error(env, NULL, "poll: no such map");
		return NULL;
	}
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
	l->poll = malloc(sizeof *l->poll);
	uv_poll_init(loop, l->poll, ring_buffer__epoll_fd(l->rb));
	l->poll->data = l;
	l->timer = malloc(sizeof *l->timer);
	uv_timer_init(loop, l->timer);
	l->timer->data = l;
	uv_poll_start(l->poll, UV_READABLE, on_poll);
	l->polling = 1;
	return NULL;
}

/* A further ring buffer, consumed with the one poll() started. */
static napi_value add_ring(napi_env env, loader_t *l, napi_value *argv)
{
	if (l->nrings >= MAX_RINGS) {
		napi_throw_error(env, NULL, "poll: too many ring buffers");
		return NULL;
	}
	char name[64];
	uint32_t rsize;
	if (!get_string(env, argv[1], name, sizeof name) || napi_get_value_uint32(env, argv[2], &rsize) != napi_ok || !rsize) {
		napi_throw_type_error(env, NULL, "poll: bad map name or record size");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);
	if (!m || bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF) {
		napi_throw_error(env, NULL, "poll: no such ring buffer map");
		return NULL;
	}
	ring_sub_t *r = &l->rings[l->nrings];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->record_size = rsize;
	if (ring_buffer__add(l->rb, bpf_map__fd(m), on_ring_record, r))
		return throw_err(env, "cannot add ring buffer: %s", errno);
	NAPI_CALL(env, napi_create_reference(env, argv[3], 1, &r->callback));
	l->nrings++;
	return NULL;
}

/* updateMap(handle, name, key, value): writes one entry (configuration maps). */
static napi_value js_update_map(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	char name[128];
	void *key, *value;
	size_t klen, vlen;
	if (argc < 4 || !get_string(env, argv[1], name, sizeof name) ||
	    napi_get_buffer_info(env, argv[2], &key, &klen) != napi_ok ||
	    napi_get_buffer_info(env, argv[3], &value, &vlen) != napi_ok) {
		napi_throw_type_error(env, NULL, "updateMap(handle, name, keyBuffer, valueBuffer)");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);
	if (!m) {
		napi_throw_error(env, NULL, "updateMap: no such map");
		return NULL;
	}
	if (klen != bpf_map__key_size(m) || vlen != bpf_map__value_size(m)) {
		snprintf(errbuf, sizeof errbuf, "updateMap '%s': key and value must be %u and %u bytes", name,
			 bpf_map__key_size(m), bpf_map__value_size(m));
		napi_throw_error(env, NULL, errbuf);
		return NULL;
	}
	if (bpf_map_update_elem(bpf_map__fd(m), key, value, BPF_ANY))
		return throw_err(env, "updateMap: %s", errno);
	return NULL;
}

/* drain(handle): consume what is pending now (used before close). */
static napi_value js_drain(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (l && l->rb)
		drain(l);
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

/* stats(handle) -> { malformed, rings: { name: malformed } }: records the loader itself had to skip. */
static napi_value js_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], res, v;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	loader_t *l = get_loader(env, argv[0]);
	if (!l)
		return NULL;
	napi_create_object(env, &res);
	napi_create_double(env, (double)l->malformed, &v);
	napi_set_named_property(env, res, "malformed", v);
	napi_value rings;
	napi_create_object(env, &rings);
	for (int i = 0; i < l->nrings; i++) {
		napi_create_double(env, (double)l->rings[i].malformed, &v);
		napi_set_named_property(env, rings, l->rings[i].name, v);
	}
	napi_set_named_property(env, res, "rings", rings);
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
		{"poll", NULL, js_poll, NULL, NULL, NULL, napi_default, NULL},
		{"drain", NULL, js_drain, NULL, NULL, NULL, napi_default, NULL},
		{"updateMap", NULL, js_update_map, NULL, NULL, NULL, napi_default, NULL},
		{"readMap", NULL, js_read_map, NULL, NULL, NULL, napi_default, NULL},
		{"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
		{"bootTimeNs", NULL, js_boot_time_ns, NULL, NULL, NULL, napi_default, NULL},
		{"numPossibleCpus", NULL, js_num_cpus, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
