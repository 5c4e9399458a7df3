// Reading history back: the map at a moment, the map over a range, one metric's
// series for an edge or node, and the timeline events.
import type { Db } from './database.js';
import type { Dimensions, StoredEdge, StoredNode } from './dimensions.js';
import { planRange, seriesTier, tierAt, type Segment, type TierSpan } from './plan.js';
import { FAILURE_REASONS, type FailureReason, type GraphEdge, type GraphNode, type GraphSnapshot, type HistoryGraph, type Rates, type TimelineBucket } from '../graph/types.js';
import { edgeVisible, type GraphFilter } from '../graph/filter.js';
import { GROUP_EDGES, type BucketQuery } from './buckets.js';
import { REQUEST_MAX_COLUMN, RequestSum, requestErrorBuckets, requestRange, requestSeries, storedRequests } from './requests.js';
import { latencySummary } from '../graph/latency.js';
import type { RequestProtocol } from '../graph/types.js';
import { DNS_FAILURE_BY_CODE, DNS_FAILURE_CODES, REASON_BY_CODE, SAMPLE_LAST_SEEN_COLUMN as SEEN, type DnsFailureKind } from './schema.js';
import type { EdgeDns } from '../graph/types.js';
import { DNS_DEFAULTS } from '../config/defaults.js';

/** Numbers of one edge over some buckets, before they become a GraphEdge. */
interface Agg {
  opened: number; closed: number; failed: number; sent: number; received: number; retransmits: number;
  active: number; rttSum: number; rttN: number; rttP95: number; durSum: number; durN: number;
  failedBy: Record<FailureReason, number>;
  /** A resolver edge's failed queries by kind. */
  dns: Record<DnsFailureKind, number>;
  /** Its last activity (ms) in the rows read: stored with each row (schema 6); a row from before, its bucket's end. */
  lastSeen: number;
  /** Requests (L7) per protocol, when any. */
  requests?: Map<RequestProtocol, RequestSum>;
}

interface AggRow { edge: number; o: number; c: number; f: number; bs: number; br: number; r: number; a: number; rs: number; rn: number; rp: number; ds: number; dn: number; seen: number }

/**
 * The last activity (ms) in a group of rows: the live map's lastSeen stored with each row; rows written
 * before schema 6 hold 0, and their bucket's end stands in (what every answer said before).
 */
const LAST_SEEN = `max(CASE WHEN ${SEEN} > 0 THEN ${SEEN} ELSE (t + res) * 1000 END)`;

/** Means are weighted by closed connections, where they were measured (see schema.ts). */
const WEIGHTED = `sum(rtt_mean * closed) AS rs, sum(CASE WHEN rtt_mean > 0 THEN closed ELSE 0 END) AS rn,
  sum(dur_mean * closed) AS ds, sum(CASE WHEN dur_mean > 0 THEN closed ELSE 0 END) AS dn`;

/** Series metrics: per bucket, summed over the edge (or over a node's edges). */
export const METRICS = {
  connections: 'connections opened',
  failures: 'connections failed (any reason)',
  bytes_sent: 'bytes client -> server',
  bytes_received: 'bytes server -> client',
  retransmits: 'TCP retransmits',
  active: 'connections open at the end of the bucket (coarse tiers: the peak)',
  rtt_mean: 'mean smoothed RTT in microseconds of connections closed, weighted by their number (null when none closed)',
  rtt_p95: 'RTT p95 in microseconds, the largest of the edges/buckets (null when none closed)',
  duration_mean: 'mean connection duration in milliseconds, weighted like rtt_mean (null when none closed)',
  requests: 'requests completed, all protocols (a node: its inbound requests)',
  request_errors: 'failed requests: HTTP 5xx, gRPC non-OK, database and Redis errors (a node: inbound)',
  request_client_errors: 'HTTP 4xx responses (a node: inbound)',
  request_mean: 'mean request latency in milliseconds (null without requests)',
  request_p50: 'median request latency in milliseconds, from the bucket\'s summed histogram (null without requests)',
  request_p95: '95th percentile request latency in milliseconds, from the summed histogram (null without requests)',
  request_p99: '99th percentile request latency in milliseconds, from the summed histogram (null without requests)',
  dns_queries: 'DNS queries sent (resolver edges; a node: its resolver edges)',
  dns_failures: 'DNS queries failed: NXDOMAIN, SERVFAIL, REFUSED, other errors, timeouts (resolver edges)',
  dns_latency_mean: 'mean DNS answer latency in milliseconds, weighted by answers (null when none answered)',
  dns_latency_p95: 'DNS answer latency p95 in milliseconds, the largest of the edges/buckets (null when none answered)',
} as const;
export type Metric = keyof typeof METRICS;
/** Metrics read from the requests table; a node's are its inbound edges'. */
export const isRequestMetric = (m: Metric): boolean => m.startsWith('request');

