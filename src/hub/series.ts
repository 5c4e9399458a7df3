// /api/v1/timeseries on the hub: the agent's response shape and parameters,
// answered from PromQL range queries over the agents' edges behind a map edge
// (or behind every edge of a node).
import { BadRequest } from '../api/params.js';
import { NotFound, range, seriesParams } from '../api/history-routes.js';
import type { Metric, SeriesPoint } from '../store/queries.js';
import { HISTORY_DEFAULTS, HISTOGRAM_BOUNDS, HUB_DEFAULTS } from '../config/defaults.js';
import { formatDuration } from '../store/retention.js';
import type { EdgeNumbers } from './build.js';
import { FAILURE_LABELS, gridValues, quantile, sumDeltas, type Grid } from './detail.js';
import { mapRange, type HubSource } from './source.js';
import { ACTIVE, COUNTERS, DNS_SERIES, RTT_BUCKET } from './queries.js';
import { FAILED_CLASSES, REQUEST_SERIES } from '../export/request-metrics.js';
import { REQUEST_STATUS_CLASSES, type GraphEdge } from '../graph/types.js';

type Query = Record<string, unknown>;

const REQUESTS = REQUEST_SERIES.requests;
const REQUEST_BY = ['app_protocol', 'status_class'];
const FAILED_CLASS_NAMES: readonly string[] = FAILED_CLASSES.map((i) => REQUEST_STATUS_CLASSES[i]);

/** Counts per bucket, from counters' differences (series apart by these labels). */
const COUNT_OF: Partial<Record<Metric, { names: string[]; by: string[]; keep?: (m: Record<string, string>) => boolean }>> = {
  // a resolver edge's queries are its connections, its failed lookups (by kind) its failures, as on the agent
  connections: { names: [COUNTERS.opened, DNS_SERIES.queries], by: ['__name__'] },
  failures: { names: [COUNTERS.failed, DNS_SERIES.failures], by: ['__name__', ...FAILURE_LABELS] },
  bytes_sent: { names: [COUNTERS.sent], by: [] },
  bytes_received: { names: [COUNTERS.received], by: [] },
  retransmits: { names: [COUNTERS.retransmits], by: [] },
  requests: { names: [REQUESTS], by: REQUEST_BY },
  request_errors: { names: [REQUESTS], by: REQUEST_BY, keep: (m) => FAILED_CLASS_NAMES.includes(m.status_class) },
  request_client_errors: { names: [REQUESTS], by: REQUEST_BY, keep: (m) => m.status_class === '4xx' },
  dns_queries: { names: [DNS_SERIES.queries], by: [] },
  dns_failures: { names: [DNS_SERIES.failures], by: ['kind'] },
};
const REQUEST_DURATION = REQUEST_SERIES.duration;
/** Request latency quantiles from the exported histogram, in milliseconds. */
const REQUEST_QUANTILE: Partial<Record<Metric, number>> = { request_p50: 0.5, request_p95: 0.95, request_p99: 0.99 };

/** A step people read easily, at least the one asked for. */
function niceStep(ms: number): number {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]) if (s * 1000 >= ms) return s * 1000;
  return Math.ceil(ms / 86_400_000) * 86_400_000;
}

/**
 * The agents' edges behind a map edge or a node over [from, to] (the live map's, else the range's map). A node's, as the
 * agent's history sums them: its resolver edges for DNS metrics, its inbound edges for request metrics, its
 * connection edges for the others.
 */
export async function viewsFor(hub: HubSource, target: { edge?: string; node?: string }, from: number, to: number, metric?: Metric): Promise<EdgeNumbers[] | null> {
  const forNode = (edges: { e: Pick<GraphEdge, 'target' | 'protocol'>; views: EdgeNumbers[] }[]) => edges.filter(({ e }) =>
    !metric || (metric.startsWith('dns_') ? e.protocol === 'dns' : e.protocol !== 'dns' && (!metric.startsWith('request') || e.target === target.node))).flatMap((x) => x.views);
  if (target.edge !== undefined) {
    const live = hub.liveViews(target.edge);
    if (live) return live;
  } else {
    const live = hub.liveNodeViews(target.node!);
    if (live) return forNode(live.edges);
  }
  const m = await mapRange(hub.prom, from, to, hub.staleAfter);
  if (target.edge !== undefined) return m.views.get(target.edge) ?? null;
  if (!m.graph.nodes.some((n) => n.id === target.node)) return null;
  return forNode(m.graph.edges.filter((e) => e.source === target.node || e.target === target.node).map((e) => ({ e, views: m.views.get(e.id) ?? [] })));
}

