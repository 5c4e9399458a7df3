/* Which user buffer did this socket syscall use?
 *
 * tp_btf sock_send_length and sock_recv_length give the socket and the byte
 * count, not the data. The data is in the user buffer named by the arguments
 * of the syscall the task is in, which its saved user registers still hold
 * (bpf_task_pt_regs on the current task). At these tracepoints a send's bytes
 * are still in the caller's buffer and a receive's have just been copied there.
 *
 * Kernel subtleties:
 * - recvfrom/recvmsg copy the sender's address to user memory only after the
 *   tracepoint, so a receive's peer address cannot be read here;
 * - sendmmsg/recvmmsg fire the tracepoint once per message without saying
 *   which: the caller counts them (dns/capture.c);
 * - io_uring workers and kernel threads do socket I/O with no syscall
 *   registers of their own: `kind` stays DH_SYS_NONE.
 * Shared by every capture that needs socket payloads: DNS reads its buffers
 * through syscall_buf(); L7 (l7/capture.c) uses its syscall numbers. */
#ifndef DHRISHTI_SYSCALL_BUF_H
#define DHRISHTI_SYSCALL_BUF_H

#define DH_SYS_MAX_IOV 4

#define DH_PF_KTHREAD 0x00200000
#define DH_PF_IO_WORKER 0x00000010

enum dh_sys_kind {
	DH_SYS_NONE = 0,
	DH_SYS_READ = 1,
	DH_SYS_WRITE = 2,
	DH_SYS_READV = 3,
	DH_SYS_WRITEV = 4,
	DH_SYS_RECVFROM = 5,
	DH_SYS_SENDTO = 6,
	DH_SYS_RECVMSG = 7,
	DH_SYS_SENDMSG = 8,
	DH_SYS_RECVMMSG = 9,
	DH_SYS_SENDMMSG = 10,
};

#if defined(__TARGET_ARCH_x86)
#define DH_NR_READ 0
#define DH_NR_WRITE 1
#define DH_NR_READV 19
#define DH_NR_WRITEV 20
#define DH_NR_SENDTO 44
#define DH_NR_RECVFROM 45
#define DH_NR_SENDMSG 46
#define DH_NR_RECVMSG 47
#define DH_NR_RECVMMSG 299
#define DH_NR_SENDMMSG 307
#define DH_SYSCALL_NR(r) BPF_CORE_READ(r, orig_ax)
#define DH_PARM6(r) BPF_CORE_READ(r, r9)
#elif defined(__TARGET_ARCH_arm64)
#define DH_NR_READ 63
#define DH_NR_WRITE 64
#define DH_NR_READV 65
#define DH_NR_WRITEV 66
#define DH_NR_SENDTO 206
#define DH_NR_RECVFROM 207
#define DH_NR_SENDMSG 211
#define DH_NR_RECVMSG 212
#define DH_NR_RECVMMSG 243
#define DH_NR_SENDMMSG 269
#define DH_SYSCALL_NR(r) BPF_CORE_READ(r, syscallno)
#define DH_PARM6(r) BPF_CORE_READ(r, regs[5])
#else
#error "syscall_buf.h: syscall numbers for this architecture are missing"
#endif

struct dh_user_iov {
	__u64 base;
	__u64 len;
};

/* The buffers of one syscall, as the caller described them. */
struct dh_sys_buf {
	__u8 kind;     /* enum dh_sys_kind */
	__u8 niov;     /* entries read into iov */
	__u8 more_iov; /* the caller passed more entries than DH_SYS_MAX_IOV */
	__u8 pad;
	__u32 namelen; /* of name */
	__u64 name;    /* user sockaddr the caller passed (sendto's dest, msg_name), 0 if none */
	__u64 mmsg;    /* user struct mmsghdr array (sendmmsg/recvmmsg) */
	__u32 vlen;    /* its length */
	__u32 pad2;
	struct dh_user_iov iov[DH_SYS_MAX_IOV];
};

