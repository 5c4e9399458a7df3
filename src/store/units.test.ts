// Pure parts of the store: retention specs, tier planning, interval means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetention, formatRetention } from './retention.js';
import { planRange, seriesTier, tierAt, type TierSpan } from './plan.js';
import { defaultDataDir } from './paths.js';

const S = 1000, M = 60_000, H = 3_600_000, D = 86_400_000;

test('retention: tiers parse fine to coarse; bad specs are refused with a reason', () => {
  assert.deepEqual(parseRetention('10s:24h,1m:7d'), [{ resolutionMs: 10 * S, keepMs: 24 * H }, { resolutionMs: M, keepMs: 7 * D }]);
  assert.equal(formatRetention(parseRetention('10s:24h, 1m:7d ,1h:90d')), '10s:1d,1m:7d,1h:90d');
  assert.throws(() => parseRetention(''), /resolution:keep/);
  assert.throws(() => parseRetention('10s'), /resolution:keep/);
  assert.throws(() => parseRetention('1m:7d,10s:24h'), /fine to coarse/);
  assert.throws(() => parseRetention('10s:24h,15s:7d'), /multiple/);
  assert.throws(() => parseRetention('10s:24h,1m:1h'), /keeps less than the finer/);
  assert.throws(() => parseRetention('1500ms:1h'), /whole seconds/);
  assert.throws(() => parseRetention('1m:30s'), /less than one bucket/);
  assert.throws(() => parseRetention('10x:1h'), /duration/);
});

test('range plan: coarse tier for whole buckets, finer for the ends and the part not rolled up yet', () => {
  const now = 10 * D;
  const spans: TierSpan[] = [
    { resolutionMs: 10 * S, from: now - D, to: Infinity },
    { resolutionMs: M, from: now - 7 * D, to: now - 2 * M },
  ];
  // 1 h ending now, from a ragged start: 10 s head, 1 m middle up to the roll-up mark, 10 s tail.
  const from = now - H + 15 * S;
  assert.deepEqual(planRange(from, now, spans), [
    { resolutionMs: 10 * S, from: now - H + 10 * S, to: now - H + M },
    { resolutionMs: M, from: now - H + M, to: now - 2 * M },
    { resolutionMs: 10 * S, from: now - 2 * M, to: now },
  ]);
  // Older than the finest tier keeps: the coarse bucket at the edge is used whole.
  assert.deepEqual(planRange(now - 3 * D + 15 * S, now - 2 * D + 15 * S, spans), [{ resolutionMs: M, from: now - 3 * D, to: now - 2 * D + M }]);
  // Shorter than a coarse bucket: the finest tier only.
  assert.deepEqual(planRange(now - 50 * S, now - 20 * S, spans), [{ resolutionMs: 10 * S, from: now - 50 * S, to: now - 20 * S }]);
  assert.equal(tierAt(now - H, spans), 0);
  assert.equal(tierAt(now - 2 * D, spans), 1);
  assert.equal(seriesTier(now - H, now, undefined, spans, 1000), 0, '360 points at 10 s');
  assert.equal(seriesTier(now - 20 * H, now, undefined, spans, 1000), 1, '7200 points at 10 s is too many');
  assert.equal(seriesTier(now - H, now, 5 * M, spans, 1000), 1, 'step 5m snaps to 1m');
  assert.equal(seriesTier(now - H, now, 1 * S, spans, 1000), 0, 'step 1s snaps to the finest');
  assert.equal(seriesTier(now - 3 * D, now, 10 * S, spans, 1000), 1, 'the finest tier no longer reaches back');
});

test('data folder: /var/lib/dhrishti as root, else under the home folder', () => {
  assert.equal(defaultDataDir(0, {}), '/var/lib/dhrishti');
  assert.match(defaultDataDir(1000, {}), /\.local\/share\/dhrishti$/);
  assert.equal(defaultDataDir(1000, { XDG_DATA_HOME: '/x/data' }), '/x/data/dhrishti');
});
