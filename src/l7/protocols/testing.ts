// Fuzzing helper for the request parsers' unit tests: random bytes and every
// truncation of valid messages must never throw, and garbage must not parse.
import assert from 'node:assert/strict';
import type { RequestDescription } from '../types.js';

/** A seeded PRNG, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns how many random inputs parsed (the caller bounds it); asserts nothing throws. */
export function fuzz(parse: (b: Buffer) => RequestDescription | null, valid: Buffer[], rounds = 3000): { randomParsed: number } {
  const rnd = prng(42);
  let randomParsed = 0;
  for (let i = 0; i < rounds; i++) {
    const b = Buffer.alloc(Math.floor(rnd() * 300));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    if (assertNoThrow(parse, b)) randomParsed++;
  }
  for (const v of valid) {
    for (let cut = 0; cut <= v.length; cut++) assertNoThrow(parse, v.subarray(0, cut));
    for (let i = 0; i < 200; i++) { // flipped bytes
      const c = Buffer.from(v);
      c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
      assertNoThrow(parse, c);
    }
  }
  return { randomParsed };
}

function assertNoThrow(parse: (b: Buffer) => RequestDescription | null, b: Buffer): boolean {
  let r: RequestDescription | null = null;
  assert.doesNotThrow(() => { r = parse(b); }, `input ${b.toString('hex').slice(0, 80)}`);
  const d = r as RequestDescription | null;
  if (d) {
    assert.equal(typeof d.method, 'string');
    assert.ok(d.method.length <= 32, 'method bounded');
    if (d.target !== undefined) assert.ok(d.target.length <= 200, 'target bounded');
  }
  return d !== null;
}
