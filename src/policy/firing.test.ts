// When a firing policy alert is posted and with which endsAt (pure timing logic, a clock of our own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FiringAlerts } from './firing.js';
import type { Alert } from './webhook.js';

const alert = (rule: string): Alert => ({ labels: { alertname: 'DhrishtiPolicyViolation', rule }, annotations: {}, startsAt: new Date(0).toISOString() });

test('posted at once, again each period with endsAt 3 periods ahead while active, then once with endsAt now', () => {
  let now = 1_000_000;
  const posts: { rule: string; at: number; endsAt: number }[] = [];
  const f = new FiringAlerts({ send: (a) => posts.push({ rule: a.labels.rule, at: now, endsAt: Date.parse(a.endsAt!) }) }, { repostMs: 60_000, activeMs: 300_000, clock: () => now });
  f.note('a', alert('r1'), false);
  assert.deepEqual(posts, [{ rule: 'r1', at: now, endsAt: now + 180_000 }]);
  f.note('a', alert('r1'), false); // more connections: no extra post, the repost carries it
  assert.equal(posts.length, 1);
  for (let i = 1; i <= 4; i++) { now += 60_000; if (i <= 2) f.note('a', alert('r1'), false); f.repost(); }
  // Active at 1 and 2 min; quiet since 2 min: reposts at 1..4 min keep it, the one at 7 min ends it.
  assert.deepEqual(posts.slice(1).map((p) => p.endsAt - p.at), [180_000, 180_000, 180_000, 180_000]);
  now += 3 * 60_000;
  f.repost();
  assert.equal(posts.at(-1)!.endsAt, now, 'ended: endsAt = now');
  assert.equal(f.size, 0);
  f.repost();
  assert.equal(posts.length, 6, 'nothing more once ended');
  f.note('a', alert('r1'), false);
  assert.equal(posts.length, 7, 'active again: a new alert at once');
});

test('news changes what the next repost says; without news the first content stays', () => {
  let now = 0;
  const sent: Alert[] = [];
  const f = new FiringAlerts({ send: (a) => sent.push(a) }, { repostMs: 1000, activeMs: 5000, clock: () => now });
  f.note('a', { ...alert('r1'), annotations: { attempted: 'true' } }, false);
  f.note('a', { ...alert('r1'), annotations: { attempted: 'true', n: '2' } }, false);
  now += 1000; f.repost();
  assert.deepEqual(sent.at(-1)!.annotations, { attempted: 'true' });
  f.note('a', { ...alert('r1'), annotations: { attempted: 'false' } }, true);
  now += 1000; f.repost();
  assert.deepEqual(sent.at(-1)!.annotations, { attempted: 'false' });
});
