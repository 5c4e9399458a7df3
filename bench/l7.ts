// First overhead figure of request capture (L7): wrk keep-alive against a Node
// http server with no agent, the agent without L7 (--no-l7), and the agent
// with L7, interleaved; throughput, the agent's CPU per 10k req/s, and whether
// the kernel counted every request wrk made. (The bpftrace peer that reads the
// same prefix at the syscall tracepoints is phase 2.)
import { cpuTimeMs } from './lib/children.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { EngineProcess, AGENT_SCRIPT, type AgentSummary } from './lib/agent.js';
import { int, median, pct, fixed, table } from './lib/report.js';
import { BENCH } from './lib/constants.js';
import { startNginx } from './lib/nginx.js';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const CONDITIONS = ['none', 'agent --no-l7', 'agent'] as const;
type Condition = (typeof CONDITIONS)[number];
const ROUNDS = Number(process.env.L7_BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.L7_BENCH_SECONDS ?? 8);

interface Sample { condition: Condition; wrk: WrkResult; agentCpuMs: number | null; summary: AgentSummary | null; bpf: Record<string, { ns: number; runs: number }> }

interface BpfProg { id: number; name?: string; run_time_ns?: number; run_cnt?: number }
const progs = (): BpfProg[] => JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 }));

/** Run time and runs of the given BPF programs (kernel.bpf_stats_enabled), by program name. */
function bpfStats(ids: Set<number>): Record<string, { ns: number; runs: number }> {
  const out: Record<string, { ns: number; runs: number }> = {};
  for (const p of progs()) {
    if (!p.name || !ids.has(p.id)) continue;
    const o = (out[p.name] ??= { ns: 0, runs: 0 });
    o.ns += p.run_time_ns ?? 0;
    o.runs += p.run_cnt ?? 0;
  }
  return out;
}

function diff(a: Record<string, { ns: number; runs: number }>, b: Record<string, { ns: number; runs: number }>) {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, { ns: v.ns - (a[k]?.ns ?? 0), runs: v.runs - (a[k]?.runs ?? 0) }]));
}

async function main(): Promise<void> {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const server = await startNginx(BENCH.serverCpu);
  const url = server.url;
  const samples: Sample[] = [];
  // Per-program run time in the kernel: the cost of the probes themselves, which the agent's CPU does not show.
  const statsWas = execFileSync('sysctl', ['-n', 'kernel.bpf_stats_enabled'], { encoding: 'utf8' }).trim();
  execFileSync('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=1']);
  console.log(`bench:l7  wrk -t${BENCH.wrkThreads} -c${BENCH.wrkConnections} -d${SECONDS}s keep-alive, ${ROUNDS} rounds; load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...CONDITIONS].reverse() : [...CONDITIONS];
      for (const condition of order) {
        const agent = condition === 'none' ? null : new EngineProcess(AGENT_SCRIPT, BENCH.agentNodeFlags, null, condition === 'agent --no-l7' ? ['--no-l7'] : []);
        const before = new Set(progs().map((p) => p.id));
        await agent?.start();
        // the agent's programs: the dh_* ones that appeared with it (bpftool here does not show owners)
        const ids = new Set(progs().filter((p) => !before.has(p.id) && p.name?.startsWith('dh_')).map((p) => p.id));
        await runWrk({ url, mode: 'keepalive', threads: BENCH.wrkThreads, connections: BENCH.wrkConnections, seconds: BENCH.warmupSeconds, cpu: BENCH.wrkCpu });
        const cpu0 = agent ? cpuTimeMs(agent.pid, ticks) : 0;
        const bpf0 = agent ? bpfStats(ids) : {};
        const wrk = await runWrk({ url, mode: 'keepalive', threads: BENCH.wrkThreads, connections: BENCH.wrkConnections, seconds: SECONDS, cpu: BENCH.wrkCpu });
        const agentCpuMs = agent ? cpuTimeMs(agent.pid, ticks) - cpu0 : null;
        const bpf = agent ? diff(bpf0, bpfStats(ids)) : {};
        await new Promise((r) => setTimeout(r, 1500)); // the last flush reads the closed sockets' aggregates
        const summary = agent ? await agent.stop() : null;
        samples.push({ condition, wrk, agentCpuMs, summary, bpf });
        console.log(`  round ${round + 1} ${condition.padEnd(14)} ${int(wrk.requestsPerSec)} req/s${agentCpuMs !== null ? `, agent ${pct(agentCpuMs / (wrk.seconds * 1000))} of a core` : ''}${summary?.l7 ? `, L7 counted server ${int(summary.l7.requests.server)} client ${int(summary.l7.requests.client)} (warm-up + run: ${int(wrk.requests)} in the run)` : ''}`);
      }
    }
  } finally {
    await server.stop();
    execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${statsWas}`]);
  }
  const base = median(samples.filter((s) => s.condition === 'none').map((s) => s.wrk.requestsPerSec));
  const rows = CONDITIONS.map((c) => {
    const mine = samples.filter((s) => s.condition === c);
    const rps = median(mine.map((s) => s.wrk.requestsPerSec));
    const cpuPer10k = median(mine.filter((s) => s.agentCpuMs !== null).map((s) => ((s.agentCpuMs! / (s.wrk.seconds * 1000)) / s.wrk.requestsPerSec) * 10_000));
    return [c, int(rps), fixed(rps / base, 3), Number.isFinite(cpuPer10k) ? pct(cpuPer10k) : '-'];
  });
  console.log(`\n${table(['condition', 'req/s (median)', 'ratio to none', 'agent CPU per 10k req/s'], rows)}`);
  for (const c of CONDITIONS.filter((x) => x !== 'none')) {
    const mine = samples.filter((s) => s.condition === c);
    const perReq = (names: (n: string) => boolean) => median(mine.map((s) => Object.entries(s.bpf).filter(([n]) => names(n)).reduce((a, [, v]) => a + v.ns, 0) / s.wrk.requests));
    const avg = (name: string) => median(mine.filter((s) => s.bpf[name]?.runs).map((s) => s.bpf[name].ns / s.bpf[name].runs));
    console.log(`${c}: BPF time per request (both sides, all programs) ${fixed(perReq(() => true), 0)} ns, of it L7 ${fixed(perReq((n) => n.startsWith('dh_l7')), 0)} ns; per run: dh_l7_send ${fixed(avg('dh_l7_send'), 0)} ns, dh_l7_recv ${fixed(avg('dh_l7_recv'), 0)} ns, dh_sock_send_length ${fixed(avg('dh_sock_send_length'), 0)} ns`);
  }
  const l7 = samples.filter((s) => s.summary?.l7).map((s) => s.summary!.l7!.losses);
  console.log(`L7 losses over the runs: ${JSON.stringify(l7.reduce((a, b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, (a[k] ?? 0) + v])), {} as Record<string, number>))}`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
