/* The floor of any design that watches every TCP send and receive: programs
 * that do nothing, attached as Dhrishti's are (tp_btf, one per tracepoint), so
 * the benchmark can tell the cost of being called from the cost of the work.
 * Built by bench/lib/empty-hooks.ts when the benchmark runs; never shipped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sock_send_length")
int dh_empty_send(void *ctx)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int dh_empty_recv(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
