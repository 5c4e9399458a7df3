import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LATENCY_BUCKETS, latencySummary, quantileUs } from './latency.js';

/** A histogram of these latencies (µs), and their sum. */
function hist(lat: number[]): { b: number[]; sumUs: number } {
  const b = new Array<number>(LATENCY_BUCKETS).fill(0);
  for (const us of lat) b[Math.min(LATENCY_BUCKETS - 1, Math.max(0, Math.floor(Math.log2(Math.max(1, us)))))]++;
  return { b, sumUs: lat.reduce((a, x) => a + x, 0) };
}

test('a lone request is read near its own latency, not at its log2 bucket\'s top', () => {
  const { b, sumUs } = hist([2100]);
  assert.equal(quantileUs(b, 0.99), 4096, 'without the sum: the bucket\'s top');
  for (const q of [0.5, 0.95, 0.99]) {
    const v = quantileUs(b, q, undefined, sumUs);
    assert.ok(v >= 2048 && v <= 2160, `p${q * 100} ${v}`);
  }
  const s = latencySummary(b, sumUs * 1000);
  assert.equal(s.meanMs, 2.1);
  assert.ok(s.p99Ms <= 2.16, `p99 ${s.p99Ms} ms`);
});

test('two 303 ms requests among fast ones: p95 and p99 stay near 303 ms, not up to 524 ms (a review saw p99 524 ms)', () => {
  const { b, sumUs } = hist([...new Array(24).fill(2100), 303_000, 303_000]);
  assert.ok(quantileUs(b, 0.99) > 500_000, 'without the sum: past the slowest request');
  const p95 = quantileUs(b, 0.95, undefined, sumUs), p99 = quantileUs(b, 0.99, undefined, sumUs);
  assert.ok(Math.abs(p95 - 303_000) < 303_000 * 0.05, `p95 ${p95}`);
  assert.ok(p99 >= 303_000 && p99 <= 350_000, `p99 ${p99}`);
  assert.equal(quantileUs(b, 0.5, undefined, sumUs), quantileUs(b, 0.5), 'the fast bucket is read as before');
});

test('requests in the upper half of their bucket move its lower end up; the open last bucket is bounded by the sum', () => {
  const { b, sumUs } = hist(new Array(10).fill(500_000));
  const p50 = quantileUs(b, 0.5, undefined, sumUs);
  assert.ok(Math.abs(p50 - 500_000) < 1000, `p50 ${p50}`);
  const open = hist([10_000_000]);
  assert.equal(quantileUs(open.b, 0.99), 2 ** 23, 'without the sum: the open bucket\'s lower bound');
  const v = quantileUs(open.b, 0.99, undefined, open.sumUs);
  assert.ok(v >= 2 ** 23 && v <= 12_000_000, `${v}`);
  // a sum that does not fit the buckets (another window's) changes nothing
  assert.equal(quantileUs(b, 0.95, undefined, 1), quantileUs(b, 0.95));
});

test('a bound on the slowest request ends the slowest bucket: 48 requests of about 302 ms read 302 ms, not p95 339 ms (a review)', () => {
  const lat = Array.from({ length: 48 }, (_, i) => 301_500 + (i % 3) * 500); // 301.5-302.5 ms
  const { b, sumUs } = hist(lat);
  const maxUs = Math.max(...lat);
  const sumOnly = quantileUs(b, 0.95, undefined, sumUs);
  assert.ok(sumOnly > 330_000, `by the sum alone p95 is past every request: ${sumOnly}`);
  for (const q of [0.5, 0.95, 0.99]) {
    const v = quantileUs(b, q, undefined, sumUs, maxUs);
    assert.ok(v >= 300_500 && v <= maxUs, `p${q * 100} ${v}`);
  }
  const s = latencySummary(b, sumUs * 1000, maxUs);
  assert.ok(s.p99Ms <= 302.5 && s.p50Ms >= 300.5, JSON.stringify(s));
  // the open last bucket ends at the bound too; a bound above the bucket (another window's) changes nothing
  const open = hist([9_000_000, 9_100_000]);
  assert.ok(quantileUs(open.b, 0.99, undefined, open.sumUs, 9_100_000) <= 9_100_000);
  assert.equal(quantileUs(b, 0.95, undefined, sumUs, 600_000), sumOnly);
  // without the sum, the bound alone ends the bucket
  assert.ok(quantileUs(b, 0.99, undefined, undefined, maxUs) <= maxUs);
});
