// `npm run bench`: probe overhead under HTTP load, the agent's CPU cost per
// connection, and user-space decoding throughput. Prints figures beside their
// targets; the exit code says only whether the benchmark could run.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { BENCH, BPF_OBJECT_PATH, DEFAULTS, NATIVE_ADDON_PATH } from '../src/config/defaults.js';
import { EVENT_SIZE } from '../src/events/layout.js';
import { positiveInt, oneOf } from '../src/cli/options.js';
import type { DecodeBenchResult } from './decode.js';
import { runLoadBench, CONDITIONS, MODES, type Condition, type LoadBenchResult } from './probe-overhead.js';
import type { LoadMode } from './lib/wrk.js';
import { killAll, start } from './lib/children.js';
import { fileURLToPath } from 'node:url';
import { AGENT_SCRIPT } from './lib/agent.js';
import { fixed, int, max, median, pct, table } from './lib/report.js';

interface Options {
  only: 'all' | 'load' | 'decode';
  seconds: number;
  warmup: number;
  rounds: number;
  connections: number;
  records: number;
  pin: boolean;
  agentProfile?: string;
  agentScript: string;
  agentNodeFlags: string;
}

/** One decoding run: node flags, and what the child process measured under them. */
interface DecodeVariant { label: string; flags: string[]; result: DecodeBenchResult }

const DECODE_CHILD = fileURLToPath(new URL('./decode-child.js', import.meta.url));

const T = BENCH.targets;
const MODE_LABEL: Record<LoadMode, string> = { keepalive: 'keep-alive', close: 'connection per request' };
const COND_LABEL: Record<Condition, string> = { none: 'no agent', agent: 'Dhrishti agent', bpftrace: 'bpftrace 0.17 peer' };

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number of 0 or more, got "${v}"`);
    return n;
  };
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
  if (!fs.existsSync(o.agentScript)) problems.push(`agent script not found: ${o.agentScript}`);
  if (!fs.existsSync(NATIVE_ADDON_PATH)) problems.push(`native loader not built (${NATIVE_ADDON_PATH}); run: npm run setup`);
  for (const tool of ['wrk', 'bpftrace', ...(o.pin ? ['taskset'] : [])]) {
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

function flagsLabel(flags: string[]): string {
  return flags.length ? flags.join(' ') : 'no flags';
}

function printDecode(vs: DecodeVariant[]): void {
  const d = vs[0].result;
  console.log(`\n== Decoding: decodeBatch over ${int(d.records)} synthetic records (${BENCH.decodeRepeats} timed passes each) ==`);
  console.log(`mix: ${int(d.mix.ipv4)} IPv4, ${int(d.mix.mapped)} IPv4-mapped IPv6, ${int(d.mix.ipv6)} IPv6; ${int(d.mix.closes)} closes, ${int(d.mix.closeErrors)} with sk_err`);
  console.log(`(a full ${DEFAULTS.ringbufBytes / 1048576} MiB ring buffer holds ${int(DEFAULTS.ringbufBytes / EVENT_SIZE)} records; the agent's batches are usually far smaller)`);
  const rows: string[][] = [];
  for (const v of vs) {
    for (const r of v.result.runs) {
      rows.push([`${v.label} (${flagsLabel(v.flags)})`, int(r.batch), r.rates.map((x) => fixed(x / 1e6, 2)).join(' '), `${fixed(median(r.rates) / 1e6, 2)}M`, `${fixed(max(r.rates) / 1e6, 2)}M`]);
    }
  }
  console.log(table(['node', 'records per call', 'passes (M records/s)', 'median', 'best'], rows));
}

function rps(l: LoadBenchResult, c: Condition, m: LoadMode): number[] {
  return l.samples.filter((s) => s.condition === c && s.mode === m).map((s) => s.wrk.requestsPerSec);
}

/** Observer CPU in ms per 10k connections, per close-mode run (each request is one connection). */
function cpuPer10kConnections(l: LoadBenchResult, c: Condition): number[] {
  return l.samples.filter((s) => s.condition === c && s.mode === 'close' && s.observerCpuMs !== null && s.wrk.requests > 0)
    .map((s) => (s.observerCpuMs! / s.wrk.requests) * 10000);
}

/** The same, less what the observer spent in an idle stretch as long as the run (other traffic on the host, timers). */
function netCpuPer10kConnections(l: LoadBenchResult, c: Condition): number[] {
  return l.samples.filter((s) => s.condition === c && s.mode === 'close' && s.observerCpuMs !== null && s.observerIdleCpuMs !== null && s.wrk.requests > 0)
    .map((s) => (Math.max(0, s.observerCpuMs! - s.observerIdleCpuMs!) / s.wrk.requests) * 10000);
}

