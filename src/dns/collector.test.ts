// The collector's pipeline on records built as the kernel writes them:
// matching, timeouts, reassembly, and that bad input is counted, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsCollector } from './collector.js';
import { buildMessage, buildQuery, buildRecord, type RecordFields } from './testing.js';
import { clockFrom } from '../events/decode.js';
import { DNS_EVENT_SIZE } from '../events/dns-layout.js';
import type { DnsTransaction } from './types.js';
import { prng } from '../../bench/lib/synthetic-graph.js';

const T0 = 1_700_000_000_000;
const clock = clockFrom(1e12, T0); // boot ns 1e12 is T0
const ns = (ms: number) => 1e12 + ms * 1e6;

function setup(opts = {}) {
  const c = new DnsCollector(opts);
  const txs: DnsTransaction[] = [];
  c.onTransactionDone((t) => txs.push(t));
  const feed = (...records: RecordFields[]) => {
    const buf = Buffer.concat(records.map(buildRecord));
    c.ingest(buf, records.length, clock);
  };
  return { c, txs, feed };
}

const answer = (id: number, name: string, extra: Partial<Parameters<typeof buildMessage>[0]> = {}) =>
  buildMessage({ id, response: true, question: { name, type: 'A' }, answers: [{ name, type: 'A', ttl: 120, data: '198.51.100.1' }], ...extra });

test('a query and its answer make one transaction, with latency and a name', () => {
  const { c, txs, feed } = setup();
  feed({ dir: 'send', data: buildQuery(10, 'api.example.test'), tsNs: ns(0) }, { dir: 'recv', data: answer(10, 'api.example.test'), tsNs: ns(3.5) });
  assert.equal(txs.length, 1);
  const t = txs[0];
  assert.equal(t.outcome, 'answered');
  assert.equal(t.latencyMs!.toFixed(1), '3.5');
  assert.deepEqual(t.addresses, ['198.51.100.1']);
  assert.equal(t.ttl, 120);
  assert.equal(t.time, T0);
  assert.equal(c.nameFor(4026531840, '198.51.100.1')?.name, 'api.example.test');
});

test('no answer within 5 s is a timeout; a retransmission is the same query', () => {
  const { c, txs, feed } = setup();
  feed({ dir: 'send', data: buildQuery(11, 'slow.test'), tsNs: ns(0) }, { dir: 'send', data: buildQuery(11, 'slow.test'), tsNs: ns(1000) });
  c.sweep(T0 + 4999);
  assert.equal(txs.length, 0);
  c.sweep(T0 + 5001);
  assert.equal(txs.length, 1);
  assert.equal(txs[0].outcome, 'timeout');
  assert.equal(txs[0].retransmits, 1);
  const [h] = c.resolverEdges(T0 + 6000);
  assert.equal(h.timeouts, 1);
  assert.equal(h.failures, 1);
  assert.deepEqual(h.failingNames.map((f) => [f.name, f.reason]), [['slow.test', 'timeout']]);
});

test('every query left unanswered times out, however many are swept at once and whatever was answered between them', () => {
  const { c, txs, feed } = setup();
  feed(
    { dir: 'send', data: buildQuery(30, 'first.test'), tsNs: ns(0) },
    { dir: 'send', data: buildQuery(31, 'second.test'), tsNs: ns(1) },
    { dir: 'send', data: buildQuery(32, 'answered.test'), tsNs: ns(2) },
    { dir: 'send', data: buildQuery(33, 'third.test'), tsNs: ns(3) },
    { dir: 'recv', data: answer(32, 'answered.test'), tsNs: ns(4) },
  );
  c.sweep(T0 + 10_000);
  assert.deepEqual(txs.map((t) => [t.name, t.outcome]).sort(), [
    ['answered.test', 'answered'], ['first.test', 'timeout'], ['second.test', 'timeout'], ['third.test', 'timeout'],
  ]);
  assert.equal(c.stats().pendingQueries, 0);
  assert.equal(c.stats().timeouts, 3);
});

