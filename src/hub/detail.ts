// Numbers over time for some of the agents' edges, from PromQL range queries:
// what /api/v1/timeseries, an edge's detail and the failures listed in a
// detail are made of. The agents' counters are read at each step of a grid and
// differenced here, so a step's count is exact (no extrapolation) and a reset
// (an agent restarting) counts from zero.
import { FAILURE_REASONS, type EdgeDetail, type FailureReason, type FailureSample } from '../graph/types.js';
import { GRAPH_DEFAULTS, HUB_DEFAULTS } from '../config/defaults.js';
import { EDGE_LABELS } from '../export/labels.js';
import type { PromClient, Series } from './promql.js';
import type { EdgeNumbers } from './build.js';
import { COUNTERS, DNS_SERIES, SEP, str } from './queries.js';

/** The labels a failure counter's series differ by: the TCP reason, the DNS kind. */
export const FAILURE_LABELS = ['reason', 'kind'];

/** Prometheus answers at most 11,000 points per series in one range query. */
const MAX_STEPS_PER_QUERY = 10_000;

/** Steps [from + k*step] for k = 0..n: n buckets, bucket k being [t_k, t_k+1). */
export interface Grid { from: number; step: number; n: number }

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matchers selecting at least these agents' edges (their hosts, clients and servers); the exact ones are kept by key afterwards. */
export function matchersFor(views: readonly Pick<EdgeNumbers, 'labels'>[]): string {
  const out: string[] = [];
  for (const l of ['host', 'client', 'server'] as const) {
    const values = [...new Set(views.map((v) => v.labels[l]))];
    if (values.length && values.length <= 500) out.push(`${l}=~${str(values.map(esc).join('|'))}`);
  }
  return out.join(', ');
}

const join = (expr: string) => `label_join(${expr}, "e", ${str(SEP)}, ${EDGE_LABELS.map((l) => str(l)).join(', ')})`;

/** Values of `max by (<by>, e) (names{matchers})` at every step of the grid, per series (NaN where absent), for the given keys only. */
export async function gridValues(prom: PromClient, names: string[], views: readonly EdgeNumbers[], grid: Grid, by: string[] = []): Promise<{ metric: Record<string, string>; v: Float64Array }[]> {
  if (!views.length) return [];
  const keys = new Set(views.map((v) => v.key));
  const sel = `{__name__=~${str(names.map(esc).join('|'))}, ${matchersFor(views)}}`;
  const q = `max by (${['e', ...by].join(', ')}) (${join(sel)})`;
  const out = new Map<string, { metric: Record<string, string>; v: Float64Array }>();
  for (let k0 = 0; k0 <= grid.n; k0 += MAX_STEPS_PER_QUERY) {
    const k1 = Math.min(grid.n, k0 + MAX_STEPS_PER_QUERY - 1);
    const r = await prom.range(q, grid.from + k0 * grid.step, grid.from + k1 * grid.step, grid.step);
    for (const s of r.data as Series[]) {
      if (!keys.has(s.metric.e)) continue;
      const id = [s.metric.e, ...by.map((b) => s.metric[b] ?? '')].join('\u0002');
      let row = out.get(id);
      if (!row) { row = { metric: s.metric, v: new Float64Array(grid.n + 1).fill(NaN) }; out.set(id, row); }
      for (const [t, v] of s.values) {
        const k = Math.round((t - grid.from) / grid.step);
        if (k >= 0 && k <= grid.n) row.v[k] = v;
      }
    }
  }
  return [...out.values()];
}

/** What a counter counted in each bucket: the difference of its values at the bucket's ends; one that appears or was reset counts from zero. */
export function deltas(v: Float64Array): Float64Array {
  const d = new Float64Array(v.length - 1);
  for (let k = 0; k < d.length; k++) {
    const a = v[k], b = v[k + 1];
    if (Number.isNaN(b)) continue;
    d[k] = Number.isNaN(a) ? b : b >= a ? b - a : b;
  }
  return d;
}

/** Summed per bucket over every series. */
export function sumDeltas(rows: { v: Float64Array }[], n: number): Float64Array {
  const out = new Float64Array(n);
  for (const r of rows) { const d = deltas(r.v); for (let k = 0; k < n; k++) out[k] += d[k]; }
  return out;
}

