// IntMap against a Map: any sequence of sets and deletes (keys crowded into
// few slots, keys past 2^32, tables that grow and shrink) leaves the same
// entries, found by get and forEach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntMap } from './int-map.js';

const key = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 2 ** 32 - 40, max: 2 ** 32 + 40 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 52 + 1));
const op = fc.oneof(fc.tuple(fc.constant('set' as const), key, fc.nat()), fc.tuple(fc.constant('delete' as const), key, fc.constant(0)));

test('any sets and deletes: the same entries as a Map', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
    const m = new IntMap<number>(16), ref = new Map<number, number>();
    for (const [what, k, v] of ops) {
      if (what === 'set') { m.set(k, v); ref.set(k, v); } else assert.equal(m.delete(k), ref.delete(k));
      assert.equal(m.size, ref.size);
    }
    for (const [k, v] of ref) assert.equal(m.get(k), v);
    for (const k of [0, 1, 2, 65, 2 ** 32]) if (!ref.has(k)) assert.equal(m.get(k), undefined);
    const seen = new Map<number, number>();
    m.forEach((v, k) => seen.set(k, v));
    assert.deepEqual([...seen].sort((a, b) => a[0] - b[0]), [...ref].sort((a, b) => a[0] - b[0]));
  }), { numRuns: 500 });
});

test('churn like a busy host: 200,000 sockets come and go, about 3,000 open at once; all found, none left', () => {
  const m = new IntMap<{ c: number }>();
  const open: number[] = [];
  let next = 4_000_000_000;
  for (let i = 0; i < 200_000; i++) {
    const c = next++;
    m.set(c, { c });
    open.push(c);
    if (open.length > 3000) { const k = open.splice((i * 7919) % open.length, 1)[0]; assert.equal(m.get(k)?.c, k); assert.ok(m.delete(k)); }
  }
  assert.equal(m.size, open.length);
  for (const k of open) assert.ok(m.delete(k));
  assert.equal(m.size, 0);
  assert.equal(m.get(open[0]), undefined);
});

test('a key that is not a non-negative integer is refused', () => {
  const m = new IntMap<number>();
  for (const k of [-1, 1.5, NaN, Infinity]) assert.throws(() => m.set(k, 1), RangeError);
});

test('keysInto lists every key once, so a walk of its list may delete as it goes (deletion moves entries)', () => {
  fc.assert(fc.property(fc.uniqueArray(key, { maxLength: 300 }), (keys) => {
    const m = new IntMap<number>(16);
    for (const k of keys) m.set(k, k);
    const list = [-1, -1, -1]; // longer than needed at first: keysInto returns the count, stale entries past it are ignored
    const n = m.keysInto(list);
    assert.equal(n, keys.length);
    assert.deepEqual(list.slice(0, n).sort((a, b) => a - b), [...keys].sort((a, b) => a - b));
    for (let i = 0; i < n; i++) assert.ok(m.delete(list[i]), `key ${list[i]} still there when its turn came`);
    assert.equal(m.size, 0);
  }), { numRuns: 300 });
});
