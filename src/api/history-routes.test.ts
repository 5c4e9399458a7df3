// The history routes through the real API server (startApi, fastify inject): the
// graph route hands at/from/to to the store; bad parameters answer 400 as JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { LiveGraph } from '../graph/live-graph.js';
import { startApi } from './server.js';
import type { Agent } from '../agent/agent.js';
import { HistoryStore } from '../store/history-store.js';
import { historyRoutes, historySeries } from './history-routes.js';
import { parseRetention } from '../store/retention.js';
import { identity, connection, refused, web, db, cache, http500s, WEB_DB, WEB_CACHE } from '../store/testing.js';
import type { L7Sample } from '../l7/types.js';

const S = 1000, M = 60_000;
const T0 = Date.now() - 10 * 60 * S - (Date.now() % 60_000); // ten minutes ago, on a minute
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-routes-'));
const clock = { now: T0 };
const graph = new LiveGraph(identity, { idleMs: 30 * S });
const store = new HistoryStore({ file: path.join(dir, 'history.db'), tiers: parseRetention('10s:1h,1m:1d'), clock: () => clock.now });
// Only what the routes under test touch; /metrics and the stream are not exercised.
const agent = { graph, status: () => ({}), telemetry: () => ({}) } as unknown as Agent;
let app: FastifyInstance;
let plain: FastifyInstance;

before(async () => {
  store.attach(graph);
  const c = connection(web, db, T0 + 1 * S, { sent: 1000, received: 100 });
  graph.ingest(c.open, T0 + 1 * S);
  graph.ingest(c.close, T0 + 1 * S + 50);
  for (let i = 0; i < 3; i++) graph.ingest(refused(web, db, T0 + 2 * S + i), T0 + 2 * S + i);
  clock.now = T0 + 10 * S + 5;
  store.flush(clock.now);
  clock.now = T0 + 10 * 60 * S;
  ({ app } = await startApi(agent, { host: '127.0.0.1', port: 0, uiDir: dir }, [historyRoutes(store)]));
  ({ app: plain } = await startApi(agent, { host: '127.0.0.1', port: 0, uiDir: dir })); // no history
});

