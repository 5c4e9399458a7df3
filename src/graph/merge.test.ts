// A container named late (Docker answered after its first connections): its provisional node is folded into the
// named one, with every number, on the live map and in the drained intervals (unit test, stand-in identity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveGraph } from './live-graph.js';
import { containerNode } from './naming.js';
import { identity, connection, counters, refused, web, db, WEB, DB, WEB_DB, l7Delta, namedLate } from '../../test/support/fixtures.js';

const OK = 2, C5 = 5;
const PROVISIONAL = `ctr:${WEB.shortId}`; // named from its cgroup path alone
const PROVISIONAL_DB = `${PROVISIONAL}|svc:shop/db|5432|tcp`;

test('a container named late: its provisional node and edges fold into the named ones, numbers, open connections and requests with them', () => {
  const id = namedLate(WEB);
  const g = new LiveGraph(id);
  g.startIntervals();
  const pool = connection(web, db, 1000, { sent: 900, received: 90 }); // a pool connection that stays open across the naming
  const short = connection(web, db, 1000, { sent: 300, received: 30 });
  g.ingest([...pool.open, ...short.open, ...short.close, ...refused(web, db, 1100)], 1100);
  g.count([counters({ cookie: pool.cookies.client, bytesSent: 400, bytesReceived: 40, pid: 5 })], 1200);
  g.requests([l7Delta(pool.cookies.client, 'client', { [OK]: 8, [C5]: 2 })], 1200);
  let snap = g.snapshot({}, 1200);
  assert.deepEqual(snap.edges.map((e) => e.id), [PROVISIONAL_DB], 'before Docker answers: the container under its id');
  const first = g.drainInterval(1500).edges.find((r) => r.edge.id === PROVISIONAL_DB)!;
  assert.deepEqual([first.opened, first.closed, first.failed, first.bytesSent], [2, 1, 1, 700]);

  id.name();
  const late = connection(web, db, 1600, { sent: 50, received: 5 }); // placed by name before the fold: the named edge exists
  g.ingest([...late.open, ...late.close], 1650);
  g.count([counters({ cookie: pool.cookies.client, bytesSent: 500, bytesReceived: 50, pid: 5 })], 1700); // undrained on the provisional edge
  g.mergeNode(PROVISIONAL, containerNode(WEB), 1800);

  snap = g.snapshot({}, 1800);
  assert.deepEqual(snap.edges.map((e) => e.id), [WEB_DB], 'one edge');
  assert.ok(!snap.nodes.some((n) => n.id === PROVISIONAL), 'the provisional node is gone');
  let e = snap.edges[0];
  assert.deepEqual([e.connections.opened, e.connections.active, e.connections.closed, e.connections.failed, e.connections.failedBy.refused], [3, 1, 2, 1, 1]);
  assert.deepEqual([e.bytes.sent, e.bytes.received], [300 + 500 + 50, 30 + 50 + 5]);
  assert.equal(snap.nodes.find((n) => n.id === 'svc:shop/web')!.active, 1, 'the open pool connection counts on the named node');
  assert.equal(g.edgeDetail(WEB_DB, 1800)!.recentFailures.length, 1, 'the refused connect\'s sample came along');
  assert.deepEqual(e.requests!.map((r) => [r.protocol, r.count, r.errors]), [['http1', 10, 2]]);
  assert.equal(g.counters.mergedNodes, 1);

  // The pool connection goes on counting on the named edge, requests included, and closes there.
  g.count([counters({ cookie: pool.cookies.client, bytesSent: 700, bytesReceived: 70, pid: 5 })], 1900);
  g.requests([l7Delta(pool.cookies.client, 'client', { [OK]: 5 })], 1900);
  g.ingest(pool.close, 2000);
  g.ingest([...connection(web, db, 2100).open], 2100); // and new ones land there too
  e = g.snapshot({}, 2100).edges.find((x) => x.id === WEB_DB)!;
  assert.deepEqual([e.connections.opened, e.connections.active, e.connections.closed], [4, 1, 3]);
  assert.equal(e.bytes.sent, 300 + 900 + 50, 'the pool connection\'s bytes once each');
  assert.deepEqual(e.requests!.map((r) => [r.count, r.errors]), [[15, 2]]);
  assert.equal(g.snapshot({}, 2100).edges.length, 1);

  // The history: the provisional edge's first interval, then the named edge's, add up to the live totals.
  const second = g.drainInterval(2500);
  assert.deepEqual(second.edges.map((r) => r.edge.id), [WEB_DB], 'the undrained provisional counts went with the fold, not into a second row');
  const row = second.edges[0];
  assert.equal(first.bytesSent + row.bytesSent, e.bytes.sent);
  assert.equal(first.opened + row.opened, e.connections.opened);
  assert.equal(first.closed + row.closed, e.connections.closed);
  assert.equal(first.failed + row.failed, e.connections.failed);
  const reqs = (r: typeof row) => (r.requests ?? []).reduce((n, q) => n + q.status.reduce((a, b) => a + b, 0), 0);
  assert.equal(reqs(first) + reqs(row), 15);
  const changes = second.topology.map((t) => `${t.type} ${'edge' in t ? t.edge.id : t.node.id}`).sort();
  assert.deepEqual(changes, [`edge_appeared ${WEB_DB}`, `edge_vanished ${PROVISIONAL_DB}`, `node_appeared svc:shop/web`, `node_vanished ${PROVISIONAL}`].sort());
});

test('a server named late: connects seen from their client alone, placed by its address then, fold into it too; an address seen before it started does not', () => {
  const id = namedLate(DB);
  const g = new LiveGraph(id);
  g.ingest(refused(web, db, 1000), 1000); // no server end: placed by address, and the address was nobody's yet
  const c = connection(web, db, 1100, { sent: 10 });
  g.ingest([...c.open, ...c.close], 1200); // both ends seen: the server is the container, unnamed
  const ids = () => g.snapshot({}, 1300).edges.map((e) => e.id).sort();
  assert.deepEqual(ids(), [`svc:shop/web|ctr:${DB.shortId}|5432|tcp`, 'svc:shop/web|ext:10.0.0.4|5432|tcp']);
  id.name();
  g.mergeNode(`ctr:${DB.shortId}`, containerNode(DB), 1300, { addresses: ['10.0.0.4'], since: 1000 });
  assert.deepEqual(ids(), [WEB_DB]);
  const e = g.snapshot({}, 1300).edges[0];
  assert.deepEqual([e.connections.opened, e.connections.failedBy.refused, e.bytes.sent], [1, 1, 10]);
  assert.equal(g.counters.mergedNodes, 2);

  const early = new LiveGraph(namedLate(DB));
  early.ingest(refused(web, db, 1000), 1000);
  early.mergeNode(`ctr:${DB.shortId}`, containerNode(DB), 1300, { addresses: ['10.0.0.4'], since: 1100 });
  assert.deepEqual(early.snapshot({}, 1300).edges.map((x) => x.target), ['ext:10.0.0.4'], 'called before the container started: someone else\'s address, or nobody\'s');
});

test('folding a node that is not on the map, or into itself, changes nothing', () => {
  const g = new LiveGraph(identity);
  const c = connection(web, db, 1000);
  g.ingest(c.open, 1000);
  const before = JSON.stringify(g.snapshot({}, 1000));
  g.mergeNode('ctr:nobody', containerNode(WEB), 1000);
  g.mergeNode('svc:shop/web', containerNode(WEB), 1000);
  assert.equal(JSON.stringify(g.snapshot({}, 1000)), before);
  assert.equal(g.counters.mergedNodes, 0);
});
