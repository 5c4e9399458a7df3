// trace --l7's table rows: a failure's code is printed whole (unit test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListenerOwners, requestRow, row } from './trace.js';
import { ev } from '../../../test/support/fixtures.js';
import type { L7Sample } from '../../l7/types.js';

const sample = (p: Partial<L7Sample>): L7Sample => ({
  time: Date.UTC(2026, 11, 5, 3, 0, 0), cookie: 1, pid: 42, comm: 'redis-server', protocol: 'redis', role: 'server', status: 1,
  statusClass: 'error', latencyMs: 0.12, method: 'LPUSH', target: null, tls: false, reasons: ['failed'], ...p,
});

test('a failure\'s code is printed whole in the STATUS column: Redis prefix, SQLSTATE, MySQL error number', () => {
  const peer = { local: 6379, remote: '[::1]', port: 50000 };
  assert.match(requestRow(sample({ code: 'WRONGTYPE' }), peer), / ERR WRONGTYPE +0\.12$/);
  assert.match(requestRow(sample({ code: 'ERR', status: 0x8a52_0000 }), peer), /\s{2}ERR +0\.12$/, 'Redis\' generic ERR once, not its coded status');
  assert.match(requestRow(sample({ protocol: 'postgres', code: '42P01', method: 'SELECT' }), peer), / ERR 42P01 +0\.12$/);
  assert.match(requestRow(sample({ protocol: 'mysql', status: 1146, method: 'SELECT' }), peer), / ERR 1146 +0\.12$/);
  assert.match(requestRow(sample({ protocol: 'http1', status: 503, statusClass: '5xx', method: 'GET', target: '/x' }), peer), / 503 +0\.12$/);
  assert.ok(requestRow(sample({}), peer).includes('[::1]:50000'));
  const cut = sample({ protocol: 'http1', status: 0, method: 'GET', target: '/x', reasons: ['failed', 'no-response'] });
  assert.match(requestRow(cut, peer), / GET +\/x +NO-RESPONSE +0\.12$/, 'a server that closed with it unanswered');
});

test('a listener found at start-up reads "before start", one that starts listening later does not', () => {
  const listen = { type: 'listen' as const, role: 'server' as const, saddr: '0.0.0.0', sport: 8080, daddr: '', dport: 0 };
  assert.match(row(ev({ ...listen, midflight: true })), / before start$/);
  assert.doesNotMatch(row(ev({ ...listen, midflight: false })), /before start/);
});

test('a server connection with no pid (established in softirq) is owned by its port\'s listener', () => {
  const owners = new ListenerOwners();
  const est = ev({ type: 'established', role: 'server', pid: 0, comm: '', sport: 8080, dport: 40000 });
  assert.equal(owners.fill(est).pid, 0, 'no listener seen yet');
  owners.fill(ev({ type: 'listen', role: 'server', pid: 77, comm: 'nginx', sport: 8080, dport: 0 }));
  const filled = owners.fill(est);
  assert.deepEqual([filled.pid, filled.comm], [77, 'nginx']);
  assert.match(row(filled), /^\S+ +established +77 +nginx +server /);
  const client = ev({ type: 'established', role: 'client', pid: 0, comm: '', sport: 8080, dport: 9 });
  assert.equal(owners.fill(client).pid, 0, 'a client socket is not the listener\'s');
  assert.equal(owners.fill(ev({ type: 'close', role: 'server', pid: 5, comm: 'x', sport: 8080 })).pid, 5, 'an owner already known stays');
  owners.fill(ev({ type: 'listen_close', role: 'server', pid: 77, comm: 'nginx', sport: 8080, dport: 0 }));
  assert.equal(owners.fill(est).pid, 0, 'a listener that closed owns nothing more');
});
