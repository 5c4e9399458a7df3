// Requests (L7) on the live map: per-socket deltas onto edges (unit test, stand-in identity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveGraph } from './live-graph.js';
import { RequestTotals } from './request-totals.js';
import { latencySummary, quantileUs } from './latency.js';
import type { L7Sample } from '../l7/types.js';
import { nonzeroOf } from '../events/decode.js';
import { identity, ev, connection, nextCookie, web, db, WEB_DB, l7Delta as delta } from '../../test/support/fixtures.js';

/** The web -> db edge's first request block in the snapshot at `at`. */
function webDb(g: LiveGraph, at: number) {
  return g.snapshot({}, at).edges.find((x) => x.id === WEB_DB)!.requests![0];
}

function sample(cookie: number, role: 'client' | 'server', status: number, time = 1500): L7Sample {
  return { time, cookie, pid: role === 'client' ? 5 : 7, comm: role, protocol: 'http1', role, status, statusClass: status >= 500 ? '5xx' : '2xx', latencyMs: 3, method: 'GET', target: '/x', tls: false, reasons: ['failed'] };
}

const OK = 2, C4 = 4, C5 = 5;

test('both ends seen: the client\'s count is used, never both; histograms and percentiles follow', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  g.ingest(a.open, 1000);
  g.requests([delta(a.cookies.server, 'server', { [OK]: 90, [C5]: 10 }), delta(a.cookies.client, 'client', { [OK]: 90, [C5]: 10 }, { bucket: 12 })], 1400);
  const e = g.snapshot({}, 1500).edges.find((x) => x.id === WEB_DB)!;
  assert.equal(e.requests?.length, 1);
  const r = e.requests![0];
  assert.equal(r.protocol, 'http1');
  assert.equal(r.count, 100);
  assert.equal(r.errors, 10);
  assert.equal(r.status['5xx'], 10);
  assert.equal(r.latency.samples, 100);
  assert.ok(r.latency.p50Ms >= 4.096 && r.latency.p50Ms < 8.192, `client's bucket 12: ${r.latency.p50Ms}`);
  assert.equal(r.rates['10s'].requests, 0, 'rates read complete seconds: the flush\'s second is not yet one');
  const later = g.snapshot({}, 2000).edges[0].requests![0];
  assert.equal(later.rates['10s'].requests, 10);
  assert.equal(later.rates['10s'].errors, 1);
  // the next flush adds what moved
  g.requests([delta(a.cookies.client, 'client', { [C4]: 5 })], 2400);
  const r2 = g.snapshot({}, 2500).edges[0].requests![0];
  assert.equal(r2.count, 105);
  assert.equal(r2.clientErrors, 5);
  assert.equal(r2.errors, 10);
});

test('only the server counted (remote or unprobed client): the server\'s view stands; the client\'s replaces it when it comes', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  g.ingest(a.open, 1000);
  g.requests([delta(a.cookies.server, 'server', { [OK]: 7 })], 1400);
  assert.equal(g.snapshot({}, 1500).edges[0].requests![0].count, 7);
  g.requests([delta(a.cookies.client, 'client', { [OK]: 8 }), delta(a.cookies.server, 'server', { [OK]: 1 })], 2400);
  assert.equal(g.snapshot({}, 2500).edges[0].requests![0].count, 8, 'the client\'s 8, not 8 + 8');
  const iv = g.drainInterval(3000).edges.find((x) => x.edge.id === WEB_DB)!;
  assert.equal(iv.requests![0].status[OK], 8, 'the interval too');
});

test('a socket\'s last count after its connection closed still lands on the edge; an unknown socket is counted as lost', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true });
  g.ingest([...a.open, ...a.close], 1000);
  g.requestSamples([sample(a.cookies.client, 'client', 500, 1050)], 1050); // after the close: on the connection's stand-in
  g.requests([delta(a.cookies.client, 'client', { [OK]: 3 }, { closed: true })], 1100);
  assert.equal(g.snapshot({}, 1200).edges[0].requests![0].count, 3);
  assert.equal(g.edgeDetail(WEB_DB, 1200)!.recentRequests![0].server, g.snapshot({}, 1200).nodes.find((x) => x.id === 'svc:shop/db')!.instances[0].name, 'a sample after the close names the replica too');
  const stranger = nextCookie();
  g.requests([delta(stranger, 'client', { [OK]: 4 })], 1200);
  g.tick(1300);
  assert.equal(g.requestCounters.unplacedRequests, 0, 'still waiting for its connection');
  g.tick(7000);
  assert.equal(g.requestCounters.unplacedRequests, 4);
  assert.equal(g.requestCounters.requests, 3);
});

