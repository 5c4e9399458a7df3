// The live service map end to end: a real dockerd, real containers, the real
// agent (`dhrishti run`), its HTTP and WebSocket API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import {
  TestDockerd, ensureTestImage, runContainer, createNetwork, composeLabels, nodeCommand, removeAll,
} from './support/dockerd.js';
import { startAgent, getJson, waitForGraph, freePort, type RunningAgent } from './support/agent.js';
import { start, stopAll } from './support/children.js';
import type { GraphEdge, GraphSnapshot, NodeDetail, EdgeDetail, RemoteClient, StreamMessage } from '../src/graph/types.js';

const NET = 'dhmap';
const REMOTE_NS = `dh-remote-${process.pid}`;
const HOST_IP = '198.18.7.1', REMOTE_IP = '198.18.7.2'; // benchmarking range, only on our own veth pair
const PAYLOAD = 100_000;
const SOCKET_LINK = `/tmp/dhrishti-test-docker-${process.pid}.sock`;

const DB = `require('net').createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); }).listen(5432);`;
/** api: HTTP on 8080, and a keep-alive pool of 2 connections to db opened at start, written to every 200 ms. */
const API = `
const net = require('net');
require('http').createServer((q, s) => { q.on('data', () => {}); q.on('end', () => s.end('ok')); }).listen(8080);
function pool() { const c = net.connect(5432, 'shop-db-1'); c.on('error', () => setTimeout(pool, 500)); setInterval(() => c.writable && c.write('x'.repeat(100)), 200); }
setTimeout(() => { pool(); pool(); }, 300);`;
const WEB = `
const http = require('http');
setInterval(() => { for (const h of ['shop-api-1', 'shop-api-2']) http.get({ host: h, port: 8080, agent: false }, (r) => r.resume()).on('error', () => {}); }, 300);`;
const BROKEN = `setInterval(() => require('net').connect(9999, 'shop-db-1').on('error', () => {}), 400);`;
const LATE = `setInterval(() => { const c = require('net').connect(5432, 'shop-db-1', () => c.end('hello')); c.on('error', () => {}); }, 300);`;
/** One keep-alive HTTP connection to api-1, a request on it every 200 ms. */
const KEEP = `
const http = require('http'), agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
setInterval(() => http.get({ host: 'shop-api-1', port: 8080, agent }, (r) => r.resume()).on('error', () => {}), 200);`;

let dockerd: TestDockerd;
let agent: RunningAgent;
let publishedPort: number;
let deadPort: number; // published on the db container, where nothing listens
const containers = ['shop-db-1', 'shop-api-1', 'shop-api-2', 'shop-web-1', 'shop-broken-1', 'shop-late-1', 'shop-keep-1', 'shop-after-1', 'shop-olddb-1', 'shop-stale-1'];
/** A database container removed while the agent runs, and an address of the network nobody ever held. */
const OLD_DB_IP = '172.31.250.201', NEVER_HELD_IP = '172.31.250.200';
let oldDbRemovedAt = 0;
const graphUrl = () => `${agent.url}/api/v1/graph?group=shop`;
const ids = (g: GraphSnapshot) => g.edges.map((e) => e.id).sort();
const edgeOf = (g: GraphSnapshot, source: string, target: string, port: number) => g.edges.find((e) => e.source === source && e.target === target && e.port === port);

async function shop(name: string, service: string, n: number, script: string, publish?: string[]) {
  return runContainer(dockerd, { name, network: NET, labels: composeLabels('shop', service, n), command: nodeCommand(script), publish });
}

