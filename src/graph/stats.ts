// Mean over every sample, p95 over the most recent ones: bounded memory per edge.
// With bounds, every sample is also counted in a fixed bucket (for exporters' histograms).
import type { Histogram } from './types.js';

export class Distribution {
  private readonly ring: Float64Array;
  private n = 0;
  private sum = 0;
  private readonly buckets: Float64Array | null;
  count = 0;

  constructor(size = 256, private readonly bounds: readonly number[] | null = null) {
    this.ring = new Float64Array(size);
    this.buckets = bounds ? new Float64Array(bounds.length + 1) : null;
  }

  add(v: number): void {
    this.ring[this.n++ % this.ring.length] = v;
    this.sum += v;
    this.count++;
    if (this.buckets) {
      let i = 0;
      while (i < this.bounds!.length && v > this.bounds![i]) i++;
      this.buckets[i]++;
    }
  }

  mean(): number { return this.count ? this.sum / this.count : 0; }

  p95(): number {
    const len = Math.min(this.n, this.ring.length);
    if (!len) return 0;
    const sorted = Array.from(this.ring.subarray(0, len)).sort((a, b) => a - b);
    return sorted[Math.min(len - 1, Math.ceil(len * 0.95) - 1)];
  }

  histogram(): Histogram | null {
    return this.buckets ? { bounds: this.bounds!, counts: Array.from(this.buckets), sum: this.sum } : null;
  }
}