export interface SeriesPoint { t: number; v: number | null }
/** A moment (the stored bucket holding it) or a range [from, to). */
export type HistorySpan = { at: number } | { from: number; to: number };
export type { HistoryGraph };

export interface HistoryEvent {
  time: number;
  type: string;
  node: string | null;
  edge: string | null;
  detail: Record<string, unknown>;
}


export class HistoryQueries {
  private readonly stmt;
  private readonly requestRange;
  private readonly requestSeries;
  private readonly requestErrorBuckets;

  constructor(db: Db, private readonly dims: Dimensions, private readonly spans: () => TierSpan[], private readonly now: () => number) {
    this.requestRange = requestRange(db);
    this.requestSeries = requestSeries(db);
    this.requestErrorBuckets = requestErrorBuckets(db);
    const aggCols = `edge, sum(opened) AS o, sum(closed) AS c, sum(failed) AS f, sum(bytes_sent) AS bs, sum(bytes_received) AS br,
      sum(retransmits) AS r, max(active) AS a, ${WEIGHTED}, max(rtt_p95) AS rp, ${LAST_SEEN} AS seen`;
    this.stmt = {
      range: db.prepare<[number, number, number], AggRow>(`SELECT ${aggCols} FROM samples WHERE res = ? AND t >= ? AND t < ? GROUP BY edge`),
      rangeFailures: db.prepare<[number, number, number], { edge: number; reason: number; n: number }>(
        'SELECT edge, reason, sum(n) AS n FROM failures WHERE res = ? AND t >= ? AND t < ? GROUP BY edge, reason'),
      // The agent's starts and stops in [from, to), and the last one before: when it was recording.
      runs: db.prepare<{ from: number; to: number }, { t: number; type: string }>(
        `SELECT t, type FROM events WHERE type IN ('agent_started', 'agent_stopped') AND t < @to
           AND t >= coalesce((SELECT max(t) FROM events WHERE type IN ('agent_started', 'agent_stopped') AND t <= @from), 0)
         ORDER BY t, id`),
      lastSeenIn: db.prepare<[number, number, number], { edge: number; seen: number }>(
        `SELECT edge, ${LAST_SEEN} AS seen FROM samples WHERE res = ? AND t >= ? AND t < ? GROUP BY edge`),
      // One seek per (bucket, edge): the samples key is (res, t, edge), so this stays fast for long ranges of a few edges.
      series: db.prepare<{ res: number; start: number; end: number; edges: string }, { t: number; o: number; f: number; bs: number; br: number; r: number; a: number; rs: number; rn: number; rp: number | null; ds: number; dn: number }>(
        `WITH RECURSIVE b(t) AS (SELECT @start UNION ALL SELECT t + @res FROM b WHERE t + @res < @end)
         SELECT b.t AS t, sum(s.opened) AS o, sum(s.failed) AS f, sum(s.bytes_sent) AS bs, sum(s.bytes_received) AS br, sum(s.retransmits) AS r,
           sum(s.active) AS a, sum(s.rtt_mean * s.closed) AS rs, sum(CASE WHEN s.rtt_mean > 0 THEN s.closed ELSE 0 END) AS rn,
           max(CASE WHEN s.rtt_mean > 0 THEN s.rtt_p95 END) AS rp,
           sum(s.dur_mean * s.closed) AS ds, sum(CASE WHEN s.dur_mean > 0 THEN s.closed ELSE 0 END) AS dn
         FROM b JOIN samples s ON s.res = @res AND s.t = b.t AND s.edge IN (SELECT value FROM json_each(@edges))
         GROUP BY b.t`),
      // For many edges, one pass over the range is cheaper than a seek per edge and bucket (rows come in t order: no sort).
      seriesScan: db.prepare<{ res: number; start: number; end: number; edges: string }, { t: number; o: number; f: number; bs: number; br: number; r: number; a: number; rs: number; rn: number; rp: number | null; ds: number; dn: number }>(
        `SELECT t, sum(opened) AS o, sum(failed) AS f, sum(bytes_sent) AS bs, sum(bytes_received) AS br, sum(retransmits) AS r,
           sum(active) AS a, sum(rtt_mean * closed) AS rs, sum(CASE WHEN rtt_mean > 0 THEN closed ELSE 0 END) AS rn,
           max(CASE WHEN rtt_mean > 0 THEN rtt_p95 END) AS rp,
           sum(dur_mean * closed) AS ds, sum(CASE WHEN dur_mean > 0 THEN closed ELSE 0 END) AS dn
         FROM samples WHERE res = @res AND t >= @start AND t < @end AND edge IN (SELECT value FROM json_each(@edges))
         GROUP BY t`),
      // Failed connections per bucket over all connection edges (a resolver edge's failed are failed queries: not these).
      // (@group: only edges with an end in that project, as the map's group filter; null: all)
      failedBuckets: db.prepare<BucketQuery, { t: number; n: number }>(
        `SELECT s.t AS t, sum(s.failed) AS n FROM samples s JOIN edges g ON g.id = s.edge
         WHERE s.res = @res AND s.t >= @start AND s.t < @end AND s.failed > 0 AND g.protocol <> 'dns'
           AND (@group IS NULL OR s.edge IN ${GROUP_EDGES}) GROUP BY s.t`),
      failedByBuckets: db.prepare<BucketQuery, { t: number; reason: number; n: number }>(
        `SELECT t, reason, sum(n) AS n FROM failures WHERE res = @res AND t >= @start AND t < @end
           AND (@group IS NULL OR edge IN ${GROUP_EDGES}) GROUP BY t, reason`),
      dnsNames: db.prepare<{ from: number; to: number; edges: string }, { edge: number; t: number; detail: string }>(
        `SELECT edge, t, detail FROM events WHERE type = 'dns_failure' AND t >= @from AND t < @to AND edge IN (SELECT value FROM json_each(@edges))`),
      events: eventsStatement(db, 'ASC', false),
      eventsNewest: eventsStatement(db, 'DESC', false),
      edgeEvents: eventsStatement(db, 'ASC', true),
      edgeEventsNewest: eventsStatement(db, 'DESC', true),
    };
  }

