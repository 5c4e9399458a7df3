// Property-based fuzzing of the real `dhrishti run` over its own route table (read from
// /api/v1/routes) with fast-check: every route, every parameter it knows (learnt from the
// agent's own "unknown parameter" answer) plus random ones, random values and encodings,
// with and without the token, over HTTP and as WebSocket upgrades. The property: never a 5xx,
// never a stack trace or an internal path, and every answer that is not a 2xx is JSON with an
// `error` code. DHRISHTI_FUZZ_RUNS scales the run (default 2000 HTTP requests, 300 upgrades).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningAgent } from '../support/agent.js';
import { rawRequest, wsHandshake, firstTextFrame, leaksInternals, type RouteRow, type RawAnswer } from '../support/http.js';
import { startGuarded, type Guarded } from './guarded.js';

const RUNS = Number(process.env.DHRISHTI_FUZZ_RUNS ?? 2000);
const WS_RUNS = Math.max(50, Math.round(RUNS * 0.15));
const TOKEN = 'fuzz-token-0123456789abcdef';
let g: Guarded;
let agent: RunningAgent;
let routes: RouteRow[];
const known = new Map<string, string[]>(); // route url -> parameters it takes
const ids = { nodes: [] as string[], edges: [] as string[] };

before(async () => {
  g = await startGuarded(TOKEN);
  agent = g.agent;
  routes = g.routes;
  ids.nodes = g.nodes;
  ids.edges = g.edges;
  const history = JSON.parse((await rawRequest(agent.url, '/api/v1/history', { headers: { Authorization: `Bearer ${TOKEN}` } })).body) as { metrics?: Record<string, unknown>; eventTypes?: string[] };
  metrics.push(...Object.keys(history.metrics ?? {}));
  eventTypes.push(...(history.eventTypes ?? []));
  // Each route names the parameters it takes when given one it does not.
  for (const r of routes.filter((x) => x.method === 'GET')) {
    const a = await rawRequest(agent.url, `${r.url.replace(':id', 'x')}?zz_probe=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const m = /known: ([^"]*)/.exec(a.body);
    known.set(r.url, m ? m[1].split(',').map((s) => s.trim()).filter((s) => s && s !== 'none') : []);
  }
});

after(async () => { await g?.stop(); });

// --- generators -------------------------------------------------------------------------------

const PROTO = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__'];
const value = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom('', ' ', '0', '1', '-1', '1.5', '1e309', 'NaN', 'Infinity', '-Infinity', '9'.repeat(40), '0x10', 'true', 'null', '[]', '{}',
    '30s', '5m', '1h', '2d', '1500ms', '0s', '-5m', '367d', '1.5h', '1 h', 'now', '-10m', '-1h', 'now-1h', '+1h', '2024-02-30', '2024-02-29T12:00:00Z',
    '2024-13-01', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2024-01-01T00:00:00+25:00', String(Date.now()), String(Date.now() - 3600_000), '-99999999999999999',
    'external', 'host', 'clients', 'external,host,clients', 'external,,bogus', 'connections', 'failures', 'bytes_sent', 'bytes_received', 'rtt', 'failure', 'edge_appeared,bogus',
    '10', '10000', '10001', '100000000', ...PROTO, '%', '%zz', '%00', '\u0000', '\n', '\r\nX-Injected: 1', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '"', '\\', '😀', 'é', '\uffff'),
  fc.constantFrom(...ids.nodes, ...ids.edges),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: 1, max: 4000 }).map((n) => 'x'.repeat(n)),
);

const paramName = (url: string): fc.Arbitrary<string> => fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...(known.get(url)?.length ? known.get(url)! : ['token'])) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO, 'token', 'TOKEN', 'a[b]', 'a.b', '', '%', 'window[0]') },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
);

/** How a string goes into the URL: percent-encoded, double-encoded, raw where HTTP allows, or with + for spaces. */
const encode: fc.Arbitrary<string> = fc.constantFrom('encoded', 'double', 'raw', 'plus', 'partial');
function put(v: string, how: string): string {
  const enc = encodeURIComponent(v);
  switch (how) {
    case 'double': return encodeURIComponent(enc);
    case 'raw': return [...v].map((c) => (/[\x21-\x7e]/.test(c) && c !== '#' ? c : encodeURIComponent(c))).join('');
    case 'plus': return enc.replace(/%20/g, '+');
    case 'partial': return enc.replace(/%2[Ff]/g, '/').replace(/%3[Aa]/g, ':');
    default: return enc;
  }
}

/** Plausible values by parameter name, so that requests get past the first check and reach the deep code. */
const plausible = (name: string): fc.Arbitrary<string> => {
  const pick: Record<string, string[]> = {
    window: ['30s', '5m', '1h'], group: ['host', 'shop'], include: ['external,host', 'clients', 'external,host,clients'],
    at: ['now', '-1m', '-30s', String(Date.now() - 5000)], from: ['-1h', '-5m', '-10s', String(Date.now() - 60_000)], to: ['now', '-1s'],
    edge: ids.edges, node: ids.nodes, metric: metrics, step: ['10s', '1m', '1s'], limit: ['1', '10', '1000'], type: eventTypes.slice(0, 3),
  };
  return pick[name]?.length ? fc.constantFrom(...pick[name]) : value();
};
const metrics: string[] = [];
const eventTypes: string[] = [];

interface Case { route: RouteRow; method: string; id: string; idHow: string; params: [string, string, string][]; auth: 'header' | 'query' | 'none' | 'wrong' }

const requestCase = (): fc.Arbitrary<Case> => fc.constantFrom(...routes).chain((route) => fc.record({
  route: fc.constant(route),
  method: fc.oneof({ weight: 8, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND') }),
  id: fc.oneof(fc.constantFrom(...(route.url.includes('/edges/') ? ids.edges : ids.nodes)), value()),
  idHow: encode,
  params: fc.oneof(
    // Mostly the route's own parameters, each absent, plausible or random...
    { weight: 4, arbitrary: fc.tuple(...(known.get(route.url) ?? []).filter((k) => k !== 'token').map((k) => fc.option(fc.tuple(fc.constant(k), fc.oneof({ weight: 3, arbitrary: plausible(k) }, { weight: 1, arbitrary: value() }), encode), { freq: 2 })))
      .map((xs) => (xs as ([string, string, string] | null)[]).filter((x): x is [string, string, string] => x !== null)) },
    // ...and sometimes anything at all.
    { weight: 1, arbitrary: fc.array(fc.tuple(paramName(route.url), value(), encode), { maxLength: 5 }) },
  ),
  auth: fc.constantFrom('header', 'header', 'header', 'query', 'none', 'wrong'),
}));

function build(c: Case): { path: string; headers: Record<string, string> } {
  let p = c.route.url.includes(':id') ? c.route.url.replace(':id', c.id === '' ? '' : put(c.id, c.idHow)) : c.route.url;
  const q = c.params.map(([k, v, how]) => `${put(k, how === 'double' ? 'encoded' : how)}=${put(v, how)}`);
  if (c.auth === 'query') q.push(`token=${TOKEN}`);
  if (q.length) p += `?${q.join('&')}`;
  const headers: Record<string, string> = {};
  if (c.auth === 'header') headers.Authorization = `Bearer ${TOKEN}`;
  if (c.auth === 'wrong') headers.Authorization = 'Bearer not-the-token-at-all';
  return { path: p, headers };
}

// --- the property -------------------------------------------------------------------------------

const statuses = new Map<number, number>();
const perRoute = new Map<string, number>();

function check(label: string, method: string, a: RawAnswer): void {
  statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  assert.ok(a.status < 500, `${label}: ${a.status} ${a.body.slice(0, 300)}`);
  const json = /^application\/json/.test(String(a.headers['content-type'] ?? ''));
  if (json || a.status >= 300) assert.ok(!leaksInternals(a.body), `${label}: leaks internals: ${a.body.slice(0, 300)}`);
  if (a.status >= 300 && method !== 'HEAD' && !(method === 'OPTIONS' && a.status === 204)) {
    assert.ok(json, `${label}: ${a.status} is not JSON (${a.headers['content-type']}): ${a.body.slice(0, 200)}`);
    const body = JSON.parse(a.body) as { error?: unknown; message?: unknown };
    assert.equal(typeof body.error, 'string', `${label}: no error code in ${a.body.slice(0, 200)}`);
    assert.match(body.error as string, /^[a-z_]+$/, `${label}: error code`);
  }
}

test(`HTTP: ${RUNS} random requests over every route and parameter: no 5xx, no stack trace, JSON errors`, async () => {
  let n = 0;
  await fc.assert(fc.asyncProperty(requestCase(), async (c) => {
    const { path: p, headers } = build(c);
    // Beyond 16 KB the HTTP parser answers for us (431, tested in long-ids); stay under it.
    fc.pre(p.length < 15_000);
    const a = await rawRequest(agent.url, p, { method: c.method, headers });
    n++;
    perRoute.set(c.route.url, (perRoute.get(c.route.url) ?? 0) + 1);
    check(`${c.method} ${p.slice(0, 300)} (auth ${c.auth})`, c.method, a);
    if (c.auth === 'none' || c.auth === 'wrong') {
      if (!c.route.public) assert.ok(a.status === 401 || a.status === 400, `${c.method} ${p.slice(0, 200)} without the token: ${a.status}`);
    }
  }), { numRuns: RUNS, endOnFailure: true });
  const health = await rawRequest(agent.url, '/api/v1/health');
  assert.equal(health.status, 200, 'the agent is still up');
  console.log(`fuzz HTTP: ${n} requests over ${perRoute.size} routes; by route: ${[...perRoute].map(([r, k]) => `${r} ${k}`).join(', ')}; by status: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, k]) => `${s}×${k}`).join(' ')}`);
});

test(`WebSocket: ${WS_RUNS} random upgrades of the stream and other routes`, async () => {
  let n = 0, opened = 0, refusedInBand = 0;
  const streamLike = routes.filter((r) => r.method === 'GET');
  await fc.assert(fc.asyncProperty(
    fc.record({
      route: fc.oneof({ weight: 4, arbitrary: fc.constant(routes.find((r) => r.url === '/api/v1/stream')!) }, { weight: 1, arbitrary: fc.constantFrom(...streamLike) }),
      params: fc.array(fc.tuple(paramName('/api/v1/stream'), value(), encode), { maxLength: 4 }),
      auth: fc.constantFrom('header', 'query', 'none'),
      origin: fc.constantFrom(undefined, 'same', 'http://127.0.0.1:1', 'null'),
    }),
    async ({ route, params, auth, origin }) => {
      const { path: p, headers } = build({ route, method: 'GET', id: ids.nodes[0], idHow: 'encoded', params, auth });
      fc.pre(p.length < 15_000);
      if (origin) headers.Origin = origin === 'same' ? agent.url : origin;
      const h = await wsHandshake(agent.url, p, headers);
      n++;
      try {
        if (h.status !== 101) { check(`upgrade ${p.slice(0, 200)}`, 'GET', { status: h.status, headers: h.headers, body: h.body }); return; }
        assert.equal(route.url, '/api/v1/stream', `only the stream upgrades, not ${p.slice(0, 200)}`);
        assert.ok(auth !== 'none', `upgrade of ${p.slice(0, 200)} without the token was accepted`);
        assert.ok(!origin || origin === 'same', `upgrade from Origin ${origin} was accepted`);
        opened++;
        const first = JSON.parse(await firstTextFrame(h.socket!, h.head)) as { type: string; message?: string };
        if (first.type === 'error') { refusedInBand++; assert.ok(first.message && !leaksInternals(first.message), first.message); }
        else assert.equal(first.type, 'snapshot');
      } finally {
        h.socket?.destroy();
      }
    },
  ), { numRuns: WS_RUNS, endOnFailure: true });
  console.log(`fuzz WebSocket: ${n} upgrades, ${opened} streams opened (${refusedInBand} refused in band for bad parameters)`);
});
