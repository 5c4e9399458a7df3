// What happened on the map since the history store last asked: exact per-edge
// sums and counts, the samples of the interval's own RTTs, failure samples,
// and which edges and nodes appeared or vanished. The store drains it once per
// flush; nothing is diffed or cloned.
import { FAILURE_REASONS, type FailureReason, type FailureSample, type GraphEdge, type GraphNode, type RequestSample } from './types.js';
import { IntervalSamples } from './stats.js';
import { requestIntervals, type RequestInterval, type RequestTotals } from './request-totals.js';
import type { RequestProtocol } from './types.js';
import { bucketQuantile } from '../dns/health.js';
import { DNS_DEFAULTS } from '../config/defaults.js';

/** An edge's identity, as the store keeps it (a GraphEdge fits). */
/** firstSeen, when given, is when the edge appeared on the live map: history's first_seen, not the write time. */
export type EdgeDesc = Pick<GraphEdge, 'id' | 'source' | 'target' | 'port' | 'protocol'> & Partial<Pick<GraphEdge, 'firstSeen'>>;

/** Counts on one edge since the last drain. */
export class IntervalCounts {
  opened = 0;
  closed = 0;
  failed = 0;
  readonly failedBy = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>;
  sent = 0;
  received = 0;
  retransmits = 0;
  /** Smoothed RTT of each connection that closed. */
  readonly rtt = new IntervalSamples();
  /** Duration (ms) of each connection that closed and was seen from its start. */
  readonly duration = new IntervalSamples(0);
  /** Requests (L7) per protocol, once any were counted (request-totals.ts). */
  requests: Map<RequestProtocol, RequestTotals> | null = null;
  /** A resolver edge's DNS numbers (its queries count as opened, answered as closed, failed as failed). */
  dns: DnsIntervalCounts | null = null;
  /** The edge's client instances changed (or were never drained): the row carries them, else the store has them. */
  clientsChanged = true;

  empty(): boolean {
    return !this.opened && !this.closed && !this.failed && !this.sent && !this.received && !this.retransmits && !this.requests;
  }

  /** Takes in another edge's counts of the same interval (one edge folded into another). */
  absorb(o: IntervalCounts): void {
    this.opened += o.opened; this.closed += o.closed; this.failed += o.failed;
    for (const r of FAILURE_REASONS) this.failedBy[r] += o.failedBy[r];
    this.sent += o.sent; this.received += o.received; this.retransmits += o.retransmits;
    this.rtt.absorb(o.rtt);
    this.duration.absorb(o.duration);
    this.clientsChanged ||= o.clientsChanged;
    if (o.dns) (this.dns ??= new DnsIntervalCounts()).absorb(o.dns);
    if (o.requests) {
      const into = (this.requests ??= new Map());
      for (const [p, t] of o.requests) {
        const have = into.get(p);
        if (have) have.plus(t); else into.set(p, t);
      }
    }
  }

  reset(): void {
    this.opened = this.closed = this.failed = this.sent = this.received = this.retransmits = 0;
    this.requests = null;
    this.clientsChanged = false;
    for (const r of FAILURE_REASONS) this.failedBy[r] = 0;
    this.rtt.reset();
    this.duration.reset();
    this.dns?.reset();
  }
}

/** Failing names a resolver edge keeps per interval. */
const INTERVAL_FAILING_NAMES = 10;

/** What a resolver edge's queries came to since the last drain. */
export class DnsIntervalCounts {
  nxdomain = 0;
  servfail = 0;
  refused = 0;
  timeouts = 0;
  otherErrors = 0;
  latencyCount = 0;
  latencySumMs = 0;
  latencyMaxMs = 0;
  /** Answers per latency bucket (DNS_DEFAULTS.latencyBucketsMs). */
  readonly buckets = new Float64Array(DNS_DEFAULTS.latencyBucketsMs.length + 1);
  /** Names that failed, how often, the last reason and when; the first INTERVAL_FAILING_NAMES only. */
  readonly failing = new Map<string, { count: number; reason: string; lastSeen: number }>();

  failed(name: string, count: number, reason: string, lastSeen: number): void {
    const f = this.failing.get(name);
    if (f) { f.count += count; f.reason = reason; f.lastSeen = lastSeen; } else if (this.failing.size < INTERVAL_FAILING_NAMES) this.failing.set(name, { count, reason, lastSeen });
  }

  latencyMs(q: number): number { return bucketQuantile(DNS_DEFAULTS.latencyBucketsMs, this.buckets, this.latencyCount, this.latencyMaxMs, q) ?? 0; }

  /** Takes in another resolver edge's counts of the same interval (one edge folded into another). */
  absorb(o: DnsIntervalCounts): void {
    this.nxdomain += o.nxdomain; this.servfail += o.servfail; this.refused += o.refused; this.timeouts += o.timeouts; this.otherErrors += o.otherErrors;
    this.latencyCount += o.latencyCount; this.latencySumMs += o.latencySumMs; this.latencyMaxMs = Math.max(this.latencyMaxMs, o.latencyMaxMs);
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i] += o.buckets[i];
    for (const [name, f] of o.failing) this.failed(name, f.count, f.reason, f.lastSeen);
  }

  reset(): void {
    this.nxdomain = this.servfail = this.refused = this.timeouts = this.otherErrors = 0;
    this.latencyCount = this.latencySumMs = this.latencyMaxMs = 0;
    this.buckets.fill(0);
    this.failing.clear();
  }
}

