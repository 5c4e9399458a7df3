// Every default and limit in one place. The kernel side's map sizes are set
// from here at load time, so the C code holds no second copy.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (dist/src/config -> repo root at run time). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const BPF_OBJECT_PATH = path.join(REPO_ROOT, 'build', 'bpf', 'dhrishti.bpf.o');
export const NATIVE_ADDON_PATH = path.join(REPO_ROOT, 'src', 'native', 'build', 'Release', 'dhrishti_native.node');

export const DEFAULTS = {
  /** The highest pid Linux can give (PID_MAX_LIMIT - 1 on 64-bit): a --pid above it names no process. */
  pidMax: 4_194_303,
  /** Ring buffer size in bytes (power of two, multiple of the page size). */
  ringbufBytes: 4 * 1024 * 1024,
  /**
   * Batching of ring buffer reads: one wake-up per this many ms at most, instead of one per record.
   * 50, not 20: under connection-per-request load the agent used ~10% less CPU per connection (fewer
   * timer wake-ups; system time fell most). 250 then cost more again, with batches too big for the
   * caches; since a drain is handed on in passes (batchSlots), 100 used ~7% less than 50 (8
   * alternating pairs: 47.6 against 50.6 ms per 10k connections by medians, lower in 6 of 8).
   * While busy, only this timer drains: the 4 MB events ring holds 100 ms of ~290k records a second.
   */
  drainDelayMs: 100,
  /**
   * Records handed on at once, at most: a drain is split into passes of this many ring slots (72 KB).
   * Under connection-per-request load a 50 ms drain held ~4,000 records (570 KB), and the pooled
   * events, connections and counts one pass touches then outgrew the core's 1 MB cache: the agent
   * used ~25% less CPU per connection in passes of 400-1,000 (128 gave back part of it).
   */
  batchSlots: 512,
  /** Sockets tracked at once in the kernel (`conns`: its entries are allocated as sockets come, not up front). */
  connMapEntries: 65536,
  /** How often open connections' counters are read from the kernel. */
  flushIntervalMs: 1000,
  /** API listen address and port. */
  apiHost: '127.0.0.1',
  apiPort: 7979,
  /** Tracefs mount points tried in order. */
  tracefsPaths: ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'],
  bpffsPath: '/sys/fs/bpf',
  /**
   * The kernel verifier's budget per program (BPF_COMPLEXITY_LIMIT_INSNS: instructions it may process
   * while exploring paths), and the share of it past which `dhrishti doctor` warns: another kernel's
   * verifier prunes paths differently and may refuse a program near the limit.
   */
  verifierInsnLimit: 1_000_000,
  verifierWarnShare: 0.8,
  dockerSocket: '/var/run/docker.sock',
  /** kubelet's links to container logs, named <pod>_<namespace>_<container>-<id>.log: pod names without Docker. */
  kubeletContainerLogs: '/var/log/containers',
  /** Identity: stopped containers remembered for late events (oldest evicted). */
  maxStoppedContainers: 1000,
  /** Identity: how long a stopped or removed container still owns its addresses (connections closing as it goes). */
  releasedAddressGraceMs: 30_000,
  /** Identity: Docker reconnect backoff, doubling from min to max. */
  dockerReconnectMinMs: 1000,
  dockerReconnectMaxMs: 10000,
  /**
   * Event-loop lag is sampled by a timer this often (prom-client's default of 10 ms wakes an idle agent
   * 100 times a second, most of its idle CPU); a blocked loop still shows, as a late sample.
   */
  eventLoopSampleMs: 100,
  /** Identity: a cgroup id miss walks the cgroup v2 tree at most this often. */
  cgroupRescanIntervalMs: 1000,
  /** Identity: cgroup directories watched for new cgroups at most (the root and its children; container parents first). */
  cgroupWatchMax: 1024,
  /** Identity: host process info cache (entries, and how long an entry is trusted before its start time is checked again). */
  processCacheEntries: 8192,
  processCacheTtlMs: 10000,
  /** Identity: processes whose exec arguments the kernel keeps (exec_args, LRU) for when /proc/<pid> is already gone. */
  execArgsEntries: 8192,
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
] as const;

/** Tracepoints the core uses when the kernel lets it, never required: process starts (src/kernel/proc/exec.c), whose
 *  argv names a process that exits before its /proc entry is read. */
