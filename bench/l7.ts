// `npm run bench:l7`: the cost of request capture, measured on the product as
// a user runs it (`dhrishti run`: graph, API and history on). Three loads, each
// keep-alive on loopback with the server pinned to one CPU and the load
// generator to the other: nginx (one worker) under wrk, redis-server under
// redis-benchmark, PostgreSQL under pgbench (select-only). Conditions, in
// interleaved rounds, with a no-observer turn before, between and after the
// others (each ratio is over the no-observer runs on each side of its run):
// `dhrishti run`, `dhrishti run --no-l7`, a
// bpftrace peer reading the same request prefix at the same hooks
// (bench/lib/bpftrace-l7.ts), and the prefix-read floor: programs that only find
// each send's buffer and copy 16 bytes of it, reading each request and response
// once (bench/lib/prefix-floor.bpf.c), what a design like ours cannot go below.
// Prints throughput ratios, the agent's CPU per 10k req/s, its RSS growth over
// the run, the kernel run time per program (over the warm-up, the only time BPF
// run-time statistics are on), and whether the map counted every request;
// beside the targets of issue #10. Then, in one more agent, capture switched
// off and on between short runs (lib/capture-switch.ts): its own cost, with
// little of the host's drift.
// A benchmark, not a test: the exit code says only whether it could run.
import { Command, InvalidArgumentError } from 'commander';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { cpuTimeMs } from './lib/children.js';
import { runWrk } from './lib/wrk.js';
import { ProductAgent } from './lib/agent.js';
import { BpftraceL7Peer } from './lib/bpftrace-l7.js';
import { EmptyHooks, PREFIX_FLOOR } from './lib/empty-hooks.js';
import { CaptureSwitch } from './lib/capture-switch.js';
import { int, median, max, pct, fixed, table, quantile } from './lib/report.js';
import { BENCH, L7_BENCH } from './lib/constants.js';
import { startNginx } from './lib/nginx.js';
import { startBenchPostgres, startBenchRedis, runPgbench, runRedisBenchmark } from './lib/db-servers.js';
import { memoryOf } from './lib/proc-usage.js';
import { bracketed, bracketedRatios } from './lib/baseline.js';
import { nonNegativeInt, positiveInt } from '../src/cli/options.js';

const CONDITIONS = ['none', 'agent', 'agent --no-l7', 'bpftrace', 'floor'] as const;
type Condition = (typeof CONDITIONS)[number];
const LABEL: Record<Condition, string> = {
  none: 'no observer', agent: 'dhrishti run', 'agent --no-l7': 'dhrishti run --no-l7', bpftrace: 'bpftrace 0.17 L7 peer',
  floor: 'prefix-read floor',
};
const WORKLOADS = ['http', 'redis', 'pgbench'] as const;
type Workload = (typeof WORKLOADS)[number];
const WORKLOAD_LABEL: Record<Workload, string> = {
  http: `nginx (1 worker) under wrk -t${BENCH.wrkThreads} -c${BENCH.wrkConnections}, keep-alive`,
  redis: `redis-server under redis-benchmark -c ${L7_BENCH.redisClients} (SET/GET), keep-alive`,
  pgbench: `PostgreSQL 15 under pgbench -S -c ${L7_BENCH.pgClients} (select-only), keep-alive`,
};

interface Sample {
  condition: Condition;
  /** Its turn in the load's sequence: its baseline is the no-observer turn on each side (lib/baseline.ts). */
  turn: number;
  rps: number;
  requests: number;
  seconds: number;
  cpuMs: number | null;
  rssGrowth: number | null;
  /** Requests of the warm-up, over which the kernel's per-program run time (bpf) was counted. */
  bpfRequests: number;
  bpf: Record<string, { ns: number; runs: number }>;
  /** Requests the agent put on the edges into the server's port over warm-up and run (agent only). */
  counted: number | null;
  losses: Record<string, number> | null;
}

interface BpfProg { id: number; name?: string; run_time_ns?: number; run_cnt?: number }
const progs = (): BpfProg[] => JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 }));

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

