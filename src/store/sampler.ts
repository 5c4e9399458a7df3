// What the history store writes each flush: the live graph's interval, drained
// (exact sums and counts kept by the graph since the previous flush, and the
// topology changes and failure samples in between), in the store's terms.
import type { FailureSample, RequestSample } from '../graph/types.js';
import type { EdgeInterval, GraphInterval } from '../graph/interval.js';
import type { EdgeDesc, NodeDesc } from './dimensions.js';

/** What the sampler reads; LiveGraph fits. */
export interface GraphSource {
  /** Everything since the previous call (the first call: since the graph started). */
  drainInterval(now: number): GraphInterval;
  /** Starts keeping intervals now, so the first drain has every edge and node already on the map as new. */
  startIntervals?(): void;
}

/** One edge's numbers for one interval. */
export type IntervalRow = EdgeInterval;

export type EventType =
  | 'agent_started' | 'agent_stopped'
  | 'edge_appeared' | 'edge_vanished' | 'node_appeared' | 'node_vanished'
  | 'container_started' | 'container_stopped' | 'container_renamed'
  | 'failure' | 'dns_failure' | 'request_sample' | 'suppressed'
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
  /** Failures in the interval beyond the samples the graph kept. */
  unsampledFailures: number;
  requestSamples: { edge: EdgeDesc; sample: RequestSample }[];
  unsampledRequests: number;
}

export class IntervalSampler {
  constructor(private readonly graph: GraphSource) {
    graph.startIntervals?.();
  }

  sample(now: number): Sample {
    const iv = this.graph.drainInterval(now);
    const topology: EventRecord[] = iv.topology.map((t) => ('edge' in t
      ? { time: t.time, type: t.type, edge: t.edge, ...(t.type === 'edge_appeared' ? { detail: { port: t.edge.port } } : {}) }
      : { time: t.time, type: t.type, node: t.node }));
    return {
      rows: iv.edges, nodes: iv.nodes, topology, failures: iv.failures, unsampledFailures: iv.unsampledFailures,
      requestSamples: iv.requestSamples, unsampledRequests: iv.unsampledRequests,
    };
  }
}
