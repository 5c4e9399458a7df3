// `npm run bench:fleet`: (1) a real agent with 2,000 real edges: /metrics scrape
// time, payload size, and the agent's CPU for exporting at a 15 s interval;
// (2) the CPU of one remote-write push of 2,000 labelled edges, against encoding
// every series anew (what a generic client does) in the same run;
// (3) a 20-host, 5,000-edge synthetic fleet written through remote-write into a
// real Prometheus: how long the hub takes to build its map (p50/p95).
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import zlib from 'node:zlib';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { start, stopAll, node } from '../test/support/children.js';
import { freePort } from '../test/support/agent.js';
import { TestPrometheus } from '../test/support/prometheus.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import { FLEET_BENCH } from './lib/constants.js';
import { oneOf, positiveInt } from '../src/cli/options.js';
import { cpuMsOf } from './lib/proc-usage.js';
import { EDGE_TRAFFIC, waitForEdges } from './lib/edge-traffic.js';
import { launcherFlags } from '../src/config/launcher.js';
import { fixed, int, median, table } from './lib/report.js';
import { prng } from './lib/synthetic-graph.js';
import { fleetGraphs, FleetWriter, type FleetEdge } from '../src/export/testing.js';
import { EdgeMetrics } from '../src/export/edge-metrics.js';
import { RemoteWriteEncoder, WriteRequest, toTimeseries } from '../src/export/remote-write.js';
import { compressSync } from 'snappy';
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
  .option('--skip-push', 'leave out the remote-write part')
  .option('--scrape <which>', 'which scrape runs: quiet, busy or both', oneOf('--scrape', ['quiet', 'busy', 'both']), 'both')
  .option('--scrape-runs <n>', 'timed scrapes per run', positiveInt('--scrape-runs', 1000), FLEET_BENCH.scrapeRuns)
  .option('--profile <dir>', 'run the scraped agent under node --cpu-prof (20 ms interval) and write its profile to <dir>')
  .exitOverride();

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p95 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]; };

/** Prometheus' scrape_duration_seconds (ms) of `target`, scraped scrapeRuns times (after one warm-up scrape). */
async function promScrapeTimes(target: string): Promise<number[]> {
  const every = FLEET_BENCH.promScrapeIntervalSec;
  const prom = await TestPrometheus.start({ targets: [{ job: 'agent', target }], scrapeIntervalSec: every });
  try {
    await sleep(every * 1000 * (FLEET_BENCH.scrapeRuns + 2));
    const xs = await prom.queryRange('scrape_duration_seconds{job="agent"}', every * (FLEET_BENCH.scrapeRuns + 1));
    return xs.map((x) => x * 1000).slice(1); // the first scrape creates every series
  } finally { await prom.stop(); }
}

