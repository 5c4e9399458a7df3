// Faults under the history store itself (a real SQLite file, a real LiveGraph fed synthetic
// connections, a fake clock): garbage at known pages found at open, by a read and by a write;
// a full disk (a real small tmpfs); a read-only folder. Each test says what is kept and what is lost.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LiveGraph } from '../../src/graph/live-graph.js';
import { HistoryStore, HistoryUnavailable } from '../../src/store/history-store.js';
import { parseRetention } from '../../src/store/retention.js';
import { identity, connection, web, db } from '../../src/store/testing.js';
import { fillDisk, garblePages, isRoot, leaves, mountTmpfs, pageMap, remount, unmount, writeGarbage } from '../support/faults.js';

const S = 1000, M = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const dirs: string[] = [];
after(() => { for (const d of dirs) { unmount(d); fs.rmSync(d, { recursive: true, force: true }); } });

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-faults-'));
  dirs.push(d);
  return d;
}

/** Server ends on the db container, one per port: each port is its own edge. */
const server = (port: number) => ({ ...db, port });
const edgeId = (port: number) => `svc:shop/web|svc:shop/db|${port}|tcp`;

/** A live graph and a store on `file` sharing a fake clock; warnings collected. */
function agent(file: string, clock: { now: number }, o: { pendingMax?: { intervals: number; rows: number } } = {}) {
  const graph = new LiveGraph(identity, { idleMs: 60 * M });
  const warnings: string[] = [];
  const store = new HistoryStore({ file, tiers: parseRetention('10s:1d'), clock: () => clock.now, warn: (m) => warnings.push(m), pendingMax: o.pendingMax });
  store.attach(graph);
  return {
    graph, store, warnings,
    conn(port: number, t: number, sent = 100) {
      const c = connection(web, server(port), t, { sent, received: 10 });
      clock.now = Math.max(clock.now, t + 50);
      graph.ingest(c.open, t);
      graph.ingest(c.close, t + 50);
    },
    /** Flushes at every 10 s boundary (+5 ms) up to `t`. */
    runTo(t: number) {
      let next = Math.floor(clock.now / (10 * S)) * 10 * S + 10 * S + 5;
      while (next <= t) { clock.now = next; graph.tick(next); store.flush(next); next += 10 * S; }
      clock.now = Math.max(clock.now, t);
    },
  };
}

/** Opened connections per edge over [from, to), from the store. */
function opened(store: HistoryStore, from: number, to: number): Record<string, number> {
  return Object.fromEntries(store.read((q) => q.graphRange(from, to)).edges.map((e) => [e.id, e.connections.opened]));
}

/** A history of `ports` edges with one connection each per 10 s bucket over `minutes`; closed cleanly. */
function history(file: string, ports: number, minutes: number): void {
  const clock = { now: T0 };
  const a = agent(file, clock);
  for (let t = T0 + S; t < T0 + minutes * M; t += 10 * S) {
    for (let p = 0; p < ports; p++) a.conn(6000 + p, t);
    a.runTo(t + 9 * S + 500);
  }
  a.runTo(T0 + minutes * M + 5);
  a.store.close();
}

const asideOf = (file: string) => fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith(`${path.basename(file)}.corrupt-`) && !/-(wal|shm|journal)$/.test(f)).map((f) => path.join(path.dirname(file), f));

