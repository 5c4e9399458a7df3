// The history store with a real SQLite file and a real LiveGraph fed synthetic
// connection events (stand-in identity, no kernel); time is driven by a fake clock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { LiveGraph } from '../graph/live-graph.js';
import { HistoryStore } from './history-store.js';
import { parseRetention } from './retention.js';
import { SCHEMA_VERSION } from './schema.js';
import { planRange } from './plan.js';
import { DNS_DEFAULTS } from '../config/defaults.js';
import type { DnsHealth } from '../dns/types.js';
import type { EventLimits } from './events.js';
import { eventsStatement, type Metric } from './queries.js';
import { closeDatabase, type Db } from './database.js';
import { identity, connection, refused, web, db, cache, WEB, WEB_DB, WEB_CACHE, databaseAtVersion } from './testing.js';
import type { ConnEvent } from '../events/types.js';

const S = 1000, M = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-store-'));
  dirs.push(dir);
  return path.join(dir, 'history.db');
}

/** An agent's worth: a live graph and a store on `file`, sharing one fake clock. */
function agent(file: string, clock: { now: number }, o: { retention?: string; limits?: EventLimits; identityEvents?: EventEmitter } = {}) {
  const graph = new LiveGraph(identity, { idleMs: 30 * S });
  const store = new HistoryStore({ file, tiers: parseRetention(o.retention ?? '10s:1h,1m:1d'), clock: () => clock.now, limits: o.limits, warn: (m) => assert.fail(m), mapIdleMs: 30 * S });
  store.attach(graph, o.identityEvents);
  return {
    graph, store,
    ingest(events: ConnEvent[], t: number) { clock.now = Math.max(clock.now, t); graph.ingest(events, t); },
    /** Flushes at every 10 s boundary (+5 ms, like the timer) up to `t`. */
    runTo(t: number) {
      let next = Math.floor(clock.now / (10 * S)) * 10 * S + 10 * S + 5;
      while (next <= t) { clock.now = next; graph.tick(next); store.flush(next); next += 10 * S; }
      clock.now = Math.max(clock.now, t);
    },
  };
}

/** A series, checked to come out the same whether read by seeks or by a scan. */
function series(store: HistoryStore, edges: number[], metric: Metric, from: number, to: number, step?: number) {
  const grid = store.queries.seriesGrid(from, to, step, 1000);
  const seek = store.queries.timeseries(edges, metric, grid, 'seek');
  assert.deepEqual(store.queries.timeseries(edges, metric, grid, 'scan'), seek);
  return seek;
}

function conn(a: ReturnType<typeof agent>, client: typeof web, server: typeof db, t: number, o: { sent?: number; received?: number; rttUs?: number; durMs?: number } = {}) {
  const c = connection(client, server, t, o);
  a.ingest(c.open, t);
  a.ingest(c.close, t + (o.durMs ?? 50));
}

test('history survives a restart: the same file reopened still serves the earlier numbers', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock);
  conn(a, web, db, T0 + 1 * S, { sent: 1000, received: 100, rttUs: 100 });
  conn(a, web, db, T0 + 2 * S, { sent: 2000, received: 200, rttUs: 300 });
  a.runTo(T0 + 10 * S + 5);
  a.store.close();

  const b = agent(file, clock); // a new agent process: empty live graph, same file
  clock.now = T0 + 30 * S;
  conn(b, web, db, T0 + 31 * S, { sent: 4000, received: 400 });
  b.runTo(T0 + 40 * S + 5);
  const early = b.store.queries.graphRange(T0, T0 + 10 * S);
  const e = early.edges.find((x) => x.id === WEB_DB);
  assert.ok(e, 'the edge from before the restart');
  assert.equal(e.connections.opened, 2);
  assert.equal(e.connections.closed, 2);
  assert.deepEqual(e.bytes, { sent: 3000, received: 300 });
  assert.equal(e.rtt.samples, 2);
  assert.equal(e.rtt.meanUs, 200);
  assert.equal(e.duration.meanMs, 50);
  assert.deepEqual(early.nodes.map((n) => n.id), ['svc:shop/db', 'svc:shop/web']);
  const webNode = early.nodes.find((n) => n.id === 'svc:shop/web')!;
  assert.equal(webNode.group, 'shop');
  assert.equal(webNode.kind, 'service');
  assert.equal(webNode.image, 'web:1');
  const all = b.store.queries.graphRange(T0, T0 + 60 * S).edges.find((x) => x.id === WEB_DB)!;
  assert.equal(all.connections.opened, 3, 'before and after the restart add up');
  assert.equal(all.bytes.sent, 7000);
  const types = b.store.queries.events({ from: T0, to: T0 + M, limit: 100 })!.events.map((x) => x.type);
  assert.deepEqual(types.filter((t) => t.startsWith('agent_')), ['agent_started', 'agent_stopped', 'agent_started']);
  // Seen 20 s before the restart, within the map's idle time (30 s here): found again, not "appeared" (review F: every
  // restart wrote an appearance for everything known).
  assert.deepEqual(types.filter((t) => t.endsWith('_appeared')).sort(), ['edge_appeared', 'node_appeared', 'node_appeared'], 'one appearance each, before the restart');
  b.store.close();
});

