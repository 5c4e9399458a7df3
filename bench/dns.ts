// `npm run bench:dns`: the DNS capture under a resolver loop.
//  1. A c-ares client (Node's dns.Resolver) sends --rate queries/s to dnsmasq
//     for --seconds, in the benchmark's own network namespace, cycling over
//     --names names: first without the agent (baseline), then with it.
//  2. The agent is the probe engine with the DNS collector (bench/dns-agent.ts);
//     its CPU is read from /proc over the loaded window.
//  3. Then the same load with TCP connections made meanwhile: no TCP close
//     event and no DNS record may be lost.
//  4. The name map filled to twice its bound (in its own process): its size
//     stays at the bound, and the heap it holds there is reported.
// Prints figures beside their targets; the exit code says only whether it ran.
// Everything it starts is stopped by pid, also on Ctrl-C.
import { Command, CommanderError } from 'commander';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveInt } from '../src/cli/options.js';
import { DNS_DEFAULTS } from '../src/config/defaults.js';
import { BENCH } from './lib/constants.js';
import type { DnsCollectorStats } from '../src/dns/types.js';
import { DnsLab, RESOLVER } from '../test/support/dns-lab.js';
import { start, node, stopAll, type Child } from '../test/support/children.js';
import { SERVER, HAMMER } from '../test/support/scripts.js';
import { cpuMsOf, memoryOf, mb } from './lib/proc-usage.js';
import { table, int, fixed } from './lib/report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AGENT = path.join(HERE, 'dns-agent.js');
const NAME_MAP_MEMORY = path.join(HERE, 'lib', 'dns-name-map-memory.js');
const TARGET_CPU_PERCENT = 3;
/** Loaded seconds before the agent's CPU is measured: JIT tiering and first allocations are start-up costs, not steady state. */
const WARMUP_SECONDS = 10;

interface Options { rate: number; seconds: number; names: number; tcpConnections: number; profile?: string }

interface LoadResult { sent: number; ok: number; errors: number; skipped: number; seconds: number; qps: number; p50: number; p95: number }

interface AgentReport {
  dns: DnsCollectorStats;
  engineLost: { total: number; ringbufFull: number; connMapFull: number; malformed: number };
  events: number;
  closesByPort: Record<string, number>;
  heapUsed: number;
}

const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** The resolver loop: paced by elapsed time, at most 500 queries in flight; prints one JSON line. */
const LOAD = `
const dns = require('dns');
const [server, rate, seconds, names] = process.argv.slice(1).map((x, i) => i ? Number(x) : x);
const r = new dns.Resolver({ timeout: 2000, tries: 1 });
r.setServers([server]);
let sent = 0, ok = 0, errors = 0, skipped = 0, inflight = 0;
const lat = [];
const t0 = Date.now();
function send() {
  const i = sent++ % names;
  const s = process.hrtime.bigint();
  inflight++;
  r.resolve4('n' + i + '.zone.test', (e) => {
    inflight--;
    if (e) errors++; else ok++;
    if (lat.length < 200000) lat.push(Number(process.hrtime.bigint() - s) / 1e6);
  });
}
const tick = setInterval(() => {
  const elapsed = (Date.now() - t0) / 1000;
  if (elapsed >= seconds) {
    clearInterval(tick);
    const wait = setInterval(() => {
      if (inflight > 0 && Date.now() - t0 < (seconds + 3) * 1000) return;
      clearInterval(wait);
      lat.sort((a, b) => a - b);
      const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN;
      console.log(JSON.stringify({ sent, ok, errors, skipped, seconds: elapsed, qps: ok / elapsed, p50: q(0.5), p95: q(0.95) }));
      process.exit(0);
    }, 50);
    return;
  }
  const due = Math.floor(rate * elapsed) - sent - skipped;
  for (let k = 0; k < due; k++) { if (inflight >= 500) skipped++; else send(); }
}, 5);
`;

function preflight(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('the DNS benchmark loads eBPF programs and creates a network namespace: run it as root');
  for (const tool of ['dnsmasq', 'unbound', 'ip']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { problems.push(`${tool} not found; run: npm run setup`); }
  }
  return problems;
}

async function runLoad(lab: DnsLab, o: Options): Promise<LoadResult> {
  const r = await lab.exec([process.execPath, '-e', LOAD, '--', RESOLVER, String(o.rate), String(o.seconds), String(o.names)], {}, (o.seconds + 30) * 1000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`resolver loop failed (code ${r.code}): ${r.stderr.slice(-500)}`);
  return JSON.parse(line) as LoadResult;
}

