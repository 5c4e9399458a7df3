// Benchmark for the live service map, with the real agent (`dhrishti run`):
//  1. latency from a new TCP connection to its edge in the API (HTTP polling
//     and the WebSocket stream), over distinct new edges on loopback;
//  2. the agent's memory and CPU with 200 containers (a private dockerd) and
//     10k concurrent connections from the host into 10 of them, with the agent
//     started before the connections (live events) and after (discovery).
// Prints figures beside their targets; no pass/fail. Everything it starts is
// stopped by pid / removed at the end, also on Ctrl-C.
// Run: npx tsc -p . && node dist/bench/service-map.js [--help]
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { positiveInt } from '../src/cli/options.js';
import type { GraphSnapshot, StreamMessage } from '../src/graph/types.js';
import type { AgentTelemetry } from '../src/agent/agent.js';
import {
  TestDockerd, ensureTestImage, TEST_IMAGE, createNetwork, composeLabels, nodeCommand, containerFacts,
} from '../test/support/dockerd.js';
import { startAgent, getJson, type RunningAgent } from '../test/support/agent.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import { start, node, stopAll, type Child } from '../test/support/children.js';
import { ensureSleepImage } from './lib/sleep-image.js';
import { memoryOf, memoryMap, sampleUsage, mb, type UsageSample, type MemoryMap } from './lib/proc-usage.js';
import { summarizeHeapSnapshot } from './lib/heap-summary.js';
import { table, int, fixed } from './lib/report.js';

const TARGET_P99_MS = 1000;
const TARGET_RSS_MB = 150;
const SERVER_PORT = 7000;
const NET = 'dhbench';
const SLEEP_IMAGE = 'dhrishti-sleep:bench';
const SOCKET_LINK = `/tmp/dhrishti-bench-docker-${process.pid}.sock`;
const MEMORY_PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'memory-probe.js');
const PROJECTS = ['shop', 'blog', 'crm', 'iot', 'ml'];
const IDLE_SERVICES = ['worker', 'cache', 'cron', 'queue', 'sidecar', 'batch', 'mail'];