/** One edge's numbers for one interval. */
export interface EdgeInterval {
  edge: EdgeDesc;
  opened: number;
  closed: number;
  failed: number;
  failedBy: Partial<Record<FailureReason, number>>;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  /** Open connections at the end of the interval. */
  active: number;
  /** Mean and p95 smoothed RTT of the connections that closed in the interval (0 when none was measured). */
  rttMeanUs: number;
  rttP95Us: number;
  /** Mean duration of the connections that closed in the interval (0 when none). */
  durMeanMs: number;
  /** The edge's lastSeen on the live map when the interval was drained (unix ms): its last activity, as exact as the map's. */
  lastSeen: number;
  /** Requests (L7) per protocol; absent when none. */
  requests?: RequestInterval[];
  /** The client instances that made the edge's connections, as the live map names them (GraphEdge.clientInstances), when they changed in the interval. */
  clients?: string[];
  /** A resolver edge's failures by kind and failing names (its answer latency is in rttMeanUs and rttP95Us). */
  dns?: { nxdomain: number; servfail: number; refused: number; timeouts: number; otherErrors: number; failingNames: { name: string; count: number; reason: string; lastSeen: number }[] };
}

export type TopologyChange =
  | { type: 'edge_appeared' | 'edge_vanished'; time: number; edge: EdgeDesc }
  | { type: 'node_appeared' | 'node_vanished'; time: number; node: GraphNode };

export interface GraphInterval {
  /** Edges with something to say: activity in the interval, or connections open at its end. */
  edges: EdgeInterval[];
  /** Every node the edges and changes refer to (live objects: read them before the next ingest). */
  nodes: Map<string, GraphNode>;
  /** Edges and nodes new since the last drain, or gone (net: one that came and went in between is not listed). */
  topology: TopologyChange[];
  failures: { edge: EdgeDesc; sample: FailureSample }[];
  /** Failures in the interval beyond the samples kept. */
  unsampledFailures: number;
  /** Failed and slow requests the edges kept in the interval (the kernel's rate-limited samples), up to the log's cap. */
  requestSamples: { edge: EdgeDesc; sample: RequestSample }[];
  /** Request samples in the interval beyond those. */
  unsampledRequests: number;
}

export function intervalRow(e: EdgeDesc & Pick<GraphEdge, 'lastSeen' | 'firstSeen' | 'clientInstances'>, c: IntervalCounts, active: number): EdgeInterval {
  const failedBy: EdgeInterval['failedBy'] = {};
  for (const r of FAILURE_REASONS) if (c.failedBy[r] > 0) failedBy[r] = c.failedBy[r];
  const row: EdgeInterval = {
    edge: { id: e.id, source: e.source, target: e.target, port: e.port, protocol: e.protocol, firstSeen: e.firstSeen },
    opened: c.opened, closed: c.closed, failed: c.failed, failedBy,
    bytesSent: c.sent, bytesReceived: c.received, retransmits: c.retransmits, active,
    rttMeanUs: c.rtt.mean(), rttP95Us: c.rtt.p95(), durMeanMs: c.duration.mean(), lastSeen: e.lastSeen,
  };
  const requests = requestIntervals(c.requests);
  if (requests) row.requests = requests;
  if (c.clientsChanged && e.clientInstances?.length) row.clients = [...e.clientInstances];
  const d = c.dns;
  if (d) {
    row.rttMeanUs = d.latencyCount ? (d.latencySumMs / d.latencyCount) * 1000 : 0;
    row.rttP95Us = d.latencyMs(0.95) * 1000;
    row.dns = {
      nxdomain: d.nxdomain, servfail: d.servfail, refused: d.refused, timeouts: d.timeouts, otherErrors: d.otherErrors,
      failingNames: [...d.failing].map(([name, f]) => ({ name, ...f })),
    };
  }
  return row;
}

/** The changes and samples between drains; exists only while a reader drains it (the history store). */
export class IntervalLog {
  private appearedEdges = new Set<string>();
  private vanishedEdges = new Map<string, GraphEdge>();
  private appearedNodes = new Set<string>();
  private vanishedNodes = new Map<string, GraphNode>();
  /** Every node dropped since the last drain: rows and failure samples may still name it. */
  private goneNodes = new Map<string, GraphNode>();
  /** Edges dropped with counts not drained yet. */
  private retired: { e: GraphEdge; counts: IntervalCounts }[] = [];
  private failures: { edge: EdgeDesc; sample: FailureSample }[] = [];
  private unsampled = 0;
  private requests: { edge: EdgeDesc; sample: RequestSample }[] = [];
  private unsampledRequests = 0;

  constructor(private readonly maxFailureSamples: number, private readonly maxRequestSamples: number) {}

