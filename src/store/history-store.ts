// The history store: samples the live graph every flush interval, writes one
// transaction per flush, rolls up and prunes, and answers history queries.
// It never takes the agent down: a corrupt file is set aside for a fresh one,
// failed writes are held in memory and retried, a read-only folder is served read-only.
import fs from 'node:fs';
import type { EventEmitter } from 'node:events';
import { closeDatabase, CorruptDatabase, isCorruption, isDiskFull, OpenFailed, openDatabase, setAside, type Db, type Opened } from './database.js';
import { Dimensions, type NodeDesc } from './dimensions.js';
import { IntervalSampler, type GraphSource, type EventRecord } from './sampler.js';
import { SampleWriter, type Batch } from './writer.js';
import { Rollup } from './rollup.js';
import { ContainerEvents, flushEvents, DEFAULT_EVENT_LIMITS, type EventLimits } from './events.js';
import { HistoryQueries } from './queries.js';
import { parseRetention, formatRetention, formatDuration, type Tier } from './retention.js';
import type { TierSpan } from './plan.js';
import type { ContainerChange } from '../identity/types.js';
import type { HistoryHealth, HistoryState } from '../graph/types.js';
import { GRAPH_DEFAULTS, HISTORY_DEFAULTS } from '../config/defaults.js';

export interface HistoryOptions {
  file: string;
  tiers?: Tier[];
  /** How often the live graph is sampled and written; at most the finest resolution, and a divisor of it. Default: the finest resolution. */
  flushIntervalMs?: number;
  /** Injectable clock (tests drive time with it). */
  clock?: () => number;
  limits?: EventLimits;
  /** Where problems are reported (default stderr). */
  warn?: (msg: string) => void;
  /** Bounds of the intervals held in memory after failed writes (default HISTORY_DEFAULTS.pendingMax*). */
  pendingMax?: { intervals: number; rows: number };
  /** How long an idle edge stays on the live map (`run --idle`; default GRAPH_DEFAULTS.idleMs): a restart's re-found
   *  nodes and edges seen within it are not written as appearing. */
  mapIdleMs?: number;
  /** Only read an existing file (`dhrishti check --data-dir`): nothing is created, migrated or set aside, and a file
   *  that cannot be read makes the constructor throw, saying why. */
  reader?: boolean;
}

export interface HistoryStatus {
  file: string;
  sizeBytes: number;
  flushIntervalMs: number;
  retention: string;
  tiers: { resolutionMs: number; keepMs: number; from: number; to: number | null; rolledUpTo: number | null }[];
  flushes: number;
  failedFlushes: number;
  lastFlush: { time: number; rows: number; events: number; ms: number } | null;
  /** How the file was checked when it was opened (null: not open). */
  check: Opened['check'] | null;
  health: HistoryHealth;
}

/** The history cannot answer now; the API answers 503 with this message. */
export class HistoryUnavailable extends Error {
  readonly statusCode = 503;
  readonly error = 'history_unavailable';
  constructor(message: string, readonly state: HistoryState, readonly file: string) { super(message); }
}

/** Everything bound to one open file. */
interface Handles {
  db: Db;
  readOnly: boolean;
  dims: Dimensions;
  writer: SampleWriter;
  rollup: Rollup;
  queries: HistoryQueries;
}

const iso = (t: number) => new Date(t).toISOString();

export class HistoryStore {
  readonly file: string;
  readonly tiers: Tier[];
  readonly flushIntervalMs: number;
  private h: Handles | null = null;
  private check: Opened['check'] | null = null;
  private readonly containers: ContainerEvents;
  private readonly clock: () => number;
  private readonly warn: (msg: string) => void;
  private sampler: IntervalSampler | null = null;
  private detach: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAt: number | null = null;
  private lastPrune = -Infinity;
  private lastWarn = -Infinity;
  private lastFlush: HistoryStatus['lastFlush'] = null;
  private closed = false;
  /** Timeline events from outside the graph (the policy's), written with the next flush. */
  private extraEvents: EventRecord[] = [];
  private extraDropped = 0;

  private state: HistoryState = 'ok';
  private reason: string | null = null;
  private since = Date.now();
  /** What `ok` means once writes work: `recovered` after a corrupt file was set aside this run. */
  private base: { state: 'ok' | 'recovered'; reason: string | null } = { state: 'ok', reason: null };
  private retryOpen = false;
  private recovering = false;
  private lastOpenAttempt = -Infinity;
  private corruptions = 0;
  private lastCorruption: HistoryHealth['lastCorruption'] = null;
  private lastError: string | null = null;
  private readonly counts = { ok: 0, failed: 0, skipped: 0 };
  /** Intervals not written yet (oldest first), written ahead of the next flush. */
  private pending: Batch[] = [];
  private readonly dropped = { intervals: 0, rows: 0, events: 0 };