after(async () => {
  await app?.close();
  await plain?.close();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function get(url: string, on = app) {
  const r = await on.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as Record<string, any> };
}

const enc = encodeURIComponent;

test('graph at= and from=&to= come from the store; the live graph still answers without them', async () => {
  const at = await get(`/api/v1/graph?at=${T0 + 5 * S}`);
  assert.equal(at.status, 200);
  assert.equal(at.body.at, T0 + 5 * S);
  assert.deepEqual(at.body.edges.map((e: { id: string }) => e.id), [WEB_DB]);
  const range = await get(`/api/v1/graph?from=${enc(new Date(T0).toISOString())}&to=-1m`);
  assert.equal(range.status, 200);
  assert.equal(range.body.edges[0].bytes.sent, 1000);
  assert.equal(range.body.from, T0);
  assert.equal((await get('/api/v1/graph?from=-15m&group=other')).body.edges.length, 0, 'filters apply to history too');
  const live = await get('/api/v1/graph');
  assert.equal(live.status, 200);
  assert.ok(Array.isArray(live.body.edges));
  assert.equal((await get('/api/v1/graph?bogus=1')).status, 400, 'the live route still rejects unknown parameters');
  const off = await get('/api/v1/graph?at=-5m', plain);
  assert.equal(off.status, 400);
  assert.match(off.body.message, /history store/);
});

test('timeseries and events answer with their shapes', async () => {
  const s = await get(`/api/v1/timeseries?edge=${enc(WEB_DB)}&metric=bytes_sent&from=${T0}&to=${T0 + 30 * S}&step=10s`);
  assert.equal(s.status, 200);
  assert.equal(s.body.metric, 'bytes_sent');
  assert.equal(s.body.step, 10 * S);
  assert.deepEqual(s.body.points, [{ t: T0, v: 1000 }, { t: T0 + 10 * S, v: 0 }, { t: T0 + 20 * S, v: 0 }]);
  const n = await get(`/api/v1/timeseries?node=${enc('svc:shop/db')}&metric=connections&from=-15m`);
  assert.equal(n.status, 200);
  assert.equal(n.body.points.reduce((a: number, p: { v: number }) => a + p.v, 0), 1);
  const ev = await get('/api/v1/events?from=-1h&type=edge_appeared');
  assert.equal(ev.status, 200);
  assert.deepEqual(ev.body.events.map((e: { edge: string }) => e.edge), [WEB_DB]);
  const tl = await get(`/api/v1/timeline?from=${T0}&to=${T0 + 30 * S}`);
  assert.equal(tl.status, 200);
  assert.deepEqual(tl.body, { step: 10 * S, from: T0, to: T0 + 30 * S, buckets: [{ t: T0, failures: 3, failedBy: { refused: 3 }, requestErrors: 0 }] });
  assert.equal((await get(`/api/v1/timeline?from=${T0}&step=1m`)).body.step, M, 'a step snaps to a stored resolution');
  const hourly = await get(`/api/v1/timeseries?edge=${enc(WEB_DB)}&metric=bytes_sent&from=${T0}&to=${T0 + 30 * S}&step=1h`);
  assert.equal(hourly.body.step, 60 * M, 'a step coarser than every tier: whole buckets summed into it (it was the coarsest tier\'s 1 m)');
  assert.deepEqual(hourly.body.points.map((p: { v: number }) => p.v), [1000]);
  for (const url of ['/api/v1/timeline?bogus=1', '/api/v1/timeline?step=0', '/api/v1/timeline?from=now&to=-1h']) assert.equal((await get(url)).status, 400, url);
  const h = await get('/api/v1/history');
  assert.equal(h.status, 200);
  assert.equal(h.body.retention, '10s:1h,1m:1d');
  assert.ok(h.body.sizeBytes > 0);
});

test('bad times, reversed ranges, unknown metrics and missing ids answer 400 with a JSON error', async () => {
  const e = enc(WEB_DB);
  const bad = [
    '/api/v1/graph?at=yesterday',
    '/api/v1/graph?at=2026-13-45',
    '/api/v1/graph?from=-1h&to=-2h',
    '/api/v1/graph?from=now&to=now',
    '/api/v1/graph?to=-1h',
    '/api/v1/graph?at=-1h&from=-2h',
    '/api/v1/graph?from=-1h&window=5m',
    '/api/v1/graph?at=-1h&bogus=1',
    '/api/v1/graph?at=-1h&at=-2h',
    '/api/v1/timeseries?metric=connections',
    `/api/v1/timeseries?edge=${e}&node=x&metric=connections`,
    `/api/v1/timeseries?edge=${e}`,
    `/api/v1/timeseries?edge=${e}&metric=latency`,
    `/api/v1/timeseries?edge=${e}&metric=toString`,
    `/api/v1/timeseries?edge=${e}&metric=constructor`,
    `/api/v1/timeseries?edge=${e}&metric=__proto__`,
    `/api/v1/timeseries?edge=${e}&metric=hasOwnProperty`,
    '/api/v1/graph?at=2024-02-30',
    '/api/v1/graph?at=2023-02-29T10:00:00Z',
    '/api/v1/events?from=2024-04-31',
    `/api/v1/timeseries?edge=${e}&metric=connections&step=0s`,
    `/api/v1/timeseries?edge=${e}&metric=connections&step=-10s`,
    `/api/v1/timeseries?edge=${e}&metric=connections&from=-1h&to=-2h`,
    `/api/v1/timeseries?edge=${e}&metric=connections&from=-300d&step=1s`,
    '/api/v1/events?from=soon',
    '/api/v1/events?limit=0',
    '/api/v1/events?limit=ten',
    '/api/v1/events?type=bogus',
  ];
  for (const url of bad) {
    const r = await get(url);
    assert.equal(r.status, 400, url);
    assert.equal(r.body.error, 'bad_request', url);
    assert.equal(typeof r.body.message, 'string', url);
  }
});

test('an edge or node the store never saw answers 404', async () => {
  const r = await get(`/api/v1/timeseries?edge=${enc('a|b|1|tcp')}&metric=connections`);
  assert.equal(r.status, 404);
  assert.equal(r.body.error, 'not_found');
  assert.equal((await get('/api/v1/timeseries?node=svc:none&metric=active')).status, 404);
  assert.equal((await get('/api/v1/events?node=svc:none')).status, 404);
});

test('inherited names are not metrics, and a too-long series names the step asked for', async () => {
  const r = await get(`/api/v1/timeseries?edge=${enc(WEB_DB)}&metric=toString`);
  assert.match(r.body.message, /unknown metric "toString"; known: connections/);
  const day = await get('/api/v1/graph?at=2024-02-30');
  assert.match(day.body.message, /2024-02 has 29 days, got day 30/);
  // A 1 s tier kept a day: step=500ms snaps to 1 s buckets; the message names 500ms, what was asked.
  const fine = new HistoryStore({ file: path.join(dir, 'fine.db'), tiers: parseRetention('1s:1d'), clock: () => clock.now });
  try {
    const q = { edge: WEB_DB, metric: 'connections', from: '-10h', step: '500ms' };
    assert.throws(() => historySeries(fine, q), /36000 points at step=500ms \(served in 1s buckets[^)]*\); at most 20000/);
    assert.throws(() => historySeries(fine, { ...q, step: undefined }), /points without step/);
  } finally {
    fine.close();
  }
});

