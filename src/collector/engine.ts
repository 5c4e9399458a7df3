// The probe engine: loads the kernel side, turns ring buffer batches and
// periodic map reads into ConnEvents, and counts everything it loses.
import { loadNative, PRIVILEGE_HINT, type AttachResult, type Handle, type NativeLoader } from '../native/index.js';
import type { EngineExtension, KernelAccess } from '../native/capture.js';

import { BPF_OBJECT_PATH, CAPTURE_PROGRAMS, CAPTURE_SWITCHES, DEFAULTS, L7_DEFAULTS, OPTIONAL_TRACEPOINTS } from '../config/defaults.js';
import { decodeExec, EXEC_SIZE, type ExecFacts } from '../events/proc-layout.js';
import { decodeBatch, decodeConn, clockFrom, passEnd, perCpuSum, u32, u64, type Clock } from '../events/decode.js';
import { CONN, CONN_SIZE, EVENT_SIZE, Loss } from '../events/layout.js';
import type { ConnEvent, CounterUpdate } from '../events/types.js';
import { scanExisting, type ExistingSocket } from '../discovery/scan.js';
import { ensureTracefs } from './tracefs.js';
import fs from 'node:fs';
import type { L7Collector, L7Options } from '../l7/collector.js';
import { L7Capture } from '../l7/extension.js';

export interface EngineOptions {
  ringbufBytes?: number;
  connMapEntries?: number;
  flushIntervalMs?: number;
  /** After the first record of a burst, wait this long before draining the ring buffer. */
  drainDelayMs?: number;
  /** Report connections and listeners that predate the agent (default true). */
  discover?: boolean;
  /**
   * Report each connection attempt as it starts (default true). The live map
   * needs none: the established and close events carry the same facts, and the
   * kernel then writes 20% fewer records per connection.
   */
  connectEvents?: boolean;
  /**
   * Leave out the handshake record of a server socket whose close is in the same batch (default
   * false): its close says all it said (decodeBatch). For consumers that apply a batch at once,
   * like the live map; `trace` prints every record.
   */
  foldHandshakes?: boolean;
  /** Ring slots handed on at once, at most (DEFAULTS.batchSlots). */
  batchSlots?: number;
  objectPath?: string;
  /** Request capture (L7): options, or false to leave it out. */
  l7?: L7Options | false;
}

export interface EngineStats {
  events: number;
  /** Sockets whose close the kernel reported (each local connection is two). */
  closes: number;
  /** probeSkipped: program runs the kernel skipped (recursion misses), each an event not seen. */
  lost: { ringbufFull: number; connMapFull: number; malformed: number; probeSkipped: number; total: number };
  /** Recursion misses by program, for every loaded program of the object (L7's too). */
  skippedRuns: Record<string, number>;
  /** Batches a consumer failed on (the events were counted but not all consumed). */
  consumerErrors: number;
  /** Tail loss probes sent on any TCP socket: left out of every socket's retransmits (tcp/retransmit.c). */
  tcpLossProbes: number;
  trackedConnections: number;
  /** Sockets start-up discovery found, and how long it took; null until done (or without discovery). */
  discovery: { sockets: number; scanMs: number; ms: number } | null;
  probes: AttachResult[];
  startedAt: number;
}

const matches = (patterns: readonly string[], name: string) =>
  patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
const ALL_CAPTURE_PROGRAMS: readonly string[] = Object.values(CAPTURE_PROGRAMS).flat();
/** Programs of OPTIONAL_TRACEPOINTS, named after their tracepoint like every core program. */
const OPTIONAL_PROGRAMS: readonly string[] = OPTIONAL_TRACEPOINTS.map((t) => `dh_${t.split('/')[1]}`);
/** Every capture off: each extension loaded turns its own back on. */
const CAPTURES_OFF: Record<string, number> = Object.fromEntries(Object.values(CAPTURE_SWITCHES).map((k) => [k, 0]));

/** Counter updates reach consumers in batches of at most this many, so no single callback grows the heap much. */
const FLUSH_BATCH = 2048;

