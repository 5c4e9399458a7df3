// The request (L7) collector: configures the kernel side, reads the per-socket
// aggregates at each periodic flush and yields what changed per socket cookie,
// decodes the rate-limited samples, and keeps the TLS uprobes on the files
// that need them. No record per request ever comes from the kernel.
import type { Handle, NativeLoader } from '../native/index.js';
import { L7_DEFAULTS } from '../config/defaults.js';
import { blankDelta, nonzeroOf, readL7Counts, setL7Socket, perCpuSum, u32, u64, type Clock } from '../events/decode.js';
import type { ConnEvent } from '../events/types.js';
import { WordView } from '../events/words.js';
import {
  L7_BUCKETS, L7_CLASSES, L7_CONFIG, L7_CONFIG_SIZE, L7_COUNTS, L7_COUNTS_SIZE, L7_FINAL, L7_FINAL_SIZE, L7_SAMPLE_SIZE,
  L7_SOCK, L7_SOCK_SIZE, L7Flag, L7Loss, L7Tally,
} from '../events/l7-layout.js';
import type { L7Delta, L7Sample } from './types.js';
import { decodeSamples, type SampleDecodeStats } from './samples.js';
import { TlsTargets, type TlsTargetStats } from './tls-targets.js';

export interface L7Options {
  socketEntries?: number;
  /** Entries of the l7_skip LRU: verdicts on sockets not parsed that have no conns entry of their own (default L7_DEFAULTS.skipEntries). */
  skipEntries?: number;
  prefixBytes?: number;
  samples?: boolean;
  samplesPerSec?: number;
  sampleBurst?: number;
  slowMs?: number;
  /** Every request becomes a sample (still rate-limited): `dhrishti trace --l7`. */
  sampleAll?: boolean;
  /** Parse both sockets of a connection whose two ends are on this host (by default only the client's,
   *  the one user space keeps: src/kernel/l7/peer.c). `dhrishti trace --l7` and the parsers' tests show each end. */
  bothEnds?: boolean;
  tls?: boolean;
  tlsMaxTargets?: number;
  tlsScanIntervalMs?: number;
  recentSamples?: number;
}

/** Uprobes of the L7 side (TLS plaintext), attached per library while L7 is on. The rest of its kernel code runs inside
 *  the connection probes' programs (src/kernel/sock_io.c, sock_close.c), switched by CAPTURE_SWITCHES.l7. */
export const L7_UPROBES = ['dh_ssl_write', 'dh_ssl_write_ex', 'dh_ssl_read', 'dh_ssl_read_ex', 'dh_ssl_ret'];

/** Map sizes the loader sets before loading, from the options. */
export function l7MapSizes(o: L7Options = {}): Record<string, number> {
  return {
    l7_socks: o.socketEntries ?? L7_DEFAULTS.socketEntries,
    l7_skip: o.skipEntries ?? L7_DEFAULTS.skipEntries,
    l7_peers: o.socketEntries ?? L7_DEFAULTS.socketEntries,
    h2_streams: L7_DEFAULTS.h2Streams,
    h2_clients: o.socketEntries ?? L7_DEFAULTS.socketEntries,
    l7_samples: L7_DEFAULTS.samplesRingbufBytes,
    l7_final: L7_DEFAULTS.finalRingbufBytes,
  };
}

export interface L7Losses {
  socketMapFull: number;
  samplesOverRate: number;
  samplesRingbufFull: number;
  skippedIo: number;
  desync: number;
  inflightFull: number;
  tlsUnmatched: number;
  stepLimit: number;
  /** Closed sockets whose last aggregate waited in the map for a flush (ring buffer full): not lost, but they used map space. */
  finalRingbufFull: number;
}

/** Work left out on purpose, counted beside the losses. */
export interface L7Tallies {
  /** Server sockets not parsed (or no longer) because their client, on this host, parses the same requests. */
  leftToClient: number;
  /** Redis replies too long to walk, each ended by its client's next request or the close (l7/redis.c). */
  longReplies: number;
}

export interface L7Stats {
  sockets: number;
  /** Batches a consumer (the graph) failed on: counted and logged, never thrown into the probes. */
  consumerErrors: number;
  losses: L7Losses;
  tallies: L7Tallies;
  samples: SampleDecodeStats;
  tls: TlsTargetStats | null;
}

type DeltaListener = (deltas: L7Delta[]) => void;
type SampleListener = (samples: L7Sample[]) => void;