test('a history that cannot answer says why with 503 on every history route, never 500; /api/v1/history still describes it', async () => {
  const blocker = path.join(dir, 'not-a-folder');
  fs.writeFileSync(blocker, 'x');
  const broken = new HistoryStore({ file: path.join(blocker, 'history.db'), tiers: parseRetention('10s:1h'), clock: () => clock.now, warn: () => {} });
  const { app: off } = await startApi(agent, { host: '127.0.0.1', port: 0, uiDir: dir }, [historyRoutes(broken)]);
  try {
    for (const url of ['/api/v1/graph?at=-1m', '/api/v1/graph?from=-1h', `/api/v1/timeseries?edge=${enc(WEB_DB)}&metric=connections`, '/api/v1/timeline', '/api/v1/events']) {
      const r = await get(url, off);
      assert.equal(r.status, 503, url);
      assert.equal(r.body.error, 'history_unavailable', url);
      assert.ok(r.body.message.includes(blocker), `${url}: ${r.body.message}`);
    }
    assert.equal((await get('/api/v1/graph?at=yesterday', off)).status, 400, 'bad input is still a 400');
    const h = await get('/api/v1/history', off);
    assert.equal(h.status, 200);
    assert.equal(h.body.health.state, 'unavailable');
    assert.ok(h.body.health.reason.includes(blocker));
  } finally {
    await off.close();
    broken.close();
  }
});

