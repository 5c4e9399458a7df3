// Per-second counters over the last minute, for rates over 10 s and 1 min.
import type { Rates } from './types.js';

export const WINDOW_SECONDS = 60;
/**
 * Slots: the current second and the WINDOW_SECONDS complete ones before it. Rates are read over complete seconds
 * only: counts flushed once a second (bytes, requests) are in the current second only after its flush, so a window
 * that took it in read up to a tenth low over 10 s, depending on when it was read.
 */
export const WINDOW_SLOTS = WINDOW_SECONDS + 1;
const FIELDS = 5; // connections, failures, bytesSent, bytesReceived, retransmits

export class RateWindow {
  private readonly buckets = new Float64Array(WINDOW_SLOTS * FIELDS);
  private headSec = 0; // the second the newest bucket holds

  private advance(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    if (sec > this.headSec) {
      const steps = Math.min(sec - this.headSec, WINDOW_SLOTS);
      for (let i = 1; i <= steps; i++) this.buckets.fill(0, ((this.headSec + i) % WINDOW_SLOTS) * FIELDS, ((this.headSec + i) % WINDOW_SLOTS) * FIELDS + FIELDS);
      this.headSec = sec;
    }
    return sec;
  }

  add(nowMs: number, connections: number, failures: number, bytesSent: number, bytesReceived: number, retransmits = 0): void {
    const sec = this.advance(nowMs);
    if (this.headSec - sec >= WINDOW_SLOTS) return;
    const b = (sec % WINDOW_SLOTS) * FIELDS;
    this.buckets[b] += connections;
    this.buckets[b + 1] += failures;
    this.buckets[b + 2] += bytesSent;
    this.buckets[b + 3] += bytesReceived;
    this.buckets[b + 4] += retransmits;
  }

  /** Rates per second over the last `seconds` (at most WINDOW_SECONDS) complete seconds. */
  rates(nowMs: number, seconds: number): Rates {
    const sec = this.advance(nowMs);
    const r = [0, 0, 0, 0, 0];
    for (let i = 1; i <= seconds; i++) {
      const b = ((sec - i + WINDOW_SLOTS * 2) % WINDOW_SLOTS) * FIELDS;
      for (let f = 0; f < FIELDS; f++) r[f] += this.buckets[b + f];
    }
    return { connections: r[0] / seconds, failures: r[1] / seconds, bytesSent: r[2] / seconds, bytesReceived: r[3] / seconds, retransmits: r[4] / seconds };
  }

  /** Adds another window's last minute to this one's (one edge folded into another). */
  absorb(o: RateWindow, nowMs: number): void {
    this.advance(nowMs);
    o.advance(nowMs);
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i] += o.buckets[i];
  }

  /** True when nothing happened in the whole window. */
  idle(nowMs: number): boolean {
    this.advance(nowMs);
    return this.buckets.every((x) => x === 0);
  }

  /** One point per second, oldest first. */
  series(nowMs: number): { time: number; connections: number; failures: number; bytesSent: number; bytesReceived: number; retransmits: number }[] {
    const sec = this.advance(nowMs);
    const out = [];
    for (let i = WINDOW_SECONDS - 1; i >= 0; i--) {
      const b = ((sec - i + WINDOW_SLOTS * 2) % WINDOW_SLOTS) * FIELDS;
      out.push({ time: (sec - i) * 1000, connections: this.buckets[b], failures: this.buckets[b + 1], bytesSent: this.buckets[b + 2], bytesReceived: this.buckets[b + 3], retransmits: this.buckets[b + 4] });
    }
    return out;
  }
}