test('a short connection (one request, counted only in its last counts after the close): both ends\' last counts make one request; gone after the wait', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true });
  g.ingest([...a.open, ...a.close], 1000);
  g.requests([delta(a.cookies.server, 'server', { [C5]: 1 }, { closed: true })], 1050);
  g.requests([delta(a.cookies.client, 'client', { [C5]: 1 }, { closed: true })], 1060);
  const r = g.snapshot({}, 1100).edges[0].requests![0];
  assert.equal(r.count, 1, 'the client\'s view replaces the server\'s');
  assert.equal(r.errors, 1);
  g.tick(5000);
  g.requests([delta(a.cookies.client, 'client', { [OK]: 1 }, { closed: true })], 5000);
  g.tick(11_000);
  assert.equal(g.requestCounters.unplacedRequests, 1, 'a count long after the close has no connection to go to: counted as lost');
});

test('counts that come before their connection is known wait for it', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  g.requests([delta(a.cookies.server, 'server', { [OK]: 2 })], 900);
  g.ingest(a.open, 1000);
  g.tick(1100); // the graph's tick (ten a second) joins them to their socket
  assert.equal(g.snapshot({}, 2000).edges[0].requests![0].count, 2);
  assert.equal(g.requestCounters.unplacedRequests, 0);
});

test('connection per request: closing counts of many sockets come before their connections, which open and close in one batch', () => {
  // The engine reads closing counts before each batch of connection events, so under this load every count
  // waits for its connection, and hundreds are taken in one batch: each is counted once, the client's view.
  const g = new LiveGraph(identity);
  const conns = Array.from({ length: 600 }, (_, i) => connection(web, db, 1000 + i, { l7: true, durMs: 1 }));
  g.requests(conns.flatMap((a, i) => [
    delta(a.cookies.client, 'client', i % 3 ? { [OK]: 1 } : { [C5]: 1 }, { closed: true, bucket: 12 }),
    delta(a.cookies.server, 'server', { [OK]: 1 }, { closed: true }),
  ]), 1500);
  g.ingest(conns.flatMap((a) => [...a.open, ...a.close]), 1600);
  const r = g.snapshot({}, 1700).edges[0].requests![0];
  assert.equal(r.count, 600);
  assert.equal(r.errors, 200, 'the client\'s view (every third a 500), not the server\'s');
  assert.equal(r.latency.samples, 600);
  assert.equal(g.drainInterval(1800).edges[0].requests![0].status[C5], 200, 'the interval too');
  g.tick(8000);
  assert.equal(g.requestCounters.unplacedRequests, 0, 'no count left behind as an orphan');
  assert.equal(g.requestCounters.requests, 600);
});

test('a closing connection whose client count is still to come: the server\'s view is not put on the edge for good', () => {
  // The server's last count came first (as an orphan); the client closed saying the kernel parsed it, and its count follows.
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true });
  g.requests([delta(a.cookies.server, 'server', { [OK]: 5 }, { closed: true })], 1000);
  g.ingest([...a.open, ...a.close], 1050);
  g.requests([delta(a.cookies.client, 'client', { [OK]: 4, [C5]: 1 }, { closed: true })], 1100);
  g.tick(1200);
  const r = g.snapshot({}, 1300).edges[0].requests![0];
  assert.equal(r.count, 5, 'one view, not both');
  assert.equal(r.errors, 1, 'the client\'s view');
  assert.equal(g.requestCounters.requests, 5);
});