test('an edge and a node of the past: /api/v1/edges/:id and /api/v1/nodes/:id with at, or from and to, from the store', async () => {
  const clk = { now: T0 };
  const g = new LiveGraph(identity, { idleMs: 30 * S });
  const h = new HistoryStore({ file: path.join(dir, 'detail.db'), tiers: parseRetention('10s:1h,1m:1d'), clock: () => clk.now });
  h.attach(g);
  const c = connection(web, cache, T0 + 1 * S);
  g.ingest(c.open, T0 + 1 * S);
  clk.now = T0 + 2 * S;
  g.requests([http500s(c.cookies.client, 5)], clk.now);
  const sample = (i: number, failed: boolean): L7Sample => ({
    time: T0 + 2 * S + i, cookie: c.cookies.client, pid: 5, comm: 'web', protocol: 'http1', role: 'client', status: failed ? 500 : 200,
    statusClass: failed ? '5xx' : '2xx', latencyMs: failed ? 0.7 : 450, method: 'GET', target: failed ? '/checkout' : '/slow', tls: false, reasons: [failed ? 'failed' : 'slow'],
  });
  // Seven samples in one flush: five are written (HISTORY_DEFAULTS.maxRequestSamplesPerFlush), the failed ones first.
  g.requestSamples([sample(0, false), sample(1, false), ...[2, 3, 4, 5, 6].map((i) => sample(i, true))], clk.now);
  clk.now = T0 + 10 * S + 5;
  g.tick(clk.now);
  h.flush(clk.now);
  clk.now = T0 + 10 * 60 * S;
  const { app: a } = await startApi(agent, { host: '127.0.0.1', port: 0, uiDir: dir }, [historyRoutes(h)]);
  try {
    const e = await get(`/api/v1/edges/${enc(WEB_CACHE)}?at=${T0 + 5 * S}`, a);
    assert.equal(e.status, 200, JSON.stringify(e.body));
    assert.equal(e.body.id, WEB_CACHE);
    assert.equal(e.body.requests[0].status['5xx'], 5);
    assert.equal(e.body.requestLatency.length, 1);
    assert.equal(e.body.requestLatency[0].protocol, 'http1');
    assert.equal(e.body.requestLatency[0].total[9], 5, 'the bucket\'s histogram, summed exactly');
    assert.equal(e.body.requestLatency[0].totalSumUs, 3500);
    assert.deepEqual(e.body.recentRequests.map((r: { time: number; status: number; target: string }) => [r.time - T0, r.status, r.target]),
      [6, 5, 4, 3, 2].map((i) => [2 * S + i, 500, '/checkout']), 'the failed ones, newest first');
    assert.equal(e.body.recentRequests[0].process, 'web');
    assert.deepEqual(e.body.series, []);
    const ev = await get(`/api/v1/events?from=${T0}&to=${T0 + M}&type=request_sample,suppressed`, a);
    assert.equal(ev.status, 200, JSON.stringify(ev.body));
    assert.deepEqual(ev.body.events.filter((x: { type: string }) => x.type === 'suppressed').map((x: { detail: unknown }) => x.detail), [{ failures: 0, topology: 0, container: 0, requests: 2 }]);
    const range = await get(`/api/v1/edges/${enc(WEB_CACHE)}?from=${T0}&to=${T0 + M}`, a);
    assert.equal(range.status, 200);
    assert.equal(range.body.requestLatency[0].total[9], 5);
    assert.equal(range.body.recentRequests.length, 5);
    const inner = await get(`/api/v1/edges/${enc(WEB_CACHE)}?from=${T0 + 5 * S}&to=${T0 + 8 * S}`, a);
    assert.equal(inner.body.requestLatency[0].total[9], 5, 'a range inside one bucket: that bucket\'s numbers');
    assert.equal(inner.body.recentRequests.length, 5, 'and that bucket\'s samples, though they came before the range\'s start');
    const n = await get(`/api/v1/nodes/${enc('svc:shop/cache')}?at=${T0 + 5 * S}`, a);
    assert.equal(n.status, 200, JSON.stringify(n.body));
    assert.deepEqual(n.body.incoming, [WEB_CACHE]);
    assert.equal(n.body.inboundRequests[0].count, 5);
    assert.equal(n.body.inboundRequests[0].errors, 5);
    assert.equal(n.body.inboundRequests[0].rates['10s'].requests, 0.5, 'over the bucket\'s 10 s');
    assert.equal(n.body.recentRequests.length, 5);
    const w = await get(`/api/v1/nodes/${enc('svc:shop/web')}?at=${T0 + 5 * S}`, a);
    assert.equal(w.body.inboundRequests, undefined, 'the client has no inbound requests');
    assert.deepEqual(w.body.recentRequests, [], 'nor their samples');
    assert.equal((await get(`/api/v1/edges/${enc(WEB_CACHE)}?at=${T0 + 5 * M}&window=1m`, a)).status, 404, 'not on the map of that moment');
    assert.equal((await get(`/api/v1/nodes/svc:none?at=${T0 + 5 * S}`, a)).status, 404);
    assert.equal((await get(`/api/v1/edges/${enc("x' OR 1=1 --|%00|\u202e")}?at=${T0 + 5 * S}`, a)).status, 404, 'a hostile id is only an id');
    const long = await get(`/api/v1/edges/${'e'.repeat(2000)}?at=${T0 + 5 * S}`, a);
    assert.deepEqual([long.status, long.body.error], [400, 'bad_request'], 'an id longer than any the graph gives');
    for (const url of [`/api/v1/edges/${enc(WEB_CACHE)}?at=-1h&bogus=1`, `/api/v1/edges/${enc(WEB_CACHE)}?from=-1h&window=1m`, `/api/v1/nodes/x?at=soon`, `/api/v1/edges/x?at=-1h&from=-2h`]) {
      const r = await get(url, a);
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error, 'bad_request', url);
    }
    const off = await get(`/api/v1/edges/${enc(WEB_CACHE)}?at=-5m`, plain);
    assert.equal(off.status, 400);
    assert.match(off.body.message, /history store/);
  } finally {
    await a.close();
    h.close();
  }
});
