// EdgePacer: which edges a stream client gets per delta (pure logic, a fake clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdgePacer } from './stream-pace.js';
import type { GraphEdge } from '../graph/types.js';

const rates = { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0, retransmits: 0 };
function edge(id: string, o: { opened?: number; active?: number; failed?: number; rate?: number } = {}): GraphEdge {
  return {
    id, source: 'a', target: 'b', port: 80, protocol: 'tcp',
    connections: { opened: o.opened ?? 1, active: o.active ?? 0, closed: 0, failed: o.failed ?? 0, failedBy: { refused: o.failed ?? 0, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } },
    bytes: { sent: 0, received: 0 }, rtt: { meanUs: 0, p95Us: 0, samples: 0 }, retransmits: 0, duration: { meanMs: 0, p95Ms: 0, samples: 0 },
    firstSeen: 0, lastSeen: 0, rates: { '10s': { ...rates, connections: o.rate ?? 0 }, '1m': { ...rates } },
  };
}
const ids = (es: GraphEdge[]) => es.map((e) => e.id);

test('an edge whose only news is traffic goes at most once per wait; news goes at once', () => {
  const p = new EdgePacer(2000);
  assert.deepEqual(ids(p.pick([edge('x')], [], 0)), ['x'], 'new to the client: at once');
  assert.deepEqual(ids(p.pick([edge('x', { opened: 5, rate: 4 })], [], 500)), [], 'more traffic 0.5 s later: held');
  assert.deepEqual(ids(p.pick([edge('x', { opened: 9, rate: 8 })], [], 1500)), []);
  const later = p.pick([edge('x', { opened: 12, rate: 6 })], [], 2000);
  assert.equal(later[0].connections.opened, 12, 'after the wait, the newest state');
  assert.deepEqual(ids(p.pick([edge('x', { opened: 13, failed: 1 })], [], 2100)), ['x'], 'a failure: at once');
  assert.deepEqual(ids(p.pick([edge('x', { opened: 14, failed: 1, active: 1 })], [], 2200)), ['x'], 'busy (a connection open) after idle: at once');
  assert.deepEqual(ids(p.pick([edge('x', { opened: 15, failed: 1, active: 3 })], [], 2300)), [], 'more open connections: traffic');
  assert.deepEqual(ids(p.pick([edge('x', { opened: 15, failed: 1, active: 0 })], [], 2400)), ['x'], 'idle again: at once');
});

test('an edge held back and then no longer offered goes in its last offered state after the wait', () => {
  const p = new EdgePacer(2000);
  p.sentAll([edge('x', { rate: 5 })], 0);
  assert.deepEqual(ids(p.pick([edge('x', { rate: 1 })], [], 500)), [], 'the connect snapshot counts as sent');
  assert.deepEqual(ids(p.pick([edge('x', { rate: 0 })], [], 1000)), []);
  assert.deepEqual(ids(p.pick([], [], 1500)), [], 'not offered any more, but its wait is not over');
  const last = p.pick([], [], 2000);
  assert.deepEqual(ids(last), ['x']);
  assert.equal(last[0].rates['10s'].connections, 0, 'the rate the client keeps is the map\'s last, not a stale one');
  assert.deepEqual(ids(p.pick([], [], 4500)), [], 'sent once');
});

test('a removed edge is forgotten: nothing held goes after its removal, and it is new again if it comes back', () => {
  const p = new EdgePacer(2000);
  p.pick([edge('x')], [], 0);
  p.pick([edge('x', { rate: 3 })], [], 500);
  assert.deepEqual(ids(p.pick([], ['x'], 1000)), []);
  assert.deepEqual(ids(p.pick([], [], 3000)), [], 'its held state is not sent after the removal');
  assert.deepEqual(ids(p.pick([edge('x')], [], 3100)), ['x']);
});
