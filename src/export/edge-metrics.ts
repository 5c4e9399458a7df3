// Per-edge metrics from the live graph, read in place every refresh: the top N
// edges by traffic keep their own labels, the rest are summed into one `other`
// series, and every counter is kept monotonic here (an edge moving between the
// two, or the graph moving a connection to another edge, never makes a counter
// go down). Each edge's labels and row are made once and reused, so the
// exposition can reuse its text while its numbers stand still.
import { FAILURE_REASONS, REQUEST_STATUS_CLASSES, type GraphEdge, type GraphNode, type GraphSnapshot, type RequestProtocol } from '../graph/types.js';
import { ATTEMPT_REASONS } from '../graph/edge-facts.js';
import type { EdgeReading, RequestTotalsReading } from '../graph/readings.js';
import { EXPORT_DEFAULTS, HISTOGRAM_BOUNDS } from '../config/defaults.js';
import { histogramIn, scalarIn, type Family, type HistogramSeries, type Labels, type SeriesSlots, type SummarySeries } from './families.js';
import { connectionType, edgeLabels, OTHER, otherLabels, tempoName, UNKNOWN_NODE } from './labels.js';
import { FAILED_CLASSES, newRequestAcc, P, PROTOCOL_INDEX, readRequests, REQUEST_WIDTH, requestFamilies, REQ, requestLabels, toTempoBuckets } from './request-metrics.js';

/**
 * A block of numbers accumulated per edge, and the families it writes. The L4
 * block, the requests (request-metrics.ts, kept per protocol and only for edges
 * that have some) and Tempo's are built in; another block plugs in here: give
 * it a width, a reader of its cumulative numbers from a GraphEdge, and its families.
 */
export interface EdgeBlock {
  width: number;
  /**
   * Cumulative numbers of the edge into out[at .. at+width). On a live agent `e` is the graph's own
   * edge read in place (readings.ts): its running totals are current, its derived fields (rates,
   * summaries) are not; `r` has the rest (distributions, recent rates).
   */
  read(e: GraphEdge, out: Float64Array, at: number, r: EdgeReading): void;
  families(rows: Row[], at: number): Family[];
}

/** One exported series: an edge with its own labels, or `other`. The same object every refresh while the edge stays labelled. */
export interface Row {
  labels: Labels;
  acc: Float64Array;
  active: number;
  /** p95 of the edge's recent connection durations in seconds; NaN when none closed (or for `other`, where it means nothing). */
  durationP95: number;
  reasonLabels(i: number): Labels;
  /** Request totals per protocol (PROTOCOL_INDEX), allocated at the first request (request-metrics.ts layout). */
  req: (Float64Array | undefined)[];
  /** Labels with app_protocol (cls -1) or app_protocol and status_class, made once. */
  requestLabels(protocol: number, cls: number): Labels;
  /** Its series objects, updated in place (L4 slots first, then request-metrics.ts's). */
  slots: SeriesSlots;
}

/** Labels with `reason`, made once per edge and reason (the exposition caches text per label object). */
function reasonLabels(labels: Labels, cache: Labels[]): (i: number) => Labels {
  return (i) => (cache[i] ??= { ...labels, reason: FAILURE_REASONS[i] });
}

const R = FAILURE_REASONS.length;
/** Slots (within the failures by reason) of attempts that never connected. */
const ATTEMPT_SLOTS = ATTEMPT_REASONS.map((r) => FAILURE_REASONS.indexOf(r));
const RTT_B = HISTOGRAM_BOUNDS.rttUs.length + 1;
const DUR_B = HISTOGRAM_BOUNDS.durationMs.length + 1;
/** Offsets in the L4 block. */
const F = { opened: 0, closed: 1, failed: 2, sent: 2 + R, received: 3 + R, retransmits: 4 + R, rtt: 5 + R, rttSum: 5 + R + RTT_B, dur: 6 + R + RTT_B, durSum: 6 + R + RTT_B + DUR_B } as const;
const L4_WIDTH = F.durSum + 1;

/** Series slots of the L4 block: one per family, one per failure reason. */
const S = { opened: 0, closed: 1, active: 2, sent: 3, received: 4, retransmits: 5, rtt: 6, duration: 7, failed: 8 } as const;
const L4_SLOTS = S.failed + R;