  constructor(private readonly opts: HistoryOptions) {
    this.file = opts.file;
    this.tiers = opts.tiers ?? parseRetention(HISTORY_DEFAULTS.retention);
    const r0 = this.tiers[0].resolutionMs;
    this.flushIntervalMs = opts.flushIntervalMs ?? r0;
    if (this.flushIntervalMs < 100 || this.flushIntervalMs > r0 || r0 % this.flushIntervalMs !== 0) {
      throw new Error(`the history flush interval must divide the finest resolution (${r0 / 1000}s), got ${this.flushIntervalMs}ms`);
    }
    this.clock = opts.clock ?? Date.now;
    this.warn = opts.warn ?? ((m) => console.error(`dhrishti: ${m}`));
    this.containers = new ContainerEvents(opts.limits?.container ?? DEFAULT_EVENT_LIMITS.container);
    this.open();
  }

  /** The queries on the open file (tests, benchmark); the API goes through read() to have damage handled. */
  get queries(): HistoryQueries {
    if (!this.h) throw this.unavailable();
    return this.h.queries;
  }

  get readOnly(): boolean { return this.h?.readOnly ?? false; }

  /**
   * Runs a query. A corrupt file met on the way is set aside for a fresh one, and the
   * query answers HistoryUnavailable (503) saying so; with no usable file, the same.
   */
  read<T>(fn: (q: HistoryQueries) => T): T {
    if (!this.h) throw this.unavailable();
    try {
      return fn(this.h.queries);
    } catch (e) {
      if (!isCorruption(e)) throw e;
      this.corrupted((e as Error).message, 'read');
      throw new HistoryUnavailable(`this query met damage in the history file: ${this.reason}`, this.state, this.file);
    }
  }

  private unavailable(): HistoryUnavailable {
    return new HistoryUnavailable(this.reason ?? `the history file ${this.file} is not open`, this.state, this.file);
  }

  // ---- opening, damage, state ----

  /** Opens the file (or notes why not); a corrupt one is set aside. */
  private open(): void {
    this.lastOpenAttempt = Date.now();
    let opened: Opened | null = null;
    if (this.opts.reader) {
      try {
        opened = openDatabase(this.file, true);
        this.use(opened);
      } catch (e) {
        if (opened) { try { opened.db.close(); } catch { /* damaged */ } }
        if (e instanceof CorruptDatabase || isCorruption(e)) throw new Error(`the history database ${this.file} is damaged (${e instanceof CorruptDatabase ? e.detail : (e as Error).message})`);
        throw e;
      }
      return this.setState('read_only', `read only: ${this.file}`);
    }
    try {
      opened = openDatabase(this.file);
      this.use(opened);
      if (opened.readOnly) {
        this.setState('read_only', `the history folder of ${this.file} is read-only: the history in it is served read-only and nothing new is recorded`);
      } else {
        this.setState(this.base.state, this.base.reason);
      }
    } catch (e) {
      if (opened) { try { opened.db.close(); } catch { /* damaged */ } }
      this.h = null;
      if (e instanceof CorruptDatabase || isCorruption(e)) return this.corrupted(e instanceof CorruptDatabase ? e.detail : (e as Error).message, 'open');
      this.retryOpen = e instanceof OpenFailed ? e.retry : true;
      this.setState('unavailable', `${(e as Error).message}; no history is recorded${this.retryOpen ? ` (trying again every ${formatDuration(HISTORY_DEFAULTS.reopenIntervalMs)})` : ''}`);
    }
  }

  /** Builds the readers and writers of an open file; they cache ids and marks, so they are rebuilt after a rolled-back write. */
  private use(o: Opened): void {
    const dims = new Dimensions(o.db);
    this.h = {
      db: o.db, readOnly: o.readOnly, dims,
      writer: new SampleWriter(o.db, dims, this.tiers[0].resolutionMs, this.opts.mapIdleMs ?? GRAPH_DEFAULTS.idleMs),
      rollup: new Rollup(o.db, this.tiers),
      queries: new HistoryQueries(o.db, dims, () => this.spans(), this.clock),
    };
    this.check = o.check;
  }