test('past the pending bound the oldest query is evicted, one per new query, and the rest still time out', () => {
  const { c, txs, feed } = setup({ maxPendingQueries: 2 });
  feed(
    { dir: 'send', data: buildQuery(40, 'a.test'), tsNs: ns(0) },
    { dir: 'send', data: buildQuery(41, 'b.test'), tsNs: ns(1) },
    { dir: 'send', data: buildQuery(42, 'c.test'), tsNs: ns(2) },
    { dir: 'send', data: buildQuery(43, 'd.test'), tsNs: ns(3) },
  );
  assert.equal(c.stats().pendingEvicted, 2);
  c.sweep(T0 + 10_000);
  assert.deepEqual(txs.map((t) => [t.name, t.outcome]), [['c.test', 'timeout'], ['d.test', 'timeout']]);
  assert.equal(c.stats().pendingQueries, 0);
});

test('thousands of queries in flight, answered out of order across sweeps: each ends once, as answered or as a timeout', () => {
  // The age queue is a ring that wraps and grows: this walks it past its first size several times.
  const { c, txs, feed } = setup({ maxPendingQueries: 50_000 });
  const rnd = prng(7);
  let sweepAt = 0;
  const late: string[] = [];
  c.onTransactionDone((t) => { if (t.outcome === 'timeout' && sweepAt - t.time > 6000) late.push(t.name); });
  const open: { q: number; round: number }[] = [];
  let sent = 0;
  for (let round = 0; round < 12; round++) {
    const at = round * 1000;
    const batch = [];
    for (let i = 0; i < 600 + round * 300; i++, sent++) { // more each round: the ring grows after its start has moved
      // 256 ids per socket: every id is shared by many sockets, so queries end in the middle of their id's chain.
      batch.push({ dir: 'send' as const, data: buildQuery(sent & 0xff, `q${sent}.test`), tsNs: ns(at), cookie: 5000 + (sent >> 8) });
      if (sent % 7) open.push({ q: sent, round }); // every 7th is never answered
    }
    // Answer the oldest third (the ring's start moves on) and a random half of the rest, in random order;
    // the others wait (some until they time out), so the ring also grows.
    const answerNow = open.splice(0, Math.floor(open.length / 3));
    for (let i = open.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [open[i], open[j]] = [open[j], open[i]]; }
    answerNow.push(...open.splice(0, Math.floor(open.length / 2)));
    for (let i = answerNow.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [answerNow[i], answerNow[j]] = [answerNow[j], answerNow[i]]; }
    open.sort((a, b) => a.q - b.q);
    for (const { q } of answerNow) batch.push({ dir: 'recv' as const, data: answer(q & 0xff, `q${q}.test`), tsNs: ns(at + 1), cookie: 5000 + (q >> 8) });
    feed(...batch);
    sweepAt = T0 + at + 500;
    c.sweep(sweepAt);
    // What that sweep timed out (sent 5 s or more before it) is never answered.
    for (let i = open.length - 1; i >= 0; i--) if (open[i].round <= round - 5) open.splice(i, 1);
  }
  for (let at = 12_500; at <= 17_500; at += 1000) {
    sweepAt = T0 + at;
    c.sweep(sweepAt);
  }
  assert.deepEqual(late, [], 'every timeout is found by the first sweep past its deadline');
  const byName = new Map<string, string[]>();
  for (const t of txs) byName.set(t.name, [...(byName.get(t.name) ?? []), t.outcome]);
  assert.equal(byName.size, sent);
  assert.ok([...byName.values()].every((o) => o.length === 1));
  const outcomes = [...byName.values()].map((o) => o[0]);
  const answered = outcomes.filter((o) => o === 'answered').length;
  assert.equal(answered + outcomes.filter((o) => o === 'timeout').length, sent);
  assert.ok(answered > sent / 2 && answered < sent, `${answered} of ${sent} answered`);
  assert.equal(c.stats().pendingQueries, 0);
  assert.equal(c.stats().unmatchedResponses, 0);
});

