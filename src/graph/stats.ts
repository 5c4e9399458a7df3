// Mean over every sample, p95 over the most recent ones: bounded memory per edge.
export class Distribution {
  private readonly ring: Float64Array;
  private n = 0;
  private sum = 0;
  count = 0;

  constructor(size = 256) { this.ring = new Float64Array(size); }

  add(v: number): void {
    this.ring[this.n++ % this.ring.length] = v;
    this.sum += v;
    this.count++;
  }

  mean(): number { return this.count ? this.sum / this.count : 0; }

  p95(): number {
    const len = Math.min(this.n, this.ring.length);
    if (!len) return 0;
    const sorted = Array.from(this.ring.subarray(0, len)).sort((a, b) => a - b);
    return sorted[Math.min(len - 1, Math.ceil(len * 0.95) - 1)];
  }
}
