// The token, deny by default, against the real `dhrishti run --token-file`: every route the
// agent registered (its own table, gathered by fastify's onRoute hook and read from
// /api/v1/routes) in every spelling (encoded, double-encoded, mixed case, //, /./, .., trailing
// slashes, ...), over HTTP and as a WebSocket upgrade: 401 without the token, through with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningAgent } from '../support/agent.js';
import { rawRequest, wsHandshake, firstTextFrame, leaksInternals, type RouteRow, type RawAnswer } from '../support/http.js';
import { pathVariants } from './paths.js';
import { startGuarded, type Guarded } from './guarded.js';

const TOKEN = 'matrix-0123456789abcdef';
const BEARER = { Authorization: `Bearer ${TOKEN}` };
let g: Guarded;
let agent: RunningAgent;
let routes: RouteRow[];
const ids: Record<string, string> = {};

before(async () => {
  g = await startGuarded(TOKEN);
  agent = g.agent;
  routes = g.routes;
  ids.nodes = g.nodes[0];
  ids.edges = g.edges[0];
});

after(async () => { await g?.stop(); });

/** A request path for a route: its parameters filled with real ids. */
function concrete(r: RouteRow): string {
  return r.url.replace(/\/(nodes|edges)\/:id$/, (_m, kind: string) => `/${kind}/${encodeURIComponent(ids[kind])}`)
    .replace(/:[a-zA-Z]+/g, 'x');
}

const isUnauthorized = (a: RawAnswer) => a.status === 401 && (a.body === '' || JSON.parse(a.body).error === 'unauthorized');
/** A 400 for a malformed path, answered before routing: it names no route and shows no data. */
const isMalformed = (a: RawAnswer) => a.status === 400 && (a.body === '' || JSON.parse(a.body).error === 'bad_request') && !/"nodes"|"edges"/.test(a.body);

test('the route table is the agent\'s own and covers the API, the stream, /metrics and the UI', () => {
  const urls = new Set(routes.map((r) => r.url));
  for (const u of ['/api/v1/timeseries', '/api/v1/events', '/api/v1/history', '/api/v1/graph', '/api/v1/nodes/:id', '/api/v1/edges/:id', '/api/v1/clients', '/api/v1/agent', '/api/v1/health', '/api/v1/stream', '/api/v1/routes', '/metrics', '/', '/index.html']) {
    assert.ok(urls.has(u), `${u} in the route table`);
  }
  assert.ok(routes.some((r) => r.url.startsWith('/assets/')), 'UI assets in the route table');
  assert.ok(routes.some((r) => r.method === 'HEAD'), 'HEAD routes in the route table');
  assert.ok(routes.find((r) => r.url === '/api/v1/stream' && r.method === 'GET')!.websocket, 'the stream is a WebSocket route');
  const open = routes.filter((r) => r.public).map((r) => r.url);
  assert.ok(open.every((u) => u === '/api/v1/health' || !u.startsWith('/api/') && u !== '/metrics'), `only the UI and health are public: ${open.join(', ')}`);
  console.log(`routes covered (${routes.length}): ${routes.map((r) => `${r.method} ${r.url}`).join(', ')}`);
});

test('over HTTP, every spelling of every route answers 401 without the token and gets through with it', async () => {
  let requests = 0;
  const malformed = new Set<string>();
  const canonical = new Map<string, RawAnswer>();
  for (const r of routes.filter((x) => x.public)) canonical.set(`${r.method} ${r.url}`, await rawRequest(agent.url, concrete(r), { method: r.method }));
  for (const r of routes) {
    const variants = [...pathVariants(concrete(r)), { trick: 'absolute-form request target', path: `${agent.url}${concrete(r)}` }];
    for (const v of variants) {
      const label = `${r.method} ${v.path} (${v.trick})`;
      const bare = await rawRequest(agent.url, v.path, { method: r.method });
      requests++;
      if (r.public) {
        // A public route may be reached by another spelling; it then shows only what it shows anyway.
        const same = canonical.get(`${r.method} ${r.url}`)!;
        assert.ok(isUnauthorized(bare) || (bare.status === same.status && bare.body === same.body) || bare.status === 400 || bare.status === 404, `${label} without token: ${bare.status} ${bare.body.slice(0, 200)}`);
      } else {
        assert.ok(isUnauthorized(bare) || isMalformed(bare), `${label} without token: ${bare.status} ${bare.body.slice(0, 200)}`);
        if (!isUnauthorized(bare)) malformed.add(v.trick);
      }
      const withToken = await rawRequest(agent.url, v.path, { method: r.method, headers: BEARER });
      requests++;
      assert.notEqual(withToken.status, 401, `${label} with token`);
      assert.ok(withToken.status < 500, `${label} with token: ${withToken.status}`);
      if (!r.public) assert.ok(!leaksInternals(withToken.body), `${label}: no stack trace`);
      if (v.trick === 'as registered') {
        // Through: the route's own answer; routes that need parameters (timeseries) say which, as a 400.
        const ok = r.url === '/api/v1/stream' ? withToken.status === 426
          : withToken.status === 200 || (withToken.status === 400 && (r.method === 'HEAD' || JSON.parse(withToken.body).error === 'bad_request'))
            // a feature that is off on this agent (no --policy) answers from its own route, not the router's "no route"
            || (withToken.status === 404 && (r.method === 'HEAD' || !/no route/.test(JSON.parse(withToken.body).message)));
        assert.ok(ok, `${label} with token: ${withToken.status} ${withToken.body.slice(0, 200)}`);
      }
    }
  }
  console.log(`HTTP matrix: ${routes.length} routes, ${requests} requests; answered 400 (malformed) before routing: ${[...malformed].join(', ') || 'none'}`);
});