/**
 * Receives connection events in batches (lifecycle from the ring buffer,
 * start-up discovery, sockets first seen in the map). The array and its event
 * objects are reused by the next batch: copy what you keep beyond the call.
 */
export type BatchListener = (events: ConnEvent[]) => void;

/**
 * Receives the counters of open sockets that moved since the last read, for
 * sockets already introduced by an event. The array and its objects are
 * reused by the next read: copy what you keep beyond the call.
 */
export type CounterListener = (updates: CounterUpdate[], time: number) => void;

/**
 * Sockets first seen in the counters read are introduced by a full event, at
 * most this many per read: after a start with tens of thousands of open
 * sockets they follow over a few reads instead of in one burst (their counters
 * are cumulative, so nothing is lost by waiting).
 */
const INTRODUCTIONS_PER_READ = 4096;

/** What the engine last told consumers about an open socket. */
interface Known { sig: number; gen: number; pid: number }

/** The change detector over a socket's counters (cheap, and exact enough: counters only grow). */
const signature = (sent: number, received: number, retransmits: number) => sent + received * 3 + retransmits * 7;

export class ProbeEngine {
  private native: NativeLoader;
  private handle: Handle | null = null;
  private clock: Clock;
  private listeners: BatchListener[] = [];
  private counterListeners: CounterListener[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Per open socket found by a counters read: its counters and owner when last reported. */
  private known = new Map<number, Known>();
  private gen = 0;
  /** Ring buffer events, reused from one batch to the next. */
  private eventPool: ConnEvent[] = [];
  /** The list of a batch's events, reused too. */
  private eventList: ConnEvent[] = [];
  /** Counter updates, reused from one read to the next. */
  private pool: CounterUpdate[] = [];
  private batch: CounterUpdate[] = [];
  /** Reused every flush: the conns map is read straight into them. */
  private mapKeys: Buffer | null = null;
  private mapValues: Buffer | null = null;
  /** What start-up discovery found, and how long it took (walking /proc, then reporting); null until done. */
  discovery: { sockets: number; scanMs: number; ms: number } | null = null;
  /** Resolves once start-up discovery has been reported (or at once without it). */
  ready: Promise<void> = Promise.resolve();
  private eventCount = 0;
  private closeCount = 0;
  private malformed = 0;
  private probes: AttachResult[] = [];
  private readonly startedAt = Date.now();
  private tracked = 0;
  private consumerErrors = 0;
  private lastErrorLog = 0;
  private extensions: EngineExtension[] = [];
  /** Rings of the attached captures to drain before connection events (EngineExtension.leadingRings). */
  private leadingRings: string[] = [];
  /** Attached captures that look at each batch of events before its consumers (EngineExtension.decoded). */
  private decodedHooks: EngineExtension[] = [];
  private readonly l7Capture: L7Capture | null;

  constructor(private readonly opts: EngineOptions = {}) {
    this.native = loadNative();
    this.clock = clockFrom(this.native.bootTimeNs());
    const l7Off = opts.l7 === false || (opts.l7 === undefined && !L7_DEFAULTS.enabled);
    this.l7Capture = l7Off ? null : new L7Capture(opts.l7 || {});
    if (this.l7Capture) this.use(this.l7Capture);
  }

  /** Request (L7) collector, when L7 capture is on and the kernel accepted its programs. */
  get l7(): L7Collector | null {
    return this.l7Capture?.collector ?? null;
  }

  /** Why L7 capture is off, if it is. */
  get l7Unavailable(): string | null {
    return this.l7Capture ? this.l7Capture.unavailableReason : 'turned off';
  }

  /** Adds a capture that shares the BPF object; call before start(). */
  use(ext: EngineExtension): void {
    if (this.handle) throw new Error('engine.use() must come before start()');
    this.extensions.push(ext);
  }

  onEvents(fn: BatchListener): void {
    this.listeners.push(fn);
  }

  onCounters(fn: CounterListener): void {
    this.counterListeners.push(fn);
  }

  /** Loads and attaches the probes, then reports what already existed. Throws with a clear message if a required probe cannot attach. */
  start(): AttachResult[] {
    const objectPath = this.opts.objectPath ?? BPF_OBJECT_PATH;
    if (!fs.existsSync(objectPath)) throw new Error(`BPF object not built (${objectPath}); run: npm run setup`);
    ensureTracefs();
    const sizes = {
      events: this.opts.ringbufBytes ?? DEFAULTS.ringbufBytes,
      conns: this.opts.connMapEntries ?? DEFAULTS.connMapEntries,
      exec_args: DEFAULTS.execArgsEntries,
      ...Object.assign({}, ...this.extensions.map((x) => x.mapSizes())),
    };
    const consts = { dh_report_connect: this.opts.connectEvents === false ? 0 : 1 };
    const { handle, loaded } = this.loadOrSayWhy(objectPath, sizes, consts);
    this.handle = handle;
    this.probes = this.native.attach(this.handle);
    const missing = this.probes.filter((p) => !p.ok && !matches(ALL_CAPTURE_PROGRAMS, p.program) && !OPTIONAL_PROGRAMS.includes(p.program));
    if (missing.length) {
      this.stop();
      throw new Error(`cannot attach required probes: ${missing.map((p) => `${p.section} (${p.error})`).join(', ')}; run: dhrishti doctor`);
    }
    const drainDelayMs = this.opts.drainDelayMs ?? DEFAULTS.drainDelayMs;
    this.native.poll(this.handle, 'events', EVENT_SIZE, (buf, count) => this.onBatch(buf, count), drainDelayMs, true);
    const kernel: KernelAccess = { native: this.native, handle: this.handle, clock: this.clock, probes: this.probes, drainDelayMs };
    for (const x of loaded) {
      // A capture that cannot start must not stop the connection probes.
      try {
        x.attach(kernel);
        this.leadingRings.push(...(x.leadingRings ?? []));
        if (x.decoded) this.decodedHooks.push(x);
      } catch (e) { x.unavailable((e as Error).message); console.error(`dhrishti: ${(e as Error).message}`); }
    }
    // Counters flow only after discovery, so an old connection is introduced before its traffic.
    // The request aggregates are read from the start meanwhile: closed sockets' entries must
    // leave the kernel's map (a busy host fills it within a second), and the graph holds
    // counts of sockets it does not know yet for a while.
    if (this.l7 && this.opts.discover !== false) {
      this.flushTimer = setInterval(() => { if (this.handle) this.l7?.flush(); }, this.opts.flushIntervalMs ?? DEFAULTS.flushIntervalMs);
      this.flushTimer.unref();
    }
    const startFlushing = () => {
      if (this.flushTimer) clearInterval(this.flushTimer);
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

  /**
   * Loads the object with the programs of the captures in use. If the kernel
   * rejects it, the captures are left out one at a time, then all together:
   * the connection probes must load whatever a capture's programs do.
   */
  /** load(), with what to do when the process may not load BPF at all (not root, no CAP_BPF). */
  private loadOrSayWhy(objectPath: string, sizes: Record<string, number>, consts: Record<string, number>): { handle: Handle; loaded: EngineExtension[] } {
    try {
      return this.load(objectPath, sizes, consts);
    } catch (e) {
      const m = (e as Error).message;
      if (/Operation not permitted/.test(m) && process.getuid?.() !== 0) throw new Error(`${m}: ${PRIVILEGE_HINT}`);
      throw e;
    }
  }

  private load(objectPath: string, sizes: Record<string, number>, consts: Record<string, number>): { handle: Handle; loaded: EngineExtension[] } {
    const inUse = this.extensions.flatMap((x) => x.programs);
    const unused = ALL_CAPTURE_PROGRAMS.filter((p) => !inUse.includes(p));
    const without = (left: EngineExtension[]) => [...unused, ...left.flatMap((x) => x.programs)];
    const switches = (loaded: EngineExtension[]) => ({ ...consts, ...CAPTURES_OFF, ...Object.fromEntries(loaded.map((x) => [x.kernelSwitch, 1])) });
    let first: Error;
    try {
      return { handle: this.native.open(objectPath, sizes, unused, switches(this.extensions)), loaded: this.extensions };
    } catch (e) {
      if (!this.extensions.length) throw e;
      first = e as Error;
    }
    const tries = this.extensions.length > 1 ? [...this.extensions.map((x) => [x]), this.extensions] : [this.extensions];
    for (const left of tries) {
      let handle: Handle;
      try { handle = this.native.open(objectPath, sizes, without(left), switches(this.extensions.filter((x) => !left.includes(x)))); } catch { continue; }
      for (const x of left) {
        const reason = `the kernel rejected its programs (${first.message})`;
        x.unavailable(reason);
        console.error(`dhrishti: capture ${[x.kernelSwitch, ...x.programs].join(', ')} unavailable: ${reason}`);
      }
      return { handle, loaded: this.extensions.filter((x) => !left.includes(x)) };
    }
    throw first;
  }

  private emit(events: ConnEvent[]): void {
    if (!events.length) return;
    this.eventCount += events.length;
    for (const fn of this.listeners) {
      // A consumer's bug must not take the probes down (this runs inside the native callback).
      try { fn(events); } catch (e) { this.consumerFailed(e); }
    }
  }

  private emitCounters(updates: CounterUpdate[], time: number): void {
    if (!updates.length) return;
    this.eventCount += updates.length;
    for (const fn of this.counterListeners) {
      try { fn(updates, time); } catch (e) { this.consumerFailed(e); }
    }
  }

  private consumerFailed(e: unknown): void {
    this.consumerErrors++;
    if (Date.now() - this.lastErrorLog > 60_000) {
      this.lastErrorLog = Date.now();
      console.error(`dhrishti: error while handling events (${this.consumerErrors} so far): ${(e as Error).stack ?? e}`);
    }
  }

  private onBatch(buf: Buffer, count: number): void {
    if (this.leadingRings.length && this.handle) for (const r of this.leadingRings) this.native.drain(this.handle, r);
    // In passes small enough that what one touches stays in the core's cache (DEFAULTS.batchSlots).
    const max = this.opts.batchSlots ?? DEFAULTS.batchSlots;
    if (count <= max) { this.onPass(buf, count); return; }
    for (let i = 0; i < count;) {
      let end = passEnd(buf, i, count, max);
      if (end <= i) end = count; // what is left is not whole records (never from the loader): decodeBatch counts it malformed
      this.onPass(buf.subarray(i * EVENT_SIZE, end * EVENT_SIZE), end - i);
      i = end;
    }
  }

  private onPass(buf: Buffer, count: number): void {
    const { events, malformed } = decodeBatch(buf, count, this.clock, this.eventPool, this.eventList, this.opts.foldHandshakes === true);
    this.malformed += malformed;
    for (const e of events) this.introduced(e);
    for (const x of this.decodedHooks) {
      try { x.decoded!(events); } catch (e) { this.consumerFailed(e); }
    }
    this.emit(events);
  }

  /**
   * A socket's close ends what the engine remembers of it. Sockets are
   * remembered from the first counters read that finds them, not from their
   * events: most sockets under a connection-per-request load live and die
   * between two reads and never need an entry.
   */
  private introduced(e: ConnEvent): void {
    if (e.type === 'close') { this.closeCount++; if (this.known.size) this.known.delete(e.cookie); }
  }

  /**
   * Reads every open socket's counters and reports those that moved: as small
   * counter updates for sockets consumers know, as a full 'traffic' event for a
   * socket first seen here (it predates the agent, or its first event was lost)
   * or whose owner just became known.
   */
  flush(): void {
    if (!this.handle) return;
    this.native.drain(this.handle); // closes first, so a closed socket is not reported as traffic after its close
    const entries = this.opts.connMapEntries ?? DEFAULTS.connMapEntries;
    this.mapKeys ??= Buffer.allocUnsafe(entries * 8);
    this.mapValues ??= Buffer.allocUnsafe(entries * CONN_SIZE);
    const m = this.native.readMap(this.handle, 'conns', this.mapKeys, this.mapValues);
    const now = Date.now();
    const gen = ++this.gen;
    const v = m.values;
    let intro: ConnEvent[] = [];
    let n = 0, introduced = 0;
    const batch = this.batch;
    batch.length = 0;
    for (let i = 0; i < m.count; i++) {
      const cookie = u64(m.keys, i * m.keySize);
      const off = i * m.valueSize;
      const sent = u64(v, off + CONN.bytes_sent), received = u64(v, off + CONN.bytes_received);
      const retrans = u32(v, off + CONN.retransmits);
      const pid = u32(v, off + CONN.pid);
      const sig = signature(sent, received, retrans);
      const k = this.known.get(cookie);
      if (k) {
        k.gen = gen;
        const newOwner = pid !== 0 && pid !== k.pid;
        if (k.sig === sig && !newOwner) continue;
        if (newOwner) {
          if (introduced >= INTRODUCTIONS_PER_READ) continue;
          introduced++;
          k.sig = sig; k.pid = pid;
          intro.push(decodeConn(v, off, cookie, this.clock, now));
          continue;
        }
        k.sig = sig;
      } else {
        // First read of this socket: consumers may know it from its events (then this full
        // event just refreshes it) or not (it predates the agent, or its events were lost).
        // A handshake in progress says nothing until it is established.
        if ((!sent && !received && !retrans) || introduced >= INTRODUCTIONS_PER_READ) continue;
        introduced++;
        this.known.set(cookie, { sig, gen, pid });
        intro.push(decodeConn(v, off, cookie, this.clock, now));
        continue;
      }
      let u = this.pool[n];
      if (!u) u = this.pool[n] = { cookie: 0, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, pid: 0 };
      n++;
      u.cookie = cookie; u.bytesSent = sent; u.bytesReceived = received; u.retransmits = retrans;
      u.srttUs = u32(v, off + CONN.srtt_us); u.pid = pid;
      batch.push(u);
      if (batch.length >= FLUSH_BATCH) { this.emitCounters(batch, now); batch.length = 0; }
      if (intro.length >= FLUSH_BATCH) { this.emit(intro); intro = []; }
    }
    this.known.forEach((k, c) => { if (k.gen !== gen && k.gen !== gen - 1) this.known.delete(c); }); // gone without a close we saw (forEach: no entry arrays)
    this.tracked = m.count;
    this.emit(intro);
    this.emitCounters(batch, now);
    batch.length = 0;
    if (this.pool.length > FLUSH_BATCH * 4) this.pool.length = FLUSH_BATCH; // a burst's worth is not kept forever
    for (const x of this.extensions) {
      try { x.flush?.(); } catch (e) { this.consumerFailed(e); }
    }
  }

  lossCounts(): { ringbufFull: number; connMapFull: number } {
    if (!this.handle) return { ringbufFull: 0, connMapFull: 0 };
    const m = this.native.readMap(this.handle, 'losses');
    return { ringbufFull: perCpuSum(m, Loss.RINGBUF_FULL), connMapFull: perCpuSum(m, Loss.CONN_MAP_FULL) };
  }

  private lossProbes(): number {
    return this.handle ? perCpuSum(this.native.readMap(this.handle, 'tcp_loss_probes'), 0) : 0;
  }

  private readonly execKey = Buffer.alloc(4);
  private readonly execValue = Buffer.alloc(EXEC_SIZE);

  /**
   * What exec said of a process (its program's name and arguments), from the kernel's exec_args: for a process
   * gone before /proc/<pid> was read. Null when not known (started before the agent, or the probe is not attached).
   */
  execFacts(pid: number): ExecFacts | null {
    if (!this.handle || pid <= 0) return null;
    this.execKey.writeUInt32LE(pid);
    try {
      return this.native.lookupMap(this.handle, 'exec_args', this.execKey, this.execValue) ? decodeExec(this.execValue) : null;
    } catch { return null; } // an object without the map (an older build): as if unknown
  }

  private readonly connKey = Buffer.alloc(8);
  private connValue: Buffer | null = null;

  /**
   * A socket's connection entry as the kernel has it now (ends, ports, owner), by cookie: for a reader that meets a
   * socket before the periodic read introduces it (trace --l7's requests on connections older than the trace).
   * Null when the kernel tracks no such socket.
   */
  connection(cookie: number): ConnEvent | null {
    if (!this.handle || cookie <= 0) return null;
    this.connKey.writeBigUInt64LE(BigInt(cookie));
    this.connValue ??= Buffer.alloc(CONN_SIZE);
    try {
      return this.native.lookupMap(this.handle, 'conns', this.connKey, this.connValue) ? { ...decodeConn(this.connValue, 0, cookie, this.clock, Date.now()) } : null;
    } catch { return null; }
  }

  /**
   * Time each program has run in the kernel, and its runs, since it was loaded: counted only while
   * kernel.bpf_stats_enabled is 1 (the counting itself costs two clock reads per run, so it is off unless asked for).
   */
  probeRunTime(): Record<string, { ns: number; runs: number }> {
    if (!this.handle) return {};
    const s = this.native.stats(this.handle);
    const out: Record<string, { ns: number; runs: number }> = {};
    for (const [name, ns] of Object.entries(s.runTimeNs)) out[name] = { ns, runs: s.runCount[name] ?? 0 };
    return out;
  }

  /** Instructions the verifier processed to accept each loaded program (empty before 5.16 kernels or before start). */
  verifiedInsns(): Record<string, number> {
    return this.handle ? this.native.stats(this.handle).verified ?? {} : {};
  }

  stats(): EngineStats {
    const l = this.lossCounts();
    const n = this.handle ? this.native.stats(this.handle) : null;
    const malformed = this.malformed + (n?.malformed ?? 0);
    const skippedRuns = n?.skipped ?? {};
    const probeSkipped = Object.values(skippedRuns).reduce((a, b) => a + b, 0);
    return {
      events: this.eventCount,
      closes: this.closeCount,
      lost: { ...l, malformed, probeSkipped, total: l.ringbufFull + l.connMapFull + malformed + probeSkipped },
      skippedRuns,
      trackedConnections: this.tracked,
      discovery: this.discovery,
      consumerErrors: this.consumerErrors,
      tcpLossProbes: this.lossProbes(),
      probes: this.probes,
      startedAt: this.startedAt,
    };
  }

  /** Reports what existed before the probes: listeners first, then connections, in bounded batches. */
  private async discover(): Promise<void> {
    const t0 = performance.now();
    const found = await scanExisting();
    const scanned = performance.now();
    found.sort((a, b) => Number(b.listening) - Number(a.listening));
    const listening = new Set(found.filter((s) => s.listening).map((s) => `${s.netns}:${s.sport}`));
    const now = Date.now();
    for (let i = 0; i < found.length && this.handle; i += FLUSH_BATCH) {
      this.emit(found.slice(i, i + FLUSH_BATCH).map((s) => existingEvent(s, listening.has(`${s.netns}:${s.sport}`), now)));
      await new Promise((r) => setImmediate(r)); // let the ring buffer drain and young garbage die between batches
    }
    this.discovery = { sockets: found.length, scanMs: Math.round(scanned - t0), ms: Math.round(performance.now() - t0) };
  }

  /** Detaches every probe. Safe to call twice. */
  stop(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (!this.handle) return;
    try { this.native.drain(this.handle); } catch { /* closing anyway */ }
    this.leadingRings = [];
    this.decodedHooks = [];
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
    startTime: 0,
    established: !s.listening,
    resetSent: false,
    resetReceived: false,
    resetUnread: false,
    midflight: true,
    l7: false,
    requests: null,
    oldState: 0,
    newState: s.state,
    error: null,
    failure: null,
  };
}