export class L7Collector {
  /** Counters of each socket when last reported (the 144 counter bytes). */
  private last = new Map<number, Buffer>();
  private keys: Buffer | null = null;
  private values: Buffer | null = null;
  private deltaListeners: DeltaListener[] = [];
  private sampleListeners: SampleListener[] = [];
  private recent: L7Sample[] = [];
  private sockets = 0;
  private sampleStats: SampleDecodeStats = { samples: 0, unparsed: 0, malformed: 0 };
  private tls: TlsTargets | null = null;
  private readonly entries: number;
  private consumerErrors = 0;
  private lastErrorLog = 0;
  /** `l7_config` as last written, and its epoch: raised before each read of l7_socks (flush). */
  private config: Buffer | null = null;
  private epoch = 0;

  constructor(private native: NativeLoader, private handle: Handle, private clock: Clock, private opts: L7Options = {}) {
    this.entries = opts.socketEntries ?? L7_DEFAULTS.socketEntries;
  }

  onDeltas(fn: DeltaListener): void { this.deltaListeners.push(fn); }
  onSamples(fn: SampleListener): void { this.sampleListeners.push(fn); }

  /** Writes the configuration, starts taking samples and probing TLS libraries. */
  start(drainDelayMs: number): void {
    this.configure(true);
    this.native.poll(this.handle, 'l7_samples', L7_SAMPLE_SIZE, (buf, count) => this.onSampleBatch(buf, count), drainDelayMs);
    // One record per closed socket: batches in one reused Buffer (no copy or allocation per batch), read in place during the call.
    // Drained before each batch of connection events (the engine's leadingRings); this timer is a fallback.
    this.native.poll(this.handle, 'l7_final', L7_FINAL_SIZE, (buf, count) => this.onFinalBatch(buf, count), Math.max(drainDelayMs, L7_DEFAULTS.finalDrainFallbackMs), true);
    if (this.opts.tls ?? L7_DEFAULTS.tls) {
      this.tls = new TlsTargets(this.native, this.handle, { maxTargets: this.opts.tlsMaxTargets, scanIntervalMs: this.opts.tlsScanIntervalMs });
      this.tls.start();
    }
  }

  /** (Re)writes `l7_config`; enabled=false makes every L7 program return at once. */
  configure(enabled: boolean): void {
    const o = this.opts;
    const rate = o.samplesPerSec ?? (o.sampleAll ? L7_DEFAULTS.traceSamplesPerSec : L7_DEFAULTS.samplesPerSec);
    const burst = Math.max(1, o.sampleBurst ?? (o.sampleAll ? rate : L7_DEFAULTS.sampleBurst));
    const gap = Math.round(1e9 / Math.max(rate, 1e-3));
    const b = Buffer.alloc(L7_CONFIG_SIZE);
    b.writeBigUInt64LE(BigInt(Math.round(Math.min(o.slowMs ?? L7_DEFAULTS.slowMs, L7_DEFAULTS.maxSlowMs) * 1e6)), L7_CONFIG.slow_ns);
    b.writeBigUInt64LE(BigInt(gap), L7_CONFIG.sample_gap_ns);
    b.writeBigUInt64LE(BigInt(gap * burst), L7_CONFIG.sample_burst_ns);
    b.writeUInt32LE(Math.min(256, Math.max(0, o.prefixBytes ?? L7_DEFAULTS.prefixBytes)), L7_CONFIG.text_bytes);
    b[L7_CONFIG.enabled] = enabled ? 1 : 0;
    b[L7_CONFIG.samples] = (o.samples ?? L7_DEFAULTS.samples) || o.sampleAll ? 1 : 0;
    b[L7_CONFIG.sample_all] = o.sampleAll ? 1 : 0;
    b[L7_CONFIG.both_ends] = o.bothEnds ? 1 : 0;
    b.writeUInt32LE(this.epoch, L7_CONFIG.epoch);
    this.config = b;
    this.native.updateMap(this.handle, 'l7_config', Buffer.alloc(4), b);
  }

  /**
   * A new epoch before the read: a socket's latency maximum then belongs to the interval read now only if it is of
   * the epoch that just ended. Requests of the new one, timed between this write and the socket's read, restarted it:
   * that interval's maximum is lost (0, no bound), not taken from them.
   */
  private nextEpoch(): number {
    const ended = this.epoch;
    if (!this.config) return ended;
    this.epoch = (ended + 1) >>> 0;
    this.config.writeUInt32LE(this.epoch, L7_CONFIG.epoch);
    this.native.updateMap(this.handle, 'l7_config', Buffer.alloc(4), this.config);
    return ended;
  }

  private onSampleBatch(buf: Buffer, count: number): void {
    const samples = decodeSamples(buf, count, this.clock, this.sampleStats);
    if (!samples.length) return;
    const keep = this.opts.recentSamples ?? L7_DEFAULTS.recentSamples;
    this.recent.push(...samples);
    if (this.recent.length > keep) this.recent.splice(0, this.recent.length - keep);
    this.tell(this.sampleListeners, samples);
  }

