// Decoding closed sockets' last counts (unit test of the decoding alone: the loader is a stand-in that
// hands over a batch, as the native poll does; the kernel side is covered by test/l7-*.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { L7Collector } from './collector.js';
import { L7_COUNTS, L7_FINAL, L7_FINAL_SIZE, L7_SOCK, L7_SOCK_SIZE } from '../events/l7-layout.js';
import { blankDelta, clockFrom, nonzeroOf } from '../events/decode.js';
import { ev } from '../../test/support/fixtures.js';
import type { NativeLoader } from '../native/index.js';
import type { L7Delta } from './types.js';

/** Final records: socket i counted i+1 requests of class 2 and (i % 5) of class 5, in bucket i % 24; 7+i unpaired. */
function records(n: number, into: Buffer): Buffer {
  for (let i = 0; i < n; i++) {
    const o = i * L7_FINAL_SIZE, c = o + L7_FINAL.counts;
    into.writeBigUInt64LE(BigInt(2 ** 33 + i), o + L7_FINAL.cookie);
    into.writeUInt32LE(i + 1, c + L7_COUNTS.requests + 2 * 4);
    into.writeUInt32LE(i % 5, c + L7_COUNTS.requests + 5 * 4);
    into.writeUInt32LE(i + 1 + (i % 5), c + L7_COUNTS.buckets + (i % 24) * 4);
    into.writeUInt32LE(0xfffffff0, c + L7_COUNTS.buckets + 23 * 4); // above 2^31: read unsigned
    into.writeBigUInt64LE(3n * 2n ** 32n + BigInt(1000 * (i + 1)), c + L7_COUNTS.latency_sum_ns); // both words
    into.writeUInt32LE(7 + i, c + L7_COUNTS.unpaired);
    into.writeUInt32LE(100 + i, o + L7_FINAL.pid);
    into[o + L7_FINAL.proto] = 1;
    into[o + L7_FINAL.side] = i % 2 ? 2 : 1;
  }
  return into;
}

function decode(buf: Buffer, n: number): L7Delta[] {
  const native = { drain: () => 0 } as unknown as NativeLoader;
  const col = new L7Collector(native, {} as never, clockFrom(0));
  const out: L7Delta[] = [];
  col.onDeltas((ds) => { for (const d of ds) out.push({ ...d, requests: d.requests.slice(), buckets: d.buckets.slice() }); });
  col['onFinalBatch'](buf, n);
  return out;
}

test('last counts read in place as words and byte by byte agree (an aligned batch and one a byte off)', () => {
  const n = 40;
  const aligned = records(n, Buffer.alloc(n * L7_FINAL_SIZE));
  const off = records(n, Buffer.alloc(n * L7_FINAL_SIZE + 1).subarray(1));
  const a = decode(aligned, n), b = decode(off, n);
  assert.equal(a.length, n);
  assert.deepEqual(a, b);
  const d = a[7];
  assert.equal(d.cookie, 2 ** 33 + 7);
  assert.equal(d.requests[2], 8);
  assert.equal(d.requests[5], 2);
  assert.equal(d.buckets[7], 10);
  assert.equal(d.buckets[23], 0xfffffff0);
  assert.equal(d.latencySumNs, 3 * 2 ** 32 + 8000);
  assert.equal(d.unpaired, 14);
  assert.equal(d.pid, 107);
  assert.equal(d.role, 'server');
  assert.equal(d.closed, true);
});

test('one collector, batch after batch: a smaller batch after a larger sends only its own, a moved buffer and one that starts inside its memory are read at their own offsets', () => {
  const native = { drain: () => 0 } as unknown as NativeLoader;
  const col = new L7Collector(native, {} as never, clockFrom(0));
  const seen: number[][][] = [];
  col.onDeltas((ds) => seen.push(ds.map((d) => [d.cookie, d.requests[2]])));
  const fill = (b: Buffer, n: number, base: number) => {
    b.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * L7_FINAL_SIZE;
      b.writeBigUInt64LE(BigInt(base + i), o + L7_FINAL.cookie);
      b.writeUInt32LE(base + i, o + L7_FINAL.counts + L7_COUNTS.requests + 2 * 4);
      b[o + L7_FINAL.proto] = 1;
    }
    return b;
  };
  const first = fill(Buffer.alloc(100 * L7_FINAL_SIZE), 10, 100);
  col['onFinalBatch'](first, 10);
  col['onFinalBatch'](fill(first, 3, 200), 3);
  col['onFinalBatch'](fill(Buffer.alloc(100 * L7_FINAL_SIZE + 8).subarray(8), 2, 300), 2);
  assert.equal(seen[0].length, 10);
  assert.deepEqual(seen[1], [[200, 200], [201, 201], [202, 202]]);
  assert.deepEqual(seen[2], [[300, 300], [301, 301]]);
});