function printLoad(l: LoadBenchResult): void {
  console.log('\n== HTTP load on loopback: requests/s (median of rounds; best in brackets) ==');
  const rows: string[][] = [];
  for (const m of MODES) {
    const base = median(rps(l, 'none', m));
    for (const c of CONDITIONS) {
      const xs = rps(l, c, m);
      const ratio = median(xs) / base;
      const target = c === 'agent' ? `>= ${m === 'keepalive' ? T.keepAliveRatio : T.connPerRequestRatio}` : '';
      rows.push([`${MODE_LABEL[m]}, ${COND_LABEL[c]}`, int(median(xs)), `(${int(max(xs))})`, c === 'none' ? '1.000' : fixed(ratio, 3), target]);
    }
  }
  console.log(table(['condition', 'req/s', 'best', 'ratio to no agent', 'target'], rows));

  // Closed sockets each observer reported, against those the benchmark made: more means other TCP traffic on the host was traced too.
  const foreign = (seen: number, made: number) => (seen > made * 1.1 ? `  (WARNING: ${int(seen - made)} more than the benchmark made: other TCP traffic on this host)` : '');
  for (const { summary: s, benchSockets } of l.agentSummaries) {
    console.log(`agent saw: ${Object.entries(s.counts).map(([k, v]) => `${k} ${int(v)}`).join(', ')}; lost ${s.lost.total} (ring buffer full ${s.lost.ringbufFull}, conn map full ${s.lost.connMapFull}, malformed ${s.lost.malformed})`);
    console.log(`  closes: ${int(s.counts.close ?? 0)} seen, ${int(benchSockets)} sockets made by the benchmark${foreign(s.counts.close ?? 0, benchSockets)}`);
    const open = (s.counts.existing ?? 0) + (s.counts.listen ?? 0);
    if (open > 100) console.log(`  WARNING: ${int(open)} sockets of other processes were open when the agent started; their traffic (${int(s.counts.traffic ?? 0)} traffic events) adds to the agent's CPU`);
  }
  for (const { summary: s, benchSockets } of l.peerSummaries) {
    console.log(`bpftrace saw: ${int(s.transitions)} state changes, printed ${int(s.closeLines)} closes; ${int(benchSockets)} sockets made by the benchmark${foreign(s.closeLines, benchSockets)}`);
  }

  const agentCpu = median(cpuPer10kConnections(l, 'agent'));
  const peerCpu = median(cpuPer10kConnections(l, 'bpftrace'));
  // X ms of CPU per 10k connections is X ms per second at 10k connections/s, i.e. X/1000 of a core.
  console.log(`\nagent CPU: ${fixed(agentCpu, 1)} ms per 10k connections = ${fixed(agentCpu / 10, 2)}% of one core at 10k connections/s (target <= ${T.agentCorePercentAt10kConnPerSec}%)`);
  console.log(`  per run: ${cpuPer10kConnections(l, 'agent').map((x) => `${fixed(x, 1)} ms`).join(', ')}; each connection is two sockets (wrk's and the server's), both traced`);
  const agentNet = median(netCpuPer10kConnections(l, 'agent'));
  console.log(`  less its CPU when idle for as long (other traffic on the host, timers): ${fixed(agentNet, 1)} ms per 10k connections = ${fixed(agentNet / 10, 2)}% of one core`);
  console.log(`bpftrace CPU (its user-space process): ${fixed(peerCpu, 1)} ms per 10k connections = ${fixed(peerCpu / 10, 2)}% of one core at 10k connections/s`);
  const ka = l.samples.filter((s) => s.condition === 'agent' && s.mode === 'keepalive' && s.observerCpuMs !== null);
  if (ka.length) console.log(`agent CPU during keep-alive runs: ${ka.map((s) => pct(s.observerCpuMs! / 1000 / s.wrk.seconds)).join(', ')} of one core`);
}

