// Turns the live graph's running totals into per-interval numbers: each flush
// diffs every edge's cumulative counters against the previous flush, and notes
// which nodes and edges appeared or vanished in between.
import { FAILURE_REASONS, type EdgeDetail, type FailureReason, type FailureSample, type GraphEdge, type GraphNode, type GraphSnapshot } from '../graph/types.js';
import type { GraphFilter } from '../graph/live-graph.js';
import { intervalMean } from './interval-mean.js';
import type { EdgeDesc, NodeDesc } from './dimensions.js';

/** What the sampler reads; LiveGraph fits. */
export interface GraphSource {
  snapshot(f?: GraphFilter, now?: number): GraphSnapshot;
  edgeDetail(id: string, now?: number): EdgeDetail | null;
}

/** One edge's numbers for one interval. */
export interface IntervalRow {
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
  /** Means of the connections closed in the interval (stored only when `closed` > 0, which weighs them). */
  rttMeanUs: number;
  rttP95Us: number;
  durMeanMs: number;
}

export type EventType =
  | 'agent_started' | 'agent_stopped'
  | 'edge_appeared' | 'edge_vanished' | 'node_appeared' | 'node_vanished'
  | 'container_started' | 'container_stopped' | 'container_renamed'
  | 'failure' | 'suppressed'
  | 'policy_loaded' | 'policy_rejected' | 'policy_violation';

export interface EventRecord {
  time: number;
  type: EventType;
  node?: NodeDesc;
  edge?: EdgeDesc;
  detail?: Record<string, unknown>;
}

export interface Sample {
  rows: IntervalRow[];
  /** Descriptors of every node the rows and events refer to. */
  nodes: Map<string, NodeDesc>;
  topology: EventRecord[];
  failures: { edge: EdgeDesc; sample: FailureSample }[];
  /** Failures in the interval beyond the samples the graph still holds. */
  unsampledFailures: number;
}

interface Totals {
  firstSeen: number;
  opened: number;
  closed: number;
  failed: number;
  failedBy: Record<FailureReason, number>;
  sent: number;
  received: number;
  retransmits: number;
  rttMean: number;
  rttN: number;
  durMean: number;
  durN: number;
}

const ZERO: Totals = {
  firstSeen: 0, opened: 0, closed: 0, failed: 0, failedBy: Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>,
  sent: 0, received: 0, retransmits: 0, rttMean: 0, rttN: 0, durMean: 0, durN: 0,
};

export class IntervalSampler {
  private prev = new Map<string, Totals>();
  private prevEdges = new Map<string, GraphEdge>();
  private prevNodes = new Map<string, GraphNode>();

  constructor(private readonly graph: GraphSource) {}

  sample(now: number): Sample {
    const snap = this.graph.snapshot({}, now);
    const nodes = new Map<string, NodeDesc>(snap.nodes.map((n) => [n.id, n]));
    const rows: IntervalRow[] = [];
    const topology: EventRecord[] = [];
    const failures: Sample['failures'] = [];
    let unsampledFailures = 0;
    const next = new Map<string, Totals>();
    const edges = new Map<string, GraphEdge>();

    for (const e of snap.edges) {
      edges.set(e.id, e);
      const cur = totals(e);
      next.set(e.id, cur);
      let p = this.prev.get(e.id);
      // A different firstSeen, or counters that went back, is a new life of the edge (it expired and came back).
      if (!p || p.firstSeen !== cur.firstSeen || cur.opened < p.opened || cur.failed < p.failed || cur.sent < p.sent || cur.received < p.received || cur.rttN < p.rttN || cur.durN < p.durN) p = ZERO;
      if (!this.prevEdges.has(e.id)) topology.push({ time: now, type: 'edge_appeared', edge: e, detail: { port: e.port } });
      const failedBy: IntervalRow['failedBy'] = {};
      for (const r of FAILURE_REASONS) { const d = cur.failedBy[r] - p.failedBy[r]; if (d > 0) failedBy[r] = d; }
      const rttN = cur.rttN - p.rttN, durN = cur.durN - p.durN;
      // Closed connections without a sample of their own (no RTT read, or open before the agent) take the edge's running figure.
      const rttMean = rttN > 0 ? intervalMean(p.rttMean, p.rttN, cur.rttMean, cur.rttN, 1) : cur.rttMean;
      const durMean = durN > 0 ? intervalMean(p.durMean, p.durN, cur.durMean, cur.durN, 0.1) : cur.durMean;
      const row: IntervalRow = {
        edge: e,
        opened: cur.opened - p.opened,
        closed: Math.max(0, cur.closed - p.closed),
        failed: cur.failed - p.failed,
        failedBy,
        bytesSent: cur.sent - p.sent,
        bytesReceived: cur.received - p.received,
        retransmits: Math.max(0, cur.retransmits - p.retransmits),
        active: e.connections.active,
        rttMeanUs: Math.round(rttMean),
        rttP95Us: e.rtt.p95Us,
        durMeanMs: Math.round(durMean * 10) / 10,
      };
      if (row.failed > 0) {
        // The graph keeps each edge's latest failures; the newest `failed` of them are this interval's.
        const recent = this.graph.edgeDetail(e.id, now)?.recentFailures ?? [];
        const mine = recent.slice(0, row.failed);
        for (const s of mine.reverse()) failures.push({ edge: e, sample: s });
        unsampledFailures += row.failed - mine.length;
      }
      if (row.opened || row.closed || row.failed || row.bytesSent || row.bytesReceived || row.retransmits || row.active) rows.push(row);
    }
    for (const [id, e] of this.prevEdges) {
      if (edges.has(id)) continue;
      topology.push({ time: now, type: 'edge_vanished', edge: e });
      for (const k of [e.source, e.target]) if (!nodes.has(k) && this.prevNodes.has(k)) nodes.set(k, this.prevNodes.get(k)!);
    }
    const current = new Map(snap.nodes.map((n) => [n.id, n]));
    for (const n of snap.nodes) if (!this.prevNodes.has(n.id)) topology.push({ time: now, type: 'node_appeared', node: n });
    for (const [id, n] of this.prevNodes) {
      if (current.has(id)) continue;
      topology.push({ time: now, type: 'node_vanished', node: n });
      nodes.set(id, n);
    }
    this.prev = next;
    this.prevEdges = edges;
    this.prevNodes = current;
    return { rows, nodes, topology, failures, unsampledFailures };
  }
}

function totals(e: GraphEdge): Totals {
  return {
    firstSeen: e.firstSeen, opened: e.connections.opened, closed: e.connections.closed, failed: e.connections.failed,
    failedBy: { ...ZERO.failedBy, ...e.connections.failedBy }, sent: e.bytes.sent, received: e.bytes.received, retransmits: e.retransmits,
    rttMean: e.rtt.meanUs, rttN: e.rtt.samples, durMean: e.duration.meanMs, durN: e.duration.samples,
  };
}