const setBpfStats = (on: boolean) => execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${on ? 1 : 0}`]);

const diff = (a: Record<string, { ns: number; runs: number }>, b: Record<string, { ns: number; runs: number }>) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, { ns: v.ns - (a[k]?.ns ?? 0), runs: v.runs - (a[k]?.runs ?? 0) }]));

/** One load: starts its server once; `run` drives it for `seconds` and returns what the client measured. */
interface Load {
  port: number;
  run(seconds: number): Promise<{ rps: number; requests: number; seconds: number }>;
  stop(): Promise<void>;
}

async function startLoad(w: Workload): Promise<Load> {
  if (w === 'http') {
    const s = await startNginx(BENCH.serverCpu);
    return {
      port: Number(new URL(s.url).port),
      async run(seconds) {
        const r = await runWrk({ url: s.url, mode: 'keepalive', threads: BENCH.wrkThreads, connections: BENCH.wrkConnections, seconds, cpu: BENCH.wrkCpu });
        return { rps: r.requestsPerSec, requests: r.requests, seconds: r.seconds };
      },
      stop: () => s.stop(),
    };
  }
  if (w === 'redis') {
    const s = await startBenchRedis(BENCH.serverCpu);
    return { port: s.port, run: (seconds) => runRedisBenchmark(s.port, seconds, BENCH.wrkCpu), stop: () => s.stop() };
  }
  const s = await startBenchPostgres(BENCH.serverCpu);
  return { port: s.port, run: (seconds) => runPgbench(s.port, seconds, BENCH.wrkCpu), stop: () => s.stop() };
}

interface Options { rounds: number; seconds: number; workloads: Workload[]; conditions: Condition[]; switchPairs: number; switchSeconds: number }

/** Capture on over capture off in one agent, per pair of runs (each pair's order alternating). */
async function switched(w: Workload, load: Load, o: Options): Promise<number[]> {
  const before = new Set(progs().map((p) => p.id));
  const agent = new ProductAgent(BENCH.agentNodeFlags, null, []);
  await agent.start();
  const ratios: number[] = [];
  try {
    const sw = CaptureSwitch.of(new Set(progs().filter((p) => !before.has(p.id) && p.name?.startsWith('dh_')).map((p) => p.id)));
    await load.run(L7_BENCH.warmupSeconds);
    for (let i = 0; i < o.switchPairs; i++) {
      const rps = { on: 0, off: 0 };
      for (const on of i % 2 ? [true, false] : [false, true]) {
        sw.set(on);
        rps[on ? 'on' : 'off'] = (await load.run(o.switchSeconds)).rps;
      }
      ratios.push(rps.on / rps.off);
      console.log(`  ${w} switched pair ${i + 1}: capture off ${int(rps.off)}, on ${int(rps.on)} req/s (${fixed(rps.on / rps.off, 3)})`);
    }
    sw.set(true);
  } finally {
    await agent.stop();
  }
  return ratios;
}

async function measure(w: Workload, o: Options, ticks: number): Promise<{ samples: Sample[]; switched: number[] }> {
  const load = await startLoad(w);
  const samples: Sample[] = [];
  let pairs: number[] = [];
  try {
    let turn = 0;
    for (let round = 0; round < o.rounds; round++) {
      const observers = o.conditions.filter((c) => c !== 'none');
      const order = bracketed(round % 2 ? [...observers].reverse() : observers, 'none', round === 0);
      for (const condition of order) {
        const agent = condition === 'agent' || condition === 'agent --no-l7'
          ? new ProductAgent(BENCH.agentNodeFlags, null, condition === 'agent --no-l7' ? ['--no-l7'] : []) : null;
        const peer = condition === 'bpftrace' ? new BpftraceL7Peer() : null;
        const floor = condition === 'floor' ? new EmptyHooks(PREFIX_FLOOR) : null;
        const before = new Set(progs().map((p) => p.id));
        await agent?.start();
        await peer?.start();
        await floor?.start();
        const ids = new Set(progs().filter((p) => !before.has(p.id) && p.name?.startsWith('dh_')).map((p) => p.id));
        // The kernel's per-program accounting costs two clock reads per run: it is on for the warm-up only,
        // so the measured run's throughput is not charged for it.
        const kernelTimed = !!agent || !!floor;
        setBpfStats(kernelTimed);
        const bpf0 = kernelTimed ? bpfStats(ids) : {};
        const warm = await load.run(L7_BENCH.warmupSeconds);
        const bpf = kernelTimed ? diff(bpf0, bpfStats(ids)) : {};
        setBpfStats(false);
        const pid = agent?.pid ?? peer?.pid ?? null;
        const cpu0 = pid ? cpuTimeMs(pid, ticks) : 0;
        const rss0 = pid ? memoryOf(pid).rss : 0;
        const run = await load.run(o.seconds);
        const cpuMs = pid ? cpuTimeMs(pid, ticks) - cpu0 : null;
        let counted: number | null = null, losses: Record<string, number> | null = null, rssGrowth: number | null = null;
        if (agent) {
          await new Promise((r) => setTimeout(r, 2500)); // the last flush: closed sockets' aggregates, the history write
          rssGrowth = memoryOf(agent.pid).rss - rss0;
          const t = await agent.telemetry();
          if (condition === 'agent') {
            counted = await agent.requestsTo(load.port);
            losses = { ...(t.l7?.losses ?? {}), unplacedRequests: t.l7?.graph.unplacedRequests ?? 0 } as Record<string, number>;
          }
        } else if (peer) rssGrowth = memoryOf(peer.pid).rss - rss0;
        await agent?.stop();
        await peer?.stop();
        await floor?.stop();
        samples.push({ condition, turn: turn++, rps: run.rps, requests: warm.requests + run.requests, seconds: run.seconds, cpuMs, rssGrowth, bpf, bpfRequests: warm.requests, counted, losses });
        const extra = [
          cpuMs !== null ? `${pct(cpuMs / (run.seconds * 1000))} of a core` : '',
          rssGrowth !== null ? `RSS ${rssGrowth >= 0 ? '+' : ''}${fixed(rssGrowth / (1 << 20), 1)} MB` : '',
          counted !== null ? `counted ${int(counted)} of ${int(warm.requests + run.requests)} made` : '',
        ].filter(Boolean).join(', ');
        console.log(`  ${w} round ${round + 1} ${LABEL[condition].padEnd(22)} ${int(run.rps)} req/s${extra ? `, ${extra}` : ''}`);
      }
    }
    if (o.switchPairs && o.conditions.includes('agent')) pairs = await switched(w, load, o);
  } finally {
    await load.stop();
  }
  return { samples, switched: pairs };
}

function report(w: Workload, samples: Sample[], pairs: number[], o: Options): void {
  const T = L7_BENCH.targets;
  const turns = (c: Condition) => samples.filter((s) => s.condition === c).map((s) => ({ turn: s.turn, rps: s.rps }));
  const ratio = (c: Condition) => (c === 'none' ? 1 : median(bracketedRatios(turns(c), turns('none'))));
  const rows = o.conditions.map((c) => {
    const mine = samples.filter((s) => s.condition === c);
    const rps = median(mine.map((s) => s.rps));
    const cpu = median(mine.filter((s) => s.cpuMs !== null).map((s) => (s.cpuMs! / (s.seconds * 1000)) / (s.rps / 10_000)));
    const rss = max(mine.filter((s) => s.rssGrowth !== null).map((s) => s.rssGrowth! / (1 << 20)));
    return [LABEL[c], int(rps), fixed(ratio(c), 3), c === 'none' ? '-' : pct(cpu), c === 'none' ? '-' : fixed(rss, 1)];
  });
  console.log(`\n${WORKLOAD_LABEL[w]}\n${table(['condition', 'req/s (median)', 'ratio to none (runs on each side)', 'observer CPU per 10k req/s', 'RSS growth max (MB)'], rows)}`);
  const floor = samples.filter((s) => s.condition === 'floor' && s.bpfRequests);
  if (floor.length) {
    const runs = median(floor.map((s) => Object.values(s.bpf).reduce((a, v) => a + v.runs, 0) / s.bpfRequests));
    const ns = median(floor.map((s) => Object.values(s.bpf).reduce((a, v) => a + v.ns, 0) / s.bpfRequests));
    console.log(`prefix-read floor (registers and 16 bytes per TCP send, receives only called, nothing else): ratio ${fixed(ratio('floor'), 3)}; `
      + `${fixed(ns, 0)} ns per request over ${fixed(runs, 1)} runs (${fixed(ns / runs, 0)} ns per run)`);
  }
  const agent = samples.filter((s) => s.condition === 'agent');
  if (!agent.length) return;
  const r = ratio('agent'), peer = o.conditions.includes('bpftrace') ? ratio('bpftrace') : NaN;
  const cpu = median(agent.map((s) => (s.cpuMs! / (s.seconds * 1000)) / (s.rps / 10_000)));
  const rss = max(agent.map((s) => s.rssGrowth! / (1 << 20)));
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(table(['target (dhrishti run with L7)', 'seen', 'target', ''], [
    ['throughput ratio to no observer', fixed(r, 3), `>= ${T.ratio}`, met(r >= T.ratio)],
    ['... above the bpftrace peer\'s', Number.isFinite(peer) ? fixed(peer, 3) : '-', `< ${fixed(r, 3)}`, Number.isFinite(peer) ? met(r > peer) : '-'],
    ['agent CPU per 10k req/s (one core = 100%)', pct(cpu), `<= ${pct(T.cpuPer10k, 0)}`, met(cpu <= T.cpuPer10k)],
    ['agent RSS growth over the run', `${fixed(rss, 1)} MB`, `<= ${T.rssGrowthMb} MB`, met(rss <= T.rssGrowthMb)],
    ['requests on the map / requests made', fixed(median(agent.map((s) => s.counted! / s.requests)), 4), '1 (every one, once)', ''],
  ]));
  const perReq = (names: (n: string) => boolean) => median(agent.map((s) => Object.entries(s.bpf).filter(([n]) => names(n)).reduce((a, [, v]) => a + v.ns, 0) / s.bpfRequests));
  const avg = (name: string) => median(agent.filter((s) => s.bpf[name]?.runs).map((s) => s.bpf[name].ns / s.bpf[name].runs));
  console.log(`kernel time per request (both sockets, all programs) ${fixed(perReq(() => true), 0)} ns, of it sends and receives ${fixed(perReq((n) => n === 'dh_sock_send_length' || n === 'dh_sock_recv_length'), 0)} ns; `
    + `per run (TCP, L7 and DNS in one program): dh_sock_send_length ${fixed(avg('dh_sock_send_length'), 0)} ns, dh_sock_recv_length ${fixed(avg('dh_sock_recv_length'), 0)} ns`);
  const losses = agent.map((s) => s.losses!).reduce((a, b) => Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, (a[k] ?? 0) + (b[k] ?? 0)])), {});
  const nonzero = Object.entries(losses).filter(([, v]) => v);
  console.log(`L7 losses over the agent's runs (the whole host's traffic): ${nonzero.length ? nonzero.map(([k, v]) => `${k} ${int(v)}`).join(', ') : 'none'}`);
  if (pairs.length) {
    console.log(`request capture switched off and on inside one dhrishti run (l7_config.enabled), ${pairs.length} pairs of ${o.switchSeconds} s: `
      + `capture on / off ${fixed(median(pairs), 3)} median [${fixed(quantile(pairs, 0), 3)}-${fixed(quantile(pairs, 1), 3)}]: what capture itself costs, the TCP map on in both`);
  }
}

function list<T extends string>(name: string, all: readonly T[]) {
  return (v: string): T[] => {
    const xs = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = xs.filter((x) => !(all as readonly string[]).includes(x));
    if (bad.length || !xs.length) throw new InvalidArgumentError(`${name} takes ${all.join(', ')}; got "${v}"`);
    return [...new Set(xs)] as T[];
  };
}

async function main(): Promise<void> {
  const cmd = new Command('bench:l7')
    .option('--rounds <n>', 'rounds per load (conditions interleaved, order alternating)', positiveInt('--rounds', 50), L7_BENCH.rounds)
    .option('--seconds <n>', 'seconds per measured run', positiveInt('--seconds', 600), L7_BENCH.seconds)
    .option('--loads <list>', `loads to run: ${WORKLOADS.join(',')}`, list('--loads', WORKLOADS), [...WORKLOADS])
    .option('--conditions <list>', `conditions besides "none": ${CONDITIONS.slice(1).join(',')}`, list('--conditions', CONDITIONS), [...CONDITIONS])
    .option('--switch-pairs <n>', 'pairs of runs with capture switched off and on in one agent, after the rounds (0: none)', nonNegativeInt('--switch-pairs'), L7_BENCH.switchPairs)
    .option('--switch-seconds <n>', 'seconds per switched run', positiveInt('--switch-seconds', 60), L7_BENCH.switchSeconds);
  cmd.parse(process.argv);
  const raw = cmd.opts<{ rounds: number; seconds: number; loads: Workload[]; conditions: Condition[]; switchPairs: number; switchSeconds: number }>();
  const o: Options = { ...raw, workloads: raw.loads, conditions: [...new Set<Condition>(['none', ...raw.conditions])] };
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const statsWas = execFileSync('sysctl', ['-n', 'kernel.bpf_stats_enabled'], { encoding: 'utf8' }).trim();
  console.log(`bench:l7  ${o.rounds} rounds x ${o.seconds} s per condition and load; ${os.cpus().length} CPUs; uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  const results: [Workload, { samples: Sample[]; switched: number[] }][] = [];
  try {
    for (const w of o.workloads) results.push([w, await measure(w, o, ticks)]);
  } finally {
    execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${statsWas}`]);
  }
  for (const [w, r] of results) report(w, r.samples, r.switched, o);
  console.log(`\nuptime after: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
