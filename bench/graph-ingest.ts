// The agent's user-space cost per connection, without the kernel: ring buffer
// batches as a connection-per-request load on loopback produces them (listen,
// then per connection: connect, established at both ends, close at both ends)
// decoded and fed to the live graph with the real identity resolver (Docker
// off; the connections belong to this process, so its /proc is read for real).
// Prints CPU microseconds per connection (process CPU time, robust to a busy
// machine) and the garbage collector's share of the wall time. A third line adds
// request capture as the agent gets it: each client socket's close carries its
// counts (one HTTP request) in a second slot of its record (struct dh_event_l7).
// With a pause, each batch waits that long after the one before, as the agent's
// do (DEFAULTS.drainDelayMs): batches then start with cold caches, which cost
// 30-40% more per connection here (2026-12-03), so the default (no pause)
// understates the agent (but runs much faster).
// Run: node [node flags] dist/bench/graph-ingest.js [connections] [connections per batch] [pause ms]
// (it runs again under the launcher's V8 flags, as the agent does, when they are not given)
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { decodeBatch, clockFrom } from '../src/events/decode.js';
import type { ConnEvent } from '../src/events/types.js';
import { CONN, EVENT, EVENT_SIZE, EventKind, Side, ConnFlag, TcpState } from '../src/events/layout.js';
import { LiveGraph } from '../src/graph/live-graph.js';
import { IdentityResolver } from '../src/identity/resolver.js';
import { cgroup2Root, cgroupIdOf } from '../src/identity/cgroups.js';
import { fixed, median } from './lib/report.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { L7_COUNTS, L7Proto } from '../src/events/l7-layout.js';
import { launcherFlags } from '../src/config/launcher.js';

const missing = launcherFlags().filter((f) => !process.execArgv.includes(f));
if (missing.length) {
  const r = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const connections = Number(process.argv[2] ?? 200_000);
const perBatch = Number(process.argv[3] ?? 300);
const pauseMs = Number(process.argv[4] ?? 0);
for (const [name, v, min, raw] of [['connections', connections, 1, process.argv[2]], ['connections per batch', perBatch, 1, process.argv[3]], ['pause ms', pauseMs, 0, process.argv[4]]] as const) {
  if (!Number.isInteger(v) || v < min) {
    console.error(`graph-ingest: ${name} must be a whole number of at least ${min}, got "${raw}"; usage: graph-ingest.js [connections] [connections per batch] [pause ms]`);
    process.exit(2);
  }
}
const SERVER_PORT = 8080;
const pid = process.pid;
const cgroupId = cgroupIdOf(pid, cgroup2Root());
const bootNs = 3_600e9;
let clock = clockFrom(bootNs);

function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v % 4294967296, off);
  buf.writeUInt32LE(Math.floor(v / 4294967296), off + 4);
}

interface Rec { kind: number; ts: number; cookie: number; side: number; sport: number; dport: number; pid: number; comm: string; flags: number; start: number; end: number; sent: number; received: number; oldState: number }

function put(buf: Buffer, i: number, r: Rec): void {
  const off = i * EVENT_SIZE, c = off + EVENT.conn;
  buf.fill(0, off, off + EVENT_SIZE);
  writeU64(buf, off + EVENT.ts_ns, r.ts);
  writeU64(buf, off + EVENT.cookie, r.cookie);
  buf[off + EVENT.kind] = r.kind;
  buf[off + EVENT.old_state] = r.oldState;
  buf.writeUInt16LE(2, c + CONN.family);
  buf.set([127, 0, 0, 1], c + CONN.saddr);
  buf.set([127, 0, 0, 1], c + CONN.daddr);
  buf.writeUInt16LE(r.sport, c + CONN.sport);
  buf.writeUInt16LE(r.dport, c + CONN.dport);
  buf.writeUInt32LE(r.pid, c + CONN.pid);
  buf.write(r.comm, c + CONN.comm, 'latin1');
  writeU64(buf, c + CONN.cgroup_id, cgroupId);
  buf.writeUInt32LE(4026531840, c + CONN.netns);
  buf[c + CONN.side] = r.side;
  buf[c + CONN.flags] = r.flags;
  writeU64(buf, c + CONN.start_ns, r.start);
  writeU64(buf, c + CONN.end_ns, r.end);
  writeU64(buf, c + CONN.bytes_sent, r.sent);
  writeU64(buf, c + CONN.bytes_received, r.received);
  buf.writeUInt32LE(40, c + CONN.srtt_us);
}

/** The counts of one HTTP request (2xx, 100-200 us) in the slot after a close, which says so (struct dh_event_l7). */
function putCounts(buf: Buffer, close: number): void {
  buf[close * EVENT_SIZE + EVENT.l7_proto] = L7Proto.HTTP1;
  buf[close * EVENT_SIZE + EVENT.l7_side] = Side.CLIENT;
  const off = (close + 1) * EVENT_SIZE;
  buf.fill(0, off, off + EVENT_SIZE);
  buf.writeUInt32LE(1, off + L7_COUNTS.requests + 2 * 4);
  buf.writeUInt32LE(1, off + L7_COUNTS.buckets + 7 * 4);
  writeU64(buf, off + L7_COUNTS.latency_sum_ns, 150_000);
}