test('a range\'s rates are over the time the agent was recording: not diluted by time before history began or while it was stopped', () => {
  const file = tempFile();
  const clock = { now: T0 + 5 * M }; // a new install: nothing recorded in the window's first 5 minutes
  const a = agent(file, clock);
  for (let t = T0 + 5 * M; t < T0 + 7 * M; t += 10 * S) conn(a, web, db, t + S);
  a.runTo(T0 + 7 * M + 5);
  a.store.close(); // stopped 2 minutes
  clock.now = T0 + 9 * M;
  const b = agent(file, clock);
  for (let t = T0 + 9 * M; t < T0 + 10 * M; t += 10 * S) conn(b, web, db, t + S);
  b.runTo(T0 + 10 * M + 5);
  const g = b.store.queries.graphRange(T0, T0 + 10 * M);
  const e = g.edges.find((x) => x.id === WEB_DB)!;
  assert.equal(e.connections.opened, 18);
  assert.equal(g.recordedMs, 3 * M + 5, 'recorded: 5:00-7:00 (to its last flush) and 9:00-10:00');
  assert.equal(e.rates['1m'].connections, 0.1, '18 connections in 3 minutes recorded (not 0.03: 18 in the 10-minute window)');
  // A range that runs past now, the agent still running: recorded until now, not to the range's end.
  assert.equal(b.store.queries.graphRange(T0, T0 + 20 * M).recordedMs, 3 * M + 10, '5:00-7:00 and 9:00 to now (10:00.010), not to 20:00');
  // A series reads null where nothing was recorded (before the install, while stopped), not 0, which reads as an outage.
  const ref = b.store.queries.seriesEdges({ edge: WEB_DB })!;
  for (const metric of ['connections', 'requests'] as const) {
    const pts = series(b.store, ref, metric, T0 + 4 * M, T0 + 10 * M, M).points;
    // 4:00 before the install; 5:00-7:00:05 recorded (this test's loop flushes its 12 at once, in 6:00); 7:00 recorded
    // for 5 ms only, and 8:00 stopped: no measurement
    assert.deepEqual(pts.map((p) => p.v === null ? null : metric === 'connections' ? p.v : 0), [null, 0, 12, null, null, 6].map((v) => (v === null ? null : metric === 'connections' ? v : 0)), metric);
  }
  b.store.close();
});

test('at= shows an edge that existed then and vanished later, and not one that came later', () => {
  const clock = { now: T0 };
  const a = agent(tempFile(), clock);
  conn(a, web, db, T0 + 1 * S, { sent: 1000 });
  a.runTo(T0 + 20 * S + 5);
  const held = connection(web, cache, T0 + 22 * S);
  a.ingest(held.open, T0 + 22 * S); // stays open
  a.runTo(T0 + 120 * S + 5); // web->db goes idle for 30 s and leaves the live map
  assert.equal(a.graph.snapshot({}, clock.now).edges.some((e) => e.id === WEB_DB), false, 'gone from the live map');

  const then = a.store.queries.graphAt(T0 + 5 * S, 60 * S);
  assert.deepEqual(then.edges.map((e) => e.id), [WEB_DB]);
  assert.equal(then.edges[0].connections.opened, 1);
  assert.equal(then.edges[0].bytes.sent, 1000);
  assert.equal(then.resolutionMs, 10 * S);
  const later = a.store.queries.graphAt(T0 + 115 * S, 60 * S);
  assert.deepEqual(later.edges.map((e) => e.id), [WEB_CACHE]);
  assert.equal(later.edges[0].connections.active, 1, 'open at the end of that bucket');
  assert.equal(later.nodes.find((n) => n.id === 'svc:shop/web')!.active, 1);
  // Seen within the window before `at` (but not in its bucket): listed with zero numbers.
  const wide = a.store.queries.graphAt(T0 + 115 * S, 120 * S);
  const old = wide.edges.find((e) => e.id === WEB_DB)!;
  assert.equal(old.connections.opened, 0);
  assert.equal(old.lastSeen, T0 + 1 * S + 50, 'its last connection\'s close, not the end of its last bucket');

  const events = a.store.queries.events({ from: T0, to: clock.now, limit: 100 })!.events;
  const vanished = events.find((x) => x.type === 'edge_vanished');
  assert.equal(vanished?.edge, WEB_DB);
  assert.ok(vanished.time > T0 + 30 * S && vanished.time < T0 + 60 * S, `vanished at ${vanished.time - T0}`);
  assert.deepEqual(events.filter((x) => x.type === 'edge_appeared').map((x) => x.edge), [WEB_DB, WEB_CACHE]);

  // It comes back: a new life of the edge, counted from zero again, and the range adds both lives.
  conn(a, web, db, T0 + 131 * S, { sent: 500 });
  a.runTo(T0 + 140 * S + 5);
  const both = a.store.queries.graphRange(T0, T0 + 140 * S).edges.find((e) => e.id === WEB_DB)!;
  assert.equal(both.connections.opened, 2);
  assert.equal(both.bytes.sent, 1500);
  const again = a.store.queries.events({ from: T0, to: clock.now, limit: 100 })!.events.filter((x) => x.type === 'edge_appeared').map((x) => x.edge);
  assert.deepEqual(again, [WEB_DB, WEB_CACHE, WEB_DB], 'back after it had left the map: an appearance');
  a.store.close();
});

