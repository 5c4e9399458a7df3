// `npm run bench:dns`: the product (`dhrishti run`) under a resolver loop.
//  1. A c-ares client (Node's dns.Resolver) sends --rate queries/s to dnsmasq
//     for --seconds, in the benchmark's own network namespace, cycling over
//     --names names: first without the agent (baseline), then with
//     `dhrishti run` and `dhrishti run --no-dns` side by side (the same
//     background for both: their difference is DNS capture's cost). CPU is
//     read from /proc over the loaded window, after a warm-up.
//  2. The same load with TCP connections made meanwhile: the agent must lose
//     no event, and its map must count every connection (API).
//  3. A short loop over more names than the name map holds: the agent's map
//     stays at its bound (evictions counted, API); the heap a full map holds is
//     measured in its own process.
// Prints figures beside their targets; the exit code says only whether it ran.
// Everything it starts is stopped by pid, also on Ctrl-C.
import { BENCH } from './lib/constants.js';
import { Command, CommanderError } from 'commander';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveInt } from '../src/cli/options.js';
import { DNS_DEFAULTS, REPO_ROOT } from '../src/config/defaults.js';
import type { DnsCollectorStats } from '../src/dns/types.js';
import type { GraphSnapshot } from '../src/graph/types.js';
import { DnsLab, RESOLVER } from '../test/support/dns-lab.js';
import { start, node, stopAll, type Child } from '../test/support/children.js';
import { freePort, getJson } from '../test/support/agent.js';
import { SERVER, HAMMER } from '../test/support/scripts.js';
import { cpuMsOf, memoryOf, mb } from './lib/proc-usage.js';
import { table, int, fixed } from './lib/report.js';
import WebSocket from 'ws';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NAME_MAP_MEMORY = path.join(HERE, 'lib', 'dns-name-map-memory.js');
const TARGET_CPU_PERCENT = 3;
/** Loaded seconds before the agent's CPU is measured: JIT tiering and first allocations are start-up costs, not steady state. */
const WARMUP_SECONDS = 10;

interface Options { rate: number; seconds: number; names: number; tcpConnections: number; boundSeconds: number; profile?: string; compare?: string }

interface LoadResult { sent: number; ok: number; errors: number; skipped: number; seconds: number; qps: number; p50: number; p95: number }

/** What /api/v1/agent says (the parts read here). */
interface AgentStatus {
  lost: { total: number; ringbufFull: number; connMapFull: number; malformed: number };
  dns: DnsCollectorStats | null;
  rssBytes: number;
}

/** `dhrishti run` on a free port, history in a temp folder, no Docker (none runs here); `profiler` when profiled. */
interface Agent { child: Child; url: string; dataDir: string; profiler: Profiler | null }

/**
 * A CPU profile of the agent over the inspector protocol, started once the
 * probes are loaded, so that it holds the workload and not the start-up.
 */
class Profiler {
  private id = 0;
  private waiting = new Map<number, (r: unknown) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { id?: number; result?: unknown };
      if (m.id !== undefined) { this.waiting.get(m.id)?.(m.result); this.waiting.delete(m.id); }
    });
  }

  static async attach(inspectPort: number): Promise<Profiler> {
    const list = (await getJson<{ webSocketDebuggerUrl: string }[]>(`http://127.0.0.1:${inspectPort}/json/list`)).body;
    const ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const p = new Profiler(ws);
    await p.post('Profiler.enable');
    await p.post('Profiler.setSamplingInterval', { interval: 1000 });
    await p.post('Profiler.start');
    return p;
  }

  post(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((r) => this.waiting.set(id, r));
  }

  async stop(file: string): Promise<void> {
    const r = (await this.post('Profiler.stop')) as { profile: unknown };
    fs.writeFileSync(file, JSON.stringify(r.profile));
    this.ws.close();
  }
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