/** One batch of `n` connections starting at connection `first`, 5 records each; with `requests`, the client's close carries its counts. */
function batch(first: number, n: number, requests: boolean): Buffer {
  const buf = Buffer.alloc(n * (requests ? 6 : 5) * EVENT_SIZE);
  let k = 0;
  for (let j = 0; j < n; j++) {
    const i = first + j, t = bootNs + i * 60_000, cport = 32768 + (i % 28000), cc = 2 * i + 1000, sc = 2 * i + 1001;
    const base = { pid, comm: 'wrk', start: t, end: 0, sent: 0, received: 0 };
    put(buf, k++, { ...base, kind: EventKind.CONNECT, ts: t, cookie: cc, side: Side.CLIENT, sport: 0, dport: SERVER_PORT, flags: 0, oldState: TcpState.CLOSE });
    put(buf, k++, { ...base, kind: EventKind.ESTABLISHED, ts: t + 20_000, cookie: cc, side: Side.CLIENT, sport: cport, dport: SERVER_PORT, flags: ConnFlag.ESTABLISHED, oldState: TcpState.SYN_SENT });
    put(buf, k++, { ...base, kind: EventKind.ESTABLISHED, ts: t + 30_000, cookie: sc, side: Side.SERVER, sport: SERVER_PORT, dport: cport, pid: 0, comm: '', start: t + 10_000, flags: ConnFlag.ESTABLISHED, oldState: TcpState.SYN_RECV });
    put(buf, k, { ...base, kind: EventKind.CLOSE, ts: t + 50_000, cookie: cc, side: Side.CLIENT, sport: cport, dport: SERVER_PORT, flags: ConnFlag.ESTABLISHED, end: t + 45_000, sent: 80, received: 200, oldState: TcpState.FIN_WAIT2 });
    if (requests) putCounts(buf, k++);
    k++;
    put(buf, k++, { ...base, kind: EventKind.CLOSE, ts: t + 55_000, cookie: sc, side: Side.SERVER, sport: SERVER_PORT, dport: cport, comm: 'nginx', start: t + 10_000, flags: ConnFlag.ESTABLISHED, end: t + 50_000, sent: 200, received: 80, oldState: TcpState.LAST_ACK });
  }
  return buf;
}

let gcMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });

const batches: Buffer[] = [], withCounts: Buffer[] = [];
for (let i = 0; i < connections; i += perBatch) {
  batches.push(batch(i, Math.min(perBatch, connections - i), false));
  withCounts.push(batch(i, Math.min(perBatch, connections - i), true));
}
const identity = new IdentityResolver({ docker: false });
await identity.start();

async function run(withGraph: boolean, withRequests = false): Promise<{ us: number; gcShare: number }> {
  clock = clockFrom(bootNs); // each run starts now
  const graph = new LiveGraph(identity);
  const listen = Buffer.alloc(EVENT_SIZE);
  put(listen, 0, { kind: EventKind.LISTEN, ts: bootNs, cookie: 1, side: Side.SERVER, sport: SERVER_PORT, dport: 0, pid, comm: 'nginx', flags: 0, start: 0, end: 0, sent: 0, received: 0, oldState: TcpState.CLOSE });
  graph.ingest(decodeBatch(listen, 1, clock).events);
  gcMs = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const pool: ConnEvent[] = []; // as the engine does: event objects reused from batch to batch
  if (!withRequests) graph.requestsOff();
  for (let k = 0; k < batches.length; k++) {
    const b = (withRequests ? withCounts : batches)[k];
    const { events } = decodeBatch(b, b.length / EVENT_SIZE, clock, pool, undefined, true); // as the agent's engine decodes (foldHandshakes)
    // The agent drains the ring buffer DEFAULTS.drainDelayMs after the first record of a burst.
    const now = events[events.length - 1].time + DEFAULTS.drainDelayMs;
    if (withGraph) { graph.ingest(events, now); graph.tick(now); }
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs)); // sleeping costs no CPU time
  }
  const wall = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  const ms = (cu.user + cu.system) / 1000; // CPU time, not wall time: robust to other work on the machine
  await new Promise((r) => setTimeout(r, 50)); // GC entries are delivered asynchronously
  if (withGraph) {
    const e = graph.snapshot().edges.find((x) => x.port === SERVER_PORT);
    if (!e || e.connections.opened !== connections) throw new Error(`graph-ingest: expected ${connections} connections on the edge, got ${e?.connections.opened}`);
    const requests = graph.requestCounters.requests;
    if (withRequests && requests !== connections) throw new Error(`graph-ingest: expected ${connections} requests on the map, got ${requests}`);
  }
  return { us: (ms * 1000) / connections, gcShare: gcMs / wall };
}

const rounds = 5;
const decodeOnly: number[] = [], full: number[] = [], gc: number[] = [], l7: number[] = [], l7gc: number[] = [];
await run(true); // warm-up: JIT, caches
await run(true, true);
for (let r = 0; r < rounds; r++) {
  decodeOnly.push((await run(false)).us);
  const f = await run(true);
  full.push(f.us);
  gc.push(f.gcShare);
  const q = await run(true, true);
  l7.push(q.us);
  l7gc.push(q.gcShare);
}
identity.stop();
console.log(`${connections} connections (5 records each) in batches of ${perBatch}${pauseMs ? `, ${pauseMs} ms apart` : ''}; median of ${rounds}:`);
console.log(`  decode only:          ${fixed(median(decodeOnly), 2)} us per connection`);
console.log(`  decode + live graph:  ${fixed(median(full), 2)} us per connection (${fixed(median(full) * 10, 0)} ms per 10k), garbage collection ${fixed(median(gc) * 100, 0)}% of it`);
console.log(`  + requests (L7):      ${fixed(median(l7), 2)} us per connection (${fixed(median(l7) * 10, 0)} ms per 10k), garbage collection ${fixed(median(l7gc) * 100, 0)}% of it`);
