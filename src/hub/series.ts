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

type Query = Record<string, unknown>;

/** Counts per bucket, from one counter's differences. */
const COUNT_OF: Partial<Record<Metric, string[]>> = {
  // a resolver edge's queries are its connections, its failed lookups (by kind) its failures, as on the agent
  connections: [COUNTERS.opened, DNS_SERIES.queries], failures: [COUNTERS.failed, DNS_SERIES.failures],
  bytes_sent: [COUNTERS.sent], bytes_received: [COUNTERS.received], retransmits: [COUNTERS.retransmits],
};

/** A step people read easily, at least the one asked for. */
function niceStep(ms: number): number {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]) if (s * 1000 >= ms) return s * 1000;
  return Math.ceil(ms / 86_400_000) * 86_400_000;
}

/** The agents' edges behind a map edge or a node over [from, to]: the live map's, else the range's map. */
export async function viewsFor(hub: HubSource, target: { edge?: string; node?: string }, from: number, to: number): Promise<EdgeNumbers[] | null> {
  if (target.edge !== undefined) {
    const live = hub.liveViews(target.edge);
    if (live) return live;
  } else {
    const live = hub.liveNodeViews(target.node!);
    if (live) return live.views;
  }
  const m = await mapRange(hub.prom, from, to, hub.staleAfter);
  if (target.edge !== undefined) return m.views.get(target.edge) ?? null;
  if (!m.graph.nodes.some((n) => n.id === target.node)) return null;
  return m.graph.edges.filter((e) => e.source === target.node || e.target === target.node).flatMap((e) => m.views.get(e.id) ?? []);
}

async function values(hub: HubSource, metric: Metric, views: EdgeNumbers[], grid: Grid): Promise<(number | null)[]> {
  const n = grid.n;
  const counter = COUNT_OF[metric];
  if (counter) return Array.from(sumDeltas(await gridValues(hub.prom, counter, views, grid, ['__name__', ...FAILURE_LABELS]), n));
  if (metric === 'active') {
    // Open at the end of each bucket.
    const rows = await gridValues(hub.prom, [ACTIVE], views, grid);
    return Array.from({ length: n }, (_, k) => rows.reduce((s, r) => s + (Number.isNaN(r.v[k + 1]) ? 0 : r.v[k + 1]), 0));
  }
  if (metric === 'rtt_mean' || metric === 'duration_mean') {
    const [sum, count] = metric === 'rtt_mean' ? [COUNTERS.rttSum, COUNTERS.rttCount] : [COUNTERS.durSum, COUNTERS.durCount];
    const rows = await gridValues(hub.prom, [sum, count], views, grid, ['__name__']);
    const s = sumDeltas(rows.filter((r) => r.metric.__name__ === sum), n), c = sumDeltas(rows.filter((r) => r.metric.__name__ === count), n);
    // Microseconds for RTT, milliseconds (one decimal) for duration, as the agent's history answers.
    return Array.from({ length: n }, (_, k) => (c[k] > 0 ? (metric === 'rtt_mean' ? Math.round((s[k] / c[k]) * 1e6) : Math.round((s[k] / c[k]) * 1e4) / 10) : null));
  }
  // rtt_p95: the buckets' counts in each step, summed over the edges, and their p95.
  const rows = await gridValues(hub.prom, [RTT_BUCKET], views, grid, ['le']);
  const bounds = [...HISTOGRAM_BOUNDS.rttUs.map((x) => x / 1e6), Infinity];
  const les = bounds.map((b) => (Number.isFinite(b) ? String(b) : '+Inf'));
  const cum = les.map((le) => sumDeltas(rows.filter((r) => r.metric.le === le), n));
  return Array.from({ length: n }, (_, k) => {
    const counts = cum.map((c, i) => Math.max(0, c[k] - (i ? cum[i - 1][k] : 0)));
    const q = quantile(0.95, bounds, counts);
    return q === null ? null : Math.round(q * 1e6);
  });
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
  const views = await viewsFor(hub, { edge, node }, r.from, r.to);
  if (!views) throw new NotFound(edge !== undefined ? `no edge ${edge} in the history` : `no node ${node} in the history`);
  const v = await values(hub, metric as Metric, views, { from: start, step, n });
  const points: SeriesPoint[] = v.map((x, k) => ({ t: start + k * step, v: x }));
  return { metric, ...(edge !== undefined ? { edge } : { node }), step, from: start, to: end, points };
}