export const OPTIONAL_TRACEPOINTS = [
  'sched/sched_process_exec',
  'sched/sched_process_fork',
] as const;

/** Kernel programs of each capture that shares the BPF object with the connection probes (engine.use):
 *  loaded only while that capture is in use, never required. By name, or by 'prefix*'. */
export const CAPTURE_PROGRAMS = {
  l7: ['dh_ssl_*'], // the rest runs inside the send, receive and close programs (src/kernel/sock_io.c, sock_close.c)
  dns: [], // all of it runs inside the send and receive programs (src/kernel/dns/capture.c)
} as const satisfies Record<string, readonly string[]>;

/** Load-time constant of each capture in the object (src/kernel/sock_io.c): its code inside the send and
 *  receive programs, which every capture shares with the connection probes, is left out when it is 0. */
export const CAPTURE_SWITCHES = {
  l7: 'dh_l7_on',
  dns: 'dh_dns_on',
} as const satisfies Record<keyof typeof CAPTURE_PROGRAMS, string>;

/** DNS capture (src/kernel/dns, src/dns): what counts as DNS, and every bound. */
export const DNS_DEFAULTS = {
  /** Server ports whose traffic is DNS, at most 4 (Docker's embedded resolver at 127.0.0.11 counts on any port). */
  ports: [53] as readonly number[],
  /** A resolver on this host is named by the process serving UDP on its address and port, looked up again after this long. */
  hostResolverLookupMs: 60_000,
  /** Bytes of each message segment copied in the kernel (at most 512, DH_DNS_DATA_MAX). */
  captureBytes: 512,
  /**
   * The DNS ring buffer, in bytes (power of two): 3,300 records of 624 bytes, 0.33 s of 5k queries/s (a
   * query and its answer) if the agent is held up; records lost beyond it are counted. Its pages are
   * resident and mapped twice: 4 MB of the agent's RSS (8 MB at 4 MB, which put case B of
   * bench/service-map.ts at 151.6 MB against its 150).
   */
  ringbufBytes: 2 << 20,
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
  /** An NXDOMAIN followed within this by an answer for a shorter name (search-list expansion) is not a failure. */
  searchExpansionWindowMs: 5000,
};

/** The API server (src/api): its bounds and the WebSocket stream's flow control. */
export const API_DEFAULTS = {
  /** Longest path parameter the router accepts, percent-encoded: a 2 KB node or edge id needs up to 6 KB. */
  maxParamLength: 16 * 1024,
  /** WebSocket /api/v1/stream clients at once (`--max-stream-clients`); one more is closed with 1013. */
  maxStreamClients: 100,
  /** A ping follows every message, and goes out at least this often on an idle stream. */
  streamPingIntervalMs: 15_000,
  /** A client that leaves a ping unanswered this long (dead, or not reading) is dropped: 2 ping intervals. */
  streamPongTimeoutFactor: 2,
  /** Bytes sent to a client and not yet confirmed by its pong; above this, deltas wait and merge into one. */
  streamWindowBytes: 1 << 20,
  /** How long a closing client gets to answer the close frame before its socket is destroyed. */
  streamCloseTimeoutMs: 5_000,
  /** Tokens shorter than this draw a warning. */
  minTokenChars: 16,
  /** How long `dhrishti graph` and `dhrishti check --url` wait for an agent's answer. */
  clientTimeoutMs: 30_000,
} as const;

/** The live graph's bounds. */
/**
 * Linux's default range of client ports (net.ipv4.ip_local_port_range). A socket the kernel met midway
 * (its handshake predates the agent) has no role of its own; when no listener is known for its port yet
 * (start-up discovery still running), a local port outside this range facing a remote one inside it is the server's.
 */
export const EPHEMERAL_PORTS = { low: 32768, high: 60999 } as const;

/**
 * Docker's embedded DNS server: in every container on a user-defined network, dockerd listens at this address (TCP
 * and UDP, on random ports its NAT rules send port 53 to), inside the container's namespace.
 */
export const DOCKER_EMBEDDED_DNS = '127.0.0.11';