  /**
   * The file is damaged: close it, move it aside (`history.db.corrupt-<time>`, with its
   * -wal and -shm) and start a fresh file. Loud on stderr every time.
   */
  private corrupted(detail: string, found: 'open' | 'read' | 'write'): void {
    const now = Date.now();
    if (this.h) { try { this.h.db.close(); } catch { /* damaged */ } this.h = null; }
    this.corruptions++;
    if (this.recovering) { // the fresh file is damaged too: stop here rather than loop
      this.retryOpen = false;
      this.setState('unavailable', `the fresh history file ${this.file} is corrupt as well (${detail}); no history is served or recorded`);
      this.warn(`ERROR: ${this.reason}`);
      return;
    }
    let movedTo: string | null = null;
    try {
      movedTo = setAside(this.file, now);
    } catch (e) {
      this.lastCorruption = { time: now, found, detail, movedTo: null };
      this.retryOpen = false;
      this.setState('unavailable', `the history file ${this.file} is corrupt (${detail}, found on ${found}) and could not be moved aside (${(e as Error).message}); no history is served or recorded until it is removed`);
      this.warn(`ERROR: ${this.reason}`);
      return;
    }
    this.lastCorruption = { time: now, found, detail, movedTo };
    this.base = {
      state: 'recovered',
      reason: `the history file ${this.file} was found corrupt on ${found} (${detail}); it was moved to ${movedTo} and a fresh history started in ${this.file} at ${iso(now)}; what was recorded before is only in ${movedTo}`,
    };
    this.recovering = true;
    try { this.open(); } finally { this.recovering = false; }
    if (this.h) this.warn(`ERROR: ${this.base.reason}`);
    else this.warn(`ERROR: ${this.base.reason}; but the fresh file cannot be opened either: ${this.reason}`);
  }

  private setState(state: HistoryState, reason: string | null): void {
    if (state !== this.state || reason !== this.reason) this.since = Date.now();
    this.state = state;
    this.reason = reason;
  }

  // ---- writing ----

  /** Starts following a live graph (and container changes); records an agent_started event. */
  attach(graph: GraphSource, identity?: Pick<EventEmitter, 'on' | 'off'>): void {
    this.sampler = new IntervalSampler(graph);
    this.lastFlushAt = this.clock();
    if (this.readOnly) return; // nothing will be written: no need to sample or collect
    if (identity) {
      const onChange = (c: ContainerChange) => this.containers.add(c, this.clock());
      identity.on('change', onChange);
      this.detach = () => identity.off('change', onChange);
    }
    const start: EventRecord = { time: this.lastFlushAt, type: 'agent_started', detail: { retention: formatRetention(this.tiers) } };
    // The last run ended without a word (kill -9, a crash): it stopped at its last write, not at this start.
    const end = this.uncleanEnd();
    const events: EventRecord[] = end !== null && end <= start.time ? [{ time: end, type: 'agent_stopped', detail: { unclean: true } }, start] : [start];
    this.record({ time: this.lastFlushAt, bucket: this.bucketOf(this.lastFlushAt), rows: [], nodes: new Map(), events });
  }

  private uncleanEnd(): number | null {
    try { return this.h?.writer.uncleanEnd() ?? null; } catch { return null; } // an unreadable file is dealt with at the write
  }

  /** Flushes on the wall clock's flush-interval boundaries. */
  start(): void {
    const schedule = () => {
      const now = Date.now();
      const wait = this.flushIntervalMs - (now % this.flushIntervalMs) + 5;
      this.timer = setTimeout(() => { this.flush(); if (!this.closed) schedule(); }, wait);
      this.timer.unref();
    };
    schedule();
  }

  /** Samples the graph and writes the interval since the previous flush. */
  flush(now = this.clock()): void {
    if (!this.sampler || this.closed) return;
    if (this.readOnly || (!this.h && !this.retryOpen)) { this.counts.skipped++; this.containers.drain(); return; }
    if (!this.h && this.retryOpen && Date.now() - this.lastOpenAttempt >= HISTORY_DEFAULTS.reopenIntervalMs) {
      this.open();
      if (this.h) this.warn(`the history file ${this.file} is open again; ${this.pending.length} intervals held in memory will be written`);
    }
    const prev = this.lastFlushAt ?? now - this.flushIntervalMs;
    let batch: Batch;
    try {
      const s = this.sampler.sample(now);
      // An interval's numbers go to the bucket holding its midpoint, so flushes late by a few ms still land right.
      batch = { time: now, bucket: this.bucketOf((prev + now) / 2), rows: s.rows, nodes: s.nodes, events: flushEvents(s, this.containers.drain(), now, this.opts.limits) };
      batch.events.push(...this.drainExtra(now));
    } catch (e) {
      this.counts.failed++;
      this.lastError = (e as Error).message;
      this.report(`history: sampling the live graph for ${this.file} failed (${this.counts.failed} failed flushes so far): ${this.lastError}`);
      return;
    }
    this.lastFlushAt = now;
    this.record(batch);
  }