test('as a WebSocket upgrade, every spelling of every GET route is refused without the token', async () => {
  let requests = 0;
  for (const r of routes.filter((x) => x.method === 'GET')) {
    for (const v of pathVariants(concrete(r))) {
      const h = await wsHandshake(agent.url, v.path);
      requests++;
      h.socket?.destroy();
      const label = `upgrade ${v.path} (${v.trick}): ${h.status} ${h.body.slice(0, 200)}`;
      if (r.public) {
        // The UI's files and /api/v1/health are no WebSocket: refused (400), or 401/404 for spellings that match nothing.
        assert.ok([400, 401, 404].includes(h.status), label);
      } else {
        assert.ok(h.status === 401 || h.status === 400, label);
      }
    }
  }
  console.log(`WebSocket matrix: ${routes.filter((x) => x.method === 'GET').length} GET routes, ${requests} upgrades`);
});

test('with the token the stream opens under every spelling the router maps to it, and sends the map', async () => {
  let opened = 0;
  for (const v of pathVariants('/api/v1/stream')) {
    for (const how of ['header', 'query'] as const) {
      if (how === 'query' && v.path.includes('#')) continue; // "#x?token=" is one parameter named "x?token"
      const p = how === 'query' ? `${v.path}${v.path.includes('?') ? '&' : '?'}token=${TOKEN}` : v.path;
      const h = await wsHandshake(agent.url, p, how === 'header' ? BEARER : {});
      const label = `${p} (${v.trick}, token in ${how}): ${h.status} ${h.body.slice(0, 200)}`;
      assert.notEqual(h.status, 401, label);
      if (v.trick === 'as registered') assert.equal(h.status, 101, label);
      if (h.status === 101) {
        const first = JSON.parse(await firstTextFrame(h.socket!, h.head)) as { type: string; message?: string };
        // "#x" reads as a query parameter x: refused as unknown, which is fine.
        if (v.trick === 'trailing #') assert.match(first.message ?? '', /unknown parameter "x"/, label);
        else assert.equal(first.type, 'snapshot', label);
        if (first.type === 'snapshot') opened++;
      }
      h.socket?.destroy();
    }
  }
  assert.ok(opened >= 4, `opened ${opened}`);
});

test('only a whole, exact token opens the API', async () => {
  const graph = '/api/v1/graph';
  const tries: [string, string, Record<string, string>, boolean][] = [
    ['Bearer header', graph, BEARER, true],
    ['lower-case scheme', graph, { Authorization: `bearer ${TOKEN}` }, true],
    ['query', `${graph}?token=${TOKEN}`, {}, true],
    ['encoded query name', `${graph}?%74oken=${TOKEN}`, {}, true],
    ['wrong token', graph, { Authorization: 'Bearer wrong-token-0123456789' }, false],
    ['token prefix', graph, { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }, false],
    ['token plus a character', graph, { Authorization: `Bearer ${TOKEN}x` }, false],
    ['Basic scheme', graph, { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, false],
    ['bare token header', graph, { Authorization: TOKEN }, false],
    ['empty query token', `${graph}?token=`, {}, false],
    ['token given twice', `${graph}?token=${TOKEN}&token=${TOKEN}`, {}, false],
    ['upper-case query name', `${graph}?TOKEN=${TOKEN}`, {}, false],
    ['token in a cookie', graph, { Cookie: `token=${TOKEN}` }, false],
    ['token in another header', graph, { 'X-Token': TOKEN }, false],
  ];
  for (const [what, p, headers, ok] of tries) {
    const a = await rawRequest(agent.url, p, { headers });
    if (ok) assert.equal(a.status, 200, `${what}: ${a.body.slice(0, 200)}`);
    else assert.ok(isUnauthorized(a), `${what}: ${a.status} ${a.body.slice(0, 200)}`);
  }
});

test('paths no route knows answer 401 without the token (nothing about them leaks) and 404 JSON with it', async () => {
  for (const p of ['/nope', '/api', '/api/v1', '/api/v2/graph', '/api/v1/nodes', '/api/v1/nodes/', '/metricsx', '/index.htm', '/assets/', '/assets/nope.js', '/../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fpackage.json', '/.env', '/src/ui/dist/index.html']) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const bare = await rawRequest(agent.url, p, { method });
      assert.ok(isUnauthorized(bare), `${method} ${p} without token: ${bare.status} ${bare.body.slice(0, 120)}`);
      const a = await rawRequest(agent.url, p, { method, headers: BEARER });
      assert.ok([400, 404].includes(a.status) || (a.status === 405 && p.startsWith('/api/v1/nodes/')), `${method} ${p} with token: ${a.status} ${a.body.slice(0, 120)}`);
      if (method !== 'HEAD') assert.ok(JSON.parse(a.body).error, `${method} ${p}: JSON error`);
    }
  }
  // Methods a route does not have: 401 without the token (nothing leaks), then 405 naming the methods it has.
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    assert.ok(isUnauthorized(await rawRequest(agent.url, '/api/v1/graph', { method })), `${method} /api/v1/graph`);
    const a = await rawRequest(agent.url, '/api/v1/graph?window=1m', { method, headers: BEARER });
    assert.equal(a.status, 405, `${method} /api/v1/graph with token: ${a.body.slice(0, 120)}`);
    assert.equal(a.headers.allow, 'GET, HEAD');
    assert.equal(JSON.parse(a.body).error, 'method_not_allowed');
  }
});