for (const where of ['header', 'early pages', 'late pages'] as const) {
  test(`corrupt at open (${where}): the file is set aside byte for byte, a fresh one takes its place, loudly`, () => {
    const file = path.join(tempDir(), 'history.db');
    history(file, 20, 3);
    const map = pageMap(file);
    const db0 = new Database(file, { readonly: true });
    assert.equal(db0.pragma('freelist_count', { simple: true }), 0, 'every page is in use, so garbage lands on data');
    assert.equal((db0.prepare('SELECT sum(opened) AS n FROM samples').get() as { n: number }).n, 20 * 18, 'the history that is about to be lost');
    db0.close();
    if (where === 'header') writeGarbage(file, 0, 100);
    else if (where === 'early pages') garblePages(file, map.pageSize, [2, 3]);
    else garblePages(file, map.pageSize, [map.pageCount - 1, map.pageCount]);
    const damaged = fs.readFileSync(file);

    const clock = { now: T0 + 10 * M };
    const b = agent(file, clock);
    const h = b.store.health();
    assert.equal(h.state, 'recovered');
    assert.equal(h.corruptions, 1);
    assert.equal(h.lastCorruption?.found, 'open');
    const [aside] = asideOf(file);
    assert.equal(h.lastCorruption?.movedTo, aside);
    assert.match(path.basename(aside), /^history\.db\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/);
    // Kept: the damaged file, untouched, beside the fresh one.
    assert.ok(damaged.equals(fs.readFileSync(aside)), 'set aside byte for byte');
    assert.equal(b.warnings.length, 1);
    assert.ok(b.warnings[0].startsWith('ERROR: ') && b.warnings[0].includes(file) && b.warnings[0].includes(aside), b.warnings[0]);
    assert.ok(h.reason!.includes(file) && h.reason!.includes(aside));
    // Lost from what is served: everything recorded before (only in the file set aside).
    assert.deepEqual(opened(b.store, T0, T0 + 10 * M), {});
    // Recorded from now on, in the fresh file.
    b.conn(7000, clock.now + S);
    b.runTo(clock.now + 20 * S);
    assert.deepEqual(opened(b.store, T0 + 10 * M, clock.now), { [edgeId(7000)]: 1 });
    b.store.close();
    assert.equal(new HistoryStore({ file, warn: assert.fail }).health().state, 'ok', 'the fresh file reopens clean');
  });
}

test('corrupt pages met by a read at run time: that query answers 503 saying so, the file is set aside, later queries use the fresh one', () => {
  const file = path.join(tempDir(), 'history.db');
  history(file, 30, 10);
  const samples = leaves(file, 'samples');
  assert.ok(samples.length >= 8, `enough sample pages (${samples.length})`);
  const pageSize = pageMap(file).pageSize;
  const clock = { now: T0 + 20 * M };
  const b = agent(file, clock); // checked clean at open
  assert.equal(b.store.health().state, 'ok');
  assert.deepEqual(opened(b.store, T0, T0 + 30 * S), Object.fromEntries(Array.from({ length: 30 }, (_, p) => [edgeId(6000 + p), 3])), 'the first buckets read fine');
  // Damage pages of old rows the store has not read since it opened (the middle of the range).
  const middle = samples.slice(Math.floor(samples.length / 2) - 2, Math.floor(samples.length / 2) + 2);
  garblePages(file, pageSize, middle);
  assert.throws(() => opened(b.store, T0, T0 + 10 * M), (e: Error) => {
    assert.ok(e instanceof HistoryUnavailable, String(e));
    assert.match(e.message, /corrupt/);
    assert.ok(e.message.includes(file), e.message);
    return true;
  });
  const h = b.store.health();
  assert.equal(h.state, 'recovered');
  assert.equal(h.lastCorruption?.found, 'read');
  const [aside] = asideOf(file);
  assert.equal(h.lastCorruption?.movedTo, aside);
  assert.ok(b.warnings.some((w) => w.includes(aside) && w.includes(file)), b.warnings.join('\n'));
  // Kept: the live graph (untouched) and, in the fresh file, what this run flushes from now on.
  assert.deepEqual(opened(b.store, T0, clock.now + M), {}, 'the fresh file answers, empty');
  b.conn(7001, clock.now + S);
  b.runTo(clock.now + 20 * S);
  assert.deepEqual(opened(b.store, T0, clock.now + M), { [edgeId(7001)]: 1 });
  b.store.close();
});

