// Pure logic of the live graph, with the stand-in identity of the shared fixtures (unit test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveGraph, type Identity } from './live-graph.js';
import type { ConnEvent } from '../events/types.js';
import { identity, ev, connection, counters, nextCookie, web, db, cache, WEB_DB, WEB_CACHE, container, refused } from '../../test/support/fixtures.js';

/** Both ends of one local connection: client events then server events, then closes. */
function pair(client: { ip: string; port: number; cg: number; pid: number }, server: { ip: string; port: number; cg: number }, bytes: number, t = 1000) {
  return connection({ ip: client.ip, cg: client.cg, pid: client.pid }, server, t, { sent: bytes, received: 10, rttUs: 50, clientPort: client.port });
}

test('both local ends of a connection make one edge, replicas one service node', () => {
  const g = new LiveGraph(identity);
  const a = pair({ ip: '10.0.0.2', port: 40000, cg: 100, pid: 5 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 1000);
  const b = pair({ ip: '10.0.0.3', port: 40001, cg: 101, pid: 6 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 2000);
  g.ingest([...a.open, ...b.open], 1000);
  let snap = g.snapshot({}, 1001);
  assert.deepEqual(snap.edges.map((e) => e.id), ['svc:shop/web|svc:shop/db|5432|tcp']);
  assert.equal(snap.edges[0].connections.active, 2);
  assert.equal(snap.nodes.find((n) => n.id === 'svc:shop/web')!.instances.length, 2);
  g.ingest([...a.close, ...b.close], 1100);
  snap = g.snapshot({}, 1101);
  const e = snap.edges[0];
  assert.equal(e.connections.opened, 2);
  assert.equal(e.connections.active, 0);
  assert.equal(e.connections.closed, 2);
  assert.equal(e.connections.failed, 0);
  assert.equal(e.bytes.sent, 3000, 'client->server bytes counted once, not twice');
  assert.equal(e.bytes.received, 20);
  assert.equal(e.duration.meanMs, 50);
  assert.equal(e.rtt.samples, 2);
});

test('a refused connect to a host port fails on an edge to the host, with a sample', () => {
  const g = new LiveGraph(identity);
  const c = nextCookie();
  g.ingest([
    ev({ type: 'connect', cookie: c, saddr: '10.0.0.2', daddr: '127.0.0.1', dport: 9, cgroupId: 100, pid: 5, established: false }),
    ev({ type: 'close', cookie: c, saddr: '10.0.0.2', sport: 40010, daddr: '127.0.0.1', dport: 9, cgroupId: 100, pid: 5, established: false, failure: 'refused', error: 'ECONNREFUSED' }),
  ], 1000);
  const snap = g.snapshot({}, 1000);
  assert.equal(snap.edges.length, 1);
  const e = snap.edges[0];
  assert.equal(e.target, 'proc:host');
  assert.equal(e.port, 9);
  assert.equal(e.connections.opened, 0);
  assert.equal(e.connections.failedBy.refused, 1);
  const d = g.edgeDetail(e.id, 1000)!;
  assert.equal(d.recentFailures[0].reason, 'refused');
  assert.equal(d.recentFailures[0].clientPid, 5);
});

test('a client that closed with data unread (wrk stopping) reset its server by the kernel rule: not a failure; a server that did it to its client is one', () => {
  const failed = (unreadBy: 'client' | 'server') => {
    const g = new LiveGraph(identity);
    const c = connection(web, db, 1000, { sent: 300, received: 20 });
    const [closer, peer] = unreadBy === 'client' ? [0, 1] : [1, 0];
    Object.assign(c.close[closer], { resetSent: true, resetUnread: true, failure: null });
    Object.assign(c.close[peer], { resetReceived: true, failure: 'reset', error: 'ECONNRESET' });
    g.ingest([...c.open, c.close[closer], c.close[peer]], 1060);
    return g.snapshot({}, 1060).edges.find((x) => x.id === WEB_DB)!.connections;
  };
  assert.deepEqual([failed('client').failed, failed('client').closed], [0, 1]);
  assert.deepEqual([failed('server').failed, failed('server').failedBy.reset], [1, 1]);
});

test('a server end reset by its client\'s unread close is no failure when the server\'s close comes first (as on one host): taken back with its sample', () => {
  for (const split of [false, true]) {
    const g = new LiveGraph(identity);
    g.startIntervals();
    const c = connection(web, db, 1000, { sent: 300, received: 20 });
    Object.assign(c.close[0], { resetSent: true, resetUnread: true, failure: null }); // the client (a TLS close_notify left unread)
    Object.assign(c.close[1], { resetReceived: true, failure: 'reset', error: 'ECONNRESET' }); // nginx in FIN_WAIT1
    if (split) {
      g.ingest([...c.open, c.close[1]], 1050);
      assert.equal(g.snapshot({}, 1050).edges.find((x) => x.id === WEB_DB)!.connections.failed, 1, 'the server end alone: reset');
      g.ingest([c.close[0]], 1060);
    } else g.ingest([...c.open, c.close[1], c.close[0]], 1060);
    const e = g.snapshot({}, 1060).edges.find((x) => x.id === WEB_DB)!;
    assert.deepEqual([e.connections.failed, e.connections.failedBy.reset, e.connections.closed], [0, 0, 1], `split ${split}`);
    assert.deepEqual(g.edgeDetail(WEB_DB, 1060)!.recentFailures, [], 'no sample left');
    const iv = g.drainInterval(1070);
    assert.deepEqual([iv.failures.length, iv.edges.find((x) => x.edge.id === WEB_DB)?.failed ?? 0], [0, 0], 'nor in the history');
  }
});

test('an edge names the client instances that made its connections, most recent last: not every instance of its client node', () => {
  const g = new LiveGraph(identity);
  const web2 = { ip: '10.0.0.3', cg: 101 }; // web-2, a second replica of shop/web
  g.ingest([...connection(web, db, 1000).open, ...connection(web2, cache, 1000).open], 1000);
  g.ingest([...connection(web, db, 2000).open], 2000);
  const snap = g.snapshot({}, 2000);
  assert.deepEqual(snap.nodes.find((n) => n.id === 'svc:shop/web')!.instances.map((i) => i.name).sort(), ['web-1', 'web-2']);
  assert.deepEqual(snap.edges.find((x) => x.id === WEB_DB)!.clientInstances, ['web-1'], 'only the replica that called the db');
  assert.deepEqual(snap.edges.find((x) => x.id === WEB_CACHE)!.clientInstances, ['web-2']);
  g.ingest([...connection(web2, db, 3000).open], 3000);
  assert.deepEqual(g.snapshot({}, 3000).edges.find((x) => x.id === WEB_DB)!.clientInstances, ['web-1', 'web-2'], 'most recent last');
});

test('a failure sample writes an IPv6 endpoint in brackets, so its port stays readable', () => {
  const g = new LiveGraph(identity);
  const c = nextCookie();
  g.ingest([
    ev({ type: 'connect', cookie: c, family: 6, saddr: '::1', daddr: '::1', dport: 9, cgroupId: 100, pid: 5, established: false }),
    ev({ type: 'close', cookie: c, family: 6, saddr: '::1', sport: 40010, daddr: '::1', dport: 9, cgroupId: 100, pid: 5, established: false, failure: 'refused', error: 'ECONNREFUSED' }),
  ], 1000);
  const f = g.edgeDetail(g.snapshot({}, 1000).edges[0].id, 1000)!.recentFailures[0];
  assert.deepEqual([f.clientAddr, f.serverAddr], ['[::1]:40010', '[::1]:9']);
});

test('a connection that opened and closed between two drains comes as its two closes (handshakes folded): the same edge and numbers as from its whole life', () => {
  const numbers = (g: LiveGraph) => {
    const e = g.snapshot({}, 2000).edges.find((x) => x.id === WEB_DB)!;
    return { opened: e.connections.opened, closed: e.connections.closed, active: e.connections.active, sent: e.bytes.sent, received: e.bytes.received, ms: e.duration.meanMs, rtt: e.rtt.samples };
  };
  const whole = new LiveGraph(identity), folded = new LiveGraph(identity), reversed = new LiveGraph(identity);
  // two lives of one client port, one after the other
  const a = connection(web, db, 1000, { sent: 300, received: 20, clientPort: 41000 }), b = connection(web, db, 1100, { sent: 30, received: 2, clientPort: 41000 });
  whole.ingest([...a.open, ...a.close], 1060);
  whole.ingest([...b.open, ...b.close], 1160);
  folded.ingest([...a.close, ...b.close], 1160);
  reversed.ingest([a.close[1], a.close[0], b.close[1], b.close[0]], 1160);
  const want = { opened: 2, closed: 2, active: 0, sent: 330, received: 22, ms: 50, rtt: 2 };
  assert.deepEqual(numbers(whole), want);
  assert.deepEqual(numbers(folded), want, 'client close first');
  assert.deepEqual(numbers(reversed), want, 'server close first');
  assert.equal(folded.snapshot({}, 2000).edges.length, 1, 'no edge from one end alone');
  assert.equal(folded.size().connections, 0, 'nothing left waiting');
});

test('the two closes of a client in a namespace of its own on this host (an outside-looking address) make one connection, whichever comes first', () => {
  for (const order of [[1, 0], [0, 1]]) {
    const g = new LiveGraph(identity);
    const c = connection({ ip: '198.51.100.9', cg: 1 }, db, 1000, { sent: 5 });
    g.ingest(order.map((i) => c.close[i]), 1060);
    const snap = g.snapshot({}, 1060);
    assert.deepEqual(snap.edges.map((e) => [e.id, e.connections.opened, e.bytes.sent]), [['client:198.51.100.9|svc:shop/db|5432|tcp', 1, 5]], `order ${order}`);
    assert.equal(g.remoteClients()[0].connections, 1);
  }
});

test('a server in a namespace of its own on this host (an outside-looking address), its handshake folded away: the client placed at its handshake still meets the server\'s close after its own', () => {
  for (const serverFirst of [false, true]) {
    const g = new LiveGraph(identity);
    const c = connection(web, { ip: '198.51.100.20', cg: 0, port: 5432 }, 1000, { sent: 9, received: 4 });
    const closes = serverFirst ? [c.close[1], c.close[0]] : c.close;
    g.ingest([c.open[1], ...closes], 1060);
    const edges = g.snapshot({}, 1060).edges.map((e) => [e.id, e.connections.opened, e.connections.closed, e.bytes.sent, e.bytes.received]);
    assert.deepEqual(edges, [['svc:shop/web|ext:198.51.100.20|5432|tcp', 1, 1, 9, 4]], `server close first: ${serverFirst}`);
    assert.equal(g.size().connections, 0, 'nothing left waiting');
  }
});

test('a closed client kept to the end of its batch does not hide the DNAT partner of its reused client port', () => {
  // web:41000 -> an outside server (placed at its handshake, closed), then the same client port to db through DNAT
  // (a published port, then a ClusterIP-like address that looks outside), db's handshake folded away, in one batch
  const cases = [['192.168.1.1', 15432, true], ['192.168.1.1', 15432, false], ['10.96.0.10', 5432, false]] as const;
  for (const [vip, vport, clientCloseFirst] of cases) {
    const g = new LiveGraph(identity);
    const ext = connection(web, { ip: '203.0.113.9', cg: 0, port: 443 }, 1000, { sent: 100, clientPort: 41000 });
    const c = nextCookie(), s = nextCookie();
    const cb = { startTime: 1010, saddr: '10.0.0.2', sport: 41000, daddr: vip, dport: vport, cgroupId: 100, pid: 5, comm: 'client' };
    const sb = { startTime: 1010, role: 'server' as const, saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: 41000, cgroupId: 102, pid: 7, comm: 'server' };
    const cClose = ev({ ...cb, time: 1040, type: 'close', cookie: c, bytesSent: 7 });
    const sClose = ev({ ...sb, time: 1040, type: 'close', cookie: s, bytesReceived: 7 });
    g.ingest([ext.open[1], ext.close[0], ev({ ...cb, time: 1010, type: 'established', cookie: c }), ...(clientCloseFirst ? [cClose, sClose] : [sClose, cClose])], 1060);
    const edges = g.snapshot({}, 1060).edges.map((e) => [e.id, e.connections.opened, e.bytes.sent]).sort();
    assert.deepEqual(edges, [['svc:shop/web|ext:203.0.113.9|443|tcp', 1, 100], [WEB_DB, 1, 7]], `${vip}, client close first: ${clientCloseFirst}`);
    assert.equal(g.size().connections, 0);
  }
});

test('a client through a ClusterIP-like address (it looks outside) and its DNAT server, its handshake folded away: one connection, whichever close comes first', () => {
  for (const clientCloseFirst of [true, false]) {
    const g = new LiveGraph(identity);
    const c = nextCookie(), s = nextCookie();
    const cb = { startTime: 1000, saddr: '10.0.0.2', sport: 41000, daddr: '10.96.0.10', dport: 5432, cgroupId: 100, pid: 5, comm: 'client' };
    const sb = { startTime: 1000, role: 'server' as const, saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: 41000, cgroupId: 102, pid: 7, comm: 'server' };
    const cClose = ev({ ...cb, time: 1040, type: 'close', cookie: c, bytesSent: 7 });
    const sClose = ev({ ...sb, time: 1040, type: 'close', cookie: s, bytesReceived: 7 });
    g.ingest([ev({ ...cb, time: 1000, type: 'established', cookie: c }), ...(clientCloseFirst ? [cClose, sClose] : [sClose, cClose])], 1060);
    const edges = g.snapshot({}, 1060).edges.map((e) => [e.id, e.connections.opened, e.connections.closed, e.bytes.sent]);
    assert.deepEqual(edges, [[WEB_DB, 1, 1, 7]], `client close first: ${clientCloseFirst}`);
    assert.equal(g.size().connections, 0);
  }
});

test('a batch cut short by an error: the next tick finishes the closed connections it kept', () => {
  let boom = true;
  const failing: Identity = { ...identity, resolveAddress: (ip: string, port?: number) => {
    if (ip === '203.0.113.66' && boom) { boom = false; throw new Error('identity failed'); }
    return identity.resolveAddress(ip, port);
  } };
  const g = new LiveGraph(failing);
  const a = connection(web, { ip: '198.51.100.20', cg: 0, port: 5432 }, 1000, { sent: 9 });
  const b = connection(web, { ip: '203.0.113.66', cg: 0, port: 443 }, 1000);
  assert.throws(() => g.ingest([a.open[1], a.close[0], b.open[1]], 1060));
  g.tick(1100);
  const e = g.snapshot({}, 1100).edges.find((x) => x.id.includes('198.51.100.20'))!;
  assert.deepEqual([e.connections.opened, e.connections.closed, e.connections.active], [1, 1, 0]);
  assert.equal(g.size().connections, 1, 'only b, whose placing failed, is left');
});

test('the server\'s handshake folded away: the client\'s handshake and both closes make one connection, whichever close comes first, beside another connection on the same client port', () => {
  for (const serverFirst of [true, false]) {
    const g = new LiveGraph(identity);
    // the same client port towards an outside server (open, then closed) and towards db, in one batch
    const ext = connection(web, { ip: '203.0.113.9', cg: 0, port: 443 }, 1000, { sent: 100, clientPort: 41000 });
    const c = connection(web, db, 1010, { sent: 7, clientPort: 41000 });
    const closes = serverFirst ? [c.close[1], c.close[0]] : c.close;
    g.ingest([ext.open[1], ext.close[0], c.open[1], ...closes], 1060);
    const edges = g.snapshot({}, 1060).edges.map((e) => [e.id, e.connections.opened, e.bytes.sent]).sort();
    assert.deepEqual(edges, [['svc:shop/web|ext:203.0.113.9|443|tcp', 1, 100], [WEB_DB, 1, 7]], `server close first: ${serverFirst}`);
    assert.equal(g.size().connections, 0, 'nothing left waiting');
  }
});

test('one end\'s close whose other end never comes is placed alone at the end of its batch, by address', () => {
  const g = new LiveGraph(identity);
  const c = connection(web, db, 1000, { sent: 5, received: 7 });
  g.ingest([ev({ ...c.close[0] })], 1060);
  const e = g.snapshot({}, 1060).edges.find((x) => x.id === WEB_DB);
  assert.ok(e, 'placed without a tick');
  assert.equal(e.connections.opened, 1);
  assert.equal(e.connections.closed, 1);
  assert.equal(e.bytes.sent, 5);
});

test('a remote client and an external server appear, and the clients list counts the remote one', () => {
  const g = new LiveGraph(identity);
  g.ingest([
    ev({ type: 'established', role: 'server', saddr: '10.0.0.4', sport: 5432, daddr: '198.51.100.7', dport: 50000, cgroupId: 102 }),
    ev({ type: 'established', role: 'client', saddr: '10.0.0.2', sport: 41000, daddr: '203.0.113.9', dport: 443, cgroupId: 100 }),
  ], 1000);
  const snap = g.snapshot({}, 1000);
  assert.deepEqual(snap.edges.map((e) => e.id).sort(), ['client:198.51.100.7|svc:shop/db|5432|tcp', 'svc:shop/web|ext:203.0.113.9|443|tcp']);
  assert.equal(g.remoteClients()[0].ip, '198.51.100.7');
  assert.equal(g.snapshot({ include: new Set() }, 1000).edges.length, 0, 'include= narrows to containers');
  assert.equal(g.snapshot({ group: 'other' }, 1000).edges.length, 0);
});

test('docker-proxy on a published port is replaced by the container behind it', () => {
  const proxy = { kind: 'process', pid: 9, comm: 'docker-proxy', exe: 'docker-proxy', cmdline: '', unit: null } as const;
  const id2: Identity = { ...identity, resolveOwner: (q) => (q.cgroupId === 9 ? proxy : identity.resolveOwner(q)) };
  const g2 = new LiveGraph(id2);
  const a = pair({ ip: '127.0.0.1', port: 42000, cg: 1, pid: 5 }, { ip: '127.0.0.1', port: 15432, cg: 9 }, 100);
  const hop = pair({ ip: '10.0.0.1', port: 43000, cg: 9, pid: 9 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 100);
  g2.ingest([...a.open, ...hop.open, ...a.close, ...hop.close], 1000);
  const snap = g2.snapshot({}, 1000);
  assert.deepEqual(snap.edges.map((e) => e.id), ['proc:client|svc:shop/db|5432|tcp']);
});

test('idle edges leave the live view and the delta says so; deltas carry only changes', () => {
  const g = new LiveGraph(identity, { idleMs: 1000 });
  const a = pair({ ip: '10.0.0.2', port: 40000, cg: 100, pid: 5 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 1000);
  g.ingest([...a.open, ...a.close], 1000);
  const v0 = g.changesSince(0, {}, 1000);
  assert.equal(v0.delta.edges.length, 1);
  const quiet = g.changesSince(v0.version, {}, 200_000);
  assert.equal(quiet.delta.edges.length, 0);
  assert.equal(quiet.delta.nodes.length, 0);
  g.tick(200_000);
  const after = g.changesSince(v0.version, {}, 200_000);
  assert.deepEqual(after.delta.removedEdges, ['svc:shop/web|svc:shop/db|5432|tcp']);
  assert.equal(g.snapshot({}, 200_000).edges.length, 0);
  assert.equal(g.counters.expiredEdges, 1);
});

test('beyond the cap, outside endpoints collapse into one node, counted', () => {
  const g = new LiveGraph(identity, { maxExternalNodes: 2 });
  for (let i = 1; i <= 5; i++) g.ingest([ev({ role: 'client', saddr: '10.0.0.2', sport: 41000 + i, daddr: `203.0.113.${i}`, dport: 443, cgroupId: 100 })], 1000);
  const ids = g.snapshot({}, 1000).nodes.map((n) => n.id).filter((id) => id.startsWith('ext:')).sort();
  assert.deepEqual(ids, ['ext:203.0.113.1', 'ext:203.0.113.2', 'ext:other']);
  assert.equal(g.counters.collapsedEndpoints, 3);
});

test('a client port reused towards two servers pairs each server with its own client (discovery order)', () => {
  const g = new LiveGraph(identity);
  const existing = (p: Partial<ConnEvent>) => ev({ type: 'existing', cookie: 0, startTime: 0, midflight: true, ...p });
  g.ingest([
    // two client sockets on the same local port: one to db, one to an outside server
    existing({ role: 'client', saddr: '10.0.0.2', sport: 40500, daddr: '10.0.0.4', dport: 5432, cgroupId: 100 }),
    existing({ role: 'client', saddr: '10.0.0.2', sport: 40500, daddr: '203.0.113.5', dport: 5432, cgroupId: 100 }),
    // then the server ends, as discovery reports them after the clients
    existing({ role: 'server', saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: 40500, cgroupId: 102 }),
  ], 1000);
  g.tick(5000);
  const snap = g.snapshot({}, 5000);
  assert.deepEqual(snap.edges.map((e) => `${e.id}=${e.connections.active}`).sort(), [
    'svc:shop/web|ext:203.0.113.5|5432|tcp=1',
    'svc:shop/web|svc:shop/db|5432|tcp=1',
  ]);
});

test('a connection found open at start is active, not opened, live and in the drained interval; its close is counted', () => {
  const g = new LiveGraph(identity);
  g.startIntervals();
  const existing = (p: Partial<ConnEvent>) => ev({ type: 'existing', cookie: 0, startTime: 0, midflight: true, ...p });
  g.ingest([
    existing({ role: 'client', saddr: '10.0.0.2', sport: 40600, daddr: '10.0.0.4', dport: 5432, cgroupId: 100 }),
    existing({ role: 'server', saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: 40600, cgroupId: 102 }),
  ], 1000);
  g.tick(5000);
  const n = () => g.snapshot({}, 5000).edges.find((x) => x.id === WEB_DB)!.connections;
  assert.deepEqual([n().opened, n().active], [0, 1]);
  const row = g.drainInterval(5000).edges.find((r) => r.edge.id === WEB_DB)!;
  assert.deepEqual([row.opened, row.active], [0, 1]);
  const c = connection(web, db, 6000, { sent: 10 });
  g.ingest([...c.open, ...c.close], 6100);
  assert.deepEqual([n().opened, n().active, n().closed], [1, 1, 1], 'a new one beside it is opened');
});

test('counter updates move bytes and retransmits onto the edge; each drained interval has exact sums of its own', () => {
  const g = new LiveGraph(identity);
  g.startIntervals();
  const c = connection(web, db, 1000, { sent: 1000, received: 100, rttUs: 250 });
  g.ingest(c.open, 1000);
  g.count([counters({ cookie: c.cookies.client, bytesSent: 500, bytesReceived: 20, retransmits: 2, srttUs: 80, pid: 5 })], 2000);
  let d = g.drainInterval(2500);
  let row = d.edges.find((r) => r.edge.id === WEB_DB)!;
  assert.deepEqual([row.opened, row.closed, row.bytesSent, row.bytesReceived, row.retransmits, row.active], [1, 0, 500, 20, 2, 1]);
  assert.deepEqual(d.topology.map((t) => t.type).sort(), ['edge_appeared', 'node_appeared', 'node_appeared']);
  assert.deepEqual(d.topology.map((t) => t.time), [1000, 1000, 1000], 'when they appeared on the map, not when the interval was drained (2500)');
  assert.ok(d.nodes.has('svc:shop/web') && d.nodes.has('svc:shop/db'));
  assert.equal(row.lastSeen, 2000, 'the edge\'s last activity (the counters at 2000), not the drain (2500)');
  const live = g.snapshot({}, 2500).edges[0];
  assert.equal(live.bytes.sent, 500);
  assert.equal(live.retransmits, 2, 'live: a running total');
  assert.equal(live.rates['10s'].retransmits, 0, 'rates read complete seconds: not the current one yet');
  assert.ok(g.snapshot({}, 3000).edges[0].rates['10s'].retransmits! > 0, 'and a rate, for "lately", once its second is complete');

  g.count([counters({ cookie: c.cookies.client, bytesSent: 800, bytesReceived: 20, retransmits: 3 })], 3000);
  g.ingest(c.close, 3050);
  d = g.drainInterval(4000);
  row = d.edges.find((r) => r.edge.id === WEB_DB)!;
  assert.deepEqual([row.opened, row.closed, row.bytesSent, row.bytesReceived, row.retransmits, row.active], [0, 1, 500, 80, 1, 0], 'only what moved since the last drain');
  assert.equal(row.rttMeanUs, 250);
  assert.equal(row.durMeanMs, 50);
  assert.equal(row.lastSeen, 3050, 'its close');
  assert.equal(d.topology.length, 0);
  assert.equal(g.drainInterval(5000).edges.length, 0, 'nothing moved, nothing open: no row');
});

test('an interval\'s RTT p95 comes from the connections that closed in it, not from older ones', () => {
  const g = new LiveGraph(identity);
  g.startIntervals();
  for (let i = 0; i < 30; i++) { const c = connection(web, db, 1000 + i, { rttUs: 10_000 }); g.ingest([...c.open, ...c.close], 1100 + i); }
  assert.equal(g.drainInterval(2000).edges[0].rttP95Us, 10_000);
  for (let i = 0; i < 30; i++) { const c = connection(web, db, 3000 + i, { rttUs: 100 + i }); g.ingest([...c.open, ...c.close], 3100 + i); }
  const row = g.drainInterval(4000).edges[0];
  assert.equal(row.rttP95Us, 128, 'p95 of 100..129');
  assert.equal(row.rttMeanUs, 114.5);
  assert.equal(g.snapshot({}, 4000).edges[0].rtt.p95Us, 10_000, 'the live view keeps its recent-connections p95');
});

test('failures and topology are reported per interval; an edge that came and went in between still gives its counts', () => {
  const g = new LiveGraph(identity, { idleMs: 1000 });
  g.startIntervals();
  const c = connection(web, db, 1000, { sent: 300 });
  g.ingest([...c.open, ...c.close], 1050);
  g.tick(5000); // idle: the edge and its nodes leave the map before any drain
  const d = g.drainInterval(5000);
  assert.equal(d.edges.length, 1, 'its numbers are not lost');
  assert.deepEqual([d.edges[0].opened, d.edges[0].bytesSent, d.edges[0].active], [1, 300, 0]);
  assert.deepEqual(d.topology, [], 'appeared and vanished within one interval: no change to report');
  assert.ok(d.nodes.has('svc:shop/web'), 'nodes of the rows are described even when gone');
});

// Issue #8: at start-up, a client port of a connection that predates the agent is reused by a new connection
// (towards another server) while discovery is still reporting: each end must stay with its own connection.
for (const [where, cl, sv, other] of [
  ['loopback', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
  ['a bridge', '10.0.0.2', '10.0.0.4', '10.0.0.5'],
] as const) {
  test(`a client port reused during discovery does not pair with the old connection's other end (${where})`, () => {
    const g = new LiveGraph(identity);
    g.discovering = true;
    const old = (p: Partial<ConnEvent>) => ev({ type: 'existing', cookie: 0, startTime: 0, midflight: true, time: 1000, netns: 1, ...p });
    const cg = where === 'loopback' ? { c: 1, s: 1 } : { c: 100, s: 102 };
    // Old connection A: client :41602 -> server :5000, its server end reported first...
    g.ingest([old({ role: 'server', saddr: sv, sport: 5000, daddr: cl, dport: 41602, pid: 15, comm: 'serverA', cgroupId: cg.s })], 1000);
    // ...then, before its client end, a new connection B from the same client endpoint to another server (:6000).
    const b = nextCookie(), bs = nextCookie();
    const base = { saddr: cl, daddr: other, dport: 6000, pid: 20, comm: 'clientB', cgroupId: where === 'loopback' ? 1 : 100, startTime: 2000, netns: 1 };
    g.ingest([
      ev({ ...base, type: 'connect', cookie: b, sport: 0, established: false, time: 2000 }),
      ev({ ...base, type: 'established', cookie: b, sport: 41602, time: 2001 }),
      ev({ type: 'established', role: 'server', cookie: bs, saddr: other, sport: 6000, daddr: cl, dport: 41602, pid: 30, comm: 'serverB', cgroupId: where === 'loopback' ? 1 : 103, startTime: 2000.5, time: 2001, netns: 1 }),
    ], 2001);
    // A new server socket on the old client's endpoint too (connection C to :7000), before A's client end is reported.
    const cs = nextCookie();
    g.ingest([ev({ type: 'established', role: 'server', cookie: cs, saddr: other, sport: 7000, daddr: cl, dport: 41603, pid: 31, comm: 'serverC', startTime: 2100, time: 2101, netns: 1, cgroupId: 1 })], 2101);
    g.ingest([old({ role: 'client', saddr: cl, sport: 41603, daddr: sv, dport: 5001, pid: 17, comm: 'clientA2', cgroupId: cg.c })], 2200);
    g.ingest([old({ role: 'client', saddr: cl, sport: 41602, daddr: sv, dport: 5000, pid: 16, comm: 'clientA', cgroupId: cg.c })], 2300);
    g.discovering = false;
    g.tick(5000);
    const edges = g.snapshot({}, 5000).edges.map((e) => `${e.source}|${e.target}|${e.port}=${e.connections.active}`).sort();
    const n = (comm: string, c: typeof WEB_DB | null = null) => c ?? `proc:${comm}`;
    if (where === 'loopback') {
      assert.deepEqual(edges, [
        `${n('clientA')}|${n('serverA')}|5000=1`,
        `${n('clientA2')}|proc:host|5001=1`, // its server end never came: placed by address
        `${n('clientB')}|${n('serverB')}|6000=1`,
        `proc:host|${n('serverC')}|7000=1`,
      ].sort());
    } else {
      assert.deepEqual(edges, [
        'svc:shop/web|svc:shop/cache|6000=1',
        'svc:shop/web|svc:shop/db|5000=1',
        'svc:shop/web|svc:shop/db|5001=1',
        `svc:shop/web|${n('serverC')}|7000=1`,
      ].sort());
    }
  });
}

test('a socket met midway with no role, before its listener is known (start-up), is the server when only its peer uses a client port', () => {
  const g = new LiveGraph(identity);
  // db's accepted socket, first seen at its close (its handshake predates the agent; discovery has not listed db's listener yet)
  g.ingest([ev({ type: 'close', role: 'unknown', midflight: true, saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: 51618, cgroupId: 102, pid: 7 })], 1000);
  // and a client socket met the same way, on a client port towards a server port
  g.ingest([ev({ type: 'close', role: 'unknown', midflight: true, saddr: '10.0.0.2', sport: 51620, daddr: '10.0.0.4', dport: 5432, cgroupId: 100, pid: 5 })], 1000);
  g.tick(5000);
  assert.deepEqual(g.snapshot({}, 5000).edges.map((e) => e.id), [WEB_DB], 'both on web -> db:5432, none on db -> web:51618');
});

test('a renamed container is gone from its old name\'s node: not running there, and not one of a new container\'s instances that takes the name', () => {
  const reports = container('reports', '10.0.0.9', 109, null);
  const late = { ...container('reports', '10.0.0.10', 110, null), id: 'f'.repeat(64) }; // a new container given the old name later
  const all = [reports, late];
  const id: Identity = {
    resolveOwner: (q) => { const c = all.find((x) => x.cgroupId === q.cgroupId); return c ? { kind: 'container', container: c, pid: q.pid, comm: '' } : identity.resolveOwner(q); },
    resolveAddress: (ip, port) => identity.resolveAddress(ip, port),
  };
  const g = new LiveGraph(id);
  const c1 = connection({ ip: '10.0.0.9', cg: 109 }, db, 1000);
  g.ingest([...c1.open, ...c1.close], 1000);
  g.tick(2000);
  const running = () => g.snapshot().nodes.find((n) => n.id === 'ctr:reports')!.instances.map((i) => `${i.name}:${i.state}${i.renamedTo ? `>${i.renamedTo}` : ''}`);
  assert.deepEqual(running(), ['reports:running']);
  g.containerRenamed('ctr:reports', reports.id, 'reports-legacy', 3000);
  assert.deepEqual(running(), ['reports:stopped>reports-legacy'], 'under its old name it is gone');
  const c2 = connection({ ip: '10.0.0.10', cg: 110 }, db, 4000);
  g.ingest([...c2.open, ...c2.close], 4000);
  g.tick(5000);
  assert.deepEqual(running(), ['reports:stopped>reports-legacy', 'reports:running'], 'one running, not two');
});

test('a published port whose container refuses docker-proxy\'s connect: the client\'s reset by docker-proxy is counted as refused', () => {
  const proxy = { kind: 'process', pid: 9, comm: 'docker-proxy', exe: 'docker-proxy', cmdline: '', unit: null } as const;
  const id2: Identity = { ...identity, resolveOwner: (q) => (q.cgroupId === 9 ? proxy : identity.resolveOwner(q)) };
  const run = (withHop: boolean) => {
    const g = new LiveGraph(id2);
    const a = pair({ ip: '127.0.0.1', port: 42000, cg: 1, pid: 5 }, { ip: '127.0.0.1', port: 15432, cg: 9 }, 0);
    const reset = a.close.map((e, i) => (i === 0 ? { ...e, failure: 'reset' as const, error: 'ECONNRESET' } : e));
    const hop = withHop ? refused({ ip: '10.0.0.1', cg: 9, pid: 9 }, { ip: '10.0.0.4', cg: 102, port: 5432 }, 1010) : [];
    g.ingest([...a.open, ...hop, ...reset], 1000);
    g.tick(1500);
    const e = g.snapshot({}, 1500).edges.find((x) => x.id === 'proc:client|svc:shop/db|5432|tcp')!;
    return { failedBy: Object.entries(e.connections.failedBy).filter(([, n]) => n).map(([r, n]) => `${r} ${n}`), error: g.edgeDetail(e.id, 1500)!.recentFailures[0]?.error };
  };
  assert.deepEqual(run(true), { failedBy: ['refused 1'], error: 'ECONNREFUSED (docker-proxy\'s connect to the container)' }, 'nothing listens behind the published port');
  assert.deepEqual(run(false).failedBy, ['reset 1'], 'a reset with no failed hop stays a reset');
});

test('a call to a vacant container address makes an outside server that says so, named by DNS or not', () => {
  const vacant = { network: 'shop_default', lastHolder: 'db-old', lastHeldUntil: 900, group: 'shop' };
  const withVacant: Identity = { ...identity, resolveAddress: (ip: string, port?: number) =>
    ip === '10.0.0.99' ? { kind: 'external', vacant } : identity.resolveAddress(ip, port) };
  const g = new LiveGraph(withVacant);
  g.ingest([...refused(web, { ip: '10.0.0.99', cg: 0, port: 5432 }, 1000), ...refused(web, { ip: '203.0.113.9', cg: 0, port: 443 }, 1000)], 1060);
  const s = g.snapshot({}, 1060);
  assert.deepEqual(s.nodes.find((n) => n.id === 'ext:10.0.0.99')!.vacant, vacant);
  assert.equal(s.nodes.find((n) => n.id === 'ext:10.0.0.99')!.group, 'shop', 'its project\'s own stale address: inside the project');
  assert.equal(s.nodes.find((n) => n.id === 'ext:203.0.113.9')!.vacant, undefined, 'a real outside server is not vacant');
});

test('a node\'s detail lists the ports its instances listen on, with the host bindings that publish them, and drops one that closed', () => {
  const g = new LiveGraph(identity);
  const listen = (port: number, cgroupId: number, type: 'listen' | 'listen_close' = 'listen') =>
    ev({ type, role: 'server', saddr: '0.0.0.0', sport: port, cgroupId, pid: 40, comm: 'postgres', netns: 7 });
  // db publishes 5432 as 15432 (fixtures); a client makes db a node
  g.ingest([listen(5432, db.cg), listen(9187, db.cg), listen(8080, web.cg), ...connection(web, db, 1000).open], 1060);
  assert.deepEqual(g.nodeDetail('svc:shop/db', 1060)!.listening, [{ port: 5432, published: ['0.0.0.0:15432'] }, { port: 9187, published: [] }]);
  assert.deepEqual(g.nodeDetail('svc:shop/web', 1060)!.listening, [{ port: 8080, published: [] }]);
  g.ingest([listen(9187, db.cg, 'listen_close')], 1070);
  assert.deepEqual(g.nodeDetail('svc:shop/db', 1070)!.listening!.map((p) => p.port), [5432]);
});

test('traffic on a connection placed earlier keeps its nodes seen; their version moves at most every nodeSeenStepMs', () => {
  const g = new LiveGraph(identity);
  const c = connection(web, db, 1000, { sent: 10 });
  g.ingest(c.open, 1000);
  const node = (id: string, at: number) => g.snapshot({}, at).nodes.find((n) => n.id === id);
  const v0 = g.currentVersion;
  for (let t = 2000; t <= 200_000; t += 1000) g.count([counters({ cookie: c.cookies.client, bytesSent: t, bytesReceived: t, pid: 5 })], t);
  assert.equal(node('svc:shop/db', 200_000)?.lastSeen, 200_000, 'a server busy on a keep-alive connection: seen at its last traffic, not its connection\'s start');
  assert.ok(node('svc:shop/db', 200_000), 'and kept on a 5-minute map');
  assert.ok(g.snapshot({ windowMs: 60_000 }, 200_500).nodes.some((n) => n.id === 'svc:shop/web'), 'and on a 1-minute map');
  const moved = g.changesSince(v0, {}, 200_000).delta.nodes.map((n) => n.id).sort();
  assert.deepEqual(moved, ['svc:shop/db', 'svc:shop/web']);
  // between two steps a delta carries the edge (its rates move) but not its nodes
  const v1 = g.currentVersion;
  g.count([counters({ cookie: c.cookies.client, bytesSent: 300_000, bytesReceived: 300_000, pid: 5 })], 200_500); // 4.5 s after the last move (196 s)
  assert.deepEqual(g.changesSince(v1, {}, 200_500).delta.nodes, [], 'half a second later: the version did not move');
  assert.equal(node('svc:shop/db', 200_500)?.lastSeen, 200_500, 'though lastSeen did');
});

test('instances forget pids whose process exited: a container keeps its new one, a host process\'s instance is stopped', () => {
  const dead = new Set<number>();
  const g = new LiveGraph({ ...identity, processRunning: (pid) => !dead.has(pid) });
  const T = 1_000_000;
  const host = { ip: '127.0.0.1', cg: 1, pid: 50 };
  for (const [client, t] of [[{ ...web, pid: 60 }, T], [{ ...web, pid: 61 }, T + 1000], [host, T + 2000]] as const) {
    const c = connection(client, db, t);
    g.ingest([...c.open, ...c.close], t + 100);
  }
  g.tick(T + 3000);
  const inst = (id: string) => g.snapshot().nodes.find((n) => n.id === id)!.instances;
  assert.deepEqual(inst('svc:shop/web').map((i) => i.pids), [[60, 61]]);
  dead.add(60); // the container restarted: its first process is gone
  dead.add(50); // and so is the host client
  const v = g.currentVersion;
  g.tick(T + 3000 + 10_000);
  assert.deepEqual(inst('svc:shop/web').map((i) => i.pids), [[60, 61]], 'not before the sweep is due');
  g.tick(T + 3000 + 31_000);
  assert.deepEqual(inst('svc:shop/web').map((i) => [i.pids, i.state]), [[[61], 'running']]);
  const h = g.snapshot().nodes.find((n) => n.kind === 'process' && n.instances.some((i) => i.pids.includes(50)))!;
  assert.deepEqual(h.instances.map((i) => [i.pids, i.state]), [[[50], 'stopped']], 'named by its pid still, and stopped');
  assert.ok(g.currentVersion > v, 'deltas carry the change');
});
