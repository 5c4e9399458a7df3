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
import { until } from './support/wait.js';
import { AlertWebhook } from '../src/policy/webhook.js';
import { alertOf } from '../src/policy/runtime.js';
import { REPO_ROOT } from '../src/config/defaults.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-alerting-'));
let am: Child | undefined;
after(async () => { await am?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

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

test('the example Prometheus rules in deploy/ pass promtool', async () => {
  const { stdout } = await run('promtool', ['check', 'rules', path.join(REPO_ROOT, 'deploy', 'prometheus', 'dhrishti-policy-alerts.yml')]);
  assert.match(stdout, /SUCCESS: 4 rules found/);
});
