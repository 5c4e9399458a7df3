// p95Of, the selection behind every p95 on the map and in /metrics, against a sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { p95Of } from './stats.js';

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
