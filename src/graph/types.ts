// The service map as the API serves it. This file is the contract between the
// graph, the store, the API and the web UI: change it in one place only.

export type NodeKind =
  | 'service' // replicas of one Compose service or Kubernetes workload
  | 'container' // a container without service labels
  | 'process' // a host process (named by systemd unit or executable)
  | 'external' // a server outside this host
  | 'client'; // a remote client connecting to local services

// Failure reasons are defined with the events that carry them.
import type { FailureReason } from '../events/types.js';
export { FAILURE_REASONS } from '../events/types.js';
export type { FailureReason } from '../events/types.js';
import type { L7Protocol, L7StatusClass } from '../l7/types.js';
import type { DnsOutcomes } from '../dns/types.js';
import type { VacantAddress } from '../identity/types.js';
export type { VacantAddress } from '../identity/types.js';

/** One container or process behind a node. */
export interface Instance {
  id: string; // container id, or "pid:<n>"
  name: string;
  pids: number[];
  ips: string[];
  /** A host process's command line as started, cut short and stripped of control characters. */
  command?: string;
  image?: string;
  state?: 'running' | 'stopped';
  startedAt?: number;
  stoppedAt?: number;
  /** A container renamed since (`docker rename`): it runs on under this name, another node; under this one it is gone, stopped at the rename. */
  renamedTo?: string;
}

export interface GraphNode {
  id: string; // e.g. "svc:shop/api", "ctr:redis-1", "proc:nginx.service", "ext:203.0.113.9", "client:198.51.100.7"
  kind: NodeKind;
  label: string;
  /** Compose project or Kubernetes namespace; "host" for host processes; null for outside ends. */
  group: string | null;
  image?: string;
  labels?: Record<string, string>;
  instances: Instance[];
  /** Addresses this node was seen with. */
  ips: string[];
  firstSeen: number; // unix ms
  lastSeen: number;
  /** Connections open now, in or out. */
  active: number;
  /** Hosts this node runs on (set by the hub, which joins many agents; absent on a single agent's map). */
  hosts?: string[];
  /** Names from DNS answers its clients received; absent when no client resolved it by name. */
  dns?: NodeDns;
  /**
   * An external server whose address is inside a container network on this host, held by no container: its clients
   * call a container that is gone (`lastHolder`, when this agent knew it). Absent on other nodes.
   */
  vacant?: VacantAddress;
}

/**
 * DNS names of a node, from the answers processes on this host received (never
 * from reverse lookups). An external node named by DNS has `ext:<name>` as id and
 * the name as label; its addresses are `ips`. A container resolved through
 * Docker's embedded DNS keeps its own node and lists the names here.
 */
export interface NodeDns {
  /** Names clients resolved to reach it, in the order first seen (bounded); an external node named by DNS has its name first. */
  names: string[];
  /** The CNAME chain of the latest answer naming it, from the name asked to the canonical name (empty without CNAMEs). */
  cnames: string[];
  /** Registered domain of the first name (public suffix list: `payments.partner.example` -> `partner.example`); null if it has none. */
  domain: string | null;
}

/**
 * DNS health of one client towards its resolver, on a resolver edge
 * (protocol 'dns', port the resolver's). Counts are running totals since the
 * edge appeared on the live map; on a history map, those of the bucket or range.
 */