test('a corrupt index met by a write: set aside, and that very interval is written to the fresh file', () => {
  const file = path.join(tempDir(), 'history.db');
  history(file, 5, 2);
  const index = pageMap(file);
  const edgeIndex = index.pages.filter((p) => p.name === 'sqlite_autoindex_edges_1').map((p) => p.pageno);
  assert.ok(edgeIndex.length >= 1);
  const clock = { now: T0 + 20 * M };
  const b = agent(file, clock);
  assert.equal(b.store.health().state, 'ok');
  garblePages(file, index.pageSize, edgeIndex); // a new edge must look its key up there
  b.conn(7002, clock.now + S, 1234);
  b.runTo(clock.now + 10 * S + 5);
  const h = b.store.health();
  assert.equal(h.state, 'recovered');
  assert.equal(h.lastCorruption?.found, 'write');
  assert.equal(h.flushes.failed, 0, 'not a failed flush: written to the fresh file');
  assert.deepEqual(h.pending, { intervals: 0, rows: 0, events: 0 });
  const e = b.store.read((q) => q.graphRange(T0, clock.now + M)).edges;
  assert.deepEqual(e.map((x) => [x.id, x.connections.opened, x.bytes.sent]), [[edgeId(7002), 1, 1234]], 'kept: the interval that met the damage');
  b.store.close();
});

test('a full disk: failed intervals are held in memory and written when space returns; nothing lost, ids stay right', { skip: !isRoot() && 'needs root (tmpfs)' }, () => {
  const dir = tempDir();
  mountTmpfs(dir, 1 << 20);
  const file = path.join(dir, 'history.db');
  const clock = { now: T0 };
  const a = agent(file, clock);
  a.conn(6000, T0 + S);
  a.runTo(T0 + 10 * S + 5);
  assert.equal(a.store.health().flushes.ok, 2, 'agent_started and the first interval');
  const filler = fillDisk(dir);
  // While full: a new edge (its dimension row is written, then rolled back) and the old one, over three intervals.
  a.conn(6001, T0 + 11 * S, 111);
  a.conn(6000, T0 + 12 * S);
  a.runTo(T0 + 40 * S + 5);
  let h = a.store.health();
  assert.equal(h.state, 'failing');
  assert.equal(h.flushes.failed, 3);
  assert.deepEqual(h.pending, { intervals: 3, rows: 2, events: 1 }, 'two rows and the new edge\'s edge_appeared event, held');
  assert.ok(h.reason!.includes(file) && /disk is full/.test(h.reason!), h.reason!);
  assert.ok(a.warnings.some((w) => w.includes(file) && /disk is full/.test(w)), a.warnings.join('\n'));
  assert.deepEqual(opened(a.store, T0, T0 + M), { [edgeId(6000)]: 1 }, 'reads still work while writes fail');
  fs.rmSync(filler);
  // Space is back: another new edge, which must not take the rolled-back id of 6001.
  a.conn(6002, T0 + 41 * S, 222);
  a.runTo(T0 + 50 * S + 5);
  h = a.store.health();
  assert.equal(h.state, 'ok');
  assert.deepEqual(h.pending, { intervals: 0, rows: 0, events: 0 });
  assert.deepEqual(h.dropped, { intervals: 0, rows: 0, events: 0 });
  assert.ok(a.warnings.some((w) => /work again; 3 intervals/.test(w)), a.warnings.join('\n'));
  const edges = a.store.read((q) => q.graphRange(T0, T0 + M)).edges;
  assert.deepEqual(edges.map((e) => [e.id, e.connections.opened, e.bytes.sent]), [
    [edgeId(6000), 2, 200], [edgeId(6001), 1, 111], [edgeId(6002), 1, 222],
  ], 'every connection kept, each on its own edge');
  const at = a.store.read((q) => q.graphAt(T0 + 15 * S, 0)).edges.map((e) => e.id);
  assert.deepEqual(at, [edgeId(6000), edgeId(6001)], 'held intervals went to their own buckets');
  a.store.close();
  unmount(dir);
});

