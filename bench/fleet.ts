// `npm run bench:fleet`: (1) a real agent with 2,000 real edges: /metrics scrape
// time, payload size, and the agent's CPU for exporting at a 15 s interval;
// (2) a 20-host, 5,000-edge synthetic fleet written through remote-write into a
// real Prometheus: how long the hub takes to build its map (p50/p95).
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, stopAll, node } from '../test/support/children.js';
import { freePort } from '../test/support/agent.js';
import { TestPrometheus } from '../test/support/prometheus.js';
import { REPO_ROOT, FLEET_BENCH } from '../src/config/defaults.js';
import { positiveInt } from '../src/cli/options.js';
import { cpuMsOf } from './lib/proc-usage.js';
import { fixed, int, median, table } from './lib/report.js';
import { prng } from './lib/synthetic-graph.js';
import { fleetSnapshots, writeFleet, type FleetEdge } from '../src/export/testing.js';
import { PromClient } from '../src/hub/promql.js';
import { mapAt } from '../src/hub/source.js';
import * as Q from '../src/hub/queries.js';

const program = new Command()
  .name('fleet-bench')
  .option('--edges <n>', 'real edges on the scraped agent', positiveInt('--edges', 20_000), FLEET_BENCH.scrapeEdges)
  .option('--fleet-edges <n>', 'logical edges of the synthetic fleet', positiveInt('--fleet-edges', 100_000), FLEET_BENCH.edges)
  .option('--hosts <n>', 'hosts of the synthetic fleet', positiveInt('--hosts', 1000), FLEET_BENCH.hosts)
  .option('--skip-scrape', 'only the hub part')
  .option('--skip-hub', 'only the scrape part')
  .exitOverride();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p95 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]; };

/** One process listening on `n` ports, another connecting once to each (100 at a time): n edges on the map. */
const TRAFFIC = `
const net = require('net'); const n = Number(process.argv[1]); const ports = [];
let listening = 0;
for (let i = 0; i < n; i++) { const s = net.createServer((c) => { c.on('data', () => {}); c.on('error', () => {}); c.on('end', () => c.end()); }); s.listen(0, '127.0.0.1', () => { ports.push(s.address().port); if (++listening === n) go(); }); }
function go() {
  let next = 0, done = 0;
  const one = () => { if (next >= ports.length) return; const p = ports[next++]; const c = net.connect(p, '127.0.0.1', () => c.end('x'.repeat(100))); c.on('error', () => {}); c.on('close', () => { if (++done === ports.length) console.log('connected ' + done); else one(); }); };
  for (let i = 0; i < 100; i++) one();
}`;

async function scrapeBench(edges: number): Promise<string[]> {
  const port = await freePort();
  const agent = start(path.join(REPO_ROOT, 'dhrishti'), ['run', '--port', String(port), '--no-history', '--no-docker', '--hostname', 'bench', '--top-edges', String(edges * 2)]);
  await agent.waitFor(/API on http/, 30_000);
  const url = `http://127.0.0.1:${port}`;
  const load = node(TRAFFIC, [String(edges)]);
  await load.waitFor(/^connected/, 120_000);
  const deadline = Date.now() + 60_000;
  let have = 0;
  while (Date.now() < deadline) {
    const t = (await (await fetch(`${url}/api/v1/agent`)).json()) as { graph: { edges: number } };
    have = t.graph.edges;
    if (have >= edges) break;
    await sleep(500);
  }
  const scrape = async () => {
    const t0 = performance.now();
    const res = await fetch(`${url}/metrics`);
    const body = await res.text();
    return { ms: performance.now() - t0, body };
  };
  for (let i = 0; i < 3; i++) { await scrape(); await sleep(1100); } // warm: JIT, first snapshot
  // Idle baseline: the agent's CPU with nobody scraping.
  const idleMs = 20_000;
  let c0 = cpuMsOf(agent.pid);
  await sleep(idleMs);
  const idleCpu = cpuMsOf(agent.pid) - c0;
  // Scrapes spaced past the rebuild interval, so each one builds the model anew.
  const times: number[] = [];
  let body = '';
  const buildSec = (text: string) => Number(/^dhrishti_export_build_seconds_total (\S+)$/m.exec(text)?.[1] ?? NaN);
  const b0 = buildSec((await scrape()).body);
  await sleep(1100);
  c0 = cpuMsOf(agent.pid);
  const w0 = performance.now();
  for (let i = 0; i < FLEET_BENCH.scrapeRuns; i++) {
    const r = await scrape();
    times.push(r.ms);
    body = r.body;
    await sleep(1100);
  }
  const wall = performance.now() - w0;
  const scrapeCpu = cpuMsOf(agent.pid) - c0;
  const buildMs = ((buildSec(body) - b0) * 1000) / FLEET_BENCH.scrapeRuns;
  const perScrapeCpu = Math.max(0, scrapeCpu - (idleCpu * wall) / idleMs) / FLEET_BENCH.scrapeRuns;
  const corePct = (perScrapeCpu / (FLEET_BENCH.scrapeIntervalSec * 1000)) * 100;
  const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  const edgeSeries = body.split('\n').filter((l) => l.startsWith('dhrishti_edge_connections_opened_total{')).length;
  await load.stop();
  await agent.stop();
  const t = FLEET_BENCH.targets;
  return [
    `scrape of a real agent with ${int(have)} edges (${int(edgeSeries)} labelled edge series, ${int(series)} series in all)`,
    table(['figure', 'value', 'target'], [
      ['scrape time, median (ms)', fixed(median(times), 1), ''],
      ['scrape time, p95 (ms)', fixed(p95(times), 1), `<= ${t.scrapeMs}`],
      ['payload (bytes)', int(Buffer.byteLength(body)), ''],
      ['payload gzip-compressed (bytes)', int(zlib.gzipSync(body).length), ''],
      ['agent CPU per scrape (ms)', fixed(perScrapeCpu, 1), ''],
      ['...of which building the model from the graph (ms, wall)', fixed(buildMs, 1), ''],
      [`export CPU at one scrape per ${FLEET_BENCH.scrapeIntervalSec} s (% of a core)`, fixed(corePct, 2), `<= ${t.exportCorePercent}`],
    ]),
  ];
}

