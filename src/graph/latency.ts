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
 * The span the slowest bucket's requests are spread over, narrowed by the exact latency sum: whatever the
 * faster requests took (at least their buckets' lower bounds, at most their upper ones), the slowest
 * bucket's requests took the rest, so their mean lies in a known range. A log2 bucket is 2x wide; a lone
 * 2.1 ms request is then 2.1 ms, and two 303 ms requests among fast ones are not read as up to 524 ms.
 * A bound on the slowest request (maxUs, 0: none) ends the span there: 48 requests of 302 ms were read
 * as spread over [262, 342] ms by the sum alone, p95 339 ms; with the bound they are 302 ms.
 */
function topSpan(buckets: ArrayLike<number>, top: number, sumUs: number, maxUs: number): [number, number] {
  let lo = bucketFromUs(top), hi = bucketToUs(top);
  if (maxUs > 0 && maxUs < hi) hi = Math.max(lo, maxUs);
  const c = buckets[top];
  let restMin = 0, restMax = 0;
  for (let i = 0; i < top; i++) {
    const n = Math.max(0, buckets[i]);
    restMin += n * bucketFromUs(i);
    restMax += n * bucketToUs(i);
  }
  const meanMax = (sumUs - restMin) / c, meanMin = (sumUs - restMax) / c;
  if (!Number.isFinite(hi)) return meanMax >= lo ? [lo, Math.max(lo, 2 * meanMax - lo)] : [lo, lo];
  if (hi === lo) return [lo, hi];
  // a uniform spread over [lo, hi] has its mean at the middle: move the far end so the mean fits
  if (meanMax >= lo && meanMax < (lo + hi) / 2) hi = 2 * meanMax - lo;
  else if (meanMin <= hi && meanMin > (lo + hi) / 2) lo = 2 * meanMin - hi;
  return [lo, hi];
}

/**
 * The q-quantile (0 < q <= 1) in microseconds: the bucket holding the
 * nearest-rank request, linearly interpolated inside it. With the requests'
 * latency sum (µs), the slowest bucket's span is narrowed to fit it
 * (topSpan), and ends at maxUs, a bound on the slowest request, when given.
 * The open last bucket answers its lower bound, or what the sum allows. 0 for
 * an empty histogram.
 */
export function quantileUs(buckets: ArrayLike<number>, q: number, total?: number, sumUs?: number, maxUs = 0): number {
  let n = total ?? 0;
  if (total === undefined) for (let i = 0; i < buckets.length; i++) n += Math.max(0, buckets[i]);
  if (n <= 0) return 0;
  let top = buckets.length - 1;
  while (top > 0 && !(buckets[top] > 0)) top--;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = Math.max(0, buckets[i]);
    if (!c) continue;
    if (seen + c >= rank) {
      let lo = bucketFromUs(i), hi = bucketToUs(i);
      if (i === top && sumUs !== undefined && sumUs > 0) [lo, hi] = topSpan(buckets, top, sumUs, maxUs);
      else if (i === top && maxUs > 0 && maxUs < hi) hi = Math.max(lo, maxUs);
      if (!Number.isFinite(hi)) return lo;
      return lo + ((hi - lo) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bucketFromUs(buckets.length - 1);
}

const ms = (us: number) => Math.round(us / 10) / 100; // ms with two decimals

/** Mean (exact, from the latency sum) and p50/p95/p99 (from the histogram, bounded by maxUs when known) of `count` requests. */
export function latencySummary(buckets: ArrayLike<number>, latencySumNs: number, maxUs = 0): LatencySummary {
  let n = 0;
  for (let i = 0; i < buckets.length; i++) n += Math.max(0, buckets[i]);
  if (n <= 0) return { samples: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 };
  const sumUs = Math.max(0, latencySumNs) / 1000;
  return {
    samples: n,
    meanMs: ms(Math.max(0, latencySumNs) / 1000 / n),
    p50Ms: ms(quantileUs(buckets, 0.5, n, sumUs, maxUs)),
    p95Ms: ms(quantileUs(buckets, 0.95, n, sumUs, maxUs)),
    p99Ms: ms(quantileUs(buckets, 0.99, n, sumUs, maxUs)),
  };
}
