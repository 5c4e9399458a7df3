// The isolation policy end to end: a real dockerd with two compose-labelled
// tenants and a shared db, the real agent with --policy and --alert-webhook, a
// real HTTP receiver for the alerts. Tenant A's worker reaches tenant B's db,
// first refused, later connected; the policy file is edited while the agent runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { TestDockerd, ensureTestImage, runContainer, createNetwork, composeLabels, nodeCommand, removeAll } from './support/dockerd.js';
import { startAgent, getJson, freePort, type RunningAgent } from './support/agent.js';
import { until, sleep } from './support/wait.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import type { PolicyVerdict, StreamMessage } from '../src/graph/types.js';
import type { Violation } from '../src/policy/engine.js';

const run = promisify(execFile);
const NET = 'dhpolicy';
const LINK = `/tmp/dhrishti-policy-docker-${process.pid}.sock`;
const LISTEN = (port: number) => `require('net').createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); }).listen(${port});`;
/** Connects to host:port every 150 ms, sends a little, closes. */
const KNOCK = (host: string, port: number) => `setInterval(() => { const c = require('net').connect(${port}, '${host}', () => c.end('x')); c.on('error', () => {}); }, 150);`;
const A_TO_B = 'svc:shop-a/worker|svc:shop-b/db|5432|tcp';
const A_TO_B_CACHE = 'svc:shop-a/worker|svc:shop-b/db|6379|tcp';
const A_TO_SHARED = 'svc:shop-a/worker|svc:shared/db|5432|tcp';

const POLICY = `# tenants: A may reach itself and the shared db only
zones:
  tenant-a: {label: {tenant: a}}
  tenant-b: {compose_project: shop-b}
  shared-db: {compose_project: shared, compose_service: db}
rules:
  - name: tenant-a-stays-home
    allow-only: {from: tenant-a, to: [tenant-a, shared-db]}
  - name: nobody-into-b
    deny: {from: any, to: tenant-b}
`;

let dockerd: TestDockerd;
let agent: RunningAgent;
let dir: string;
let policyFile: string;
let receiver: http.Server;
const alerts: { labels: Record<string, string>; annotations: Record<string, string> }[] = [];
const containers = ['shop-a-worker-1', 'shop-b-db-1', 'shared-db-1', 'idle-1'];

interface PolicyBody {
  sha256: string; counts: Record<string, number>; lastError: { file: string; line: number; column: number; message: string } | null;
  verdicts: { edge: string; policy: PolicyVerdict }[]; violations: Violation[];
}
const policy = async () => (await getJson<PolicyBody>(`${agent.url}/api/v1/policy`)).body;
const violationOf = (p: PolicyBody, edge: string) => p.violations.find((v) => v.edge === edge);
const docker = (...args: string[]) => dockerd.cli(args);

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-policy-test-'));
  policyFile = path.join(dir, 'policy.yaml');
  fs.writeFileSync(policyFile, POLICY);
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { alerts.push(...JSON.parse(body)); res.writeHead(200).end(); });
  });
  const hookPort = await freePort();
  await new Promise<void>((r) => receiver.listen(hookPort, '127.0.0.1', () => r()));

  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await createNetwork(dockerd, NET, { subnet: '172.31.243.0/24' });
  // Tenant B's db runs but listens on nothing yet: connections to it are refused.
  await runContainer(dockerd, { name: 'shop-b-db-1', network: NET, labels: composeLabels('shop-b', 'db', 1) });
  await runContainer(dockerd, { name: 'shared-db-1', network: NET, labels: composeLabels('shared', 'db', 1), command: nodeCommand(LISTEN(5432)) });
  await runContainer(dockerd, { name: 'shop-a-worker-1', network: NET, labels: { ...composeLabels('shop-a', 'worker', 1), tenant: 'a' }, command: nodeCommand(KNOCK('shared-db-1', 5432)) });
  fs.rmSync(LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, LINK);
  agent = await startAgent(['--docker-socket', LINK, '--policy', policyFile, '--alert-webhook', `http://127.0.0.1:${hookPort}/api/v2/alerts`, '--flush-interval', '1s']);
  await until('the allowed edge to the shared db', async () => (await policy()).verdicts.find((v) => v.edge === A_TO_SHARED && v.policy.verdict === 'allowed') ?? undefined);
});