for (const retention of ['10s:1h,1m:1d', '10s:1h,1m:1d,3m:1d']) test(`a range sums exactly across tiers (10 s ends, 1 m middle), and series per bucket and per minute (${retention})`, () => {
  const clock = { now: T0 };
  const a = agent(tempFile(), clock, { retention });
  const perBucket: { opened: number; sent: number; failed: number }[] = [];
  for (let k = 0; k < 18; k++) {
    const t = T0 + k * 10 * S + 1 * S;
    const n = (k % 3) + 1;
    for (let i = 0; i < n; i++) conn(a, web, db, t + i, { sent: 100 * (k + 1), received: 10 });
    conn(a, web, cache, t, { sent: 7 });
    let failed = 0;
    if (k % 5 === 0) { a.ingest(refused(web, db, t + 500), t + 500); failed = 1; }
    perBucket.push({ opened: n, sent: n * 100 * (k + 1), failed });
    a.runTo(T0 + (k + 1) * 10 * S + 5);
  }
  a.runTo(T0 + 200 * S + 5);
  const sum = (from: number, to: number, f: (b: (typeof perBucket)[number]) => number) => perBucket.slice(from, to).reduce((s, b) => s + f(b), 0);

  // [25 s, 155 s) widens to buckets 2..15: 10 s for [20, 60), 1 m for [60, 120), 10 s for [120, 160).
  const g = a.store.queries.graphRange(T0 + 25 * S, T0 + 155 * S);
  const e = g.edges.find((x) => x.id === WEB_DB)!;
  assert.equal(e.connections.opened, sum(2, 16, (b) => b.opened));
  assert.equal(e.bytes.sent, sum(2, 16, (b) => b.sent));
  assert.equal(e.bytes.received, sum(2, 16, (b) => b.opened * 10));
  assert.equal(e.connections.failed, sum(2, 16, (b) => b.failed));
  assert.equal(e.connections.failedBy.refused, sum(2, 16, (b) => b.failed));
  assert.equal(e.connections.active, 0);
  assert.equal(g.edges.find((x) => x.id === WEB_CACHE)!.connections.opened, 14);
  const whole = a.store.queries.graphRange(T0, T0 + 180 * S).edges.find((x) => x.id === WEB_DB)!;
  assert.equal(whole.connections.opened, sum(0, 18, (b) => b.opened));
  assert.equal(whole.bytes.sent, sum(0, 18, (b) => b.sent));

  const edges = a.store.queries.seriesEdges({ edge: WEB_DB })!;
  const s10 = series(a.store, edges, 'connections', T0, T0 + 180 * S, 10 * S);
  assert.equal(s10.step, 10 * S);
  assert.deepEqual(s10.points.map((p) => p.v), perBucket.map((b) => b.opened));
  assert.equal(s10.points[0].t, T0);
  const s1m = series(a.store, edges, 'bytes_sent', T0, T0 + 180 * S, M);
  assert.equal(s1m.step, M);
  assert.deepEqual(s1m.points.map((p) => p.v), [0, 1, 2].map((m) => sum(m * 6, m * 6 + 6, (b) => b.sent)));
  const s2m = series(a.store, edges, 'bytes_sent', T0, T0 + 180 * S, 2 * M);
  assert.equal(s2m.step, 2 * M, 'a 2 m step sums two 1 m buckets (the 3 m tier is coarser than asked)');
  assert.deepEqual(s2m.points.map((p) => p.v), [sum(0, 12, (b) => b.sent), sum(12, 18, (b) => b.sent)]);
  const rtt = series(a.store, edges, 'rtt_mean', T0 + 170 * S, T0 + 200 * S, 10 * S);
  assert.deepEqual(rtt.points.map((p) => p.v), [100, null, null], 'means are null where nothing was measured');
  // A node sums its edges: web is the client of both.
  const node = series(a.store, a.store.queries.seriesEdges({ node: 'svc:shop/web' })!, 'connections', T0, T0 + 180 * S, 10 * S);
  assert.deepEqual(node.points.map((p) => p.v), perBucket.map((b) => b.opened + 1));
  assert.equal(a.store.queries.seriesEdges({ edge: 'no|such|1|tcp' }), null);
  a.store.close();
});

