import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rate } from './labels.js';

test('rate: a small non-zero rate never reads as zero', () => {
  assert.equal(rate(0), '0');
  assert.equal(rate(0.003), '<0.01');
  assert.equal(rate(0.02), '0.02');
  assert.equal(rate(0.5), '0.5');
  assert.equal(rate(2.25), '2.3');
  assert.equal(rate(42), '42');
  assert.equal(rate(12_345), '12k');
});
