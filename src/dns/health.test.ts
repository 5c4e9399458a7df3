import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthTable } from './health.js';
import { DNS_DEFAULTS } from '../config/defaults.js';
import type { DnsClient, DnsTransaction } from './types.js';

const resolver = { address: '127.0.0.11', port: 53, family: 4 as const, dockerEmbedded: true };
const api: DnsClient = { pid: 7, comm: 'api', cgroupId: 42, netns: 1, address: '172.18.0.2' };

function tx(name: string, o: Partial<DnsTransaction> = {}): DnsTransaction {
  return {
    time: 1_000_000, outcome: 'answered', client: api, clientPort: 40000, resolver, transport: 'udp', id: 1, name, type: 'A', rcode: 'NOERROR',
    latencyMs: 1, retransmits: 0, truncated: false, answers: [], cnames: [], addresses: ['172.18.0.3'], ttl: 600, ...o,
  };
}

test('counts by outcome, failing names ranked, the client -> resolver pair kept', () => {
  const h = new HealthTable();
  h.record(tx('db'));
  for (let i = 0; i < 3; i++) h.record(tx('dbb', { rcode: 'NXDOMAIN', addresses: [] }));
  h.record(tx('up.example', { rcode: 'SERVFAIL', addresses: [] }));
  h.record(tx('slow.example', { outcome: 'timeout', rcode: null, latencyMs: null, addresses: [] }));
  h.record(tx('old.example', { outcome: 'unmatched', latencyMs: null }));
  const [e] = h.list(1_000_000);
  assert.equal(e.clientKey, '42/1/api');
  assert.deepEqual(e.resolver, resolver);
  assert.deepEqual(
    [e.queries, e.answered, e.noerror, e.nxdomain, e.servfail, e.refused, e.timeouts, e.failures],
    [6, 5, 1, 3, 1, 0, 1, 5],
  );
  assert.deepEqual(e.failingNames.map((f) => [f.name, f.count, f.reason]), [['dbb', 3, 'NXDOMAIN'], ['up.example', 1, 'SERVFAIL'], ['slow.example', 1, 'timeout']]);
});

test('an NXDOMAIN for a search-list expansion is forgiven once the short name is answered', () => {
  const h = new HealthTable();
  h.record(tx('db.corp.example', { rcode: 'NXDOMAIN', addresses: [] }));
  h.record(tx('db.svc.example', { rcode: 'NXDOMAIN', addresses: [], time: 1_000_001 }));
  h.record(tx('db', { time: 1_000_002 }));
  const [e] = h.list();
  assert.equal(e.nxdomain, 0);
  assert.equal(e.searchExpansions, 2);
  assert.equal(e.failures, 0);
  assert.deepEqual(e.failingNames, []);
  // Another process's NXDOMAIN is not forgiven by this one's answer.
  h.record(tx('cache.corp.example', { rcode: 'NXDOMAIN', addresses: [], client: { ...api, pid: 8 } }));
  h.record(tx('cache'));
  assert.equal(h.list()[0].nxdomain + h.list().slice(1).reduce((a, x) => a + x.nxdomain, 0), 1);
});

test('latency percentiles from the histogram, queries per second over the window', () => {
  const h = new HealthTable();
  for (let i = 1; i <= 100; i++) h.record(tx('x', { latencyMs: i, time: 1_000_000 + i * 10 }));
  const [e] = h.list(1_002_500);
  assert.equal(e.latency.count, 100);
  assert.equal(e.latency.maxMs, 100);
  assert.ok(e.latency.p95Ms! > 50 && e.latency.p95Ms! <= 100, `p95 ${e.latency.p95Ms}`);
  assert.ok(e.latency.p50Ms! > 20 && e.latency.p50Ms! <= 50, `p50 ${e.latency.p50Ms}`);
  assert.equal(e.queriesPerSec, 100 / DNS_DEFAULTS.rateWindowSec);
});

test('bounded: the least recently active pairs go first, counted', () => {
  const h = new HealthTable(undefined, { ...DNS_DEFAULTS, maxHealthEntries: 2 });
  for (let i = 0; i < 3; i++) h.record(tx('x', { client: { ...api, comm: `c${i}` }, time: 1_000_000 + i * 2000 }));
  assert.equal(h.size.entries, 2);
  assert.equal(h.evictions, 1);
  assert.deepEqual(h.list().map((e) => e.client.comm).sort(), ['c1', 'c2']);
});