test('retention deletes old rows; downsampled tiers keep the totals', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const retention = '10s:2m,1m:10m';
  const a = agent(file, clock, { retention });
  let opened = 0, sent = 0;
  for (let k = 0; k < 30; k++) { // 5 minutes of traffic
    const t = T0 + k * 10 * S + 1 * S;
    conn(a, web, db, t, { sent: 10 * (k + 1) });
    conn(a, web, db, t + 1, { sent: 1 });
    opened += 2; sent += 10 * (k + 1) + 1;
    a.runTo(T0 + (k + 1) * 10 * S + 5);
  }
  const fine = a.store.queries.graphRange(T0, T0 + 5 * M).edges[0];
  assert.deepEqual([fine.connections.opened, fine.bytes.sent], [opened, sent]);
  a.runTo(T0 + 8 * M + 5);
  const coarse = a.store.queries.graphRange(T0, T0 + 5 * M).edges[0];
  assert.deepEqual([coarse.connections.opened, coarse.bytes.sent], [opened, sent], 'served from the 1 m tier, same totals');
  a.store.close();

  const raw = new Database(file, { readonly: true });
  const rows = (res: number) => (raw.prepare('SELECT count(*) AS n FROM samples WHERE res = ?').get(res) as { n: number }).n;
  assert.equal(rows(10), 0, '10 s rows older than 2 minutes are gone');
  assert.equal(rows(60), 5, 'five 1 m rows');
  raw.close();

  const b = agent(file, clock, { retention });
  b.runTo(T0 + 18 * M + 5); // past the 10 m keep, and past the last event naming the edge (it vanished at ~5.5 m)
  assert.equal(b.store.queries.graphRange(T0, T0 + 5 * M).edges.length, 0, 'past 10 minutes nothing is left');
  assert.equal(b.store.queries.events({ from: T0, to: T0 + 5 * M, limit: 10 })!.events.length, 0, 'events age out with the longest tier');
  b.store.close();
  const raw2 = new Database(file, { readonly: true });
  assert.equal((raw2.prepare('SELECT count(*) AS n FROM edges').get() as { n: number }).n, 0, 'dimension rows nothing refers to are pruned');
  raw2.close();
});

test('an agent running longer than the longest keep still reads as recording; a time before it ran reads as not', () => {
  const file = tempFile();
  const clock = { now: T0 + 30 * M };
  const a = agent(file, clock, { retention: '10s:2m,1m:10m' });
  conn(a, web, db, T0 + 30 * M + 1 * S);
  a.runTo(T0 + 50 * M + 5); // its start event is now older than the 10 m keep
  const q = a.store.queries;
  assert.equal(q.graphRange(T0 + 45 * M, T0 + 47 * M).recordedMs, 2 * M, 'its start was kept: recording all along');
  const at = q.graphAt(T0 + 46 * M, 60 * S);
  assert.equal(at.recordedMs, at.resolutionMs, 'its whole bucket (1 m: the 10 s rows are gone)');
  assert.equal(q.graphAt(T0 + 10 * M, 60 * S).recordedMs, 0, 'before it first ran: nothing recorded');
  a.store.close();
});

test('failure samples and container changes go to the timeline, capped per flush with a count', () => {
  const clock = { now: T0 };
  const docker = new EventEmitter();
  const a = agent(tempFile(), clock, { limits: { failures: 2, requests: 5, topology: 200, container: 1 }, identityEvents: docker });
  for (let i = 0; i < 5; i++) a.ingest(refused(web, db, T0 + 1 * S + i), T0 + 1 * S + i);
  docker.emit('change', { type: 'start', container: { ...WEB, startedAt: T0 + 2 * S } });
  docker.emit('change', { type: 'update', container: WEB }); // not a timeline event
  docker.emit('change', { type: 'stop', container: { ...WEB, stoppedAt: T0 + 3 * S, exitCode: 0 } }); // over the cap of 1
  a.runTo(T0 + 10 * S + 5);
  const q = a.store.queries;
  const failures = q.events({ from: T0, to: T0 + M, limit: 100, types: ['failure'] })!.events;
  assert.equal(failures.length, 2);
  assert.equal(failures[0].edge, WEB_DB);
  assert.equal(failures[0].detail.reason, 'refused');
  assert.equal(failures[0].detail.clientPid, 5);
  const suppressed = q.events({ from: T0, to: T0 + M, limit: 100, types: ['suppressed'] })!.events;
  assert.deepEqual(suppressed.map((x) => x.detail), [{ failures: 3, topology: 0, container: 1, requests: 0 }]);
  const started = q.events({ from: T0, to: T0 + M, limit: 100, types: ['container_started'] })!.events;
  assert.equal(started.length, 1);
  assert.equal(started[0].node, 'svc:shop/web');
  assert.equal(started[0].time, T0 + 2 * S);
  assert.equal(started[0].detail.container, 'web-1');
  assert.equal(q.events({ from: T0, to: T0 + M, limit: 100, node: 'svc:shop/db' })!.events.filter((x) => x.type === 'failure').length, 2, 'node filter finds its edges\' events');
  assert.equal(q.events({ from: T0, to: T0 + M, limit: 1 })!.truncated, true);
  assert.equal(q.events({ from: T0, to: T0 + M, limit: 10, node: 'svc:nope' }), null);
  const e = q.graphRange(T0, T0 + 10 * S).edges[0];
  assert.deepEqual([e.connections.failed, e.connections.failedBy.refused, e.connections.opened], [5, 5, 0]);
  a.store.close();
});