  /**
   * The map as it was at `at`: edges with a row in the bucket holding `at` (its numbers), or seen within `windowMs` before (zeros).
   * lastSeen is an edge's last activity in those rows: it may be later than `at`, within the bucket whose numbers these are.
   */
  graphAt(at: number, windowMs: number, filter: GraphFilter = {}): HistoryGraph {
    const [seg] = this.segmentsOf({ at });
    const r = seg.resolutionMs, res = r / 1000, bucket = seg.from;
    const aggs = this.aggregate([seg]);
    const since = Math.floor((bucket - Math.max(windowMs, 0)) / r) * r;
    for (const row of this.stmt.lastSeenIn.all(res, since / 1000, bucket / 1000)) {
      if (!aggs.has(row.edge)) aggs.set(row.edge, { ...emptyAgg(), lastSeen: row.seen });
    }
    const rec = this.recording([seg]);
    return { ...this.build(aggs, rec.rateSpanMs, filter, bucket, bucket + r), at, resolutionMs: r, recordedMs: rec.recordedMs };
  }

  /**
   * Everything seen in [from, to), numbers summed (active: peak; RTT: weighted mean, p95: largest).
   * Rates are over the time the agent was recording: a window reaching back before history began
   * (a new install) held nothing recorded, not nothing happening. lastSeen is an edge's last activity in the
   * buckets covering the range, whose numbers these are: it may be later than `to`, within the bucket holding `to`.
   */
  graphRange(from: number, to: number, filter: GraphFilter = {}): HistoryGraph {
    const segments = this.segmentsOf({ from, to });
    const rec = this.recording(segments, { from, to });
    return { ...this.build(this.aggregate(segments), rec.rateSpanMs, filter, from, to), from, to, recordedMs: rec.recordedMs };
  }

  /** The map of a moment (graphAt, edges seen within `windowMs` before it too) or of a range (graphRange). */
  graphOf(span: HistorySpan, windowMs: number, filter: GraphFilter = {}): HistoryGraph {
    return 'at' in span ? this.graphAt(span.at, windowMs, filter) : this.graphRange(span.from, span.to, filter);
  }

  /** The stored buckets a moment's numbers (the bucket holding it) or a range's (whole buckets covering it) are summed from. */
  private segmentsOf(span: HistorySpan): Segment[] {
    if (!('at' in span)) return planRange(span.from, span.to, this.spans());
    const spans = this.spans();
    const r = spans[tierAt(span.at, spans)].resolutionMs, bucket = Math.floor(span.at / r) * r;
    return [{ resolutionMs: r, from: bucket, to: bucket + r }];
  }

  /**
   * The time a moment's or range's numbers are summed over (the bucket holding a moment, the whole buckets covering a
   * range): where its samples are looked for, so that they are the numbers' own, not a part of them.
   */
  extentOf(span: HistorySpan): { from: number; to: number } {
    const s = this.segmentsOf(span);
    if (!s.length) return 'at' in span ? { from: span.at, to: span.at } : span;
    return { from: Math.min(...s.map((x) => x.from)), to: Math.max(...s.map((x) => x.to)) };
  }

