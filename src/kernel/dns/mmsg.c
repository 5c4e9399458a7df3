/* sendmmsg/recvmmsg on a DNS socket: glibc sends its A and AAAA queries in
 * one sendmmsg. The socket tracepoints fire once per message without saying
 * which, so capture.c only remembers the thread and its socket; here, at the
 * syscall's exit, every message is read with the length the kernel stored
 * in msg_len (and, for recvmmsg, the sender's address in msg_name, which is
 * filled by now). */

#define DH_DNS_MAX_MMSG 8

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
	struct dns_sock_facts sock = {};
	int kind = dns_socket((struct sock *)call.sk, cfg, &sock);
	if (kind == DNS_SOCK_NONE)
		return 0;
	sock.dir = call.dir;
	sock.cookie = call.cookie;
	struct dh_sys_buf args = {};
	if (syscall_buf(&args) || !args.mmsg)
		return 0;
	if (ret > DH_DNS_MAX_MMSG)
		dns_count_loss(DH_DNS_LOSS_SEGMENTS);

	for (__u32 i = 0; i < DH_DNS_MAX_MMSG; i++) {
		if (i >= ret)
			break;
		struct dh_sys_buf b = { .kind = args.kind };
		__u32 len = 0;
		if (syscall_mmsg_at(&b, args.mmsg, i, &len)) {
			dns_count_loss(DH_DNS_LOSS_READ_FAULT);
			break;
		}
		struct dns_sock_facts f = sock;
		if (kind == DNS_SOCK_UNCONNECTED) {
			/* A send names its server per message; a receive's sender is in msg_name now. */
			if (dns_peer_from_args(cfg, b.name, b.namelen, &f)) {
				if (f.dir == DH_DNS_DIR_SEND)
					dns_remember_peer(&f);
			} else if (f.dir == DH_DNS_DIR_SEND || !dns_peer_from_query(&f)) {
				continue;
			}
		}
		if (!dns_rate_allows(cfg))
			break;
		dns_emit_message(cfg, &f, &b, len, i);
	}
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