/** Prometheus' histogram_quantile over per-bucket counts (le ascending, the last +Inf): linear within the bucket. */
export function quantile(q: number, bounds: number[], counts: number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = q * total;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    if (acc + counts[i] >= rank && counts[i] > 0) {
      if (!Number.isFinite(bounds[i])) return i ? bounds[i - 1] : 0;
      const lo = i ? bounds[i - 1] : 0;
      return lo + ((bounds[i] - lo) * (rank - acc)) / counts[i];
    }
    acc += counts[i];
  }
  return bounds[bounds.length - 2] ?? null;
}

/** The series of an edge's detail, each from its counters: a resolver edge counts queries as connections, failures by kind. */
const RATE_NAMES: Record<Exclude<keyof EdgeDetail['series'][number], 'time' | 'requests' | 'requestErrors'>, readonly string[]> = {
  connections: [COUNTERS.opened, DNS_SERIES.queries],
  failures: [COUNTERS.failed, DNS_SERIES.failures],
  bytesSent: [COUNTERS.sent],
  bytesReceived: [COUNTERS.received],
  retransmits: [COUNTERS.retransmits],
};

/**
 * An edge detail's series on the hub: per second, like the agent's, but one point per step over the last
 * few minutes (Prometheus holds what agents report, every scrape or push, not every second).
 */
export async function edgeSeries(prom: PromClient, views: EdgeNumbers[], now: number): Promise<EdgeDetail['series']> {
  const step = HUB_DEFAULTS.detailStepMs, n = Math.round(HUB_DEFAULTS.detailSeriesMs / step);
  const grid: Grid = { from: Math.floor(now / step) * step - n * step, step, n };
  const rows = await gridValues(prom, Object.values(RATE_NAMES).flat(), views, grid, ['__name__', ...FAILURE_LABELS]);
  const secs = step / 1000;
  const d = Object.fromEntries(Object.entries(RATE_NAMES).map(([k, names]) => [k, sumDeltas(rows.filter((r) => names.includes(r.metric.__name__)), n)]));
  return Array.from({ length: n }, (_, k) => ({
    time: grid.from + k * step,
    connections: d.connections[k] / secs, failures: d.failures[k] / secs, bytesSent: d.bytesSent[k] / secs, bytesReceived: d.bytesReceived[k] / secs, retransmits: d.retransmits[k] / secs,
  }));
}

/**
 * Failures of the last minutes, newest first: the agents keep each failure's process and addresses, but
 * Prometheus only their counts, so the hub lists one entry per reason and interval with its count.
 */
export async function recentFailures(prom: PromClient, views: EdgeNumbers[], _all: Map<string, EdgeNumbers[]>, now: number, limit = GRAPH_DEFAULTS.failureSamples): Promise<FailureSample[]> {
  const step = 60_000, n = Math.round(HUB_DEFAULTS.recentFailuresMs / step);
  const grid: Grid = { from: Math.floor(now / step) * step - (n - 1) * step, step, n };
  const rows = await gridValues(prom, [COUNTERS.failed], views, grid, ['reason']);
  const byKey = new Map(views.map((v) => [v.key, v]));
  const out: FailureSample[] = [];
  for (const r of rows) {
    const reason = r.metric.reason as FailureReason;
    if (!(FAILURE_REASONS as string[]).includes(reason)) continue;
    const view = byKey.get(r.metric.e)!;
    const d = deltas(r.v);
    for (let k = 0; k < n; k++) {
      const count = Math.round(d[k]);
      if (count <= 0) continue;
      const l = view.labels;
      out.push({
        time: Math.min(now, grid.from + (k + 1) * step), reason, count,
        error: `${count} connection${count > 1 ? 's' : ''} ${reason} in the minute before (counted by ${l.host}'s agent; the hub has counts, not each failure)`,
        clientPid: 0, clientComm: '', clientAddr: l.client, serverAddr: `${l.server}:${l.server_port}`,
      });
    }
  }
  return out.sort((a, b) => b.time - a.time).slice(0, limit);
}