test('a full disk for longer than the buffer: the oldest held intervals are dropped and counted, the rest kept', { skip: !isRoot() && 'needs root (tmpfs)' }, () => {
  const dir = tempDir();
  mountTmpfs(dir, 1 << 20);
  const file = path.join(dir, 'history.db');
  const clock = { now: T0 };
  const a = agent(file, clock, { pendingMax: { intervals: 3, rows: 1000 } });
  a.runTo(T0 + 10 * S + 5);
  const filler = fillDisk(dir);
  for (let i = 1; i <= 5; i++) { a.conn(6000, T0 + i * 10 * S + S, i); a.runTo(T0 + (i + 1) * 10 * S + 5); }
  const h = a.store.health();
  assert.equal(h.flushes.failed, 5);
  assert.equal(h.pending.intervals, 3);
  assert.equal(h.dropped.intervals, 2);
  assert.ok(a.warnings.some((w) => /oldest are dropped/.test(w) && w.includes(file)));
  fs.rmSync(filler);
  a.runTo(T0 + 70 * S + 5);
  const e = a.store.read((q) => q.graphRange(T0, T0 + 2 * M)).edges[0];
  // Lost: the intervals holding connections 1 and 2 (1 + 2 bytes); kept: 3, 4 and 5.
  assert.equal(e.connections.opened, 3);
  assert.equal(e.bytes.sent, 3 + 4 + 5);
  assert.equal(a.store.health().dropped.intervals, 2, 'still counted after recovery');
  a.store.close();
  unmount(dir);
});

test('a read-only folder: the history in it is served read-only, nothing is written, flushes are skipped', { skip: !isRoot() && 'needs root (tmpfs)' }, () => {
  const dir = tempDir();
  mountTmpfs(dir, 4 << 20);
  const file = path.join(dir, 'history.db');
  try {
    history(file, 4, 2);
    const before = fs.readFileSync(file);
    const names = fs.readdirSync(dir);
    remount(dir, 'ro');
    const clock = { now: T0 + 10 * M };
    const b = agent(file, clock);
    const h = b.store.health();
    assert.equal(h.state, 'read_only');
    assert.ok(h.reason!.includes(file), h.reason!);
    // Kept: everything recorded before, served as it was.
    assert.deepEqual(opened(b.store, T0, T0 + 2 * M), Object.fromEntries([0, 1, 2, 3].map((p) => [edgeId(6000 + p), 12])));
    // Lost: what happens now (the live graph has it, the history does not).
    b.conn(7003, clock.now + S);
    b.runTo(clock.now + 30 * S);
    assert.deepEqual(b.store.health().flushes, { ok: 0, failed: 0, skipped: 3 });
    assert.equal(opened(b.store, clock.now - M, clock.now)[edgeId(7003)], undefined);
    b.store.close();
    assert.ok(before.equals(fs.readFileSync(file)), 'the file is untouched');
    assert.deepEqual(fs.readdirSync(dir), names, 'no -wal, -shm or anything else created');
    assert.deepEqual(b.warnings, []);
  } finally {
    unmount(dir);
  }
});

test('a corrupt file in a read-only folder cannot be set aside: history unavailable, queries answer why', { skip: !isRoot() && 'needs root (tmpfs)' }, () => {
  const dir = tempDir();
  mountTmpfs(dir, 4 << 20);
  const file = path.join(dir, 'history.db');
  try {
    history(file, 2, 1);
    writeGarbage(file, 0, 100);
    remount(dir, 'ro');
    const b = agent(file, { now: T0 + 10 * M });
    const h = b.store.health();
    assert.equal(h.state, 'unavailable');
    assert.equal(h.lastCorruption?.movedTo, null);
    assert.ok(h.reason!.includes(file) && /could not be moved aside/.test(h.reason!), h.reason!);
    assert.throws(() => opened(b.store, T0, T0 + M), (e: Error) => e instanceof HistoryUnavailable && e.message.includes(file));
    b.runTo(T0 + 11 * M);
    assert.equal(b.store.health().flushes.skipped, 6);
    b.store.close();
  } finally {
    unmount(dir);
  }
});
