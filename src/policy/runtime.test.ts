// The policy in a running process: reloaded when the file changes and on
// SIGHUP, a bad file refused with the old policy kept; and `dhrishti check`
// reading a stopped agent's history file (--data-dir).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PolicyRuntime, type TimelineEvent } from './runtime.js';
import { policyMetrics } from './metrics.js';
import { loadPolicyFile } from './load.js';
import { LiveGraph } from '../graph/live-graph.js';
import { HistoryStore } from '../store/history-store.js';
import { databaseFile } from '../store/paths.js';
import { identity, connection, web, cache } from '../store/testing.js';
import { REPO_ROOT } from '../config/defaults.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-runtime-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const A = 'zones:\n  web: {compose_service: web}\nrules:\n  - name: r1\n    deny: {from: web, to: any}\n';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 20)); }
};

test('"matches nothing" is judged against the map as it is: at start after a grace, in the status each time it is asked', async () => {
  const file = path.join(dir, 'cov.yaml');
  fs.writeFileSync(file, A);
  const said: string[] = [];
  let running = false;
  const rt = new PolicyRuntime(file, loadPolicyFile(file), {
    say: () => {}, warn: (m) => said.push(m), coverageGraceMs: 100,
    coverage: () => (running ? [] : ['zone "web" matches nothing on the map yet']),
  });
  try {
    assert.deepEqual(rt.status().warnings, ['zone "web" matches nothing on the map yet']);
    running = true;
    assert.deepEqual(rt.status().warnings, [], 'asked again: it matches now');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(said, [], 'nothing said at start for what matched within the grace');
  } finally { rt.stop(); }
});

test('reloads on a file change and on SIGHUP; a bad edit is refused and the old policy stays', async () => {
  const file = path.join(dir, 'p.yaml');
  fs.writeFileSync(file, A);
  const events: TimelineEvent[] = [];
  const said: string[] = [];
  const rt = new PolicyRuntime(file, loadPolicyFile(file), { timeline: { addEvents: (e) => events.push(...e) }, say: (m) => said.push(m), warn: (m) => said.push(m) });
  rt.start();
  try {
    const first = rt.status().sha256;
    fs.writeFileSync(file, A.replace('r1', 'r2'));
    await until(() => rt.status().sha256 !== first);
    assert.equal(rt.engine.policy!.spec.rules[0].name, 'r2', 'picked up by the watcher');

    fs.writeFileSync(file, A.replace('deny', 'dney'));
    await until(() => rt.status().lastError !== null);
    assert.equal(rt.engine.policy!.spec.rules[0].name, 'r2', 'the old policy stays');
    assert.match(rt.status().lastError!.message, /rules\[0\]/);
    assert.ok(said.some((m) => /policy refused \(file changed\): .*p\.yaml:4:5: rules\[0\]: a rule needs one of deny, allow, allow-only .*stays in force/.test(m)), said.join('\n'));

    // A change the watcher would see too, but SIGHUP reads the file at once.
    rt.stop(); // no watcher: only the signal can reload now
    rt.start();
    const watcherOff = rt as unknown as { watcher: { stop(): void } | null };
    watcherOff.watcher?.stop();
    fs.writeFileSync(file, A.replace('r1', 'r3'));
    process.kill(process.pid, 'SIGHUP');
    await until(() => rt.engine.policy!.spec.rules[0].name === 'r3');
    assert.equal(rt.status().lastError, null);
    assert.deepEqual(events.map((e) => e.type), ['policy_loaded', 'policy_loaded', 'policy_rejected', 'policy_loaded']);
    assert.equal(events[3].detail?.reason, 'SIGHUP');
  } finally {
    rt.stop();
  }
});

test('dhrishti check reads a stopped agent\'s history file (--data-dir): exit 1 and the rule', async () => {
  const data = path.join(dir, 'data');
  const graph = new LiveGraph(identity);
  const now = Date.now();
  const store = new HistoryStore({ file: databaseFile(data), clock: () => now });
  store.attach(graph);
  const c = connection(web, cache, now - 30_000);
  graph.ingest(c.open, now - 30_000);
  graph.ingest(c.close, now - 29_000);
  store.flush(now);
  store.close();
  const policy = path.join(dir, 'check.yaml');
  fs.writeFileSync(policy, 'zones:\n  web: {compose_service: web}\n  cache: {compose_service: cache}\nrules:\n  - name: web-never-cache\n    deny: {from: web, to: cache}\n');
  const r = await run(path.join(REPO_ROOT, 'dhrishti'), ['check', '--policy', policy, '--data-dir', data, '--since', '10m']).then(() => ({ code: 0, stdout: '' }), (e) => e as { code: number; stdout: string });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /violation +web-never-cache +svc:shop\/web +svc:shop\/cache +6379/);
  assert.match(r.stdout, /history\.db \(last 10 min\): 1 violation/);
  const bad = await run(path.join(REPO_ROOT, 'dhrishti'), ['check', '--policy', path.join(dir, 'missing.yaml'), '--data-dir', data]).then(() => ({ code: 0, stderr: '' }), (e) => e as { code: number; stderr: string });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /missing\.yaml:1:1: cannot read the file: no such file/);
});

test('a violation that connected writes its attempted_violations series too, at 0: violations - attempted then pairs up in PromQL', async () => {
  const file = path.join(dir, 'attempted.yaml');
  fs.writeFileSync(file, 'zones:\n  web-clients: {process: curl}\n  files: {process: "python3*"}\nrules:\n  - name: curl-not-files\n    deny: {from: web-clients, to: files}\n');
  const rt = new PolicyRuntime(file, loadPolicyFile(file), { say: () => {}, warn: () => {} });
  try {
    const proc = (name: string) => ({ id: `proc:${name}`, kind: 'process' as const, label: name, group: 'host', instances: [{ id: `pid:${name}`, name, pids: [9], ips: [] }], ips: [] });
    rt.engine.noteNode(proc('curl'));
    rt.engine.noteNode(proc('python3'));
    rt.engine.noteEdge({ id: 'proc:curl|proc:python3|8000|tcp', source: 'proc:curl', target: 'proc:python3', port: 8000, protocol: 'tcp', connections: { opened: 2, failed: 0 } });
    // The edge's labels, as edge series carry them: names, groups and kinds, not node ids.
    const labels = { rule: 'curl-not-files', client: 'curl', client_group: 'host', client_kind: 'process', server: 'python3', server_group: 'host', server_kind: 'process', server_port: '8000', protocol: 'tcp' };
    const row = async (m: typeof policyMetrics.violations) => (await m.get()).values.find((v) => Object.keys(v.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    assert.equal(await row(policyMetrics.violations), 2);
    assert.equal(await row(policyMetrics.attempted), 0);
  } finally { rt.stop(); }
});