test('an edge\'s events are found by seeking it (events_edge_t), and are the same ones a scan of every edge\'s finds', () => {
  const clock = { now: T0 };
  const file = tempFile();
  const a = agent(file, clock, { limits: { failures: 100, requests: 5, topology: 200, container: 10 } });
  for (let i = 0; i < 6; i++) a.ingest(refused(web, db, T0 + 1 * S + i), T0 + 1 * S + i);
  for (let i = 0; i < 4; i++) a.ingest(refused(web, cache, T0 + 2 * S + i), T0 + 2 * S + i);
  a.runTo(T0 + 20 * S + 5);
  const q = a.store.queries;
  const all = q.events({ from: T0, to: T0 + M, limit: 1000 })!.events;
  for (const newest of [false, true]) {
    const want = (ids: string[]) => (newest ? [...all].reverse() : all).filter((x) => x.edge !== null && ids.includes(x.edge));
    assert.deepEqual(q.events({ from: T0, to: T0 + M, limit: 1000, edge: WEB_DB, newest })!.events, want([WEB_DB]));
    assert.equal(want([WEB_DB]).length, 7, '6 failures and its appearance');
    const both = q.events({ from: T0, to: T0 + M, limit: 1000, edges: [WEB_CACHE, WEB_DB, WEB_DB, 'edge:nope'], newest })!.events;
    assert.deepEqual(both, want([WEB_DB, WEB_CACHE]), 'merged in time order, a repeated id once, an unknown one left out');
    assert.deepEqual(q.events({ from: T0, to: T0 + M, limit: 3, edges: [WEB_CACHE, WEB_DB], newest })!.events, want([WEB_DB, WEB_CACHE]).slice(0, 3));
  }
  assert.deepEqual(q.events({ from: T0, to: T0 + M, limit: 100, edge: WEB_DB, edges: [WEB_CACHE] })!.events, [], 'both filters: only events of both');
  assert.equal(q.events({ from: T0, to: T0 + M, limit: 100, edge: 'edge:nope' }), null);
  a.store.close();
  const raw = new Database(file, { readonly: true });
  const plan = raw.prepare(`EXPLAIN QUERY PLAN ${eventsStatement(raw as unknown as Db, 'ASC', true).source}`)
    .all({ from: T0, to: T0 + M, types: null, node: null, edges: '[1]', group: null, limit: 10 }) as { detail: string }[];
  assert.ok(plan.some((r) => /SEARCH e USING INDEX events_edge_t \(edge=\? AND t>\? AND t<\?\)/.test(r.detail)), plan.map((r) => r.detail).join(' | '));
  raw.close();
});

test('one agent per file; a file from a newer schema is refused', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock);
  const quiet = { file, clock: () => clock.now, warn: () => {} };
  const second = new HistoryStore(quiet);
  assert.equal(second.health().state, 'unavailable');
  assert.match(second.health().reason!, /in use by another process/);
  assert.throws(() => second.queries, /in use by another process/);
  second.close();
  a.store.close();
  const raw = new Database(file);
  assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'delete', 'at rest in rollback mode, so a read-only folder can still be read');
  raw.pragma('user_version = 99');
  raw.close();
  const newer = new HistoryStore(quiet);
  assert.equal(newer.health().state, 'unavailable');
  assert.match(newer.health().reason!, /schema version 99, newer/);
  newer.close();
  assert.throws(() => new HistoryStore({ file: tempFile(), flushIntervalMs: 3000 }), /must divide the finest resolution/);
});

test('after the retention changes, rows of a tier no longer configured age out with the longest keep', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock, { retention: '10s:1h,1m:1d' });
  conn(a, web, db, T0 + 1 * S, { sent: 100 });
  a.runTo(T0 + 3 * M + 5); // the first minutes are rolled into 1 m rows
  a.store.close();
  const b = agent(file, clock, { retention: '10s:1h' });
  b.runTo(T0 + 30 * M + 5);
  assert.equal(b.store.queries.graphRange(T0, T0 + M).edges.length, 1, 'still within the keep');
  b.runTo(T0 + 65 * M + 5);
  b.store.close();
  const raw = new Database(file, { readonly: true });
  assert.equal((raw.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n, 0, '1 m rows gone after an hour, like the 10 s ones');
  raw.close();
});