const RTT_BOUNDS_S = HISTOGRAM_BOUNDS.rttUs.map((x) => x / 1e6);
const DUR_BOUNDS_S = HISTOGRAM_BOUNDS.durationMs.map((x) => x / 1e3);

function readL4(e: GraphEdge, out: Float64Array, at: number, r: EdgeReading): void {
  out[at + F.opened] = e.connections.opened;
  out[at + F.closed] = e.connections.closed;
  for (let i = 0; i < R; i++) out[at + F.failed + i] = e.connections.failedBy[FAILURE_REASONS[i]] ?? 0;
  out[at + F.sent] = e.bytes.sent;
  out[at + F.received] = e.bytes.received;
  out[at + F.retransmits] = e.retransmits;
  const rtt = r.rtt.buckets, dur = r.duration.buckets;
  for (let i = 0; i < RTT_B; i++) out[at + F.rtt + i] = rtt[i] ?? 0;
  out[at + F.rttSum] = r.rtt.total;
  for (let i = 0; i < DUR_B; i++) out[at + F.dur + i] = dur[i] ?? 0;
  out[at + F.durSum] = r.duration.total;
}

/**
 * Seconds to the microsecond. Sums of fractional milliseconds and interpolated quantiles are
 * doubles with no short decimal; such a number is written with String(), whose number cache
 * keeps each string past the next scavenge (a busy scrape: ~100k of them, 85 KB/s promoted).
 * A whole number of microseconds is written digit by digit (exposition.ts). Rounding is
 * monotonic, so a counter stays one.
 */
const toMicros = (s: number) => Math.round(s * 1e6) / 1e6;

const sumOf = (a: Float64Array, from: number, n: number) => { let s = 0; for (let i = 0; i < n; i++) s += a[from + i]; return s; };

export const L4_BLOCK: EdgeBlock = {
  width: L4_WIDTH,
  read: readL4,
  families(rows, at) {
    const counter = (name: string, help: string, unit: string, slot: number, off: number): Family =>
      ({ type: 'counter', name, help, unit, series: rows.map((r) => scalarIn(r.slots, slot, r.labels, r.acc[at + off])) });
    // Rows that would only say zero for long are left out until they have something (a failure of that reason, a closed connection).
    const failed: Family = { type: 'counter', name: 'dhrishti_edge_connections_failed_total', help: 'Connections that failed, by reason (refused, timeout, reset, unreachable, aborted)', unit: '{connection}', series: [] };
    const rtt: HistogramSeries[] = [], duration: SummarySeries[] = [];
    for (const r of rows) {
      const a = r.acc;
      for (let i = 0; i < R; i++) {
        const v = a[at + F.failed + i];
        if (v > 0) failed.series.push(scalarIn(r.slots, S.failed + i, r.reasonLabels(i), v));
      }
      if (!(a[at + F.closed] > 0)) continue;
      const rttCount = sumOf(a, at + F.rtt, RTT_B);
      if (rttCount > 0) {
        rtt.push(histogramIn(r.slots, S.rtt, r.labels, a, at + F.rtt, at + F.rtt + RTT_B, a[at + F.rttSum] / 1e6, rttCount));
      }
      const durCount = sumOf(a, at + F.dur, DUR_B);
      if (durCount > 0) {
        const m = (r.slots[S.duration] ??= { labels: r.labels, sum: 0, count: 0, quantiles: undefined }) as SummarySeries & { q?: [number, number][] };
        m.sum = toMicros(a[at + F.durSum] / 1e3);
        m.count = durCount;
        if (Number.isNaN(r.durationP95)) m.quantiles = undefined;
        else { m.quantiles = m.q ??= [[0.95, 0]]; m.quantiles[0][1] = r.durationP95; }
        duration.push(m);
      }
    }
    return [
      counter('dhrishti_edge_connections_opened_total', 'TCP connections established from client to server', '{connection}', S.opened, F.opened),
      counter('dhrishti_edge_connections_closed_total', 'Established connections that have ended', '{connection}', S.closed, F.closed),
      failed,
      { type: 'gauge', name: 'dhrishti_edge_connections_active', help: 'Connections open now', unit: '{connection}', series: rows.map((r) => scalarIn(r.slots, S.active, r.labels, r.active)) },
      counter('dhrishti_edge_sent_bytes_total', 'Bytes sent from client to server', 'By', S.sent, F.sent),
      counter('dhrishti_edge_received_bytes_total', 'Bytes sent from server back to client', 'By', S.received, F.received),
      counter('dhrishti_edge_retransmits_total', 'TCP segments retransmitted on the edge\'s connections', '{segment}', S.retransmits, F.retransmits),
      { type: 'histogram', name: 'dhrishti_edge_rtt_seconds', help: 'Smoothed round-trip time of each connection when it closed', unit: 's', bounds: RTT_BOUNDS_S, series: rtt },
      {
        // A mean and the recent p95 per edge (three rows, not a histogram's dozen); the distribution is Tempo's request_*_seconds histograms, per client and server.
        type: 'summary', name: 'dhrishti_edge_connection_duration_seconds', help: 'How long connections lasted, connect to close (sum and count of all; quantile 0.95 of the most recent ones)', unit: 's',
        series: duration,
      },
    ];
  },
};

