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
  ringbufBytes: 4 * 1024 * 1024,
  /** Batching of ring buffer reads: one wake-up per this many ms at most, instead of one per record. */
  drainDelayMs: 20,
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
  /** Identity: stopped containers remembered for late events (oldest evicted). */
  maxStoppedContainers: 1000,
  /** Identity: Docker reconnect backoff, doubling from min to max. */
  dockerReconnectMinMs: 1000,
  dockerReconnectMaxMs: 10000,
  /** Identity: a cgroup id miss walks the cgroup v2 tree at most this often. */
  cgroupRescanIntervalMs: 1000,
  /** Identity: host process info cache (entries, and how long an entry is trusted before its start time is checked again). */
  processCacheEntries: 8192,
  processCacheTtlMs: 10000,
  /** Identity: longest command line kept per process. */
  cmdlineMaxChars: 256,
  /** Identity: the host's own addresses are re-read at most this often (on a miss). */
  hostAddressRefreshMs: 5000,
  /** How long `dhrishti doctor` waits for Docker's /_ping before calling it unreachable. */
  doctorDockerTimeoutMs: 2000,
  btfPath: '/sys/kernel/btf/vmlinux',
  /** Oldest kernel with every probe the core uses: sock:sock_send_length and
   *  sock:sock_recv_length arrived in 6.3 (ring buffer, boot clock and tp_btf earlier). */
  minKernel: [6, 3] as const,
  /** History database folder (`--data-dir` overrides): system-wide when run as root, else per user (under $HOME). */
  dataDirRoot: '/var/lib/dhrishti',
  dataDirUser: '.local/share/dhrishti',
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

/** The live graph's bounds. */
export const GRAPH_DEFAULTS = {
  idleMs: 15 * 60_000,
  maxExternalNodes: 1000,
  pairGraceMs: 300,
  tickMs: 100,
  /** WebSocket deltas at most this often. */
  streamIntervalMs: 500,
};

/** bench/ui-render.ts: the synthetic map the web UI draws, how it changes, and the target. */
export const UI_BENCH = {
  nodes: 200,
  edges: 1000,
  /** A delta this often, changing this share of the edges' numbers. */
  deltaIntervalMs: 500,
  changedEdgeShare: 0.05,
  /** Deltas measured after the first drawing. */
  updates: 40,
  targetP95Ms: 50,
  viewport: { width: 1440, height: 900 },
} as const;

/** The history store (src/store): what is kept, how often it is written, and the API's bounds. */
export const HISTORY_DEFAULTS = {
  fileName: 'history.db',
  /** Tiers as resolution:keep; the finest is written every flush, coarser ones are rolled up from it.
   *  The 10 m tier adds no history (it ends with the 1 m one): it makes long ranges read ten times fewer rows. */
  retention: '10s:24h,1m:7d,10m:7d',
  /** Rolled-up tiers and old rows are maintained at most this often. */
  maintenanceIntervalMs: 60_000,
  /** Failure samples and topology/container events written per flush; the rest are counted as suppressed. */
  maxFailureSamplesPerFlush: 10,
  maxTopologyEventsPerFlush: 200,
  maxContainerEventsPerFlush: 100,
  /** `/api/v1/graph?at=`: edges seen this long before the bucket also show (with zero numbers). */
  atWindowMs: 60_000,
  /** `/api/v1/timeseries` without step: the finest tier giving at most this many points. */
  seriesTargetPoints: 1000,
  /** ...and never more than this many points. */
  seriesMaxPoints: 20_000,
  eventsDefaultLimit: 1000,
  eventsMaxLimit: 10_000,
  /** Dimension rows' last-seen time is rewritten at most this often per node or edge. */
  lastSeenWriteMs: 60_000,
} as const;
