// `npm run bench`: the product's cost under HTTP load. wrk against nginx (one
// worker) on loopback, connection-per-request and keep-alive, with no agent,
// with `dhrishti run` (graph, API and history on), with the engine alone,
// with a bpftrace peer and with empty programs on the per-call tracepoints
// (the floor), interleaved over rounds, unpinned (as users run it) and
// pinned; plus user-space decoding throughput. Prints figures beside their
// targets; the exit code says only whether the benchmark could run.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { BPF_OBJECT_PATH, DEFAULTS, NATIVE_ADDON_PATH } from '../src/config/defaults.js';
import { EVENT_SIZE } from '../src/events/layout.js';
import { nonNegativeInt, positiveInt, oneOf } from '../src/cli/options.js';
import type { DecodeBenchResult } from './decode.js';
import { runLoadBench, CONDITIONS, MODES, type Condition, type LoadBenchResult, type LoadSample } from './probe-overhead.js';
import type { LoadMode } from './lib/wrk.js';
import { killAll, start } from './lib/children.js';
import { fileURLToPath } from 'node:url';
import { AGENT_SCRIPT, CLI_MAIN } from './lib/agent.js';
import { BENCH } from './lib/constants.js';
import { fixed, int, max, median, pct, table } from './lib/report.js';
import { bracketedRatios } from './lib/baseline.js';
import { measureKernelTime, type KernelTimeRun } from './lib/kernel-time.js';
import { NGINX, startNginx } from './lib/nginx.js';

interface Options {
  only: 'all' | 'load' | 'decode';
  seconds: number;
  warmup: number;
  rounds: number;
  connections: number;
  records: number;
  pin: 'both' | 'on' | 'off';
  conditions: Condition[];
  profile?: string;
  engineScript: string;
  agentNodeFlags: string;
  agentArgs: string;
  kernelTime: boolean;
}

/** One decoding run: node flags, and what the child process measured under them. */
interface DecodeVariant { label: string; flags: string[]; result: DecodeBenchResult }

const DECODE_CHILD = fileURLToPath(new URL('./decode-child.js', import.meta.url));

const T = BENCH.targets;
const MODE_LABEL: Record<LoadMode, string> = { keepalive: 'keep-alive', close: 'connection per request' };
const COND_LABEL: Record<Condition, string> = { none: 'no agent', agent: 'dhrishti run', engine: 'engine only', bpftrace: 'bpftrace 0.17 peer', hooks: 'empty per-call hooks' };

function conditionList(v: string): Condition[] {
  const xs = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = xs.filter((x) => !(CONDITIONS as readonly string[]).includes(x));
  if (bad.length || !xs.length) throw new InvalidArgumentError(`--conditions takes ${CONDITIONS.join(', ')}; got "${v}"`);
  return [...new Set(['none', ...xs])] as Condition[]; // the baseline always runs
}

function has(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Everything the load phase needs, checked up front, with what to do about it. */
function preflight(o: Options): string[] {
  const problems: string[] = [];
  if (o.only === 'decode') return problems;
  if (process.getuid?.() !== 0) problems.push('the load benchmark loads eBPF programs and must run as root (try: sudo npm run bench)');
  if (!fs.existsSync(BPF_OBJECT_PATH)) problems.push(`BPF object not built (${BPF_OBJECT_PATH}); run: npm run setup`);
  if (!fs.existsSync(CLI_MAIN)) problems.push(`dhrishti not built (${CLI_MAIN}); run: npm run setup`);
  if (!fs.existsSync(o.engineScript)) problems.push(`engine script not found: ${o.engineScript}`);
  if (!fs.existsSync(NATIVE_ADDON_PATH)) problems.push(`native loader not built (${NATIVE_ADDON_PATH}); run: npm run setup`);
  if (!fs.existsSync(NGINX)) problems.push(`${NGINX} not found; run: npm run setup (installs nginx-light from Debian)`);
  for (const tool of ['wrk', ...(o.conditions.includes('bpftrace') ? ['bpftrace'] : []), ...(o.conditions.includes('hooks') ? ['clang'] : []), ...(o.pin !== 'off' ? ['taskset'] : [])]) {
    if (!has(tool)) problems.push(`${tool} not found; run: npm run setup (installs it from Debian)`);
  }
  return problems;
}

function ticksPerSec(): number {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
}

/** Runs bench/decode-child.js under `flags` in its own process (fresh heap, the flags under test). */
async function decodeInChild(flags: string[], records: number, batchSizes: number[]): Promise<DecodeBenchResult> {
  const child = start('decode benchmark', process.execPath, [...flags, DECODE_CHILD, String(records), String(BENCH.decodeRepeats), batchSizes.join(',')]);
  const code = await child.exited;
  const line = child.lines.find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`decode benchmark failed (code ${code}): ${child.stderr.slice(-5).join(' | ')}`);
  return JSON.parse(line) as DecodeBenchResult;
}