async function startAgent(args: string[] = []): Promise<Child> {
  const agent = start(process.execPath, [...BENCH.agentNodeFlags, AGENT, ...args]);
  await agent.waitFor(/"ready"/, 120_000);
  return agent;
}

async function agentReport(agent: Child): Promise<AgentReport> {
  const before = agent.lines.length;
  agent.send('report');
  for (let i = 0; i < 100; i++) {
    const line = agent.lines.slice(before).find((l) => l.startsWith('{"report"'));
    if (line) return (JSON.parse(line) as { report: AgentReport }).report;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the agent did not report');
}

/** Runs the load and measures the agent's CPU from the end of the warm-up (JIT, first allocations) to the end of the load. */
async function loadWithAgent(lab: DnsLab, agent: Child, o: Options): Promise<{ load: LoadResult; cpuPercent: number; processingPercent: number }> {
  const running = runLoad(lab, { ...o, seconds: o.seconds + WARMUP_SECONDS });
  await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  const p0 = (await agentReport(agent)).dns?.processingMs ?? 0;
  const cpu0 = cpuMsOf(agent.pid);
  const t0 = performance.now();
  const load = await running;
  // The agent drains its ring buffer 20 ms after a burst: a moment more belongs to the window.
  await new Promise((r) => setTimeout(r, 200));
  const cpu1 = cpuMsOf(agent.pid);
  const ms = performance.now() - t0;
  const p1 = (await agentReport(agent)).dns?.processingMs ?? 0;
  return { load, cpuPercent: ((cpu1 - cpu0) / ms) * 100, processingPercent: ((p1 - p0) / ms) * 100 };
}

async function nameMapMemory(): Promise<{ capacity: number; recorded: number; addresses: number; names: number; evictions: number; bytes: number }> {
  const c = start(process.execPath, ['--expose-gc', NAME_MAP_MEMORY, String(DNS_DEFAULTS.nameMapEntries)]);
  const code = await c.exited;
  const line = c.lines.find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`name map measurement failed: ${c.stderr.join(' ')}`);
  return JSON.parse(line);
}

