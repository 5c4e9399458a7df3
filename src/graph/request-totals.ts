// Exact request counts (L7) as the graph keeps them: per socket, per connection
// and per edge, by protocol and status class, with the latency histogram. Sums
// only, so any two add, subtract and merge without loss; the ledger
// (request-ledger.ts) decides whose counts go where, request-views.ts reads them.
import type { L7Delta } from '../l7/types.js';
import { NONZERO_BUCKET_BIT, deltaMaxUs } from '../events/types.js';
import { RequestWindow } from './request-window.js';
import { LATENCY_BUCKETS } from './latency.js';
import { REQUEST_PROTOCOLS, REQUEST_STATUS_CLASSES, type RequestProtocol, type RequestSample, type RequestStatusClass } from './types.js';

/**
 * Totals by protocol, for one socket or one connection: almost always one
 * protocol, so two short arrays searched in turn rather than a Map (one per
 * socket and per connection, ten thousand a second under connection-per-request
 * load, and each Map is several objects for the GC).
 */
export class ProtocolTotals {
  readonly protocols: RequestProtocol[] = [];
  readonly totals: RequestTotals[] = [];
  get size(): number { return this.protocols.length; }
  get(p: RequestProtocol): RequestTotals | undefined {
    for (let i = 0; i < this.protocols.length; i++) if (this.protocols[i] === p) return this.totals[i];
    return undefined;
  }
  set(p: RequestProtocol, t: RequestTotals): void {
    for (let i = 0; i < this.protocols.length; i++) if (this.protocols[i] === p) { this.totals[i] = t; return; }
    this.protocols.push(p);
    this.totals.push(t);
  }
  /** pop(), not `length = 0` (a runtime call, even on an empty array). */
  clear(): void { while (this.protocols.length) { this.protocols.pop(); this.totals.pop(); } }
}

/** What one socket counted, per protocol. */
export class SideRequests {
  readonly totals = new ProtocolTotals();
  /** Its socket's last count is in (the closing delta): the kernel reports nothing more of it. */
  final = false;
  /** In the ledger's pool: owned by nobody. */
  free = false;
}

const CLASSES = REQUEST_STATUS_CLASSES.length;
const C_4XX = REQUEST_STATUS_CLASSES.indexOf('4xx'), C_5XX = REQUEST_STATUS_CLASSES.indexOf('5xx');
const C_OK = REQUEST_STATUS_CLASSES.indexOf('ok'), C_ERROR = REQUEST_STATUS_CLASSES.indexOf('error');

const REQUEST_PROTOCOL_SET: ReadonlySet<string> = new Set(REQUEST_PROTOCOLS);
/** Each request protocol's index in REQUEST_PROTOCOLS (an edge's batch totals are kept in that order). */
export const PROTOCOL_INDEX = Object.fromEntries(REQUEST_PROTOCOLS.map((p, i) => [p, i])) as Record<RequestProtocol, number>;

/** A Set, not includes(): asked for every socket's delta (two per connection under connection-per-request load). */
export const isRequestProtocol = (p: string): p is RequestProtocol => REQUEST_PROTOCOL_SET.has(p);

/**
 * Exact sums of one protocol's requests: by status class, the latency histogram and sum, unpaired. And one
 * bound that is not a sum: latencyMaxUs, at least the slowest request's latency (each delta brings the slowest
 * of its own requests, so counts taken back or drained leave it an upper bound).
 */
export class RequestTotals {
  // Plain arrays, not Float64Arrays: one is made per socket and connection, and each typed array costs the GC an array buffer to track.
  readonly status: number[] = zeros(CLASSES);
  readonly buckets: number[] = zeros(LATENCY_BUCKETS);
  latencySumNs = 0;
  latencyMaxUs = 0;
  /** The slowest of the requests added since the last `takeSince`: what bounds that difference, not the slowest of all. */
  private sinceMaxUs = 0;
  unpaired = 0;
  tls = false;

