// The load benchmark's bracketed baseline (bench/lib/baseline.ts): pure logic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bracketed, bracketedRatios } from '../bench/lib/baseline.js';

test('a baseline turn comes before, between and after the observers', () => {
  assert.deepEqual(bracketed(['agent', 'hooks'], 'none'), ['none', 'agent', 'none', 'hooks', 'none']);
  assert.deepEqual(bracketed(['agent'], null), ['agent']);
  assert.deepEqual(bracketed([], 'none'), ['none']);
  // a later round starts right after the last one's closing baseline
  assert.deepEqual(bracketed(['hooks', 'agent'], 'none', false), ['hooks', 'none', 'agent', 'none']);
});

test('each run is taken over the baseline runs on each side of it, not over a distant one', () => {
  // turns: 0 none 100, 1 agent 90, 2 none 80, 3 hooks 76, 4 none 80, (next round) 5 none 50, 6 agent 45, 7 none 50
  const base = [{ turn: 0, rps: 100 }, { turn: 2, rps: 80 }, { turn: 4, rps: 80 }, { turn: 5, rps: 50 }, { turn: 7, rps: 50 }];
  assert.deepEqual(bracketedRatios([{ turn: 1, rps: 90 }, { turn: 6, rps: 45 }], base), [1, 0.9]);
  assert.deepEqual(bracketedRatios([{ turn: 3, rps: 76 }], base), [0.95]);
});

test('a run with a baseline on one side only uses that side; one with none near is left out', () => {
  const base = [{ turn: 0, rps: 100 }];
  assert.deepEqual(bracketedRatios([{ turn: 1, rps: 90 }, { turn: 5, rps: 90 }], base), [0.9]);
});
