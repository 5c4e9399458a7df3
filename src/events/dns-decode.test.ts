// The DNS record decoder's facts cache: one object per process, addresses and
// resolver over any number of sockets, and a new one for any field that differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsRecordDecoder, type DnsFacts } from './dns-decode.js';
import { buildQuery, buildRecord, type RecordFields } from '../dns/testing.js';
import { clockFrom } from './decode.js';

const base: RecordFields = { dir: 'send', data: buildQuery(1, 'a.test') };

function factsOf(d: DnsRecordDecoder, f: Partial<RecordFields>): { facts: DnsFacts; localPort: number } {
  const s = d.decode(buildRecord({ ...base, ...f }), 0);
  return { facts: s.facts, localPort: s.localPort };
}

test('sockets of one process share its facts; each record keeps its own socket port', () => {
  const d = new DnsRecordDecoder(clockFrom(1e12));
  const a = factsOf(d, { cookie: 1, localPort: 40001 });
  const b = factsOf(d, { cookie: 2, localPort: 40002 });
  assert.equal(a.facts, b.facts);
  assert.deepEqual([a.localPort, b.localPort], [40001, 40002]);
  assert.deepEqual(a.facts, { pid: 100, comm: 'client', cgroupId: 7, netns: 4026531840, family: 4, local: '127.0.0.1', peer: '127.0.0.53', peerPort: 53, tcp: false });
});

test('any field the facts are made of makes other facts', () => {
  const d = new DnsRecordDecoder(clockFrom(1e12));
  const first = factsOf(d, {}).facts;
  const variants: Partial<RecordFields>[] = [
    { pid: 101 }, { comm: 'other' }, { cgroupId: 8 }, { netns: 4026532000 }, { local: '10.0.0.2' },
    { peer: '127.0.0.11' }, { peerPort: 5353 }, { tcp: true },
  ];
  for (const v of variants) {
    const f = factsOf(d, v).facts;
    assert.notEqual(f, first, JSON.stringify(v));
    const [k, value] = Object.entries(v)[0];
    const field = ({ local: 'local', peer: 'peer', peerPort: 'peerPort', tcp: 'tcp', pid: 'pid', comm: 'comm', cgroupId: 'cgroupId', netns: 'netns' } as Record<string, keyof DnsFacts>)[k];
    assert.equal(f[field], value, k);
  }
  // And the first is still found (the variants took other slots, or replaced it and it is made again, equal).
  assert.deepEqual(factsOf(d, {}).facts, first);
});