export const GRAPH_DEFAULTS = {
  idleMs: 15 * 60_000,
  /** Most client instances an edge names (GraphEdge.clientInstances; a past map's edge, over its span, too). */
  clientInstances: 8,
  /** Failed connections an edge keeps as samples, and a node's detail lists (newest). */
  failureSamples: 20,
  /** How long a failed docker-proxy hop names the reset of its client's connection (graph/live-graph.ts hopReason). */
  proxyHopFailureMs: 2000,
  /** Traffic on an open connection moves its nodes' lastSeen at once, and their version (a delta then carries them) at most this often. */
  nodeSeenStepMs: 5000,
  /** Nodes' instances drop the pids of processes that exited this often (a restarted container, a restarted host server). */
  pidSweepMs: 30_000,
  maxExternalNodes: 1000,
  pairGraceMs: 300,
  tickMs: 100,
  /** WebSocket deltas at most this often. */
  streamIntervalMs: 500,
  /**
   * An edge whose only news is traffic (counts and rates moving; its open count, failures and request errors the same)
   * is sent to a stream client at most this often: a busy map's steady edges are most of each delta.
   */
  streamTrafficMs: 2000,
  /** Resolver edges take the DNS health this often. */
  dnsSyncMs: 1000,
  /** A DNS client in a container Docker has not named yet waits this long for its name before its resolver edge is drawn. */
  dnsClientNameGraceMs: 5000,
};

/** The kernel's switch for counting BPF programs' run time (1: on). */
export const BPF_STATS_ENABLED_PATH = '/proc/sys/kernel/bpf_stats_enabled';

/** The history store (src/store): what is kept, how often it is written, and the API's bounds. */
export const HISTORY_DEFAULTS = {
  fileName: 'history.db',
  /** Tiers as resolution:keep; the finest is written every flush, coarser ones are rolled up from it.
   *  The 10 m tier adds no history (it ends with the 1 m one): it makes long ranges read ten times fewer rows. */
  retention: '10s:1d,1m:7d,10m:7d',
  /** Rolled-up tiers and old rows are maintained at most this often. */
  maintenanceIntervalMs: 60_000,
  /** Failure samples and topology/container events written per flush; the rest are counted as suppressed. */
  maxFailureSamplesPerFlush: 10,
  /** Failed and slow request samples (the kernel's, rate-limited) written per flush, for replay's panels; the rest are counted as suppressed. */
  maxRequestSamplesPerFlush: 5,
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
  /** At open, files up to this size are read whole by PRAGMA quick_check (~5 ms per MB); larger ones get a sampled check. */
  integrityCheckMaxBytes: 256 * 1024 * 1024,
  /** Intervals whose write failed (disk full) are kept in memory and written with the next flush that succeeds, up to
   *  this many intervals or rows (rows + events); past that the oldest interval is dropped and counted. */
  pendingMaxIntervals: 720,
  pendingMaxRows: 100_000,
  /** A history file that could not be opened (another agent holds it, disk full) is tried again this often. */
  reopenIntervalMs: 30_000,
  /** Repeated write failures are reported on stderr at most this often. */
  warnIntervalMs: 60_000,
} as const;

/** Requests (L7): what the kernel keeps, how samples are limited, and where TLS libraries are looked for.
 *  Map sizes are set at load time; the rest is written to the kernel's `l7_config` map. */