function printSummary(o: Options, d: DecodeVariant[] | null, l: LoadBenchResult | null): void {
  const rows: (string[] | null)[] = [];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  if (l) {
    for (const m of MODES) {
      const base = median(rps(l, 'none', m));
      const agent = median(rps(l, 'agent', m)) / base;
      const peer = median(rps(l, 'bpftrace', m)) / base;
      const target = m === 'keepalive' ? T.keepAliveRatio : T.connPerRequestRatio;
      rows.push([`${MODE_LABEL[m]}: req/s, no agent`, int(base), '', '']);
      rows.push([`${MODE_LABEL[m]}: agent ratio`, fixed(agent, 3), `>= ${target}`, met(agent >= target)]);
      rows.push([`${MODE_LABEL[m]}: bpftrace ratio`, fixed(peer, 3), '', '']);
      rows.push([`${MODE_LABEL[m]}: agent overhead vs bpftrace`, `${pct(1 - agent)} vs ${pct(1 - peer)}`, 'lower', met(agent > peer)]);
      rows.push(null);
    }
    const cpu = median(cpuPer10kConnections(l, 'agent'));
    rows.push(['agent CPU per 10k connections', `${fixed(cpu, 1)} ms`, '', '']);
    rows.push(['agent CPU at 10k connections/s', `${fixed(cpu / 10, 2)}% core`, `<= ${T.agentCorePercentAt10kConnPerSec}%`, met(cpu / 10 <= T.agentCorePercentAt10kConnPerSec)]);
  }
  if (d) {
    if (l) rows.push(null);
    const target = `>= ${T.decodeRecordsPerSec / 1e6}M/s`;
    for (const v of d) {
      for (const r of v.result.runs) {
        const rate = median(r.rates);
        rows.push([`decode, ${v.label}, ${int(r.batch)} per call`, `${fixed(rate / 1e6, 2)}M/s`, target, met(rate >= T.decodeRecordsPerSec)]);
      }
    }
  }
  console.log('\n== Summary ==');
  const bg = l ? max(l.backgroundLoad) : 0;
  if (bg > 0.05) console.log(`WARNING: other processes kept up to ${pct(bg)} of the CPUs busy between runs; the load figures are noisy. Run again on an idle machine.`);
  if (l && max(l.foreignPrograms) > 0) console.log(`WARNING: other processes had up to ${max(l.foreignPrograms)} BPF tracing programs loaded during the runs; the "no agent" baseline was not clean.`);
  if (l) console.log(`(medians of ${o.rounds} rounds; wrk ${o.seconds}s x ${o.connections} connections; ${o.pin ? `wrk on CPU ${BENCH.wrkCpu}, server on CPU ${BENCH.serverCpu}, observers unpinned` : 'nothing pinned'}; agent run as node ${o.agentNodeFlags || '(no flags)'})`);
  console.log(table(['measure', 'result', 'target', ''], rows));
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
    load = await runLoadBench({
      threads: BENCH.wrkThreads,
      connections: o.connections,
      seconds: o.seconds,
      warmupSeconds: o.warmup,
      rounds: o.rounds,
      wrkCpu: o.pin ? BENCH.wrkCpu : null,
      serverCpu: o.pin ? BENCH.serverCpu : null,
      agentScript: o.agentScript,
      agentNodeFlags: agentFlags,
      agentProfileDir: o.agentProfile ?? null,
      ticksPerSec: ticksPerSec(),
      log: (line) => console.log(line),
    });
    printLoad(load);
    if (o.agentProfile) console.log(`agent CPU profiles (.cpuprofile, open in Chrome DevTools) written to ${o.agentProfile}`);
  }
  printSummary(o, decode, load);
}

const program = new Command()
  .name('bench')
  .description('Dhrishti benchmark: probe overhead under HTTP load, agent CPU per connection, decoding throughput')
  .option('--only <part>', 'run only one part: load or decode', oneOf('--only', ['all', 'load', 'decode'] as const), 'all')
  .option('--seconds <n>', 'seconds per measured wrk run', positiveInt('--seconds', 600), BENCH.wrkSeconds)
  .option('--warmup <n>', 'seconds of unmeasured load before each run', nonNegativeInt('--warmup'), BENCH.warmupSeconds)
  .option('--rounds <n>', 'times each condition runs (median reported)', positiveInt('--rounds', 20), BENCH.rounds)
  .option('--connections <n>', 'wrk open connections', positiveInt('--connections', 10000), BENCH.wrkConnections)
  .option('--records <n>', 'synthetic records for the decoding benchmark', positiveInt('--records', 20_000_000), BENCH.decodeRecords)
  .option('--no-pin', 'do not pin wrk and the server to CPUs with taskset')
  .option('--agent-script <file>', 'agent to measure: a script that prints a {"ready":true} line and, on SIGTERM, a {"summary":...} line', AGENT_SCRIPT)
  .option('--agent-node-flags <flags>', 'node/V8 flags for the agent and the second decoding run ("" for none)', BENCH.agentNodeFlags.join(' '))
  .option('--agent-profile <dir>', 'run the agent under node --cpu-prof and write its profiles to <dir>')
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