test('thousands of open connections whose first counts came before them: one tick joins every count to its socket', () => {
  const g = new LiveGraph(identity);
  const conns = Array.from({ length: 3000 }, (_, i) => connection(web, db, 1000 + i / 10));
  g.requests(conns.flatMap((a, i) => [
    delta(a.cookies.server, 'server', { [OK]: 1 }),
    delta(a.cookies.client, 'client', i % 3 ? { [OK]: 1 } : { [C5]: 1 }),
  ]), 1000);
  g.ingest(conns.flatMap((a) => a.open), 1400);
  g.tick(1500);
  const r = g.snapshot({}, 1600).edges[0].requests![0];
  assert.equal(r.count, 3000);
  assert.equal(r.errors, 1000, 'the client\'s view of each');
  g.tick(9000);
  assert.equal(g.requestCounters.unplacedRequests, 0);
});

test('a connection placed again moves its requests to the new edge', () => {
  const g = new LiveGraph(identity, { pairGraceMs: 0 });
  // the client alone first: its peer 10.0.0.4 resolves to db, placed at once by address
  const c = nextCookie(), s = nextCookie();
  g.ingest([ev({ type: 'established', cookie: c, saddr: '10.0.0.2', sport: 45000, daddr: '127.0.0.1', dport: 8080, cgroupId: 100, pid: 5 })], 1000);
  g.requests([delta(c, 'client', { [OK]: 6 })], 1100);
  const first = g.snapshot({}, 1200).edges;
  assert.equal(first.length, 1);
  assert.equal(first[0].requests![0].count, 6);
  // the server end shows up in a container: the connection moves to the container's edge
  g.ingest([ev({ type: 'established', role: 'server', cookie: s, saddr: '127.0.0.1', sport: 8080, daddr: '10.0.0.2', dport: 45000, cgroupId: 102, pid: 7 })], 1300);
  const after = g.snapshot({}, 1400).edges;
  const moved = after.find((e) => e.target === 'svc:shop/db');
  assert.ok(moved, JSON.stringify(after.map((e) => e.id)));
  assert.equal(moved!.requests![0].count, 6);
  const total = after.reduce((n, e) => n + (e.requests?.[0]?.count ?? 0), 0);
  assert.equal(total, 6, 'not left on the old edge');
});

test('samples: one per request (the chosen socket\'s), newest first in the edge detail; node detail sums inbound RED', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  g.ingest(a.open, 1000);
  g.requestSamples([sample(a.cookies.server, 'server', 500, 1100), sample(a.cookies.client, 'client', 500, 1101)], 1150);
  g.requests([delta(a.cookies.server, 'server', { [C5]: 1 }), delta(a.cookies.client, 'client', { [C5]: 1 })], 1400);
  g.requestSamples([sample(a.cookies.client, 'client', 503, 1500), sample(a.cookies.server, 'server', 503, 1500)], 1550);
  const d = g.edgeDetail(WEB_DB, 1600)!;
  assert.deepEqual(d.recentRequests!.map((x) => [x.status, x.side]), [[503, 'client'], [500, 'client']]);
  const replica = g.snapshot({}, 1600).nodes.find((x) => x.id === 'svc:shop/db')!.instances[0].name;
  assert.deepEqual(d.recentRequests!.map((x) => x.server), [replica, replica], 'each names the replica that answered');
  assert.equal(d.requestLatency![0].total[10], 1);
  assert.equal(d.series.reduce((n, p) => n + (p.requests ?? 0), 0), 1);
  const n = g.nodeDetail('svc:shop/db', 1600)!;
  assert.equal(n.inboundRequests![0].count, 1);
  assert.equal(n.inboundRequests![0].errors, 1);
  assert.equal(n.recentRequests!.length, 2);
});

test('several protocols on one edge are listed apart; TLS and gRPC are flagged', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  g.ingest(a.open, 1000);
  g.requests([delta(a.cookies.client, 'client', { 6: 3, 7: 1 }, { protocol: 'http2', tls: true }), delta(a.cookies.client, 'client', { [OK]: 1 })], 1100);
  const r = g.snapshot({}, 1200).edges[0].requests!;
  assert.deepEqual(r.map((x) => [x.protocol, x.grpc, x.tls, x.count, x.errors]), [['http1', false, false, 1, 0], ['http2', true, true, 4, 1]]);
});

