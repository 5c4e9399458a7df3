// The orphan rows: counts of sockets not known yet, summed per protocol in a flat array (unit test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_ROW, OrphanCounts } from './orphan-counts.js';
import { RequestTotals } from './request-totals.js';
import type { L7Delta } from '../l7/types.js';
import { nonzeroOf } from '../events/decode.js';
import type { RequestProtocol } from './types.js';

function delta(cookie: number, o: { protocol?: L7Delta['protocol']; ok?: number; fail?: number; bucket?: number; closed?: boolean; tls?: boolean } = {}): L7Delta {
  const requests = new Uint32Array(8), buckets = new Uint32Array(24);
  requests[2] = o.ok ?? 1;
  requests[5] = o.fail ?? 0;
  buckets[o.bucket ?? 10] = requests[2] + requests[5];
  return {
    cookie, pid: 1, protocol: o.protocol ?? 'http1', role: 'client', roleInferred: false, tls: o.tls ?? false, closed: o.closed ?? false,
    requests, buckets, latencySumNs: 1000 * (requests[2] + requests[5]), latencyMaxUs: 0, unpaired: 1, nonzero: nonzeroOf(requests, buckets),
  };
}

function read(t: OrphanCounts, cookie: number): Map<RequestProtocol, { status: number[]; buckets: number[]; latencySumNs: number; unpaired: number; tls: boolean }> {
  const out = new Map<RequestProtocol, { status: number[]; buckets: number[]; latencySumNs: number; unpaired: number; tls: boolean }>();
  const x = new RequestTotals();
  for (let r = t.head(cookie); r !== NO_ROW; r = t.next(r)) {
    const p = t.read(r, x);
    out.set(p, { status: [...x.status], buckets: [...x.buckets], latencySumNs: x.latencySumNs, unpaired: x.unpaired, tls: x.tls });
  }
  return out;
}

test('deltas of one socket are summed per protocol; the socket is final once its closing count is in', () => {
  const t = new OrphanCounts(4);
  t.add(7, delta(7, { ok: 2 }), 100);
  t.add(7, delta(7, { ok: 3, fail: 1, bucket: 12 }), 150);
  t.add(7, delta(7, { protocol: 'redis', ok: 4, tls: true }), 160);
  assert.equal(t.size, 1);
  assert.equal(t.isFinal(t.head(7)), false);
  assert.equal(t.since(t.head(7)), 100, 'when its first count came');
  t.add(7, delta(7, { protocol: 'redis', ok: 1, closed: true }), 170);
  assert.equal(t.isFinal(t.head(7)), true, 'the closing count of any protocol ends the socket');
  const m = read(t, 7);
  assert.deepEqual([...m.keys()].sort(), ['http1', 'redis']);
  const h = m.get('http1')!;
  assert.equal(h.status[2], 5);
  assert.equal(h.status[5], 1);
  assert.equal(h.buckets[10], 2);
  assert.equal(h.buckets[12], 4);
  assert.equal(h.latencySumNs, 6000);
  assert.equal(h.unpaired, 2);
  assert.equal(h.tls, false);
  assert.equal(m.get('redis')!.status[2], 5);
  assert.equal(m.get('redis')!.tls, true);
  assert.equal(t.requests(t.head(7)), 11);
  assert.equal(t.head(8), NO_ROW, 'a socket none of whose counts waits');
});

test('rows are reused after a delete and start from zero; the table grows past its size and shrinks back once empty', () => {
  const t = new OrphanCounts(4);
  for (let c = 1; c <= 1000; c++) t.add(c, delta(c, { ok: c, protocol: c % 2 ? 'http1' : 'postgres' }), c);
  assert.equal(t.size, 1000);
  for (let c = 1; c <= 1000; c++) assert.equal(t.requests(t.head(c)), c, `socket ${c} kept its own count through growth`);
  for (let c = 1; c <= 1000; c += 2) t.delete(c);
  assert.equal(t.size, 500);
  for (let c = 1; c <= 1000; c += 2) t.add(c, delta(c, { ok: 1 }), 5000);
  for (let c = 1; c <= 1000; c++) assert.equal(t.requests(t.head(c)), c % 2 ? 1 : c, `socket ${c}: a reused row holds only its new count`);
  const seen: number[] = [];
  t.forEach((c) => { seen.push(c); t.delete(c); });
  assert.equal(seen.length, 1000, 'a walk that deletes as it goes visits each socket once');
  assert.equal(new Set(seen).size, 1000);
  assert.equal(t.size, 0);
  t.add(3, delta(3, { ok: 9 }), 1);
  assert.equal(t.requests(t.head(3)), 9);
  assert.deepEqual([...read(t, 3).keys()], ['http1']);
});

test('a cookie of 64-bit size (a long-running host) is kept apart from its neighbours', () => {
  const t = new OrphanCounts(4);
  const big = 2 ** 40 + 5;
  t.add(big, delta(big, { ok: 2 }), 1);
  t.add(big + 1, delta(big + 1, { ok: 3 }), 1);
  assert.equal(t.requests(t.head(big)), 2);
  assert.equal(t.requests(t.head(big + 1)), 3);
});