export const L7_DEFAULTS = {
  /** Capture requests at all (`--no-l7` turns it off: the L7 programs are then not attached). */
  enabled: true,
  /** Sockets whose requests are aggregated in the kernel at once (`l7_socks`, 824 bytes each, allocated as they come); also the client sockets
   *  remembered by address tuple, so a local server can leave its requests to them (`l7_peers`, LRU, 48 bytes each), and HTTP/2
   *  connections' client HPACK paths (`h2_clients`, 1.2 KB each, allocated as they come). */
  socketEntries: 8192,
  /** Sockets remembered as not parsed (no known protocol, or left to their local client) that have no conns entry to keep
   *  that verdict in (LRU; a socket's own entry keeps it otherwise). */
  skipEntries: 16384,
  /** HTTP/2 streams in flight across all connections (`h2_streams`, LRU, 120 bytes each with its key and its request's path for a sample): a gRPC client may hold a hundred
   *  calls open on one connection; one connection holds at most 255. */
  h2Streams: 16384,
  /** Request prefix copied for samples, bytes (at most 256, the kernel's buffer). */
  prefixBytes: 256,
  /** Samples of failed and slow requests: on, at most this many per second in total, bursts of this many. */
  samples: true,
  samplesPerSec: 50,
  sampleBurst: 20,
  /** --l7-sample-rate's bound: past it the kernel's gap between samples rounds to nothing. */
  maxSamplesPerSec: 1_000_000,
  /** A request at least this slow is sampled. */
  slowMs: 200,
  /** --l7-slow-ms's bound (a day): the kernel holds it in nanoseconds. */
  maxSlowMs: 86_400_000,
  /** Ring buffer for samples, bytes (power of two). */
  samplesRingbufBytes: 256 * 1024,
  /** Ring buffer for closed sockets' last aggregates (160 bytes each), bytes (power of two). */
  finalRingbufBytes: 1024 * 1024,
  /**
   * The engine drains the closing aggregates just before each batch of connection events (leadingRings), so their own
   * drain is only a fallback, at most this often: at the events' drain delay (then 50 ms) it woke the agent 20 more times a second under
   * connection-per-request load, each time for the few sockets closed since, and each wake-up starts with cold caches.
   */
  finalDrainFallbackMs: 1000,
  /** `dhrishti trace --l7`: every request is a sample, up to this many per second. */
  traceSamplesPerSec: 5000,
  /** `dhrishti trace --l7`: how long a request read before its connection's events waits for its peer (about). */
  tracePeerWaitMs: 500,
  /** `dhrishti trace --l7`: requests waiting for their peer at most; the rest print with no peer. */
  traceMaxWaiting: 10_000,
  /** Recent samples kept in memory for the API. */
  recentSamples: 500,
  /** Recent failed and slow requests kept per edge (the edge panel's table). */
  edgeSamples: 20,
  /** TLS plaintext through OpenSSL uprobes; binaries are found through /proc/<pid>/maps. */
  tls: true,
  /** Distinct files (libraries or executables) probed at once at most; files no live process maps are detached and free their place. */
  tlsMaxTargets: 32,
  /** New processes are looked at this often for TLS libraries. */
  tlsScanIntervalMs: 10_000,
  /** Processes looked at per scan at most (the rest wait for the next scan). */
  tlsScanMaxProcesses: 2000,
  /** The host's OpenSSL, probed at start so short-lived clients (curl) are covered from their first call. */
  tlsHostLibraries: ['/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/aarch64-linux-gnu/libssl.so.3', '/usr/lib64/libssl.so.3', '/usr/lib/libssl.so.3'],
  /** Library names whose SSL_* functions are probed when a process maps them. */
  tlsLibraryPattern: /\/libssl\.so(\.[0-9.]+)?$/,
} as const;

/** Isolation policy (`--policy`), compose intent (`--compose`) and policy alerts (src/policy, src/intent). */
export const POLICY_DEFAULTS = {
  /** Policy and compose files larger than this are refused before parsing. */
  maxFileBytes: 256 * 1024,
  /** YAML aliases expanded per document at most (a billion-laughs file is refused, not expanded). */
  maxAliasCount: 100,
  /** How often the policy follows the live graph (new edges get verdicts, violations are noticed). */
  followIntervalMs: 500,
  /** A file change is read this long after the last change event (editors write in several steps). */
  reloadDebounceMs: 200,
  /** Files are also checked this often by stat (changes fs.watch misses: bind mounts, symlink swaps). */
  reloadPollMs: 2000,
  /** At start the map is still filling: "selector matches nothing" is said this long after, if still so. */
  coverageGraceMs: 15_000,
  /** A violation quiet this long that is seen again is a new timeline event (and a new alert). */
  quietMs: 5 * 60_000,
  /** Distinct sets of zones whose candidate rules a compiled policy keeps (nodes share them); past this the memo starts again. */
  maxZoneSets: 4096,
  /** Violations remembered at most (oldest last-seen forgotten first). */
  maxViolations: 10_000,
  /** The policy in force is written to the timeline at least this often, so `?at=` finds it within retention. */
  reaffirmMs: 24 * 3_600_000,
  /** Webhook: seconds before a POST is given up, retries with doubling backoff, and queued alerts at most. */
  webhookTimeoutMs: 5000,
  webhookRetries: 5,
  webhookBackoffMinMs: 1000,
  webhookBackoffMaxMs: 60_000,
  webhookQueue: 1000,
  /**
   * A firing policy alert is posted again this often, with endsAt this many periods ahead: Alertmanager ends an
   * alert without endsAt resolve_timeout (5 min) after its last post, so the reposts come well inside that. It ends
   * (endsAt = now) once its violation has been quiet for quietMs, as the shipped Prometheus rule's 5-minute window.
   */
  alertRepostMs: 60_000,
  alertEndsAfterReposts: 3,
} as const;