interface Options {
  edges: number;
  containers: number;
  servers: number;
  connections: number;
  sampleSeconds: number;
  latency: boolean;
  scale: boolean;
  heapSnapshot: boolean;
  history: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();
const msBetween = (a: bigint, b: bigint) => Number(b - a) / 1e6;
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ---------------------------------------------------------------- cleanup

const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll(); // clients, servers and agents started through test/support/children
    for (const fn of cleanups.reverse()) {
      try { await fn(); } catch (e) { console.error(`cleanup: ${(e as Error).message}`); }
    }
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- agent with the memory probe

/** startAgent() with bench/lib/memory-probe preloaded (a SIGUSR2 handler; nothing else changes). */
async function startProbedAgent(args: string[], snapshotFile?: string): Promise<RunningAgent> {
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, SNAP: process.env.DHRISHTI_BENCH_HEAP_SNAPSHOT };
  process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} --import=${pathToFileURL(MEMORY_PROBE).href}`.trim();
  if (snapshotFile) process.env.DHRISHTI_BENCH_HEAP_SNAPSHOT = snapshotFile;
  try {
    return await startAgent(args);
  } finally {
    if (saved.NODE_OPTIONS === undefined) delete process.env.NODE_OPTIONS; else process.env.NODE_OPTIONS = saved.NODE_OPTIONS;
    if (saved.SNAP === undefined) delete process.env.DHRISHTI_BENCH_HEAP_SNAPSHOT; else process.env.DHRISHTI_BENCH_HEAP_SNAPSHOT = saved.SNAP;
  }
}

interface ProbeReport {
  usage: NodeJS.MemoryUsage;
  spaces: Record<string, number>;
  /** After a full GC: what the agent really holds. */
  afterGc: NodeJS.MemoryUsage;
  snapshot: string | null;
}

/**
 * Arguments that keep the agents' own history database out of the way: the
 * live map alone by default (--no-history), or the history in a temp folder.
 * Older builds without the history store get neither.
 */
function historyArgs(o: Options, tmp: string): string[] {
  const help = execFileSync(path.join(REPO_ROOT, 'dhrishti'), ['run', '--help'], { encoding: 'utf8' });
  if (!help.includes('--no-history')) return [];
  return o.history ? ['--data-dir', tmp] : ['--no-history'];
}

/** Asks the preloaded probe for the agent's memory breakdown (and a heap snapshot into `snapshotFile`, if given). */
async function probeMemory(agent: RunningAgent, snapshotFile?: string, ms = 180_000): Promise<ProbeReport | null> {
  if (snapshotFile) fs.writeFileSync(`${snapshotFile}.request`, '');
  const before = agent.child.stderr.length;
  process.kill(agent.child.pid, 'SIGUSR2');
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const line = agent.child.stderr.slice(before).find((l) => l.startsWith('memory-probe '));
    if (line) return JSON.parse(line.slice('memory-probe '.length)) as ProbeReport;
    await sleep(100);
  }
  return null;
}

const telemetry = async (a: RunningAgent) => (await getJson<AgentTelemetry>(`${a.url}/api/v1/agent`)).body;

// ---------------------------------------------------------------- part 1: latency

interface LatencyResult {
  edges: number;
  httpMs: number[];
  wsMs: number[];
  missedHttp: number;
  missedWs: number;
  edgeIdExample: string;
  agentRss: number;
}

const LAT_SERVER = (n: number) => `
const net = require('net'); const ports = [];
for (let i = 0; i < ${n}; i++) {
  const s = net.createServer((c) => { c.on('error', () => {}); c.resume(); });
  s.listen(0, '127.0.0.1', () => { ports.push(s.address().port); if (ports.length === ${n}) console.log('ports ' + ports.join(',')); });
}`;
/** Connects to the port named on each stdin line; prints the monotonic time taken just before connect(). */
const LAT_CLIENT = `
const net = require('net'); const socks = [];
require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const port = Number(l);
  const t0 = process.hrtime.bigint();
  const s = net.connect(port, '127.0.0.1');
  console.log('t0 ' + port + ' ' + t0);
  s.on('error', (e) => console.log('err ' + port + ' ' + e.code));
  socks.push(s);
});`;

async function edgeExists(url: string, id: string): Promise<boolean> {
  const r = await fetch(`${url}/api/v1/edges/${encodeURIComponent(id)}`);
  await r.arrayBuffer();
  return r.status === 200;
}

async function runLatency(o: Options, extraArgs: string[]): Promise<LatencyResult> {
  log(`latency: starting the agent (--no-docker ${extraArgs.join(' ')}) and a server on ${o.edges + 1} loopback ports`);
  const agent = await startAgent(['--no-docker', ...extraArgs]);
  const server = node(LAT_SERVER(o.edges + 1));
  const ports = (await server.waitFor(/^ports (.+)$/, 15000))[1].split(',').map(Number);
  const client = node(LAT_CLIENT);
  await sleep(1000); // let listen events and the processes' identity settle

  const wsSeen = new Map<string, bigint>();
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/api/v1/stream`);
  ws.on('message', (d) => {
    const t = nowNs();
    const m = JSON.parse(d.toString()) as StreamMessage;
    const edges = m.type === 'delta' ? m.delta.edges : m.graph.edges;
    for (const e of edges) if (!wsSeen.has(e.id)) wsSeen.set(e.id, t);
  });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });

  const connect = async (port: number): Promise<bigint> => {
    client.send(String(port));
    const m = await client.waitFor(new RegExp(`^t0 ${port} (\\d+)$`), 5000);
    return BigInt(m[1]);
  };

  // Warm-up edge: learn the exact id (source and target node names) from the graph.
  const first = ports[0];
  const t0first = await connect(first);
  let source = '', target = '';
  for (const deadline = Date.now() + 10000; Date.now() < deadline && !source; await sleep(20)) {
    const g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
    const e = g.edges.find((x) => x.port === first && x.source.startsWith('proc:') && x.target.startsWith('proc:'));
    if (e) ({ source, target } = e);
  }
  if (!source) throw new Error(`no edge for port ${first} within 10 s; agent stderr: ${agent.child.stderr.slice(-5).join(' | ')}`);
  const idOf = (port: number) => `${source}|${target}|${port}|tcp`;
  log(`latency: warm-up edge ${idOf(first)} after ${fixed(msBetween(t0first, nowNs()), 0)} ms; measuring ${o.edges} new edges`);

  const http: number[] = [];
  const t0s = new Map<string, bigint>();
  let missedHttp = 0;
  for (const port of ports.slice(1)) {
    await sleep(Math.random() * 100); // no fixed phase against the agent's 100 ms tick and 1 s flush
    const id = idOf(port);
    const t0 = await connect(port);
    t0s.set(id, t0);
    let t1: bigint | null = null;
    for (const deadline = t0 + 5_000_000_000n; nowNs() < deadline; await sleep(10)) {
      if (await edgeExists(agent.url, id)) { t1 = nowNs(); break; }
    }
    if (t1 === null) missedHttp++; else http.push(msBetween(t0, t1));
  }
  // Deltas go out every 500 ms: give the last edges' deltas time to arrive.
  for (const deadline = Date.now() + 3000; Date.now() < deadline && [...t0s.keys()].some((id) => !wsSeen.has(id));) await sleep(50);
  ws.close();
  const wsMs: number[] = [];
  let missedWs = 0;
  for (const [id, t0] of t0s) {
    const t = wsSeen.get(id);
    if (t === undefined) missedWs++; else wsMs.push(msBetween(t0, t));
  }
  const agentRss = memoryOf(agent.child.pid).rss;
  await client.stop();
  await server.stop();
  await agent.stop();
  return { edges: o.edges, httpMs: http, wsMs, missedHttp, missedWs, edgeIdExample: idOf(first), agentRss };
}

