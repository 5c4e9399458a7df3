// The hub against a real Prometheus fed through the agent's own remote-write
// path: cross-host edges joined, history by range, and an honest answer when
// Prometheus is down, slow or failing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { TestPrometheus } from './support/prometheus.js';
import { freePort, getJson } from './support/agent.js';
import { start, stopAll, type Child } from './support/children.js';
import { until, sleep } from './support/wait.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import { fleetSnapshots, writeFleet, type FleetEdge } from '../src/export/testing.js';
import type { GraphSnapshot, NodeDetail } from '../src/graph/types.js';
import type { HubTelemetry } from '../src/hub/source.js';
import { launchBrowser } from './support/browser.js';

after(() => stopAll());

interface Hub { child: Child; url: string; stop(): Promise<void> }

/** A hub on Prometheus at `prometheus`, given with --prometheus, or in DHRISHTI_PROMETHEUS (`viaEnv`: not in ps). */
async function startHub(prometheus: string, args: string[] = [], viaEnv = false): Promise<Hub> {
  const port = await freePort();
  const child = start(path.join(REPO_ROOT, 'dhrishti'), ['hub', ...(viaEnv ? [] : ['--prometheus', prometheus]), '--port', String(port), '--refresh', '500ms', ...args],
    viaEnv ? { env: { ...process.env, DHRISHTI_PROMETHEUS: prometheus } } : {});
  await child.waitFor(/API on http/, 30_000);
  return { child, url: `http://127.0.0.1:${port}`, stop: () => child.stop() };
}

const EDGE = 'svc:fleet/web|svc:fleet/api|8080|tcp';

