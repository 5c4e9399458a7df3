/* Process starts: each program's argv, by pid, for user space to read when a
 * process has exited before its /proc entry could be read (a script that
 * connects once and exits is otherwise named only by its interpreter, `node`).
 *
 * Kernel subtlety: at sched:sched_process_exec the new program's memory is in
 * place and the task is current, so argv is read where the kernel put it
 * (mm->arg_start), not from the execve caller's pointers. A pid taken again by
 * a fork or a thread clears its entry (sched:sched_process_fork), so an entry
 * never outlives its pid into a process that did not exec. */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* set by user space (DEFAULTS.execArgsEntries) */
	__type(key, __u32);        /* tgid */
	__type(value, struct dh_exec);
} exec_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dh_exec);
} exec_scratch SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(dh_sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, tgid = p->tgid;
	struct dh_exec *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	struct mm_struct *mm = p->mm;
	if (!e || !mm)
		return 0;
	unsigned long start = mm->arg_start, end = mm->arg_end;
	__u32 len = end > start ? end - start : 0;
	if (len > DH_EXEC_ARGS - 1)
		len = DH_EXEC_ARGS - 1;
	len &= DH_EXEC_ARGS - 1; /* the bound the verifier sees (never past arg_end: the environment follows) */
	e->start_ns = p->start_boottime; /* the clock /proc/<pid>/stat counts its start on */
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (!len || bpf_probe_read_user(e->args, len, (void *)start))
		len = 0;
	e->args_len = len;
	bpf_map_update_elem(&exec_args, &tgid, e, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(dh_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = child->pid;
	bpf_map_delete_elem(&exec_args, &pid);
	return 0;
}
