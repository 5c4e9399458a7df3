/* Maps of the DNS capture. Sizes here are placeholders: the loader sets the
 * real ones from src/config/defaults.ts (DNS_DEFAULTS) before loading. */
#ifndef DHRISHTI_DNS_MAPS_H
#define DHRISHTI_DNS_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} dns_events SEC(".maps");

/* Unconnected UDP sockets that sent a DNS query: cookie -> where to. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct dh_dns_peer);
} dns_peers SEC(".maps");

/* A thread inside sendmmsg/recvmmsg on a DNS socket: tid -> the message its next tracepoint is about (dns/capture.c). */
struct dns_mmsg_cursor {
	__u64 mmsg;   /* the call's user struct mmsghdr array */
	__u64 cookie; /* its socket */
	__u32 next;
	__u32 last;   /* the length of message next - 1, which the kernel writes into the array */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct dns_mmsg_cursor);
} dns_mmsg SEC(".maps");

/* Gauge of dns_mmsg (maps.h): a failed call on a host with no cursor open costs one array read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dns_mmsg_open SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dh_dns_config);
} dns_config SEC(".maps");

/* Per-CPU one-second window of records emitted, for max_records_per_sec. */
struct dns_rate_window {
	__u64 start_ns;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_rate_window);
} dns_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DH_DNS_LOSS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} dns_losses SEC(".maps");

/* The buffers of the call in hand ([0]) and of one of its sendmmsg/recvmmsg messages ([1]):
 * here rather than on the stack, which the verifier caps at 512 bytes per call chain and the
 * send program's L7 parsing mostly fills. Tracing programs do not nest on a CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct dh_sys_buf);
} dns_bufs SEC(".maps");

static __always_inline struct dh_sys_buf *dns_buf(__u32 which)
{
	struct dh_sys_buf *b = bpf_map_lookup_elem(&dns_bufs, &which);
	if (b)
		__builtin_memset(b, 0, sizeof(*b));
	return b;
}

static __always_inline void dns_count_loss(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&dns_losses, &what);
	if (n)
		*n += 1;
}

static __always_inline struct dh_dns_config *dns_enabled_config(void)
{
	__u32 zero = 0;
	struct dh_dns_config *cfg = bpf_map_lookup_elem(&dns_config, &zero);
	return cfg && cfg->enabled ? cfg : 0;
}

/* One more message on this CPU within its one-second window? */
static __always_inline int dns_rate_allows(const struct dh_dns_config *cfg)
{
	if (!cfg->max_records_per_sec)
		return 1;
	__u32 zero = 0;
	struct dns_rate_window *w = bpf_map_lookup_elem(&dns_rate, &zero);
	if (!w)
		return 1;
	__u64 now = bpf_ktime_get_boot_ns();
	if (now - w->start_ns >= 1000000000ull) {
		w->start_ns = now;
		w->count = 0;
	}
	if (w->count >= cfg->max_records_per_sec) {
		dns_count_loss(DH_DNS_LOSS_RATE_LIMITED);
		return 0;
	}
	w->count++;
	return 1;
}

#endif