export interface EdgeDns extends DnsOutcomes {
  /** Resolver addresses asked (Docker's embedded DNS answers at 127.0.0.11 inside each container). */
  resolvers: { address: string; port: number; dockerEmbedded: boolean }[];
  /** nxdomain + servfail + refused + otherErrors + timeouts (an NXDOMAIN of a search-list expansion is not one). */
  failures: number;
  /** Over the last 10 s. */
  queriesPerSec: number;
  /** Answer latency; null when nothing was answered. History maps carry only p95 (the largest of their buckets). */
  latency: { p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  /** The names that failed most, with the last reason (NXDOMAIN, SERVFAIL, REFUSED, timeout, ...). */
  failingNames: { name: string; count: number; reason: string; lastSeen: number }[];
}

/** Rates per second over a sliding window. */
export interface Rates {
  connections: number; // opened per second
  failures: number;
  bytesSent: number; // client -> server
  bytesReceived: number; // server -> client
  /** TCP segments retransmitted per second; "retransmitting lately" is this over '10s' being above 0. */
  retransmits?: number;
}

/**
 * One edge: TCP connections from client to server, or (protocol 'dns') a
 * client's DNS queries to its resolver. On a DNS edge `connections` counts
 * queries (opened: sent, closed: answered, failed: failed, failedBy stays 0:
 * `dns` says why), `rates.connections`/`rates.failures` are queries and failed
 * queries per second, and bytes, RTT, retransmits and duration stay 0.
 * Counts (connections opened/closed/failed, bytes, retransmits) are
 * running totals since the edge appeared on the live map; on a map read from
 * the history (`at=`, `from`/`to`) they are the totals of that bucket or range
 * instead. `rates` are per second in both, and are what "lately" should read.
 */
export interface GraphEdge {
  id: string; // `${source}|${target}|${port}|${protocol}`
  source: string; // client node id
  target: string; // server node id
  port: number; // server port as the server sees it
  protocol: 'tcp' | 'dns';
  connections: {
    /** Connections seen opening. One that predates the agent (found at its start) is active, never opened. */
    opened: number;
    active: number;
    closed: number;
    failed: number;
    failedBy: Record<FailureReason, number>;
  };
  bytes: { sent: number; received: number };
  rtt: { meanUs: number; p95Us: number; samples: number };
  /** TCP segments retransmitted (see above: a running total live, the bucket's or range's count in history). */
  retransmits: number;
  duration: { meanMs: number; p95Ms: number; samples: number };
  firstSeen: number;
  lastSeen: number;
  rates: { '10s': Rates; '1m': Rates };
  /** The isolation policy's verdict (`--policy`); absent when no policy is loaded. */
  policy?: PolicyVerdict;
  /**
   * The client node's instances that made this edge's connections, most recent last (live map only, at most 8):
   * container names, or a process's command and pid. Which replica still calls the old database.
   */
  clientInstances?: string[];
  /**
   * Requests on this edge's connections, one entry per application protocol
   * (src/l7); absent when none was seen. Counts follow the same rule as the
   * connection counts above: running totals live, the bucket's or range's in history.
   */
  requests?: EdgeRequests[];
  /** DNS health, on resolver edges (protocol 'dns') only. */
  dns?: EdgeDns;
  /** Bucketed RTT (µs) and duration (ms) of closed connections, for exporters; only when asked for (GraphFilter.histograms). */
  histograms?: {
    rttUs: Histogram; durationMs: Histogram;
    /** Per protocol with requests: the latency histogram (LATENCY_BUCKETS log2 µs buckets, src/graph/latency.ts) and exact sum. */
    requests?: { protocol: RequestProtocol; buckets: number[]; latencySumNs: number }[];
  };
}

/** Samples counted per bucket: counts[i] holds those ≤ bounds[i] (and above bounds[i-1]); the last count, those above every bound. */
export interface Histogram {
  bounds: readonly number[];
  counts: number[];
  sum: number;
}

// ---- requests (L7) ----

/** Application protocols whose requests are counted, recognised from the first bytes (never the port). */
export type RequestProtocol = Exclude<L7Protocol, 'unknown' | 'tls'>;
export const REQUEST_PROTOCOLS: readonly RequestProtocol[] = ['http1', 'http2', 'postgres', 'mysql', 'redis'];

/**
 * Status class of a completed request: HTTP by the first digit of the status
 * ('other': a response with no usable status); gRPC (grpc-status), databases
 * and Redis are 'ok' or 'error'. Defined with the kernel's enum (src/l7/types.ts).
 */
export type RequestStatusClass = L7StatusClass;
export { STATUS_CLASSES as REQUEST_STATUS_CLASSES } from '../l7/types.js';

/**
 * Latency figures drawn from the log2 histogram (bucket i holds [2^i, 2^(i+1)) µs):
 * the mean is exact, percentiles are interpolated within their bucket.
 */
export interface LatencySummary {
  /** Requests the figures are drawn from (0: the others are 0). */
  samples: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** Requests per second over a window, and the latency of the requests in it. */
export interface RequestRates {
  requests: number;
  /** Failed requests per second: HTTP 5xx, gRPC non-OK, database and Redis errors. */
  errors: number;
  /** HTTP 4xx per second (the client's mistake: apart from errors). */
  clientErrors: number;
  /** HTTP 5xx per second, part of errors: the rest of an HTTP edge's errors got no response (the server's end closed). */
  serverErrors: number;
  latency: LatencySummary;
}

/** One protocol's requests on an edge (RED: rate, errors, duration). */
export interface EdgeRequests {
  protocol: RequestProtocol;
  /** HTTP/2 whose responses carry grpc-status: gRPC. */
  grpc: boolean;
  /** Some were seen as plaintext through the TLS (OpenSSL) uprobes. */
  tls: boolean;
  /** Requests completed (with a response). */
  count: number;
  /** The same requests by status class. */
  status: Record<RequestStatusClass, number>;
  /** status['5xx'] + status.error: HTTP 5xx, gRPC non-OK, database and Redis errors. */
  errors: number;
  /** status['4xx']: HTTP 4xx, counted apart from errors. */
  clientErrors: number;
  /** Responses with no request to pair, and requests that never got one (framing lost, closed in flight). */
  unpaired: number;
  /** Latency of the `count` requests. */
  latency: LatencySummary;
  rates: { '10s': RequestRates; '1m': RequestRates };
}

/** A failed or slow request, sampled in the kernel (rate-limited) and kept on its edge. */
export interface RequestSample {
  time: number; // unix ms when the response completed it (or the connection closed on it: reason 'no-response')
  protocol: RequestProtocol;
  /** HTTP method, SQL verb or Redis command; null when its bytes were not kept (inside a pipeline, or --l7-prefix-bytes 0). */
  method: string | null;
  /** Path without query string, or the normalised SQL statement (literals as ?); null when not kept or not applicable. */
  target: string | null;
  /** HTTP status, grpc-status, MySQL error number, or 0 / 1 (ok / error) for the others; 0 with reason 'no-response'. */
  status: number;
  /** What a failure's response named: PostgreSQL's SQLSTATE ('42P01': undefined table), a Redis error's prefix ('WRONGTYPE'). */
  code?: string;
  statusClass: RequestStatusClass;
  latencyMs: number;
  /** The process that saw it, and from which end of the connection. */
  pid: number;
  process: string;
  side: 'client' | 'server';
  /** Who answered: the server end's instance (a container, or a host process with its pid), else its address:port.
   *  Tells which replica of a scaled service failed. Absent when the connection was never placed. */
  server?: string;
  tls: boolean;
  /** no-response: the server's end closed (died, reset, hung up) with the request unanswered; counted as an error.
   *  abandoned: the client's end closed first (its timeout), after the slow threshold; counted unpaired, not failed. */
  reasons: ('failed' | 'slow' | 'traced' | 'no-response' | 'abandoned')[];
}

/** One protocol's latency histogram on an edge: bucket i holds [2^i, 2^(i+1)) µs (bucket 0 from 0, the last open-ended). */
export interface RequestHistogram {
  protocol: RequestProtocol;
  /** Every request counted on the edge (live), or in the bucket or range (history). */
  total: number[];
  /** The last minute's requests (live only; equal to total in history). */
  lastMinute: number[];
  /** The exact latency sums of those requests, µs: percentiles read from the buckets are narrowed with them (graph/latency.ts). */
  totalSumUs?: number;
  lastMinuteSumUs?: number;
  /** At least the slowest of those requests, µs (0 or absent: not known): ends the estimate of a percentile in the slowest bucket. */
  totalMaxUs?: number;
  lastMinuteMaxUs?: number;
}

/** What the policy says about an edge: decided by the first rule that matches it. */
export interface PolicyVerdict {
  verdict: 'allowed' | 'violation' | 'unmatched';
  /** The deciding rule's name; absent when unmatched. */
  rule?: string;
  /** A violation seen only as failed connection attempts so far: it never connected. */
  attempted?: boolean;
}

export interface GraphSnapshot {
  generatedAt: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/**
 * The map from history (/api/v1/history/graph): at a moment (`at`, the bucket's `resolutionMs`, `recordedMs` of it), or
 * summed over [from, to); then `recordedMs` is how much of the range, widened to whole finest buckets as its
 * sums are, the agent was recording: its rates are over that (0 when its starts are not on record: then over
 * the whole widened range). So for a range of a few seconds it can exceed `to - from`.
 */
/**
 * /api/v1/timeline: per bucket with any, the connections that failed (by reason) and the failed requests over
 * all edges. Exact, from the stored per-bucket counts: the failure events are samples, capped per flush.
 */
export interface TimelineBucket { t: number; failures: number; failedBy: Partial<Record<FailureReason, number>>; requestErrors: number }
export interface Timeline { step: number; from: number; to: number; buckets: TimelineBucket[] }

export interface HistoryGraph extends GraphSnapshot { at?: number; from?: number; to?: number; resolutionMs?: number; recordedMs?: number }

/** What changed since the previous message on the WebSocket. */
export interface GraphDelta {
  generatedAt: number;
  nodes: GraphNode[]; // added or changed
  edges: GraphEdge[];
  removedNodes: string[];
  removedEdges: string[];
}

/** A failed connection, kept as a sample on its edge. */
export interface FailureSample {
  time: number;
  reason: FailureReason;
  error: string | null;
  clientPid: number;
  clientComm: string;
  clientAddr: string;
  serverAddr: string;
  /** Failures this entry stands for, when more than one: the hub has counts per reason and interval, not each failure. */
  count?: number;
}

export interface EdgeDetail extends GraphEdge {
  recentFailures: FailureSample[];
  /** Per second over the last minute; retransmits are segments retransmitted in that second; requests and requestErrors (all protocols) likewise. */
  series: { time: number; connections: number; failures: number; bytesSent: number; bytesReceived: number; retransmits?: number; requests?: number; requestErrors?: number }[];
  /** Latency histograms of the requests, per protocol (empty without requests). */
  requestLatency?: RequestHistogram[];
  /** Recent failed and slow requests, newest first. */
  recentRequests?: RequestSample[];
}

/** A TCP port a node's instances listen on now, and where Docker publishes it on the host. */
export interface NodePort {
  port: number;
  /** `hostIp:hostPort` bindings of a container's port (`0.0.0.0:15432`); empty when not published. */
  published: string[];
}

export interface NodeDetail extends GraphNode {
  incoming: string[]; // edge ids
  outgoing: string[];
  /**
   * Ports its instances listen on now (listen events, and the start-up walk of /proc for older sockets), whether or
   * not anyone connects to them; absent when none is known (outside ends, a node that serves nothing).
   */
  listening?: NodePort[];
  recentFailures: FailureSample[];
  /** Inbound RED: the requests of the incoming edges, per protocol, summed (histograms exactly). */
  inboundRequests?: EdgeRequests[];
  /** Recent failed and slow requests on the incoming edges, newest first. */
  recentRequests?: RequestSample[];
}

/** A remote client (not on this host) that connects to local services. */
export interface RemoteClient {
  ip: string;
  connections: number;
  active: number;
  failed: number;
  bytesSent: number;
  bytesReceived: number;
  firstSeen: number;
  lastSeen: number;
  targets: { node: string; port: number; connections: number }[];
}

/** Messages on the WebSocket /api/v1/stream. */
export type StreamMessage =
  | { type: 'snapshot'; graph: GraphSnapshot; agent: AgentStatus }
  | { type: 'delta'; delta: GraphDelta; agent: AgentStatus };

export interface AgentStatus {
  eventsPerSec: number;
  lostEvents: number;
  identityMisses: number;
  uptimeSec: number;
}

/**
 * The history store's health: `history` in /api/v1/agent, /api/v1/history, the UI status bar and /metrics.
 * - ok: recording.
 * - recovered: recording into a fresh file since a corrupt one was set aside this run (see lastCorruption).
 * - read_only: the data folder cannot be written; the existing file is served, nothing new is recorded.
 * - failing: writes fail (e.g. the disk is full); intervals are held in memory and written when writes work again.
 * - unavailable: the file can be neither read nor written (history routes answer 503).
 */
export type HistoryState = 'ok' | 'recovered' | 'read_only' | 'failing' | 'unavailable';

export interface HistoryHealth {
  state: HistoryState;
  file: string;
  /** Why the state is not ok, naming the file; null when ok. */
  reason: string | null;
  /** When the store entered this state (unix ms). */
  since: number;
  /** Corrupt files set aside since the agent started. */
  corruptions: number;
  lastCorruption: { time: number; found: 'open' | 'read' | 'write'; detail: string; movedTo: string | null } | null;
  /** ok: written; failed: a write was tried and failed; skipped: not tried (read-only, or no usable file). */
  flushes: { ok: number; failed: number; skipped: number };
  lastError: string | null;
  /** Intervals not written yet, held in memory (lost if the agent stops before writes work again). */
  pending: { intervals: number; rows: number; events: number };
  /** Intervals dropped because the pending buffer was full: never written. */
  dropped: { intervals: number; rows: number; events: number };
}