// ---------------------------------------------------------------- part 2: scale

interface CaseResult {
  name: string;
  startedMs: number; // agent spawn -> API answering (includes the discovery scan)
  catchUpMs: number; // see `catchUpFrom`
  catchUpFrom: string;
  active: number; // connections active on the servers' edges when measured
  idle?: UsageSample; // before the connections (200 containers only)
  usage: UsageSample;
  telemetry: AgentTelemetry;
  probe: ProbeReport | null;
  map: MemoryMap;
  serverEdges: { id: string; active: number }[];
  heap?: ReturnType<typeof summarizeHeapSnapshot>;
}

interface ScaleResult {
  containers: number;
  servers: number;
  connectionsOpened: number;
  connectionsFailed: number;
  setupMs: { dockerd: number; images: number; containers: number; connections: number };
  cases: CaseResult[];
}

/** A TCP server in a container: echoes what it gets; deep backlog for bursts of connects. */
const SCALE_SERVER = `require('net').createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); }).listen(${SERVER_PORT}, '0.0.0.0', 4096);`;

/** On the host: opens perTarget connections to each target (200 in flight), keeps them, writes a line on each every second. */
const SCALE_CLIENT = `
const net = require('net');
const targets = JSON.parse(process.argv[1]); const perTarget = Number(process.argv[2]);
const queue = []; for (const t of targets) for (let i = 0; i < perTarget; i++) queue.push(t);
const total = queue.length; const socks = [];
let inflight = 0, opened = 0, failed = 0, closed = 0, retries = 0, said = false;
function check() { if (!said && opened + failed === total) { said = true; console.log('open ' + opened + ' failed ' + failed); } }
function more() {
  while (inflight < 200 && queue.length) {
    const t = queue.shift(); inflight++;
    const s = net.connect(${SERVER_PORT}, t); let up = false;
    s.on('connect', () => { up = true; inflight--; opened++; socks.push(s); check(); more(); });
    s.on('data', () => {}); s.on('error', () => {});
    s.on('close', () => { if (up) { closed++; return; } inflight--; if (retries++ < 2000) queue.push(t); else failed++; check(); more(); });
  }
}
let slice = 0;
setInterval(() => { for (let i = slice; i < socks.length; i += 10) if (socks[i].writable) socks[i].write('ping\\n'); slice = (slice + 1) % 10; }, 100);
setInterval(() => console.log('progress ' + opened + ' ' + closed + ' ' + retries), 2000);
more();`;