function printDecode(vs: DecodeVariant[]): void {
  const d = vs[0].result;
  console.log(`\n== Decoding: decodeBatch into reused events, as the engine does, over ${int(d.records)} synthetic records (${BENCH.decodeRepeats} passes timed in CPU time) ==`);
  console.log(`mix: ${int(d.mix.ipv4)} IPv4, ${int(d.mix.mapped)} IPv4-mapped IPv6, ${int(d.mix.ipv6)} IPv6; ${int(d.mix.closes)} closes, ${int(d.mix.closeErrors)} with sk_err`);
  console.log(`(a full ${DEFAULTS.ringbufBytes / 1048576} MiB ring buffer holds ${int(DEFAULTS.ringbufBytes / EVENT_SIZE)} records; the agent's batches are usually far smaller)`);
  const rows: string[][] = [];
  for (const v of vs) {
    for (const r of v.result.runs) {
      rows.push([`${v.label} (${v.flags.length ? v.flags.join(' ') : 'no flags'})`, int(r.batch), r.rates.map((x) => fixed(x / 1e6, 2)).join(' '), `${fixed(median(r.rates) / 1e6, 2)}M`, `${fixed(max(r.rates) / 1e6, 2)}M`]);
    }
  }
  console.log(table(['node', 'records per call', 'passes (M records per CPU second)', 'median', 'best'], rows));
}

// ---------------------------------------------------------------- load figures

type Pin = boolean;
const of = (l: LoadBenchResult, pinned: Pin, c: Condition, m: LoadMode) => l.samples.filter((s) => s.pinned === pinned && s.condition === c && s.mode === m);

/** Throughput of each run of a condition over the no-agent runs of the turns on each side of it (lib/baseline.ts). */
function ratios(l: LoadBenchResult, pinned: Pin, c: Condition, m: LoadMode): number[] {
  const turns = (x: Condition) => of(l, pinned, x, m).map((s) => ({ turn: s.turn, rps: s.wrk.requestsPerSec }));
  return bracketedRatios(turns(c), turns('none'));
}

/** Observer CPU in ms per 10k connections, per connection-per-request run (each request is one connection, two sockets). */
const cpuPer10k = (s: LoadSample) => (s.observerCpuMs! / s.wrk.requests) * 10000;
/** The same, less what the observer spends idle for as long (other traffic on the host, timers). */
const netCpuPer10k = (s: LoadSample) => (Math.max(0, s.observerCpuMs! - (s.observerIdleCpuMs ?? 0)) / s.wrk.requests) * 10000;
/** Per 10k connections the observer saw close during the run: robust to other TCP traffic on a shared host. */
const tracedCpuPer10k = (s: LoadSample) => (s.tracedConnections ? (s.observerCpuMs! / s.tracedConnections) * 10000 : NaN);

function cpuRuns(l: LoadBenchResult, pinned: Pin, c: Condition, f: (s: LoadSample) => number): number[] {
  return of(l, pinned, c, 'close').filter((s) => s.observerCpuMs !== null && s.wrk.requests > 0).map(f).filter((x) => Number.isFinite(x));
}

/** "median [min-max]" */
function spread(xs: number[], digits: number): string {
  if (!xs.length) return '-';
  return `${fixed(median(xs), digits)} [${fixed(Math.min(...xs), digits)}-${fixed(Math.max(...xs), digits)}]`;
}

function pinnings(o: Options): Pin[] { return o.pin === 'both' ? [false, true] : [o.pin === 'on']; }
const pinLabel = (p: Pin) => (p ? 'pinned (wrk CPU 0, nginx CPU 1, observers float)' : 'unpinned (as users run it)');