  /** Queues timeline events from outside the graph for the next flush; past the topology cap per flush they are counted as suppressed. */
  addEvents(events: EventRecord[]): void {
    const cap = this.opts.limits?.topology ?? DEFAULT_EVENT_LIMITS.topology;
    for (const e of events) { if (this.extraEvents.length < cap) this.extraEvents.push(e); else this.extraDropped++; }
  }

  private drainExtra(now: number): EventRecord[] {
    const out = this.extraEvents;
    if (this.extraDropped) out.push({ time: now, type: 'suppressed', detail: { policy: this.extraDropped } });
    this.extraEvents = [];
    this.extraDropped = 0;
    return out;
  }

  /**
   * The write path (the flush, and the benchmark): one transaction with the intervals
   * held from failed writes, this one, the roll-ups and, now and then, pruning.
   */
  record(batch: Batch): void {
    if (this.readOnly || this.closed || (!this.h && !this.retryOpen)) { this.counts.skipped++; return; }
    this.pending.push(batch);
    if (!this.h) { this.counts.skipped++; this.hold(); return; }
    this.writePending(false);
  }

  private writePending(afterRecovery: boolean): void {
    const h = this.h!;
    const started = performance.now();
    const last = this.pending[this.pending.length - 1];
    const prune = last.time - this.lastPrune >= HISTORY_DEFAULTS.maintenanceIntervalMs;
    try {
      h.db.transaction(() => {
        for (const b of this.pending) h.writer.write(b);
        // Finest buckets before the one the next flush's midpoint falls in are final.
        h.rollup.rollUp(this.bucketOf(last.time + this.flushIntervalMs / 2));
        if (prune) {
          h.rollup.prune(last.time);
          h.dims.prune(last.time - h.rollup.longestKeepMs() - HISTORY_DEFAULTS.lastSeenWriteMs);
        }
      })();
    } catch (e) {
      if (isCorruption(e) && !afterRecovery) {
        this.corrupted((e as Error).message, 'write');
        if (this.h && !this.h.readOnly) this.writePending(true); // into the fresh file: nothing of this run is lost
        else this.hold();
        return;
      }
      return this.writeFailed(e);
    }
    if (prune) this.lastPrune = last.time;
    const held = this.pending.length - 1;
    this.pending = [];
    this.counts.ok++;
    this.lastFlush = { time: last.time, rows: last.rows.length, events: last.events.length, ms: Math.round((performance.now() - started) * 10) / 10 };
    if (this.state === 'failing' || this.state === 'unavailable') {
      this.warn(`history: writes to ${this.file} work again; ${held} intervals held in memory were written`);
      this.lastWarn = -Infinity;
    }
    this.setState(this.base.state, this.base.reason);
  }

  private writeFailed(e: unknown): void {
    const msg = (e as Error).message;
    this.counts.failed++;
    this.lastError = msg;
    this.hold();
    // The rolled-back transaction left the caches (dimension ids, roll-up marks) ahead of the file: rebuild them from it.
    try {
      this.use({ db: this.h!.db, readOnly: false, check: this.check ?? { kind: 'new', ms: 0 } });
    } catch (e2) {
      if (isCorruption(e2)) { this.corrupted((e2 as Error).message, 'write'); return; }
    }
    const p = this.pendingCounts();
    this.setState('failing', `writes to the history file ${this.file} fail${isDiskFull(e) ? ' (the disk is full)' : ''}: ${msg}; ` +
      `${p.intervals} intervals (${p.rows} rows, ${p.events} events) are held in memory and written when writes work again` +
      `${this.dropped.intervals ? `; ${this.dropped.intervals} older intervals were dropped, the buffer being full` : ''}`);
    this.report(`history: ${this.reason} (${this.counts.failed} failed flushes so far)`);
  }

