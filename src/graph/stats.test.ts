// p95Of, the selection behind every p95 on the map and in /metrics, against a sort; the interval's sampler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntervalSamples, p95Of } from './stats.js';

test('p95Of gives the nearest-rank 95th percentile a sort gives, and leaves its input alone', () => {
  const values = fc.array(fc.oneof(fc.double({ noNaN: true }).map((x) => x + 0) /* no -0: a sort and a selection may pick either zero */, fc.integer({ min: 0, max: 20 })), { maxLength: 600 });
  fc.assert(fc.property(values, fc.nat(700), (xs, cut) => {
    const a = Float64Array.from(xs), before = Float64Array.from(a), len = Math.min(cut, a.length);
    const sorted = a.slice(0, len).sort();
    const want = len ? sorted[Math.min(len - 1, Math.ceil(len * 0.95) - 1)] : 0;
    assert.equal(p95Of(a, len), want);
    assert.deepEqual(a, before);
  }), { numRuns: 500 });
});

test('IntervalSamples keeps exact counts and sums, and a fair sample past its size: its p95 is the stream\'s', () => {
  const s = new IntervalSamples(512);
  const n = 200_000;
  // a shuffled 0..n-1 (a fixed permutation: 7919 is prime to n), so no order gives the sample away
  let sum = 0;
  for (let i = 0; i < n; i++) { const v = (i * 7919) % n; s.add(v); sum += v; }
  assert.equal(s.count, n);
  assert.equal(s.sum, sum);
  // a uniform sample of 512 out of 0..n-1: its 95th percentile is within a few percent of 0.95 n
  assert.ok(Math.abs(s.p95() / n - 0.95) < 0.03, `p95 ${s.p95()} of 0..${n - 1}`);
  // a later stream in increasing order: a sampler biased to early (or late) arrivals gives itself away
  // (the generator is seeded, so this is one fixed draw: a fair one lands within 0.01, one that keeps
  // half as many late arrivals at 0.934)
  s.reset();
  for (let i = 0; i < n; i++) s.add(i);
  assert.ok(Math.abs(s.p95() / n - 0.95) < 0.01, `p95 ${s.p95()} of an increasing 0..${n - 1}`);
});