  edgeAdded(id: string): void {
    if (!this.vanishedEdges.delete(id)) this.appearedEdges.add(id);
  }

  edgeDropped(e: GraphEdge, counts: IntervalCounts): void {
    if (!this.appearedEdges.delete(e.id)) this.vanishedEdges.set(e.id, e);
    if (!counts.empty()) this.retired.push({ e, counts });
  }

  nodeAdded(id: string): void {
    if (!this.vanishedNodes.delete(id)) this.appearedNodes.add(id);
  }

  nodeDropped(n: GraphNode): void {
    if (!this.appearedNodes.delete(n.id)) this.vanishedNodes.set(n.id, n);
    this.goneNodes.set(n.id, n);
  }

  failure(edge: EdgeDesc, sample: FailureSample): void {
    if (this.failures.length < this.maxFailureSamples) this.failures.push({ edge, sample });
    else this.unsampled++;
  }

  /**
   * A failed or slow request an edge kept (RequestLedger): the history's record of it. When the interval's are
   * many, a failed one takes the place of a slow one (the history writes failed ones first, and so keeps them).
   */
  requestSample(edge: EdgeDesc, sample: RequestSample): void {
    if (this.requests.length < this.maxRequestSamples) { this.requests.push({ edge, sample }); return; }
    this.unsampledRequests++; // this one, or the slow one it replaces
    const i = failedSample(sample) ? this.requests.findIndex((r) => !failedSample(r.sample)) : -1;
    if (i >= 0) this.requests[i] = { edge, sample };
  }

  /** An edge folded into another (LiveGraph.mergeNode): its failure and request samples of this interval now name the other. */
  samplesMoved(from: string, to: EdgeDesc): void {
    for (const f of this.failures) if (f.edge.id === from) f.edge = to;
    for (const r of this.requests) if (r.edge.id === from) r.edge = to;
  }

  /** A failure taken back (its connection moved to another edge, or it was found to be none): its sample if still here. */
  failureRemoved(sample: FailureSample | null = null): void {
    const i = sample ? this.failures.findIndex((f) => f.sample === sample) : -1;
    if (i >= 0) this.failures.splice(i, 1);
    else if (this.unsampled > 0) this.unsampled--;
  }

  /** Everything since the last drain; resets the edges' counts. */
  drain(now: number, edges: ReadonlyMap<string, { e: GraphEdge; counts: IntervalCounts }>, nodeOf: (id: string) => GraphNode | undefined): GraphInterval {
    const out: GraphInterval = {
      edges: [], nodes: new Map(), topology: [], failures: this.failures, unsampledFailures: this.unsampled,
      requestSamples: this.requests, unsampledRequests: this.unsampledRequests,
    };
    const node = (id: string) => {
      if (out.nodes.has(id)) return;
      const n = nodeOf(id) ?? this.goneNodes.get(id);
      if (n) out.nodes.set(id, n);
    };
    const row = (e: GraphEdge, counts: IntervalCounts, active: number) => {
      out.edges.push(intervalRow(e, counts, active));
      node(e.source);
      node(e.target);
    };
    for (const s of edges.values()) {
      if (!s.counts.empty() || s.e.connections.active > 0) row(s.e, s.counts, s.e.connections.active);
      s.counts.reset();
    }
    for (const r of this.retired) row(r.e, r.counts, 0);
    for (const id of this.appearedEdges) {
      const e = edges.get(id)?.e;
      // When it appeared on the map, not when this interval was drained (up to a flush later): history's firstSeen.
      if (e) { out.topology.push({ type: 'edge_appeared', time: appearedAt(e.firstSeen, now), edge: e }); node(e.source); node(e.target); }
    }
    for (const e of this.vanishedEdges.values()) { out.topology.push({ type: 'edge_vanished', time: now, edge: e }); node(e.source); node(e.target); }
    for (const id of this.appearedNodes) { const n = nodeOf(id); if (n) { out.topology.push({ type: 'node_appeared', time: appearedAt(n.firstSeen, now), node: n }); out.nodes.set(id, n); } }
    for (const n of this.vanishedNodes.values()) { out.topology.push({ type: 'node_vanished', time: now, node: n }); out.nodes.set(n.id, n); }
    for (const f of [...this.failures, ...this.requests]) { node(f.edge.source); node(f.edge.target); }
    this.appearedEdges = new Set();
    this.vanishedEdges = new Map();
    this.appearedNodes = new Set();
    this.vanishedNodes = new Map();
    this.goneNodes = new Map();
    this.retired = [];
    this.failures = [];
    this.unsampled = 0;
    this.requests = [];
    this.unsampledRequests = 0;
    return out;
  }
}

/** A sample of a request that failed (an error status, or the server's end closed on it), not only a slow one. */
export const failedSample = (r: Pick<RequestSample, 'reasons'>) => r.reasons.includes('failed') || r.reasons.includes('no-response');

/** An appearance's time: the map's own, when it has one no later than the drain. */
function appearedAt(firstSeen: number | undefined, now: number): number {
  return firstSeen && firstSeen > 0 && firstSeen <= now ? firstSeen : now;
}
