// Request (L7) families per edge: requests by application protocol and status
// class, the request duration histogram at the L7 histogram's own bounds, and
// unpaired messages. An edge keeps one small block of numbers per protocol it
// has spoken (most edges: none), laid out as REQ says.
import { HISTOGRAM_BOUNDS } from '../config/defaults.js';
import { REQUEST_PROTOCOLS, REQUEST_STATUS_CLASSES, type RequestProtocol } from '../graph/types.js';
import type { RequestTotalsReading } from '../graph/readings.js';
import { bucketToUs, LATENCY_BUCKETS } from '../graph/latency.js';
import { histogramIn, scalarIn, type CounterFamily, type Family, type HistogramFamily, type Labels, type SeriesSlots } from './families.js';

const C = REQUEST_STATUS_CLASSES.length;
/** Request duration bounds in µs (a subset of the L7 log2 bounds, so every bucket is exact). */
const BOUNDS_US: readonly number[] = HISTOGRAM_BOUNDS.requestLatencyUs;
const B = BOUNDS_US.length + 1;
/** Offsets in one protocol's block: counts by status class, duration buckets (per bucket, not cumulative), latency sum (ns), unpaired. */
export const REQ = { classes: C, buckets: C, sumNs: C + B, unpaired: C + B + 1 } as const;
export const REQUEST_WIDTH = C + B + 2;
export const P = REQUEST_PROTOCOLS.length;
export const PROTOCOL_INDEX = new Map<RequestProtocol, number>(REQUEST_PROTOCOLS.map((p, i) => [p, i]));
/** The request families' names (the hub reads them back). */
export const REQUEST_SERIES = { requests: 'dhrishti_edge_requests_total', duration: 'dhrishti_edge_request_duration_seconds' } as const;
/** Status classes that are failures, for Tempo's failed count: HTTP 5xx, and `error` (gRPC non-OK, database, Redis). */
export const FAILED_CLASSES = [REQUEST_STATUS_CLASSES.indexOf('5xx'), REQUEST_STATUS_CLASSES.indexOf('error')];

const BOUNDS_S = BOUNDS_US.map((us) => us / 1e6);
const TEMPO_BOUNDS_US = HISTOGRAM_BOUNDS.durationMs.map((ms) => Math.round(ms * 1000));

/** Index of the first bound ≥ x in bounds (bounds.length: +Inf). */
const at = (bounds: readonly number[], x: number) => { const i = bounds.findIndex((b) => b >= x); return i < 0 ? bounds.length : i; };

/**
 * L7 bucket i (requests in [2^i, 2^(i+1)) µs) → the exported bucket holding it: the first bound at or
 * above its upper end. Exact because every exported bound is an L7 bound (checked in the tests).
 */
export const L7_TO_EXPORTED = Int8Array.from({ length: LATENCY_BUCKETS }, (_, i) => at(BOUNDS_US, bucketToUs(i)));
/** Exported bucket j → Tempo's bucket (HISTOGRAM_BOUNDS.durationMs, powers of two of a µs as well). */
export const EXPORTED_TO_TEMPO = Int8Array.from({ length: B }, (_, j) => (j < BOUNDS_US.length ? at(TEMPO_BOUNDS_US, BOUNDS_US[j]) : TEMPO_BOUNDS_US.length));

export const newRequestAcc = () => new Float64Array(REQUEST_WIDTH);

/** One protocol's running totals into out (REQ layout). */
export function readRequests(t: RequestTotalsReading, out: Float64Array): void {
  out.fill(0);
  for (let c = 0; c < C; c++) out[c] = t.status[c] ?? 0;
  const b = t.buckets;
  for (let i = 0; i < b.length && i < LATENCY_BUCKETS; i++) out[REQ.buckets + L7_TO_EXPORTED[i]] += b[i];
  out[REQ.sumNs] = t.latencySumNs;
  out[REQ.unpaired] = t.unpaired;
}

/** Adds one protocol block's duration buckets to Tempo's buckets at out[from ..]. */
export function toTempoBuckets(block: Float64Array, out: Float64Array, from: number): void {
  for (let j = 0; j < B; j++) out[from + EXPORTED_TO_TEMPO[j]] += block[REQ.buckets + j];
}

/** Labels with app_protocol (cls < 0) or app_protocol and status_class, made once per edge (the exposition caches text per label object). */
export function requestLabels(labels: Labels, cache: Labels[]): (protocol: number, cls: number) => Labels {
  return (p, cls) => (cache[p * (C + 1) + cls + 1] ??= cls < 0
    ? { ...labels, app_protocol: REQUEST_PROTOCOLS[p] }
    : { ...labels, app_protocol: REQUEST_PROTOCOLS[p], status_class: REQUEST_STATUS_CLASSES[cls] });
}

interface RequestRow { req: (Float64Array | undefined)[]; requestLabels(protocol: number, cls: number): Labels; slots: SeriesSlots }

/** Series slots per protocol: one per status class, then unpaired, then duration. */
const SLOTS = C + 2;

/** Families of the rows' requests; rows and protocols without requests write nothing. Series are kept in the rows' slots from `slotBase` on. */
export function requestFamilies(rows: RequestRow[], slotBase: number): Family[] {
  const total: CounterFamily = {
    type: 'counter', name: REQUEST_SERIES.requests, unit: '{request}', series: [],
    help: 'Requests completed on the edge, by application protocol (app_protocol) and status class (1xx-5xx and other for HTTP; ok or error for gRPC, PostgreSQL, MySQL, Redis; error also for a request the server\'s end closed the connection on); failed = 5xx or error',
  };
  const unpaired: CounterFamily = {
    type: 'counter', name: 'dhrishti_edge_requests_unpaired_total', unit: '{message}', series: [],
    help: 'Responses with no request to pair and requests that never got one (framing lost, or the client\'s end closed with them in flight), by app_protocol',
  };
  const duration: HistogramFamily = {
    type: 'histogram', name: REQUEST_SERIES.duration, unit: 's', bounds: BOUNDS_S, series: [],
    help: 'Request duration, request sent to response complete (or to the connection\'s end for one the server closed on), by app_protocol (the L7 log2 bounds from 1.024 ms to 8.4 s, every second one below: 16, 64, 256 µs; a request of exactly a bound counts in the next bucket)',
  };
  for (const r of rows) {
    for (let p = 0; p < P; p++) {
      const a = r.req[p];
      if (!a) continue;
      const at = slotBase + p * SLOTS;
      for (let c = 0; c < C; c++) if (a[c] > 0) total.series.push(scalarIn(r.slots, at + c, r.requestLabels(p, c), a[c]));
      if (a[REQ.unpaired] > 0) unpaired.series.push(scalarIn(r.slots, at + C, r.requestLabels(p, -1), a[REQ.unpaired]));
      let n = 0;
      for (let j = 0; j < B; j++) n += a[REQ.buckets + j];
      if (n > 0) duration.series.push(histogramIn(r.slots, at + C + 1, r.requestLabels(p, -1), a, REQ.buckets, REQ.buckets + B, a[REQ.sumNs] / 1e9, n));
    }
  }
  return [total, duration, unpaired];
}