test('a socket read at a flush and then closed: its closing count is what moved since (u32 counters and the 64-bit latency sum)', () => {
  const counts = (b: Buffer, at: number, requests: number, latency: bigint, unpaired: number) => {
    b.writeUInt32LE(requests, at + L7_COUNTS.requests + 2 * 4);
    b.writeUInt32LE(requests, at + L7_COUNTS.buckets + 3 * 4);
    b.writeBigUInt64LE(latency, at + L7_COUNTS.latency_sum_ns);
    b.writeUInt32LE(unpaired, at + L7_COUNTS.unpaired);
  };
  // the socket as the periodic flush reads it from l7_socks: 5 requests so far
  const value = Buffer.alloc(L7_SOCK_SIZE), key = Buffer.alloc(8);
  key.writeBigUInt64LE(42n);
  counts(value, L7_SOCK.counts, 5, 3n * 2n ** 32n + 100n, 2);
  value[L7_SOCK.proto] = 1;
  value[L7_SOCK.side] = 1;
  const native = {
    drain: () => 0,
    readMap: () => ({ count: 1, keys: key, values: value, keySize: 8, valueSize: L7_SOCK_SIZE }),
    deleteKeys: () => {},
  } as unknown as NativeLoader;
  const col = new L7Collector(native, {} as never, clockFrom(0), { socketEntries: 1 });
  const seen: L7Delta[] = [];
  col.onDeltas((ds) => { for (const d of ds) seen.push({ ...d, requests: d.requests.slice(), buckets: d.buckets.slice() }); });
  col.flush();
  // then its closing record: 9 requests in all
  const final = Buffer.alloc(L7_FINAL_SIZE);
  final.writeBigUInt64LE(42n, L7_FINAL.cookie);
  counts(final, L7_FINAL.counts, 9, 3n * 2n ** 32n + 175n, 3);
  final[L7_FINAL.proto] = 1;
  final[L7_FINAL.side] = 1;
  col['onFinalBatch'](final, 1);
  assert.equal(seen.length, 2);
  assert.deepEqual([seen[0].requests[2], seen[0].buckets[3], seen[0].latencySumNs, seen[0].unpaired, seen[0].closed], [5, 5, 3 * 2 ** 32 + 100, 2, false]);
  assert.deepEqual([seen[1].requests[2], seen[1].buckets[3], seen[1].latencySumNs, seen[1].unpaired, seen[1].closed], [4, 4, 75, 1, true]);
  assert.equal(seen[1].cookie, 42);
  // The same socket's last counts with its close instead (ConnEvent.requests, totals since it was first parsed): made the same delta.
  const col2 = new L7Collector(native, {} as never, clockFrom(0), { socketEntries: 1 });
  col2.flush();
  const d = blankDelta();
  d.cookie = 42; d.closed = true; d.protocol = 'http1';
  d.requests[2] = 9; d.buckets[3] = 9; d.latencySumNs = 3 * 2 ** 32 + 175; d.unpaired = 3;
  d.nonzero = nonzeroOf(d.requests, d.buckets);
  const close = { ...ev({ type: 'close', cookie: 42 }), requests: d };
  col2.closing([close]);
  assert.deepEqual([d.requests[2], d.buckets[3], d.latencySumNs, d.unpaired], [4, 4, 75, 1]);
  assert.equal(d.nonzero, nonzeroOf(d.requests, d.buckets));
  col2.closing([close]);
  assert.deepEqual([d.requests[2], d.latencySumNs], [4, 75], 'the socket is forgotten once closed: nothing taken off twice');
});