  /**
   * Deltas of closed sockets, reused batch after batch: one socket closes per request under
   * connection-per-request load, and a delta with its two arrays per socket was a sixth of
   * everything the agent allocated. Listeners copy what they keep (L7Delta's contract).
   */
  private readonly finals: L7Delta[] = [];
  private readonly finalPool: L7Delta[] = [];

  /** Destroyed sockets: their last counters, reported as a closing delta. */
  private onFinalBatch(buf: Buffer, count: number): void {
    // A socket's samples were taken before it closed: read them first, so they find its connection still known.
    this.native.drain(this.handle, 'l7_samples');
    const out = this.finals, pool = this.finalPool;
    const hasLast = this.last.size > 0;
    let n = 0;
    for (let i = 0; i < count; i++) {
      // One record per closed socket, ten thousand a second under connection-per-request
      // load: read in place (no Buffer views), and `last` is looked at only when it holds any.
      const off = i * L7_FINAL_SIZE;
      const cookie = u64(buf, off + L7_FINAL.cookie);
      const prev = hasLast ? this.last.get(cookie) : undefined;
      if (prev) this.last.delete(cookie);
      else if (isZero(buf, off + L7_FINAL.counts, L7_COUNTS_SIZE)) continue;
      if (pool.length <= n) pool.push(blankDelta());
      out[n] = this.deltaOf(cookie, buf, off + L7_FINAL.counts, prev, true,
        buf.readUInt32LE(off + L7_FINAL.pid), buf[off + L7_FINAL.proto], buf[off + L7_FINAL.side], buf[off + L7_FINAL.flags], pool[n]);
      n++;
    }
    // Entries are overwritten and the length set, never emptied then pushed: emptying an array lets its
    // storage go, and pushing grew it again batch after batch (most of what this handler allocated).
    if (out.length !== n) out.length = n;
    if (n) this.tell(this.deltaListeners, out);
    if (n > FINAL_POOL_MAX) { pool.length = FINAL_POOL_MAX; out.length = 0; } // a burst's objects are not kept
  }

  /**
   * Closes that carry their socket's counts (ConnEvent.requests): those are totals since the socket was first
   * parsed, and a socket the periodic read reported before has that much on the map already. Its delta is made
   * of the rest, and the socket forgotten. (Only sockets that lived past a read are in `last`: none under
   * connection-per-request load.)
   */
  closing(events: readonly ConnEvent[]): void {
    if (!this.last.size) return;
    for (let i = 0; i < events.length; i++) {
      const d = events[i].requests;
      if (!d) continue;
      const prev = this.last.get(d.cookie);
      if (!prev) continue;
      this.last.delete(d.cookie);
      since(d, prev);
    }
  }

  /** A consumer's bug must not take the probes down (this runs in the native callback or the flush timer). */
  private tell<T>(fns: ((x: T) => void)[], x: T): void {
    for (const fn of fns) {
      try { fn(x); } catch (e) {
        this.consumerErrors++;
        if (Date.now() - this.lastErrorLog > 60_000) {
          this.lastErrorLog = Date.now();
          console.error(`dhrishti: error while handling request aggregates (${this.consumerErrors} so far): ${(e as Error).stack ?? e}`);
        }
      }
    }
  }

  /** Samples kept in memory, oldest first. */
  recentSamples(): readonly L7Sample[] { return this.recent; }

  /** Reads every socket's aggregate; reports those that moved, then forgets closed sockets (in the kernel too). */
  flush(): L7Delta[] {
    this.keys ??= Buffer.allocUnsafe(this.entries * 8);
    this.values ??= Buffer.allocUnsafe(this.entries * L7_SOCK_SIZE);
    const ended = this.nextEpoch();
    const m = this.native.readMap(this.handle, 'l7_socks', this.keys, this.values);
    const out: L7Delta[] = [];
    const closedKeys: number[] = [];
    for (let i = 0; i < m.count; i++) {
      const cookie = u64(m.keys, i * m.keySize);
      const off = i * m.valueSize;
      const flags = m.values[off + L7_SOCK.flags];
      const closed = (flags & L7Flag.CLOSED) !== 0;
      if (closed) closedKeys.push(i);
      const counts = m.values.subarray(off + L7_SOCK.counts, off + L7_SOCK.counts + L7_COUNTS_SIZE);
      const prev = this.last.get(cookie);
      if (prev && prev.equals(counts)) {
        if (closed && !isZero(counts, 0, counts.length)) out.push(this.delta(cookie, m.values, off, prev, true, true));
        continue;
      }
      if (!prev && isZero(counts, 0, counts.length)) {
        if (!closed) this.last.set(cookie, Buffer.from(counts));
        continue;
      }
      const d = this.delta(cookie, m.values, off, prev, closed, false);
      if (m.values.readUInt32LE(off + L7_SOCK.max_epoch) !== ended) d.latencyMaxUs = 0;
      out.push(d);
      this.last.set(cookie, Buffer.from(counts));
    }
    // A socket missing from the map was destroyed: its final record (ring buffer) ends it and clears `last`.
    if (closedKeys.length) {
      const del = Buffer.allocUnsafe(closedKeys.length * 8);
      closedKeys.forEach((idx, j) => m.keys.copy(del, j * 8, idx * m.keySize, idx * m.keySize + 8));
      this.native.deleteKeys(this.handle, 'l7_socks', del, closedKeys.length);
      for (const idx of closedKeys) this.last.delete(u64(m.keys, idx * m.keySize));
    }
    this.sockets = m.count - closedKeys.length;
    this.tell(this.deltaListeners, out);
    return out;
  }