async function startAgent(args: string[], profile = false, repo = REPO_ROOT): Promise<Agent> {
  const port = await freePort();
  const inspectPort = profile ? await freePort() : 0;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-dns-'));
  const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
  // The launcher's node flags (read from ./dhrishti); BENCH_AGENT_NODE_FLAGS adds node flags (e.g. --trace-gc) for a closer look.
  const flags = [...BENCH.agentNodeFlags, ...(process.env.BENCH_AGENT_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(profile ? [`--inspect=127.0.0.1:${inspectPort}`] : [])];
  const child = start(process.execPath, [...flags, cli, 'run', '--port', String(port), '--data-dir', dataDir, '--no-docker', ...args]);
  await child.waitFor(/API on http/, 120_000);
  return { child, url: `http://127.0.0.1:${port}`, dataDir, profiler: profile ? await Profiler.attach(inspectPort) : null };
}

async function stopAgent(a: Agent): Promise<void> {
  await a.child.stop();
  fs.rmSync(a.dataDir, { recursive: true, force: true });
}

/** With --trace-gc in BENCH_AGENT_NODE_FLAGS: GC pauses an agent printed from line `from` on, by kind. */
function gcPauses(a: Agent, from: number): string {
  const by = new Map<string, { n: number; ms: number }>();
  for (const l of a.child.lines.slice(from)) {
    const m = /ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^,]*, ([\d.]+) \/ ([\d.]+) ms/.exec(l);
    if (!m) continue;
    const g = by.get(m[1]) ?? { n: 0, ms: 0 };
    g.n++; g.ms += Number(m[2]);
    by.set(m[1], g);
  }
  return [...by].map(([k, g]) => `${k} ${g.n}x ${fixed(g.ms, 0)} ms`).join(', ') || 'none seen';
}

/** This build's agent with DNS on: the last one measured. */
const runCpu = (r: { cpuPercent: number[] }) => r.cpuPercent[r.cpuPercent.length - 1];

const status = async (a: Agent) => (await getJson<AgentStatus>(`${a.url}/api/v1/agent`)).body;

/**
 * Runs the load and measures each agent's CPU from the end of the warm-up (JIT,
 * first allocations) to the end of the load. The agents run side by side, so
 * whatever else the host does (every TCP connection on it reaches every agent)
 * falls in the same window for both: their difference is the DNS capture's.
 */