test('latency: percentiles interpolate inside log2 buckets; merged histograms are summed, not averaged', () => {
  const b = new Array(24).fill(0);
  b[18] = 10; // [262144, 524288) us
  assert.equal(quantileUs(b, 0.5), 262144 + 262144 * 0.5);
  assert.equal(quantileUs(b, 1), 524288);
  b[3] = 90;
  assert.ok(quantileUs(b, 0.5) < 16);
  assert.ok(quantileUs(b, 0.95) > 262144);
  const s = latencySummary(b, 10 * 400e6 + 90 * 10e3);
  assert.equal(s.samples, 100);
  assert.equal(s.meanMs, 40.01);
  const last = new Array(24).fill(0);
  last[23] = 1;
  assert.equal(quantileUs(last, 0.99), 2 ** 23, 'the open last bucket answers its lower bound');
  assert.equal(latencySummary(new Array(24).fill(0), 0).p95Ms, 0);
});

test('sockets whose last counts are in are forgotten at once, before or after their connection\'s close', () => {
  for (const order of ['finals first', 'close first'] as const) {
    const g = new LiveGraph(identity);
    const a = connection(web, db, 1000, { l7: true });
    g.ingest(a.open, 1000);
    const finals = [delta(a.cookies.server, 'server', { [OK]: 1 }, { closed: true }), delta(a.cookies.client, 'client', { [OK]: 1 }, { closed: true })];
    if (order === 'finals first') { g.requests(finals, 1050); g.ingest(a.close, 1060); } else { g.ingest(a.close, 1050); g.requests(finals, 1060); }
    assert.equal(g.snapshot({}, 1100).edges[0].requests![0].count, 1, order);
    // The kernel reports nothing of a socket after its last counts: a stray one finds no connection (counted as lost).
    g.requests([delta(a.cookies.client, 'client', { [OK]: 1 }, { closed: true })], 1200);
    g.tick(7000);
    assert.equal(g.requestCounters.unplacedRequests, 1, order);
    assert.equal(g.requestCounters.requests, 1, order);
  }
});

test('a closed socket the kernel never parsed requests on leaves nothing waiting: a count for it after the close is a stranger\'s; one that counted requests still waits', () => {
  const g = new LiveGraph(identity);
  const plain = connection(web, db, 1000); // its closes do not carry the kernel's L7 mark
  g.ingest([...plain.open, ...plain.close], 1000);
  g.requests([delta(plain.cookies.client, 'client', { [OK]: 2 }, { closed: true })], 1050);
  g.tick(7000);
  assert.equal(g.snapshot({}, 7000).edges.find((x) => x.id === WEB_DB)!.requests, undefined, 'not on the edge');
  assert.equal(g.requestCounters.unplacedRequests, 2, 'counted as lost');
  // Counts that came while it was open, then a close without the mark (its connection entry made again): its closing count still lands.
  const old = connection(web, db, 8000);
  g.ingest(old.open, 8000);
  g.requests([delta(old.cookies.client, 'client', { [OK]: 1 })], 8010);
  g.ingest(old.close, 8050);
  g.requests([delta(old.cookies.client, 'client', { [OK]: 3 }, { closed: true })], 8100);
  assert.equal(webDb(g, 8200).count, 4, 'both its counts');
  assert.equal(g.requestCounters.unplacedRequests, 2);
});

test('last counts read before their connection is known (the engine drains them first): counted once when the connection opens and closes, no stand-in left', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  // Both sockets' closing counts arrive before any of the connection's events.
  g.requests([delta(a.cookies.server, 'server', { [OK]: 1 }, { closed: true }), delta(a.cookies.client, 'client', { [C5]: 1 }, { closed: true })], 1000);
  assert.equal(g.snapshot({}, 1000).edges.length, 0);
  g.ingest([...a.open, ...a.close], 1010);
  const r = webDb(g, 1020);
  assert.equal(r.count, 1, 'the client\'s view, once');
  assert.equal(r.errors, 1);
  // Nothing waits any more: a later count for either socket is a stranger's (lost after the wait), not this edge's.
  g.requests([delta(a.cookies.client, 'client', { [OK]: 9 })], 1100);
  g.tick(7000);
  assert.equal(webDb(g, 7000).count, 1);
  assert.equal(g.requestCounters.unplacedRequests, 9);
  assert.equal(g.requestCounters.requests, 1);
});

