// `node dist/bench/history.js`: 24 h of 1000 edges at 10 s resolution written
// through the history store's write path (one transaction per flush, roll-ups and
// pruning as in the agent) into a temp database; then the size and query times.
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HistoryStore } from '../src/store/history-store.js';
import type { IntervalRow, EventRecord } from '../src/store/sampler.js';
import type { EdgeDesc, NodeDesc } from '../src/store/dimensions.js';
import { FAILURE_REASONS } from '../src/graph/types.js';
import { positiveInt } from '../src/cli/options.js';
import { parseRetention, formatRetention } from '../src/store/retention.js';
import { HISTORY_DEFAULTS } from '../src/config/defaults.js';
import { HISTORY_BENCH } from './lib/constants.js';
import { fixed, int, median, table } from './lib/report.js';

const program = new Command()
  .name('history-bench')
  .option('--edges <n>', 'edges written every flush', positiveInt('--edges'), HISTORY_BENCH.edges)
  .option('--hours <n>', 'hours of history', positiveInt('--hours', 24 * 7), HISTORY_BENCH.hours)
  .option('--runs <n>', 'timed runs per query', positiveInt('--runs', 1000), HISTORY_BENCH.queryRuns)
  .option('--retention <tiers>', 'retention tiers', HISTORY_DEFAULTS.retention)
  .option('--keep', 'keep the database file (its path is printed)')
  .exitOverride();

