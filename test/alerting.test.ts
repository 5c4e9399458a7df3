// Alerting against the real tools: the webhook's JSON is taken by a real
// Alertmanager (Debian's prometheus-alertmanager, on loopback) as alerts, and
// the example rules in deploy/ pass promtool.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { start, type Child } from './support/children.js';
import { freePort } from './support/agent.js';
import { until, sleep } from './support/wait.js';
import { AlertWebhook } from '../src/policy/webhook.js';
import { alertOf, PolicyRuntime } from '../src/policy/runtime.js';
import { loadPolicyFile } from '../src/policy/load.js';
import type { NodeLike } from '../src/policy/model.js';
import { REPO_ROOT } from '../src/config/defaults.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-alerting-'));
let am: Child | undefined;
let am2: Child | undefined;
after(async () => { await am?.stop(); await am2?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

interface AmAlert { labels: Record<string, string>; annotations: Record<string, string>; status: { state: string }; endsAt: string }

test('a real Alertmanager takes the webhook\'s alerts as they are', async () => {
  const port = await freePort();
  const cfg = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(cfg, 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n');
  am = start('prometheus-alertmanager', [`--config.file=${cfg}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=']);
  const base = `http://127.0.0.1:${port}`;
  await until('alertmanager ready', async () => (await fetch(`${base}/-/ready`).then((r) => r.ok, () => false)) || undefined, 30_000);

  const w = new AlertWebhook(`${base}/api/v2/alerts`, { warn: () => {} });
  const now = Date.now();
  w.send(alertOf({
    rule: 'tenant-a-stays-home', edge: 'svc:shop-a/worker|svc:shop-b/db|5432|tcp', client: 'svc:shop-a/worker', server: 'svc:shop-b/db', port: 5432, protocol: 'tcp',
    firstSeen: now, lastSeen: now, connections: 3, attempts: 1, attempted: false, processes: { client: ['shop-a-worker-1 (pid 42)'], server: [] },
  }, 'new', 'http://127.0.0.1:7979/'));
  await until('delivered', async () => (w.stats.sent === 1 ? true : w.stats.dropped ? false : undefined), 10_000);
  assert.equal(w.stats.sent, 1, `delivered (last error: ${w.stats.lastError})`);
  const alerts = await until('the alert in Alertmanager', async () => {
    const list = await (await fetch(`${base}/api/v2/alerts`)).json() as { labels: Record<string, string>; annotations: Record<string, string>; status: { state: string } }[];
    return list.length ? list : undefined;
  }, 10_000);
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0].labels, { alertname: 'DhrishtiPolicyViolation', rule: 'tenant-a-stays-home', client: 'svc:shop-a/worker', server: 'svc:shop-b/db', port: '5432', severity: 'critical' });
  assert.equal(alerts[0].status.state, 'active');
  assert.match(alerts[0].annotations.summary, /breaks policy rule tenant-a-stays-home/);
  w.stop();
});

test('a policy alert stays firing in Alertmanager past its resolve_timeout while the violation runs, and ends after it stops', async () => {
  const RESOLVE_TIMEOUT_MS = 2000, REPOST_MS = 500, ACTIVE_MS = 2000;
  const port = await freePort();
  const cfg = path.join(dir, 'alertmanager-short.yml');
  fs.writeFileSync(cfg, `global:\n  resolve_timeout: ${RESOLVE_TIMEOUT_MS / 1000}s\nroute:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n`);
  am2 = start('prometheus-alertmanager', [`--config.file=${cfg}`, `--storage.path=${path.join(dir, 'data2')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=']);
  const base = `http://127.0.0.1:${port}`;
  await until('alertmanager ready', async () => (await fetch(`${base}/-/ready`).then((r) => r.ok, () => false)) || undefined, 30_000);
  const active = async () => ((await (await fetch(`${base}/api/v2/alerts`)).json()) as AmAlert[]).filter((a) => a.status.state === 'active');

  const file = path.join(dir, 'policy.yaml');
  fs.writeFileSync(file, 'zones:\n  web-clients: {process: curl}\n  files: {process: "python3*"}\nrules:\n  - name: no-curl-to-files\n    deny: {from: web-clients, to: files}\n');
  const webhook = new AlertWebhook(`${base}/api/v2/alerts`, { warn: () => {} });
  const rt = new PolicyRuntime(file, loadPolicyFile(file), { webhook, host: 'h1', say: () => {}, warn: () => {}, firing: { repostMs: REPOST_MS, activeMs: ACTIVE_MS } });
  rt.start();
  try {
    const proc = (name: string): NodeLike => ({ id: `proc:${name}`, kind: 'process', label: name, group: 'host', instances: [{ id: `pid:${name}`, name, pids: [9], ips: [] }], ips: [] });
    const curl = proc('curl'), py = proc('python3');
    rt.engine.noteNode(curl);
    rt.engine.noteNode(py);
    const t0 = Date.now();
    let opened = 0;
    const connect = () => rt.engine.noteEdge({ id: `${curl.id}|${py.id}|8000|tcp`, source: curl.id, target: py.id, port: 8000, protocol: 'tcp', connections: { opened: ++opened, failed: 0 }, firstSeen: t0, lastSeen: Date.now() });
    // A new connection every 250 ms for 3 resolve_timeouts.
    const states: string[][] = [];
    while (Date.now() - t0 < 3 * RESOLVE_TIMEOUT_MS) {
      connect();
      await sleep(250);
      if (Date.now() - t0 > RESOLVE_TIMEOUT_MS + REPOST_MS) states.push((await active()).map((a) => a.labels.rule));
    }
    assert.ok(states.length >= 5, `${states.length} checks past resolve_timeout`);
    assert.deepEqual(states.filter((s) => s.length !== 1), [], 'firing at every check past resolve_timeout while connections come');
    const [a] = await active();
    assert.deepEqual(a.labels, { alertname: 'DhrishtiPolicyViolation', rule: 'no-curl-to-files', client: 'proc:curl', server: 'proc:python3', port: '8000', severity: 'critical', host: 'h1' });

    const stoppedAt = Date.now();
    await until('the alert resolved', async () => ((await active()).length ? undefined : true), ACTIVE_MS + 4 * REPOST_MS + 5000);
    const took = Date.now() - stoppedAt;
    assert.ok(took >= ACTIVE_MS - REPOST_MS && took <= ACTIVE_MS + 2 * REPOST_MS + 1000, `resolved ${took} ms after the last connection (quiet ${ACTIVE_MS} ms ends it)`);
  } finally { rt.stop(); }
});

test('the example Prometheus rules in deploy/ pass promtool', async () => {
  const { stdout } = await run('promtool', ['check', 'rules', path.join(REPO_ROOT, 'deploy', 'prometheus', 'dhrishti-policy-alerts.yml')]);
  assert.match(stdout, /SUCCESS: 4 rules found/);
});
