#ifndef DHRISHTI_MAPS_H
#define DHRISHTI_MAPS_H

/* Sizes here are placeholders: the loader sets the real ones from
 * src/config/defaults.ts (or the command line) before loading. */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Every TCP socket's entry, looked up at each of its sends and receives.
 * Kernel subtlety: a preallocated hash map is one vmalloc area of 4 KB pages, so
 * each busy socket's entry sits on a page of its own and its first touch in a
 * syscall is likely a TLB miss; entries allocated as they come (BPF_F_NO_PREALLOC,
 * bpf_mem_alloc: safe in tracing programs since 6.1) live in the kernel's directly
 * mapped memory, on huge pages. Measured under HTTP keep-alive (bpf_stats): 510-544
 * ns per receive run before, 339-378 after. It also leaves the memory of sockets
 * not yet seen unallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct dh_conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DH_LOSS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

/* Load-time settings: the loader sets them before the verifier runs
 * (src/collector/engine.ts), so a branch they turn off costs nothing. */
const volatile __u8 dh_report_connect = 1; /* a CONNECT event per attempt (the close and established events carry the same facts) */

static __always_inline void count_loss(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &what);
	if (n)
		*n += 1;
}

/* A gauge: a one-slot array map counting the entries of a per-thread hash map
 * (or more: an entry lost to LRU eviction is never taken off). While it reads
 * 0, a hot path (every socket send and receive) skips that map's lookups. */
static __always_inline void gauge_add(void *gauge, __s64 d)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(gauge, &zero);
	if (n)
		__sync_fetch_and_add(n, d);
}

static __always_inline __u64 gauge_read(void *gauge)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(gauge, &zero);
	return n ? *n : 1;
}

#endif