test('the ledger keeps nothing of a delta it was given (the collector reuses closed sockets\' deltas), and recycled state starts from zero', () => {
  const g = new LiveGraph(identity);
  const reused = delta(0, 'client', {});
  const give = (cookie: number, role: 'client' | 'server', n: number, t: number) => {
    const d = delta(cookie, role, { [OK]: n }, { closed: true });
    Object.assign(reused, { ...d, requests: reused.requests, buckets: reused.buckets });
    reused.requests.set(d.requests);
    reused.buckets.set(d.buckets);
    g.requests([reused], t);
  };
  let t = 1000;
  for (let i = 1; i <= 50; i++, t += 10) {
    const c = connection(web, db, t, { l7: true });
    if (i % 2) { give(c.cookies.server, 'server', i, t); give(c.cookies.client, 'client', i, t); g.ingest([...c.open, ...c.close], t + 1); }
    else { g.ingest([...c.open, ...c.close], t); give(c.cookies.server, 'server', i, t + 1); give(c.cookies.client, 'client', i, t + 1); }
  }
  const r = webDb(g, t);
  assert.equal(r.count, (50 * 51) / 2, 'each connection\'s own count, once');
  assert.equal(g.requestCounters.requests, (50 * 51) / 2);
});

test('samples and last counts read before their connection is known: the client\'s samples land on the edge once, as the connection ends', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000);
  g.requestSamples([sample(a.cookies.server, 'server', 500, 1001), sample(a.cookies.client, 'client', 500, 1002)], 1003);
  g.requests([delta(a.cookies.server, 'server', { [C5]: 1 }, { closed: true }), delta(a.cookies.client, 'client', { [C5]: 1 }, { closed: true })], 1004);
  g.ingest([...a.open, ...a.close], 1005);
  const d = g.edgeDetail(WEB_DB, 1010)!;
  assert.deepEqual(d.recentRequests!.map((x) => [x.status, x.side]), [[500, 'client']]);
  assert.equal(d.recentRequests![0].server, g.snapshot({}, 1010).nodes.find((x) => x.id === 'svc:shop/db')!.instances[0].name, 'held before placement: named when placed');
  g.tick(9000);
  assert.equal(g.requestCounters.unplacedSamples, 0);
});

test('many counts of sockets not known yet, adopted batch after batch while one never is: each counted once, the stranger lost after the wait', () => {
  const g = new LiveGraph(identity);
  const stranger = nextCookie();
  g.requests([delta(stranger, 'client', { [OK]: 7 })], 1000);
  let t = 1000;
  for (let i = 0; i < 1500; i++, t += 1) {
    const c = connection(web, db, t);
    g.requests([delta(c.cookies.client, 'client', { [OK]: 1 }, { closed: true })], t);
    g.ingest([...c.open, ...c.close], t);
  }
  assert.equal(webDb(g, t).count, 1500);
  g.tick(t + 100);
  assert.equal(g.requestCounters.unplacedRequests, 0, 'the stranger still waits');
  g.tick(7000);
  assert.equal(g.requestCounters.unplacedRequests, 7);
});

test('connection per request, a client the kernel never parsed (no uprobe on its TLS library): the server\'s closing count, read before the connection, stands', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true, durMs: 1 });
  const clientClose = a.close.find((e) => e.cookie === a.cookies.client)!;
  clientClose.l7 = false; // its close says nothing was parsed on it: no count will come
  g.requests([delta(a.cookies.server, 'server', { [C5]: 2 }, { closed: true })], 1000);
  g.ingest([...a.open, ...a.close], 1010);
  const r = webDb(g, 1020);
  assert.equal(r.count, 2);
  assert.equal(r.errors, 2);
  g.tick(8000);
  assert.equal(g.requestCounters.unplacedRequests, 0, 'nothing left waiting');
  assert.equal(g.requestCounters.requests, 2);
});