  /** What a moment's or range's rates are over (recording), in one read of the agent's runs. */
  rateSpanMs(span: HistorySpan): number {
    return this.recording(this.segmentsOf(span), 'from' in span ? span : null).rateSpanMs;
  }

  /**
   * How long the agent recorded in the buckets summed, and what rates are over: that time (a restart's bucket holds
   * seconds of counts, not ten), else all of the buckets. With no bucket to sum, over `range` itself (a moment always has one).
   */
  private recording(segments: Segment[], range: { from: number; to: number } | null = null): { recordedMs: number; rateSpanMs: number } {
    const a = segments.length ? segments[0].from : range?.from ?? 0, b = segments.length ? segments.at(-1)!.to : range?.to ?? 1;
    const recordedMs = this.recordedMs(a, b);
    return { recordedMs, rateSpanMs: recordedMs > 0 ? recordedMs : b - a };
  }

  /** Some edges' requests per protocol, summed over a moment's bucket or a range: the histograms exact, as the map's request blocks are drawn from. */
  requestSums(span: HistorySpan, edgeIds: readonly string[]): Map<RequestProtocol, RequestSum> {
    const out = new Map<RequestProtocol, RequestSum>();
    const refs = edgeIds.map((id) => this.dims.edgeRef(id)).filter((r): r is number => r !== undefined);
    if (!refs.length) return out;
    for (const s of this.segmentsOf(span)) {
      const m = new Map<number, Map<RequestProtocol, RequestSum>>();
      this.requestRange(s.resolutionMs / 1000, s.from / 1000, s.to / 1000, m, refs);
      for (const ps of m.values()) {
        for (const [p, sum] of ps) {
          const into = out.get(p);
          if (!into) out.set(p, sum);
          else into.add(rowOf(sum));
        }
      }
    }
    return out;
  }

  /** How long the agent was running in [from, to): from its start and stop events (a crash leaves no stop: running until the next start). */
  recordedMs(from: number, to: number): number {
    return this.recordedSpans(from, to).reduce((n, r) => n + r.to - r.from, 0);
  }

  /** The spans of [from, to) the agent was running in, in order (see recordedMs). */
  recordedSpans(from: number, to: number): { from: number; to: number }[] {
    const out: { from: number; to: number }[] = [];
    let since: number | null = null;
    for (const e of this.stmt.runs.all({ from, to })) {
      if (e.type === 'agent_started') { if (since === null) since = Math.max(e.t, from); continue; }
      if (since !== null) { const end = Math.min(e.t, to); if (end > since) out.push({ from: since, to: end }); since = null; }
    }
    const end = Math.min(to, this.now()); // still running: recorded until now, not the bucket's end
    if (since !== null && end > since) out.push({ from: since, to: end });
    return out;
  }

  /**
   * Points of buckets with no rows, in which the agent was not running: null (nothing was recorded), not 0, which
   * reads as an outage. So is a 0 in a bucket recorded for less than half its time (the agent started or stopped in
   * it): a restart's few milliseconds are no measurement.
   */
  private unrecordedNull(points: SeriesPoint[], step: number, hasRows: (t: number) => boolean): SeriesPoint[] {
    if (!points.length) return points;
    const spans = this.recordedSpans(points[0].t, points.at(-1)!.t + step);
    let k = 0;
    for (const p of points) {
      while (k < spans.length && spans[k].to <= p.t) k++;
      let recorded = 0;
      for (let j = k; j < spans.length && spans[j].from < p.t + step; j++) recorded += Math.min(spans[j].to, p.t + step) - Math.max(spans[j].from, p.t);
      if ((recorded <= 0 && !hasRows(p.t)) || (recorded < step / 2 && !p.v)) p.v = null;
    }
    return points;
  }

  private aggregate(segments: Segment[]): Map<number, Agg> {
    const out = new Map<number, Agg>();
    for (const s of segments) {
      const res = s.resolutionMs / 1000, a = s.from / 1000, b = s.to / 1000;
      for (const row of this.stmt.range.all(res, a, b)) {
        const g = out.get(row.edge) ?? emptyAgg();
        g.opened += row.o; g.closed += row.c; g.failed += row.f; g.sent += row.bs; g.received += row.br; g.retransmits += row.r;
        g.active = Math.max(g.active, row.a); g.rttSum += row.rs; g.rttN += row.rn; g.rttP95 = Math.max(g.rttP95, row.rp);
        g.durSum += row.ds; g.durN += row.dn; g.lastSeen = Math.max(g.lastSeen, row.seen);
        out.set(row.edge, g);
      }
      for (const f of this.stmt.rangeFailures.all(res, a, b)) {
        const g = out.get(f.edge), reason = REASON_BY_CODE.get(f.reason), kind = DNS_FAILURE_BY_CODE.get(f.reason);
        if (g && reason) g.failedBy[reason] += f.n;
        else if (g && kind) g.dns[kind] += f.n;
      }
      const reqs = new Map<number, Map<RequestProtocol, RequestSum>>();
      this.requestRange(res, a, b, reqs);
      for (const [edge, m] of reqs) {
        const g = out.get(edge);
        if (!g) continue;
        g.requests ??= new Map();
        for (const [p, s] of m) {
          const into = g.requests.get(p);
          if (!into) g.requests.set(p, s);
          else { into.add(rowOf(s)); }
        }
      }
    }
    return out;
  }

