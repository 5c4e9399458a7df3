// Every default and limit in one place. The kernel side's map sizes are set
// from here at load time, so the C code holds no second copy.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (dist/src/config -> repo root at run time). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const BPF_OBJECT_PATH = path.join(REPO_ROOT, 'build', 'bpf', 'dhrishti.bpf.o');
export const NATIVE_ADDON_PATH = path.join(REPO_ROOT, 'src', 'native', 'build', 'Release', 'dhrishti_native.node');

export const DEFAULTS = {
  /** Ring buffer size in bytes (power of two, multiple of the page size). */
  ringbufBytes: 8 * 1024 * 1024,
  /** Sockets tracked at once in the kernel. */
  connMapEntries: 65536,
  /** How often open connections' counters are read from the kernel. */
  flushIntervalMs: 1000,
  /** API listen address and port. */
  apiHost: '127.0.0.1',
  apiPort: 7979,
  /** Tracefs mount points tried in order. */
  tracefsPaths: ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'],
  bpffsPath: '/sys/fs/bpf',
  dockerSocket: '/var/run/docker.sock',
  /** How long `dhrishti doctor` waits for Docker's /_ping before calling it unreachable. */
  doctorDockerTimeoutMs: 2000,
  btfPath: '/sys/kernel/btf/vmlinux',
  /** Oldest kernel with every helper the probes use (ring buffer, boot clock, tp_btf). */
  minKernel: [5, 8] as const,
} as const;

/** Tracepoints the core probes need, as category/name. */
export const REQUIRED_TRACEPOINTS = [
  'sock/inet_sock_set_state',
  'sock/sock_send_length',
  'sock/sock_recv_length',
  'tcp/tcp_retransmit_skb',
  'tcp/tcp_receive_reset',
  'tcp/tcp_send_reset',
  'tcp/tcp_destroy_sock',
  'syscalls/sys_exit_accept4',
  'syscalls/sys_exit_accept',
] as const;

/** Programs that may fail to attach without stopping the agent (owner naming at accept). */
export const OPTIONAL_PROGRAMS = new Set(['dh_sys_exit_accept4', 'dh_sys_exit_accept']);

/** `npm run bench` (bench/run.ts): load shape, repetitions and the targets printed beside the results. */
export const BENCH = {
  /** wrk threads, open connections and seconds per measured run. */
  wrkThreads: 1,
  wrkConnections: 32,
  wrkSeconds: 8,
  /** Unmeasured wrk run before each condition, so caches and JIT are warm. */
  warmupSeconds: 2,
  /** Every condition runs this many times, in alternating order; the median is reported. */
  rounds: 3,
  /** CPUs (taskset lists) for the load generator and the server; the agent and bpftrace float. */
  wrkCpu: '0',
  serverCpu: '1',
  /** Synthetic ring buffer records decoded per pass, and passes timed. */
  decodeRecords: 1_000_000,
  decodeRepeats: 5,
  /** Records per decodeBatch call in the "ring buffer sized batches" variant. */
  decodeBatchRecords: 4096,
  targets: {
    keepAliveRatio: 0.97,
    connPerRequestRatio: 0.93,
    agentCorePercentAt10kConnPerSec: 5,
    decodeRecordsPerSec: 2_000_000,
  },
} as const;
