// Per-second request counts and latency histograms over the last minute, for
// one protocol on one edge: rates over 10 s and 1 min, and the latency of the
// requests in those windows (histograms summed exactly).
import { WINDOW_SECONDS, WINDOW_SLOTS } from './window.js';
import { LATENCY_BUCKETS } from './latency.js';

/** Fields of one second: requests, errors, client errors, 5xx, latency sum (ns), latency bound (µs, a maximum), then the histogram. */
const REQ = 0, ERR = 1, CLIENT_ERR = 2, SERVER_ERR = 3, LAT = 4, MAX = 5, HIST = 6;
const FIELDS = HIST + LATENCY_BUCKETS;

/** What a window holds, summed over its seconds. */
export interface WindowSums {
  seconds: number;
  requests: number;
  errors: number;
  clientErrors: number;
  /** HTTP 5xx (part of errors). */
  serverErrors: number;
  latencySumNs: number;
  /** At least the slowest request's latency, µs (RequestTotals.latencyMaxUs). */
  latencyMaxUs: number;
  buckets: Float64Array;
}

export function emptySums(seconds: number): WindowSums {
  return { seconds, requests: 0, errors: 0, clientErrors: 0, serverErrors: 0, latencySumNs: 0, latencyMaxUs: 0, buckets: new Float64Array(LATENCY_BUCKETS) };
}

export function addSums(into: WindowSums, s: WindowSums): void {
  into.requests += s.requests; into.errors += s.errors; into.clientErrors += s.clientErrors; into.serverErrors += s.serverErrors;
  into.latencySumNs += s.latencySumNs;
  if (s.latencyMaxUs > into.latencyMaxUs) into.latencyMaxUs = s.latencyMaxUs;
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.buckets[i] += s.buckets[i];
}

export class RequestWindow {
  private readonly slots = new Float64Array(WINDOW_SLOTS * FIELDS);
  private headSec = 0;
  /** Sums per window length, valid for `cacheSec` until the next add. */
  private cache = new Map<number, WindowSums>();
  private cacheSec = -1;

  private advance(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    if (sec > this.headSec) {
      const steps = Math.min(sec - this.headSec, WINDOW_SLOTS);
      for (let i = 1; i <= steps; i++) {
        const b = ((this.headSec + i) % WINDOW_SLOTS) * FIELDS;
        this.slots.fill(0, b, b + FIELDS);
      }
      this.headSec = sec;
    }
    return sec;
  }

  /** Adds (or, with negative numbers, takes back) requests completed at nowMs; the latency bound only rises. */
  add(nowMs: number, requests: number, errors: number, clientErrors: number, serverErrors: number, latencySumNs: number, buckets: ArrayLike<number>, bucketSign = 1, latencyMaxUs = 0): void {
    const sec = this.advance(nowMs);
    if (this.headSec - sec >= WINDOW_SLOTS) return;
    const b = (sec % WINDOW_SLOTS) * FIELDS;
    const s = this.slots;
    s[b + REQ] += requests; s[b + ERR] += errors; s[b + CLIENT_ERR] += clientErrors; s[b + SERVER_ERR] += serverErrors; s[b + LAT] += latencySumNs;
    if (latencyMaxUs > s[b + MAX]) s[b + MAX] = latencyMaxUs;
    for (let i = 0; i < LATENCY_BUCKETS; i++) s[b + HIST + i] += bucketSign * buckets[i];
    this.cacheSec = -1;
  }

  /** Adds another window's last minute to this one's (one edge folded into another): sums added, latency bounds the larger. */
  absorb(o: RequestWindow, nowMs: number): void {
    this.advance(nowMs);
    o.advance(nowMs);
    const s = this.slots, t = o.slots;
    for (let i = 0; i < s.length; i++) s[i] = i % FIELDS === MAX ? Math.max(s[i], t[i]) : s[i] + t[i];
    this.cacheSec = -1;
  }

  /** Sums over the last `seconds` (at most WINDOW_SECONDS) complete seconds (window.ts WINDOW_SLOTS says why not the current one). Callers must not change the result. */
  sums(nowMs: number, seconds: number): WindowSums {
    const sec = this.advance(nowMs);
    if (this.cacheSec !== sec) { this.cache.clear(); this.cacheSec = sec; }
    const hit = this.cache.get(seconds);
    if (hit) return hit;
    const out = emptySums(seconds);
    const s = this.slots;
    for (let k = 1; k <= Math.min(seconds, WINDOW_SECONDS); k++) {
      const b = ((sec - k + WINDOW_SLOTS * 2) % WINDOW_SLOTS) * FIELDS;
      if (!s[b + REQ] && !s[b + ERR] && !s[b + CLIENT_ERR]) continue;
      out.requests += s[b + REQ]; out.errors += s[b + ERR]; out.clientErrors += s[b + CLIENT_ERR]; out.serverErrors += s[b + SERVER_ERR];
      out.latencySumNs += s[b + LAT];
      if (s[b + MAX] > out.latencyMaxUs) out.latencyMaxUs = s[b + MAX];
      for (let i = 0; i < LATENCY_BUCKETS; i++) out.buckets[i] += s[b + HIST + i];
    }
    this.cache.set(seconds, out);
    return out;
  }

  /** Requests and errors per second over the last minute, oldest first (aligned with RateWindow.series). */
  series(nowMs: number): { requests: number; errors: number }[] {
    const sec = this.advance(nowMs);
    const out = [];
    for (let i = WINDOW_SECONDS - 1; i >= 0; i--) {
      const b = ((sec - i + WINDOW_SLOTS * 2) % WINDOW_SLOTS) * FIELDS;
      out.push({ requests: this.slots[b + REQ], errors: this.slots[b + ERR] });
    }
    return out;
  }
}