/** Serves one gzip body as /metrics from memory. */
async function staticServer(gz: Buffer): Promise<{ target: string; close(): void }> {
  const srv = http.createServer((_, res) => { res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Encoding': 'gzip' }); res.end(gz); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { target: `127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => srv.close() };
}

async function scrapeBench(edges: number, busy: boolean, runs: number, profileDir?: string): Promise<string[]> {
  const port = await freePort();
  // A coarse profiler interval keeps the profiler's own cost small in the figures.
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval', '20000'] : [];
  // As users run it: the ./dhrishti launcher, or with a profiler node with the launcher's flags (node refuses --cpu-prof in NODE_OPTIONS).
  const args = ['run', '--port', String(port), '--no-history', '--no-docker', '--hostname', 'bench', '--top-edges', String(edges * 2)];
  const agent = prof.length
    ? start('node', [...launcherFlags(), ...prof, path.join(REPO_ROOT, 'dist/src/cli/main.js'), ...args])
    : start(path.join(REPO_ROOT, 'dhrishti'), args);
  await agent.waitFor(/API on http/, 30_000);
  const url = `http://127.0.0.1:${port}`;
  const load = node(EDGE_TRAFFIC, [String(edges), String(FLEET_BENCH.httpEvery), busy ? 'busy' : 'quiet']);
  await load.waitFor(/^connected/, 120_000);
  const have = await waitForEdges(url, edges);
  const fetchBody = async () => Buffer.from(await (await fetch(`${url}/metrics`)).arrayBuffer()).toString('utf8');
  // Timed by curl as a scraper reads it: gzip asked for, the last byte in and decompressed (by zlib, in C).
  const scrape = async () => {
    const { stdout } = await execFileP('curl', ['-sS', '--compressed', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total} %{size_download}', `${url}/metrics`]);
    const [first, total, size] = stdout.trim().split(' ').map(Number);
    return { ms: total * 1000, headersMs: first * 1000, size };
  };
  for (let i = 0; i < 3; i++) { await scrape(); await sleep(1100); } // warm: JIT, first snapshot
  // Idle baseline: the agent's CPU with nobody scraping.
  const idleMs = 20_000;
  let c0 = cpuMsOf(agent.pid);
  await sleep(idleMs);
  const idleCpu = cpuMsOf(agent.pid) - c0;
  // Scrapes spaced past the rebuild interval, so each one builds the model anew.
  const times: number[] = [], headerTimes: number[] = [];
  let gzipBytes = 0;
  const sec = (name: string, text: string) => Number(new RegExp(`^${name}(?:\\{host="[^"]*"\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN); // host: the agent's default label
  const buildSec = (text: string) => sec('dhrishti_export_build_seconds_total', text);
  const writeSec = (text: string) => sec('dhrishti_export_write_seconds_total', text);
  // V8's full collections (prom-client's count): on a busy host most scrapes can end up paying for one's marking steps.
  const majors = (text: string) => Number(/^dhrishti_process_nodejs_gc_duration_seconds_count\{kind="major"(?:,host="[^"]*")?\} (\S+)$/m.exec(text)?.[1] ?? NaN);
  // A long-running agent, as Prometheus sees it: wait for V8's first full collection past start-up (see FLEET_BENCH.settleMaxMs).
  // prom-client writes the count only after the first major collection: none yet is 0.
  const majorsSoFar = (text: string) => { const n = majors(text); return Number.isNaN(n) ? 0 : n; };
  let settledSec = 0, settled = false;
  if (busy) {
    const t0 = Date.now(), m0 = majorsSoFar(await fetchBody());
    while (!(settled = majorsSoFar(await fetchBody()) > m0) && Date.now() - t0 < FLEET_BENCH.settleMaxMs) await sleep(5000);
    settledSec = Math.round((Date.now() - t0) / 1000);
  }
  const before = await fetchBody();
  const b0 = buildSec(before), w0s = writeSec(before);
  await sleep(1100);
  c0 = cpuMsOf(agent.pid);
  const w0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const r = await scrape();
    times.push(r.ms);
    headerTimes.push(r.headersMs);
    gzipBytes = r.size;
    await sleep(1100);
  }
  const wall = performance.now() - w0;
  const scrapeCpu = cpuMsOf(agent.pid) - c0;
  const body = await fetchBody();
  const buildMs = ((buildSec(body) - b0) * 1000) / (runs + 1);
  const writeMs = ((writeSec(body) - w0s) * 1000) / (runs + 1); // the scrapes, and the first fetch (its rows come after its counters are read)
  const perScrapeCpu = Math.max(0, scrapeCpu - (idleCpu * wall) / idleMs) / runs;
  const corePct = (perScrapeCpu / (FLEET_BENCH.scrapeIntervalSec * 1000)) * 100;
  // The same agent scraped by a real Prometheus: its scrape_duration_seconds also holds Prometheus' parsing and
  // storing of every sample, so the same payload served from memory by a bare server (no agent) is timed too.
  // (Once, in the quiet run: the busy one is about the agent's compression when every row moved.)
  const promTimes = busy ? [] : await promScrapeTimes(`127.0.0.1:${port}`);
  const still = busy ? null : await staticServer(zlib.gzipSync(body, { level: 1 }));
  const floorTimes = still ? await promScrapeTimes(still.target).finally(() => still.close()) : [];
  const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  const edgeSeries = body.split('\n').filter((l) => l.startsWith('dhrishti_edge_connections_opened_total{')).length;
  const requestEdges = body.split('\n').filter((l) => l.startsWith('dhrishti_edge_request_duration_seconds_count{')).length;
  await load.stop();
  await agent.stop();
  const t = FLEET_BENCH.targets;
  const expected = Math.ceil(edges / FLEET_BENCH.httpEvery);
  const warn = requestEdges < expected / 2 ? [`warning: only ${requestEdges} of ~${expected} edges carry HTTP requests: L7 capture is not running (see the agent's log), so the request families are missing from these figures`] : [];
  return [
    ...warn,
    `scrape of a real agent with ${int(have)} edges (${int(edgeSeries)} labelled edge series, ${int(requestEdges)} of them with HTTP requests, ${int(series)} series in all), ` +
      (busy
        ? `busy: every edge gets a new connection every ${FLEET_BENCH.busySweepMs / 1000} s, so its rows move between scrapes; timed ${settledSec} s after the idle baseline, ${settled ? 'once the agent had its first full collection past start-up' : `WARNING: no full collection came within ${FLEET_BENCH.settleMaxMs / 1000} s, so this agent's heap is still a young one's`}`
        : 'quiet: the traffic is over, rows stand still between scrapes'),
    table(['figure', 'value', 'target'], [
      [`scrape time (curl, gzip: until the last byte, decompressed; ${times.length} scrapes), median (ms)`, fixed(median(times), 1), ''],
      ['scrape time, p95 (ms)', fixed(p95(times), 1), `<= ${t.scrapeMs}`],
      ['...until the first byte of the answer, median (ms)', fixed(median(headerTimes), 1), ''],
      ...(busy ? [] : [
        [`Prometheus' scrape_duration_seconds (${promTimes.length} scrapes: fetch, parse, store), median (ms)`, fixed(median(promTimes), 1), ''],
        ['...p95 (ms)', fixed(p95(promTimes), 1), ''],
        ['...the same payload from a bare server (Prometheus\' own part), median / p95 (ms)', `${fixed(median(floorTimes), 1)} / ${fixed(p95(floorTimes), 1)}`, ''],
      ]),
      ['payload (bytes)', int(Buffer.byteLength(body)), ''],
      ['payload as sent, gzip (bytes)', int(gzipBytes), ''],
      ['agent CPU per scrape (ms)', fixed(perScrapeCpu, 1), ''],
      ['agent main-thread time on the edge rows per scrape: model, text, compression started (ms)', fixed(writeMs, 1), ''],
      ['...of which building the model from the graph (ms)', fixed(buildMs, 1), ''],
      [`the agent's full garbage collections (V8 mark-compact) during the ${runs} scrapes`, int(majorsSoFar(body) - majorsSoFar(before)), ''],
      [`export CPU at one scrape per ${FLEET_BENCH.scrapeIntervalSec} s (% of a core)`, fixed(corePct, 2), `<= ${t.exportCorePercent}`],
    ]),
  ];
}

/** CPU (ms, this thread's user+system) of fn. */
function cpuMs(fn: () => void): number {
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
}

/** One agent's remote-write push of `edges` labelled edges: encode and snappy, kept series bytes against every series encoded anew. */
function pushBench(edges: number): string[] {
  const list: FleetEdge[] = Array.from({ length: edges }, (_, i) => ({ from: [0, `c${i % 50}`], to: [0, `s${Math.floor(i / 50)}`], port: 8000 + (i % 7), opened: 10 + i, requests: i % FLEET_BENCH.httpEvery ? undefined : 3 * (10 + i) }));
  const g = fleetGraphs(1, list, 'push').graphs[0];
  const metrics = new EdgeMetrics({ host: 'bench', topEdges: edges * 2 });
  const enc = new RemoteWriteEncoder({ job: 'dhrishti', instance: 'bench' });
  const snapAt = (i: number) => {
    for (const e of g.edges) { e.connections.opened += i; e.bytes.sent += 100 * i; } // every edge moved: every value new
    return { families: metrics.update(g).families, time: Date.now(), startTime: 0 };
  };
  let bytes = 0, series = 0;
  const ours = (i: number) => { const snap = snapAt(i); return cpuMs(() => { bytes = 0; for (const b of enc.encode(snap)) bytes += compressSync(b).length; series = enc.series; }); };
  const anew = (i: number) => {
    const snap = snapAt(i);
    return cpuMs(() => {
      const ts = toTimeseries(snap, { job: 'dhrishti', instance: 'bench' }).map((t) => ({ labels: Object.entries(t.labels).map(([name, value]) => ({ name, value })), samples: t.samples }));
      compressSync(WriteRequest.encode({ timeseries: ts }).finish());
    });
  };
  const first = ours(1);
  const kept: number[] = [], fresh: number[] = [];
  // Apart, so that one's garbage is not collected on the other's time.
  for (let i = 0; i < FLEET_BENCH.pushRuns; i++) kept.push(ours(i + 2));
  for (let i = 0; i < Math.min(3, FLEET_BENCH.pushRuns); i++) fresh.push(anew(i + 2));
  const t = FLEET_BENCH.targets;
  const pct = (median(kept) / (FLEET_BENCH.scrapeIntervalSec * 1000)) * 100;
  return [
    `remote-write push of ${int(edges)} labelled edges (${int(series)} series, ${int(bytes)} bytes snappy-compressed), CPU of encoding and compressing`,
    table(['figure', 'value', 'target'], [
      ['first push, series bytes made (ms)', fixed(first, 1), ''],
      ['next pushes, series bytes kept, median (ms)', fixed(median(kept), 1), ''],
      ['every series encoded anew, median (ms)', fixed(median(fresh), 1), ''],
      ['ratio anew / kept', fixed(median(fresh) / median(kept), 1), ''],
      [`push CPU at one push per ${FLEET_BENCH.scrapeIntervalSec} s (% of a core)`, fixed(pct, 2), `<= ${t.exportCorePercent}`],
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

/** The previous hub's live queries (before per-agent refreshes and joined edge labels), timed in the same run as a baseline. */
const OLD_KNOWN = 'label_replace(label_replace(dhrishti_address_info, "client", "$1", "ip", "(.*)"), "client_kind", "client", "", "")';
const OLD = {
  CURRENT: `({__name__=~"dhrishti_(edge_connections_opened_total|edge_connections_failed_total|edge_sent_bytes_total|edge_received_bytes_total|edge_connections_active|export_edges_folded|export_edges|lost_events_total)"}) unless on (client, client_kind) ${OLD_KNOWN}`,
  RATED: `({__name__=~"dhrishti_(edge_connections_opened_total|edge_connections_failed_total|edge_sent_bytes_total|edge_received_bytes_total)"}) unless on (client, client_kind) ${OLD_KNOWN}`,
  SLOW: `({__name__=~"dhrishti_(edge_connections_closed_total|edge_retransmits_total|edge_rtt_seconds_sum|edge_rtt_seconds_count|edge_connection_duration_seconds_sum|edge_connection_duration_seconds_count)"}) unless on (client, client_kind) ${OLD_KNOWN}`,
  P95: `label_replace(histogram_quantile(0.95, (dhrishti_edge_rtt_seconds_bucket) unless on (client, client_kind) ${OLD_KNOWN}), "__m", "rtt", "", "")`,
};

async function hubBench(hosts: number, n: number): Promise<string[]> {
  const prom = await TestPrometheus.start();
  let hub: Awaited<ReturnType<typeof start>> | null = null;
  try {
    const edges = fleetEdges(hosts, n);
    const cross = edges.filter((e) => e.from[0] !== e.to[0]).length;
    const fleet = new FleetWriter(hosts, edges);
    const write = `${prom.url}/api/v1/write`;
    const every = FLEET_BENCH.reportEverySec * 1000;
    // A few minutes of history: the agents reported every 15 s (rates need more than one report).
    const t0 = performance.now();
    const now0 = Date.now();
    let written = 0;
    for (let k = FLEET_BENCH.historyReports - 1; k >= 0; k--) written += await fleet.write(write, now0 - k * every, 3);
    const writeMs = performance.now() - t0;
    const client = new PromClient(prom.url, { timeoutMs: 60_000 });
    const at = Date.now();
    const per: string[][] = [];
    const timeQuery = async (name: string, q: string, when = at) => {
      const r = await client.instant(q, when);
      per.push([`  ${name} (ms, series)`, fixed(r.ms, 0), int(r.data.length)]);
    };
    for (const [name, q] of Object.entries({ 'edges, every agent': Q.edges(null), 'edges, one agent': Q.edges(['host-0']), 'RTT p95, every agent': Q.rttP95(null), info: Q.info(null), reported: Q.REPORTED, agents: Q.AGENTS, up: Q.UP, totals: Q.TOTALS })) await timeQuery(name, q);
    await timeQuery('counters a minute earlier (first refresh only)', Q.rated(null), at - 60_000);
    const old: string[][] = [];
    for (const [name, q] of Object.entries(OLD)) {
      const r = await client.instant(q, at);
      old.push([`  previous hub: ${name} (ms, series)`, fixed(r.ms, 0), int(r.data.length)]);
    }
    // A whole map from nothing, as ?at= builds one (and the first live refresh of a hub).
    const full: number[] = [], fullQ: number[] = [];
    let first = await mapAt(client, at, 60_000);
    for (let i = 0; i < FLEET_BENCH.hubRuns; i++) {
      first = await mapAt(client, undefined, 60_000);
      full.push(first.ms);
      fullQ.push(first.queryMs ?? NaN);
    }
    const joined = first.graph.edges.filter((e) => !e.source.startsWith('client:') && !e.target.startsWith('ext:')).length;

    // A real hub while the agents go on reporting (each every 15 s, staggered): its refreshes, and /api/v1/graph as a user gets it.
    const port = await freePort();
    hub = start(path.join(REPO_ROOT, 'dhrishti'), ['hub', '--prometheus', prom.url, '--port', String(port), '--refresh', `${FLEET_BENCH.hubRefreshSec}s`]);
    const h0 = performance.now();
    await hub.waitFor(/API on http/, 180_000);
    const url = `http://127.0.0.1:${port}`;
    for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(200)) {
      if (((await (await fetch(`${url}/api/v1/agent`)).json()) as { hub: { state: string } }).hub.state === 'ok') break;
    }
    const firstMapMs = performance.now() - h0;
    let stop = false;
    const reporting = (async () => {
      // Host h reports at its own offset within each interval, as agents started at different times do.
      let k = 0;
      while (!stop) {
        const h = k % hosts;
        await fleet.write(write, Date.now(), 3, [h]);
        k++;
        await sleep(Math.max(0, every / hosts - 50));
      }
    })();
    const refreshes = new Map<number, { ms: number; queryMs: number; hosts: number }>();
    const latencies: number[] = [], uiLatencies: number[] = [];
    let bytes = 0, failures = 0, edgesSeen = 0;
    const failed = new Map<string, number>();
    const end = Date.now() + FLEET_BENCH.hubLoadSec * 1000;
    const poll = async (path: string, into: number[]) => {
      while (Date.now() < end) {
        const t = performance.now();
        const r = await fetch(`${url}${path}`);
        const text = await r.text();
        into.push(performance.now() - t);
        if (r.status !== 200) { failures++; failed.set(`${r.status} ${text.slice(0, 160)}`, (failed.get(`${r.status} ${text.slice(0, 160)}`) ?? 0) + 1); }
        else if (path === '/api/v1/graph') { bytes = text.length; edgesSeen = (JSON.parse(text) as { edges: unknown[] }).edges.length; }
        await sleep(FLEET_BENCH.hubRequestGapMs);
      }
    };
    const telemetry = (async () => {
      while (Date.now() < end) {
        const tel = (await (await fetch(`${url}/api/v1/agent`)).json()) as { hub: { lastAttempt: number; refreshMsLast: number; queryMs: number; hostsAsked: number; refreshing: boolean } };
        if (!tel.hub.refreshing && tel.hub.lastAttempt) refreshes.set(tel.hub.lastAttempt, { ms: tel.hub.refreshMsLast, queryMs: tel.hub.queryMs, hosts: tel.hub.hostsAsked });
        await sleep(500);
      }
    })();
    await Promise.all([poll('/api/v1/graph', latencies), poll('/api/v1/graph?include=external,host', uiLatencies), telemetry]);
    stop = true;
    await reporting;
    const r = [...refreshes.values()];
    const ts = FLEET_BENCH.targets;
    return [
      `hub over a synthetic fleet: ${hosts} hosts, ${int(n)} edges (${int(cross)} across hosts, each reported by both hosts), ${int(written)} samples (${FLEET_BENCH.historyReports} reports of every host) written through remote-write in ${fixed(writeMs / 1000, 1)} s`,
      table(['figure', 'value', 'target'], [
        ['edges on the hub\'s map', int(first.graph.edges.length), int(n)],
        ['...of which between named nodes (joined)', int(joined), int(n)],
        ['agents seen', int(first.agents.length), int(hosts)],
        ['whole map from nothing (?at=, first refresh), median (ms)', fixed(median(full), 0), ''],
        ['whole map from nothing, p95 (ms)', fixed(p95(full), 0), ''],
        ['...of which waiting for Prometheus, median (ms)', fixed(median(fullQ), 0), ''],
        null,
        ['live hub: from its start to its first map (ms)', fixed(firstMapMs, 0), ''],
        [`live hub, refresh every ${FLEET_BENCH.hubRefreshSec} s while agents report every ${FLEET_BENCH.reportEverySec} s: refreshes seen`, int(r.length), ''],
        ['  refresh, median (ms)', fixed(median(r.map((x) => x.ms)), 0), ''],
        ['  refresh, p95 (ms)', fixed(p95(r.map((x) => x.ms)), 0), ''],
        ['  ...of which waiting for Prometheus, median (ms)', fixed(median(r.map((x) => x.queryMs)), 0), ''],
        ['  agents asked per refresh, median', fixed(median(r.map((x) => x.hosts)), 1), ''],
        [`GET /api/v1/graph during refreshes (${int(latencies.length)} requests, ${int(bytes)} bytes, ${int(edgesSeen)} edges), median (ms)`, fixed(median(latencies), 1), ''],
        ['  p95 (ms)', fixed(p95(latencies), 1), `<= ${ts.hubP95Ms}`],
        [`GET /api/v1/graph?include=external,host (the web UI's, ${int(uiLatencies.length)} requests), p95 (ms)`, fixed(p95(uiLatencies), 1), `<= ${ts.hubP95Ms}`],
        ['  answers other than 200', int(failures), '0'],
        ...[...failed].slice(0, 3).map(([k, n]): string[] => [`    ${n} x ${k}`, '', '']),
        null,
        ...per,
        ...old,
      ]),
    ];
  } finally {
    await hub?.stop();
    await prom.stop();
  }
}

async function main(): Promise<void> {
  try { program.parse(); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
  const o = program.opts<{ edges: number; fleetEdges: number; hosts: number; skipScrape?: boolean; skipHub?: boolean; skipPush?: boolean; profile?: string; scrape: string; scrapeRuns: number }>();
  const out: string[] = [];
  try {
    const runs = o.scrape === 'both' ? [false, true] : [o.scrape === 'busy'];
    if (!o.skipScrape) for (const busy of runs) out.push(...(await scrapeBench(o.edges, busy, o.scrapeRuns, o.profile && path.join(o.profile, busy ? 'busy' : 'quiet'))), '');
    if (o.profile && !o.skipScrape) out.push(`CPU profile of the scraped agent (.cpuprofile; summary: node dist/bench/profile-summary.js <file>) in ${o.profile}`, '');
    if (!o.skipPush) out.push(...pushBench(o.edges), '');
    if (!o.skipHub) out.push(...(await hubBench(o.hosts, o.fleetEdges)));
  } finally {
    await stopAll();
  }
  console.log(out.join('\n'));
}

await main();
