// Time parameters of the history API: every accepted form, and strict dates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTime } from './time.js';
import { BadRequest } from './params.js';

const M = 60_000, H = 3_600_000, D = 86_400_000;

test('time parameters: ISO-8601, unix ms, now, relative; nonsense is a BadRequest', () => {
  const now = Date.UTC(2026, 5, 1, 12, 0, 0);
  assert.equal(parseTime('now', 'at', now), now);
  assert.equal(parseTime('-15m', 'at', now), now - 15 * M);
  assert.equal(parseTime('-2h', 'at', now), now - 2 * H);
  assert.equal(parseTime('-1d', 'at', now), now - D);
  assert.equal(parseTime(String(now - 5000), 'at', now), now - 5000);
  assert.equal(parseTime('2026-06-01T11:00:00Z', 'at', now), now - H);
  assert.equal(parseTime('2026-06-01T13:30:00+02:00', 'at', now), now - 30 * M);
  for (const bad of ['', 'yesterday', '-', '-15x', '+15m', '2026-13-45T99:00:00Z', '12.5', '1999-01-01T00:00:00Z', '99999999999999']) {
    assert.throws(() => parseTime(bad, 'at', now), BadRequest, bad);
  }
  // A '+' decoded from a query string as a space: the message says why the echo has a space.
  assert.throws(() => parseTime(' 10m', 'at', now), /got " 10m" \(a "\+" in a URL's query is read as a space: write it %2B\)/);
  assert.throws(() => parseTime('2026-06-01T13:30:00 02:00', 'at', now), /%2B/);
  assert.throws(() => parseTime('yesterday', 'at', now), (e: Error) => !e.message.includes('%2B'));
});

test('dates that do not exist are refused, not rolled over', () => {
  const now = Date.UTC(2026, 5, 1, 12, 0, 0);
  assert.equal(parseTime('2024-02-29', 'at', now), Date.UTC(2024, 1, 29), 'a leap day');
  assert.equal(parseTime('2024-02-29 23:59:59.999Z', 'at', now), Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  const cases: [string, RegExp][] = [
    ['2024-02-30', /2024-02 has 29 days, got day 30/],
    ['2023-02-29', /2023-02 has 28 days/],
    ['2024-04-31T00:00:00Z', /has 30 days/],
    ['2024-00-10', /no month 00/],
    ['2024-01-00', /got day 00/],
    ['2024-01-10T24:00:00Z', /time of day/],
    ['2024-01-10T12:60Z', /time of day/],
    ['2024-01-10T12:00:60Z', /time of day/],
    ['2024-01-10T12:00:00+25:00', /UTC offset/],
    ['-1000d', /between 1ms and 366d, got "-1000d": that is as far back/],
  ];
  for (const [v, re] of cases) assert.throws(() => parseTime(v, 'at', now), (e: Error) => e instanceof BadRequest && re.test(e.message) && e.message.includes(v), v);
});
