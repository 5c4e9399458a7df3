// The exporters' read of the map: every edge's live numbers in place, with no
// copy. A snapshot copies each edge (and clones each node) for readers that
// keep what they get; an exporter that only folds numbers into its counters
// every scrape would copy thousands of edges for nothing.
import type { GraphEdge, GraphNode, Rates, RequestProtocol } from './types.js';
import type { EdgeState, GraphState } from './state.js';
import type { Distribution } from './stats.js';

/** A distribution's running figures (count and sum of every sample, its bucket counts, p95 of the recent ones). */
export interface DistributionReading {
  readonly count: number;
  readonly total: number;
  /** Samples per bucket (not cumulative), at the bounds the graph was made with (HISTOGRAM_BOUNDS). */
  readonly buckets: ArrayLike<number>;
  p95(): number;
}

/** One protocol's running request totals (src/graph/request-totals.ts RequestTotals). */
export interface RequestTotalsReading {
  /** By status class, REQUEST_STATUS_CLASSES order. */
  readonly status: ArrayLike<number>;
  /** Latency, log2 µs buckets (LATENCY_BUCKETS). */
  readonly buckets: ArrayLike<number>;
  readonly latencySumNs: number;
  readonly unpaired: number;
}

/**
 * One edge as an exporter reads it. Valid only during the callback: the next
 * edge reuses it. Nothing in it may be kept or changed.
 */
export interface EdgeReading {
  /** The edge: running totals (connections, bytes, retransmits) and identity; its rates, rtt and duration fields are not brought up to date here. */
  readonly edge: Readonly<GraphEdge>;
  readonly source: Readonly<GraphNode> | undefined;
  readonly target: Readonly<GraphNode> | undefined;
  /** Version of its last change: unchanged means its totals did not move. */
  readonly version: number;
  /** Per second over the last `seconds` (at most 60). */
  rates(seconds: number): Rates;
  /** Smoothed RTT in µs of closed connections. */
  readonly rtt: DistributionReading;
  /** Connection duration in ms, connect to close. */
  readonly duration: DistributionReading;
  /** Its requests per application protocol, running totals; undefined before the first. */
  readonly requests: ReadonlyMap<RequestProtocol, { readonly totals: RequestTotalsReading }> | undefined;
}

class Reading implements EdgeReading {
  s!: EdgeState;
  constructor(private readonly state: GraphState, private readonly now: number) {}
  get edge(): GraphEdge { return this.s.e; }
  get source(): GraphNode | undefined { return this.state.nodes.get(this.s.e.source)?.n; }
  get target(): GraphNode | undefined { return this.state.nodes.get(this.s.e.target)?.n; }
  get version(): number { return this.s.v; }
  rates(seconds: number): Rates { return this.s.window.rates(this.now, seconds); }
  get rtt(): Distribution { return this.s.rtt; }
  get duration(): Distribution { return this.s.duration; }
  get requests(): EdgeReading['requests'] { return this.s.requests?.protocols; }
}

export function forEachEdge(state: GraphState, now: number, fn: (r: EdgeReading) => void): void {
  const r = new Reading(state, now);
  for (const s of state.edges.values()) {
    r.s = s;
    fn(r);
  }
}
