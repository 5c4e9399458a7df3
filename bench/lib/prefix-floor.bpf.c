/* The floor of per-call request capture, for bench:l7's loads (both ends on
 * this host): each request and each response is read once, at its send. On
 * every TCP send: find the syscall's buffer through the task's saved user
 * registers (the product's own src/kernel/syscall_buf.h) and copy its first
 * 16 bytes; on every receive, nothing but being called. No per-socket state,
 * no parsing, no counting: any design that reads requests at these hooks does
 * at least this much, so what a run keeps with it bounds what such capture can
 * keep on this machine. Built by bench/lib/empty-hooks.ts when bench:l7 runs;
 * never shipped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "syscall_buf.h"

#define FLOOR_PREFIX 16

struct floor_scratch {
	struct dh_sys_buf b;
	__u8 prefix[FLOOR_PREFIX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct floor_scratch);
} floor_scratch SEC(".maps");

static __always_inline int floor_io(struct sock *sk, int ret)
{
	/* TCP sockets only, as the product's is_inet_tcp (src/kernel/sock.h) */
	if (ret <= 0 || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u32 zero = 0;
	struct floor_scratch *s = bpf_map_lookup_elem(&floor_scratch, &zero);
	if (!s)
		return 0;
	s->b.niov = 0;
	if (syscall_buf(&s->b) || !s->b.niov)
		return 0;
	bpf_probe_read_user(s->prefix, FLOOR_PREFIX, (void *)s->b.iov[0].base);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(dh_floor_send, struct sock *sk, int ret, int flags)
{
	return floor_io(sk, ret);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(dh_floor_recv, struct sock *sk, int ret, int flags)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
