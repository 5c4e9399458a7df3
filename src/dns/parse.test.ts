import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDnsMessage, isMalformed, RRType, Rcode, type ParseResult, type DnsMessage } from './parse.js';
import { buildMessage, buildQuery } from './testing.js';

/** The parse error, or null. */
const errorOf = (r: ParseResult) => (isMalformed(r) ? r : null);
/** The message (fails the test on an error). */
const msgOf = (r: ParseResult): DnsMessage => {
  assert.ok(!isMalformed(r), `parse error ${r}`);
  return r as DnsMessage;
};

test('a query: id, question, no answers', () => {
  const r = parseDnsMessage(buildQuery(0x1234, 'Web.Zone.TEST', 'AAAA'));
  msgOf(r);
  assert.equal(msgOf(r).id, 0x1234);
  assert.equal(msgOf(r).response, false);
  assert.deepEqual(msgOf(r).question, { name: 'web.zone.test', type: RRType.AAAA });
  assert.deepEqual(msgOf(r).answers, []);
});

test('an answer with a compressed CNAME chain, A and AAAA records', () => {
  const buf = buildMessage({
    id: 7, response: true, question: { name: 'alias.zone.test', type: 'A' },
    answers: [
      { name: 'alias.zone.test', type: 'CNAME', ttl: 300, data: 'lb.cdn.zone.test' },
      { name: 'lb.cdn.zone.test', type: 'A', ttl: 30, data: '198.51.100.7' },
      { name: 'lb.cdn.zone.test', type: 'AAAA', ttl: 30, data: '2001:db8::7' },
    ],
  });
  assert.ok(buf.length < 120, 'names were compressed');
  const r = parseDnsMessage(buf);
  msgOf(r);
  const m = msgOf(r);
  assert.equal(m.response, true);
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.deepEqual(m.answers, [
    { name: 'alias.zone.test', type: 'CNAME', ttl: 300, data: 'lb.cdn.zone.test' },
    { name: 'lb.cdn.zone.test', type: 'A', ttl: 30, data: '198.51.100.7' },
    { name: 'lb.cdn.zone.test', type: 'AAAA', ttl: 30, data: '2001:db8::7' },
  ]);
});

test('rcodes and the TC flag', () => {
  const nx = parseDnsMessage(buildMessage({ id: 1, response: true, rcode: Rcode.NXDOMAIN, question: { name: 'nx.test', type: 'A' } }));
  assert.equal(msgOf(nx).rcode, Rcode.NXDOMAIN);
  const tc = parseDnsMessage(buildMessage({ id: 2, response: true, truncated: true, question: { name: 'big.test', type: 'A' } }));
  assert.equal(msgOf(tc).truncated, true);
});

test('a capture shorter than the message gives what was whole, marked partial', () => {
  const full = buildMessage({
    id: 9, response: true, question: { name: 'many.test', type: 'A' },
    answers: Array.from({ length: 40 }, (_, i) => ({ name: 'many.test', type: 'A' as const, ttl: 60, data: `198.51.100.${i}` })),
  });
  const r = parseDnsMessage(full.subarray(0, 200), 0, 200, false);
  msgOf(r);
  assert.equal(msgOf(r).partial, true);
  assert.ok(msgOf(r).answers.length > 5 && msgOf(r).answers.length < 40, `${msgOf(r).answers.length} answers`);
  // The same prefix claimed to be the whole message is malformed.
  assert.equal(errorOf(parseDnsMessage(full.subarray(0, 200), 0, 200, true)), 'bad-count');
});

test('names with odd bytes are escaped, never passed through', () => {
  const buf = buildMessage({ id: 3, question: { name: 'a\x1b[31mb.test', type: 'A' }, compress: false });
  assert.equal(msgOf(parseDnsMessage(buf)).question!.name, 'a\\027\\09131mb.test');
});

test('pointer loops, forward pointers and over-long names are malformed', () => {
  const header = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
  const self = Buffer.from([...header, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(errorOf(parseDnsMessage(self)), 'pointer-loop');
  const forward = Buffer.from([...header, 0xc0, 14, 1, 0x61, 0, 0, 1, 0, 1]);
  assert.equal(errorOf(parseDnsMessage(forward)), 'pointer-loop');
  const long = Buffer.from([...header, ...Array.from({ length: 5 }, () => [63, ...new Array(63).fill(0x61)]).flat(), 0, 0, 1, 0, 1]);
  assert.equal(errorOf(parseDnsMessage(long)), 'name-too-long');
  assert.equal(errorOf(parseDnsMessage(Buffer.from([1, 2, 3]))), 'short-header');
  const badA = buildMessage({ id: 4, response: true, question: { name: 'x.test', type: 'A' }, answers: [{ name: 'x.test', type: 'A', ttl: 1, data: '1.2.3.4' }] });
  badA[badA.length - 5] = 3; // rdlength 4 -> 3
  assert.notEqual(errorOf(parseDnsMessage(badA)), null);
});

test('a message at an offset of a larger buffer (compression pointers are relative to its start)', () => {
  const m = buildMessage({ id: 5, response: true, question: { name: 'off.test', type: 'A' }, answers: [{ name: 'off.test', type: 'A', ttl: 9, data: '198.51.100.9' }] });
  const buf = Buffer.concat([Buffer.alloc(100, 0xc0), m, Buffer.alloc(50, 0xc0)]);
  const r = parseDnsMessage(buf, 100, m.length);
  msgOf(r);
  assert.deepEqual(msgOf(r).answers, [{ name: 'off.test', type: 'A', ttl: 9, data: '198.51.100.9' }]);
});