before(async () => {
  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await createNetwork(dockerd, NET, { subnet: '172.31.250.0/24' });
  publishedPort = await freePort();
  deadPort = await freePort();
  await shop('shop-db-1', 'db', 1, DB, [`127.0.0.1:${deadPort}:7777`]);
  await shop('shop-api-1', 'api', 1, API, [`0.0.0.0:${publishedPort}:8080`]);
  await shop('shop-api-2', 'api', 2, API);
  await shop('shop-web-1', 'web', 1, WEB);
  await shop('shop-broken-1', 'broken', 1, BROKEN);
  await new Promise((r) => setTimeout(r, 1500)); // the api pools are open before the agent starts
  // A link outside dockerd's folder: stopping dockerd kills processes whose command line names that folder.
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, SOCKET_LINK);
  agent = await startAgent(['--docker-socket', SOCKET_LINK]);
  await runContainer(dockerd, { name: 'shop-olddb-1', network: NET, ip: OLD_DB_IP, labels: composeLabels('shop', 'olddb', 1), command: nodeCommand(DB) });
  await new Promise((r) => setTimeout(r, 2000)); // the agent hears of it from Docker's events
  await dockerd.cli(['rm', '-f', 'shop-olddb-1']);
  oldDbRemovedAt = Date.now();
});

after(async () => {
  if (agent?.child.stderr.length) console.log('agent stderr:\n' + agent.child.stderr.join('\n'));
  await stopAll();
  await agent?.stop();
  try { execFileSync('ip', ['netns', 'del', REMOTE_NS], { stdio: 'ignore' }); } catch { /* not made */ }
  try { execFileSync('ip', ['link', 'del', 'dhveth0'], { stdio: 'ignore' }); } catch { /* gone with the namespace */ }
  if (dockerd) { await removeAll(dockerd, containers, [NET]); await dockerd.stop(); }
  fs.rmSync(SOCKET_LINK, { force: true });
});

test('the map shows exactly the expected edges, named by Compose service, with failures and bytes', async () => {
  // The host itself sends a known payload through the published port (docker-proxy on loopback).
  const res = await fetch(`http://127.0.0.1:${publishedPort}/`, { method: 'POST', body: Buffer.alloc(PAYLOAD, 1) });
  assert.equal(await res.text(), 'ok');

  const expected = (g: GraphSnapshot) => {
    const host = g.edges.find((e) => e.target === 'svc:shop/api' && e.port === 8080 && e.source.startsWith('proc:'));
    return !!(edgeOf(g, 'svc:shop/api', 'svc:shop/db', 5432)?.bytes.sent && edgeOf(g, 'svc:shop/web', 'svc:shop/api', 8080)
      && edgeOf(g, 'svc:shop/broken', 'svc:shop/db', 9999) && host && host.bytes.sent >= PAYLOAD);
  };
  const g = await waitForGraph(graphUrl(), expected, 'the expected edges', 20000).catch(async (e) => {
    const all = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
    console.log(JSON.stringify(all.edges.map((x) => [x.id, x.bytes.sent, x.connections])), JSON.stringify(all.nodes.map((n) => [n.id, n.instances])));
    throw e;
  });
  const host = g.edges.find((e) => e.target === 'svc:shop/api' && e.source.startsWith('proc:'))!;
  // Resolver edges (protocol 'dns': the containers asked Docker's DNS for each other) are DNS capture's, tested in dns-docker.test.ts.
  assert.deepEqual(ids({ ...g, edges: g.edges.filter((e) => e.protocol !== 'dns') }), [
    host.id,
    'svc:shop/api|svc:shop/db|5432|tcp',
    'svc:shop/broken|svc:shop/db|9999|tcp',
    'svc:shop/web|svc:shop/api|8080|tcp',
  ].sort(), 'no edge missing, none extra (docker-proxy hidden behind the published port)');

  const pool = edgeOf(g, 'svc:shop/api', 'svc:shop/db', 5432)!;
  assert.equal(pool.connections.active, 4, 'the keep-alive pool that predates the agent: 2 replicas x 2');
  assert.equal(pool.connections.failed, 0);
  assert.ok(pool.bytes.sent > 0, 'pool traffic after start counted');

  const broken = edgeOf(g, 'svc:shop/broken', 'svc:shop/db', 9999)!;
  assert.ok(broken.connections.failedBy.refused >= 1, 'refused counted');
  assert.equal(broken.connections.failed, broken.connections.failedBy.refused);
  assert.equal(broken.connections.opened, 0, 'a refused connection is never counted as opened');

  const web = edgeOf(g, 'svc:shop/web', 'svc:shop/api', 8080)!;
  assert.ok(web.connections.opened >= 1);
  assert.equal(web.connections.failed, 0);

  const api = g.nodes.find((n) => n.id === 'svc:shop/api')!;
  assert.equal(api.kind, 'service');
  assert.equal(api.group, 'shop');
  assert.deepEqual(api.instances.map((i) => i.name).sort(), ['shop-api-1', 'shop-api-2'], 'two replicas, one service node');
  assert.equal(api.instances[0].image, 'dhrishti-node:test');

  const detail = (await getJson<EdgeDetail>(`${agent.url}/api/v1/edges/${encodeURIComponent(broken.id)}`)).body;
  assert.equal(detail.recentFailures[0].reason, 'refused');
  assert.ok(detail.recentFailures[0].clientPid > 0, 'failure sample names the client process');
  const node = (await getJson<NodeDetail>(`${agent.url}/api/v1/nodes/${encodeURIComponent('svc:shop/db')}`)).body;
  assert.ok(node.incoming.includes(pool.id));
});