test('queries of different sockets with the same id are each matched to their own socket\'s answer', () => {
  const { c, txs, feed } = setup();
  const names = ['one.test', 'two.test', 'three.test'];
  feed(...names.map((n, i) => ({ dir: 'send' as const, data: buildQuery(77, n), tsNs: ns(i), cookie: 100 + i })));
  // The middle of the id's chain is answered first, then its head, then its tail.
  feed(...[1, 2, 0].map((i) => ({ dir: 'recv' as const, data: answer(77, names[i]), tsNs: ns(10 + i), cookie: 100 + i })));
  assert.deepEqual(txs.map((t) => [t.name, t.outcome, t.latencyMs]), [['two.test', 'answered', 10], ['three.test', 'answered', 10], ['one.test', 'answered', 10]]);
  assert.equal(c.stats().pendingQueries, 0);
  // An answer on a socket that asked nothing with that id waits for its query, then is reported unmatched.
  feed({ dir: 'recv', data: answer(77, 'one.test'), tsNs: ns(20), cookie: 999 });
  assert.equal(txs.length, 3);
  c.sweep(Date.now() + 3000); // (an early answer waits by the wall clock)
  assert.deepEqual(txs.slice(3).map((t) => [t.name, t.outcome]), [['one.test', 'unmatched']]);
});

test('a same-id chain loses members to timeouts and to the pending bound; the others are still matched', () => {
  const { c, txs, feed } = setup({ maxPendingQueries: 3 });
  // Four sockets ask with id 9: the oldest is evicted by the fourth (the bound is 3).
  feed(...[0, 1, 2, 3].map((i) => ({ dir: 'send' as const, data: buildQuery(9, `s${i}.test`), tsNs: ns(i * 1000), cookie: 200 + i })));
  assert.equal(c.stats().pendingEvicted, 1);
  // 5 s after the second: it times out, from the middle of the chain (the third and fourth were sent later).
  c.sweep(T0 + 6500);
  assert.deepEqual(txs.map((t) => [t.name, t.outcome]), [['s1.test', 'timeout']]);
  feed(...[3, 2, 0].map((i) => ({ dir: 'recv' as const, data: answer(9, `s${i}.test`), tsNs: ns(6600), cookie: 200 + i })));
  assert.deepEqual(txs.slice(1).map((t) => [t.name, t.outcome]), [['s3.test', 'answered'], ['s2.test', 'answered']]);
  assert.equal(c.stats().pendingQueries, 0);
  // The evicted one's answer found no query: it waits, then is reported unmatched.
  c.sweep(Date.now() + 3000);
  assert.deepEqual(txs.slice(3).map((t) => [t.name, t.outcome]), [['s0.test', 'unmatched']]);
});

test('one process\'s sockets share one client object; each transaction keeps its own socket\'s port', () => {
  const { txs, feed } = setup();
  feed(
    { dir: 'send', data: buildQuery(1, 'a.test'), tsNs: ns(0), cookie: 301, localPort: 40001 },
    { dir: 'recv', data: answer(1, 'a.test'), tsNs: ns(1), cookie: 301, localPort: 40001 },
    { dir: 'send', data: buildQuery(2, 'b.test'), tsNs: ns(2), cookie: 302, localPort: 40002 },
    { dir: 'recv', data: answer(2, 'b.test'), tsNs: ns(3), cookie: 302, localPort: 40002 },
    { dir: 'send', data: buildQuery(3, 'c.test'), tsNs: ns(4), cookie: 303, localPort: 40003, comm: 'other' },
    { dir: 'recv', data: answer(3, 'c.test'), tsNs: ns(5), cookie: 303, localPort: 40003, comm: 'other' },
  );
  assert.deepEqual(txs.map((t) => t.clientPort), [40001, 40002, 40003]);
  assert.equal(txs[0].client, txs[1].client, 'the same object for both sockets');
  assert.notEqual(txs[2].client, txs[0].client, 'another command is another client');
  assert.equal(txs[2].client.comm, 'other');
});

test('an answer read before its query was reported still matches it', () => {
  const { c, txs, feed } = setup();
  feed({ dir: 'recv', data: answer(12, 'early.test'), tsNs: ns(2) });
  feed({ dir: 'send', data: buildQuery(12, 'early.test'), tsNs: ns(1) });
  c.sweep(T0 + 10_000);
  assert.deepEqual(txs.map((t) => [t.outcome, t.latencyMs]), [['answered', 1]]);
});

test('an answer whose query was never seen is reported unmatched (its names still count)', () => {
  const { c, txs, feed } = setup();
  feed({ dir: 'recv', data: answer(13, 'old.test') });
  c.sweep(Date.now() + 3000);
  assert.equal(txs[0].outcome, 'unmatched');
  assert.equal(c.nameFor(4026531840, '198.51.100.1')?.name, 'old.test');
  assert.equal(c.resolverEdges().length, 0, 'no health without the query');
});

