// `npm run soak [-- --minutes 30]`: the real `dhrishti run` (history on) under mixed load for a long
// while: keep-alive and connection-per-request HTTP on loopback, plus containers of a private test
// dockerd started and stopped every few seconds, each making a few connections to the host. Samples
// the agent's RSS, CPU and open file descriptors every 30 s, then holds the agent's counts (live map,
// history, container events, lost events) to the load's own counts. A benchmark: it prints figures
// and a verdict, it asserts nothing.
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDockerd, ensureTestImage, createNetwork, removeAll, TEST_IMAGE, nodeCommand } from '../test/support/dockerd.js';
import { startAgent, getJson, type RunningAgent } from '../test/support/agent.js';
import { node, stopAll } from '../test/support/children.js';
import { positiveInt } from '../src/cli/options.js';
import { cpuMsOf, memoryOf, mb } from './lib/proc-usage.js';
import { backgroundLoad } from './lib/host.js';
import { fixed, int, table } from './lib/report.js';
import type { AgentTelemetry } from '../src/agent/agent.js';
import type { GraphSnapshot } from '../src/graph/types.js';
import { GRAPH_DEFAULTS } from '../src/config/defaults.js';

const program = new Command()
  .name('soak')
  .option('--minutes <n>', 'how long the load runs', positiveInt('--minutes', 24 * 60), 30)
  .option('--sample-every <s>', 'seconds between samples of the agent', positiveInt('--sample-every', 3600), 30)
  .option('--keepalive <n>', 'keep-alive connections', positiveInt('--keepalive', 1000), 16)
  .option('--keepalive-rate <n>', 'requests a second over the keep-alive connections', positiveInt('--keepalive-rate', 100_000), 400)
  .option('--churn-rate <n>', 'new connections a second (one request each)', positiveInt('--churn-rate', 10_000), 40)
  .option('--container-every <s>', 'seconds between container starts', positiveInt('--container-every', 3600), 3)
  .option('--container-life <s>', 'seconds each container lives', positiveInt('--container-life', 3600), 6)
  .option('--idle <minutes>', `the agent's --idle: stopped containers' nodes leave the live map after this long (default ${GRAPH_DEFAULTS.idleMs / 60_000})`, positiveInt('--idle', 24 * 60))
  .exitOverride();

const NET = 'dhrishti-soak';
const SUBNET = '172.31.246.0/24';
const GATEWAY = '172.31.246.1';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** HTTP servers on loopback and on the test network's gateway; every second prints what each accepted. */
const SERVER = `
const http = require('http');
const counts = {};
function serve(host, key) {
  counts[key] = { connections: 0, requests: 0 };
  const s = http.createServer((q, r) => { counts[key].requests++; q.resume(); q.on('end', () => r.end('ok')); });
  s.keepAliveTimeout = 120000;
  s.on('connection', () => counts[key].connections++);
  s.listen(0, host, () => console.log('listening ' + key + ' ' + s.address().port));
}
serve('127.0.0.1', 'loopback');
serve(process.argv[1], 'containers');
setInterval(() => console.log('counts ' + JSON.stringify(counts)), 1000);
`;

/**
 * Loopback load for argv seconds: requests over a pool of keep-alive connections at a steady
 * rate, and new connections (one request each, then closed) at another. Prints "done {...}" with
 * its own counts once everything it started has finished.
 */
const CLIENT = `
const http = require('http');
const net = require('net');
const [port, seconds, pool, kaRate, churnRate] = process.argv.slice(1).map(Number);
const c = { keepaliveSockets: 0, keepaliveRequests: 0, churnConnections: 0, errors: 0 };
const ka = new http.Agent({ keepAlive: true, maxSockets: pool });
ka.createConnection = (o, cb) => { c.keepaliveSockets++; return net.createConnection(o, cb); };
let inflight = 0, kaDue = 0, churnDue = 0, last = Date.now();
const end = Date.now() + seconds * 1000;
function req(agent, counter) {
  inflight++;
  const r = http.get({ host: '127.0.0.1', port, path: '/', agent, headers: agent ? {} : { connection: 'close' } }, (res) => {
    res.resume();
    res.on('end', () => { c[counter]++; inflight--; });
  });
  r.on('error', () => { c.errors++; inflight--; });
}
const timer = setInterval(() => {
  const now = Date.now();
  if (now >= end) {
    clearInterval(timer);
    const wait = setInterval(() => { if (inflight === 0 || Date.now() > end + 10000) { clearInterval(wait); ka.destroy(); setTimeout(() => { console.log('done ' + JSON.stringify(c)); process.exit(0); }, 500); } }, 50);
    return;
  }
  kaDue += ((now - last) / 1000) * kaRate;
  churnDue += ((now - last) / 1000) * churnRate;
  last = now;
  for (; kaDue >= 1; kaDue--) if (inflight < 2000) req(ka, 'keepaliveRequests');
  for (; churnDue >= 1; churnDue--) if (inflight < 2000) req(false, 'churnConnections');
}, 10);
`;