after(async () => {
  if (agent?.child.stderr.length) console.log('agent stderr:\n' + agent.child.stderr.join('\n'));
  await agent?.stop();
  if (dockerd) { await removeAll(dockerd, containers, [NET]); await dockerd.stop(); }
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  fs.rmSync(LINK, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('tenant A reaching tenant B\'s db: an attempted violation within 2 s, then an actual one; on the edge, in deltas, in /metrics', async () => {
  assert.equal((await policy()).violations.length, 0, 'no violation before the worker knocks');
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/api/v1/stream`);
  const streamed: PolicyVerdict[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as StreamMessage;
    const edges = m.type === 'snapshot' ? m.graph.edges : m.delta.edges;
    for (const e of edges) if (e.id === A_TO_B && e.policy) streamed.push(e.policy);
  });
  await new Promise((r) => ws.once('open', r));

  await docker('exec', '-d', 'shop-a-worker-1', ...nodeCommand(KNOCK('shop-b-db-1', 5432)));
  const t0 = Date.now();
  const attempted = await until('the attempted violation', async () => violationOf(await policy(), A_TO_B), 5000);
  const seenIn = Date.now() - t0;
  assert.ok(seenIn <= 2000, `the violation showed in the API ${seenIn} ms after the first knock (at most 2000)`);
  assert.equal(attempted.rule, 'tenant-a-stays-home');
  assert.equal(attempted.attempted, true);
  assert.equal(attempted.connections, 0);
  assert.ok(attempted.attempts >= 1);
  assert.ok(attempted.processes.client.some((p) => p.startsWith('shop-a-worker-1')), JSON.stringify(attempted.processes));
  const g = (await getJson<{ edges: { id: string; policy?: PolicyVerdict }[] }>(`${agent.url}/api/v1/graph`)).body;
  assert.deepEqual(g.edges.find((e) => e.id === A_TO_B)?.policy, { verdict: 'violation', rule: 'tenant-a-stays-home', attempted: true });
  assert.deepEqual(g.edges.find((e) => e.id === A_TO_SHARED)?.policy, { verdict: 'allowed', rule: 'tenant-a-stays-home' });

  // Tenant B's db starts listening: the knocks get through.
  await docker('exec', '-d', 'shop-b-db-1', ...nodeCommand(LISTEN(5432)));
  const actual = await until('the actual violation', async () => { const v = violationOf(await policy(), A_TO_B); return v && !v.attempted ? v : undefined; }, 10000);
  assert.ok(actual.connections >= 1);
  assert.equal(actual.firstSeen, attempted.firstSeen, 'the same violation, not a new one');
  await until('both states in the WebSocket deltas', async () => (streamed.some((p) => p.attempted === true) && streamed.some((p) => p.attempted === false) ? true : undefined), 5000);
  ws.close();
  assert.ok(streamed.every((p) => p.verdict === 'violation' && p.rule === 'tenant-a-stays-home'));

  const metrics = await (await fetch(`${agent.url}/metrics`)).text();
  // Labelled as edge series are, so they join them.
  const series = 'rule="tenant-a-stays-home",client="worker",client_group="shop-a",client_kind="service",server="db",server_group="shop-b",server_kind="service",server_port="5432",protocol="tcp",host="[^"]+"';
  const m = new RegExp(`dhrishti_policy_violations_total\\{${series}\\} (\\d+)`).exec(metrics);
  assert.ok(m && Number(m[1]) >= 2, `violations counted in /metrics:\n${metrics.split('\n').filter((l) => l.includes('policy')).join('\n')}`);
  assert.match(metrics, new RegExp(`dhrishti_policy_attempted_violations_total\\{${series}\\} [1-9]`));
});

test('the webhook gets exactly one alert per new violation', async () => {
  await until('the first alert', async () => (alerts.length ? true : undefined), 10000);
  await sleep(2000); // many more connections, and the attempted one got through: still one alert
  assert.equal(alerts.length, 1, JSON.stringify(alerts));
  // host: the same violation on two hosts is two alerts (the agent runs without --hostname: the machine's name)
  assert.deepEqual(alerts[0].labels, { alertname: 'DhrishtiPolicyViolation', rule: 'tenant-a-stays-home', client: 'svc:shop-a/worker', server: 'svc:shop-b/db', port: '5432', severity: 'critical', host: os.hostname() });
  assert.equal(alerts[0].annotations.attempted, 'true', 'first seen as attempted');

  await docker('exec', '-d', 'shop-a-worker-1', ...nodeCommand(KNOCK('shop-b-db-1', 6379)));
  await until('the second violation\'s alert', async () => (alerts.length >= 2 ? true : undefined), 10000);
  await sleep(1500);
  assert.equal(alerts.length, 2);
  assert.equal(alerts[1].labels.port, '6379');
  assert.equal(alerts[1].annotations.edge, A_TO_B_CACHE);
});

test('dhrishti check exits 1 and names the rule, against the live map and the history', async () => {
  const check = async (...args: string[]) => {
    try {
      const { stdout } = await run(path.join(REPO_ROOT, 'dhrishti'), ['check', '--policy', policyFile, '--url', agent.url, ...args]);
      return { code: 0, stdout };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
  const live = await check();
  assert.equal(live.code, 1, live.stdout);
  assert.match(live.stdout, /violation +tenant-a-stays-home +svc:shop-a\/worker +svc:shop-b\/db +5432/);
  assert.match(live.stdout, /shop-a-worker-1/);
  assert.match(live.stdout, /2 violations/);
  // A selector matching a running container that made no connection is a note saying so; a typo still warns.
  await runContainer(dockerd, { name: 'idle-1', network: NET });
  const withIdle = path.join(dir, 'with-idle.yaml');
  fs.writeFileSync(withIdle, `${POLICY}  - name: idle-alone\n    deny: {from: idle, to: typo}\n`.replace('zones:\n', 'zones:\n  idle: {name: idle-1}\n  typo: {name: shop-a-wroker-1}\n'));
  const noted = await until('idle-1 known to the agent', async () => { const r = await check('--policy', withIdle); return /idle-1 is running/.test(r.stderr ?? '') ? r : undefined; }, 10000);
  assert.match(noted.stderr!, /note: \S*with-idle\.yaml:3:9: zone "idle": selector \{name: idle-1\} matches no node in the live map at \S+ yet: idle-1 is running but made no connection the agent saw/);
  assert.match(noted.stderr!, /warning: \S*with-idle\.yaml:4:9: zone "typo": selector \{name: shop-a-wroker-1\} matches nothing in the live map/);
  assert.match(live.stdout, /CONNECTED +OPEN +ATTEMPTS/);
  await sleep(1500); // one more history flush
  const past = await check('--since', '5m', '--format', 'json');
  assert.equal(past.code, 1);
  const j = JSON.parse(past.stdout) as { source: string; edges: { rule: string; edge: string; open: number; beforeStart: number | null }[] };
  assert.match(j.source, /history/);
  assert.ok(j.edges.every((e) => typeof e.open === 'number' && e.beforeStart === null), 'a history map has no "before start"');
  assert.ok(j.edges.some((e) => e.edge === A_TO_B && e.rule === 'tenant-a-stays-home'));
  const bad = await check('--url', 'http://127.0.0.1:1');
  assert.equal(bad.code, 2, 'no agent: the check could not run');
  // a policy with two mistakes: both named, each with its place, before any agent is asked
  const wrong = path.join(path.dirname(policyFile), 'wrong.yaml');
  fs.writeFileSync(wrong, 'zones:\n  web: {compose_service: web}\nrules:\n  - name: x\n    deny: {from: nope, to: web}\n  - name: y\n    allow: {from: web, to: also-nope}\n');
  const invalid = await run(path.join(REPO_ROOT, 'dhrishti'), ['check', '--policy', wrong, '--url', 'http://127.0.0.1:1']).then(() => null, (e: { code: number; stderr: string }) => e);
  assert.equal(invalid?.code, 2);
  assert.match(invalid!.stderr, /wrong\.yaml:5:18: rules\[0\]\.deny\.from: unknown zone "nope".*\n +\S*wrong\.yaml:7:28: rules\[1\]\.allow\.to: unknown zone "also-nope"/);
});

test('an invalid edit is refused (file, line, column) and the old policy holds; a valid edit clears the verdict without a restart', async () => {
  const before = await policy();
  const pid = agent.child.pid;
  const t0 = Date.now();
  fs.writeFileSync(policyFile, POLICY.replace('allow-only: {from: tenant-a', 'allow-only: {form: tenant-a'));
  const refused = await until('the refusal', async () => (await policy()).lastError ?? undefined, 10000);
  assert.equal(refused.file, policyFile);
  assert.deepEqual([refused.line, refused.column], [8, 17]);
  assert.match(refused.message, /rules\[0\]\.allow-only: (missing "from"|unknown key "form")/);
  assert.ok((refused as unknown as { all: { message: string }[] }).all.some((e) => /unknown key "form"/.test(e.message)), 'every problem listed');
  const held = await policy();
  assert.equal(held.sha256, before.sha256, 'the old policy holds');
  assert.equal(violationOf(held, A_TO_B)?.rule, 'tenant-a-stays-home');
  assert.ok(agent.child.stderr.some((l) => /policy refused .*policy\.yaml:8:17: .*stays in force/.test(l)), agent.child.stderr.join('\n'));

  const cleared = POLICY.replace('to: [tenant-a, shared-db]', 'to: [tenant-a, shared-db, tenant-b]').replace(/  - name: nobody-into-b\n.*\n/, '');
  fs.writeFileSync(policyFile, cleared);
  const now = await until('the verdict cleared', async () => { const p = await policy(); return p.sha256 !== before.sha256 && !violationOf(p, A_TO_B) ? p : undefined; }, 10000);
  assert.equal(now.lastError, null);
  assert.deepEqual(now.verdicts.find((v) => v.edge === A_TO_B)?.policy, { verdict: 'allowed', rule: 'tenant-a-stays-home' });
  assert.equal(agent.child.pid, pid, 'same agent, no restart');
  const g = (await getJson<{ edges: { id: string; policy?: PolicyVerdict }[] }>(`${agent.url}/api/v1/graph`)).body;
  assert.deepEqual(g.edges.find((e) => e.id === A_TO_B)?.policy, { verdict: 'allowed', rule: 'tenant-a-stays-home' });

  // The timeline: first seen, got through, the loads and the refusal; and the past under the policy in force then.
  await sleep(1500);
  const ev = (await getJson<{ events: { time: number; type: string; edge: string | null; detail: Record<string, unknown> }[] }>(`${agent.url}/api/v1/events?from=-10m&type=policy_violation,policy_loaded,policy_rejected`)).body.events;
  const ab = ev.filter((e) => e.type === 'policy_violation' && e.edge === A_TO_B).map((e) => e.detail.news);
  assert.deepEqual(ab, ['new', 'connected']);
  assert.equal(ev.filter((e) => e.type === 'policy_rejected').length, 1);
  assert.equal(ev.filter((e) => e.type === 'policy_loaded').length, 2);
  const during = ev.find((e) => e.type === 'policy_violation' && e.edge === A_TO_B && e.detail.news === 'connected')!.time + 1;
  const past = (await getJson<PolicyBody & { sha256: string }>(`${agent.url}/api/v1/policy?at=${during}`)).body;
  assert.equal(past.sha256, before.sha256, 'the policy in force then');
  assert.equal(past.verdicts.find((v) => v.edge === A_TO_B)?.policy.verdict, 'violation');
  const pastGraph = (await getJson<{ edges: { id: string; policy?: PolicyVerdict }[] }>(`${agent.url}/api/v1/graph?at=${during}`)).body;
  assert.equal(pastGraph.edges.find((e) => e.id === A_TO_B)?.policy?.verdict, 'violation');
  assert.equal(t0 > 0, true);
});

test('a bad policy at start stops the agent with file, line and column', async () => {
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'zones:\n  a: {process: curl}\nrules:\n  - name: r\n    deny: {from: a, to: nowhere}\n  - name: s\n    deny: {from: elsewhere, to: a}\n');
  const r = await run(path.join(REPO_ROOT, 'dhrishti'), ['run', '--port', String(await freePort()), '--no-history', '--policy', bad]).then(() => ({ code: 0, stderr: '' }), (e) => e as { code: number; stderr: string });
  assert.equal(r.code, 2, 'a usage error, as a bad flag');
  assert.match(r.stderr, /^dhrishti: invalid policy: .*bad\.yaml:5:25: rules\[0\]\.deny\.to: unknown zone "nowhere".*\n/);
  assert.match(r.stderr, /\n  .*bad\.yaml:7:18: rules\[1\]\.deny\.from: unknown zone "elsewhere"/, 'every problem, one a line');
  assert.doesNotMatch(r.stderr, /more problem/);
});
