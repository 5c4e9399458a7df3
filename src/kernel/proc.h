#ifndef DHRISHTI_PROC_H
#define DHRISHTI_PROC_H

/* A process as exec started it: what names a short-lived process once /proc/<pid> is gone.
 * Mirrored by src/events/proc-layout.ts (checked against this object's BTF by test/layout.test.ts). */
#define DH_EXEC_ARGS 256
#define DH_EXEC_COMM 16

struct dh_exec {
	__u64 start_ns;             /* the task's start (ns since boot, suspend included: /proc/<pid>/stat's clock) */
	__u32 args_len;             /* bytes of args held: argv, each NUL-terminated, cut at DH_EXEC_ARGS - 1 */
	__u32 pad;
	char comm[DH_EXEC_COMM];    /* the program's name after exec: an event's comm must match it */
	char args[DH_EXEC_ARGS];
};

#endif