  /**
   * The answer's edges and nodes. A lastSeen is never later than now (a clock step back); a firstSeen never later
   * than its lastSeen (rows written before first_seen was the live map's own held the write time, up to a flush late).
   */
  private build(aggs: Map<number, Agg>, spanMs: number, filter: GraphFilter, from: number, to: number): GraphSnapshot {
    const dims = this.dims.edgesByRef(aggs.keys(), { from, to });
    const names = this.failingNames([...dims.values()].filter((d) => d.protocol === 'dns').map((d) => d.ref), from, to);
    const nodes = this.dims.nodesByRef(new Set([...dims.values()].flatMap((e) => [e.sourceRef, e.targetRef])), { from, to });
    const edges: GraphEdge[] = [];
    const outNodes = new Map<string, GraphNode>();
    const now = this.now();
    for (const [ref, g] of aggs) {
      const d = dims.get(ref);
      if (!d) continue; // pruned meanwhile
      const s = nodes.get(d.sourceRef), t = nodes.get(d.targetRef);
      if (!s || !t || !edgeVisible(s, t, filter) || (filter.protocol && d.protocol !== filter.protocol)) continue;
      const lastSeen = Math.min(g.lastSeen, now);
      const e = toEdge(d, { ...g, lastSeen }, spanMs);
      if (e.dns) e.dns.failingNames = names.get(ref) ?? [];
      edges.push(e);
      for (const n of new Set([s, t])) {
        const o = outNodes.get(n.id) ?? toNode(n);
        o.active += g.active;
        o.lastSeen = Math.max(o.lastSeen, lastSeen);
        if (lastSeen > 0) o.firstSeen = Math.min(o.firstSeen, lastSeen);
        outNodes.set(n.id, o);
      }
    }
    edges.sort((a, b) => (a.id < b.id ? -1 : 1));
    return { generatedAt: now, nodes: [...outNodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), edges };
  }

  /** The names resolver edges failed to resolve in [from, to), most failed first (from 'dns_failure' events). */
  private failingNames(edges: number[], from: number, to: number): Map<number, EdgeDns['failingNames']> {
    const out = new Map<number, Map<string, EdgeDns['failingNames'][number]>>();
    if (!edges.length) return new Map();
    for (const r of this.stmt.dnsNames.all({ from, to, edges: JSON.stringify(edges) })) {
      const d = JSON.parse(r.detail) as { name?: unknown; reason?: unknown; count?: unknown };
      if (typeof d.name !== 'string') continue;
      const m = out.get(r.edge) ?? new Map();
      out.set(r.edge, m);
      const f = m.get(d.name);
      const count = typeof d.count === 'number' ? d.count : 1, reason = typeof d.reason === 'string' ? d.reason : '';
      if (!f) m.set(d.name, { name: d.name, count, reason, lastSeen: r.t });
      else { f.count += count; if (r.t >= f.lastSeen) { f.lastSeen = r.t; f.reason = reason; } }
    }
    return new Map([...out].map(([e, m]) => [e, [...m.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen).slice(0, DNS_DEFAULTS.topFailingNames)]));
  }

  /**
   * Row ids of the edges a series sums over, or null when the edge or node was never stored.
   * A node's DNS metrics sum its resolver edges; its request metrics its inbound edges; its others, its connection edges.
   */
  seriesEdges(q: { edge?: string; node?: string; inbound?: boolean }, metric?: Metric): number[] | null {
    if (q.edge !== undefined) { const r = this.dims.edgeRef(q.edge); return r === undefined ? null : [r]; }
    const n = this.dims.nodeRef(q.node!);
    if (n === undefined) return null;
    const edges = q.inbound ? this.dims.inboundEdges(n) : this.dims.incidentEdges(n);
    if (!metric) return edges;
    const want = metric.startsWith('dns_') ? 'dns' : 'tcp';
    const stored = this.dims.edgesByRef(edges);
    return edges.filter((r) => (stored.get(r)?.protocol ?? 'tcp') === want);
  }

