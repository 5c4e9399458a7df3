// A real Prometheus (Debian's) for one test: its own config, data dir and free
// port, the remote-write receiver on, stopped by its pid and its folder removed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Child } from './children.js';
import { freePort } from './agent.js';
import { sleep } from './wait.js';

export interface PrometheusOptions {
  /** Scrape targets as host:port, grouped by job. */
  targets?: { job: string; target: string }[];
  scrapeIntervalSec?: number;
  /** Extra flags (e.g. --query.timeout). */
  args?: string[];
  /** A port chosen beforehand (for clients configured before it starts); a free one otherwise. */
  port?: number;
  /** Rule files to load (alerting and recording rules, evaluated every scrape interval). */
  ruleFiles?: string[];
  /** Every request must carry this user and password (Prometheus' web config; `bcrypt` is the password's hash). */
  basicAuth?: { user: string; password: string; bcrypt: string };
}

export class TestPrometheus {
  private constructor(readonly child: Child, readonly dir: string, readonly port: number) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  static async start(o: PrometheusOptions = {}): Promise<TestPrometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-prom-'));
    const port = o.port ?? await freePort();
    const interval = `${o.scrapeIntervalSec ?? 1}s`;
    const byJob = new Map<string, string[]>();
    for (const t of o.targets ?? []) byJob.set(t.job, [...(byJob.get(t.job) ?? []), t.target]);
    const jobs = [...byJob].map(([job, ts]) => `  - job_name: ${JSON.stringify(job)}\n    static_configs:\n      - targets: [${ts.map((t) => JSON.stringify(t)).join(', ')}]`).join('\n');
    const rules = o.ruleFiles?.length ? `rule_files: [${o.ruleFiles.map((f) => JSON.stringify(f)).join(', ')}]\n` : '';
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\n${rules}scrape_configs:\n${jobs || '  []'}\n`);
    const web: string[] = [];
    const headers: Record<string, string> = {};
    if (o.basicAuth) {
      fs.writeFileSync(path.join(dir, 'web.yml'), `basic_auth_users:\n  ${JSON.stringify(o.basicAuth.user)}: ${JSON.stringify(o.basicAuth.bcrypt)}\n`);
      web.push(`--web.config.file=${path.join(dir, 'web.yml')}`);
      headers.authorization = `Basic ${Buffer.from(`${o.basicAuth.user}:${o.basicAuth.password}`).toString('base64')}`;
    }
    const child = start('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=warn', ...web, ...(o.args ?? []),
    ]);
    const p = new TestPrometheus(child, dir, port);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try { if ((await fetch(`${p.url}/-/ready`, { headers })).ok) return p; } catch { /* not yet */ }
      if (child.proc.exitCode !== null || Date.now() > deadline) {
        await p.stop();
        throw new Error(`prometheus did not become ready: ${child.stderr.slice(-10).join('\n')}`);
      }
      await sleep(200);
    }
  }

  async query(q: string, time?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const u = new URL(`${this.url}/api/v1/query`);
    u.searchParams.set('query', q);
    if (time !== undefined) u.searchParams.set('time', String(time / 1000));
    const body = (await (await fetch(u)).json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
    return body.data.result;
  }

  /** The values of a one-series query over the last `sec` seconds, oldest first (the series' raw samples). */
  async queryRange(q: string, sec: number): Promise<number[]> {
    const r = (await this.query(`${q}[${sec}s]`)) as unknown as { values?: [number, string][] }[];
    if (r.length !== 1) throw new Error(`${q}: ${r.length} series, expected one`);
    return (r[0].values ?? []).map(([, v]) => Number(v));
  }

  async stop(): Promise<void> {
    await this.child.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