  /** Keeps the pending intervals within bounds (oldest dropped and counted), slimmed to what the writer reads. */
  private hold(): void {
    const last = this.pending.length - 1;
    if (last >= 0) this.pending[last] = slim(this.pending[last]);
    let p = this.pendingCounts();
    const max = this.opts.pendingMax ?? { intervals: HISTORY_DEFAULTS.pendingMaxIntervals, rows: HISTORY_DEFAULTS.pendingMaxRows };
    while (this.pending.length > 1 && (this.pending.length > max.intervals || p.rows + p.events > max.rows)) {
      const b = this.pending.shift()!;
      if (!this.dropped.intervals) this.warn(`history: more intervals failed to write to ${this.file} than are held in memory; the oldest are dropped from now on (counted in /api/v1/agent and /metrics)`);
      this.dropped.intervals++;
      this.dropped.rows += b.rows.length;
      this.dropped.events += b.events.length;
      p = this.pendingCounts();
    }
  }

  private pendingCounts(): HistoryHealth['pending'] {
    let rows = 0, events = 0;
    for (const b of this.pending) { rows += b.rows.length; events += b.events.length; }
    return { intervals: this.pending.length, rows, events };
  }

  /** Repeated problems reach stderr at most once per HISTORY_DEFAULTS.warnIntervalMs. */
  private report(msg: string): void {
    const now = Date.now();
    if (now - this.lastWarn < HISTORY_DEFAULTS.warnIntervalMs) return;
    this.lastWarn = now;
    this.warn(msg);
  }

  private bucketOf(t: number): number {
    const r = this.tiers[0].resolutionMs;
    return Math.floor(t / r) * r;
  }

  // ---- status ----

  /** What each tier holds now. */
  spans(now = this.clock()): TierSpan[] {
    return this.tiers.map((t, k) => ({ resolutionMs: t.resolutionMs, from: now - t.keepMs, to: k === 0 ? Infinity : this.h?.rollup.rolledUpTo(k) ?? -Infinity }));
  }

  now(): number { return this.clock(); }

  health(): HistoryHealth {
    return {
      state: this.state, file: this.file, reason: this.reason, since: this.since,
      corruptions: this.corruptions, lastCorruption: this.lastCorruption,
      flushes: { ...this.counts }, lastError: this.lastError,
      pending: this.pendingCounts(), dropped: { ...this.dropped },
    };
  }

  status(): HistoryStatus {
    let size = 0;
    for (const f of [this.file, `${this.file}-wal`]) { try { size += fs.statSync(f).size; } catch { /* not there */ } }
    const spans = this.spans();
    const rolled = (k: number) => this.h?.rollup.rolledUpTo(k) ?? null;
    return {
      file: this.file, sizeBytes: size, flushIntervalMs: this.flushIntervalMs, retention: formatRetention(this.tiers),
      tiers: this.tiers.map((t, k) => ({ resolutionMs: t.resolutionMs, keepMs: t.keepMs, from: spans[k].from, to: k === 0 ? this.lastFlushAt : rolled(k), rolledUpTo: k === 0 ? null : rolled(k) })),
      flushes: this.counts.ok, failedFlushes: this.counts.failed, lastFlush: this.lastFlush, check: this.check, health: this.health(),
    };
  }

  /** Writes the last interval and an agent_stopped event, then closes the file. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.detach?.();
    if (this.sampler && this.h && !this.h.readOnly) {
      this.flush();
      const now = this.clock();
      this.record({ time: now, bucket: this.bucketOf(now), rows: [], nodes: new Map(), events: [{ time: now, type: 'agent_stopped' }] });
    }
    const p = this.pendingCounts();
    if (p.intervals) this.warn(`history: ${p.intervals} intervals (${p.rows} rows, ${p.events} events) could not be written to ${this.file} and are lost`);
    this.closed = true;
    if (this.h) closeDatabase(this.h.db);
    this.h = null;
  }
}

/** A batch held in memory keeps only what the writer reads: edge descriptors, and the nodes they and the events name. */
function slim(b: Batch): Batch {
  const keep = new Map<string, NodeDesc>();
  const node = (k: string) => { const n = b.nodes.get(k); if (n && !keep.has(k)) keep.set(k, { id: n.id, kind: n.kind, label: n.label, group: n.group, image: n.image, labels: n.labels, instances: n.instances, ips: n.ips }); };
  const rows = b.rows.map((r) => {
    node(r.edge.source); node(r.edge.target);
    return { ...r, edge: { id: r.edge.id, source: r.edge.source, target: r.edge.target, port: r.edge.port, protocol: r.edge.protocol } };
  });
  for (const e of b.events) if (e.edge) { node(e.edge.source); node(e.edge.target); }
  return { ...b, rows, nodes: keep };
}
