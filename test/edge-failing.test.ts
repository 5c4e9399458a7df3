// DhrishtiEdgeFailing in a real Prometheus scraping a real agent: connections on loopback that are all reset,
// and connects that are all refused, score 1.0 and fire (the rule as shipped, only its `for` shortened).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { parse } from 'yaml';
import { startAgent, freePort, type RunningAgent } from './support/agent.js';
import { TestPrometheus } from './support/prometheus.js';
import { node, stopAll } from './support/children.js';
import { RESETTER } from './support/scripts.js';
import { until, sleep } from './support/wait.js';
import { REPO_ROOT } from '../src/config/defaults.js';

const PORT = 7973;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-edge-failing-'));
let agent: RunningAgent | undefined;
let prom: TestPrometheus | undefined;
after(async () => { await prom?.stop(); await agent?.stop(); await stopAll(); fs.rmSync(dir, { recursive: true, force: true }); });

interface Rule { alert?: string; expr: string; for?: string }

/** One connect to host:port that writes a byte; resolves when it ends, however it ends. */
const attempt = (port: number) => new Promise<void>((resolve) => {
  const s = net.connect(port, '127.0.0.1', () => s.write('x'));
  s.on('error', () => resolve());
  s.on('close', () => resolve());
  s.setTimeout(2000, () => s.destroy());
});

test('every connection reset, and every connect refused: the edge scores 1.0 and DhrishtiEdgeFailing fires', async (t) => {
  const shipped = parse(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const rule = shipped.groups.flatMap((g) => g.rules).find((r) => r.alert === 'DhrishtiEdgeFailing')!;
  const rules = path.join(dir, 'rules.yml');
  fs.writeFileSync(rules, JSON.stringify({ groups: [{ name: 'test', rules: [{ ...rule, for: '0s' }] }] }));

  agent = await startAgent(['--hostname', 'rp-h'], PORT);
  prom = await TestPrometheus.start({ targets: [{ job: 'dhrishti', target: `127.0.0.1:${PORT}` }], scrapeIntervalSec: 1, ruleFiles: [rules] });
  const resetter = node(RESETTER, ['127.0.0.1']);
  const resetPort = Number((await resetter.waitFor(/^port (\d+)/))[1]);
  const closedPort = await freePort(); // nothing listens: every connect is refused

  const t0 = Date.now();
  while (Date.now() - t0 < 12_000) {
    await Promise.all([attempt(resetPort), attempt(closedPort)]);
    await sleep(100);
  }
  // The ratio, as the rule computes it (the expression without its threshold).
  const ratio = rule.expr.replace(/>\s*0\.05\s*$/, '').trim();
  const score = await until('both edges scored', async () => {
    const r = await prom!.query(ratio);
    const by = (p: number) => r.find((s) => s.metric.server_port === String(p) && s.metric.host === 'rp-h');
    const a = by(resetPort), b = by(closedPort);
    return a && b ? { reset: Number(a.value[1]), refused: Number(b.value[1]) } : undefined;
  }, 20_000);
  t.diagnostic(`scores: reset ${score.reset}, refused ${score.refused}`);
  assert.ok(Math.abs(score.reset - 1) < 0.05, `all reset: ${score.reset}`);
  assert.ok(Math.abs(score.refused - 1) < 0.05, `all refused: ${score.refused}`);

  const firing = await until('the alert firing for both edges', async () => {
    const body = (await (await fetch(`${prom!.url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    const ports = body.data.alerts.filter((a) => a.labels.alertname === 'DhrishtiEdgeFailing' && a.state === 'firing').map((a) => a.labels.server_port);
    return ports.includes(String(resetPort)) && ports.includes(String(closedPort)) ? ports : undefined;
  }, 20_000);
  assert.ok(firing.length >= 2);
});
