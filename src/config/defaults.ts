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
  /** Identity: host process info cache (entries, and how long an entry is trusted). */
  processCacheEntries: 8192,
  processCacheTtlMs: 30000,
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

/** Programs that may fail to attach without stopping the agent (owner naming at accept; DNS capture). */
export const OPTIONAL_PROGRAMS = new Set(['dh_sys_exit_accept4', 'dh_sys_exit_accept',
  'dh_dns_sock_send', 'dh_dns_sock_recv', 'dh_dns_exit_sendmmsg', 'dh_dns_exit_recvmmsg']);

/** DNS capture (src/kernel/dns, src/dns): what counts as DNS, and every bound. */
export const DNS_DEFAULTS = {
  /** Server ports whose traffic is DNS, at most 4 (Docker's embedded resolver at 127.0.0.11 counts on any port). */
  ports: [53] as readonly number[],
  /** Bytes of each message segment copied in the kernel (at most 512, DH_DNS_DATA_MAX). */
  captureBytes: 512,
  /** The DNS ring buffer, in bytes (power of two): 6,700 records of 624 bytes, 0.7 s of 5k queries/s if the agent is held up. */
  ringbufBytes: 4 << 20,
  /** Records per second each CPU may emit; beyond it they are counted as rate-limited. 0: no limit. */
  maxRecordsPerSecPerCpu: 20_000,
  /** Unconnected UDP sockets remembered after sending a query, so their answers are taken (kernel LRU). */
  peerMapEntries: 4096,
  /** Threads inside sendmmsg/recvmmsg on a DNS socket at once (kernel LRU). */
  mmsgMapEntries: 1024,
  /** A query with no answer within this is a timeout. */
  queryTimeoutMs: 5000,
  /** Queries awaiting their answer at once; the oldest are dropped (counted) beyond it. */
  maxPendingQueries: 10_000,
  /** Name map: addresses named at once, over all network namespaces; least recently used go first (counted). */
  nameMapEntries: 10_000,
  /** An answer names its addresses for its TTL, but at least this long... */
  minHoldMs: 60_000,
  /** ...and at most this long. */
  maxHoldMs: 24 * 3600_000,
  /** Names kept per address, and clients remembered per name of an address. */
  maxNamesPerAddress: 8,
  maxClientsPerName: 8,
  /** Addresses kept per name (the latest answer). */
  maxAddressesPerName: 32,
  /** Parser bounds: resource records read per message, compression pointers followed per name, CNAME links followed. */
  maxRecordsPerMessage: 64,
  maxPointerJumps: 16,
  maxCnameChain: 8,
  /** Clients (client x resolver pairs) with health kept; least recently active go first (counted). */
  maxHealthEntries: 2000,
  /** Failing names kept per client x resolver pair, and how many the API lists. */
  maxFailingNames: 50,
  topFailingNames: 10,
  /** Queries-per-second window. */
  rateWindowSec: 10,
  /** Latency histogram bucket upper bounds in ms (the last bucket is open). */
  latencyBucketsMs: [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as readonly number[],
  /** TCP DNS streams reassembled at once, and bytes of one message kept while it is reassembled. */
  maxTcpStreams: 1024,
  maxMessageBytes: 4096,
  /** Split UDP messages (several iovec segments) awaiting their last segment. */
  maxPartialMessages: 256,
  /** Sockets whose decoded facts (addresses, process) are cached. */
  socketCacheEntries: 4096,
  /** An NXDOMAIN followed within this by an answer for a shorter name (search-list expansion) is not a failure. */
  searchExpansionWindowMs: 5000,
};

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
  /** Records per decodeBatch call in the smaller-batch variants (a full 4 MiB ring buffer holds 29k records). */
  decodeBatchRecords: [256, 4096],
  /** V8 flags the agent runs with: the same as the ./dhrishti launcher's, so the bench measures what ships. */
  agentNodeFlags: ['--max-semi-space-size=8'],
  targets: {
    keepAliveRatio: 0.97,
    connPerRequestRatio: 0.93,
    agentCorePercentAt10kConnPerSec: 5,
    decodeRecordsPerSec: 2_000_000,
  },
} as const;

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

/** bench/history.ts: the synthetic load written through the history store, and the targets. */
export const HISTORY_BENCH = {
  edges: 1000,
  nodes: 200,
  hours: 24,
  /** Each query is timed this many times; the median is reported. */
  queryRuns: 9,
  targets: { databaseBytes: 500 * 1024 * 1024, queryMs: 100 },
} as const;