  addDelta(d: L7Delta): void {
    const st = this.status, bk = this.buckets, rq = d.requests, db = d.buckets;
    for (let m = d.nonzero; m !== 0; m &= m - 1) { // only the counters it may have set, lowest bit first
      const k = 31 - Math.clz32(m & -m);
      if (k < NONZERO_BUCKET_BIT) st[k] += rq[k];
      else bk[k - NONZERO_BUCKET_BIT] += db[k - NONZERO_BUCKET_BIT];
    }
    this.latencySumNs += d.latencySumNs;
    this.unpaired += d.unpaired;
    this.tls ||= d.tls;
    const max = deltaMaxUs(d);
    if (max > this.latencyMaxUs) this.latencyMaxUs = max;
    if (max > this.sinceMaxUs) this.sinceMaxUs = max;
  }

  /** Adds o (sign 1) or takes it back (sign -1); with `floor`, no field goes below 0 (a drained interval keeps what it gave). */
  add(o: RequestTotals, sign = 1, floor = false): void {
    if (sign === 1 && !floor) { this.plus(o); return; }
    const min = floor ? 0 : -Infinity;
    for (let i = 0; i < CLASSES; i++) this.status[i] = Math.max(min, this.status[i] + sign * o.status[i]);
    for (let i = 0; i < LATENCY_BUCKETS; i++) this.buckets[i] = Math.max(min, this.buckets[i] + sign * o.buckets[i]);
    this.latencySumNs = Math.max(min, this.latencySumNs + sign * o.latencySumNs);
    this.unpaired = Math.max(min, this.unpaired + sign * o.unpaired);
    if (sign > 0) { this.tls ||= o.tls; this.latencyMaxUs = Math.max(this.latencyMaxUs, o.latencyMaxUs); this.sinceMaxUs = Math.max(this.sinceMaxUs, o.latencyMaxUs); }
  }

  /** Adds o (the common case of add(), without its clamping). */
  plus(o: RequestTotals): void {
    const st = this.status, bk = this.buckets, os = o.status, ob = o.buckets;
    for (let i = 0; i < CLASSES; i++) st[i] += os[i];
    for (let i = 0; i < LATENCY_BUCKETS; i++) bk[i] += ob[i];
    this.latencySumNs += o.latencySumNs;
    this.unpaired += o.unpaired;
    this.tls ||= o.tls;
    if (o.latencyMaxUs > this.latencyMaxUs) this.latencyMaxUs = o.latencyMaxUs;
    if (o.latencyMaxUs > this.sinceMaxUs) this.sinceMaxUs = o.latencyMaxUs;
  }

  /** Back to all zeros (loops, not fill(): a builtin call per array costs more than 30 stores). */
  reset(): void {
    const st = this.status, bk = this.buckets;
    for (let i = 0; i < CLASSES; i++) st[i] = 0;
    for (let i = 0; i < LATENCY_BUCKETS; i++) bk[i] = 0;
    this.latencySumNs = 0;
    this.latencyMaxUs = 0;
    this.sinceMaxUs = 0;
    this.unpaired = 0;
    this.tls = false;
  }

  /**
   * What was added since `o` was taken, field by field, into `into` (a new one by default). Its bound is the slowest
   * request added since the last call, not the slowest of all: one slow request on a long-lived connection must not
   * bound every later interval's percentiles.
   */
  takeSince(o: RequestTotals | undefined, into = new RequestTotals()): RequestTotals {
    const d = into;
    for (let i = 0; i < CLASSES; i++) d.status[i] = this.status[i] - (o ? o.status[i] : 0);
    for (let i = 0; i < LATENCY_BUCKETS; i++) d.buckets[i] = this.buckets[i] - (o ? o.buckets[i] : 0);
    d.latencySumNs = this.latencySumNs - (o ? o.latencySumNs : 0);
    d.unpaired = this.unpaired - (o ? o.unpaired : 0);
    d.latencyMaxUs = this.sinceMaxUs;
    this.sinceMaxUs = 0;
    d.tls = this.tls;
    return d;
  }