  /** The tier and bucket grid a series over [from, to) is drawn on (see seriesTier). */
  seriesGrid(from: number, to: number, stepMs: number | undefined, targetPoints: number): { tier: number; step: number; from: number; to: number; points: number } {
    const spans = this.spans();
    const tier = seriesTier(from, to, stepMs, spans, targetPoints);
    const res = spans[tier].resolutionMs;
    // A step coarser than every stored resolution (step=1h over 10 m buckets) sums whole buckets of its tier into one.
    const step = stepMs !== undefined && stepMs > res ? Math.floor(stepMs / res) * res : res;
    const start = Math.floor(from / step) * step, end = Math.ceil(to / step) * step;
    return { tier, step, from: start, to: end, points: (end - start) / step };
  }

  /** One metric per bucket of the grid; buckets without rows count 0 (means: null), or null when not recorded. */
  timeseries(edges: number[], metric: Metric, grid: { tier: number; step: number; from: number; to: number }, how?: 'seek' | 'scan'): { step: number; from: number; to: number; points: SeriesPoint[] } {
    const spans = this.spans();
    const { tier: k, step, from: start, to: end } = grid;
    if (isRequestMetric(metric)) return this.requestTimeseries(edges, metric, grid);
    const buckets = new Map<number, { o: number; f: number; bs: number; br: number; r: number; a: number; rs: number; rn: number; rp: number | null; ds: number; dn: number }>();
    const json = JSON.stringify(edges);
    // A seek costs about as much as reading ~80 rows in passing (measured): scan when the edges are a large share of all.
    const query = (how ?? (edges.length * 80 > this.dims.edgeCount() ? 'scan' : 'seek')) === 'scan' ? this.stmt.seriesScan : this.stmt.series;
    for (const s of planRange(start, end, spans.slice(0, k + 1))) {
      for (const row of query.all({ res: s.resolutionMs / 1000, start: s.from / 1000, end: s.to / 1000, edges: json })) {
        const t = Math.floor((row.t * 1000) / step) * step;
        const b = buckets.get(t);
        if (!b) { buckets.set(t, { ...row }); continue; }
        // A coarse bucket made from finer rows: counts add up, the open count keeps its peak.
        b.o += row.o; b.f += row.f; b.bs += row.bs; b.br += row.br; b.r += row.r; b.a = Math.max(b.a, row.a);
        b.rs += row.rs; b.rn += row.rn; b.ds += row.ds; b.dn += row.dn;
        b.rp = row.rp === null ? b.rp : Math.max(b.rp ?? 0, row.rp);
      }
    }
    const points: SeriesPoint[] = [];
    for (let t = start; t < end; t += step) {
      const b = buckets.get(t);
      points.push({ t, v: b ? metricOf(metric, b) : COUNTS.has(metric) ? 0 : null });
    }
    return { step, from: start, to: end, points: this.unrecordedNull(points, step, (t) => buckets.has(t)) };
  }

  /** A request metric per bucket: counts summed, latency from the bucket's summed histogram. */
  private requestTimeseries(edges: number[], metric: Metric, grid: { tier: number; step: number; from: number; to: number }): { step: number; from: number; to: number; points: SeriesPoint[] } {
    const { tier: k, step, from: start, to: end } = grid;
    const buckets = new Map<number, RequestSum>();
    for (const s of planRange(start, end, this.spans().slice(0, k + 1))) {
      this.requestSeries(s.resolutionMs / 1000, s.from / 1000, s.to / 1000, edges, (t, row) => {
        const b = Math.floor((t * 1000) / step) * step;
        let sum = buckets.get(b);
        if (!sum) buckets.set(b, (sum = new RequestSum()));
        sum.add(row);
      });
    }
    const points: SeriesPoint[] = [];
    for (let t = start; t < end; t += step) {
      const b = buckets.get(t);
      points.push({ t, v: requestMetricOf(metric, b) });
    }
    return { step, from: start, to: end, points: this.unrecordedNull(points, step, (t) => buckets.has(t)) };
  }

