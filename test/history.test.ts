// History end to end: the real agent records real loopback connections, is
// stopped (SIGTERM) and started again on the same data folder, and still serves them.
import { until } from './support/wait.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { node, start, stopAll, type Child } from './support/children.js';
import { SERVER, CLIENT, SINK, HOLDER } from './support/scripts.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import type { GraphEdge, GraphSnapshot } from '../src/graph/types.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-history-e2e-'));
after(async () => {
  await stopAll();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    }).on('error', reject);
  });
}

async function agent(port: number): Promise<Child> {
  const a = start(path.join(REPO_ROOT, 'dhrishti'), ['run', '--port', String(port), '--data-dir', dataDir, '--no-docker', '--flush-interval', '1s']);
  await a.waitFor(/API on http/, 30_000);
  return a;
}

async function get(port: number, url: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}${url}`);
  const body = await r.json();
  assert.equal(r.status, 200, `${url}: ${JSON.stringify(body)}`);
  return body;
}


test('a restarted agent still serves the connections its earlier run recorded', async () => {
  const port1 = await freePort();
  const first = await agent(port1);
  assert.ok(first.lines.some((l) => l.includes(`history in ${dataDir}`)), first.lines.join('\n'));
  const server = node(SERVER, ['127.0.0.1', '64']);
  const serverPort = Number((await server.waitFor(/^port (\d+)/))[1]);
  const began = Date.now();
  for (let i = 0; i < 3; i++) {
    const c = node(CLIENT, ['127.0.0.1', String(serverPort), '1000']);
    assert.equal((await c.waitFor(/^done (\d+)/))[1], '64');
  }
  const done = Date.now();
  const ours = (g: { edges: GraphEdge[] }) => g.edges.find((e) => e.port === serverPort && e.connections.opened >= 3);
  const recorded = await until('the edge in the history', async () => ours(await get(port1, `/api/v1/graph?from=${began - 1000}&to=now`)));
  assert.equal(recorded.source, 'proc:node');
  assert.equal(recorded.target, 'proc:node');
  // A connection that stays open across the restart: opened once in the history, not again at the second start.
  const sink = node(SINK, ['127.0.0.1']);
  const sinkPort = Number((await sink.waitFor(/^port (\d+)/))[1]);
  node(HOLDER, ['127.0.0.1', String(sinkPort)]);
  const held = (g: { edges: GraphEdge[] }) => g.edges.find((x) => x.port === sinkPort && x.connections.active === 1);
  await until('the held connection on the first agent\'s map', async () => held(await get(port1, '/api/v1/graph')));
  // The edge's last activity on the live map (ms): what every past view must say, not the end of a bucket.
  const liveEdge = (await get(port1, '/api/v1/graph')).edges.find((x: GraphEdge) => x.id === recorded.id) as GraphEdge;
  const lastSeen = liveEdge.lastSeen;
  assert.equal(liveEdge.clientInstances?.length, 3, `each client run by its pid: ${liveEdge.clientInstances}`);
  assert.ok(lastSeen >= began && lastSeen < done + 1000, `live lastSeen ${lastSeen - began} ms after the clients began`);

  await first.stop(); // SIGTERM: the last interval is written, the file closed
  assert.equal(await first.exited, 0, first.stderr.join('\n'));

  const port2 = await freePort();
  const second = await agent(port2);
  const range = await get(port2, `/api/v1/graph?from=${began - 1000}&to=${done + 5000}`);
  const e = ours(range);
  assert.ok(e, `edge to port ${serverPort} in ${JSON.stringify(range.edges.map((x: GraphEdge) => x.id))}`);
  assert.equal(e.id, recorded.id);
  assert.equal(e.connections.opened, 3);
  assert.equal(e.connections.failed, 0);
  assert.deepEqual(e.bytes, { sent: 3000, received: 192 });
  assert.deepEqual(e.clientInstances, ['node'], `the range names the program that made the calls (a host process by name, not each run's pid: ${liveEdge.clientInstances})`);
  assert.equal(e.lastSeen, lastSeen, `a range's lastSeen is the edge's last activity (${new Date(lastSeen).toISOString()}), not a bucket's end`);
  assert.equal(range.nodes.find((n: { id: string }) => n.id === 'proc:node').lastSeen >= lastSeen, true);
  assert.ok(range.nodes.some((n: { id: string }) => n.id === 'proc:node'));

  // The CLI prints the same past map.
  const cli = await run(['graph', '--url', `http://127.0.0.1:${port2}`, '--from', String(began - 1000), '--to', String(done + 5000)]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual((JSON.parse(cli.stdout) as GraphSnapshot).edges.find((x) => x.id === recorded.id)?.connections, e.connections, 'graph --from: the range\'s numbers');
  assert.equal(cli.stderr, '', 'recorded: no warning');
  const before = await run(['graph', '--url', `http://127.0.0.1:${port2}`, '--at', String(began - 3_600_000)]);
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stderr, /nothing was recorded in that time \(the agent was not running\)/, 'an hour before the first run: the empty map says nothing');

  const at = await get(port2, `/api/v1/graph?at=${done}`);
  assert.ok(at.edges.some((x: GraphEdge) => x.id === recorded.id), 'at= shows it');
  assert.equal(at.edges.find((x: GraphEdge) => x.id === recorded.id).lastSeen, lastSeen, 'at=: its last activity, in the bucket holding `at` whose numbers these are');
  assert.equal(second.lines.filter((l) => /history in/.test(l)).length, 1);

  const series = await get(port2, `/api/v1/timeseries?edge=${encodeURIComponent(recorded.id)}&metric=connections&from=${began - 60_000}&to=now`);
  assert.equal(series.points.reduce((s: number, p: { v: number }) => s + p.v, 0), 3);
  const events = await get(port2, `/api/v1/events?from=${began - 60_000}&to=now`);
  const types = events.events.map((x: { type: string }) => x.type);
  assert.deepEqual(types.filter((t: string) => t.startsWith('agent_')).slice(-3), ['agent_started', 'agent_stopped', 'agent_started']);
  assert.ok(events.events.some((x: { type: string; edge: string }) => x.type === 'edge_appeared' && x.edge === recorded.id));
  const live = await until('the held connection on the second agent\'s map', async () => held(await get(port2, '/api/v1/graph')));
  assert.equal(live.connections.opened, 0, 'found open at start: active, not opened');
  await new Promise((r) => setTimeout(r, 2500)); // two flushes
  const whole = held(await get(port2, `/api/v1/graph?from=${began - 1000}&to=now`)) ?? (await get(port2, `/api/v1/graph?from=${began - 1000}&to=now`)).edges.find((x: GraphEdge) => x.port === sinkPort);
  assert.equal(whole?.connections.opened, 1, `opened once over both runs: ${JSON.stringify(whole?.connections)}`);
  await second.stop();
  assert.equal(await second.exited, 0);

  // `check --data-dir` reads the stopped agent's file, and only reads
  const policy = path.join(dataDir, 'policy.yaml');
  fs.writeFileSync(policy, 'zones:\n  local: {process: node}\nrules:\n  - name: no-local-talk\n    deny: {from: local, to: local}\n');
  const check = (dir: string) => run(['check', '--policy', policy, '--data-dir', dir, '--since', '15m', '--format', 'json']);
  const read = await check(dataDir);
  assert.equal(read.code, 1, read.stderr);
  const row = (JSON.parse(read.stdout) as { edges: { edge: string; lastSeen: number }[] }).edges.find((x) => x.edge === recorded.id);
  assert.ok(row, read.stdout);
  assert.equal(row.lastSeen, lastSeen, 'check --since 15m: LAST SEEN is the last connection, not the end of a 1 m or 10 s bucket');
  const missing = path.join(dataDir, 'no-such-folder');
  const none = await check(missing);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no history database at .*no-such-folder/);
  assert.equal(fs.existsSync(missing), false, 'no folder made for it');
  const damaged = fs.mkdtempSync(path.join(dataDir, 'damaged-'));
  fs.writeFileSync(path.join(damaged, 'history.db'), Buffer.alloc(8192, 0x5a));
  const bad = await check(damaged);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /history\.db|damaged|not a database/);
  assert.deepEqual(fs.readdirSync(damaged), ['history.db'], 'the damaged file is left where it was, and nothing new is made');
});

/** Runs the dhrishti command; its exit code and output. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(path.join(REPO_ROOT, 'dhrishti'), args).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
}