test('connection per request, the server\'s closing count after the connection\'s close: the client\'s view (read before) is counted once, and the server\'s, when it comes, is neither added nor lost', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true, durMs: 1 });
  g.requests([delta(a.cookies.client, 'client', { [C5]: 1 }, { closed: true })], 1000);
  g.ingest([...a.open, ...a.close], 1010);
  g.requests([delta(a.cookies.server, 'server', { [OK]: 1 }, { closed: true })], 1050);
  const r = webDb(g, 1100);
  assert.equal(r.count, 1);
  assert.equal(r.errors, 1, 'the client\'s view');
  g.tick(8000);
  assert.equal(g.requestCounters.unplacedRequests, 0, 'the server\'s count found its connection\'s stand-in');
  assert.equal(g.requestCounters.requests, 1);
});

test('a client\'s partial count and the server\'s closing count both before the connection, the client\'s closing count after the close: all of the client\'s view is counted, nothing lost', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true, durMs: 1 });
  g.requests([delta(a.cookies.client, 'client', { [OK]: 2 }), delta(a.cookies.server, 'server', { [OK]: 3 }, { closed: true })], 1000);
  g.ingest([...a.open, ...a.close], 1010);
  g.requests([delta(a.cookies.client, 'client', { [OK]: 1 }, { closed: true })], 1050);
  assert.equal(webDb(g, 1100).count, 3, 'the client\'s 2 + 1, not the server\'s 3');
  g.tick(9000);
  assert.equal(g.requestCounters.unplacedRequests, 0);
  assert.equal(g.requestCounters.requests, 3);
});

test('a closing count joined on the usual path ends its socket: a stray count for that cookie later is a stranger\'s, not the edge\'s', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true, durMs: 1 });
  g.requests([delta(a.cookies.client, 'client', { [C5]: 1 }, { closed: true })], 1000);
  g.ingest([...a.open, ...a.close], 1010); // the server's close says a count of its own is coming
  g.requests([delta(a.cookies.client, 'client', { [OK]: 9 })], 1100);
  g.requests([delta(a.cookies.server, 'server', { [OK]: 1 }, { closed: true })], 1200);
  assert.equal(webDb(g, 1300).count, 1);
  g.tick(9000);
  assert.equal(g.requestCounters.unplacedRequests, 9);
  assert.equal(g.requestCounters.requests, 1);
});

test('connection per request with two protocols on a socket, some clients unparsed, and a stranger that keeps the orphan table from emptying', () => {
  const g = new LiveGraph(identity);
  g.requests([delta(nextCookie(), 'client', { [OK]: 7 })], 1000);
  let t = 1000, want = 0;
  for (let i = 0; i < 300; i++, t++) {
    const a = connection(web, db, t, { l7: true, durMs: 1 });
    const ds = [delta(a.cookies.server, 'server', { [OK]: 50 }, { protocol: 'redis' }), delta(a.cookies.server, 'server', { [OK]: 50 }, { closed: true })];
    if (i % 2) { ds.push(delta(a.cookies.client, 'client', { [OK]: 1 }, { protocol: 'redis' }), delta(a.cookies.client, 'client', { [C5]: 1 }, { closed: true })); want += 2; }
    else { a.close.find((e) => e.cookie === a.cookies.client)!.l7 = false; want += 100; }
    g.requests(ds, t);
    g.ingest([...a.open, ...a.close], t);
  }
  const e = g.snapshot({}, t).edges.find((x) => x.id === WEB_DB)!;
  assert.equal(e.requests!.reduce((n, r) => n + r.count, 0), want);
  assert.equal(e.requests!.find((r) => r.protocol === 'redis')!.count, 150 * 50 + 150);
  g.tick(t + 10);
  g.tick(9000);
  assert.equal(g.requestCounters.unplacedRequests, 7, 'only the stranger');
  assert.equal(g.requestCounters.requests, want);
});

