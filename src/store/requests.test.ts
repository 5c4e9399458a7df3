// Requests (L7) in the history store: a real SQLite file, a real LiveGraph fed
// synthetic connections and per-socket request deltas, a fake clock. Counts and
// histogram buckets must come back exactly, through roll-ups and range reads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LiveGraph } from '../graph/live-graph.js';
import { HistoryStore } from './history-store.js';
import { parseRetention } from './retention.js';
import { SCHEMA_VERSION } from './schema.js';
import { quantileUs } from '../graph/latency.js';
import type { L7Delta } from '../l7/types.js';
import { nonzeroOf } from '../events/decode.js';
import { identity, connection, web, db, WEB_DB, databaseAtVersion } from './testing.js';

const S = 1000, M = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-store-req-'));
  dirs.push(dir);
  return path.join(dir, 'history.db');
}

function delta(cookie: number, status: number[], buckets: number[], latencySumNs: number, protocol: L7Delta['protocol'] = 'http1', latencyMaxUs = 0): L7Delta {
  return { cookie, pid: 1, protocol, role: 'client', roleInferred: false, tls: false, closed: false, requests: Uint32Array.from(status), buckets: Uint32Array.from(buckets), latencySumNs, latencyMaxUs, unpaired: 0, nonzero: nonzeroOf(status, buckets) };
}

/** 8 classes: `ok2xx` 2xx, `e5xx` 5xx; `fast` in bucket 9, `slow` in bucket 18. */
function mix(ok2xx: number, e5xx: number, fast: number, slow: number): { status: number[]; buckets: number[]; sum: number } {
  const status = [0, 0, ok2xx, 0, 0, e5xx, 0, 0], buckets = new Array(24).fill(0);
  buckets[9] = fast; buckets[18] = slow;
  return { status, buckets, sum: fast * 700e3 + slow * 400e6 };
}

/** A store on a new file, fed by a live graph holding one web -> db connection opened at T0 + 1 s. */
function webToDb() {
  const file = tempFile();
  const clock = { now: T0 };
  const graph = new LiveGraph(identity, { idleMs: 10 * M });
  const store = new HistoryStore({ file, tiers: parseRetention('10s:1h,1m:1d'), clock: () => clock.now, warn: (m) => assert.fail(m) });
  store.attach(graph);
  const c = connection(web, db, T0 + S);
  graph.ingest(c.open, T0 + S);
  return { file, clock, graph, store, c };
}

test('requests are stored per edge and protocol, rolled up and read back exactly (counts, classes, histogram buckets)', () => {
  const { clock, graph, store, c } = webToDb();
  // Five 10 s buckets with known mixes; the flush after each writes it.
  const mixes = [mix(90, 10, 97, 3), mix(50, 0, 50, 0), mix(0, 20, 10, 10), mix(100, 0, 99, 1), mix(30, 5, 35, 0)];
  mixes.forEach((m, i) => {
    const t = T0 + i * 10 * S + 2 * S;
    clock.now = t;
    graph.requests([delta(c.cookies.client, m.status, m.buckets, m.sum)], t);
    clock.now = T0 + (i + 1) * 10 * S + 5;
    graph.tick(clock.now);
    store.flush(clock.now);
  });
  // ... and up to past the minute, so the first minute is rolled up
  for (let t = T0 + 60 * S + 5; t <= T0 + 80 * S + 5; t += 10 * S) { clock.now = t; graph.tick(t); store.flush(t); }

  const q = store.queries;
  const at = q.graphAt(T0 + 25 * S, 60 * S);
  const e2 = at.edges.find((e) => e.id === WEB_DB)!.requests![0];
  assert.equal(e2.count, 20);
  assert.equal(e2.errors, 20);
  assert.equal(e2.latency.samples, 20);
  assert.equal(e2.rates['10s'].requests, 2);

  // One minute from the rolled-up tier, and the same minute from the fine tier: the same exact sums.
  const sumStatus = mixes.reduce((a, m) => a.map((v, k) => v + m.status[k]), new Array(8).fill(0));
  const sumBuckets = mixes.reduce((a, m) => a.map((v, k) => v + m.buckets[k]), new Array(24).fill(0));
  const range = q.graphRange(T0, T0 + M).edges.find((e) => e.id === WEB_DB)!.requests![0];
  assert.equal(range.count, sumStatus.reduce((a, b) => a + b, 0));
  assert.deepEqual(Object.values(range.status), sumStatus);
  assert.equal(range.errors, 35);
  assert.equal(range.latency.p95Ms, Math.round(quantileUs(sumBuckets, 0.95) / 10) / 100, 'p95 of the summed histogram');
  assert.equal(range.latency.meanMs, Math.round(mixes.reduce((a, m) => a + m.sum, 0) / 1000 / range.count / 10) / 100);
  const coarse = q.timeseries(q.seriesEdges({ edge: WEB_DB })!, 'requests', { tier: 1, step: M, from: T0, to: T0 + M });
  assert.deepEqual(coarse.points, [{ t: T0, v: range.count }], 'the 1 m tier holds the same sum');
  const p95 = q.timeseries(q.seriesEdges({ edge: WEB_DB })!, 'request_p95', { tier: 1, step: M, from: T0, to: T0 + M });
  assert.equal(p95.points[0].v, range.latency.p95Ms);

  const fine = q.timeseries(q.seriesEdges({ edge: WEB_DB })!, 'requests', q.seriesGrid(T0, T0 + M, 10 * S, 1000));
  assert.deepEqual(fine.points.map((p) => p.v), [...mixes.map((m) => m.status.reduce((a, b) => a + b, 0)), 0]);
  const errs = q.timeseries(q.seriesEdges({ edge: WEB_DB })!, 'request_errors', q.seriesGrid(T0, T0 + M, 10 * S, 1000));
  assert.deepEqual(errs.points.map((p) => p.v), [10, 0, 20, 0, 5, 0]);
  const none = q.timeseries(q.seriesEdges({ edge: WEB_DB })!, 'request_p99', q.seriesGrid(T0, T0 + M, 10 * S, 1000));
  assert.equal(none.points.at(-1)!.v, null, 'no latency where there were no requests');
  // A node's request series are its inbound requests: db has them, web (the client) has none.
  assert.equal(q.timeseries(q.seriesEdges({ node: 'svc:shop/db', inbound: true })!, 'requests', { tier: 1, step: M, from: T0, to: T0 + M }).points[0].v, range.count);
  assert.deepEqual(q.seriesEdges({ node: 'svc:shop/web', inbound: true }), []);
  store.close();
});