test('a published port with nothing listening behind it: the host\'s calls fail as refused (docker-proxy\'s connect), not as reset', async () => {
  for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${deadPort}/`).then((r) => r.text(), () => 'failed');
  const dead = (g: GraphSnapshot) => g.edges.find((e) => e.target === 'svc:shop/db' && e.port === 7777 && e.connections.failed >= 3);
  const e = dead(await waitForGraph(graphUrl(), (g) => !!dead(g), 'the published port\'s failed calls', 20000))!;
  assert.equal(e.connections.failedBy.refused, e.connections.failed, `all refused: ${JSON.stringify(e.connections)}`);
  const detail = (await getJson<EdgeDetail>(`${agent.url}/api/v1/edges/${encodeURIComponent(e.id)}`)).body;
  assert.match(detail.recentFailures[0].error ?? '', /docker-proxy/);
});

test('a node\'s detail lists the ports it listens on, with their published bindings, for servers started before the agent', async () => {
  const api = (await getJson<NodeDetail>(`${agent.url}/api/v1/nodes/${encodeURIComponent('svc:shop/api')}`)).body;
  assert.deepEqual(api.listening, [{ port: 8080, published: [`0.0.0.0:${publishedPort}`] }], JSON.stringify(api.listening));
  const db = (await getJson<NodeDetail>(`${agent.url}/api/v1/nodes/${encodeURIComponent('svc:shop/db')}`)).body;
  assert.deepEqual(db.listening, [{ port: 5432, published: [] }], 'db listens on 5432; 7777 is published but nothing listens there');
});

test('a remote client (an outside host in its own namespace) is on the map and in the clients list', async () => {
  const sh = (...a: string[]) => execFileSync('ip', a);
  sh('netns', 'add', REMOTE_NS);
  sh('link', 'add', 'dhveth0', 'type', 'veth', 'peer', 'name', 'dhveth1');
  sh('link', 'set', 'dhveth1', 'netns', REMOTE_NS);
  sh('addr', 'add', `${HOST_IP}/30`, 'dev', 'dhveth0');
  sh('link', 'set', 'dhveth0', 'up');
  sh('netns', 'exec', REMOTE_NS, 'ip', 'addr', 'add', `${REMOTE_IP}/30`, 'dev', 'dhveth1');
  sh('netns', 'exec', REMOTE_NS, 'ip', 'link', 'set', 'dhveth1', 'up');
  sh('netns', 'exec', REMOTE_NS, 'ip', 'link', 'set', 'lo', 'up');
  const client = start('ip', ['netns', 'exec', REMOTE_NS, process.execPath, '-e',
    `require('http').get('http://${HOST_IP}:${publishedPort}/', (r) => { r.resume(); r.on('end', () => console.log('status ' + r.statusCode)); }).on('error', (e) => console.log('error ' + e.code));`]);
  await client.waitFor(/^status 200/, 15000);
  const g = await waitForGraph(graphUrl(), (x) => !!edgeOf(x, `client:${REMOTE_IP}`, 'svc:shop/api', 8080), 'remote client edge', 15000)
    .catch(async (e) => { console.log(JSON.stringify((await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body.edges.map((x) => x.id))); throw e; });
  assert.equal(g.nodes.find((n) => n.id === `client:${REMOTE_IP}`)!.kind, 'client');
  const clients = (await getJson<{ clients: RemoteClient[] }>(`${agent.url}/api/v1/clients`)).body.clients;
  const rc = clients.find((c) => c.ip === REMOTE_IP);
  assert.ok(rc, `remote client listed: ${JSON.stringify(clients)}`);
  assert.ok(rc!.targets.some((t) => t.node === 'svc:shop/api' && t.port === 8080));
});

test('a container started later appears with its edges (and a WebSocket delta); a stopped one keeps its history', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/api/v1/stream?group=shop`);
  const messages: StreamMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  await shop('shop-late-1', 'late', 1, LATE);
  const g = await waitForGraph(graphUrl(), (x) => !!edgeOf(x, 'svc:shop/late', 'svc:shop/db', 5432), 'edge of the late container');
  assert.ok(edgeOf(g, 'svc:shop/late', 'svc:shop/db', 5432)!.connections.opened >= 1);
  const deadline = Date.now() + 5000;
  const lateId = 'svc:shop/late|svc:shop/db|5432|tcp';
  while (Date.now() < deadline && !messages.some((m) => m.type === 'delta' && m.delta.edges.some((e: GraphEdge) => e.id === lateId))) await new Promise((r) => setTimeout(r, 100));
  ws.close();
  assert.equal(messages[0].type, 'snapshot', 'snapshot first');
  assert.ok(messages.some((m) => m.type === 'delta' && m.delta.edges.some((e) => e.id === lateId)), 'a delta carried the new edge');

  await dockerd.cli(['stop', '-t', '1', 'shop-web-1']);
  const after = await waitForGraph(graphUrl(), (x) => x.nodes.find((n) => n.id === 'svc:shop/web')?.instances[0]?.state === 'stopped', 'web marked stopped');
  assert.ok(edgeOf(after, 'svc:shop/web', 'svc:shop/api', 8080), 'the stopped container keeps its edge');
});

