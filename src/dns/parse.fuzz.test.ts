// Fuzzing the DNS parser with what a hostile or broken peer could send:
// random bytes, truncated and bit-flipped real messages, and compression
// pointer loops. Nothing may throw or hang; every bad message is reported
// as an error (which the collector counts as malformed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDnsMessage, isMalformed, type ParseResult, type DnsMessage } from './parse.js';
import { buildMessage } from './testing.js';
import { prng } from '../../bench/lib/synthetic-graph.js';

/** The parse error, or null. */
const errorOf = (r: ParseResult) => (isMalformed(r) ? r : null);
/** The message (fails the test on an error). */
const msgOf = (r: ParseResult): DnsMessage => {
  assert.ok(!isMalformed(r), `parse error ${r}`);
  return r as DnsMessage;
};

const rnd = prng(0x5eed);
const int = (n: number) => Math.floor(rnd() * n);

const SEEDS = [
  buildMessage({ id: 1, question: { name: 'web.zone.test', type: 'A' } }),
  buildMessage({
    id: 2, response: true, question: { name: 'alias.zone.test', type: 'A' },
    answers: [
      { name: 'alias.zone.test', type: 'CNAME', ttl: 60, data: 'a.b.zone.test' },
      { name: 'a.b.zone.test', type: 'CNAME', ttl: 60, data: 'web.zone.test' },
      { name: 'web.zone.test', type: 'A', ttl: 60, data: '198.51.100.1' },
      { name: 'web.zone.test', type: 'AAAA', ttl: 60, data: '2001:db8::1' },
    ],
  }),
  buildMessage({ id: 3, response: true, rcode: 3, question: { name: 'nx.zone.test', type: 'AAAA' } }),
];

function check(buf: Buffer, complete: boolean): 'ok' | 'error' {
  let r;
  try {
    r = parseDnsMessage(buf, 0, buf.length, complete);
  } catch (e) {
    assert.fail(`parser threw on ${buf.toString('hex')}: ${(e as Error).message}`);
  }
  return isMalformed(r) ? 'error' : 'ok';
}

test('random bytes: never throws, lengths 0..600', { timeout: 60_000 }, () => {
  const counts = { ok: 0, error: 0 };
  for (let i = 0; i < 50_000; i++) {
    const buf = Buffer.alloc(int(600));
    for (let j = 0; j < buf.length; j++) buf[j] = int(256);
    counts[check(buf, rnd() < 0.5)]++;
  }
  assert.equal(counts.ok + counts.error, 50_000);
  assert.ok(counts.error > 40_000, `random bytes are mostly malformed (${counts.error})`);
});

test('truncated real messages: malformed when claimed whole, partial when the capture was short', { timeout: 60_000 }, () => {
  for (const seed of SEEDS) {
    for (let len = 0; len < seed.length; len++) {
      const cut = seed.subarray(0, len);
      assert.equal(check(Buffer.from(cut), true), 'error', `a ${len}-byte prefix of a ${seed.length}-byte message claimed whole`);
      const r = parseDnsMessage(Buffer.from(cut), 0, len, false);
      if (len >= 12) assert.ok(errorOf(r) === null ? msgOf(r).partial || msgOf(r).question === null || len === seed.length : true);
    }
  }
});

test('bit flips and byte swaps of real messages: never throws', { timeout: 60_000 }, () => {
  const counts = { ok: 0, error: 0 };
  for (let i = 0; i < 50_000; i++) {
    const buf = Buffer.from(SEEDS[int(SEEDS.length)]);
    for (let k = 1 + int(4); k > 0; k--) {
      const at = int(buf.length);
      if (rnd() < 0.5) buf[at] ^= 1 << int(8); else buf[at] = int(256);
    }
    counts[check(buf, true)]++;
  }
  assert.equal(counts.ok + counts.error, 50_000);
});

test('compression pointer loops of every length are errors, fast', { timeout: 60_000 }, () => {
  const header = [0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
  // A question name at 12 made of labels, ending in a pointer back into itself: 12 -> ... -> 12.
  for (let labels = 0; labels < 60; labels++) {
    const body: number[] = [];
    for (let i = 0; i < labels; i++) body.push(1, 0x61);
    body.push(0xc0, 12);
    const buf = Buffer.from([...header, ...body, 0, 1, 0, 1]);
    const r = parseDnsMessage(buf);
    assert.notEqual(errorOf(r), null, `${labels}-label loop`);
  }
  // Two answers whose names point at each other, and a chain of pointers each one step back.
  const ab = Buffer.from([0, 9, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(errorOf(parseDnsMessage(ab)), 'pointer-loop');
  // Each answer's name points at the previous answer's name, itself a pointer: the depth limit ends it.
  const deep: number[] = [0, 9, 0x81, 0x80, 0, 1, 0, 30, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1];
  let prev = 12;
  for (let i = 0; i < 30; i++) {
    const at = deep.length;
    deep.push(0xc0 | (prev >> 8), prev & 0xff, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0); // TXT with empty rdata
    prev = at;
  }
  assert.equal(errorOf(parseDnsMessage(Buffer.from(deep))), 'pointer-loop');
});