test('DNS in the history: a past map shows the names of its day and the resolver edge\'s health; DNS series; a version 1 file gains the names column', () => {
  const file = tempFile();
  // A file as the first release wrote it: the store migrates it on open.
  databaseAtVersion(file, 1).close();
  const clock = { now: T0 };
  const a = agent(file, clock);
  a.graph.setNames({ nameFor: (_ns, ip) => (ip === '203.0.113.9' ? { name: 'payments.partner.example', cnames: ['pay.cdn.example'] } : null) });
  const out = connection(web, { ip: '203.0.113.9', cg: 0, port: 443 }, T0 + 1 * S);
  a.ingest(out.open.filter((e) => e.role !== 'server'), T0 + 1 * S);
  const buckets = new Array(DNS_DEFAULTS.latencyBucketsMs.length + 1).fill(0);
  buckets[2] = 3;
  const h: DnsHealth = {
    clientKey: 'web', client: { pid: 5, comm: 'client', cgroupId: 100, netns: 1, address: '10.0.0.2' },
    resolver: { address: '127.0.0.11', port: 53, family: 4, dockerEmbedded: true }, firstSeen: T0, lastSeen: T0 + 2 * S,
    queries: 5, queriesPerSec: 0, answered: 4, noerror: 1, nxdomain: 2, servfail: 1, refused: 0, otherErrors: 0, timeouts: 1, searchExpansions: 0, failures: 4,
    latency: { count: 4, p50Ms: 0.8, p95Ms: 1, maxMs: 1, sumMs: 3.2, buckets },
    failingNames: [{ name: 'dbb', count: 2, reason: 'NXDOMAIN', lastSeen: T0 + 2 * S }, { name: 'x.fail.test', count: 1, reason: 'SERVFAIL', lastSeen: T0 + 2 * S }],
  };
  clock.now = T0 + 3 * S;
  a.graph.updateDns([h], T0 + 3 * S);
  a.runTo(T0 + 10 * S + 5);
  // Later the name is gone from the live map; the past map still has it.
  a.runTo(T0 + 120 * S);
  const then = a.store.queries.graphAt(T0 + 5 * S, 60 * S);
  const named = then.nodes.find((n) => n.id === 'ext:payments.partner.example');
  assert.ok(named, then.nodes.map((n) => n.id).join(' '));
  assert.deepEqual(named.dns, { names: ['payments.partner.example'], cnames: ['pay.cdn.example'], domain: 'partner.example' });
  assert.deepEqual(named.ips, ['203.0.113.9']);
  const r = then.edges.find((e) => e.protocol === 'dns');
  assert.ok(r, then.edges.map((e) => e.id).join(' '));
  assert.equal(r.id, 'svc:shop/web|proc:docker-dns|53|dns');
  assert.deepEqual([r.dns!.queries, r.dns!.answered, r.dns!.nxdomain, r.dns!.servfail, r.dns!.timeouts, r.dns!.failures], [5, 4, 2, 1, 1, 4]);
  assert.deepEqual(r.dns!.failingNames.map((f) => [f.name, f.count, f.reason]), [['dbb', 2, 'NXDOMAIN'], ['x.fail.test', 1, 'SERVFAIL']]);
  assert.ok(r.dns!.latency.p95Ms! > 0.5 && r.dns!.latency.p95Ms! <= 1, `p95 ${r.dns!.latency.p95Ms}`);
  assert.ok(!then.edges.some((e) => e.protocol === 'dns' && e.connections.failedBy.timeout), 'DNS failures are not TCP failure reasons');
  const edgeRefs = a.store.queries.seriesEdges({ edge: r.id })!;
  assert.deepEqual(series(a.store, edgeRefs, 'dns_failures', T0, T0 + 20 * S, 10 * S).points.map((p) => p.v), [4, 0]);
  assert.deepEqual(series(a.store, edgeRefs, 'dns_queries', T0, T0 + 20 * S, 10 * S).points.map((p) => p.v), [5, 0]);
  const nodeRefs = a.store.queries.seriesEdges({ node: 'svc:shop/web' }, 'dns_queries')!;
  assert.deepEqual(series(a.store, nodeRefs, 'dns_queries', T0, T0 + 10 * S, 10 * S).points.map((p) => p.v), [5], 'a node\'s DNS series sums its resolver edges only');
  assert.deepEqual(a.store.queries.seriesEdges({ node: 'svc:shop/web' }, 'connections')!.length, 1, 'its connection series, its connection edges only');
  a.store.close();
});

test('a past map names the instances of its moment, not the ones that came later (node versions)', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock);
  conn(a, web, db, T0 + 1 * S); // web-1 only
  a.runTo(T0 + 30 * S + 5);
  conn(a, { ip: '10.0.0.3', cg: 101 }, db, T0 + 41 * S); // web-2 of the same service starts calling
  a.runTo(T0 + 60 * S + 5);
  const q = a.store.queries;
  const names = (g: { nodes: { id: string; instances: { name: string }[] }[] }) => g.nodes.find((n) => n.id === 'svc:shop/web')!.instances.map((i) => i.name).sort();
  assert.deepEqual(names(q.graphAt(T0 + 5 * S, 60 * S)), ['web-1'], 'at 0:05 only web-1 existed');
  assert.deepEqual(names(q.graphRange(T0, T0 + 20 * S)), ['web-1']);
  assert.deepEqual(names(q.graphAt(T0 + 45 * S, 60 * S)), ['web-1', 'web-2']);
  assert.deepEqual(names(q.graphRange(T0, T0 + 60 * S)), ['web-1', 'web-2'], 'a range: every instance of its span');
  const webIps = (g: { nodes: { id: string; ips: string[] }[] }) => g.nodes.find((n) => n.id === 'svc:shop/web')!.ips.sort();
  assert.deepEqual(webIps(q.graphAt(T0 + 5 * S, 60 * S)), ['10.0.0.2']);
  assert.deepEqual(webIps(q.graphAt(T0 + 45 * S, 60 * S)), ['10.0.0.2', '10.0.0.3']);
  // Reopened (the write cache rebuilt from the file), and after a prune that keeps each node's latest version.
  a.store.close();
  const b = agent(file, clock);
  assert.deepEqual(names(b.store.queries.graphAt(T0 + 5 * S, 60 * S)), ['web-1']);
  b.store.close();
  const raw = new Database(file);
  assert.ok((raw.prepare('SELECT count(*) AS n FROM node_versions').get() as { n: number }).n >= 3, 'a version per change');
  raw.close();
});