/** Deterministic numbers, so runs compare. */
function rng(seed: number) {
  return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** Median wall time, and median CPU time (the same work on an idle core; the wall figure grows when other processes compete). */
function timed<T>(fn: () => T, runs: number): { ms: number; cpuMs: number; result: T } {
  const wall: number[] = [], cpu: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    result = fn();
    wall.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  return { ms: median(wall), cpuMs: median(cpu), result };
}

async function main(): Promise<void> {
  try { program.parse(); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
  const o = program.opts<{ edges: number; hours: number; runs: number; retention: string; keep?: boolean }>();
  const tiers = parseRetention(o.retention);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-history-bench-'));
  const file = path.join(dir, HISTORY_DEFAULTS.fileName);
  const r0 = 10_000;
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const start = end - o.hours * 3_600_000;
  const clock = { now: start };
  const store = new HistoryStore({ file, tiers, clock: () => clock.now });
  const rand = rng(42);
  const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));

  const nodes = new Map<string, NodeDesc>();
  for (let i = 0; i < HISTORY_BENCH.nodes; i++) {
    const id = `svc:bench/service-${i}`;
    nodes.set(id, { id, kind: 'service', label: `service-${i}`, group: 'bench', image: `bench/service-${i}:1.0`, instances: [{ id: `${i}`.padStart(64, 'a'), name: `bench-service-${i}-1`, pids: [1000 + i], ips: [`10.1.${i >> 8}.${i & 255}`] }], ips: [`10.1.${i >> 8}.${i & 255}`] });
  }
  const ids = [...nodes.keys()];
  const edges: EdgeDesc[] = [];
  for (let i = 0; i < o.edges; i++) {
    const s = ids[i % ids.length], t = ids[(i * 7 + 1 + Math.floor(i / ids.length)) % ids.length];
    const port = 8000 + (i % 97);
    edges.push({ id: `${s}|${t}|${port}|tcp`, source: s, target: t, port, protocol: 'tcp' });
  }
  const uniq = [...new Map(edges.map((e) => [e.id, e])).values()];

  console.log(`retention ${formatRetention(tiers)}`);
  console.log(`writing ${o.hours} h of ${uniq.length} edges at 10 s (${int((o.hours * 360) * uniq.length)} rows) into ${file}`);
  const flushes = o.hours * 360;
  const flushTimes: number[] = [];
  let rowsWritten = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let f = 0; f < flushes; f++) {
    const bucket = start + f * r0;
    clock.now = bucket + r0 + 5;
    const rows: IntervalRow[] = [];
    const events: EventRecord[] = [];
    for (const e of uniq) {
      const opened = logUniform(1, 200);
      const failed = rand() < 0.05 ? 1 + Math.floor(rand() * 3) : 0;
      const reason = FAILURE_REASONS[Math.floor(rand() * FAILURE_REASONS.length)];
      const rtt = logUniform(50, 5000);
      rows.push({
        edge: e, opened, closed: opened, failed, failedBy: failed ? { [reason]: failed } : {},
        bytesSent: logUniform(1_000, 10_000_000), bytesReceived: logUniform(1_000, 10_000_000),
        retransmits: rand() < 0.1 ? Math.floor(rand() * 5) : 0, active: Math.floor(rand() * 20),
        rttMeanUs: rtt, rttP95Us: Math.round(rtt * (1.5 + rand())), durMeanMs: logUniform(10, 20_000) / 10,
        lastSeen: bucket + Math.floor(rand() * r0),
      });
      if (failed && events.length < HISTORY_DEFAULTS.maxFailureSamplesPerFlush) {
        events.push({ time: bucket + Math.floor(rand() * r0), type: 'failure', edge: e, detail: { reason, error: 'ECONNREFUSED', clientPid: 1234, clientComm: 'client', clientAddr: '10.1.0.1:40000', serverAddr: '10.1.0.2:8000' } });
      }
    }
    const t = performance.now();
    store.record({ time: clock.now, bucket, rows, nodes, events });
    flushTimes.push(performance.now() - t);
    rowsWritten += rows.length;
    if (f % 1440 === 1439) console.log(`  ${int(((f + 1) / 360))} h written, ${fixed((performance.now() - t0) / 1000, 1)} s`);
  }
  const writeSec = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const writeCpuSec = (cu.user + cu.system) / 1e6;
  const liveBytes = store.status().sizeBytes;
  store.close();
  const fileBytes = fs.statSync(file).size;

  // A restarted agent answers the queries (the file closed and reopened, as after an agent restart).
  clock.now = end + 5;
  const reader = new HistoryStore({ file, tiers, clock: () => clock.now });
  const q = reader.queries;
  const pick = rng(7);
  const hourAgo = (h: number) => end - h * 3_600_000;
  const rangeLast = timed(() => q.graphRange(hourAgo(1), end), o.runs);
  const rangeMid = timed(() => q.graphRange(hourAgo(12) + 12_345, hourAgo(11) + 12_345), o.runs);
  const atQ = timed(() => q.graphAt(start + Math.floor(pick() * (end - start)), HISTORY_DEFAULTS.atWindowMs), o.runs);
  const edgeRefs = q.seriesEdges({ edge: uniq[17].id })!;
  const nodeRefs = q.seriesEdges({ node: ids[3] })!;
  const series = (refs: number[], from: number, to: number) => q.timeseries(refs, 'bytes_sent', q.seriesGrid(from, to, undefined, HISTORY_DEFAULTS.seriesTargetPoints));
  const s1h = timed(() => series(edgeRefs, hourAgo(1), end), o.runs);
  const s24h = timed(() => series(edgeRefs, start, end), o.runs);
  const n24h = timed(() => series(nodeRefs, start, end), o.runs);
  const ev = timed(() => q.events({ from: hourAgo(1), to: end, limit: 1000 }), o.runs);
  reader.close();

  const MB = 1024 * 1024, T = HISTORY_BENCH.targets;
  const ok = (v: number, target: number) => (v <= target ? 'ok' : 'OVER');
  const q2 = (name: string, r: { ms: number; cpuMs: number }, target?: number) =>
    [name, `${fixed(r.ms, 1)} ms`, `${fixed(r.cpuMs, 1)} ms`, target ? `${target} ms` : '', target ? ok(r.ms, target) : ''];
  console.log('');
  const load = os.loadavg()[0];
  console.log(table(['figure', 'value', 'cpu', 'target', ''], [
    ['rows written (10 s tier)', int(rowsWritten), '', '', ''],
    ['write time', `${fixed(writeSec, 1)} s`, `${fixed(writeCpuSec, 1)} s`, '', ''],
    ['write rate', `${int(rowsWritten / writeSec)} rows/s`, '', '', ''],
    ['flush (1000 rows, one transaction) median', `${fixed(median(flushTimes), 2)} ms`, '', '', ''],
    ['flush p99', `${fixed([...flushTimes].sort((a, b) => a - b)[Math.floor(flushTimes.length * 0.99)], 2)} ms`, '', '', ''],
    ['database size (file + WAL while open)', `${fixed(liveBytes / MB, 1)} MB`, '', '', ''],
    ['database size (closed)', `${fixed(fileBytes / MB, 1)} MB`, '', `${T.databaseBytes / MB} MB`, ok(fileBytes, T.databaseBytes)],
    ['bytes per 10 s row (all tiers, indexes)', fixed(fileBytes / rowsWritten, 1), '', '', ''],
    null,
    q2(`range 1 h, last hour (${rangeLast.result.edges.length} edges)`, rangeLast, T.queryMs),
    q2('range 1 h, 12 h ago, ragged ends', rangeMid, T.queryMs),
    q2(`at= random time (${atQ.result.edges.length} edges)`, atQ, T.queryMs),
    q2(`series, 1 edge, 1 h (${s1h.result.points.length} points)`, s1h),
    q2(`series, 1 edge, 24 h (${s24h.result.points.length} points)`, s24h),
    q2(`series, 1 node (${nodeRefs.length} edges), 24 h`, n24h),
    q2(`events, 1 h (${ev.result!.events.length})`, ev),
  ]));
  console.log(`\nqueries: median of ${o.runs} runs each; ${os.cpus().length} cores, Node ${process.version}; load average ${fixed(load, 1)} when the queries ran`);
  if (load > os.cpus().length) console.log('note: the machine was busy; wall times include waiting for a CPU, the cpu column does not');
  if (o.keep) console.log(`database kept: ${file}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

await main();
