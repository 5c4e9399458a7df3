// The agent's time in the kernel, measured directly: the kernel counts each BPF program's run time while
// kernel.bpf_stats_enabled is 1, and `dhrishti run` reports it (/api/v1/agent kernelTime). Unlike a throughput
// ratio it does not count other processes' time: it says what each probe costs per connection and per request,
// with and without request capture. wrk and nginx are pinned to CPUs of their own (BENCH.wrkCpu, serverCpu): left
// to float, which end of a loopback connection reads first varies, and with it the work (6.9-8.6 µs a connection
// in three unpinned runs). Counting costs two clock reads per run, so it is on only for these runs, and put back as
// it was.
import fs from 'node:fs';
import { ProductAgent } from './agent.js';
import { runWrk, type LoadMode } from './wrk.js';
import { fixed, int } from './report.js';
import { BPF_STATS_ENABLED_PATH } from '../../src/config/defaults.js';


export interface KernelTimeRun {
  label: string;
  mode: LoadMode;
  /** Requests wrk made (in close mode, each on a connection of its own). */
  requests: number;
  /** Kernel time per request (µs), by program and in all. */
  perRequestUs: Record<string, number>;
  totalUs: number;
}

export interface KernelTimeOptions {
  url: string;
  /** taskset CPU list for wrk (nginx is pinned by its starter). */
  wrkCpu: string;
  connections: number;
  seconds: number;
  nodeFlags: readonly string[];
  /** More `dhrishti run` arguments, as the load runs had (--agent-args). */
  agentArgs: readonly string[];
  log: (line: string) => void;
}

const VARIANTS = [
  { label: 'dhrishti run', args: [] as string[] },
  { label: 'dhrishti run --no-l7', args: ['--no-l7'] },
];

/** One agent per variant and mode: warm up, then the counted wrk run; the difference of the kernel's counters over it. */
export async function measureKernelTime(o: KernelTimeOptions): Promise<KernelTimeRun[]> {
  const before = fs.readFileSync(BPF_STATS_ENABLED_PATH, 'utf8').trim();
  const out: KernelTimeRun[] = [];
  fs.writeFileSync(BPF_STATS_ENABLED_PATH, '1');
  try {
    for (const v of VARIANTS) {
      for (const mode of ['close', 'keepalive'] as const) {
        const agent = new ProductAgent(o.nodeFlags, null, [...o.agentArgs, ...v.args]);
        await agent.start();
        try {
          await runWrk({ url: o.url, mode, threads: 1, connections: o.connections, seconds: 3, cpu: o.wrkCpu });
          const t0 = (await agent.telemetry()).kernelTime.programs;
          const w = await runWrk({ url: o.url, mode, threads: 1, connections: o.connections, seconds: o.seconds, cpu: o.wrkCpu });
          const t1 = (await agent.telemetry()).kernelTime.programs;
          if (!w.requests) throw new Error(`wrk made no requests against ${o.url} (${mode})`);
          const perRequestUs: Record<string, number> = {};
          let total = 0;
          for (const [name, t] of Object.entries(t1)) {
            const ns = t.ns - (t0[name]?.ns ?? 0);
            if (ns <= 0) continue;
            perRequestUs[name] = ns / 1000 / w.requests;
            total += ns;
          }
          const run = { label: v.label, mode, requests: w.requests, perRequestUs, totalUs: total / 1000 / w.requests };
          out.push(run);
          o.log(`  [kernel time] ${v.label.padEnd(22)} ${mode.padEnd(9)} ${int(w.requests)} requests: ${fixed(run.totalUs, 2)} µs each in the kernel (${describe(run)})`);
        } finally {
          await agent.stop();
        }
      }
    }
  } finally {
    fs.writeFileSync(BPF_STATS_ENABLED_PATH, before);
  }
  return out;
}

/** "dh_sock_recv_length 3.79, dh_sock_send_length 2.93, …", largest first. */
function describe(r: KernelTimeRun): string {
  return Object.entries(r.perRequestUs).filter(([, us]) => us >= 0.005).sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name.replace(/^dh_/, '')} ${fixed(us, 2)}`).join(', ');
}
