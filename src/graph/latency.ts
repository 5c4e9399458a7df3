// Latency figures from the kernel's log2 histogram (bucket i holds
// [2^i, 2^(i+1)) µs, bucket 0 from 0, the last open-ended). Histograms are
// summed bucket by bucket, so a percentile of merged edges or of a range of
// history buckets is as good as one of a single socket: never an average of
// percentiles. Shared by the live graph, the history store and the web UI.
import type { LatencySummary } from './types.js';

export const LATENCY_BUCKETS = 24;

export const bucketFromUs = (i: number): number => (i === 0 ? 0 : 2 ** i);
/** Upper bound of bucket i; the last bucket has none (Infinity). */
export const bucketToUs = (i: number): number => (i >= LATENCY_BUCKETS - 1 ? Infinity : 2 ** (i + 1));

/**
 * The q-quantile (0 < q <= 1) in microseconds: the bucket holding the
 * nearest-rank request, linearly interpolated inside it. The open last bucket
 * answers its lower bound. 0 for an empty histogram.
 */
export function quantileUs(buckets: ArrayLike<number>, q: number, total?: number): number {
  let n = total ?? 0;
  if (total === undefined) for (let i = 0; i < buckets.length; i++) n += Math.max(0, buckets[i]);
  if (n <= 0) return 0;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = Math.max(0, buckets[i]);
    if (!c) continue;
    if (seen + c >= rank) {
      const lo = bucketFromUs(i), hi = bucketToUs(i);
      if (!Number.isFinite(hi)) return lo;
      return lo + ((hi - lo) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bucketFromUs(buckets.length - 1);
}

const ms = (us: number) => Math.round(us / 10) / 100; // ms with two decimals

/** Mean (exact, from the latency sum) and p50/p95/p99 (from the histogram) of `count` requests. */
export function latencySummary(buckets: ArrayLike<number>, latencySumNs: number): LatencySummary {
  let n = 0;
  for (let i = 0; i < buckets.length; i++) n += Math.max(0, buckets[i]);
  if (n <= 0) return { samples: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 };
  return {
    samples: n,
    meanMs: ms(Math.max(0, latencySumNs) / 1000 / n),
    p50Ms: ms(quantileUs(buckets, 0.5, n)),
    p95Ms: ms(quantileUs(buckets, 0.95, n)),
    p99Ms: ms(quantileUs(buckets, 0.99, n)),
  };
}
