// The probe engine: loads the kernel side, turns ring buffer batches and
// periodic map reads into ConnEvents, and counts everything it loses.
import { loadNative, type AttachResult, type Handle, type MapContents, type NativeLoader } from '../native/index.js';
import { BPF_OBJECT_PATH, DEFAULTS, OPTIONAL_PROGRAMS } from '../config/defaults.js';
import { decodeBatch, decodeConn, clockFrom, u64, type Clock } from '../events/decode.js';
import { CONN, CONN_SIZE, EVENT_SIZE, Loss } from '../events/layout.js';
import type { ConnEvent } from '../events/types.js';
import { scanExisting, type ExistingSocket } from '../discovery/scan.js';
import { ensureTracefs } from './tracefs.js';
import fs from 'node:fs';

export interface EngineOptions {
  ringbufBytes?: number;
  connMapEntries?: number;
  flushIntervalMs?: number;
  /** After the first record of a burst, wait this long before draining the ring buffer. */
  drainDelayMs?: number;
  /** Report connections and listeners that predate the agent (default true). */
  discover?: boolean;
  objectPath?: string;
}

export interface EngineStats {
  events: number;
  lost: { ringbufFull: number; connMapFull: number; malformed: number; total: number };
  /** Batches a consumer failed on (the events were counted but not all consumed). */
  consumerErrors: number;
  trackedConnections: number;
  probes: AttachResult[];
  startedAt: number;
}

/** What a capture sharing the engine's BPF object may do once it is loaded. */
export interface KernelAccess {
  readonly clock: Clock;
  readonly probes: AttachResult[];
  /** Its own ring buffer, drained with the engine's (same wake-ups). */
  pollRing(map: string, recordSize: number, onBatch: (buf: Buffer, count: number) => void): void;
  readMap(name: string): MapContents;
  updateMap(name: string, key: Buffer, value: Buffer): void;
  /** Records of that ring the loader skipped (wrong size). */
  ringMalformed(map: string): number;
}

/** A capture in the same BPF object (DNS; L7 later): sizes its maps before load, then reads its rings. */
export interface EngineExtension {
  mapSizes(): Record<string, number>;
  attach(kernel: KernelAccess): void;
  /** The object is about to close: last chance to drain and read. */
  detach?(): void;
}

/** Traffic updates reach consumers in batches of at most this many, so no single callback grows the heap much. */
const FLUSH_BATCH = 2048;

/**
 * Receives events in batches. Traffic events are reused between flushes (one
 * object per open socket, updated in place): copy what you keep beyond the call.
 */
export type BatchListener = (events: ConnEvent[]) => void;