/** What each short-lived container does: a few connections to the host, then it idles until removed. */
function containerScript(port: number): string {
  return `const http = require('http'); let n = 0;
const one = () => http.get({ host: '${GATEWAY}', port: ${port}, agent: false }, (r) => { r.resume(); r.on('end', () => { if (++n < 5) setTimeout(one, 200); }); }).on('error', () => setTimeout(one, 500));
one(); setInterval(() => {}, 1 << 30);`;
}

interface Sample { t: number; rss: number; cpu: number; fds: number; eventsPerSec: number; lost: number; nodes: number; edges: number; historyBytes: number; containers: number }

/** A line fitted through (t, y) by least squares: the slope, per hour. */
function slopePerHour(points: [number, number][]): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n, my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0, den = 0;
  for (const [x, y] of points) { num += (x - mx) * (y - my); den += (x - mx) ** 2; }
  return den ? (num / den) * 3_600_000 : NaN;
}

async function main(): Promise<void> {
  let o: { minutes: number; sampleEvery: number; keepalive: number; keepaliveRate: number; churnRate: number; containerEvery: number; containerLife: number; idle?: number };
  try { o = program.parse().opts(); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
  const durationMs = o.minutes * 60_000;
  const idle = await backgroundLoad(2000);
  console.log(`soak: ${o.minutes} min; keep-alive ${o.keepalive} connections at ${o.keepaliveRate} req/s, churn ${o.churnRate} conn/s on loopback; ` +
    `a container every ${o.containerEvery} s living ${o.containerLife} s; ${os.cpus().length} cores, background load ${fixed(idle * 100, 0)}% before start, load average ${os.loadavg().map((x) => fixed(x, 1)).join(' ')}`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-soak-'));
  const link = path.join(os.tmpdir(), `dhrishti-soak-${process.pid}.sock`); // outside dockerd's folder (its clean-up kills processes naming it)
  let dockerd: TestDockerd | null = null;
  let agent: RunningAgent | null = null;
  const names: string[] = [];
  try {
    dockerd = await TestDockerd.start();
    await ensureTestImage(dockerd);
    await createNetwork(dockerd, NET, { subnet: SUBNET });
    fs.rmSync(link, { force: true });
    fs.symlinkSync(dockerd.socketPath, link);
    const server = node(SERVER, [GATEWAY]);
    const loopPort = Number((await server.waitFor(/^listening loopback (\d+)/))[1]);
    const ctrPort = Number((await server.waitFor(/^listening containers (\d+)/))[1]);
    agent = await startAgent(['--docker-socket', link, '--data-dir', path.join(work, 'data'), ...(o.idle ? ['--idle', `${o.idle}m`] : [])]);
    const agentUrl = agent.url;
    const pid = agent.child.pid;
    const began = Date.now();
    const client = node(CLIENT, [String(loopPort), String(durationMs / 1000), String(o.keepalive), String(o.keepaliveRate), String(o.churnRate)]);

    // Containers: one started every few seconds, each removed after its life; bounded by the duration.
    let started = 0, removed = 0, failedStarts = 0;
    const live: { name: string; at: number }[] = [];
    const churn = (async () => {
      const docker = dockerd!;
      while (Date.now() - began < durationMs) {
        const slot = Date.now();
        const name = `soak-${started + failedStarts + 1}`;
        try {
          await docker.cli(['run', '-d', '--name', name, '--network', NET, TEST_IMAGE, ...nodeCommand(containerScript(ctrPort))]);
          started++;
          names.push(name);
          live.push({ name, at: Date.now() });
        } catch (e) {
          failedStarts++;
          console.error(`soak: could not start ${name}: ${(e as Error).message.split('\n')[0]}`);
        }
        while (live.length && Date.now() - live[0].at >= o.containerLife * 1000) {
          const old = live.shift()!;
          try { await docker.cli(['rm', '-f', old.name]); removed++; } catch { /* counted as not removed */ }
        }
        await sleep(Math.max(0, o.containerEvery * 1000 - (Date.now() - slot)));
      }
      for (const c of live.splice(0)) { try { await docker.cli(['rm', '-f', c.name]); removed++; } catch { /* gone */ } }
    })();

    // Samples every N s: what the process costs (from /proc) and what it says about itself.
    const samples: Sample[] = [];
    let lastCpu = cpuMsOf(pid), lastT = performance.now();
    const header = ['t (min)', 'RSS MB', 'CPU %', 'fds', 'events/s', 'lost', 'nodes', 'edges', 'history MB', 'containers'];
    console.log(`\n${header.join('  ')}`);
    const sample = async () => {
      const cpu = cpuMsOf(pid), t = performance.now();
      const a = (await getJson<AgentTelemetry>(`${agentUrl}/api/v1/agent`)).body;
      const h = (await getJson<{ sizeBytes: number }>(`${agentUrl}/api/v1/history`)).body;
      const s: Sample = {
        t: Date.now() - began, rss: memoryOf(pid).rss, cpu: ((cpu - lastCpu) / (t - lastT)) * 100, fds: fs.readdirSync(`/proc/${pid}/fd`).length,
        eventsPerSec: a.eventsPerSec, lost: a.lost.total, nodes: a.graph.nodes, edges: a.graph.edges, historyBytes: h.sizeBytes, containers: started,
      };
      lastCpu = cpu; lastT = t;
      samples.push(s);
      console.log([fixed(s.t / 60_000, 1), mb(s.rss), fixed(s.cpu, 1), int(s.fds), int(s.eventsPerSec), int(s.lost), int(s.nodes), int(s.edges), mb(s.historyBytes), int(s.containers)].join('  '));
    };
    while (Date.now() - began < durationMs) {
      await sleep(Math.min(o.sampleEvery * 1000, durationMs - (Date.now() - began)));
      await sample();
    }
    const done = JSON.parse((await client.waitFor(/^done (.+)/, 60_000))[1]) as { keepaliveSockets: number; keepaliveRequests: number; churnConnections: number; errors: number };
    await churn;
    // Everything has ended: let the live map place the last events and two history flushes land.
    await sleep(2000);
    const flushMs = (await getJson<{ flushIntervalMs: number }>(`${agentUrl}/api/v1/history`)).body.flushIntervalMs;
    await sleep(2 * flushMs + 1000);
    const countsLine = [...server.lines].reverse().find((l) => l.startsWith('counts '))!;
    const served = JSON.parse(countsLine.slice('counts '.length)) as Record<'loopback' | 'containers', { connections: number; requests: number }>;
    const idleMs = (o.idle ?? GRAPH_DEFAULTS.idleMs / 60_000) * 60_000;
    await report(agentUrl, { began, loopPort, ctrPort, done, served, started, removed, failedStarts, samples, idleMs });
    await client.stop();
    await server.stop();
  } finally {
    await agent?.stop();
    await stopAll();
    if (dockerd) { await removeAll(dockerd, names, [NET]); await dockerd.stop(); }
    fs.rmSync(link, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function report(url: string, r: {
  began: number; loopPort: number; ctrPort: number; started: number; removed: number; failedStarts: number; samples: Sample[]; idleMs: number;
  done: { keepaliveSockets: number; keepaliveRequests: number; churnConnections: number; errors: number };
  served: Record<'loopback' | 'containers', { connections: number; requests: number }>;
}): Promise<void> {
  const opened = (g: GraphSnapshot, port: number, ctr: boolean) => g.edges.filter((e) => e.port === port && (!ctr || e.source.startsWith('ctr:')))
    .reduce((n, e) => n + e.connections.opened, 0);
  const liveG = (await getJson<GraphSnapshot>(`${url}/api/v1/graph`)).body;
  const hist = (await getJson<GraphSnapshot>(`${url}/api/v1/graph?from=${r.began - 60_000}&to=now`)).body;
  const events = (await getJson<{ events: { node: string | null }[]; truncated: boolean }>(`${url}/api/v1/events?from=${r.began - 60_000}&to=now&type=container_started&limit=10000`)).body;
  const startedEvents = events.events.filter((e) => e.node?.startsWith('ctr:soak-')).length;
  const a = (await getJson<AgentTelemetry>(`${url}/api/v1/agent`)).body;
  const clientConnections = r.done.keepaliveSockets + r.done.churnConnections;

  const s = r.samples;
  // Stopped containers' nodes stay in the live map for the idle time, so memory grows until then by design:
  // the trend is fitted after it (plus a minute), or over the second half of a run too short for that.
  const end = s[s.length - 1].t;
  const from = end >= 2 * (r.idleMs + 60_000) ? r.idleMs + 60_000 : end / 2;
  const steady = s.filter((x) => x.t >= from);
  const rssFit = slopePerHour(steady.map((x) => [x.t, x.rss / (1 << 20)]));
  const fdFit = slopePerHour(steady.map((x) => [x.t, x.fds]));
  const cpus = s.map((x) => x.cpu);
  console.log(`\nagent over ${fixed(end / 60_000, 1)} min (${s.length} samples; trends fitted from minute ${fixed(from / 60_000, 1)}, the live map's idle time being ${fixed(r.idleMs / 60_000, 0)} min):`);
  console.log(table(['', 'first', 'last', 'max', 'trend per hour'], [
    ['RSS MB', mb(s[0].rss), mb(s[s.length - 1].rss), mb(Math.max(...s.map((x) => x.rss))), fixed(rssFit, 1)],
    ['open fds', int(s[0].fds), int(s[s.length - 1].fds), int(Math.max(...s.map((x) => x.fds))), fixed(fdFit, 1)],
    ['CPU % of a core', fixed(cpus[0], 1), fixed(cpus[cpus.length - 1], 1), fixed(Math.max(...cpus), 1), `mean ${fixed(cpus.reduce((x, y) => x + y, 0) / cpus.length, 1)}`],
  ]));

  const rows: [string, number, number][] = [
    ['loopback connections: client / server', clientConnections, r.served.loopback.connections],
    ['loopback connections: server / live map', r.served.loopback.connections, opened(liveG, r.loopPort, false)],
    ['loopback connections: server / history', r.served.loopback.connections, opened(hist, r.loopPort, false)],
    ['container connections: server / history', r.served.containers.connections, opened(hist, r.ctrPort, true)],
    ['containers started: docker / history events', r.started, startedEvents],
  ];
  console.log(`\ncounts (load's own against the agent's API):`);
  console.log(table(['', 'load', 'agent', 'difference'], rows.map(([k, x, y]) => [k, int(x), int(y), int(y - x)])));
  console.log(`requests: ${int(r.done.keepaliveRequests)} keep-alive over ${int(r.done.keepaliveSockets)} connections, ${int(r.done.churnConnections)} one-shot; client errors ${int(r.done.errors)}`);
  console.log(`containers: ${int(r.started)} started, ${int(r.removed)} removed, ${int(r.failedStarts)} failed to start${events.truncated ? ' (events truncated)' : ''}`);
  console.log(`lost events (kernel to agent): ${int(a.lost.total)} ${JSON.stringify(a.lost)}; identity misses ${int(a.identityMisses)}; history ${a.history?.state ?? 'off'}, flushes ${JSON.stringify(a.history?.flushes ?? {})}`);
  const equal = rows.every(([, x, y]) => x === y);
  console.log(`\nverdict: counts ${equal ? 'equal' : 'DIFFER'}; lost ${a.lost.total}; RSS trend ${fixed(rssFit, 1)} MB/h, fds trend ${fixed(fdFit, 1)}/h; ${r.started} containers; load average at the end ${os.loadavg().map((x) => fixed(x, 1)).join(' ')}`);
}

main().catch((e) => {
  console.error(`soak: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
});
