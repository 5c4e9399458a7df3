// Mean over every sample, p95 over the most recent ones: bounded memory per edge.
// With bounds, every sample is also counted in a fixed bucket (for exporters' histograms).
import type { Histogram } from './types.js';

const EMPTY = new Float64Array(0);

export class Distribution {
  private readonly ring: Float64Array;
  private n = 0;
  private sum = 0;
  private readonly bucketCounts: Float64Array | null;
  count = 0;

  constructor(size = 256, private readonly bounds: readonly number[] | null = null) {
    this.ring = new Float64Array(size);
    this.bucketCounts = bounds ? new Float64Array(bounds.length + 1) : null;
  }

  add(v: number): void {
    this.ring[this.n++ % this.ring.length] = v;
    this.sum += v;
    this.count++;
    if (this.bucketCounts) {
      let i = 0;
      while (i < this.bounds!.length && v > this.bounds![i]) i++;
      this.bucketCounts[i]++;
    }
  }

  mean(): number { return this.count ? this.sum / this.count : 0; }

  /** Sum of every sample. */
  get total(): number { return this.sum; }

  /** Samples per bucket, read in place (empty without bounds). */
  get buckets(): ArrayLike<number> { return this.bucketCounts ?? EMPTY; }

  p95(): number { return p95Of(this.ring, Math.min(this.n, this.ring.length)); }

  histogram(): Histogram | null {
    return this.bucketCounts ? { bounds: this.bounds!, counts: Array.from(this.bucketCounts), sum: this.sum } : null;
  }

  /** Takes in another's samples (one edge folded into another): count, sum and buckets exactly, its recent samples for the p95. */
  absorb(o: Distribution): void {
    const kept = Math.min(o.n, o.ring.length);
    for (let i = kept; i > 0; i--) this.ring[this.n++ % this.ring.length] = o.ring[(o.n - i) % o.ring.length];
    this.sum += o.sum;
    this.count += o.count;
    if (this.bucketCounts && o.bucketCounts) for (let i = 0; i < this.bucketCounts.length; i++) this.bucketCounts[i] += o.bucketCounts[i];
  }
}

/**
 * Exact count and sum of an interval's samples, and a uniform random sample of
 * them (reservoir sampling) for its p95; reset at the end of each interval.
 * Memory grows with the samples up to `max`, so idle edges cost almost nothing.
 */
export class IntervalSamples {
  private buf: Float64Array | null = null;
  count = 0;
  sum = 0;

  constructor(private readonly max = 512) {}

  add(v: number): void {
    const i = this.count++;
    this.sum += v;
    if (i < this.max) {
      if (!this.buf || i >= this.buf.length) {
        const next = new Float64Array(Math.min(this.max, Math.max(8, i * 2)));
        if (this.buf) next.set(this.buf);
        this.buf = next;
      }
      this.buf[i] = v;
    } else {
      const j = randomBelow(i + 1);
      if (j < this.max) this.buf![j] = v;
    }
  }

  /** Takes a sample back out (a connection moved to another edge): only the count and sum are exact afterwards. */
  remove(v: number): void {
    if (this.count <= 0) return;
    this.count--;
    this.sum -= v;
  }

  mean(): number { return this.count ? this.sum / this.count : 0; }

  p95(): number { return this.buf ? p95Of(this.buf, Math.min(this.count, this.max)) : 0; }

  reset(): void { this.count = 0; this.sum = 0; }

  /** Takes in another interval's samples: count and sum exactly, the reservoir as if they had come here. */
  absorb(o: IntervalSamples): void {
    const held = Math.min(o.count, o.max);
    for (let i = 0; i < held; i++) this.add(o.buf![i]);
    this.count += o.count - held;
    this.sum += o.sum - sumOf(o.buf, held);
  }
}

function sumOf(buf: Float64Array | null, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += buf![i];
  return s;
}

/**
 * xorshift32: a reservoir needs a fair index, not a secure one. Math.random's double came back as a
 * new heap number each time (0.45 MB/s under connection-per-request load, one per closed
 * connection); this state stays an int32, a small integer in Node's V8 (no pointer compression).
 */
let seed = 0x2545f491;
function randomBelow(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

/** Scratch for p95Of, kept: a copy per call was most of what an exporter's refresh allocated (one per moved edge). */
let scratch = new Float64Array(256);

/** Nearest-rank 95th percentile of the first `len` values (a selection in a kept copy: no sort, no allocation). */
export function p95Of(values: ArrayLike<number>, len: number): number {
  if (len <= 0) return 0;
  if (scratch.length < len) scratch = new Float64Array(len);
  const a = scratch;
  for (let i = 0; i < len; i++) a[i] = values[i];
  const k = Math.min(len - 1, Math.ceil(len * 0.95) - 1);
  // Hoare's selection: after each partition lo..j <= pivot <= i..hi, so the k-th lies in one side or is the pivot.
  let lo = 0, hi = len - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}