export class ProbeEngine {
  private native: NativeLoader;
  private handle: Handle | null = null;
  private clock: Clock;
  private listeners: BatchListener[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Per open socket: its counters when last reported, and its decoded event to copy (no new strings per flush). */
  private known = new Map<number, { sig: number; gen: number; ev: ConnEvent }>();
  private gen = 0;
  /** Reused every flush: the conns map is read straight into them. */
  private mapKeys: Buffer | null = null;
  private mapValues: Buffer | null = null;
  /** Resolves once start-up discovery has been reported (or at once without it). */
  ready: Promise<void> = Promise.resolve();
  private eventCount = 0;
  private malformed = 0;
  private probes: AttachResult[] = [];
  private readonly startedAt = Date.now();
  private tracked = 0;
  private consumerErrors = 0;
  private lastErrorLog = 0;
  private extensions: EngineExtension[] = [];

  constructor(private readonly opts: EngineOptions = {}) {
    this.native = loadNative();
    this.clock = clockFrom(this.native.bootTimeNs());
  }

  onEvents(fn: BatchListener): void {
    this.listeners.push(fn);
  }

  /** Adds a capture that shares the BPF object; call before start(). */
  use(ext: EngineExtension): void {
    this.extensions.push(ext);
  }

  private kernelAccess(): KernelAccess {
    const h = () => {
      if (!this.handle) throw new Error('probes are stopped');
      return this.handle;
    };
    return {
      clock: this.clock,
      probes: this.probes,
      pollRing: (map, size, fn) => this.native.poll(h(), map, size, fn, this.opts.drainDelayMs ?? DEFAULTS.drainDelayMs),
      readMap: (name) => this.native.readMap(h(), name),
      updateMap: (name, key, value) => this.native.updateMap(h(), name, key, value),
      ringMalformed: (map) => (this.handle ? this.native.stats(this.handle).rings?.[map] ?? 0 : 0),
    };
  }

  /** Loads and attaches the probes, then reports what already existed. Throws with a clear message if a required probe cannot attach. */
  start(): AttachResult[] {
    const objectPath = this.opts.objectPath ?? BPF_OBJECT_PATH;
    if (!fs.existsSync(objectPath)) throw new Error(`BPF object not built (${objectPath}); run: npm run setup`);
    ensureTracefs();
    this.handle = this.native.open(objectPath, {
      events: this.opts.ringbufBytes ?? DEFAULTS.ringbufBytes,
      conns: this.opts.connMapEntries ?? DEFAULTS.connMapEntries,
      ...Object.assign({}, ...this.extensions.map((x) => x.mapSizes())),
    });
    this.probes = this.native.attach(this.handle);
    const missing = this.probes.filter((p) => !p.ok && !OPTIONAL_PROGRAMS.has(p.program));
    if (missing.length) {
      this.stop();
      throw new Error(`cannot attach required probes: ${missing.map((p) => `${p.section} (${p.error})`).join(', ')}; run: dhrishti doctor`);
    }
    this.native.poll(this.handle, 'events', EVENT_SIZE, (buf, count) => this.onBatch(buf, count), this.opts.drainDelayMs ?? DEFAULTS.drainDelayMs);
    for (const x of this.extensions) {
      // An extension that cannot start must not stop the connection probes.
      try { x.attach(this.kernelAccess()); } catch (e) { console.error(`dhrishti: ${(e as Error).message}`); }
    }
    // Counters flow only after discovery, so an old connection is introduced before its traffic.
    const startFlushing = () => {
      if (!this.handle) return;
      this.flushTimer = setInterval(() => this.flush(), this.opts.flushIntervalMs ?? DEFAULTS.flushIntervalMs);
      this.flushTimer.unref();
    };
    if (this.opts.discover === false) startFlushing();
    else {
      this.ready = this.discover().catch((e) => {
        console.error(`dhrishti: start-up discovery failed: ${(e as Error).message}`);
      }).finally(startFlushing);
    }
    return this.probes;
  }

  private emit(events: ConnEvent[]): void {
    if (!events.length) return;
    this.eventCount += events.length;
    for (const fn of this.listeners) {
      // A consumer's bug must not take the probes down (this runs inside the native callback).
      try { fn(events); } catch (e) {
        this.consumerErrors++;
        if (Date.now() - this.lastErrorLog > 60_000) {
          this.lastErrorLog = Date.now();
          console.error(`dhrishti: error while handling events (${this.consumerErrors} so far): ${(e as Error).stack ?? e}`);
        }
      }
    }
  }

  private onBatch(buf: Buffer, count: number): void {
    const { events, malformed } = decodeBatch(buf, count, this.clock);
    this.malformed += malformed;
    for (const e of events) if (e.type === 'close') this.known.delete(e.cookie);
    this.emit(events);
  }

  /** Reads every open connection's counters and reports those that moved, in bounded batches. */
  flush(): void {
    if (!this.handle) return;
    this.native.drain(this.handle); // closes first, so a closed socket is not reported as traffic after its close
    const entries = this.opts.connMapEntries ?? DEFAULTS.connMapEntries;
    this.mapKeys ??= Buffer.allocUnsafe(entries * 8);
    this.mapValues ??= Buffer.allocUnsafe(entries * CONN_SIZE);
    const m = this.native.readMap(this.handle, 'conns', this.mapKeys, this.mapValues);
    const now = Date.now();
    const gen = ++this.gen;
    let out: ConnEvent[] = [];
    for (let i = 0; i < m.count; i++) {
      const cookie = u64(m.keys, i * m.keySize);
      const off = i * m.valueSize;
      const sent = u64(m.values, off + CONN.bytes_sent), received = u64(m.values, off + CONN.bytes_received);
      const retrans = m.values.readUInt32LE(off + CONN.retransmits);
      const sig = sent + received * 3 + retrans * 7; // a cheap change detector
      const k = this.known.get(cookie);
      if (k) {
        k.gen = gen;
        if (k.sig === sig) continue;
        k.sig = sig;
      }
      if (!sent && !received && !retrans) { if (!k) this.known.set(cookie, { sig, gen, ev: decodeConn(m.values, off, cookie, this.clock, now) }); continue; }
      let ev: ConnEvent;
      const pid = m.values.readUInt32LE(off + CONN.pid);
      if (k && (!pid || pid === k.ev.pid)) {
        // The same object each second, updated in place: no garbage per open connection.
        ev = k.ev;
        ev.time = now; ev.bytesSent = sent; ev.bytesReceived = received; ev.retransmits = retrans;
        ev.srttUs = m.values.readUInt32LE(off + CONN.srtt_us);
      } else {
        ev = decodeConn(m.values, off, cookie, this.clock, now);
        if (k) k.ev = ev; else this.known.set(cookie, { sig, gen, ev });
      }
      out.push(ev);
      if (out.length >= FLUSH_BATCH) { this.emit(out); out = []; }
    }
    for (const [c, k] of this.known) if (k.gen !== gen) this.known.delete(c);
    this.tracked = m.count;
    this.emit(out);
  }

  lossCounts(): { ringbufFull: number; connMapFull: number } {
    if (!this.handle) return { ringbufFull: 0, connMapFull: 0 };
    const m = this.native.readMap(this.handle, 'losses');
    const sum = (idx: number) => {
      let s = 0;
      for (let off = idx * m.valueSize; off < (idx + 1) * m.valueSize; off += 8) s += u64(m.values, off);
      return s;
    };
    return { ringbufFull: sum(Loss.RINGBUF_FULL), connMapFull: sum(Loss.CONN_MAP_FULL) };
  }

  stats(): EngineStats {
    const l = this.lossCounts();
    const malformed = this.malformed + (this.handle ? this.native.stats(this.handle).malformed : 0);
    return {
      events: this.eventCount,
      lost: { ...l, malformed, total: l.ringbufFull + l.connMapFull + malformed },
      trackedConnections: this.tracked,
      consumerErrors: this.consumerErrors,
      probes: this.probes,
      startedAt: this.startedAt,
    };
  }

  /** Reports what existed before the probes: listeners first, then connections, in bounded batches. */
  private async discover(): Promise<void> {
    const found = await scanExisting();
    found.sort((a, b) => Number(b.listening) - Number(a.listening));
    const listening = new Set(found.filter((s) => s.listening).map((s) => `${s.netns}:${s.sport}`));
    const now = Date.now();
    for (let i = 0; i < found.length && this.handle; i += FLUSH_BATCH) {
      this.emit(found.slice(i, i + FLUSH_BATCH).map((s) => existingEvent(s, listening.has(`${s.netns}:${s.sport}`), now)));
      await new Promise((r) => setImmediate(r)); // let the ring buffer drain and young garbage die between batches
    }
  }

  /** Detaches every probe. Safe to call twice. */
  stop(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (!this.handle) return;
    try { this.native.drain(this.handle); } catch { /* closing anyway */ }
    for (const x of this.extensions) {
      try { x.detach?.(); } catch { /* closing anyway */ }
    }
    this.native.close(this.handle);
    this.handle = null;
  }
}

function existingEvent(s: ExistingSocket, serverSide: boolean, now: number): ConnEvent {
  return {
    type: s.listening ? 'listen' : 'existing',
    time: now,
    cookie: 0,
    role: s.listening || serverSide ? 'server' : 'client',
    family: s.family,
    saddr: s.saddr,
    sport: s.sport,
    daddr: s.daddr,
    dport: s.dport,
    pid: s.pid,
    comm: s.comm,
    cgroupId: s.cgroupId,
    netns: s.netns,
    bytesSent: 0,
    bytesReceived: 0,
    retransmits: 0,
    srttUs: 0,
    startTime: null,
    established: !s.listening,
    resetSent: false,
    resetReceived: false,
    midflight: true,
    oldState: 0,
    newState: s.state,
    error: null,
    failure: null,
  };
}

