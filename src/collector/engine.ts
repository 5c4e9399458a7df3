// The probe engine: loads the kernel side, turns ring buffer batches and
// periodic map reads into ConnEvents, and counts everything it loses.
import { loadNative, type AttachResult, type Handle, type NativeLoader } from '../native/index.js';
import { BPF_OBJECT_PATH, DEFAULTS, OPTIONAL_PROGRAMS } from '../config/defaults.js';
import { decodeBatch, decodeConn, clockFrom, u64, type Clock } from '../events/decode.js';
import { CONN, EVENT_SIZE, Loss } from '../events/layout.js';
import type { ConnEvent } from '../events/types.js';
import { scanExisting, type ExistingSocket } from '../discovery/scan.js';
import { ensureTracefs } from './tracefs.js';
import fs from 'node:fs';

export interface EngineOptions {
  ringbufBytes?: number;
  connMapEntries?: number;
  flushIntervalMs?: number;
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

export type BatchListener = (events: ConnEvent[]) => void;

export class ProbeEngine {
  private native: NativeLoader;
  private handle: Handle | null = null;
  private clock: Clock;
  private listeners: BatchListener[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Last counters reported per open socket, to report only what moved. */
  private lastCounters = new Map<number, number>();
  private eventCount = 0;
  private malformed = 0;
  private probes: AttachResult[] = [];
  private readonly startedAt = Date.now();
  private tracked = 0;
  private consumerErrors = 0;
  private lastErrorLog = 0;

  constructor(private readonly opts: EngineOptions = {}) {
    this.native = loadNative();
    this.clock = clockFrom(this.native.bootTimeNs());
  }

  onEvents(fn: BatchListener): void {
    this.listeners.push(fn);
  }

  /** Loads and attaches the probes, then reports what already existed. Throws with a clear message if a required probe cannot attach. */
  start(): AttachResult[] {
    const objectPath = this.opts.objectPath ?? BPF_OBJECT_PATH;
    if (!fs.existsSync(objectPath)) throw new Error(`BPF object not built (${objectPath}); run: npm run setup`);
    ensureTracefs();
    this.handle = this.native.open(objectPath, {
      events: this.opts.ringbufBytes ?? DEFAULTS.ringbufBytes,
      conns: this.opts.connMapEntries ?? DEFAULTS.connMapEntries,
    });
    this.probes = this.native.attach(this.handle);
    const missing = this.probes.filter((p) => !p.ok && !OPTIONAL_PROGRAMS.has(p.program));
    if (missing.length) {
      this.stop();
      throw new Error(`cannot attach required probes: ${missing.map((p) => `${p.section} (${p.error})`).join(', ')}; run: dhrishti doctor`);
    }
    this.native.poll(this.handle, 'events', EVENT_SIZE, (buf, count) => this.onBatch(buf, count));
    const interval = this.opts.flushIntervalMs ?? DEFAULTS.flushIntervalMs;
    this.flushTimer = setInterval(() => this.flush(), interval);
    this.flushTimer.unref();
    if (this.opts.discover !== false) this.emit(this.discover());
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
    for (const e of events) if (e.type === 'close') this.lastCounters.delete(e.cookie);
    this.emit(events);
  }

  /** Reads every open connection's counters and reports those that moved. */
  flush(): void {
    if (!this.handle) return;
    this.native.drain(this.handle); // closes first, so a closed socket is not reported as traffic after its close
    const m = this.native.readMap(this.handle, 'conns');
    const now = Date.now();
    const out: ConnEvent[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < m.count; i++) {
      const cookie = u64(m.keys, i * m.keySize);
      const off = i * m.valueSize;
      seen.add(cookie);
      // Sum of the moving counters is a cheap change detector.
      const sig = u64(m.values, off + CONN.bytes_sent) + u64(m.values, off + CONN.bytes_received) * 3 +
        m.values.readUInt32LE(off + CONN.retransmits) * 7;
      if (this.lastCounters.get(cookie) === sig) continue;
      this.lastCounters.set(cookie, sig);
      const e = decodeConn(m.values, off, cookie, this.clock, now);
      if (e.bytesSent || e.bytesReceived || e.retransmits) out.push(e);
    }
    for (const c of this.lastCounters.keys()) if (!seen.has(c)) this.lastCounters.delete(c);
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

  private discover(): ConnEvent[] {
    const found = scanExisting();
    const listening = new Set(found.filter((s) => s.listening).map((s) => `${s.netns}:${s.sport}`));
    const now = Date.now();
    return found.map((s) => existingEvent(s, listening.has(`${s.netns}:${s.sport}`), now));
  }

  /** Detaches every probe. Safe to call twice. */
  stop(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (!this.handle) return;
    try { this.native.drain(this.handle); } catch { /* closing anyway */ }
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

