// Starts and stops bench/agent-process.js, the agent under test, as a child process.
import { fileURLToPath } from 'node:url';
import { start, type Child } from './children.js';

/** The default agent; `--agent-script` swaps in another with the same contract (a "ready" JSON line, a "summary" JSON line on SIGTERM). */
export const AGENT_SCRIPT = fileURLToPath(new URL('../agent-process.js', import.meta.url));

export interface AgentSummary {
  counts: Record<string, number>;
  events: number;
  lost: { ringbufFull: number; connMapFull: number; malformed: number; total: number };
  /** Request capture: requests counted by role, and its losses (null when off). */
  l7?: { requests: { client: number; server: number }; losses: Record<string, number>; samples: Record<string, number> } | null;
}

export class AgentProcess {
  private child: Child | null = null;

  /**
   * @param nodeFlags V8/node flags the agent runs with (the launcher's, to measure what ships).
   * @param cpuProfileDir when set, the agent runs under `node --cpu-prof` and writes its profile there.
   */
  constructor(
    private readonly script = AGENT_SCRIPT,
    private readonly nodeFlags: readonly string[] = [],
    private readonly cpuProfileDir: string | null = null,
    private readonly args: readonly string[] = [],
  ) {}

  get pid(): number {
    if (!this.child) throw new Error('agent not running');
    return this.child.pid;
  }

  async start(): Promise<void> {
    const flags = this.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfileDir}`] : [];
    this.child = start('agent', process.execPath, [...this.nodeFlags, ...flags, this.script, ...this.args]);
    await this.child.waitFor(/"ready":true/, 30000);
  }

  async stop(): Promise<AgentSummary | null> {
    if (!this.child) return null;
    const child = this.child;
    this.child = null;
    const code = await child.stop('SIGTERM', 10000);
    const line = child.lines.find((l) => l.includes('"summary"'));
    if (code !== 0 || !line) throw new Error(`agent did not stop cleanly (code ${code}); stderr: ${child.stderr.slice(-5).join(' | ') || '(empty)'}`);
    return (JSON.parse(line) as { summary: AgentSummary }).summary;
  }
}
