import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameTable } from './listen.js';
import type { GraphNode } from '../graph/types.js';

const node = (x: Partial<GraphNode>): GraphNode => ({ id: 'x', kind: 'external', label: 'x', group: null, instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 0, ...x });

test('dhrishti_name_info lists the addresses behind each outside server named by DNS on this refresh\'s edges, and only those', () => {
  const t = new NameTable('h1');
  t.note(node({ label: 'api.internal', ips: ['10.0.0.2', '10.0.0.3'], dns: { names: ['api.internal'], cnames: [], domain: null } }));
  t.note(node({ label: '203.0.113.9', ips: ['203.0.113.9'] })); // never resolved: its label is its address already
  t.note(node({ kind: 'service', label: 'web', ips: ['10.0.0.5'], dns: { names: ['web'], cnames: [], domain: null } }));
  t.note(undefined);
  const [f] = t.families();
  assert.equal(f.name, 'dhrishti_name_info');
  const rows = f.series.map((s) => ('labels' in s ? s.labels : {}));
  assert.deepEqual(rows, [{ host: 'h1', dns_name: 'api.internal', ip: '10.0.0.2' }, { host: 'h1', dns_name: 'api.internal', ip: '10.0.0.3' }]);
  t.note(node({ label: 'api.internal', ips: ['10.0.0.2'], dns: { names: ['api.internal'], cnames: [], domain: null } }));
  const [g] = t.families();
  assert.equal(g.series.length, 1, 'only what the last refresh read');
  assert.equal(('labels' in g.series[0] ? g.series[0].labels : null), rows[0], 'the same label set object while it is listed');
  assert.equal(t.families()[0].series.length, 0);
});
