/* Dhrishti's kernel side: one object, one concern per included file. Only
 * tracepoints and tp_btf, so it loads on kernels without kprobes or fentry. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "conn.h"
#include "maps.h"
#include "sock.h"

#include "tcp/state.c"
#include "tcp/traffic.c"
#include "tcp/retransmit.c"
#include "tcp/reset.c"
#include "tcp/destroy.c"

#include "syscall_buf.h" /* user buffers of socket syscalls: L7 and DNS */

#include "l7.h"
#include "l7/capture.c"
#include "l7/tls.c"

#include "dns.h"
#include "dns/maps.h"
#include "dns/socket.c"
#include "dns/capture.c"

#include "sock_io.c" /* the send and receive tracepoints: TCP, L7 and DNS in one program */
#include "sock_close.c" /* a socket's end: its close and its request counts in one record */

#include "proc.h"
#include "proc/exec.c" /* process starts: argv for processes gone before /proc was read */

/* Keep the shared records in the object's BTF even if unused by value, so the
 * layout test can read them there. */
const struct dh_event *dh_event_btf __attribute__((unused));
const enum dh_event_kind dh_event_kind_btf __attribute__((unused));
const enum dh_side dh_side_btf __attribute__((unused));
const enum dh_conn_flag dh_conn_flag_btf __attribute__((unused));
const enum dh_loss dh_loss_btf __attribute__((unused));
const struct dh_l7_sock *dh_l7_sock_btf __attribute__((unused));
const struct dh_l7_name *dh_l7_name_btf __attribute__((unused));
const struct dh_l7_sample *dh_l7_sample_btf __attribute__((unused));
const struct dh_l7_final *dh_l7_final_btf __attribute__((unused));
const struct dh_event_l7 *dh_event_l7_btf __attribute__((unused));
const struct dh_l7_config *dh_l7_config_btf __attribute__((unused));
const enum dh_l7_proto dh_l7_proto_btf __attribute__((unused));
const enum dh_l7_class dh_l7_class_btf __attribute__((unused));
const enum dh_l7_flag dh_l7_flag_btf __attribute__((unused));
const enum dh_l7_loss dh_l7_loss_btf __attribute__((unused));
const enum dh_l7_tally dh_l7_tally_btf __attribute__((unused));
const enum dh_l7_sample_flag dh_l7_sample_flag_btf __attribute__((unused));
const enum dh_l7_h1_method dh_l7_h1_method_btf __attribute__((unused));
const struct dh_dns_event *dh_dns_event_btf __attribute__((unused));
const struct dh_dns_config *dh_dns_config_btf __attribute__((unused));
const struct dh_dns_peer *dh_dns_peer_btf __attribute__((unused));
const enum dh_dns_dir dh_dns_dir_btf __attribute__((unused));
const enum dh_dns_flag dh_dns_flag_btf __attribute__((unused));
const enum dh_dns_loss dh_dns_loss_btf __attribute__((unused));
const enum dh_sys_kind dh_sys_kind_btf __attribute__((unused));
const struct dh_exec *dh_exec_btf __attribute__((unused));

char LICENSE[] SEC("license") = "GPL";