test('TCP: length prefix and message in any pieces, and a long message captured in part', () => {
  const { c, txs, feed } = setup();
  const q = buildQuery(20, 'tcp.test');
  const prefix = (m: Buffer) => Buffer.from([m.length >> 8, m.length & 0xff]);
  // writev [prefix, query]: two segments of one write
  feed({ dir: 'send', tcp: true, data: prefix(q), msgLen: q.length + 2, segOff: 0, last: false },
    { dir: 'send', tcp: true, data: q, msgLen: q.length + 2, segOff: 2 });
  const big = buildMessage({
    id: 20, response: true, question: { name: 'tcp.test', type: 'A' },
    answers: Array.from({ length: 60 }, (_, i) => ({ name: 'tcp.test', type: 'A' as const, ttl: 60, data: `198.51.100.${i}` })),
  });
  assert.ok(big.length > 512);
  // read(2) then read(len): the kernel copied only 512 bytes of the second
  feed({ dir: 'recv', tcp: true, data: prefix(big) }, { dir: 'recv', tcp: true, data: big.subarray(0, 512), segLen: big.length });
  assert.equal(txs.length, 1);
  assert.ok(txs[0].addresses.length > 20 && txs[0].addresses.length < 60, `${txs[0].addresses.length}`);
  // a stream whose length prefix was not captured is dropped and counted
  feed({ dir: 'recv', tcp: true, cookie: 99, data: Buffer.alloc(0), segLen: 700 });
  feed({ dir: 'recv', tcp: true, cookie: 99, data: prefix(big) });
  assert.equal(c.stats().lost.tcpDesync, 1);
  assert.equal(c.stats().malformed.total, 0);
});

test('UDP: a message spread over several buffers is joined', () => {
  const { txs, feed } = setup();
  const q = buildQuery(30, 'split.test');
  feed({ dir: 'send', data: q.subarray(0, 12), msgLen: q.length, segOff: 0, segLen: 12, last: false },
    { dir: 'send', data: q.subarray(12), msgLen: q.length, segOff: 12 });
  feed({ dir: 'recv', data: answer(30, 'split.test') });
  assert.equal(txs.length, 1);
  assert.equal(txs[0].name, 'split.test');
});

test('malformed messages are counted by reason, never thrown', () => {
  const { c, feed } = setup();
  const loop = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  feed({ dir: 'recv', data: loop }, { dir: 'recv', data: Buffer.from([1, 2, 3]) }, { dir: 'send', data: answer(1, 'x.test') });
  const s = c.stats();
  assert.deepEqual(s.malformed.byReason, { 'pointer-loop': 1, 'short-header': 1, 'unexpected-direction': 1 });
  assert.equal(s.malformed.total, 3);
});

test('fuzz: random records (bad lengths, offsets, flags, payloads) never throw, and every message is accounted for', { timeout: 60_000 }, () => {
  const { c } = setup({ maxPendingQueries: 100 });
  const rnd = prng(7);
  const int = (n: number) => Math.floor(rnd() * n);
  const n = 20_000;
  const buf = Buffer.alloc(n * DNS_EVENT_SIZE);
  for (let i = 0; i < buf.length; i++) buf[i] = int(256);
  // Half of them get a plausible DNS payload with random damage.
  for (let i = 0; i < n; i += 2) {
    const m = rnd() < 0.5 ? buildQuery(int(65536), `n${int(100)}.test`) : answer(int(65536), `n${int(100)}.test`);
    const r = buildRecord({ dir: rnd() < 0.5 ? 'send' : 'recv', data: m, tcp: rnd() < 0.2, cookie: int(50) });
    for (let k = int(3); k > 0; k--) r[int(r.length)] = int(256);
    r.copy(buf, i * DNS_EVENT_SIZE);
  }
  c.ingest(buf, n, clock);
  c.sweep(Date.now() + 60_000);
  const s = c.stats();
  assert.equal(s.records, n);
  assert.ok(s.malformed.total > 0 && s.queries + s.responses > 0, JSON.stringify(s));
  assert.ok(s.pendingQueries <= 100);
});