/** Per bucket, a histogram's quantile over the edges (cumulative buckets by `le`, differenced), or null where empty. */
async function quantiles(hub: HubSource, name: string, boundsS: number[], q: number, views: EdgeNumbers[], grid: Grid, scale: number): Promise<(number | null)[]> {
  const n = grid.n;
  const rows = await gridValues(hub.prom, [name], views, grid, ['le', 'app_protocol']);
  const bounds = [...boundsS, Infinity];
  const les = bounds.map((b) => (Number.isFinite(b) ? String(b) : '+Inf'));
  const cum = les.map((le) => sumDeltas(rows.filter((r) => r.metric.le === le), n));
  return Array.from({ length: n }, (_, k) => {
    const counts = cum.map((c, i) => Math.max(0, c[k] - (i ? cum[i - 1][k] : 0)));
    const v = quantile(q, bounds, counts);
    return v === null ? null : Math.round(v * scale * 10) / 10;
  });
}

async function values(hub: HubSource, metric: Metric, views: EdgeNumbers[], grid: Grid): Promise<(number | null)[]> {
  const n = grid.n;
  const counter = COUNT_OF[metric];
  if (counter) {
    const rows = await gridValues(hub.prom, counter.names, views, grid, counter.by);
    return Array.from(sumDeltas(counter.keep ? rows.filter((r) => counter.keep!(r.metric)) : rows, n));
  }
  if (metric === 'active') {
    // Open at the end of each bucket.
    const rows = await gridValues(hub.prom, [ACTIVE], views, grid);
    return Array.from({ length: n }, (_, k) => rows.reduce((s, r) => s + (Number.isNaN(r.v[k + 1]) ? 0 : r.v[k + 1]), 0));
  }
  if (metric === 'rtt_mean' || metric === 'duration_mean' || metric === 'request_mean') {
    const [sum, count] = metric === 'rtt_mean' ? [COUNTERS.rttSum, COUNTERS.rttCount] : metric === 'duration_mean' ? [COUNTERS.durSum, COUNTERS.durCount] : [`${REQUEST_DURATION}_sum`, `${REQUEST_DURATION}_count`];
    const rows = await gridValues(hub.prom, [sum, count], views, grid, ['__name__', 'app_protocol']);
    const s = sumDeltas(rows.filter((r) => r.metric.__name__ === sum), n), c = sumDeltas(rows.filter((r) => r.metric.__name__ === count), n);
    // Microseconds for RTT, milliseconds (one decimal) for durations, as the agent's history answers.
    return Array.from({ length: n }, (_, k) => (c[k] > 0 ? (metric === 'rtt_mean' ? Math.round((s[k] / c[k]) * 1e6) : Math.round((s[k] / c[k]) * 1e4) / 10) : null));
  }
  const rq = REQUEST_QUANTILE[metric];
  if (rq !== undefined) return quantiles(hub, `${REQUEST_DURATION}_bucket`, HISTOGRAM_BOUNDS.requestLatencyUs.map((x) => x / 1e6), rq, views, grid, 1000);
  if (metric === 'rtt_p95') {
    // the buckets' counts in each step, summed over the edges, and their p95 (µs)
    const v = await quantiles(hub, RTT_BUCKET, HISTOGRAM_BOUNDS.rttUs.map((x) => x / 1e6), 0.95, views, grid, 1e6);
    return v.map((x) => (x === null ? null : Math.round(x)));
  }
  // DNS latency: the agents export only its recent p95 per edge, not its history
  throw new BadRequest(`${metric} is not available on the hub: the agents export DNS latency as a recent p95 only; ask an agent's own history (its /api/v1/timeseries)`);
}

export async function hubSeries(hub: HubSource, q: Query) {
  const { edge, node, metric, step: asked, stepText: s } = seriesParams(q);
  const r = range(q, Date.now(), '-1h');
  const step = asked ?? Math.max(HUB_DEFAULTS.seriesMinStepMs, niceStep((r.to - r.from) / HISTORY_DEFAULTS.seriesTargetPoints));
  if (step < 1000) throw new BadRequest(`step must be at least 1s on the hub (Prometheus keeps samples, not events), got ${formatDuration(step)}`);
  const start = Math.floor(r.from / step) * step, end = Math.ceil(r.to / step) * step;
  const n = Math.round((end - start) / step);
  if (n > HISTORY_DEFAULTS.seriesMaxPoints) {
    throw new BadRequest(`that range has ${n} points ${s === undefined ? 'without step' : `at step=${s}`}; at most ${HISTORY_DEFAULTS.seriesMaxPoints}: narrow the range or raise step`);
  }
  const views = await viewsFor(hub, { edge, node }, r.from, r.to, metric as Metric);
  if (!views) throw new NotFound(edge !== undefined ? `no edge ${edge} in the history` : `no node ${node} in the history`);
  const v = await values(hub, metric as Metric, views, { from: start, step, n });
  const points: SeriesPoint[] = v.map((x, k) => ({ t: start + k * step, v: x }));
  return { metric, ...(edge !== undefined ? { edge } : { node }), step, from: start, to: end, points };
}