test('lastSeen is the last activity, exact to the ms, in every tier: a 10 s row, the 1 m roll-up, a range ending before it, at=', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock);
  conn(a, web, db, T0 + 1 * S); // closes at 1.05 s
  a.runTo(T0 + 10 * S + 5);
  conn(a, web, db, T0 + 12_250); // closes at 12.3 s: its last activity
  assert.equal(a.graph.snapshot({}, clock.now).edges.find((e) => e.id === WEB_DB)!.lastSeen, T0 + 12_300, 'the live map');
  a.runTo(T0 + 3 * M + 5); // minutes 0-2 rolled into 1 m rows
  const q = a.store.queries;
  const edge = (g: { edges: { id: string; lastSeen: number }[] }) => g.edges.find((e) => e.id === WEB_DB)!.lastSeen;
  const node = (g: { nodes: { id: string; lastSeen: number }[] }, id: string) => g.nodes.find((n) => n.id === id)!.lastSeen;

  const wide = q.graphRange(T0, T0 + 2 * M);
  assert.deepEqual(planRange(T0, T0 + 2 * M, a.store.spans()).map((s) => s.resolutionMs), [M], 'served from the 1 m tier');
  assert.equal(edge(wide), T0 + 12_300, 'not the end of the 1 m bucket (1:00)');
  assert.equal(node(wide, 'svc:shop/web'), T0 + 12_300, 'a node: its edges\' last activity');
  assert.equal(node(wide, 'svc:shop/db'), T0 + 12_300);
  assert.equal(edge(q.graphRange(T0, T0 + 20 * S)), T0 + 12_300, '10 s tier: not the bucket end (0:20)');
  // A range that ends before the last activity: the last activity in the buckets whose numbers it gives. A bucket
  // holding the range's end is counted whole, so its activity after the end is in the numbers and in lastSeen.
  assert.equal(edge(q.graphRange(T0, T0 + 10 * S)), T0 + 1050, 'ends at a bucket boundary: the last activity inside it');
  assert.equal(edge(q.graphRange(T0, T0 + 11 * S)), T0 + 12_300, 'ends inside the bucket of 12.3 s: that bucket is counted, so is its activity');
  assert.equal(node(q.graphRange(T0, T0 + 11 * S), 'svc:shop/web'), T0 + 12_300);
  // at=: the bucket holding it; seen within the window before it: its last activity.
  assert.equal(edge(q.graphAt(T0 + 15 * S, 60 * S)), T0 + 12_300);
  assert.equal(edge(q.graphAt(T0 + 11 * S, 60 * S)), T0 + 12_300, 'the bucket 0:10-0:20 is the answer, its activity at 12.3 s too');
  // firstSeen: when the edge appeared on the live map (1 s), not when its first row was written, never after lastSeen.
  for (const g of [wide, q.graphRange(T0, T0 + 11 * S), q.graphAt(T0 + 11 * S, 60 * S)]) {
    const e = g.edges.find((x) => x.id === WEB_DB)!;
    assert.ok(e.firstSeen <= e.lastSeen && e.firstSeen >= T0 + 1000 && e.firstSeen < T0 + 1100, `firstSeen ${e.firstSeen - T0} ms`);
    for (const n of g.nodes) assert.ok(n.firstSeen <= n.lastSeen, `${n.id}: firstSeen ${n.firstSeen - T0} > lastSeen ${n.lastSeen - T0}`);
  }
  const later = q.graphAt(T0 + 45 * S, 60 * S);
  assert.equal(later.edges.find((e) => e.id === WEB_DB)!.connections.opened, 0, 'listed from the window, zero numbers');
  assert.equal(edge(later), T0 + 12_300, 'not the end of its last bucket (0:20)');
  a.store.close();
  const raw = new Database(file, { readonly: true });
  assert.deepEqual(raw.prepare('SELECT res, max(last_seen) AS seen FROM samples GROUP BY res ORDER BY res').all(),
    [{ res: 10, seen: T0 + 12_300 }, { res: 60, seen: T0 + 12_300 }], 'stored with the row, kept by the roll-up as a maximum');
  raw.close();
});

test('a version 5 history file gains samples.last_seen: its rows stay and read lastSeen as before (their bucket\'s end), new rows exactly', () => {
  const file = tempFile();
  const raw = databaseAtVersion(file, 5);
  raw.prepare(`INSERT INTO nodes (id, key, kind, label, grp, first_seen, last_seen) VALUES (1, 'svc:shop/web', 'service', 'web', 'shop', ?, ?), (2, 'svc:shop/db', 'service', 'db', 'shop', ?, ?)`)
    .run(T0, T0, T0, T0);
  raw.prepare(`INSERT INTO edges (id, key, source, target, port, protocol, first_seen, last_seen) VALUES (1, ?, 1, 2, 5432, 'tcp', ?, ?)`).run(WEB_DB, T0, T0);
  raw.prepare('INSERT INTO samples VALUES (10, ?, 1, 2, 2, 0, 10, 20, 0, 0, 0, 0, 0)').run(T0 / 1000);
  raw.close();
  const clock = { now: T0 + 20 * S };
  const a = agent(file, clock);
  const old = a.store.queries.graphRange(T0, T0 + 20 * S).edges.find((e) => e.id === WEB_DB)!;
  assert.equal(old.connections.opened, 2);
  assert.equal(old.lastSeen, T0 + 10 * S, 'a row without the time: its bucket\'s end, as before');
  conn(a, web, db, T0 + 21_250);
  a.runTo(T0 + 30 * S + 5);
  assert.equal(a.store.queries.graphRange(T0, T0 + 30 * S).edges.find((e) => e.id === WEB_DB)!.lastSeen, T0 + 21_300, 'a new row: exact');
  a.store.close();
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(check.prepare('SELECT t, opened, last_seen FROM samples WHERE res = 10 ORDER BY t').all(),
    [{ t: T0 / 1000, opened: 2, last_seen: 0 }, { t: T0 / 1000 + 20, opened: 1, last_seen: T0 + 21_300 }]);
  check.close();
});