/** Runs `fn` over items with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => { while (i < items.length) await fn(items[i++]); }));
}

/** A /22 for the bench network that no route on this host already covers. */
function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter((d) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(d));
  const toNum = (ip: string) => ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const taken = routes.map((r) => { const [ip, len = '32'] = r.split('/'); const size = 2 ** (32 - Number(len)); const s = toNum(ip); return [s, s + size] as const; });
  for (let third = 0; third < 256; third += 4) {
    const s = toNum(`172.30.${third}.0`), e = s + 1024;
    if (!taken.some(([a, b]) => s < b && a < e)) return `172.30.${third}.0/22`;
  }
  throw new Error('no free /22 in 172.30.0.0/16 for the bench network');
}

interface Spec { name: string; labels: Record<string, string>; server: boolean }

function containerSpecs(total: number, servers: number): Spec[] {
  const specs: Spec[] = [];
  for (let i = 0; i < servers; i++) {
    const project = PROJECTS[i % PROJECTS.length], n = Math.floor(i / PROJECTS.length) + 1;
    specs.push({ name: `${project}-server-${n}`, labels: composeLabels(project, 'server', n), server: true });
  }
  const idle = total - servers;
  const plain = Math.round(idle / 10); // some without Compose labels: named as plain containers
  for (let i = 0; i < idle - plain; i++) {
    const project = PROJECTS[i % PROJECTS.length];
    const service = IDLE_SERVICES[Math.floor(i / PROJECTS.length) % IDLE_SERVICES.length];
    const n = Math.floor(i / (PROJECTS.length * IDLE_SERVICES.length)) + 1;
    specs.push({ name: `${project}-${service}-${n}`, labels: composeLabels(project, service, n), server: false });
  }
  for (let i = 0; i < plain; i++) specs.push({ name: `plain-${i + 1}`, labels: { 'bench.dhrishti': 'idle' }, server: false });
  return specs;
}

/** Creates and starts one container through the Engine API (no docker CLI process per container). */
async function runSpec(d: TestDockerd, s: Spec, files: number): Promise<void> {
  const c = await d.docker.createContainer({
    name: s.name,
    Image: s.server ? TEST_IMAGE : SLEEP_IMAGE,
    Cmd: s.server ? nodeCommand(SCALE_SERVER) : undefined,
    Labels: s.labels,
    HostConfig: {
      NetworkMode: NET,
      LogConfig: { Type: s.server ? 'json-file' : 'none', Config: {} },
      // Room for its share of the connections, within the hard limit dockerd inherited (raising it needs CAP_SYS_RESOURCE).
      Ulimits: s.server ? [{ Name: 'nofile', Soft: files, Hard: files }] : undefined,
    },
  });
  await c.start();
}

/**
 * If the network could not be removed, dockerd leaves its bridge and iptables
 * rules behind when it stops: take them away (they are this run's).
 */