function fleetEdges(hosts: number, n: number): FleetEdge[] {
  const rnd = prng(7);
  const perHost = Math.max(4, Math.ceil(Math.sqrt(n / hosts) * 2));
  const seen = new Set<string>();
  const out: FleetEdge[] = [];
  while (out.length < n) {
    const ch = Math.floor(rnd() * hosts);
    const sh = rnd() < FLEET_BENCH.crossHostShare ? Math.floor(rnd() * hosts) : ch;
    const cs = `svc${Math.floor(rnd() * perHost)}`, ss = `svc${Math.floor(rnd() * perHost)}`;
    const port = 8000 + Math.floor(rnd() * 20);
    const k = `${ch}/${cs}>${sh}/${ss}:${port}`;
    if (seen.has(k) || (ch === sh && cs === ss)) continue;
    seen.add(k);
    out.push({ from: [ch, `h${ch}-${cs}`], to: [sh, `h${sh}-${ss}`], port, opened: 1 + Math.floor(rnd() * 1000), failed: rnd() < 0.05 ? 3 : 0 });
  }
  return out;
}

async function hubBench(hosts: number, n: number): Promise<string[]> {
  const prom = await TestPrometheus.start();
  try {
    const edges = fleetEdges(hosts, n);
    const cross = edges.filter((e) => e.from[0] !== e.to[0]).length;
    const t0 = performance.now();
    let written = await writeFleet(`${prom.url}/api/v1/write`, fleetSnapshots(hosts, edges, 'fleet', Date.now() - 30_000));
    written += await writeFleet(`${prom.url}/api/v1/write`, fleetSnapshots(hosts, edges.map((e) => ({ ...e, opened: e.opened + 10 })), 'fleet', Date.now()));
    const writeMs = performance.now() - t0;
    const client = new PromClient(prom.url, { timeoutMs: 30_000 });
    const per: string[][] = [];
    for (const [name, q] of Object.entries({ AGENTS: Q.AGENTS, UP: Q.UP, CURRENT: Q.CURRENT, RATED: Q.RATED, SLOW: Q.SLOW, P95: Q.P95, INFO: Q.INFO })) {
      const r = await client.instant(q);
      per.push([`  query ${name} alone (ms), series`, `${fixed(r.ms, 0)}`, int(r.data.length)]);
    }
    const first = await mapAt(client, undefined, 60_000);
    const times: number[] = [], cached: number[] = [], queries: number[] = [];
    for (let i = 0; i < FLEET_BENCH.hubRuns; i++) {
      times.push((await mapAt(client, undefined, 60_000)).ms);
      const m = await mapAt(client, undefined, 60_000, first.slow); // as most live refreshes run: the slow part from an earlier one
      cached.push(m.ms);
      queries.push(m.queryMs ?? NaN);
    }
    const joined = first.graph.edges.filter((e) => !e.source.startsWith('client:') && !e.target.startsWith('ext:')).length;
    return [
      `hub over a synthetic fleet: ${hosts} hosts, ${int(n)} edges (${int(cross)} across hosts, each reported by both hosts), ${int(written)} samples written through remote-write in ${fixed(writeMs / 1000, 1)} s`,
      table(['figure', 'value', 'target'], [
        ['edges on the hub\'s map', int(first.graph.edges.length), int(n)],
        ['...of which between named nodes (joined)', int(joined), int(n)],
        ['agents seen', int(first.agents.length), int(hosts)],
        ['hub map build, median (ms)', fixed(median(times), 0), ''],
        ['hub map build, p95 (ms)', fixed(p95(times), 0), `<= ${FLEET_BENCH.targets.hubP95Ms}`],
        ['hub live refresh reusing the slow part, median (ms)', fixed(median(cached), 0), ''],
        ['hub live refresh reusing the slow part, p95 (ms)', fixed(p95(cached), 0), `<= ${FLEET_BENCH.targets.hubP95Ms}`],
        ['...of which waiting for Prometheus, median (ms)', fixed(median(queries), 0), ''],
        null,
        ...per,
      ]),
    ];
  } finally {
    await prom.stop();
  }
}

async function main(): Promise<void> {
  try { program.parse(); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
  const o = program.opts<{ edges: number; fleetEdges: number; hosts: number; skipScrape?: boolean; skipHub?: boolean }>();
  const out: string[] = [];
  try {
    if (!o.skipScrape) out.push(...(await scrapeBench(o.edges)), '');
    if (!o.skipHub) out.push(...(await hubBench(o.hosts, o.fleetEdges)));
  } finally {
    await stopAll();
  }
  console.log(out.join('\n'));
}

await main();