function printLoad(o: Options, l: LoadBenchResult): void {
  for (const pinned of pinnings(o)) {
    console.log(`\n== HTTP load, ${pinLabel(pinned)}: requests/s, median [min-max] of ${o.rounds} rounds; ratio to the no-agent runs on each side ==`);
    const rows: (string[] | null)[] = [];
    for (const m of MODES) {
      for (const c of o.conditions) {
        const rps = of(l, pinned, c, m).map((s) => s.wrk.requestsPerSec);
        rows.push([`${MODE_LABEL[m]}, ${COND_LABEL[c]}`, spread(rps, 0), c === 'none' ? '1.000' : spread(ratios(l, pinned, c, m), 3)]);
      }
      rows.push(null);
    }
    rows.pop();
    console.log(table(['condition', 'req/s', 'ratio to no agent'], rows));
    console.log(`\nCPU per 10k connections (connection per request; each connection is two sockets, both traced), median [min-max]:`);
    const cpuRows: string[][] = [];
    for (const c of o.conditions.filter((x) => x !== 'none')) {
      cpuRows.push([COND_LABEL[c], `${spread(cpuRuns(l, pinned, c, cpuPer10k), 1)} ms`, `${spread(cpuRuns(l, pinned, c, netCpuPer10k), 1)} ms`, `${spread(cpuRuns(l, pinned, c, tracedCpuPer10k), 1)} ms`]);
    }
    console.log(table(['observer', 'per 10k benchmark connections', 'less its idle CPU', 'per 10k connections it saw close'], cpuRows));
    const idle = of(l, pinned, 'agent', 'close').filter((s) => s.observerIdleCpuMs !== null).map((s) => (100 * s.observerIdleCpuMs!) / (s.wrk.seconds * 1000));
    if (idle.length) console.log(`dhrishti run CPU in the pause before each run (no load): ${spread(idle, 2)} % of one core`);
    const ka = of(l, pinned, 'agent', 'keepalive').filter((s) => s.observerCpuMs !== null);
    if (ka.length) console.log(`dhrishti run CPU during keep-alive runs: ${ka.map((s) => pct(s.observerCpuMs! / 1000 / s.wrk.seconds)).join(', ')} of one core`);
  }
  // Closed sockets each observer reported, against those the benchmark made: more means other TCP traffic on the host was traced too.
  const foreign = (seen: number, made: number) => (seen > made * 1.1 ? `  (WARNING: ${int(seen - made)} more than the benchmark made: other TCP traffic on this host)` : '');
  console.log('');
  for (const r of l.observerSummaries) {
    const s = r.summary;
    if ('closeLines' in s) console.log(`bpftrace saw: ${int(s.transitions)} state changes, printed ${int(s.closeLines)} closes; ${int(r.benchSockets)} sockets made by the benchmark${foreign(s.closeLines, r.benchSockets)}`);
    else if (r.condition === 'engine') console.log(`engine saw: ${Object.entries(s.counts).map(([k, v]) => `${k} ${int(v)}`).join(', ')}; lost ${s.lost.total}; closes vs ${int(r.benchSockets)} sockets made${foreign(s.counts.close ?? 0, r.benchSockets)}`);
    else console.log(`dhrishti run saw: ${int(s.events)} events, lost ${s.lost.total} (ring buffer full ${s.lost.ringbufFull}, conn map full ${s.lost.connMapFull}, malformed ${s.lost.malformed}); graph ${s.counts.nodes} nodes, ${s.counts.edges} edges; ${int(r.benchSockets)} sockets made by the benchmark`);
  }
}

