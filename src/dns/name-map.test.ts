import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameMap } from './name-map.js';
import { DNS_DEFAULTS } from '../config/defaults.js';
import type { DnsTransaction } from './types.js';

const NS = 4026531840;
const resolver = { address: '127.0.0.53', port: 53, family: 4 as const, dockerEmbedded: false };

function answer(name: string, addresses: string[], o: { ttl?: number; pid?: number; cgroupId?: number; netns?: number; cnames?: string[] } = {}): DnsTransaction {
  return {
    time: 0, outcome: 'answered', id: 1, type: 'A', rcode: 'NOERROR', latencyMs: 1, retransmits: 0, truncated: false, transport: 'udp', clientPort: 40000,
    client: { pid: o.pid ?? 10, comm: 'c', cgroupId: o.cgroupId ?? 1, netns: o.netns ?? NS, address: '' },
    resolver, name, answers: [], cnames: o.cnames ?? [], addresses, ttl: o.ttl ?? 300,
  };
}

test('an answer names its addresses for its TTL, and never less than the minimum hold', () => {
  const m = new NameMap();
  m.record(answer('short.test', ['198.51.100.1'], { ttl: 5 }), 0);
  m.record(answer('long.test', ['198.51.100.2'], { ttl: 600 }), 0);
  assert.equal(m.lookup(NS, '198.51.100.1', {}, 30_000)?.name, 'short.test', 'a 5 s TTL is held for the minimum hold');
  assert.equal(m.lookup(NS, '198.51.100.1', {}, DNS_DEFAULTS.minHoldMs + 1), null);
  assert.equal(m.lookup(NS, '198.51.100.2', {}, 599_000)?.name, 'long.test');
  assert.equal(m.lookup(NS, '198.51.100.2', {}, 601_000), null);
});

test('failed and empty answers name nothing; namespaces are separate', () => {
  const m = new NameMap();
  m.record({ ...answer('nx.test', ['198.51.100.3']), rcode: 'NXDOMAIN' }, 0);
  m.record({ ...answer('to.test', ['198.51.100.3']), outcome: 'timeout', rcode: null }, 0);
  assert.equal(m.lookup(NS, '198.51.100.3', {}, 1), null);
  m.record(answer('a.test', ['198.51.100.4'], { netns: 1 }), 0);
  assert.equal(m.lookup(NS, '198.51.100.4', {}, 1), null);
  assert.equal(m.lookup(1, '198.51.100.4', {}, 1)?.name, 'a.test');
});

test('one address with several names: the client gets the name it resolved, else the latest', () => {
  const m = new NameMap();
  m.record(answer('api.partner.example', ['203.0.113.9'], { pid: 1, cgroupId: 100, cnames: ['lb.cdn.example'] }), 0);
  m.record(answer('static.partner.example', ['203.0.113.9'], { pid: 2, cgroupId: 200 }), 10);
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 1 }, 20)!.name, 'api.partner.example');
  assert.deepEqual(m.lookup(NS, '203.0.113.9', { pid: 1 }, 20)!.cnames, ['lb.cdn.example']);
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 99, cgroupId: 100 }, 20)!.name, 'api.partner.example', 'same container, other process');
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 99 }, 20)!.name, 'static.partner.example', 'the latest otherwise');
  assert.deepEqual(m.bindings(NS, '203.0.113.9', 20).map((b) => b.name), ['static.partner.example', 'api.partner.example']);
});

test('a name that moves: the new address is current, the old one keeps the name as not current', () => {
  const m = new NameMap();
  m.record(answer('move.test', ['198.51.100.20']), 0);
  m.record(answer('move.test', ['198.51.100.21']), 2000);
  assert.deepEqual(m.addressesOf(NS, 'MOVE.test.'), ['198.51.100.21']);
  assert.equal(m.lookup(NS, '198.51.100.21', {}, 2001)!.current, true);
  assert.equal(m.lookup(NS, '198.51.100.20', {}, 2001)!.current, false);
});

test('bounded: the least recently used addresses go first, every eviction counted', () => {
  const m = new NameMap({ ...DNS_DEFAULTS, nameMapEntries: 3 });
  for (let i = 0; i < 5; i++) m.record(answer(`n${i}.test`, [`198.51.100.${i}`]), i * 2000);
  assert.equal(m.size.addresses, 3);
  assert.equal(m.evictions, 2);
  assert.equal(m.lookup(NS, '198.51.100.0', {}, 10_000), null);
  assert.equal(m.lookup(NS, '198.51.100.4', {}, 10_000)?.name, 'n4.test');
  // Touching an address makes it recent: n2 survives the next insertion, n3 does not.
  m.lookup(NS, '198.51.100.2', {}, 12_000);
  m.record(answer('n2.test', ['198.51.100.2'], { pid: 11 }), 12_000);
  m.record(answer('n5.test', ['198.51.100.5']), 14_000);
  assert.equal(m.lookup(NS, '198.51.100.3', {}, 15_000), null);
  assert.equal(m.lookup(NS, '198.51.100.2', {}, 15_000)?.name, 'n2.test');
  assert.equal(m.evictions, 3);
});

test('names per address and addresses per name are capped', () => {
  const m = new NameMap({ ...DNS_DEFAULTS, maxNamesPerAddress: 2, maxAddressesPerName: 2 });
  for (let i = 0; i < 4; i++) m.record(answer(`alias${i}.test`, ['198.51.100.9']), i);
  assert.deepEqual(m.bindings(NS, '198.51.100.9', 10).map((b) => b.name), ['alias3.test', 'alias2.test']);
  m.record(answer('many.test', ['198.51.100.10', '198.51.100.11', '198.51.100.12']), 10);
  assert.deepEqual(m.addressesOf(NS, 'many.test'), ['198.51.100.10', '198.51.100.11']);
  assert.equal(m.lookup(NS, '198.51.100.12', {}, 11), null);
});

test('a namespace that is gone is forgotten (its inode may be reused)', () => {
  const m = new NameMap();
  m.record(answer('a.test', ['198.51.100.1'], { netns: 5 }), 0);
  m.record(answer('b.test', ['198.51.100.1']), 0);
  m.forgetNamespace(5);
  assert.equal(m.lookup(5, '198.51.100.1', {}, 1), null);
  assert.deepEqual(m.addressesOf(5, 'a.test'), []);
  assert.equal(m.lookup(NS, '198.51.100.1', {}, 1)?.name, 'b.test');
  assert.deepEqual(m.size, { addresses: 1, names: 1, capacity: DNS_DEFAULTS.nameMapEntries });
  assert.equal(m.evictions, 0);
});

test('one process resolving two names of one address: a connection gets the name its process had received by the time it started', () => {
  const m = new NameMap();
  m.record({ ...answer('payments.partner.example', ['203.0.113.9'], { pid: 7 }), time: 1000, latencyMs: 2 }, 1002);
  m.record({ ...answer('www.partner.example', ['203.0.113.9'], { pid: 7, cnames: ['payments.partner.example'] }), time: 1010, latencyMs: 2 }, 1012);
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 7, at: 1005 }, 2000)?.name, 'payments.partner.example', 'connected between the two answers');
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 7, at: 1020 }, 2000)?.name, 'www.partner.example', 'connected after the second');
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 7, at: 900 }, 2000)?.name, 'payments.partner.example', 'before any answer: the first it got');
  assert.equal(m.lookup(NS, '203.0.113.9', { pid: 7 }, 2000)?.name, 'www.partner.example', 'no time: its latest');
});