test('a past edge names the client instances that made its connections then (edge versions), after a reopen too', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock);
  conn(a, web, db, T0 + 1 * S); // web-1 calls db and cache
  conn(a, web, cache, T0 + 2 * S);
  a.runTo(T0 + 30 * S + 5);
  conn(a, { ip: '10.0.0.3', cg: 101 }, db, T0 + 41 * S); // web-2 of the same service calls db only
  a.runTo(T0 + 60 * S + 5);
  const made = (g: { edges: { id: string; clientInstances?: string[] }[] }, id: string) => g.edges.find((e) => e.id === id)?.clientInstances;
  const check = (q: typeof a.store.queries) => {
    assert.deepEqual(made(q.graphAt(T0 + 5 * S, 60 * S), WEB_DB), ['web-1'], 'at 0:05 only web-1 had called db');
    assert.deepEqual(made(q.graphAt(T0 + 45 * S, 60 * S), WEB_DB), ['web-1', 'web-2']);
    assert.deepEqual(made(q.graphAt(T0 + 45 * S, 60 * S), WEB_CACHE), ['web-1'], 'the service has both instances; this edge only web-1');
    assert.deepEqual(made(q.graphRange(T0 + 40 * S, T0 + 60 * S), WEB_DB), ['web-1', 'web-2'], 'the version in force at the range start, and the later one');
  };
  check(a.store.queries);
  a.store.close();
  const b = agent(file, clock);
  check(b.store.queries);
  b.store.close();
  const raw = new Database(file);
  assert.equal((raw.prepare('SELECT count(*) AS n FROM edge_versions').get() as { n: number }).n, 3, 'a version per change, none per flush');
  raw.close();
});

test('a run killed without its stop (kill -9) ended at its last write: its silence until the next start is not recorded, nor read as an outage', () => {
  const file = tempFile();
  const clock = { now: T0 };
  const a = agent(file, clock);
  for (let t = T0; t < T0 + 60 * S; t += 10 * S) conn(a, web, db, t + S);
  a.runTo(T0 + 60 * S + 5); // last flush at 1:00.005
  closeDatabase((a.store as unknown as { h: { db: Db } }).h.db); // killed: no agent_stopped written
  clock.now = T0 + 3 * M;
  const b = agent(file, clock);
  conn(b, web, db, T0 + 3 * M + S);
  b.runTo(T0 + 3 * M + 10 * S + 5);
  const runs = b.store.queries.events({ from: T0, to: T0 + 4 * M, limit: 100 })!.events.filter((e) => e.type.startsWith('agent_'));
  assert.deepEqual(runs.map((e) => [e.type, e.time - T0, e.detail]), [
    ['agent_started', 0, { retention: '10s:1h,1m:1d' }], ['agent_stopped', 60 * S + 5, { unclean: true }], ['agent_started', 3 * M, { retention: '10s:1h,1m:1d' }]]);
  assert.equal(b.store.queries.graphRange(T0, T0 + 3 * M + 10 * S).recordedMs, 60 * S + 5 + 10 * S, 'the dead 2 minutes are not recorded time');
  const ref = b.store.queries.seriesEdges({ edge: WEB_DB })!;
  const pts = series(b.store, ref, 'connections', T0 + M, T0 + 4 * M, M).points.map((p) => p.v);
  assert.deepEqual(pts, [null, null, 1], '1:00 recorded 5 ms (to the last flush), 2:00 not at all: null, not an outage');
  b.store.close();
});

test('at= in a bucket the agent started in reads its rates over the time it recorded there, not the whole bucket', () => {
  const file = tempFile();
  const clock = { now: T0 + 5 * S }; // started 5 s into a 10 s bucket
  const a = agent(file, clock);
  conn(a, web, db, T0 + 6 * S);
  conn(a, web, db, T0 + 7 * S);
  a.runTo(T0 + 10 * S + 5);
  const g = a.store.queries.graphAt(T0 + 8 * S, 0);
  assert.equal(g.recordedMs, 5 * S);
  const e = g.edges.find((x) => x.id === WEB_DB)!;
  assert.equal(e.connections.opened, 2);
  assert.equal(e.rates['1m'].connections, 0.4, '2 in the 5 s recorded (not 0.2: 2 in 10 s)');
  a.store.close();
});