function removeBridgeLeftovers(bridge: string): void {
  try { execFileSync('ip', ['link', 'show', bridge], { stdio: 'ignore' }); } catch { return; } // gone: nothing left
  log(`cleanup: removing leftover bridge ${bridge} and its iptables rules`);
  for (const t of ['filter', 'nat']) {
    let rules: string[] = [];
    try { rules = execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('-A ') && l.includes(bridge)); } catch { continue; }
    for (const r of rules) {
      try { execFileSync('iptables', ['-t', t, '-D', ...r.slice(3).trim().split(/\s+/)], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
  }
  try { execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); } catch { /* gone */ }
}

/** Edges into the servers' port, with their active connections, from the graph. */
async function serverEdges(agent: RunningAgent): Promise<{ id: string; active: number }[]> {
  const g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
  return g.edges.filter((e) => e.port === SERVER_PORT).map((e) => ({ id: e.id, active: e.connections.active })).sort((a, b) => b.active - a.active);
}

async function activeOnServers(agent: RunningAgent): Promise<number> {
  return (await serverEdges(agent)).filter((e) => e.id.includes('/server|')).reduce((s, e) => s + e.active, 0);
}

async function waitActive(agent: RunningAgent, want: number, ms: number): Promise<{ active: number; at: number }> {
  const deadline = Date.now() + ms;
  let active = 0;
  while (Date.now() < deadline) {
    active = await activeOnServers(agent);
    if (active >= want) return { active, at: Date.now() };
    await sleep(200);
  }
  return { active, at: Date.now() };
}

async function measureCase(agent: RunningAgent, o: Options, r: Omit<CaseResult, 'usage' | 'telemetry' | 'probe' | 'map' | 'serverEdges'>, snapshotFile: string): Promise<CaseResult> {
  log(`${r.name}: sampling the agent (pid ${agent.child.pid}) for ${o.sampleSeconds} s`);
  const usage = await sampleUsage(agent.child.pid, o.sampleSeconds);
  const map = memoryMap(agent.child.pid);
  const t = await telemetry(agent);
  const edges = await serverEdges(agent);
  if (o.heapSnapshot) log(`${r.name}: writing a heap snapshot of the agent (pauses it for a while)`);
  const probe = await probeMemory(agent, o.heapSnapshot ? snapshotFile : undefined);
  const out: CaseResult = { ...r, usage, map, telemetry: t, probe, serverEdges: edges };
  if (probe?.snapshot && fs.existsSync(probe.snapshot)) {
    out.heap = summarizeHeapSnapshot(probe.snapshot);
    fs.rmSync(probe.snapshot, { force: true });
  }
  return out;
}

/** Hard limit on open files for processes this one starts (without CAP_SYS_RESOURCE it cannot be raised). */
function hardFdLimit(): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

async function runScale(o: Options, extraArgs: string[]): Promise<ScaleResult> {
  const fdLimit = hardFdLimit();
  if (o.connections + 256 > fdLimit) throw new Error(`--connections ${o.connections} needs more open files than the hard limit here (${fdLimit}); lower it or raise the limit (ulimit -Hn)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-map-'));
  cleanups.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
  let t = Date.now();
  log('scale: starting a private dockerd');
  const dockerd = await TestDockerd.start();
  const names: string[] = [];
  let networkId = '';
  cleanups.push(async () => {
    log(`cleanup: removing ${names.length} containers and stopping dockerd (pid ${dockerd.pid})`);
    await pool([...names], 8, async (n) => {
      try { await dockerd.docker.getContainer(n).remove({ force: true }); } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) console.error(`cleanup: rm ${n}: ${(e as Error).message}`);
      }
    });
    if (networkId) { try { await dockerd.cli(['network', 'rm', NET]); } catch (e) { console.error(`cleanup: ${(e as Error).message}`); } }
    await dockerd.stop();
    if (networkId) removeBridgeLeftovers(`br-${networkId.slice(0, 12)}`);
  });
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, SOCKET_LINK); // outside dockerd's folder: stopping dockerd kills processes naming that folder
  cleanups.push(async () => fs.rmSync(SOCKET_LINK, { force: true }));
  const setupMs = { dockerd: Date.now() - t, images: 0, containers: 0, connections: 0 };

  t = Date.now();
  await ensureTestImage(dockerd);
  await ensureSleepImage(SLEEP_IMAGE, (a) => dockerd.cli(a, 120000));
  setupMs.images = Date.now() - t;

  const subnet = freeSubnet();
  networkId = await createNetwork(dockerd, NET, { subnet });
  const specs = containerSpecs(o.containers, o.servers);
  // 8,192 held only 8,173 connections to one server: the map then showed what the server had accepted, not what the bench asked for.
  const serverFiles = Math.min(fdLimit, Math.max(8192, Math.ceil(o.connections / Math.max(1, o.servers)) + 256));
  log(`scale: starting ${specs.length} containers (${o.servers} node servers, ${specs.length - o.servers} sleep) on ${subnet}`);
  t = Date.now();
  let done = 0;
  await pool(specs, 6, async (s) => {
    names.push(s.name); // before: a failed start can leave a created container
    await runSpec(dockerd, s, serverFiles);
    if (++done % 50 === 0) log(`scale: ${done} containers running`);
  });
  setupMs.containers = Date.now() - t;
  const serverIps = await Promise.all(specs.filter((s) => s.server).map(async (s) => (await containerFacts(dockerd, s.name)).ip));
  const perTarget = Math.ceil(o.connections / o.servers);

  const cases: CaseResult[] = [];
  const clientStart = (): Child => start('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', 'bash',
    process.execPath, '-e', SCALE_CLIENT, '--', JSON.stringify(serverIps), String(perTarget)]);

  // Case A: the agent first, then the connections (every one seen live by the probes).
  t = Date.now();
  let agent = await startProbedAgent(['--docker-socket', SOCKET_LINK, ...extraArgs], path.join(tmp, 'a.heapsnapshot'));
  const startedA = Date.now() - t;
  for (const deadline = Date.now() + 60000; Date.now() < deadline; await sleep(250)) {
    if (((await telemetry(agent)).docker?.containers ?? 0) >= specs.length) break;
  }
  const ident = await telemetry(agent);
  log(`scale: agent A up in ${startedA} ms; Docker identity: ${ident.docker?.containers} running containers known after ${Date.now() - t} ms`);
  const idle = await sampleUsage(agent.child.pid, 3);

  log(`scale: opening ${int(perTarget * o.servers)} connections from the host (${perTarget} to each of ${o.servers} servers)`);
  t = Date.now();
  const client = clientStart();
  const opened = await client.waitFor(/^open (\d+) failed (\d+)$/, 120000);
  setupMs.connections = Date.now() - t;
  const connectionsOpened = Number(opened[1]), connectionsFailed = Number(opened[2]);
  const openedAt = Date.now();
  log(`scale: ${int(connectionsOpened)} open (${connectionsFailed} failed) after ${setupMs.connections} ms`);
  const a = await waitActive(agent, connectionsOpened, 120000);
  cases.push(await measureCase(agent, o, {
    name: 'A: agent first, connections opened live', startedMs: startedA, catchUpMs: a.at - openedAt,
    catchUpFrom: 'last connection open -> all active on edges', active: a.active, idle,
  }, path.join(tmp, 'a.heapsnapshot')));
  await agent.stop();

  // Case B: the connections first, then a fresh agent (discovery of what already exists).
  await sleep(1000);
  t = Date.now();
  agent = await startProbedAgent(['--docker-socket', SOCKET_LINK, ...extraArgs], path.join(tmp, 'b.heapsnapshot'));
  const startedB = Date.now() - t;
  log(`scale: agent B up in ${startedB} ms (start-up includes the /proc discovery scan)`);
  const b = await waitActive(agent, connectionsOpened, 120000);
  cases.push(await measureCase(agent, o, {
    name: 'B: connections first, agent discovers them', startedMs: startedB, catchUpMs: b.at - t,
    catchUpFrom: 'agent spawn -> all active on edges', active: b.active,
  }, path.join(tmp, 'b.heapsnapshot')));
  await agent.stop();
  await client.stop();
  return { containers: specs.length, servers: o.servers, connectionsOpened, connectionsFailed, setupMs, cases };
}

// ---------------------------------------------------------------- report

function printLatency(l: LatencyResult): void {
  console.log(`\n== 1. New connection -> its edge in the API (${l.edges} new edges on loopback) ==`);
  console.log(`edge ids look like: ${l.edgeIdExample}`);
  const row = (name: string, xs: number[], missed: number) => [name, String(xs.length), String(missed),
    fixed(percentile(xs, 50), 0), fixed(percentile(xs, 90), 0), fixed(percentile(xs, 99), 0), fixed(Math.max(...xs), 0)];
  console.log(table(['path', 'seen', 'missed', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [
    row('GET /api/v1/edges/<id>, polled every 10 ms', l.httpMs, l.missedHttp),
    row('WebSocket /api/v1/stream delta', l.wsMs, l.missedWs),
  ]));
  console.log(`agent RSS after this part (--no-docker): ${mb(l.agentRss)} MB`);
}

function printScale(s: ScaleResult): void {
  console.log(`\n== 2. Agent with ${s.containers} containers and ${int(s.connectionsOpened)} concurrent connections ==`);
  console.log(`setup: dockerd ${fixed(s.setupMs.dockerd / 1000, 1)} s, images ${fixed(s.setupMs.images / 1000, 1)} s, ` +
    `${s.containers} containers ${fixed(s.setupMs.containers / 1000, 1)} s, ${int(s.connectionsOpened)} connections ${fixed(s.setupMs.connections / 1000, 1)} s (${s.connectionsFailed} failed)`);
  for (const c of s.cases) {
    const u = c.usage, t = c.telemetry;
    console.log(`\n-- ${c.name} --`);
    console.log(`agent start (spawn -> API): ${int(c.startedMs)} ms; catch-up (${c.catchUpFrom}): ${int(c.catchUpMs)} ms; active on the servers' edges: ${int(c.active)}`);
    if (t.discovery) console.log(`start-up discovery: ${int(t.discovery.sockets)} sockets found in ${int(t.discovery.scanMs)} ms of walking /proc, reported after ${int(t.discovery.ms)} ms`);
    if (c.idle) console.log(`before the connections (${s.containers} containers, Docker identity loaded): RSS ${mb(c.idle.rssFinal)} MB, CPU ${fixed(c.idle.cpuPercent, 1)}%`);
    console.log(`over ${fixed(u.seconds, 1)} s: RSS max ${mb(u.rssMax)} MB, final ${mb(u.rssFinal)} MB, peak ever (VmHWM) ${mb(u.peak)} MB; CPU ${fixed(u.cpuPercent, 1)}% of one core`);
    console.log(`RSS by mapping: node binary + libraries ${mb(c.map.binaries)} MB, BPF ring buffer ${mb(c.map.bpfMaps)} MB, malloc heap ${mb(c.map.mallocHeap)} MB, other anonymous (V8 heap, stacks, arenas) ${mb(c.map.otherAnon)} MB`);
    console.log(`agent says: ${int(t.eventsPerSec)} events/s, ${int(t.events)} events, lost ${t.lost.total} (ring buffer full ${t.lost.ringbufFull}, conn map full ${t.lost.connMapFull}, malformed ${t.lost.malformed}), tracked sockets ${int(t.trackedSockets)}, ` +
      `graph ${t.graph.nodes} nodes / ${t.graph.edges} edges / ${int(t.graph.openConnections)} open, docker ${t.docker?.containers ?? '-'} containers`);
    console.log(`edges on port ${SERVER_PORT}: ${c.serverEdges.map((e) => `${e.id.replace(`|${SERVER_PORT}|tcp`, '')} ${int(e.active)}`).join('; ')}`);
    if (c.probe) {
      const m = c.probe.usage, g = c.probe.afterGc;
      console.log(`V8 (process.memoryUsage): heapTotal ${mb(m.heapTotal)} MB, heapUsed ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB; ` +
        `after a full GC: heapUsed ${mb(g.heapUsed)} MB (live data), heapTotal ${mb(g.heapTotal)} MB`);
    }
    if (c.heap) {
      console.log(`heap snapshot: ${mb(c.heap.total)} MB of objects; largest groups by own size:`);
      console.log(table(['type', 'constructor / kind', 'count', 'MB'], c.heap.groups.map((g) => [g.type, g.name.slice(0, 50), int(g.count), mb(g.bytes)])));
    }
  }
}

function printSummary(l: LatencyResult | null, s: ScaleResult | null): void {
  const rows: (string[] | null)[] = [];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  if (l) {
    const p99 = percentile(l.httpMs, 99), wp99 = percentile(l.wsMs, 99);
    rows.push(['connection -> edge, HTTP poll, p50', `${fixed(percentile(l.httpMs, 50), 0)} ms`, '', '']);
    rows.push(['connection -> edge, HTTP poll, p99', `${fixed(p99, 0)} ms`, `<= ${TARGET_P99_MS} ms`, met(p99 <= TARGET_P99_MS && l.missedHttp === 0)]);
    rows.push(['connection -> edge, WebSocket, p50', `${fixed(percentile(l.wsMs, 50), 0)} ms`, '', '']);
    rows.push(['connection -> edge, WebSocket, p99', `${fixed(wp99, 0)} ms`, `<= ${TARGET_P99_MS} ms`, met(wp99 <= TARGET_P99_MS && l.missedWs === 0)]);
  }
  if (l) rows.push(['agent RSS, no load (--no-docker)', `${mb(l.agentRss)} MB`, '', '']);
  if (s) {
    if (l) rows.push(null);
    const idle = s.cases.find((c) => c.idle)?.idle;
    if (idle) rows.push([`agent RSS, ${s.containers} containers, no connections`, `${mb(idle.rssFinal)} MB`, '', '']);
    for (const c of s.cases) {
      const tag = c.name.slice(0, 1);
      rows.push([`${tag}: agent RSS max (${s.containers} ctrs, ${int(s.connectionsOpened)} conns)`, `${mb(c.usage.rssMax)} MB`, `<= ${TARGET_RSS_MB} MB`, met(c.usage.rssMax <= TARGET_RSS_MB * (1 << 20))]);
      rows.push([`${tag}: agent RSS peak (VmHWM)`, `${mb(c.usage.peak)} MB`, '', '']);
      rows.push([`${tag}: agent CPU`, `${fixed(c.usage.cpuPercent, 1)}%`, '', '']);
      rows.push([`${tag}: catch-up (${c.catchUpFrom})`, `${fixed(c.catchUpMs / 1000, 1)} s`, '', '']);
      rows.push([`${tag}: connections active on the map`, int(c.serverEdges.reduce((n, e) => n + e.active, 0)), `= ${int(s.connectionsOpened)}`, met(c.serverEdges.reduce((n, e) => n + e.active, 0) === s.connectionsOpened)]);
    }
  }
  console.log('\n== Summary ==');
  console.log(table(['measure', 'result', 'target', ''], rows));
}

async function main(o: Options): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the agent loads eBPF programs and dockerd needs root: run as root');
  if (!fs.existsSync(MEMORY_PROBE)) throw new Error(`${MEMORY_PROBE} missing: build first (npx tsc -p .)`);
  const began = Date.now();
  let lat: LatencyResult | null = null;
  let scale: ScaleResult | null = null;
  try {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-history-'));
    cleanups.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
    const extra = historyArgs(o, tmp);
    if (o.latency) { lat = await runLatency(o, extra); printLatency(lat); }
    if (o.scale) { scale = await runScale(o, extra); printScale(scale); }
  } finally {
    await cleanup();
  }
  printSummary(lat, scale);
  console.log(`\n(total ${fixed((Date.now() - began) / 1000, 0)} s; other work on this machine shares its 2 cores and the agent sees all of it)`);
}

