/* sendmmsg/recvmmsg on a DNS socket: glibc sends its A and AAAA queries in
 * one sendmmsg. The socket tracepoints fire once per message without saying
 * which, so capture.c only remembers the thread and its socket; here, at the
 * syscall's exit, every message is read with the length the kernel stored
 * in msg_len (and, for recvmmsg, the sender's address in msg_name, which is
 * filled by now). */

#define DH_DNS_MAX_MMSG 8

struct dns_mmsg_loop {
	struct dns_sock_facts sock;
	__u64 mmsg;
	__u8 sys;
	__u8 sock_kind;
};

/* One message; a bpf_loop callback, so the verifier walks it once rather than per message. */
static long dns_mmsg_one(__u64 i, void *ctx)
{
	struct dns_mmsg_loop *l = ctx;
	struct dh_dns_config *cfg = dns_enabled_config();
	if (!cfg)
		return 1;
	struct dh_sys_buf b = { .kind = l->sys };
	__u32 len = 0;
	if (syscall_mmsg_at(&b, l->mmsg, i, &len)) {
		dns_count_loss(DH_DNS_LOSS_READ_FAULT);
		return 1;
	}
	struct dns_sock_facts f = l->sock;
	if (l->sock_kind == DNS_SOCK_UNCONNECTED) {
		/* A send names its server per message; a receive's sender is in msg_name now. */
		if (dns_peer_from_args(cfg, b.name, b.namelen, &f)) {
			if (f.dir == DH_DNS_DIR_SEND)
				dns_remember_peer(&f);
		} else if (f.dir == DH_DNS_DIR_SEND || !dns_peer_from_query(&f)) {
			return 0;
		}
	}
	if (!dns_rate_allows(cfg))
		return 1;
	dns_emit_message(cfg, &f, &b, len, i);
	return 0;
}

static __always_inline int on_mmsg_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dns_mmsg_call *pending = bpf_map_lookup_elem(&dns_mmsg, &tid);
	if (!pending)
		return 0;
	struct dns_mmsg_call call = *pending;
	bpf_map_delete_elem(&dns_mmsg, &tid);
	if (ret <= 0)
		return 0;
	struct dh_dns_config *cfg = dns_enabled_config();
	if (!cfg)
		return 0;
	struct dns_mmsg_loop l = {};
	/* the socket pointer kept at the tracepoint, typed again: the syscall holds its fd until now */
	l.sock_kind = dns_socket(bpf_rdonly_cast((void *)call.sk, bpf_core_type_id_kernel(struct sock)), cfg, &l.sock);
	if (l.sock_kind == DNS_SOCK_NONE)
		return 0;
	l.sock.dir = call.dir;
	l.sock.cookie = call.cookie;
	struct dh_sys_buf args = {};
	if (syscall_buf(&args) || !args.mmsg)
		return 0;
	l.mmsg = args.mmsg;
	l.sys = args.kind;
	if (ret > DH_DNS_MAX_MMSG) {
		dns_count_loss(DH_DNS_LOSS_SEGMENTS);
		ret = DH_DNS_MAX_MMSG;
	}
	bpf_loop(ret, dns_mmsg_one, &l, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int dh_dns_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return on_mmsg_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int dh_dns_exit_recvmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return on_mmsg_exit(ctx->ret);
}