async function loadWithAgents(lab: DnsLab, agents: Agent[], o: Options): Promise<{ load: LoadResult; cpuPercent: number[]; processingPercent: number }> {
  const running = runLoad(lab, { ...o, seconds: o.seconds + WARMUP_SECONDS });
  await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  const withDns = agents[agents.length - 1];
  const p0 = (await status(withDns)).dns?.processingMs ?? 0;
  const cpu0 = agents.map((a) => cpuMsOf(a.child.pid));
  const t0 = performance.now();
  const load = await running;
  // The agents drain their ring buffers a moment after a burst: that belongs to the window.
  await new Promise((r) => setTimeout(r, 200));
  const cpu1 = agents.map((a) => cpuMsOf(a.child.pid));
  const ms = performance.now() - t0;
  const p1 = (await status(withDns)).dns?.processingMs ?? 0;
  return { load, cpuPercent: cpu1.map((c, i) => ((c - cpu0[i]) / ms) * 100), processingPercent: ((p1 - p0) / ms) * 100 };
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
  const capacity = DNS_DEFAULTS.nameMapEntries;
  const boundNames = capacity * 2;
  const hosts: Record<string, string[]> = {};
  for (let i = 0; i < Math.max(o.names, boundNames); i++) hosts[`n${i}.zone.test`] = [`198.18.${(i >> 8) & 255}.${i & 255}`];
  log(`DNS lab: dnsmasq with ${int(Object.keys(hosts).length)} names`);
  const lab = await DnsLab.start({ hosts, ttl: 300 });
  try {
    log(`baseline: ${int(o.rate)} queries/s for ${o.seconds} s, no agent`);
    const base = await runLoad(lab, o);

    log('dhrishti run --no-dns and dhrishti run (DNS capture on), side by side');
    const plain = await startAgent(['--no-dns']);
    // --compare: another build with DNS on, measured over the same windows (every agent sees the same queries).
    const other = o.compare ? [await startAgent([], false, o.compare)] : [];
    const agent = await startAgent([], !!o.profile);
    if (!(await status(agent)).dns?.available) throw new Error(`DNS capture unavailable: ${(await status(agent)).dns?.reason}`);
    await new Promise((r) => setTimeout(r, 2000)); // past start-up
    const idle0 = [cpuMsOf(plain.child.pid), cpuMsOf(agent.child.pid)];
    await new Promise((r) => setTimeout(r, 5000));
    const idleCpu = [(cpuMsOf(plain.child.pid) - idle0[0]) / 50, (cpuMsOf(agent.child.pid) - idle0[1]) / 50];
    log(`with the agents: ${int(o.rate)} queries/s for ${o.seconds} s (+${WARMUP_SECONDS} s warm-up)`);
    const gcFrom = [plain.child.lines.length, agent.child.lines.length];
    const withAgent = await loadWithAgents(lab, [plain, ...other, agent], o);
    if (process.env.BENCH_AGENT_NODE_FLAGS?.includes('--trace-gc')) console.log(`  GC during the loop: run --no-dns: ${gcPauses(plain, gcFrom[0])}; run: ${gcPauses(agent, gcFrom[1])}`);
    const afterDns = await status(agent);
    const rss = memoryOf(agent.child.pid).rss;
    if (agent.profiler && o.profile) await agent.profiler.stop(o.profile); // the resolver loop alone

    log(`with the agents and ${int(o.tcpConnections)} TCP connections made meanwhile`);
    const server = node(SERVER, ['127.0.0.1', '0']);
    const port = Number((await server.waitFor(/port (\d+)/))[1]);
    const hammer = node(HAMMER, ['127.0.0.1', String(port), String(o.tcpConnections), '4']);
    const mixed = await loadWithAgents(lab, [plain, ...other, agent], o);
    await hammer.waitFor(/made \d+/, 120_000);
    await new Promise((r) => setTimeout(r, 2000)); // the last closes reach the map
    const g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph?window=10m`)).body;
    const tcpClosed = g.edges.filter((e) => e.protocol === 'tcp' && e.port === port).reduce((n, e) => n + e.connections.closed, 0);
    const afterMixed = await status(agent);
    await server.stop();
    await stopAgent(plain);
    for (const a of other) await stopAgent(a);

    log(`${o.boundSeconds} s over ${int(boundNames)} names (twice the name map's bound of ${int(capacity)})`);
    await runLoad(lab, { ...o, seconds: o.boundSeconds, names: boundNames });
    const bound = await status(agent);
    const rssBound = memoryOf(agent.child.pid).rss;
    await stopAgent(agent);
    const profileFile = o.profile ?? null;

    log('name map filled to twice its bound, in its own process');
    const nm = await nameMapMemory();

    const d = afterDns.dns!;
    const endDns = afterMixed.dns!;
    console.log('\nResolver loop (c-ares -> dnsmasq, in the benchmark\'s network namespace); the agent is `dhrishti run`');
    console.log(table(['condition', 'answered/s', 'p50 ms', 'p95 ms', 'errors', 'CPU % of a core: run --no-dns', 'run'], [
      ['no agent', fixed(base.qps, 0), fixed(base.p50, 3), fixed(base.p95, 3), int(base.errors), '-', '-'],
      ['idle (no load)', '-', '-', '-', '-', fixed(idleCpu[0], 2), fixed(idleCpu[1], 2)],
      ['resolver loop', fixed(withAgent.load.qps, 0), fixed(withAgent.load.p50, 3), fixed(withAgent.load.p95, 3), int(withAgent.load.errors), fixed(withAgent.cpuPercent[0], 2), fixed(runCpu(withAgent), 2)],
      ['resolver loop, TCP connections meanwhile', fixed(mixed.load.qps, 0), fixed(mixed.load.p50, 3), fixed(mixed.load.p95, 3), int(mixed.load.errors), fixed(mixed.cpuPercent[0], 2), fixed(runCpu(mixed), 2)],
    ]));
    console.log(`  ratio answered/s with the agents / without: ${fixed(withAgent.load.qps / base.qps, 3)}; agent (DNS on) RSS ${mb(rss)} MB`);
    if (o.compare) {
      const share = (r: typeof withAgent, i: number) => r.cpuPercent[i] - r.cpuPercent[0];
      console.log(`  --compare ${o.compare} (DNS on, same windows): CPU ${fixed(withAgent.cpuPercent[1], 2)}% and ${fixed(mixed.cpuPercent[1], 2)}% of a core;` +
        ` DNS share of this build / that build: ${fixed(share(withAgent, 2) / share(withAgent, 1), 3)} and ${fixed(share(mixed, 2) / share(mixed, 1), 3)}`);
    }
    console.log('  --no-dns is the same agent without DNS capture, measured over the same window: what it uses is the host\'s other traffic, not this load.');
    const dnsCost = runCpu(withAgent) - withAgent.cpuPercent[0];
    console.log(`  DNS capture's share: ${fixed(dnsCost, 2)}% of a core (run minus run --no-dns), ${fixed((dnsCost * 1e4) / withAgent.load.qps, 2)} us per answered query;` +
      ` the collector's own processing (records to transactions, wall time inside the agent): ${fixed(withAgent.processingPercent, 2)}%`);
    console.log(`\nDNS capture after the first loaded run: ${int(d.records)} records, ${int(d.queries)} queries, ${int(d.responses)} answers, ${int(d.transactions)} transactions, ${int(d.timeouts)} timeouts, ${int(d.malformed.total)} malformed, ${int(d.lost.total)} lost ${JSON.stringify(d.lost)}`);
    console.log(`With TCP meanwhile: DNS lost ${int(endDns.lost.total)} ${JSON.stringify(endDns.lost)}; agent events lost ${int(afterMixed.lost.total)} ${JSON.stringify(afterMixed.lost)}; TCP connections made ${int(o.tcpConnections)}, counted closed on the map ${int(tcpClosed)}`);
    const m = bound.dns!.nameMap;
    console.log(`\nName map in the agent after ${int(boundNames)} names: ${int(m.addresses)} addresses (bound ${int(m.capacity)}), ${int(m.names)} names, ${int(m.evictions)} address evictions counted; agent RSS ${mb(rssBound)} MB`);
    console.log(`Name map at its bound, measured alone: ${int(nm.recorded)} answers recorded, ${int(nm.addresses)} addresses kept (bound ${int(nm.capacity)}), ${int(nm.evictions)} evictions counted; heap held ${mb(nm.bytes)} MB (${int(nm.bytes / nm.capacity)} bytes per address)`);
    if (profileFile) console.log(`CPU profile of the agent (DNS on): ${profileFile}`);
    const noLoss = afterMixed.lost.total === 0 && endDns.lost.total === 0 && tcpClosed >= o.tcpConnections;
    const cpu = runCpu(withAgent);
    console.log(`\nTargets: agent CPU <= ${TARGET_CPU_PERCENT}% of a core at ${int(o.rate)} queries/s: ${cpu <= TARGET_CPU_PERCENT ? 'met' : 'NOT met'}` +
      ` (${fixed(cpu, 2)}% at ${fixed(withAgent.load.qps, 0)} answered/s, of which DNS capture ${fixed(dnsCost, 2)}%); no TCP event lost meanwhile: ${noLoss ? 'met' : 'NOT met'};` +
      ` name map bounded: ${m.addresses <= m.capacity && nm.addresses <= nm.capacity ? 'met' : 'NOT met'}`);
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
  .option('--tcp-connections <n>', 'TCP connections made during the TCP run', positiveInt('--tcp-connections'), 3000)
  .option('--bound-seconds <n>', 'seconds of the loop over twice the name map\'s bound', positiveInt('--bound-seconds'), 8)
  .option('--profile <file>', 'write a CPU profile of `dhrishti run` (DNS on) over the resolver loop to this file')
  .option('--compare <repo>', 'another built checkout of Dhrishti (e.g. a git worktree of the previous commit), run with DNS on beside this one over the same windows')
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