/** Bucket bounds of the per-edge histograms the graph keeps for exporters (GraphEdge.histograms). */
export const HISTOGRAM_BOUNDS = {
  /** Smoothed RTT in microseconds: loopback and same-host (tens of µs) to far regions (hundreds of ms); few, as every edge exports one row per bound. */
  rttUs: [50, 200, 1000, 5000, 20_000, 100_000, 500_000],
  /**
   * Connection duration in milliseconds. Powers of two of a microsecond (2^8 .. 2^23 µs), so that Tempo's
   * latency histograms can hold an edge's connections and another's requests (log2 µs buckets, src/graph/latency.ts)
   * at the same bounds exactly; beyond 8.39 s (where the request histogram ends) only +Inf.
   */
  durationMs: [0.256, 1.024, 4.096, 16.384, 65.536, 262.144, 1048.576, 4194.304, 8388.608],
  /**
   * Request latency bounds exported (src/export), in µs: L7 bounds only, so each exported bucket is a sum of whole
   * L7 buckets, and every Tempo bound above. Every L7 bound from 1 ms to 8.39 s (where the L7 histogram ends), where
   * request latencies that matter lie: with 4x steps there, histogram_quantile put the p95 of 300 ms requests at
   * 0.79 s. Below 1 ms every second one (16, 64, 256 µs), as a scrape of 2,000 edges pays for each row.
   */
  requestLatencyUs: [16, 64, 256, 1024, 2048, 4096, 8192, 16_384, 32_768, 65_536, 131_072, 262_144, 524_288, 1_048_576, 2_097_152, 4_194_304, 8_388_608],
} as const;

/** Edge metrics for Prometheus, OTLP and remote-write (src/export), and the hub (src/hub). */
export const EXPORT_DEFAULTS = {
  /** Edges exported with their own labels, busiest first; the rest are summed into one `other` series. */
  topEdges: 500,
  /** A labelled edge keeps its place unless an unlabelled one is this much busier (no flapping at the cut). */
  keepBonus: 1.25,
  /** The model is rebuilt at most this often, however many scrapers and pushers ask. */
  minRefreshMs: 1000,
  /** Listener and address rows exported at most (each IP of each listener is one row). */
  maxListenRows: 5000,
  otlpIntervalMs: 15_000,
  remoteWriteIntervalMs: 15_000,
  /** Series per remote-write request (an agent's push is sent in pieces of this many). */
  remoteWriteBatch: 5000,
  pushTimeoutMs: 10_000,
} as const;

export const HUB_DEFAULTS = {
  port: 7980,
  /** Live view: instant queries this often. */
  refreshMs: 5000,
  /** One PromQL request longer than this counts as Prometheus being slow (and fails). */
  queryTimeoutMs: 5000,
  /** An agent whose last report is older than this is shown stale. */
  staleAfterMs: 60_000,
  /** Agents that reported within this window are listed (down or stale ones too). */
  agentLookback: '1h',
  /** While refreshes fail, the last good map is still served this long (at least two refreshes), then the API answers 503. */
  staleMapGraceMs: 5000,
  /** A refresh asks for about this many edges per query (agents grouped by their edge counts; more agents, more queries, one after another). */
  edgesPerQuery: 1500,
  /** An agent's RTT p95s (a quantile over every bucket series) are asked again at most this often. */
  p95EveryMs: 60_000,
  /** The map's "1m" rates: between an agent's latest report and the one about this much earlier. */
  rateWindowMs: 60_000,
  /** /api/v1/timeseries on the hub: the default step is at least this (agents report every few seconds, not every second). */
  seriesMinStepMs: 10_000,
  /** Edge detail on the hub: rates over the last this long, one point per step. */
  detailSeriesMs: 5 * 60_000,
  detailStepMs: 15_000,
  /** Failures listed in an edge's or node's detail: counted over this long before now. */
  recentFailuresMs: 15 * 60_000,
  /** Events: presence is sampled at about this many steps over the range (first and last seen to within a step). */
  eventSteps: 240,
} as const;