test('bad parameters get 400 with a JSON error; a non-loopback bind without a token refuses to start', async () => {
  for (const q of ['window=abc', 'include=everything', 'window=5m&bogus=1', 'window=-1s']) {
    const r = await getJson<{ error: string; message: string }>(`${agent.url}/api/v1/graph?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error, 'bad_request');
    assert.ok(r.body.message.length > 5);
  }
  assert.equal((await getJson(`${agent.url}/api/v1/edges/nope`)).status, 404);
  const open = start('./dhrishti', ['run', '--host', '0.0.0.0', '--port', String(await freePort()), '--no-docker']);
  const code = await open.exited;
  assert.notEqual(code, 0);
  assert.match(open.stderr.join('\n'), /token/);
});

test('an agent that reaches Docker late folds each container\'s provisional node into its named one: open connections and their requests included', async () => {
  const link = `/tmp/dhrishti-test-docker-late-${process.pid}.sock`;
  fs.rmSync(link, { force: true });
  const late = await startAgent(['--docker-socket', link]); // nothing there yet: containers are known by cgroup id alone
  try {
    await shop('shop-keep-1', 'keep', 1, KEEP);
    const keepId = (await dockerd.cli(['inspect', '-f', '{{.Id}}', 'shop-keep-1'])).slice(0, 12);
    const apiId = (await dockerd.cli(['inspect', '-f', '{{.Id}}', 'shop-api-1'])).slice(0, 12);
    const provisional = `ctr:${keepId}|ctr:${apiId}|8080|tcp`;
    const early = await waitForGraph(`${late.url}/api/v1/graph`, (x) => (x.edges.find((e) => e.id === provisional)?.requests?.[0]?.count ?? 0) >= 5, 'the keep-alive edge under container ids, with requests');
    const counted = early.edges.find((e) => e.id === provisional)!.requests![0].count;

    fs.symlinkSync(dockerd.socketPath, link); // Docker answers now
    const named = 'svc:shop/keep|svc:shop/api|8080|tcp';
    // Also no outside node for a container's address: broken's refused connects to db were placed by address alone.
    const unnamed = (n: GraphSnapshot['nodes'][number]) => /^ctr:[0-9a-f]{12}$/.test(n.id) || (n.kind === 'external' && n.ips.some((ip) => ip.startsWith('172.31.250.')));
    const g = await waitForGraph(`${late.url}/api/v1/graph`, (x) => !!x.edges.find((e) => e.id === named) && !x.nodes.some(unnamed),
      'every container named, no provisional node left', 20000).catch(async (e) => {
      const all = (await getJson<GraphSnapshot>(`${late.url}/api/v1/graph`)).body;
      console.log(JSON.stringify(all.edges.map((x) => [x.id, x.connections])));
      throw e;
    });
    assert.deepEqual(g.edges.filter((e) => /ctr:[0-9a-f]{12}\|/.test(e.id + '|')).map((e) => e.id), [], 'no edge left under a container id');
    const keep = g.edges.find((e) => e.id === named)!;
    assert.deepEqual([keep.connections.opened, keep.connections.active, keep.connections.failed], [1, 1, 0], 'its one connection, opened before the naming, now on the named edge');
    assert.ok(keep.requests![0].count >= counted, `the requests counted before the naming came along (${keep.requests![0].count} >= ${counted})`);
    assert.equal(edgeOf(g, 'svc:shop/api', 'svc:shop/db', 5432)?.connections.active, 4, 'the pools that predate this agent: 2 replicas x 2, on one edge');
    assert.ok((edgeOf(g, 'svc:shop/broken', 'svc:shop/db', 9999)?.connections.failedBy.refused ?? 0) >= 1, 'the refused connects placed by address are on db');
  } finally {
    await late.stop();
    fs.rmSync(link, { force: true });
    await removeAll(dockerd, ['shop-keep-1']);
  }
});

test('without Docker, kubelet\'s log links name pods\' containers (a containerd node); one linked late is folded into its name', async () => {
  // kubelet is not here: the test writes the links it writes, /var/log/containers/<pod>_<namespace>_<container>-<id>.log.
  const dir = fs.mkdtempSync('/tmp/dhrishti-test-kubelet-');
  const id = async (name: string) => dockerd.cli(['inspect', '-f', '{{.Id}}', name]);
  const link = async (container: string, pod: string, name: string) => fs.symlinkSync('/dev/null', path.join(dir, `${pod}_shop_${name}-${await id(container)}.log`));
  await link('shop-api-1', 'api-6c4d9b7f5-x2k4p', 'api');
  await link('shop-api-2', 'api-6c4d9b7f5-q8w3z', 'api');
  await link('shop-db-1', 'db-0', 'postgres');
  const k8s = await startAgent(['--no-docker', '--kubelet-logs', dir]);
  try {
    const url = `${k8s.url}/api/v1/graph`;
    const lateId = (await id('shop-late-1')).slice(0, 12);
    const g = await waitForGraph(url, (x) => edgeOf(x, 'svc:shop/api', 'svc:shop/db', 5432)?.connections.active === 4 && !!edgeOf(x, `ctr:${lateId}`, 'svc:shop/db', 5432),
      'api -> db by workload (Deployment api, StatefulSet db), late by container id', 20000);
    const api = g.nodes.find((n) => n.id === 'svc:shop/api')!;
    assert.deepEqual([api.kind, api.group, api.label], ['service', 'shop', 'api']);
    assert.deepEqual(api.instances.map((i) => i.name).sort(), ['api-6c4d9b7f5-q8w3z/api', 'api-6c4d9b7f5-x2k4p/api'], 'two pods, one workload node');

    await link('shop-late-1', 'late-28413950-x7k2p', 'late'); // a CronJob's pod (named like a Deployment's: workload late), linked after its first connections
    const after = await waitForGraph(url, (x) => !!edgeOf(x, 'svc:shop/late', 'svc:shop/db', 5432) && !x.nodes.some((n) => n.id === `ctr:${lateId}`),
      'late named by its link, its early edge folded in', 20000);
    assert.ok(edgeOf(after, 'svc:shop/late', 'svc:shop/db', 5432)!.connections.opened >= 1);
  } finally {
    await k8s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a client still pointed at a removed container\'s address calls a vacant address, which says whose it was; one nobody held says so too', async () => {
  // past the removed container's grace, when its address stops naming it (DEFAULTS.releasedAddressGraceMs, 30 s)
  await new Promise((r) => setTimeout(r, Math.max(0, oldDbRemovedAt + 31_000 - Date.now())));
  await shop('shop-stale-1', 'stale', 1, `setInterval(() => { for (const ip of ['${OLD_DB_IP}', '${NEVER_HELD_IP}']) require('net').connect(5432, ip).on('error', () => {}); }, 1000);`);
  const vacantOf = (g: GraphSnapshot, ip: string) => g.edges.some((e) => e.source === 'svc:shop/stale' && e.target === `ext:${ip}` && e.connections.failed > 0)
    ? g.nodes.find((n) => n.id === `ext:${ip}`)?.vacant : undefined;
  const g = await waitForGraph(`${agent.url}/api/v1/graph`, (x) => !!vacantOf(x, OLD_DB_IP) && !!vacantOf(x, NEVER_HELD_IP), 'failed calls to both vacant addresses', 30000);
  const old = vacantOf(g, OLD_DB_IP)!;
  assert.deepEqual([old.network, old.lastHolder, old.group], [NET, 'shop-olddb-1', 'shop']);
  assert.equal(g.nodes.find((n) => n.id === `ext:${OLD_DB_IP}`)!.group, 'shop', 'shop\'s own stale address is inside shop');
  assert.ok(Math.abs(old.lastHeldUntil! - oldDbRemovedAt) < 5000, `removed at ${oldDbRemovedAt}, said ${old.lastHeldUntil}`);
  assert.deepEqual(vacantOf(g, NEVER_HELD_IP), { network: NET, lastHolder: null, lastHeldUntil: null, group: 'shop' }, 'every container on the network is shop\'s');
  assert.equal(g.nodes.find((n) => n.id === 'svc:shop/olddb'), undefined, 'the removed service has no calls of the stale client');
});

test('restarting dockerd while the agent runs loses no identity for new containers', async () => {
  await dockerd.stop({ keepDir: true });
  dockerd = await TestDockerd.start({ dir: dockerd.dir });
  await dockerd.cli(['start', 'shop-db-1']);
  await shop('shop-after-1', 'after', 1, LATE);
  const g = await waitForGraph(graphUrl(), (x) => !!edgeOf(x, 'svc:shop/after', 'svc:shop/db', 5432), 'edge of a container started after the restart', 30000);
  assert.equal(g.nodes.find((n) => n.id === 'svc:shop/after')!.instances[0].name, 'shop-after-1');
});