  private delta(cookie: number, v: Buffer, off: number, prev: Buffer | undefined, closed: boolean, empty: boolean): L7Delta {
    const pid = v.readUInt32LE(off + L7_SOCK.pid), proto = v[off + L7_SOCK.proto], side = v[off + L7_SOCK.side], flags = v[off + L7_SOCK.flags];
    if (empty && prev) return this.deltaOf(cookie, prev, 0, prev, closed, pid, proto, side, flags);
    return this.deltaOf(cookie, v, off + L7_SOCK.counts, prev, closed, pid, proto, side, flags);
  }

  /** What moved between two readings of a socket's counters, those at c[at..] and prev (u32 counters wrap). */
  private deltaOf(
    cookie: number, c: Buffer, at: number, prev: Buffer | undefined, closed: boolean, pid: number, proto: number, side: number, flags: number,
    into?: L7Delta,
  ): L7Delta {
    const d = into ?? blankDelta();
    readL7Counts(this.words, c, at, d);
    if (prev) since(d, prev);
    setL7Socket(d, cookie, pid, proto, side, flags, closed);
    return d;
  }

  /** A socket's first counts are read as words in place (../events/words.ts). */
  private readonly words = new WordView();

  /** The per-CPU counters of `l7_losses`, summed, by index. */
  private counters(): (idx: number) => number {
    const m = this.native.readMap(this.handle, 'l7_losses');
    return (idx: number) => perCpuSum(m, idx);
  }

  tallies(sum = this.counters()): L7Tallies {
    return { leftToClient: sum(L7Tally.LEFT_TO_CLIENT), longReplies: sum(L7Tally.LONG_REPLY) };
  }

  losses(sum = this.counters()): L7Losses {
    return {
      socketMapFull: sum(L7Loss.SOCK_MAP_FULL), samplesOverRate: sum(L7Loss.SAMPLE_RATE), samplesRingbufFull: sum(L7Loss.SAMPLE_RINGBUF),
      skippedIo: sum(L7Loss.SKIPPED_IO), desync: sum(L7Loss.DESYNC), inflightFull: sum(L7Loss.INFLIGHT_FULL),
      tlsUnmatched: sum(L7Loss.TLS_UNMATCHED), stepLimit: sum(L7Loss.STEPS), finalRingbufFull: sum(L7Loss.FINAL_RINGBUF),
    };
  }

  stats(): L7Stats {
    const sum = this.counters(); // one read of the map for both
    return { sockets: this.sockets, consumerErrors: this.consumerErrors, losses: this.losses(sum), tallies: this.tallies(sum), samples: { ...this.sampleStats }, tls: this.tls ? { ...this.tls.stats, files: [...this.tls.stats.files] } : null };
  }

  /** Looks for TLS libraries in processes started since the last scan (tests call it to skip the wait). */
  scanTls(): number { return this.tls?.scan() ?? 0; }

  stop(): void {
    this.tls?.stop();
  }
}

/** Closed sockets' deltas kept for reuse at most (a burst's batch may be larger). */
const FINAL_POOL_MAX = 4096;

/** Makes a socket's totals (d) what moved since an earlier reading of its counts (prev, a struct dh_l7_counts); u32 counters wrap. */
function since(d: L7Delta, prev: Buffer): void {
  for (let k = 0; k < L7_CLASSES; k++) d.requests[k] = (d.requests[k] - u32(prev, L7_COUNTS.requests + 4 * k)) >>> 0;
  for (let k = 0; k < L7_BUCKETS; k++) d.buckets[k] = (d.buckets[k] - u32(prev, L7_COUNTS.buckets + 4 * k)) >>> 0;
  d.latencySumNs -= u64(prev, L7_COUNTS.latency_sum_ns);
  d.unpaired = (d.unpaired - u32(prev, L7_COUNTS.unpaired)) >>> 0;
  d.nonzero = nonzeroOf(d.requests, d.buckets); // exact again (a superset already, but a wrapped counter is not)
}

function isZero(b: Buffer, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) if (b[i]) return false;
  return true;
}