async function main(o: Options): Promise<void> {
  const problems = preflight();
  if (problems.length) {
    for (const p of problems) console.error(`bench:dns: ${p}`);
    process.exit(1);
  }
  console.log(`uptime: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()} (load average; figures are noisy when it is high)`);
  const hosts: Record<string, string[]> = {};
  for (let i = 0; i < o.names; i++) hosts[`n${i}.zone.test`] = [`198.18.${(i >> 8) & 255}.${i & 255}`];
  log(`DNS lab: dnsmasq with ${int(o.names)} names`);
  const lab = await DnsLab.start({ hosts, ttl: 300 });
  try {
    log(`baseline: ${int(o.rate)} queries/s for ${o.seconds} s, no agent`);
    const base = await runLoad(lab, o);

    log(`the probe engine alone (DNS probes attached, switched off): ${int(o.rate)} queries/s for ${o.seconds} s`);
    const plain = await startAgent(['--no-dns']);
    await new Promise((r) => setTimeout(r, 2000)); // past start-up
    const engineOnly = await loadWithAgent(lab, plain, o);
    await plain.stop();

    log('agent: probe engine + DNS collector');
    const agent = await startAgent(o.profile ? ['--profile', o.profile] : []);
    await new Promise((r) => setTimeout(r, 2000));
    const idle0 = cpuMsOf(agent.pid);
    await new Promise((r) => setTimeout(r, 5000));
    const idleCpu = (cpuMsOf(agent.pid) - idle0) / 50;
    log(`with the agent: ${int(o.rate)} queries/s for ${o.seconds} s`);
    const withAgent = await loadWithAgent(lab, agent, o);
    const afterDns = await agentReport(agent);
    const rss = memoryOf(agent.pid).rss;

    log(`with the agent and ${int(o.tcpConnections)} TCP connections made meanwhile`);
    const server = node(SERVER, ['127.0.0.1', '0']);
    const port = Number((await server.waitFor(/port (\d+)/))[1]);
    const hammer = node(HAMMER, ['127.0.0.1', String(port), String(o.tcpConnections), '4']);
    const mixed = await loadWithAgent(lab, agent, o);
    await hammer.waitFor(/made \d+/, 120_000);
    await new Promise((r) => setTimeout(r, 1500)); // closes reach the agent
    await agent.stop();
    const summaryLine = agent.lines.find((l) => l.startsWith('{"summary"'));
    if (!summaryLine) throw new Error(`agent gave no summary: ${agent.stderr.join(' ')}`);
    const end = (JSON.parse(summaryLine) as { summary: AgentReport }).summary;
    await server.stop();

    log('name map filled to twice its bound');
    const nm = await nameMapMemory();

    const d = afterDns.dns!;
    const endDns = end.dns!;
    const tcpCloses = end.closesByPort[String(port)] ?? 0;
    console.log('\nResolver loop (c-ares -> dnsmasq, in the benchmark\'s network namespace)');
    console.log(table(['condition', 'answered/s', 'p50 ms', 'p95 ms', 'errors', 'agent CPU % of a core'], [
      ['no agent', fixed(base.qps, 0), fixed(base.p50, 3), fixed(base.p95, 3), int(base.errors), '-'],
      ['probe engine without the DNS collector', fixed(engineOnly.load.qps, 0), fixed(engineOnly.load.p50, 3), fixed(engineOnly.load.p95, 3), int(engineOnly.load.errors), fixed(engineOnly.cpuPercent, 2)],
      ['agent (engine + DNS collector)', fixed(withAgent.load.qps, 0), fixed(withAgent.load.p50, 3), fixed(withAgent.load.p95, 3), int(withAgent.load.errors), fixed(withAgent.cpuPercent, 2)],
      ['agent, TCP connections meanwhile', fixed(mixed.load.qps, 0), fixed(mixed.load.p50, 3), fixed(mixed.load.p95, 3), int(mixed.load.errors), fixed(mixed.cpuPercent, 2)],
    ]));
    console.log(`  ratio answered/s with agent / without: ${fixed(withAgent.load.qps / base.qps, 3)}; agent idle: ${fixed(idleCpu, 2)}% of a core; agent RSS ${mb(rss)} MB`);
    const dnsCost = withAgent.cpuPercent - engineOnly.cpuPercent;
    console.log(`  the DNS collector's share: ${fixed(dnsCost, 2)}% of a core (agent with it minus without), ${fixed((dnsCost * 1e4) / withAgent.load.qps, 2)} us per answered query;` +
      ` its own processing (records to transactions, timed inside the agent): ${fixed(withAgent.processingPercent, 2)}%`);
    console.log(`\nDNS collector after the first loaded run: ${int(d.records)} records, ${int(d.queries)} queries, ${int(d.responses)} answers, ${int(d.transactions)} transactions, ${int(d.timeouts)} timeouts, ${int(d.malformed.total)} malformed, ${int(d.lost.total)} lost ${JSON.stringify(d.lost)}`);
    console.log(`At the end: DNS lost ${int(endDns.lost.total)} ${JSON.stringify(endDns.lost)}; TCP events lost ${int(end.engineLost.total)}; TCP connections made ${int(o.tcpConnections)}, closes seen ${int(tcpCloses)}`);
    console.log(`\nName map at its bound: ${int(nm.recorded)} answers recorded, ${int(nm.addresses)} addresses kept (bound ${int(nm.capacity)}), ${int(nm.evictions)} evictions counted; heap held ${mb(nm.bytes)} MB (${int(nm.bytes / nm.capacity)} bytes per address)`);
    console.log(`\nTargets: agent CPU <= ${TARGET_CPU_PERCENT}% of a core at ${int(o.rate)} queries/s: ${withAgent.cpuPercent <= TARGET_CPU_PERCENT ? 'met' : 'NOT met'}` +
      ` (at ${fixed(withAgent.load.qps, 0)} answered/s); no TCP event lost: ${end.engineLost.total === 0 && tcpCloses >= o.tcpConnections ? 'met' : 'NOT met'};` +
      ` name map bounded: ${nm.addresses <= nm.capacity ? 'met' : 'NOT met'}`);
  } finally {
    await stopAll();
    await lab.stop();
  }
}

const program = new Command()
  .name('bench:dns')
  .description('DNS capture under a resolver loop: agent CPU, no loss, name map bound')
  .option('--rate <n>', 'queries per second', positiveInt('--rate'), 5000)
  .option('--seconds <n>', 'seconds per loaded run', positiveInt('--seconds'), 15)
  .option('--names <n>', 'distinct names the loop cycles over', positiveInt('--names'), 1000)
  .option('--tcp-connections <n>', 'TCP connections made during the last run', positiveInt('--tcp-connections'), 3000)
  .option('--profile <file>', 'write a CPU profile of the agent (with the collector) to this file')
  .exitOverride();

try {
  program.parse(process.argv);
  await main(program.opts<Options>());
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  console.error(`bench:dns: ${(e as Error).stack ?? e}`);
  await stopAll();
  process.exit(1);
}