test('hub: cross-host edge joined once with hosts, counts from the client, past states by range', async () => {
  const prom = await TestPrometheus.start();
  const hub = await startHub(prom.url);
  try {
    const t0 = Date.now() - 120_000;
    const edges = (webApi: number): FleetEdge[] => [
      { from: [0, 'web'], to: [1, 'api'], port: 8080, opened: webApi, failed: 2 },
      { from: [1, 'api'], to: [1, 'db'], port: 5432, opened: 5 },
    ];
    await writeFleet(`${prom.url}/api/v1/write`, fleetSnapshots(2, edges(7), 'fleet', t0));
    await writeFleet(`${prom.url}/api/v1/write`, fleetSnapshots(2, edges(10), 'fleet', Date.now()));

    const g = await until('the joined edge', async () => {
      const r = await getJson<GraphSnapshot>(`${hub.url}/api/v1/graph`);
      return r.status === 200 && r.body.edges.some((e) => e.id === EDGE && e.connections.opened === 10) ? r.body : undefined;
    });
    const e = g.edges.find((x) => x.id === EDGE)!;
    assert.equal(e.connections.failed, 2, 'failures come from the client\'s view');
    assert.equal(e.connections.failedBy.refused, 2);
    assert.equal(e.bytes.sent, 10_000);
    assert.equal(g.edges.filter((x) => x.source === 'svc:fleet/web').length, 1, 'the server\'s view of the same connections is not a second edge');
    assert.ok(!g.nodes.some((n) => n.kind === 'external' || n.kind === 'client'), `no address stubs: ${g.nodes.map((n) => n.id).join(', ')}`);
    assert.deepEqual(g.nodes.find((n) => n.id === 'svc:fleet/web')!.hosts, ['host-0']);
    assert.deepEqual(g.nodes.find((n) => n.id === 'svc:fleet/api')!.hosts, ['host-1']);
    assert.equal(g.edges.find((x) => x.id === 'svc:fleet/api|svc:fleet/db|5432|tcp')!.connections.opened, 5);
    const api = (await getJson<NodeDetail>(`${hub.url}/api/v1/nodes/${encodeURIComponent('svc:fleet/api')}`)).body;
    assert.deepEqual(api.listening, [{ port: 8080, published: [] }], 'the node panel\'s ports, from its agent\'s listen rows');

    const tel = (await getJson<HubTelemetry>(`${hub.url}/api/v1/agent`)).body;
    assert.equal(tel.hub.state, 'ok');
    assert.equal((await getJson(`${hub.url}/api/v1/health`)).status, 200);
    assert.deepEqual(tel.agents.map((a) => [a.host, a.state]), [['host-0', 'up'], ['host-1', 'up']]);

    const iso = (t: number) => new Date(t).toISOString();
    const past = await getJson<GraphSnapshot & { from: number }>(`${hub.url}/api/v1/graph?from=${iso(t0 - 60_000)}&to=${iso(t0 + 30_000)}`);
    assert.equal(past.status, 200, JSON.stringify(past.body));
    assert.equal(past.body.edges.find((x) => x.id === EDGE)?.connections.opened, 7, 'the state two minutes ago');
    const later = await getJson<GraphSnapshot>(`${hub.url}/api/v1/graph?from=${iso(t0 + 30_000)}&to=now`);
    assert.equal(later.body.edges.find((x) => x.id === EDGE)?.connections.opened, 3, 'what happened since');
    const at = await getJson<GraphSnapshot>(`${hub.url}/api/v1/graph?at=${t0 + 1000}`);
    assert.equal(at.body.edges.find((x) => x.id === EDGE)?.connections.opened, 7);
    const bad = await getJson<{ message: string }>(`${hub.url}/api/v1/graph?from=now&to=-1h`);
    assert.equal(bad.status, 400);

    // Time series and events of the map's edge, from range queries.
    const ts = await getJson<{ step: number; points: { t: number; v: number | null }[] }>(`${hub.url}/api/v1/timeseries?edge=${encodeURIComponent(EDGE)}&metric=connections&from=${iso(t0 - 60_000)}&to=now&step=30s`);
    assert.equal(ts.status, 200, JSON.stringify(ts.body));
    assert.equal(ts.body.step, 30_000);
    const counted = ts.body.points.filter((p) => p.v);
    assert.deepEqual(counted.map((p) => p.v), [7, 3], 'opened as the edge appeared, then the three since');
    assert.ok(counted[0].t <= t0 && counted[1].t > t0 + 30_000);
    const ev = await getJson<{ events: { type: string; edge: string | null; node: string | null; detail: Record<string, unknown> }[]; unavailable?: { types: string[] } }>(`${hub.url}/api/v1/events?from=${iso(t0 - 60_000)}&to=now`);
    assert.equal(ev.status, 200, JSON.stringify(ev.body));
    // (The two reports are two minutes apart: depending on where the steps fall, the gap may also read as agents
    // stopping and edges vanishing in between, so only what must be there is asserted.)
    const kinds = new Set(ev.body.events.map((x) => `${x.type} ${x.edge ?? x.node ?? x.detail.host}`));
    for (const k of [
      'agent_started host-0', 'agent_started host-1',
      'edge_appeared svc:fleet/api|svc:fleet/db|5432|tcp', `edge_appeared ${EDGE}`, `failure ${EDGE}`,
      'node_appeared svc:fleet/api', 'node_appeared svc:fleet/db', 'node_appeared svc:fleet/web',
    ]) assert.ok(kinds.has(k), `${k} in ${[...kinds].join(', ')}`);
    assert.deepEqual(ev.body.events.find((x) => x.type === 'failure')!.detail, { reason: 'refused', count: 2, host: 'host-0' });
    assert.ok(ev.body.unavailable?.types.includes('container_started'), 'what only agents keep is named, not silently empty');

    // A second hub on the same Prometheus answers the same (no state of its own).
    const hub2 = await startHub(prom.url);
    try {
      const shape = (x: GraphSnapshot) => x.edges.map((e) => `${e.id} ${e.connections.opened} ${e.connections.failed} ${e.bytes.sent}`).sort();
      const g2 = await until('the second hub\'s map', async () => { const r = await getJson<GraphSnapshot>(`${hub2.url}/api/v1/graph`); return r.status === 200 ? r.body : undefined; });
      assert.deepEqual(shape(g2), shape((await getJson<GraphSnapshot>(`${hub.url}/api/v1/graph`)).body));
    } finally {
      await hub2.stop();
    }

    // The web UI on the hub: nodes boxed by host (and project), Prometheus and the agents in the status bar.
    const b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
    try {
      await b.openUi(hub.url);
      await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(EDGE)})`, 20_000, 'the joined edge drawn');
      const boxes = await b.page.evaluate(`(() => {
        const n = window.__dhrishti.cy.getElementById('svc:fleet/web');
        return [n.parent().id(), n.parent().parent().id(), n.parent().parent().data('label')];
      })()`);
      assert.deepEqual(boxes, ['group::host-0/fleet', 'host::host-0', 'host-0']);
      await b.waitFor(`document.querySelector('[data-testid=status-agents]')?.textContent.includes('2/2 up')`, 15_000, 'agents in the status bar');
      assert.equal(await b.page.getAttribute('[data-testid=status-prometheus]', 'data-state'), 'ok');
      await prom.stop();
      await b.waitFor(`document.querySelector('[data-testid=status-prometheus]')?.dataset.state === 'down'`, 20_000, 'Prometheus down in the status bar');
      assert.match((await b.page.textContent('[data-testid=status-prometheus]')) ?? '', /unreachable/);
      assert.deepEqual(b.errors.filter((e) => !/503|Failed to load resource|WebSocket/.test(e)), []);
    } finally {
      await b.close();
    }

    // Prometheus went away: the hub says so and serves no map as if it were true.
    const down = await until('the hub to notice', async () => {
      const r = await getJson<{ error: string; message: string }>(`${hub.url}/api/v1/graph`);
      return r.status === 503 ? r.body : undefined;
    });
    assert.match(down.message, /unreachable/);
    const t2 = (await getJson<HubTelemetry>(`${hub.url}/api/v1/agent`)).body;
    assert.equal(t2.hub.state, 'down');
    assert.ok(t2.hub.lastSuccess, 'it remembers when it last had a good map');
    assert.equal((await getJson(`${hub.url}/api/v1/graph?at=-1m`)).status, 503);
    const health = await getJson<{ status: string; message: string }>(`${hub.url}/api/v1/health`);
    assert.deepEqual([health.status, health.body.status], [503, 'unavailable'], 'its health says so too');
    assert.match(health.body.message, /unreachable/);
  } finally {
    await hub.stop();
    await prom.stop();
  }
});

test('hub: a slow or failing Prometheus is reported, never drawn as an empty map', async () => {
  let mode: 'error' | 'slow' | 'html' | 'ok' = 'error';
  const fake = http.createServer((req, res) => {
    req.resume();
    if (mode === 'error') { res.writeHead(503, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'storage is busy' })); }
    else if (mode === 'html') { res.writeHead(502, { 'Content-Type': 'text/html' }); res.end('<html>bad gateway</html>'); }
    else setTimeout(() => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } })); }, mode === 'ok' ? 0 : 1500);
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
  const failingFrom = Date.now();
  const hub = await startHub(url, ['--query-timeout', '300ms']);
  try {
    const state = async (want: string, message: RegExp) => until(`hub state ${want} ${message}`, async () => {
      const t = (await getJson<HubTelemetry>(`${hub.url}/api/v1/agent`)).body;
      return t.hub.state === want && message.test(t.hub.message ?? '') ? t : undefined;
    });
    await state('error', /storage is busy/);
    let g = await getJson<{ message: string }>(`${hub.url}/api/v1/graph`);
    assert.equal(g.status, 503);
    assert.match(g.body.message, /storage is busy/);
    mode = 'html';
    await state('error', /HTTP 502 with something that is not its API/);
    mode = 'slow';
    await state('slow', /no answer within 300 ms/);
    g = await getJson<{ message: string }>(`${hub.url}/api/v1/graph`);
    assert.equal(g.status, 503);
    const okFrom = Date.now();
    mode = 'ok';
    const back = await until('the hub to say Prometheus is back', async () => /Prometheus answers again \(slow since (\S+)\)/.exec(hub.child.stderr.join('\n')) ?? undefined);
    const since = Date.parse(back[1]);
    assert.ok(since >= failingFrom - 1000 && since < okFrom - 500, `down since the first failure (${back[1]}), not the last try`);
    await sleep(100);
  } finally {
    await hub.stop();
    fake.closeAllConnections();
    await new Promise<void>((r) => fake.close(() => r()));
  }
});

test('hub: --token-file as run takes it; off loopback without a token it refuses to start', async () => {
  const refused = start(path.join(REPO_ROOT, 'dhrishti'), ['hub', '--prometheus', 'http://127.0.0.1:1', '--host', '0.0.0.0', '--port', String(await freePort())]);
  assert.equal(await refused.exited, 2);
  assert.match(refused.stderr.join('\n'), /refusing to listen on 0\.0\.0\.0 without a token: .*; pass --token-file <path> or set DHRISHTI_TOKEN/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-hub-token-'));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, 'a-hub-token-of-32-characters-xx\n', { mode: 0o600 });
  const hub = await startHub('http://127.0.0.1:1', ['--token-file', file]);
  try {
    assert.equal((await fetch(`${hub.url}/api/v1/agent`)).status, 401);
    assert.equal((await fetch(`${hub.url}/api/v1/agent`, { headers: { authorization: 'Bearer a-hub-token-of-32-characters-xx' } })).status, 200);
    assert.ok(!hub.child.stderr.join('\n').includes('visible to every user'));
  } finally {
    await hub.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('hub: a Prometheus that wants a password is read with the user and password of --prometheus, which never show', async () => {
  // bcrypt of 'hub-s3cret' (Prometheus' web config keeps only the hash)
  const auth = { user: 'hub', password: 'hub-s3cret', bcrypt: '$2b$04$FHWVgWvmSig5/v.eBRBl9Onv6QQP/HZfypgiwxvMsB31mPiv1QRym' };
  const prom = await TestPrometheus.start({ basicAuth: auth });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-hub-auth-'));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, 'a-hub-token-of-32-characters-xx\n', { mode: 0o600 });
  const bearer = { authorization: 'Bearer a-hub-token-of-32-characters-xx' };
  const withUser = (pass: string) => prom.url.replace('http://', `http://${auth.user}:${pass}@`);
  const hubs: Hub[] = [];
  try {
    assert.equal((await fetch(`${prom.url}/api/v1/query?query=1`)).status, 401, 'this Prometheus refuses a request without the password');
    // A URL it refuses is refused without repeating the password (commander's own message would).
    const refused = start(path.join(REPO_ROOT, 'dhrishti'), ['hub', '--prometheus', 'ftp://u:bad-s3cret@host/', '--port', String(await freePort())]);
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr.join('\n'), /--prometheus must be http\(s\), got "ftp:\/\/\*\*\*@host\/"/);
    const good = await startHub(withUser(auth.password), ['--token-file', file], true); // the password kept out of ps
    hubs.push(good);
    const tel = await until('the hub reading Prometheus with the password', async () => {
      const t = (await getJson<HubTelemetry>(`${good.url}/api/v1/agent`, bearer)).body;
      return t.hub.state === 'ok' ? t : undefined;
    });
    assert.equal(tel.hub.prometheus, prom.url, 'the URL it shows has no user or password');
    // A wrong password: the reason is told to a caller with the token only, and names no password.
    const bad = await startHub(withUser('wrong-s3cret'), ['--token-file', file]);
    hubs.push(bad);
    await until('the refusal', async () => ((await getJson<HubTelemetry>(`${bad.url}/api/v1/agent`, bearer)).body.hub.state === 'error' ? true : undefined));
    const open = await getJson<Record<string, unknown>>(`${bad.url}/api/v1/health`);
    assert.deepEqual([open.status, open.body], [503, { status: 'unavailable' }], 'no reason without the token');
    const told = await getJson<{ message: string }>(`${bad.url}/api/v1/health`, bearer);
    assert.equal(told.status, 503);
    assert.match(told.body.message, /HTTP 401/);
    for (const h of hubs) {
      const said = [...h.child.lines, ...h.child.stderr].join('\n') + JSON.stringify((await getJson(`${h.url}/api/v1/agent`, bearer)).body) + told.body.message;
      assert.ok(!said.includes('s3cret'), `no password in the hub's log or answers: ${said.slice(0, 400)}`);
    }
  } finally {
    for (const h of hubs) await h.stop();
    await prom.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