  /**
   * The timeline's counts on the grid (seriesGrid): per bucket with any, the failed connections (by reason) and the
   * failed requests of all edges, from the stored counts, so a marker says how many failed, not how many were sampled.
   */
  timeline(grid: { tier: number; step: number; from: number; to: number }, group: string | null = null): TimelineBucket[] {
    const { tier: k, step, from: start, to: end } = grid;
    const out = new Map<number, TimelineBucket>();
    const at = (t: number) => {
      const b = Math.floor((t * 1000) / step) * step;
      let x = out.get(b);
      if (!x) out.set(b, (x = { t: b, failures: 0, failedBy: {}, requestErrors: 0 }));
      return x;
    };
    for (const s of planRange(start, end, this.spans().slice(0, k + 1))) {
      const res = s.resolutionMs / 1000, a = s.from / 1000, b = s.to / 1000;
      const bq: BucketQuery = { res, start: a, end: b, group };
      for (const r of this.stmt.failedBuckets.all(bq)) at(r.t).failures += r.n;
      for (const r of this.stmt.failedByBuckets.all(bq)) {
        const reason = REASON_BY_CODE.get(r.reason); // DNS kinds have codes of their own: not connections
        if (reason && r.n > 0) { const x = at(r.t); x.failedBy[reason] = (x.failedBy[reason] ?? 0) + r.n; }
      }
      for (const r of this.requestErrorBuckets(bq)) at(r.t).requestErrors += r.n;
    }
    return [...out.values()].filter((x) => x.failures > 0 || x.requestErrors > 0).sort((x, y) => x.t - y.t);
  }

  /** Events in [from, to), oldest first (newest: newest first), the first `limit`; `edges`: only those of these edges (unknown ones left out). */
  events(q: { from: number; to: number; limit: number; types?: string[]; node?: string; edge?: string; edges?: readonly string[]; group?: string; newest?: boolean }): { events: HistoryEvent[]; truncated: boolean } | null {
    let node: number | null = null;
    let refs: Set<number> | null = q.edges ? new Set(q.edges.map((id) => this.dims.edgeRef(id)).filter((r) => r !== undefined)) : null;
    if (q.node !== undefined) { const r = this.dims.nodeRef(q.node); if (r === undefined) return null; node = r; }
    if (q.edge !== undefined) {
      const r = this.dims.edgeRef(q.edge);
      if (r === undefined) return null;
      refs = refs ? new Set(refs.has(r) ? [r] : []) : new Set([r]);
    }
    const byEdge = refs !== null;
    const stmt = byEdge ? (q.newest ? this.stmt.edgeEventsNewest : this.stmt.edgeEvents) : (q.newest ? this.stmt.eventsNewest : this.stmt.events);
    const rows = stmt.all({ from: q.from, to: q.to, types: q.types ? JSON.stringify(q.types) : null, node, edges: refs ? JSON.stringify([...refs]) : null, group: q.group ?? null, limit: q.limit + 1 });
    const events = rows.slice(0, q.limit).map((r) => ({ time: r.t, type: r.type, node: r.node, edge: r.edge, detail: r.detail ? JSON.parse(r.detail) : {} }));
    return { events, truncated: rows.length > q.limit };
  }
}

type EventRow = { t: number; type: string; node: string | null; edge: string | null; detail: string | null };
type EventParams = { from: number; to: number; types: string | null; node: number | null; edges: string | null; group: string | null; limit: number };

/**
 * Events in [from, to), oldest or newest first. (@group: events of nodes in that project and of edges with an end in it,
 * and the agent's own, which concern all.) byEdge: only those of the edges in @edges (distinct ids), each found by
 * seeking it in events_edge_t; an optional filter in one statement (`@edges IS NULL OR ...`) would scan the range's
 * events of every edge instead, thousands a second on a busy map.
 */
export function eventsStatement(db: Db, order: 'ASC' | 'DESC', byEdge: boolean) {
  const from = byEdge
    ? 'json_each(@edges) j CROSS JOIN events e ON e.edge = j.value AND e.t >= @from AND e.t < @to'
    : 'events e';
  return db.prepare<EventParams, EventRow>(
    `SELECT e.t, e.type, n.key AS node, g.key AS edge, e.detail FROM ${from}
     LEFT JOIN nodes n ON n.id = e.node LEFT JOIN edges g ON g.id = e.edge
     WHERE e.t >= @from AND e.t < @to
       AND (@types IS NULL OR e.type IN (SELECT value FROM json_each(@types)))
       AND (@node IS NULL OR e.node = @node OR g.source = @node OR g.target = @node)
       AND (@group IS NULL OR (e.node IS NULL AND e.edge IS NULL) OR n.grp = @group OR e.edge IN ${GROUP_EDGES})
     ORDER BY e.t ${order}, e.id ${order} LIMIT @limit`);
}

const COUNTS = new Set<Metric>(['connections', 'failures', 'bytes_sent', 'bytes_received', 'retransmits', 'active', 'dns_queries', 'dns_failures']);

function requestMetricOf(m: Metric, b: RequestSum | undefined): number | null {
  const n = b ? b.count() : 0;
  switch (m) {
    case 'requests': return n;
    case 'request_errors': return b ? b.errors() : 0;
    case 'request_client_errors': return b ? b.clientErrors() : 0;
  }
  if (!b || !n) return null;
  const l = latencySummary(b.buckets, b.latencyUs * 1000, b.latencyMaxUs);
  return m === 'request_mean' ? l.meanMs : m === 'request_p50' ? l.p50Ms : m === 'request_p95' ? l.p95Ms : l.p99Ms;
}