static __always_inline __u8 sys_kind(long nr)
{
	switch (nr) {
	case DH_NR_READ: return DH_SYS_READ;
	case DH_NR_WRITE: return DH_SYS_WRITE;
	case DH_NR_READV: return DH_SYS_READV;
	case DH_NR_WRITEV: return DH_SYS_WRITEV;
	case DH_NR_RECVFROM: return DH_SYS_RECVFROM;
	case DH_NR_SENDTO: return DH_SYS_SENDTO;
	case DH_NR_RECVMSG: return DH_SYS_RECVMSG;
	case DH_NR_SENDMSG: return DH_SYS_SENDMSG;
	case DH_NR_RECVMMSG: return DH_SYS_RECVMMSG;
	case DH_NR_SENDMMSG: return DH_SYS_SENDMMSG;
	}
	return DH_SYS_NONE;
}

/* The current task's user registers, or NULL when it is not in a syscall of its own. */
static __always_inline struct pt_regs *current_syscall_regs(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->flags & (DH_PF_KTHREAD | DH_PF_IO_WORKER))
		return 0;
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

struct dh_iov_loop {
	struct dh_sys_buf *b;
	__u64 uiov;
	int err;
};

static long dh_read_iov_one(__u64 i, void *ctx)
{
	struct dh_iov_loop *l = ctx;
	struct iovec v;
	if (i >= DH_SYS_MAX_IOV || bpf_probe_read_user(&v, sizeof(v), (void *)(l->uiov + i * sizeof(struct iovec)))) {
		l->err = -1;
		return 1;
	}
	l->b->iov[i].base = (__u64)v.iov_base;
	l->b->iov[i].len = v.iov_len;
	l->b->niov = i + 1;
	return 0;
}

/* Reads up to DH_SYS_MAX_IOV entries of a user iovec array (bpf_loop: the
 * verifier walks one entry, not each). 0, or -1 if unreadable. */
static __always_inline int read_user_iov(struct dh_sys_buf *b, __u64 uiov, __u64 count)
{
	if (!uiov)
		return -1;
	b->more_iov = count > DH_SYS_MAX_IOV;
	struct dh_iov_loop l = { .b = b, .uiov = uiov };
	bpf_loop(count < DH_SYS_MAX_IOV ? count : DH_SYS_MAX_IOV, dh_read_iov_one, &l, 0);
	return l.err;
}

/* Reads a user struct user_msghdr: its address argument and its iovec entries. */
static __always_inline int read_user_msghdr(struct dh_sys_buf *b, __u64 umsg)
{
	struct user_msghdr m;
	if (!umsg || bpf_probe_read_user(&m, sizeof(m), (void *)umsg))
		return -1;
	b->name = (__u64)m.msg_name;
	b->namelen = m.msg_namelen;
	return read_user_iov(b, (__u64)m.msg_iov, m.msg_iovlen);
}

/*
 * Fills b from the current syscall. Returns 0 when the buffers are described
 * (for sendmmsg/recvmmsg only mmsg and vlen), -1 when the task is in no
 * syscall we can read (b->kind says which it was, DH_SYS_NONE if none), -2
 * when the caller's descriptions could not be read.
 */
static __always_inline int syscall_buf(struct dh_sys_buf *b)
{
	struct pt_regs *regs = current_syscall_regs();
	if (!regs)
		return -1;
	b->kind = sys_kind(DH_SYSCALL_NR(regs));
	__u64 a1 = PT_REGS_PARM2_CORE_SYSCALL(regs), a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);
	switch (b->kind) {
	case DH_SYS_READ:
	case DH_SYS_WRITE:
		b->iov[0].base = a1;
		b->iov[0].len = a2;
		b->niov = 1;
		return 0;
	case DH_SYS_RECVFROM:
	case DH_SYS_SENDTO:
		b->iov[0].base = a1;
		b->iov[0].len = a2;
		b->niov = 1;
		if (b->kind == DH_SYS_SENDTO) { /* recvfrom's is filled after the tracepoint */
			b->name = PT_REGS_PARM5_CORE_SYSCALL(regs);
			b->namelen = DH_PARM6(regs);
		}
		return 0;
	case DH_SYS_READV:
	case DH_SYS_WRITEV:
		return read_user_iov(b, a1, a2) ? -2 : 0;
	case DH_SYS_RECVMSG:
	case DH_SYS_SENDMSG:
		return read_user_msghdr(b, a1) ? -2 : 0;
	case DH_SYS_RECVMMSG:
	case DH_SYS_SENDMMSG:
		b->mmsg = a1;
		b->vlen = a2;
		return 0;
	}
	return -1;
}

#endif
