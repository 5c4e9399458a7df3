// /api/v1/policy and /api/v1/intent through the real API server (startApi,
// fastify inject) with a real LiveGraph and history store: live verdicts,
// verdicts at a past moment under the policy in force then (from the
// timeline), past maps decorated, bad parameters answered 400.
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
import { historyRoutes } from './history-routes.js';
import { parseRetention } from '../store/retention.js';
import { identity, connection, web, db, cache, WEB_DB, WEB_CACHE } from '../store/testing.js';
import { policyRoutes } from './policy-routes.js';
import { PolicyRuntime } from '../policy/runtime.js';
import { loadPolicyFile } from '../policy/load.js';
import { decorateGraph, follow } from '../policy/graph-view.js';

const S = 1000;
const T0 = Date.now() - 10 * 60 * S - (Date.now() % 60_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-policy-routes-'));
const file = path.join(dir, 'policy.yaml');
const V1 = 'zones:\n  web: {compose_service: web}\n  db: {compose_service: db}\nrules:\n  - name: web-only-db\n    allow-only: {from: web, to: db}\n';
const V2 = V1.replace('to: db}', 'to: [db, cache]}').replace('  db: {compose_service: db}\n', '  db: {compose_service: db}\n  cache: {compose_service: cache}\n');
const clock = { now: T0 };
const graph = new LiveGraph(identity, { idleMs: 60 * 60 * S });
const store = new HistoryStore({ file: path.join(dir, 'history.db'), tiers: parseRetention('10s:1h,1m:1d'), clock: () => clock.now });
const agent = { graph, status: () => ({}), telemetry: () => ({}) } as unknown as Agent;
let app: FastifyInstance;
let bare: FastifyInstance;
let runtime: PolicyRuntime;
let v1sha = '';

before(async () => {
  store.attach(graph);
  fs.writeFileSync(file, V1);
  const quiet = { say: () => {}, warn: () => {} };
  runtime = new PolicyRuntime(file, loadPolicyFile(file, T0), { timeline: store, clock: () => clock.now, ...quiet });
  v1sha = runtime.engine.policy!.sha256;
  const feed = decorateGraph(graph, runtime.engine);
  const f = follow(feed, runtime.engine, 3_600_000);
  f.stop();
  const a = connection(web, db, T0 + 1 * S), b = connection(web, cache, T0 + 1 * S);
  graph.ingest([...a.open, ...b.open], T0 + 1 * S);
  graph.ingest([...a.close, ...b.close], T0 + 2 * S);
  clock.now = T0 + 3 * S;
  f.poll(clock.now);
  clock.now = T0 + 10 * S + 5;
  store.flush(clock.now);
  // A minute later the policy allows web -> cache.
  clock.now = T0 + 70 * S;
  fs.writeFileSync(file, V2);
  assert.equal(runtime.reload('test'), true);
  clock.now = T0 + 80 * S + 5;
  store.flush(clock.now);
  clock.now = T0 + 10 * 60 * S;
  ({ app } = await startApi(agent, { host: '127.0.0.1', port: 0, uiDir: dir }, [historyRoutes(store), policyRoutes({ graph, policy: runtime, intent: null, history: store })]));
  ({ app: bare } = await startApi(agent, { host: '127.0.0.1', port: 0, uiDir: dir }, [policyRoutes({ graph, policy: null, intent: null, history: null })]));
});

after(async () => {
  await app?.close();
  await bare?.close();
  runtime?.stop();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function get(url: string, on = app) {
  const r = await on.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as Record<string, any> };
}

test('live: the policy in force, zones with their members, verdicts, no violation left after the reload', async () => {
  const r = await get('/api/v1/policy');
  assert.equal(r.status, 200);
  assert.notEqual(r.body.sha256, v1sha);
  assert.deepEqual(r.body.counts, { allowed: 2, violation: 0, unmatched: 0 });
  assert.deepEqual(r.body.violations, []);
  assert.deepEqual(r.body.zones.find((z: { name: string }) => z.name === 'cache').members, ['svc:shop/cache']);
  assert.equal(r.body.rules[0].action, 'allow-only');
  assert.equal((await get('/api/v1/policy?verdict=violation')).body.verdicts.length, 0);
  const g = await get('/api/v1/graph');
  assert.deepEqual(g.body.edges.find((e: { id: string }) => e.id === WEB_CACHE).policy, { verdict: 'allowed', rule: 'web-only-db' });
});

test('at=: the map then, under the policy in force then (read back from the timeline)', async () => {
  const r = await get(`/api/v1/policy?at=${T0 + 5 * S}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.sha256, v1sha);
  assert.equal(r.body.inForceSince, T0);
  assert.deepEqual(r.body.verdicts.find((v: { edge: string }) => v.edge === WEB_CACHE).policy, { verdict: 'violation', rule: 'web-only-db', attempted: false });
  assert.deepEqual(r.body.verdicts.find((v: { edge: string }) => v.edge === WEB_DB).policy, { verdict: 'allowed', rule: 'web-only-db' });
  assert.deepEqual(r.body.events.map((e: { type: string; edge: string; detail: { news: string } }) => [e.type, e.edge, e.detail.news]), [['policy_violation', WEB_CACHE, 'new']]);
  const g = await get(`/api/v1/graph?at=${T0 + 5 * S}`);
  assert.equal(g.body.edges.find((e: { id: string }) => e.id === WEB_CACHE).policy.verdict, 'violation', 'a past map gets past verdicts');
  const later = await get(`/api/v1/policy?at=${T0 + 75 * S}`);
  assert.notEqual(later.body.sha256, v1sha, 'after the reload, the new policy');
  const ev = await get('/api/v1/events?from=-1h&type=policy_loaded,policy_violation');
  assert.equal(ev.status, 200);
  assert.deepEqual(ev.body.events.map((e: { type: string }) => e.type), ['policy_loaded', 'policy_violation', 'policy_loaded']);
  assert.equal(ev.body.events[0].detail.text, V1, 'the text is kept for at=');
});

test('from= and to=: a range\'s map, under the policy in force at its end: the violation of that time, not the live list (a review)', async () => {
  const r = await get(`/api/v1/policy?verdict=violation&from=${T0}&to=${T0 + 60 * S}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.from, r.body.to, r.body.sha256], [T0, T0 + 60 * S, v1sha]);
  assert.deepEqual(r.body.violations.map((v: { edge: string }) => v.edge), [WEB_CACHE], 'live there is none');
  assert.deepEqual(r.body.verdicts.map((v: { edge: string }) => v.edge), [WEB_CACHE]);
  assert.deepEqual(r.body.events.map((e: { type: string }) => e.type), ['policy_violation']);
  const after = await get(`/api/v1/policy?from=${T0 + 72 * S}&to=${T0 + 9 * 60 * S}`);
  assert.notEqual(after.body.sha256, v1sha, 'a range after the reload: the new policy');
  for (const q of [`at=${T0}&from=${T0}`, `to=${T0}`, `from=${T0 + 60 * S}&to=${T0}`, `from=${T0}&window=5m`, "from=banana", "from=%2e%2e%2f&to=now", `from=${T0}&to=${T0}&from=${T0}`]) assert.equal((await get(`/api/v1/policy?${q}`)).status, 400, q);
});

test('bad parameters answer 400; no policy or no compose files answer 404 saying what to do', async () => {
  for (const q of ['verdict=maybe', 'bogus=1', 'at=yesterday', 'window=5m']) {
    const r = await get(`/api/v1/policy?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error, 'bad_request');
  }
  assert.match((await get(`/api/v1/policy?at=${T0 - 3_600_000}`)).body.message, /no policy was in force/);
  const none = await get('/api/v1/policy', bare);
  assert.equal(none.status, 404);
  assert.match(none.body.message, /start it with --policy FILE/);
  const intent = await get('/api/v1/intent');
  assert.equal(intent.status, 404);
  assert.match(intent.body.message, /--compose FILE/);
  assert.equal((await get('/api/v1/policy?at=-5m', bare)).status, 404);
});