const program = new Command()
  .name('bench/service-map')
  .description('Dhrishti service map benchmark: connection-to-edge latency, agent memory and CPU at 200 containers and 10k connections')
  .option('--edges <n>', 'new edges timed in the latency part', positiveInt('--edges', 1000), 100)
  .option('--containers <n>', 'containers in the scale part', positiveInt('--containers', 500), 200)
  .option('--servers <n>', 'of which node TCP servers', positiveInt('--servers', 50), 10)
  .option('--connections <n>', 'concurrent connections from the host to the servers', positiveInt('--connections', 30000), 10000)
  .option('--sample-seconds <n>', 'seconds of RSS/CPU sampling per case', positiveInt('--sample-seconds', 120), 10)
  .option('--no-latency', 'skip the latency part')
  .option('--no-scale', 'skip the containers/connections part')
  .option('--heap-snapshot', 'also write and summarize a heap snapshot of each scale agent (slow: pauses the agent for up to a minute)', false)
  .option('--history', 'run the agents with the history store (in a temp folder); by default --no-history measures the live map alone', false)
  .showHelpAfterError()
  .exitOverride();

try {
  program.parse(process.argv);
  const o = program.opts<Options>();
  if (o.servers >= o.containers) throw new Error('--servers must be fewer than --containers');
  await main(o);
} catch (e) {
  await cleanup();
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
}
