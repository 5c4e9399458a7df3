/* The floor of per-call request capture, for bench:l7's loads (both ends on
 * this host): each request and each response is read once, at its send. On
 * every TCP send: find the syscall's buffer through the task's saved user
 * registers (plain loads through the BTF pointer bpf_task_pt_regs gives, no
 * helper call; a writev's first iovec is read from user memory) and copy its
 * first 16 bytes (write, sendto and writev: what the loads use); on every
 * receive, nothing but being called. No per-socket state,
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

/* The syscall number and second argument, loaded as l7/capture.c loads them */
#if defined(__TARGET_ARCH_x86)
#define DH_FLOOR_NR(r) ((r)->orig_ax)
#define DH_FLOOR_PARM2(r) ((r)->si)
#elif defined(__TARGET_ARCH_arm64)
#define DH_FLOOR_NR(r) ((r)->syscallno)
#define DH_FLOOR_PARM2(r) ((r)->regs[1])
#endif

static __always_inline int floor_io(struct sock *sk, int ret)
{
	/* TCP sockets only, as the product's is_inet_tcp (src/kernel/sock.h) */
	if (ret <= 0 || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->flags & (DH_PF_KTHREAD | DH_PF_IO_WORKER))
		return 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return 0;
	__u64 buf = 0;
	struct dh_user_iov v;
	switch (DH_FLOOR_NR(regs)) {
	case DH_NR_WRITE:
	case DH_NR_SENDTO:
		buf = DH_FLOOR_PARM2(regs);
		break;
	case DH_NR_WRITEV:
		if (bpf_probe_read_user(&v, sizeof(v), (void *)DH_FLOOR_PARM2(regs)))
			return 0;
		buf = v.base;
		break;
	default:
		return 0;
	}
	__u8 prefix[FLOOR_PREFIX];
	if (bpf_probe_read_user(prefix, FLOOR_PREFIX, (void *)buf))
		return 0;
	return prefix[0] == 0; /* used, so the read is kept */
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
