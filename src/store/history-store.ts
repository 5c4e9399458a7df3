// The history store: samples the live graph every flush interval, writes one
// transaction per flush, rolls up and prunes, and answers history queries.
import fs from 'node:fs';
import type { EventEmitter } from 'node:events';
import { openDatabase, type Db } from './database.js';
import { Dimensions } from './dimensions.js';
import { IntervalSampler, type GraphSource, type EventRecord } from './sampler.js';
import { SampleWriter, type Batch } from './writer.js';
import { Rollup } from './rollup.js';
import { ContainerEvents, flushEvents, DEFAULT_EVENT_LIMITS, type EventLimits } from './events.js';
import { HistoryQueries } from './queries.js';
import { parseRetention, formatRetention, type Tier } from './retention.js';
import type { TierSpan } from './plan.js';
import type { ContainerChange } from '../identity/types.js';
import { HISTORY_DEFAULTS } from '../config/defaults.js';

export interface HistoryOptions {
  file: string;
  tiers?: Tier[];
  /** How often the live graph is sampled and written; at most the finest resolution, and a divisor of it. Default: the finest resolution. */
  flushIntervalMs?: number;
  /** Injectable clock (tests drive time with it). */
  clock?: () => number;
  limits?: EventLimits;
  /** Where flush errors are reported (default stderr). */
  warn?: (msg: string) => void;
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
}

export class HistoryStore {
  readonly file: string;
  readonly tiers: Tier[];
  readonly flushIntervalMs: number;
  readonly queries: HistoryQueries;
  private readonly db: Db;
  private readonly dims: Dimensions;
  private readonly writer: SampleWriter;
  private readonly rollup: Rollup;
  private readonly containers: ContainerEvents;
  private readonly clock: () => number;
  private readonly warn: (msg: string) => void;
  private sampler: IntervalSampler | null = null;
  private detach: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAt: number | null = null;
  private lastPrune = -Infinity;
  private lastWarn = -Infinity;
  private flushes = 0;
  private failedFlushes = 0;
  private lastFlush: HistoryStatus['lastFlush'] = null;
  private closed = false;
  /** Timeline events from outside the graph (the policy's), written with the next flush. */
  private extraEvents: EventRecord[] = [];
  private extraDropped = 0;

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
    this.db = openDatabase(this.file);
    this.dims = new Dimensions(this.db);
    this.writer = new SampleWriter(this.db, this.dims, r0);
    this.rollup = new Rollup(this.db, this.tiers);
    this.queries = new HistoryQueries(this.db, this.dims, () => this.spans(), this.clock);
  }

  /** Starts following a live graph (and container changes); records an agent_started event. */
  attach(graph: GraphSource, identity?: Pick<EventEmitter, 'on' | 'off'>): void {
    this.sampler = new IntervalSampler(graph);
    this.lastFlushAt = this.clock();
    if (identity) {
      const onChange = (c: ContainerChange) => this.containers.add(c, this.clock());
      identity.on('change', onChange);
      this.detach = () => identity.off('change', onChange);
    }
    this.record({ time: this.lastFlushAt, bucket: this.bucketOf(this.lastFlushAt), rows: [], nodes: new Map(), events: [{ time: this.lastFlushAt, type: 'agent_started', detail: { retention: formatRetention(this.tiers) } }] });
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
    const prev = this.lastFlushAt ?? now - this.flushIntervalMs;
    let batch: Batch;
    try {
      const s = this.sampler.sample(now);
      // An interval's numbers go to the bucket holding its midpoint, so flushes late by a few ms still land right.
      batch = { time: now, bucket: this.bucketOf((prev + now) / 2), rows: s.rows, nodes: s.nodes, events: flushEvents(s, this.containers.drain(), now, this.opts.limits) };
      batch.events.push(...this.drainExtra(now));
    } catch (e) {
      this.failed(e);
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

  /** The write path (the flush, and the benchmark): one transaction with the rows, events, roll-ups and, now and then, pruning. */
  record(batch: Batch): void {
    const started = performance.now();
    try {
      this.db.transaction(() => {
        this.writer.write(batch);
        // Finest buckets before the one the next flush's midpoint falls in are final.
        this.rollup.rollUp(this.bucketOf(batch.time + this.flushIntervalMs / 2));
        if (batch.time - this.lastPrune >= HISTORY_DEFAULTS.maintenanceIntervalMs) this.prune(batch.time);
      })();
      this.flushes++;
      this.lastFlush = { time: batch.time, rows: batch.rows.length, events: batch.events.length, ms: Math.round((performance.now() - started) * 10) / 10 };
    } catch (e) {
      this.failed(e);
    }
  }

  private prune(now: number): void {
    this.rollup.prune(now);
    this.dims.prune(now - this.rollup.longestKeepMs() - HISTORY_DEFAULTS.lastSeenWriteMs);
    this.lastPrune = now;
  }

  private failed(e: unknown): void {
    this.failedFlushes++;
    const now = Date.now();
    if (now - this.lastWarn > 60_000) { this.lastWarn = now; this.warn(`history flush failed (${this.failedFlushes} so far): ${(e as Error).message}`); }
  }

  private bucketOf(t: number): number {
    const r = this.tiers[0].resolutionMs;
    return Math.floor(t / r) * r;
  }

  /** What each tier holds now. */
  spans(now = this.clock()): TierSpan[] {
    return this.tiers.map((t, k) => ({ resolutionMs: t.resolutionMs, from: now - t.keepMs, to: k === 0 ? Infinity : this.rollup.rolledUpTo(k) ?? -Infinity }));
  }

  now(): number { return this.clock(); }

  status(): HistoryStatus {
    let size = 0;
    for (const f of [this.file, `${this.file}-wal`]) { try { size += fs.statSync(f).size; } catch { /* not there */ } }
    const spans = this.spans();
    return {
      file: this.file, sizeBytes: size, flushIntervalMs: this.flushIntervalMs, retention: formatRetention(this.tiers),
      tiers: this.tiers.map((t, k) => ({ resolutionMs: t.resolutionMs, keepMs: t.keepMs, from: spans[k].from, to: k === 0 ? this.lastFlushAt : this.rollup.rolledUpTo(k), rolledUpTo: k === 0 ? null : this.rollup.rolledUpTo(k) })),
      flushes: this.flushes, failedFlushes: this.failedFlushes, lastFlush: this.lastFlush,
    };
  }

  /** Writes the last interval and an agent_stopped event, then closes the file. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.detach?.();
    if (this.sampler) {
      this.flush();
      const now = this.clock();
      this.record({ time: now, bucket: this.bucketOf(now), rows: [], nodes: new Map(), events: [{ time: now, type: 'agent_stopped' }] });
    }
    this.closed = true;
    this.db.close();
  }
}