/** One protocol's requests on one edge: the last totals read, what moved, and the accumulated totals (the row's). */
interface ProtocolState { last: Float64Array; delta: Float64Array; acc: Float64Array; seen: number }

interface EdgeState {
  id: string;
  firstSeen: number;
  labels: Labels;
  tempoKey: string;
  last: Float64Array;
  /** What moved since the previous refresh (never negative). */
  delta: Float64Array;
  row: Row;
  labelled: boolean;
  /** Refresh that last saw it. */
  seen: number;
  traffic: number;
  score: number;
  total: number;
  /** Duration samples its p95 was computed from (a sort of 256 values: only redone when it moved). */
  durationCount: number;
  /** Per protocol, once it has requests. */
  req: (ProtocolState | undefined)[];
  /** It has had a request: Tempo counts its requests, no longer its connections. */
  speaksL7: boolean;
  /** The graph's version of the edge when last read (0: none; a snapshot's edges have none, and are always read). */
  version: number;
  /** Its delta is all zeros. */
  still: boolean;
}

/** Tempo's numbers per (client, server, connection_type): requests, failed, latency buckets at TEMPO bounds, latency sum (s). */
const T = { requests: 0, failed: 1, buckets: 2 } as const;
const T_SUM = 2 + DUR_B;
const T_WIDTH = T_SUM + 1;
interface TempoState { labels: Labels; acc: Float64Array; members: number; slots: SeriesSlots }

export interface EdgeMetricsOptions {
  host: string;
  topEdges?: number;
  blocks?: EdgeBlock[];
}

export interface EdgeMetricsResult {
  families: Family[];
  labelled: number;
  folded: number;
}

/** Where edges come from: the live graph read in place (LiveGraph.forEachEdge), or a snapshot's edges (snapshotEdges). */
export type EdgeSource = (fn: (r: EdgeReading) => void) => void;

/**
 * Score for the top N: traffic of about the last minute (bytes, a new connection worth a kilobyte), kept as a
 * decaying sum of what moved between refreshes, so ranking needs no read of the graph's per-second windows.
 */
const SCORE_HALF_LIFE_MS = 30_000;

const EMPTY: ArrayLike<number> = [];

/** Readings of a snapshot taken with histograms (tests, the synthetic fleet). */
export function snapshotEdges(g: GraphSnapshot): EdgeSource {
  const nodes = new Map<string, GraphNode>(g.nodes.map((n) => [n.id, n]));
  return (fn) => {
    for (const e of g.edges) {
      const h = e.histograms;
      const dist = (x: { counts: ArrayLike<number>; sum: number } | undefined, p95: number) => ({
        count: x ? Array.from(x.counts).reduce((a, b) => a + b, 0) : 0, total: x?.sum ?? 0, buckets: x?.counts ?? EMPTY, p95: () => p95,
      });
      fn({
        edge: e, source: nodes.get(e.source), target: nodes.get(e.target), version: 0,
        rates: (seconds) => e.rates[seconds <= 10 ? '10s' : '1m'],
        rtt: dist(h?.rttUs, e.rtt.p95Us), duration: dist(h?.durationMs, e.duration.p95Ms),
        requests: snapshotRequests(e),
      });
    }
  };
}