function printSummary(o: Options, d: DecodeVariant[] | null, l: LoadBenchResult | null, k: KernelTimeRun[] | null): void {
  const rows: (string[] | null)[] = [];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  if (k?.length) {
    for (const r of k) rows.push([`kernel time per ${r.mode === 'close' ? 'new connection' : 'keep-alive request'}: ${r.label}`, `${fixed(r.totalUs, 2)} µs`, '', '']);
    rows.push(null);
  }
  if (l) {
    for (const pinned of pinnings(o)) {
      const p = pinned ? 'pinned' : 'unpinned';
      for (const m of MODES) {
        const base = median(of(l, pinned, 'none', m).map((s) => s.wrk.requestsPerSec));
        const agent = median(ratios(l, pinned, 'agent', m));
        const peer = median(ratios(l, pinned, 'bpftrace', m));
        const target = m === 'keepalive' ? T.keepAliveRatio : T.connPerRequestRatio;
        rows.push([`${p}, ${MODE_LABEL[m]}: req/s, no agent`, int(base), '', '']);
        if (o.conditions.includes('agent')) rows.push([`${p}, ${MODE_LABEL[m]}: dhrishti run ratio`, spread(ratios(l, pinned, 'agent', m), 3), `>= ${target}`, met(agent >= target)]);
        if (o.conditions.includes('engine')) rows.push([`${p}, ${MODE_LABEL[m]}: engine-only ratio`, spread(ratios(l, pinned, 'engine', m), 3), '', '']);
        if (o.conditions.includes('bpftrace')) rows.push([`${p}, ${MODE_LABEL[m]}: bpftrace ratio`, spread(ratios(l, pinned, 'bpftrace', m), 3), '', '']);
        if (o.conditions.includes('agent') && o.conditions.includes('bpftrace')) rows.push([`${p}, ${MODE_LABEL[m]}: dhrishti run above bpftrace`, `${fixed(agent, 3)} vs ${fixed(peer, 3)}`, 'above', met(agent > peer)]);
        // The floor: what a run keeps with programs that do nothing on the per-call tracepoints (no per-call design keeps more).
        if (o.conditions.includes('hooks')) rows.push([`${p}, ${MODE_LABEL[m]}: empty per-call hooks ratio (the floor)`, spread(ratios(l, pinned, 'hooks', m), 3), '', '']);
        rows.push(null);
      }
      if (o.conditions.includes('agent')) {
        const cpu = cpuRuns(l, pinned, 'agent', cpuPer10k);
        rows.push([`${p}: dhrishti run CPU per 10k new connections`, `${spread(cpu, 1)} ms`, `<= ${T.agentCpuMsPer10kConnections} ms`, met(median(cpu) <= T.agentCpuMsPer10kConnections)]);
        rows.push([`${p}: the same, per 10k connections it saw (host's other TCP too)`, `${spread(cpuRuns(l, pinned, 'agent', tracedCpuPer10k), 1)} ms`, '', '']);
      }
      if (o.conditions.includes('engine')) rows.push([`${p}: engine-only CPU per 10k new connections`, `${spread(cpuRuns(l, pinned, 'engine', cpuPer10k), 1)} ms`, '', '']);
      rows.push(null);
    }
  }
  if (d) {
    const target = `>= ${T.decodeRecordsPerSec / 1e6}M/s`;
    for (const v of d) {
      for (const r of v.result.runs) {
        const rate = median(r.rates);
        rows.push([`decode, ${v.label}, ${int(r.batch)} per call`, `${fixed(rate / 1e6, 2)}M/s`, target, met(rate >= T.decodeRecordsPerSec)]);
      }
    }
  }
  while (rows.length && rows[rows.length - 1] === null) rows.pop();
  console.log('\n== Summary ==');
  const bg = l ? max(l.backgroundLoad) : 0;
  if (bg > 0.05) console.log(`WARNING: other processes kept up to ${pct(bg)} of the CPUs busy between runs; the load figures are noisy. Run again on an idle machine.`);
  if (l && max(l.foreignPrograms) > 0) console.log(`WARNING: other processes had up to ${max(l.foreignPrograms)} BPF tracing programs loaded during the runs; the "no agent" baseline was not clean.`);
  if (l) console.log(`(${o.rounds} rounds, interleaved; wrk -t${BENCH.wrkThreads} -c${o.connections} ${o.seconds}s against nginx with one worker; agent and engine run as node ${o.agentNodeFlags || '(no flags)'}; ratios are per run against the no-agent runs of the turns just before and after it)`);
  console.log(table(['measure', 'median [min-max]', 'target', ''], rows));
}