  count(): number { let n = 0; for (let i = 0; i < CLASSES; i++) n += this.status[i]; return n; }
  errors(): number { return this.status[C_5XX] + this.status[C_ERROR]; }
  serverErrors(): number { return this.status[C_5XX]; }
  clientErrors(): number { return this.status[C_4XX]; }
  grpc(p: RequestProtocol): boolean { return p === 'http2' && this.status[C_OK] + this.status[C_ERROR] > 0; }

  zero(): boolean {
    if (this.latencySumNs || this.unpaired) return false;
    for (let i = 0; i < CLASSES; i++) if (this.status[i]) return false;
    for (let i = 0; i < LATENCY_BUCKETS; i++) if (this.buckets[i]) return false;
    return true;
  }

  statusRecord(): Record<RequestStatusClass, number> {
    return Object.fromEntries(REQUEST_STATUS_CLASSES.map((c, i) => [c, this.status[i]])) as Record<RequestStatusClass, number>;
  }
}

/** n zeros, in a backing store of exactly n (pushing grows it to 17, then 41: twice the memory, and copies). */
function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

/** A protocol's requests since the edge appeared, and over the last minute. */
export interface ProtocolState { totals: RequestTotals; window: RequestWindow }

/** An edge's requests: per protocol, and recent failed and slow requests (newest last). */
export class EdgeRequestState {
  readonly protocols = new Map<RequestProtocol, ProtocolState>();
  readonly samples: RequestSample[] = [];
  /** Finished connections' counts of the batch being ingested, by protocol (REQUEST_PROTOCOLS order), not applied yet (RequestLedger.applyBatch). */
  readonly batch: (RequestTotals | undefined)[] = [];
  batched = false;

  /** Takes in another edge's requests (one edge folded into another; no batch is open then): totals, windows, samples. */
  absorb(o: EdgeRequestState, nowMs: number, maxSamples: number): void {
    for (const [p, ps] of o.protocols) {
      const have = this.protocols.get(p);
      if (!have) { this.protocols.set(p, ps); continue; }
      have.totals.plus(ps.totals);
      have.window.absorb(ps.window, nowMs);
    }
    this.samples.push(...o.samples);
    this.samples.sort((a, b) => a.time - b.time);
    if (this.samples.length > maxSamples) this.samples.splice(0, this.samples.length - maxSamples);
  }
}

/** One protocol's requests of one edge in one history interval. */
export interface RequestInterval {
  protocol: RequestProtocol;
  tls: boolean;
  grpc: boolean;
  /** By status class (REQUEST_STATUS_CLASSES order). */
  status: number[];
  /** Latency histogram (LATENCY_BUCKETS). */
  buckets: number[];
  latencySumNs: number;
  /** At least the slowest of them (µs; RequestTotals.latencyMaxUs). */
  latencyMaxUs: number;
  unpaired: number;
}

/** An interval's requests as the history store writes them (non-empty protocols only). */
export function requestIntervals(m: Map<RequestProtocol, RequestTotals> | null): RequestInterval[] | undefined {
  if (!m) return undefined;
  const out: RequestInterval[] = [];
  for (const [protocol, t] of m) {
    if (t.zero()) continue;
    out.push({ protocol, tls: t.tls, grpc: t.grpc(protocol), status: Array.from(t.status), buckets: Array.from(t.buckets), latencySumNs: t.latencySumNs, latencyMaxUs: t.latencyMaxUs, unpaired: t.unpaired });
  }
  return out.length ? out : undefined;
}

/** What a connection added to its edge, and from which of its sockets. */
export interface ConnRequests {
  source: 'client' | 'server' | null;
  /** The edge its requests are counted on (null: not counted anywhere). */
  edge: string | null;
  counted: ProtocolTotals;
  /** Samples waiting until the connection is placed and its source known. */
  held: RequestSample[];
  /** The client's socket sent a sample: the server's samples are the same requests again. */
  clientSampled: boolean;
  /** In the ledger's pool: owned by nobody. */
  free: boolean;
}