test('connection per request, last counts with the close (ConnEvent.requests): each counted once on the edge, the client\'s view, nothing left waiting', () => {
  const g = new LiveGraph(identity);
  const conns = Array.from({ length: 600 }, (_, i) => connection(web, db, 1000 + i, { l7: true, durMs: 1 }));
  const events = conns.flatMap((a, i) => {
    const [client, server] = a.close;
    client.requests = delta(a.cookies.client, 'client', i % 3 ? { [OK]: 1 } : { [C5]: 1 }, { closed: true, bucket: 12 });
    // Left to its client (counted nothing), or parsed too (TLS, or before its client was known): its own view of the same requests.
    server.requests = delta(a.cookies.server, 'server', i % 4 < 2 ? {} : { [OK]: 1 }, { closed: true });
    return [...a.open, ...(i % 2 ? [client, server] : [server, client])]; // either end may close first
  });
  g.ingest(events, 1600);
  const r = g.snapshot({}, 1700).edges[0].requests![0];
  assert.equal(r.count, 600);
  assert.equal(r.errors, 200, 'the client\'s view (every third a 500)');
  assert.equal(r.latency.samples, 600);
  assert.equal(g.drainInterval(1800).edges[0].requests![0].status[C5], 200, 'the interval too');
  // Nothing waits for a count still to come: a stray count for one of those cookies later is a stranger's.
  g.requests([delta(conns[0].cookies.client, 'client', { [OK]: 9 }, { closed: true })], 1900);
  g.tick(8000);
  assert.equal(g.requestCounters.requests, 600);
  assert.equal(g.requestCounters.unplacedRequests, 9);
});

test('a long connection\'s last counts with its close: what the periodic reads reported is kept, the rest added, once', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true });
  g.ingest(a.open, 1000);
  g.requests([delta(a.cookies.client, 'client', { [OK]: 5 })], 1200);
  assert.equal(webDb(g, 1300).count, 5);
  const [client, server] = a.close;
  client.requests = delta(a.cookies.client, 'client', { [OK]: 2, [C4]: 1 }, { closed: true }); // the collector made it a delta
  g.ingest([client], 1400);
  assert.equal(webDb(g, 1500).count, 8, 'on the edge while the server end is still open');
  g.ingest([server], 1600);
  g.tick(8000);
  const r = webDb(g, 8000);
  assert.deepEqual([r.count, r.clientErrors], [8, 1]);
  assert.equal(g.requestCounters.unplacedRequests, 0);
});

test('a client\'s last counts with its close while the server end stays open past the batch: on the edge at the batch\'s end, once', () => {
  const g = new LiveGraph(identity);
  const a = connection(web, db, 1000, { l7: true });
  g.ingest(a.open, 1000);
  const [client, server] = a.close;
  client.requests = delta(a.cookies.client, 'client', { [OK]: 4, [C5]: 1 }, { closed: true });
  g.ingest([client], 1400);
  client.requests.requests.fill(0); // the engine reuses it for the next batch: nothing of it may be read later
  assert.deepEqual([webDb(g, 1500).count, webDb(g, 1500).errors], [5, 1]);
  server.requests = delta(a.cookies.server, 'server', { [OK]: 5 }, { closed: true }); // its own view of the same requests
  g.ingest([server], 1600);
  g.tick(8000);
  assert.deepEqual([webDb(g, 8000).count, webDb(g, 8000).errors], [5, 1]);
  assert.equal(g.requestCounters.requests, 5);
  assert.equal(g.requestCounters.unplacedRequests, 0);
});

test('a delta adds exactly the counters its nonzero mask names: every class and bucket, the last bucket on the sign bit', () => {
  const t = new RequestTotals();
  const all = delta(1, 'client', {});
  all.requests.forEach((_, i) => (all.requests[i] = i + 1));
  all.buckets.forEach((_, i) => (all.buckets[i] = 100 + i));
  all.nonzero = nonzeroOf(all.requests, all.buckets);
  assert.equal(all.nonzero, -1, 'all 32 bits');
  t.addDelta(all);
  const last = delta(2, 'client', { 0: 2 }, { bucket: 23 });
  assert.equal(last.nonzero, 1 | (1 << 31));
  t.addDelta(last);
  assert.deepEqual(t.status, [3, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(t.buckets, [...Array.from({ length: 23 }, (_, i) => 100 + i), 123 + 2]);
});
