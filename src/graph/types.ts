// The service map as the API serves it. This file is the contract between the
// graph, the store, the API and the web UI: change it in one place only.

export type NodeKind =
  | 'service' // replicas of one Compose service or Kubernetes workload
  | 'container' // a container without service labels
  | 'process' // a host process (named by systemd unit or executable)
  | 'external' // a server outside this host
  | 'client'; // a remote client connecting to local services

export type FailureReason = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'aborted';
export const FAILURE_REASONS: FailureReason[] = ['refused', 'timeout', 'reset', 'unreachable', 'aborted'];

/** One container or process behind a node. */
export interface Instance {
  id: string; // container id, or "pid:<n>"
  name: string;
  pids: number[];
  ips: string[];
  image?: string;
  state?: 'running' | 'stopped';
  startedAt?: number;
  stoppedAt?: number;
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
}

/** Rates per second over a sliding window. */
export interface Rates {
  connections: number; // opened per second
  failures: number;
  bytesSent: number; // client -> server
  bytesReceived: number; // server -> client
}

export interface GraphEdge {
  id: string; // `${source}|${target}|${port}|${protocol}`
  source: string; // client node id
  target: string; // server node id
  port: number; // server port as the server sees it
  protocol: 'tcp';
  connections: {
    opened: number;
    active: number;
    closed: number;
    failed: number;
    failedBy: Record<FailureReason, number>;
  };
  bytes: { sent: number; received: number };
  rtt: { meanUs: number; p95Us: number; samples: number };
  retransmits: number;
  duration: { meanMs: number; p95Ms: number; samples: number };
  firstSeen: number;
  lastSeen: number;
  rates: { '10s': Rates; '1m': Rates };
  /** Bucketed RTT (µs) and duration (ms) of closed connections, for exporters; only when asked for (GraphFilter.histograms). */
  histograms?: { rttUs: Histogram; durationMs: Histogram };
}

/** Samples counted per bucket: counts[i] holds those ≤ bounds[i] (and above bounds[i-1]); the last count, those above every bound. */
export interface Histogram {
  bounds: readonly number[];
  counts: number[];
  sum: number;
}

export interface GraphSnapshot {
  generatedAt: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

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
}

export interface EdgeDetail extends GraphEdge {
  recentFailures: FailureSample[];
  series: { time: number; connections: number; failures: number; bytesSent: number; bytesReceived: number }[];
}

export interface NodeDetail extends GraphNode {
  incoming: string[]; // edge ids
  outgoing: string[];
  recentFailures: FailureSample[];
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