/** A snapshot edge's requests as running totals: counts from `requests`, latency from `histograms.requests` (empty without it). */
function snapshotRequests(e: GraphEdge): EdgeReading['requests'] {
  if (!e.requests?.length) return undefined;
  const m = new Map<RequestProtocol, { totals: RequestTotalsReading }>();
  for (const r of e.requests) {
    const h = e.histograms?.requests?.find((x) => x.protocol === r.protocol);
    m.set(r.protocol, { totals: { status: REQUEST_STATUS_CLASSES.map((c) => r.status[c] ?? 0), buckets: h?.buckets ?? EMPTY, latencySumNs: h?.latencySumNs ?? 0, unpaired: r.unpaired } });
  }
  return m;
}

/**
 * Busiest first, labelled first on a tie, then by bytes and id. Answers only -1, 0 or 1: a comparator
 * that returns a difference of doubles makes a heap number per comparison (2,000 edges: ~350 KB a refresh).
 */
function byRank(a: EdgeState, b: EdgeState): number {
  if (a.score !== b.score) return a.score > b.score ? -1 : 1;
  if (a.labelled !== b.labelled) return a.labelled ? -1 : 1;
  if (a.total !== b.total) return a.total > b.total ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class EdgeMetrics {
  readonly host: string;
  readonly topEdges: number;
  private readonly blocks: EdgeBlock[];
  private readonly offsets: number[];
  private readonly width: number;
  private readonly edges = new Map<string, EdgeState>();
  private readonly tempo = new Map<string, TempoState>();
  private readonly other: Float64Array;
  private readonly otherRow: Row;
  private readonly raw: Float64Array;
  private readonly rawReq = newRequestAcc();
  private readonly tempoDelta = new Float64Array(T_WIDTH);
  private refreshes = 0;
  private lastUpdate = 0;
  private readonly hostLabels: Labels;

  constructor(opts: EdgeMetricsOptions) {
    this.host = opts.host;
    this.topEdges = opts.topEdges ?? EXPORT_DEFAULTS.topEdges;
    this.blocks = [L4_BLOCK, ...(opts.blocks ?? [])];
    this.offsets = [];
    let w = 0;
    for (const b of this.blocks) { this.offsets.push(w); w += b.width; }
    this.width = w;
    this.other = new Float64Array(w);
    const labels = otherLabels(this.host);
    this.otherRow = newRow(labels, this.other);
    this.raw = new Float64Array(w);
    this.hostLabels = { host: this.host };
  }

  /** Reads one edge: what moved since the last refresh goes into its delta. */
  private read(r: EdgeReading, seen: EdgeState[], decay: number): void {
    const e = r.edge;
    // Resolver edges (protocol 'dns') have DNS families of their own (api/metrics.ts), not connection series.
    if (e.protocol !== 'tcp') return;
    let st = this.edges.get(e.id);
    if (!st) {
      const c = r.source ?? UNKNOWN_NODE, s = r.target ?? UNKNOWN_NODE;
      const labels = edgeLabels(e, c, s, this.host);
      st = {
        id: e.id, firstSeen: e.firstSeen, labels, tempoKey: `${tempoName(c)}\u0000${tempoName(s)}\u0000${connectionType(c, s)}`,
        last: new Float64Array(this.width), delta: new Float64Array(this.width),
        row: newRow(labels, new Float64Array(this.width)),
        labelled: false, seen: 0, traffic: 0, score: 0, total: 0, durationCount: 0, req: [], speaksL7: false, version: 0, still: false,
      };
      this.edges.set(e.id, st);
    } else if (st.firstSeen !== e.firstSeen) { // expired and made again between two refreshes: it counts from zero
      st.firstSeen = e.firstSeen;
      st.last.fill(0);
      for (const ps of st.req) ps?.last.fill(0);
    }
    if (r.version !== 0 && r.version === st.version) {
      // Nothing on the edge moved since the last read (the graph bumps the version on every change): no news to read.
      if (!st.still) { st.delta.fill(0); st.still = true; }
      st.traffic *= decay;
      st.score = st.labelled ? st.traffic * EXPORT_DEFAULTS.keepBonus : st.traffic;
      st.seen = this.refreshes;
      seen.push(st);
      return; // its request blocks keep their last `seen`: the refresh adds nothing from them
    }
    st.version = r.version;
    st.still = false;
    const raw = this.raw;
    for (let b = 0; b < this.blocks.length; b++) this.blocks[b].read(e, raw, this.offsets[b], r);
    for (let k = 0; k < this.width; k++) {
      const d = raw[k] - st.last[k];
      st.delta[k] = d > 0 ? d : 0; // a correction or a reset: nothing new to count
      st.last[k] = raw[k];
    }
    const rq = r.requests;
    if (rq) for (const [p, x] of rq) this.readProtocol(st, p, x.totals);
    st.row.active = e.connections.active;
    const n = r.duration.count;
    if (n !== st.durationCount) { st.durationCount = n; st.row.durationP95 = n ? toMicros(r.duration.p95() / 1e3) : NaN; }
    const d = st.delta;
    st.traffic = st.traffic * decay + d[F.sent] + d[F.received] + 1000 * d[F.opened];
    st.score = st.labelled ? st.traffic * EXPORT_DEFAULTS.keepBonus : st.traffic; // labelled edges keep their place unless clearly overtaken
    st.total = e.bytes.sent + e.bytes.received;
    st.seen = this.refreshes;
    seen.push(st);
  }

  private readProtocol(st: EdgeState, p: RequestProtocol, t: RequestTotalsReading): void {
    const pi = PROTOCOL_INDEX.get(p);
    if (pi === undefined) return;
    let ps = st.req[pi];
    if (!ps) {
      const acc = newRequestAcc();
      ps = st.req[pi] = { last: newRequestAcc(), delta: newRequestAcc(), acc, seen: 0 };
      st.row.req[pi] = acc;
    }
    const raw = this.rawReq;
    readRequests(t, raw);
    let any = false;
    for (let k = 0; k < REQUEST_WIDTH; k++) {
      const d = raw[k] - ps.last[k];
      ps.delta[k] = d > 0 ? d : 0;
      ps.last[k] = raw[k];
    }
    for (let c = 0; c < REQ.classes; c++) if (raw[c] > 0) { any = true; break; }
    if (any) st.speaksL7 = true;
    ps.seen = this.refreshes;
  }

  /** Folds the edges' news into the counters and returns the families. Pass a GraphSnapshot (with histograms) or an EdgeSource. */
  update(from: GraphSnapshot | EdgeSource, now = Date.now()): EdgeMetricsResult {
    const source = typeof from === 'function' ? from : snapshotEdges(from);
    this.refreshes++;
    const decay = this.lastUpdate ? 0.5 ** (Math.max(0, now - this.lastUpdate) / SCORE_HALF_LIFE_MS) : 1;
    this.lastUpdate = now;
    const ranked: EdgeState[] = [];
    source((r) => this.read(r, ranked, decay));
    ranked.sort(byRank);
    const rows: Row[] = [];
    let otherActive = 0, folded = 0;
    for (const tempo of this.tempo.values()) tempo.members = 0;
    const otherKey = `${OTHER}\u0000${OTHER}\u0000`;
    for (let i = 0; i < ranked.length; i++) {
      const st = ranked[i];
      const delta = st.delta;
      st.labelled = i < this.topEdges;
      let tkey: string;
      const acc = st.row.acc; // its own total even while folded: a series that gets its label starts from the edge's whole count
      for (let k = 0; k < this.width; k++) acc[k] += delta[k];
      for (let pi = 0; pi < P; pi++) {
        const ps = st.req[pi];
        if (!ps || ps.seen !== this.refreshes) continue;
        for (let k = 0; k < REQUEST_WIDTH; k++) ps.acc[k] += ps.delta[k];
        if (!st.labelled) {
          const o = (this.otherRow.req[pi] ??= newRequestAcc());
          for (let k = 0; k < REQUEST_WIDTH; k++) o[k] += ps.delta[k];
        }
      }
      if (st.labelled) {
        rows.push(st.row);
        tkey = st.tempoKey;
      } else {
        for (let k = 0; k < this.width; k++) this.other[k] += delta[k];
        otherActive += st.row.active;
        folded++;
        tkey = otherKey;
      }
      let t = this.tempo.get(tkey);
      if (!t) {
        const [client, server, connection_type] = tkey.split('\u0000');
        t = { labels: { client, server, connection_type, host: this.host }, acc: new Float64Array(T_WIDTH), members: 0, slots: [] };
        this.tempo.set(tkey, t);
      }
      t.members++;
      const td = this.tempoOf(st);
      for (let k = 0; k < T_WIDTH; k++) t.acc[k] += td[k];
    }
    // forEach: a Map's for-of makes an [key, value] array per entry, thousands a refresh.
    this.edges.forEach((st, id) => { if (st.seen !== this.refreshes) this.edges.delete(id); }); // expired from the graph: its series go stale
    this.tempo.forEach((t, k) => { if (!t.members) this.tempo.delete(k); });
    if (folded) { this.otherRow.active = otherActive; rows.push(this.otherRow); }

    const families: Family[] = [];
    for (let b = 0; b < this.blocks.length; b++) families.push(...this.blocks[b].families(rows, this.offsets[b]));
    families.push(...requestFamilies(rows, L4_SLOTS));
    families.push(...this.tempoFamilies());
    families.push({ type: 'gauge', name: 'dhrishti_export_edges_folded', help: `Edges beyond the top ${this.topEdges} by traffic, summed into the series labelled ${OTHER}`, unit: '{edge}', series: [{ labels: this.hostLabels, value: folded }] });
    families.push({ type: 'gauge', name: 'dhrishti_export_edges', help: 'Edges on this agent\'s map, labelled or folded', unit: '{edge}', series: [{ labels: this.hostLabels, value: ranked.length }] });
    return { families, labelled: rows.length - (folded ? 1 : 0), folded };
  }

  /**
   * What an edge adds to Tempo's series this refresh: its requests once it has had one (their
   * count, failures and latency), else its connections (opened, failed, duration). An edge whose
   * first request comes after some connections keeps what those connections added.
   */
  private tempoOf(st: EdgeState): Float64Array {
    const td = this.tempoDelta;
    td.fill(0);
    if (st.speaksL7) {
      for (let pi = 0; pi < P; pi++) {
        const ps = st.req[pi];
        if (!ps || ps.seen !== this.refreshes) continue;
        const d = ps.delta;
        for (let c = 0; c < REQ.classes; c++) td[T.requests] += d[c];
        for (const c of FAILED_CLASSES) td[T.failed] += d[c];
        toTempoBuckets(d, td, T.buckets);
        td[T_SUM] += d[REQ.sumNs] / 1e9;
      }
    } else {
      const d = st.delta;
      // Tempo's failed is a part of its total: attempts that never connected are calls too (a dead endpoint is not idle)
      td[T.requests] = d[F.opened];
      for (const i of ATTEMPT_SLOTS) td[T.requests] += d[F.failed + i];
      td[T.failed] = sumOf(d, F.failed, R);
      for (let i = 0; i < DUR_B; i++) td[T.buckets + i] = d[F.dur + i];
      td[T_SUM] = d[F.durSum] / 1e3;
    }
    return td;
  }

  /** Grafana's service graph reads these names as Tempo writes them. */
  private tempoFamilies(): Family[] {
    const series = [...this.tempo.values()];
    // Server and client histograms are the same numbers (slots 2 and 3: one series object each, as a family keeps its own).
    const hist = (name: string, help: string, slot: number): Family => ({
      type: 'histogram', name, help, unit: 's', bounds: DUR_BOUNDS_S,
      series: series.map((t) => histogramIn(t.slots, slot, t.labels, t.acc, T.buckets, T.buckets + DUR_B, toMicros(t.acc[T_SUM]), sumOf(t.acc, T.buckets, DUR_B))),
    });
    const rule = 'an edge with requests (L7) counts its requests, one without counts its connections and the attempts that never connected';
    return [
      { type: 'counter', name: 'traces_service_graph_request_total', help: `Requests from client to server (${rule})`, unit: '{request}', series: series.map((t) => scalarIn(t.slots, 0, t.labels, t.acc[T.requests])) },
      { type: 'counter', name: 'traces_service_graph_request_failed_total', help: `Failed requests from client to server: HTTP 5xx, gRPC, database and Redis errors (${rule}: failed connections)`, unit: '{request}', series: series.map((t) => scalarIn(t.slots, 1, t.labels, t.acc[T.failed])) },
      hist('traces_service_graph_request_server_seconds', `Request time as the server sees it (${rule}: connection duration)`, 2),
      hist('traces_service_graph_request_client_seconds', `Request time as the client sees it (${rule}: connection duration)`, 3),
    ];
  }
}

function newRow(labels: Labels, acc: Float64Array): Row {
  return { labels, acc, active: 0, durationP95: NaN, reasonLabels: reasonLabels(labels, []), req: [], requestLabels: requestLabels(labels, []), slots: [] };
}