async function main(o: Options): Promise<void> {
  const problems = preflight(o);
  if (problems.length) {
    console.error(`bench: cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  const agentFlags = o.agentNodeFlags.split(/\s+/).filter(Boolean);
  let decode: DecodeVariant[] | null = null;
  let load: LoadBenchResult | null = null;
  if (o.only !== 'load') {
    // Plain node, with the whole buffer in one call as well; then the agent's flags, on batch sizes it meets.
    decode = [{ label: 'plain', flags: [], result: await decodeInChild([], o.records, [0, ...BENCH.decodeBatchRecords]) }];
    if (agentFlags.length) decode.push({ label: "agent's", flags: agentFlags, result: await decodeInChild(agentFlags, o.records, [...BENCH.decodeBatchRecords]) });
    printDecode(decode);
  }
  if (o.only !== 'decode') {
    console.log('\n== HTTP load runs ==');
    if (o.profile) fs.mkdirSync(o.profile, { recursive: true });
    load = { samples: [], backgroundLoad: [], foreignPrograms: [], observerSummaries: [] };
    for (const pinned of pinnings(o)) {
      await runLoadBench({
        threads: BENCH.wrkThreads, connections: o.connections, seconds: o.seconds, warmupSeconds: o.warmup, baselineWarmupSeconds: BENCH.baselineWarmupSeconds, rounds: o.rounds,
        conditions: o.conditions, pinned, wrkCpu: BENCH.wrkCpu, serverCpu: BENCH.serverCpu,
        engineScript: o.engineScript, agentNodeFlags: agentFlags, agentArgs: o.agentArgs.split(/\s+/).filter(Boolean), profileDir: o.profile ?? null,
        ticksPerSec: ticksPerSec(), log: (line) => console.log(line),
      }, load);
    }
    printLoad(o, load);
    if (o.profile) console.log(`CPU profiles of the agent and the engine (.cpuprofile, open in Chrome DevTools) written to ${o.profile}`);
  }
  let kernel: KernelTimeRun[] | null = null;
  if (o.only !== 'decode' && o.kernelTime) {
    console.log(`\n== The agent's time in the kernel (kernel.bpf_stats_enabled on for these runs only; wrk on CPU ${BENCH.wrkCpu}, nginx on CPU ${BENCH.serverCpu}) ==`);
    const nginx = await startNginx(BENCH.serverCpu);
    try {
      kernel = await measureKernelTime({ url: nginx.url, wrkCpu: BENCH.wrkCpu, connections: o.connections, seconds: o.seconds, nodeFlags: agentFlags, agentArgs: o.agentArgs.split(/\s+/).filter(Boolean), log: (line) => console.log(line) });
    } finally {
      await nginx.stop();
    }
  }
  printSummary(o, decode, load, kernel);
}

const program = new Command()
  .name('bench')
  .description('Dhrishti benchmark: the agent\'s cost under HTTP load (dhrishti run, the engine alone, a bpftrace peer), and decoding throughput')
  .option('--only <part>', 'run only one part: load or decode', oneOf('--only', ['all', 'load', 'decode'] as const), 'all')
  .option('--seconds <n>', 'seconds per measured wrk run', positiveInt('--seconds', 600), BENCH.wrkSeconds)
  .option('--warmup <n>', 'seconds of unmeasured load before each run', nonNegativeInt('--warmup'), BENCH.warmupSeconds)
  .option('--rounds <n>', 'times each condition runs, interleaved', positiveInt('--rounds', 50), BENCH.rounds)
  .option('--connections <n>', 'wrk open connections', positiveInt('--connections', 10000), BENCH.wrkConnections)
  .option('--records <n>', 'synthetic records for the decoding benchmark', positiveInt('--records', 20_000_000), BENCH.decodeRecords)
  .option('--pin <how>', 'pin wrk and nginx to CPUs: both (unpinned, then pinned), on, off', oneOf('--pin', ['both', 'on', 'off'] as const), 'both')
  .option('--conditions <list>', `observers to compare with no agent (${CONDITIONS.filter((c) => c !== 'none').join(',')})`, conditionList, [...CONDITIONS])
  .option('--engine-script <file>', 'engine-only observer: a script that prints a {"ready":true} line and, on SIGTERM, a {"summary":...} line', AGENT_SCRIPT)
  .option('--agent-node-flags <flags>', 'node/V8 flags for the agent, the engine and the second decoding run ("" for none)', BENCH.agentNodeFlags.join(' '))
  .option('--agent-args <args>', 'extra `dhrishti run` arguments, e.g. "--no-l7 --no-dns"', '')
  .option('--no-kernel-time', 'skip the runs that measure the agent\'s time in the kernel per connection and per request')
  .option('--profile <dir>', 'profile the agent and the engine (V8 CPU profiler, from 5 s after start, 0.5 ms samples) and write .cpuprofile files to <dir>')
  .showHelpAfterError()
  .exitOverride();

try {
  program.parse(process.argv);
  await main(program.opts<Options>());
} catch (e) {
  killAll();
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
}