test('a version 1 history file is migrated: its connection history stays, requests are recorded from now on', () => {
  const file = tempFile();
  const raw = databaseAtVersion(file, 1);
  raw.prepare('INSERT INTO samples VALUES (10, ?, 1, 3, 3, 0, 10, 20, 0, 0, 0, 0, 0)').run(T0 / 1000);
  raw.close();
  const clock = { now: T0 };
  const store = new HistoryStore({ file, tiers: parseRetention('10s:1h,1m:1d'), clock: () => clock.now, warn: (m) => assert.fail(m) });
  store.close();
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(check.prepare("SELECT name FROM sqlite_master WHERE name = 'requests'").get());
  assert.deepEqual(check.prepare('SELECT opened, bytes_sent FROM samples').all(), [{ opened: 3, bytes_sent: 10 }]);
  check.close();
});

test('the bound on the slowest request is kept as a maximum: stored, rolled up and read back, so p99 of 302 ms requests is not read past them', () => {
  const { file, clock, graph, store, c } = webToDb();
  // 16 requests of 301.5-302.5 ms per 10 s (bucket 18: [262, 524) ms); the socket's maximum so far goes with each reading.
  const maxes = [302_100, 302_500, 302_300];
  maxes.forEach((_, i) => {
    const t = T0 + i * 10 * S + 2 * S;
    clock.now = t;
    const buckets = new Array(24).fill(0);
    buckets[18] = 16;
    graph.requests([delta(c.cookies.client, [0, 0, 16, 0, 0, 0, 0, 0], buckets, 16 * 302_000_000, 'http1', Math.max(...maxes.slice(0, i + 1)))], t);
    clock.now = T0 + (i + 1) * 10 * S + 5;
    graph.tick(clock.now);
    store.flush(clock.now);
  });
  const live = graph.snapshot({}, clock.now).edges.find((e) => e.id === WEB_DB)!.requests![0];
  assert.ok(live.latency.p99Ms <= 302.5 && live.latency.p50Ms >= 301, `live ${JSON.stringify(live.latency)}`);
  for (let t = T0 + 40 * S + 5; t <= T0 + 80 * S + 5; t += 10 * S) { clock.now = t; graph.tick(t); store.flush(t); }
  const q = store.queries;
  const first = q.graphAt(T0 + 5 * S, 10 * S).edges.find((e) => e.id === WEB_DB)!.requests![0];
  assert.ok(first.latency.p99Ms <= 302.1, `first bucket ${JSON.stringify(first.latency)}`);
  const range = q.graphRange(T0, T0 + M).edges.find((e) => e.id === WEB_DB)!.requests![0];
  assert.equal(range.count, 48);
  assert.ok(range.latency.p99Ms <= 302.5 && range.latency.p95Ms >= 301, `range ${JSON.stringify(range.latency)}`);
  const p99 = q.timeseries(q.seriesEdges({ edge: WEB_DB })!, 'request_p99', { tier: 1, step: M, from: T0, to: T0 + M });
  assert.ok(p99.points[0].v! <= 302.5, `1 m tier p99 ${p99.points[0].v}`);
  store.close();
  const raw = new Database(file, { readonly: true });
  assert.deepEqual(raw.prepare('SELECT res, max(lat_max_us) AS m FROM requests GROUP BY res ORDER BY res').all(), [{ res: 10, m: 302_500 }, { res: 60, m: 302_500 }], 'the roll-up keeps the maximum');
  raw.close();
});

test('a version 4 history file gains the latency bound column: its request rows stay and read with no bound', () => {
  const file = tempFile();
  const raw = databaseAtVersion(file, 4);
  const cols = 5 + 8 + 2 + 24; // res, t, edge, proto, flags; status; unpaired, lat_us; buckets
  const row = new Array(cols).fill(0);
  row[0] = 10; row[1] = T0 / 1000; row[2] = 1; row[3] = 1; row[5 + 2] = 3; row[14] = 3 * 302_000; row[15 + 18] = 3;
  raw.prepare(`INSERT INTO requests VALUES (${row.map(() => '?').join(', ')})`).run(...row);
  raw.close();
  const store = new HistoryStore({ file, tiers: parseRetention('10s:1h,1m:1d'), clock: () => T0, warn: (m) => assert.fail(m) });
  store.close();
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(check.prepare('SELECT s2, lat_us, b18, lat_max_us FROM requests').all(), [{ s2: 3, lat_us: 906_000, b18: 3, lat_max_us: 0 }]);
  check.close();
});