/** A RequestSum as a row (to add one sum into another). */
function rowOf(s: RequestSum): Record<string, number> {
  const r: Record<string, number> = { unpaired: s.unpaired, lat_us: s.latencyUs, [REQUEST_MAX_COLUMN]: s.latencyMaxUs, flags: s.flags };
  s.status.forEach((v, i) => (r[`s${i}`] = v));
  s.buckets.forEach((v, i) => (r[`b${i}`] = v));
  return r;
}

function metricOf(m: Metric, b: { o: number; f: number; bs: number; br: number; r: number; a: number; rs: number; rn: number; rp: number | null; ds: number; dn: number }): number | null {
  switch (m) {
    case 'connections': return b.o;
    case 'failures': return b.f;
    case 'bytes_sent': return b.bs;
    case 'bytes_received': return b.br;
    case 'retransmits': return b.r;
    case 'active': return b.a;
    case 'rtt_mean': return b.rn ? Math.round(b.rs / b.rn) : null;
    case 'rtt_p95': return b.rn ? b.rp : null;
    case 'duration_mean': return b.dn ? Math.round(b.ds / b.dn) / 10 : null;
    case 'dns_queries': return b.o;
    case 'dns_failures': return b.f;
    case 'dns_latency_mean': return b.rn ? Math.round(b.rs / b.rn) / 1000 : null;
    case 'dns_latency_p95': return b.rn && b.rp !== null ? b.rp / 1000 : null;
    default: return null; // request metrics: requestTimeseries
  }
}

function emptyAgg(): Agg {
  return {
    opened: 0, closed: 0, failed: 0, sent: 0, received: 0, retransmits: 0, active: 0, rttSum: 0, rttN: 0, rttP95: 0, durSum: 0, durN: 0,
    failedBy: Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>,
    dns: Object.fromEntries(Object.keys(DNS_FAILURE_CODES).map((k) => [k, 0])) as Record<DnsFailureKind, number>, lastSeen: 0,
  };
}

function rates(g: Agg, spanMs: number): Rates {
  const s = Math.max(spanMs, 1) / 1000;
  const r = (v: number) => Math.round((v / s) * 100) / 100;
  return { connections: r(g.opened), failures: r(g.failed), bytesSent: r(g.sent), bytesReceived: r(g.received), retransmits: r(g.retransmits) };
}

function toEdge(d: StoredEdge, g: Agg, spanMs: number): GraphEdge {
  const rt = rates(g, spanMs);
  const requests = storedRequests(g.requests, spanMs);
  const e: GraphEdge = {
    id: d.id, source: d.source, target: d.target, port: d.port, protocol: d.protocol,
    connections: { opened: g.opened, active: g.active, closed: g.closed, failed: g.failed, failedBy: g.failedBy },
    bytes: { sent: g.sent, received: g.received },
    rtt: { meanUs: g.rttN ? Math.round(g.rttSum / g.rttN) : 0, p95Us: g.rttN ? g.rttP95 : 0, samples: g.rttN },
    retransmits: g.retransmits,
    // Duration p95 is not stored: 0.
    duration: { meanMs: g.durN ? Math.round(g.durSum / g.durN) / 10 : 0, p95Ms: 0, samples: g.durN },
    firstSeen: g.lastSeen > 0 ? Math.min(d.firstSeen, g.lastSeen) : d.firstSeen, lastSeen: g.lastSeen,
    rates: { '10s': rt, '1m': { ...rt } },
    ...(requests ? { requests } : {}),
    ...(d.clientInstances?.length ? { clientInstances: d.clientInstances } : {}),
  };
  if (d.protocol === 'dns') {
    const k = g.dns;
    const errors = k.nxdomain + k.servfail + k.refused + k.otherErrors;
    e.dns = {
      resolvers: [], queries: g.opened, answered: g.closed, noerror: Math.max(0, g.closed - errors), nxdomain: k.nxdomain, servfail: k.servfail,
      refused: k.refused, otherErrors: k.otherErrors, timeouts: k.timeouts, failures: g.failed, queriesPerSec: rt.connections,
      latency: { p50Ms: null, p95Ms: g.rttN ? g.rttP95 / 1000 : null, maxMs: null }, failingNames: [],
    };
  }
  return e;
}

function toNode(n: StoredNode): GraphNode {
  const { ref: _ref, ...rest } = n;
  return { ...rest, lastSeen: 0, active: 0 };
}
