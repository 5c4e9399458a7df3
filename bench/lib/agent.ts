// The observers under test, as child processes: the product (`dhrishti run`,
// with its graph, API and history, as a user runs it), and the engine alone
// (bench/agent-process.js: the probes and a counting consumer).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, type Child } from './children.js';
import { REPO_ROOT } from '../../src/config/defaults.js';
import type { AgentTelemetry } from '../../src/agent/agent.js';
import type { GraphSnapshot } from '../../src/graph/types.js';
import { freePort } from '../../test/support/agent.js';

/** The engine-only stand-in; `--agent-script` swaps in another with the same contract (a "ready" JSON line, a "summary" JSON line on SIGTERM). */
export const AGENT_SCRIPT = fileURLToPath(new URL('../agent-process.js', import.meta.url));
export const CLI_MAIN = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** What an observer says about itself when stopped. */
export interface AgentSummary {
  counts: Record<string, number>;
  events: number;
  lost: { ringbufFull: number; connMapFull: number; malformed: number; total: number };
  /** Request capture: requests counted by role, and its losses (null when off). */
  l7?: { requests: { client: number; server: number }; losses: Record<string, number>; samples: Record<string, number> } | null;
}

export interface Observed {
  readonly pid: number;
  start(): Promise<void>;
  stop(): Promise<AgentSummary | null>;
  /** Sockets closed it has seen so far (all TCP on the host, not only the benchmark's). */
  closes(): Promise<number | null>;
}

const CPU_PROFILE = new URL('./cpu-profile.js', import.meta.url).href;

/** With a profile folder: a preload that profiles finely once start-up (and the BPF verifier) is over. */
function profileEnv(dir: string | null): NodeJS.ProcessEnv | undefined {
  if (!dir) return undefined;
  return { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${CPU_PROFILE}`.trim(), DHRISHTI_BENCH_CPU_PROFILE_DIR: dir };
}

/** The engine alone with a counting consumer. */
export class EngineProcess implements Observed {
  private child: Child | null = null;

  /**
   * @param nodeFlags V8/node flags it runs with (the launcher's, to measure what ships).
   * @param cpuProfileDir when set, it runs under `node --cpu-prof` and writes its profile there.
   */
  constructor(
    private readonly script = AGENT_SCRIPT,
    private readonly nodeFlags: readonly string[] = [],
    private readonly cpuProfileDir: string | null = null,
    private readonly args: readonly string[] = [],
  ) {}

  get pid(): number {
    if (!this.child) throw new Error('engine not running');
    return this.child.pid;
  }

  async start(): Promise<void> {
    this.child = start('engine', process.execPath, [...this.nodeFlags, this.script, ...this.args], { env: profileEnv(this.cpuProfileDir) });
    await this.child.waitFor(/"ready":true/, 30000);
  }

  async closes(): Promise<number | null> {
    if (!this.child) return null;
    const before = this.child.lines.length;
    process.kill(this.child.pid, 'SIGUSR2');
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const line = this.child.lines.slice(before).find((l) => l.startsWith('{"closes"'));
      if (line) return (JSON.parse(line) as { closes: number }).closes;
    }
    return null;
  }

  async stop(): Promise<AgentSummary | null> {
    if (!this.child) return null;
    const child = this.child;
    this.child = null;
    const code = await child.stop('SIGTERM', 10000);
    const line = child.lines.find((l) => l.includes('"summary"'));
    if (code !== 0 || !line) throw new Error(`engine did not stop cleanly (code ${code}); stderr: ${child.stderr.slice(-5).join(' | ') || '(empty)'}`);
    return (JSON.parse(line) as { summary: AgentSummary }).summary;
  }
}

/**
 * The product as a user starts it: `dhrishti run` (live graph, API, history;
 * Docker followed if there is one), with the launcher's node flags. Only the
 * API port and the history folder are its own.
 */
export class ProductAgent implements Observed {
  private child: Child | null = null;
  private url = '';
  private dataDir = '';

  constructor(private readonly nodeFlags: readonly string[] = [], private readonly cpuProfileDir: string | null = null, private readonly extraArgs: string[] = []) {}

  get pid(): number {
    if (!this.child) throw new Error('agent not running');
    return this.child.pid;
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-data-'));
    this.child = start('dhrishti run', process.execPath, [...this.nodeFlags, CLI_MAIN,
      'run', '--port', String(port), '--data-dir', this.dataDir, ...this.extraArgs], { env: profileEnv(this.cpuProfileDir) });
    await this.child.waitFor(/API on http/, 60000);
    this.url = `http://127.0.0.1:${port}`;
    // A capture the kernel refused leaves a lighter agent than the one users run: its figures would flatter.
    const refused = [...this.child.lines, ...this.child.stderr].find((l) => /^dhrishti: capture .* unavailable/.test(l));
    if (refused) {
      await this.stop().catch(() => null);
      throw new Error(`the agent under test runs without a capture it ships with: ${refused}`);
    }
  }

  async closes(): Promise<number | null> {
    try { return (await this.telemetry()).closes; } catch { return null; }
  }

  /** Requests on the live map's edges into a server port (all protocols). */
  async requestsTo(port: number): Promise<number> {
    const r = await fetch(`${this.url}/api/v1/graph`);
    const g = (await r.json()) as GraphSnapshot;
    return g.edges.filter((e) => e.port === port).reduce((n, e) => n + (e.requests ?? []).reduce((m, x) => m + x.count, 0), 0);
  }

  async telemetry(): Promise<AgentTelemetry> {
    const r = await fetch(`${this.url}/api/v1/agent`);
    return (await r.json()) as AgentTelemetry;
  }

  async stop(): Promise<AgentSummary | null> {
    if (!this.child) return null;
    let t: AgentTelemetry | null = null;
    try { t = await this.telemetry(); } catch { /* report what we can */ }
    const child = this.child;
    this.child = null;
    const code = await child.stop('SIGTERM', 15000);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    if (code !== 0 && code !== null) throw new Error(`dhrishti run did not stop cleanly (code ${code}); stderr: ${child.stderr.slice(-5).join(' | ') || '(empty)'}`);
    if (!t) return null;
    return { counts: { edges: t.graph.edges, nodes: t.graph.nodes }, events: t.events, lost: t.lost };
  }
}
