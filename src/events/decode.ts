// Decodes ring buffer batches and conns-map values into ConnEvents.
// Hot path: plain offsets, no BigInt, one object per record.
import { CONN, CONN_SIZE, COMM_LEN, EVENT, EVENT_SIZE, EventKind, ConnFlag, Side } from './layout.js';
import { classifyClose, errnoName } from './classify.js';
import { addrText, isV4Mapped } from './address.js';
import { L7_BUCKETS, L7_CLASSES, L7_COUNTS, L7Flag } from './l7-layout.js';
import { NONZERO_BUCKET_BIT, PROTOCOLS, type ConnEvent, type EventType, type L7Delta, type Role } from './types.js';
import { TWO32, WordView } from './words.js';
import { printableByte } from './text.js';
const AF_INET = 2;

/**
 * Converts kernel CLOCK_BOOTTIME nanoseconds to Unix milliseconds. The decoder adds `offsetMs` itself
 * rather than calling: a double passed to or returned from a call that is not inlined is a new heap
 * number, and each record has two times.
 */
export interface Clock {
  /** Unix ms = boot ns / 1e6 + offsetMs. */
  readonly offsetMs: number;
  bootNsToUnixMs(ns: number): number;
}

export function clockFrom(bootTimeNs: number, nowMs = Date.now()): Clock {
  const offsetMs = nowMs - bootTimeNs / 1e6;
  return { offsetMs, bootNsToUnixMs: (ns) => ns / 1e6 + offsetMs };
}

const KIND_TYPE: Record<number, EventType> = {
  [EventKind.CONNECT]: 'connect',
  [EventKind.ESTABLISHED]: 'established',
  [EventKind.CLOSE]: 'close',
  [EventKind.LISTEN]: 'listen',
  [EventKind.LISTEN_CLOSE]: 'listen_close',
};
const ROLE: Role[] = ['unknown', 'client', 'server'];

// Plain byte reads: Buffer#readUInt32LE and friends validate their offset on
// every call, which costs about a third of the decoding time.
function u16(b: Buffer, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function u32(b: Buffer, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}

function i32(b: Buffer, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

export function u64(buf: Buffer, off: number): number {
  return u32(buf, off) + u32(buf, off + 4) * TWO32;
}

/** Slot `index` of a per-CPU array of u64 counters (one value per possible CPU), summed. */
export function perCpuSum(m: { valueSize: number; values: Buffer }, index: number): number {
  let s = 0;
  for (let off = index * m.valueSize; off < (index + 1) * m.valueSize; off += 8) s += u64(m.values, off);
  return s;
}

// A host has few distinct command names, and most records repeat the last few:
// a direct-mapped cache keyed by a hash of the bytes returns the same string.
const COMM_CACHE = 256;
const commKeys: (Uint8Array | undefined)[] = new Array(COMM_CACHE).fill(undefined);
const commText: string[] = new Array(COMM_CACHE).fill('');

function comm(b: Buffer, o: number): string {
  let len = 0, h = 2166136261;
  while (len < COMM_LEN && b[o + len] !== 0) { h = Math.imul(h ^ b[o + len], 16777619); len++; }
  const slot = (h >>> 0) & (COMM_CACHE - 1);
  const k = commKeys[slot];
  if (k && k.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) if (k[i] !== b[o + i]) { same = false; break; }
    if (same) return commText[slot];
  }
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(printableByte(b[o + i]));
  commKeys[slot] = Uint8Array.prototype.slice.call(b, o, o + len);
  commText[slot] = s;
  return s;
}

/** An event with every field present, in one order: fresh and reused events share one shape. */
function blankEvent(): ConnEvent {
  return {
    type: 'traffic', time: 0, cookie: 0, role: 'unknown', family: 4, saddr: '', sport: 0, daddr: '', dport: 0, pid: 0, comm: '',
    cgroupId: 0, netns: 0, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, startTime: 0, established: false,
    resetSent: false, resetReceived: false, resetUnread: false, midflight: false, l7: false, requests: null, oldState: 0, newState: 0, error: null, failure: null,
  };
}

// Records are read as words in place (./words.ts): a network namespace inode is above 2^31 on every
// host, and each such number a read helper returned was a new heap number, 32 bytes per record.
const WORDS = new WordView();
/** A record that does not start on a word (never one from the loader) is decoded from a copy that does, through its own view. */
const aligned = Buffer.alloc(EVENT_SIZE);
const ALIGNED_WORDS = new Uint32Array(aligned.buffer, aligned.byteOffset, EVENT_SIZE >>> 2);
const W_START = CONN.start_ns >>> 2, W_END = CONN.end_ns >>> 2, W_SENT = CONN.bytes_sent >>> 2, W_RECEIVED = CONN.bytes_received >>> 2;
const W_CGROUP = CONN.cgroup_id >>> 2, W_PID = CONN.pid >>> 2, W_NETNS = CONN.netns >>> 2, W_RETRANS = CONN.retransmits >>> 2, W_SRTT = CONN.srtt_us >>> 2;
const W_TS = EVENT.ts_ns >>> 2, W_COOKIE = EVENT.cookie >>> 2;
const W_REQUESTS = L7_COUNTS.requests >>> 2, W_BUCKETS = L7_COUNTS.buckets >>> 2, W_LATENCY = L7_COUNTS.latency_sum_ns >>> 2, W_UNPAIRED = L7_COUNTS.unpaired >>> 2, W_MAX = L7_COUNTS.latency_max_us >>> 2;

/**
 * Decodes a struct dh_conn at `c` (its words from `i` in `w`) into the connection fields of `into`,
 * or of a new event. The caller sets `time` and `cookie`: passed in, as doubles, they were boxed.
 */
function fillConn(buf: Buffer, c: number, w: Uint32Array, i: number, clock: Clock, type: EventType, into?: ConnEvent): ConnEvent {
  const af = u16(buf, c + CONN.family);
  const flags = buf[c + CONN.flags];
  const start = w[i + W_START] + w[i + W_START + 1] * TWO32;
  const e = into ?? blankEvent();
  e.type = type;
  e.role = ROLE[buf[c + CONN.side]] ?? 'unknown';
  e.family = af === AF_INET || isV4Mapped(buf, c + CONN.saddr) ? 4 : 6;
  e.saddr = addrText(buf, c + CONN.saddr, af);
  e.sport = u16(buf, c + CONN.sport);
  e.daddr = addrText(buf, c + CONN.daddr, af);
  e.dport = u16(buf, c + CONN.dport);
  e.pid = w[i + W_PID];
  e.comm = comm(buf, c + CONN.comm);
  e.cgroupId = w[i + W_CGROUP] + w[i + W_CGROUP + 1] * TWO32;
  e.netns = w[i + W_NETNS];
  e.bytesSent = w[i + W_SENT] + w[i + W_SENT + 1] * TWO32;
  e.bytesReceived = w[i + W_RECEIVED] + w[i + W_RECEIVED + 1] * TWO32;
  e.retransmits = w[i + W_RETRANS];
  e.srttUs = w[i + W_SRTT];
  e.startTime = start ? start / 1e6 + clock.offsetMs : 0;
  e.established = (flags & ConnFlag.ESTABLISHED) !== 0;
  e.resetSent = (flags & ConnFlag.RST_SENT) !== 0;
  e.resetReceived = (flags & ConnFlag.RST_RECV) !== 0;
  e.resetUnread = (flags & ConnFlag.RST_UNREAD) !== 0;
  e.midflight = (flags & ConnFlag.MIDFLIGHT) !== 0;
  e.l7 = buf[c + CONN.l7] !== 0;
  e.requests = null;
  e.oldState = 0;
  e.newState = 0;
  e.error = null;
  e.failure = null;
  return e;
}

/** Decodes one struct dh_event at byte offset `off` (into `into` when given). Returns null for an unknown kind. */
export function decodeEvent(buf: Buffer, off: number, clock: Clock, into?: ConnEvent): ConnEvent | null {
  const type = KIND_TYPE[buf[off + EVENT.kind]];
  if (!type) return null;
  let i = WORDS.index(buf, off), w = WORDS.words;
  if (i < 0) {
    buf.copy(aligned, 0, off, off + EVENT_SIZE);
    buf = aligned; off = 0;
    i = 0; w = ALIGNED_WORDS;
  }
  const e = fillConn(buf, off + EVENT.conn, w, i + (EVENT.conn >>> 2), clock, type, into);
  e.time = (w[i + W_TS] + w[i + W_TS + 1] * TWO32) / 1e6 + clock.offsetMs;
  e.cookie = w[i + W_COOKIE] + w[i + W_COOKIE + 1] * TWO32;
  e.oldState = buf[off + EVENT.old_state];
  e.newState = buf[off + EVENT.new_state];
  if (type === 'close') {
    const c = off + EVENT.conn;
    const skErr = i32(buf, c + CONN.close_err);
    const end = w[i + (EVENT.conn >>> 2) + W_END] + w[i + (EVENT.conn >>> 2) + W_END + 1] * TWO32;
    if (end) e.time = end / 1e6 + clock.offsetMs; // when it closed, not when it was freed
    e.error = errnoName(skErr);
    e.failure = classifyClose(e.oldState, skErr, buf[c + CONN.flags], e.retransmits, buf[c + CONN.side]);
  }
  return e;
}

export interface DecodeResult { events: ConnEvent[]; malformed: number }

/** Slots of the record at `off`: a close with its socket's request counts takes two (struct dh_event_l7). */
function slotsAt(buf: Buffer, off: number): number {
  return buf[off + EVENT.kind] === EventKind.CLOSE && buf[off + EVENT.l7_proto] !== 0 ? 2 : 1;
}

/** Where a pass over the batch that starts at slot `from` ends: after at most `max` slots (one more if a two-slot record straddles), or at `count`. */
export function passEnd(buf: Buffer, from: number, count: number, max: number): number {
  const n = Math.min(count, Math.floor(buf.length / EVENT_SIZE));
  let i = from;
  while (i < n && i - from < max) i += slotsAt(buf, i * EVENT_SIZE);
  return Math.min(i, count);
}

/** A blank delta, every field present in one order. */
export function blankDelta(): L7Delta {
  return {
    cookie: 0, pid: 0, protocol: 'unknown', role: 'client', roleInferred: false, tls: false, closed: false,
    requests: new Uint32Array(L7_CLASSES), buckets: new Uint32Array(L7_BUCKETS), latencySumNs: 0, latencyMaxUs: 0, unpaired: 0, nonzero: 0,
  };
}

/** L7Delta.nonzero of counters set one by one (not read by readL7Counts). */
export function nonzeroOf(requests: ArrayLike<number>, buckets: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < requests.length; k++) if (requests[k]) m |= 1 << k;
  for (let k = 0; k < buckets.length; k++) if (buckets[k]) m |= 1 << (NONZERO_BUCKET_BIT + k);
  return m;
}

/** Reads a struct dh_l7_counts at b[at] into d's counters: as words in place when b[at] starts one (through `view`), else byte by byte. */
export function readL7Counts(view: WordView, b: Buffer, at: number, d: L7Delta): void {
  const requests = d.requests, buckets = d.buckets;
  const i = view.index(b, at), w = view.words;
  let nonzero = 0;
  if (i >= 0) { // 34 loads, not 136 byte loads
    for (let k = 0; k < L7_CLASSES; k++) { const v = w[i + W_REQUESTS + k]; requests[k] = v; if (v) nonzero |= 1 << k; }
    for (let k = 0; k < L7_BUCKETS; k++) { const v = w[i + W_BUCKETS + k]; buckets[k] = v; if (v) nonzero |= 1 << (NONZERO_BUCKET_BIT + k); }
    d.latencySumNs = w[i + W_LATENCY] + w[i + W_LATENCY + 1] * TWO32;
    d.unpaired = w[i + W_UNPAIRED];
    d.latencyMaxUs = w[i + W_MAX];
  } else {
    for (let k = 0; k < L7_CLASSES; k++) { const v = u32(b, at + L7_COUNTS.requests + 4 * k); requests[k] = v; if (v) nonzero |= 1 << k; }
    for (let k = 0; k < L7_BUCKETS; k++) { const v = u32(b, at + L7_COUNTS.buckets + 4 * k); buckets[k] = v; if (v) nonzero |= 1 << (NONZERO_BUCKET_BIT + k); }
    d.latencySumNs = u64(b, at + L7_COUNTS.latency_sum_ns);
    d.unpaired = u32(b, at + L7_COUNTS.unpaired);
    d.latencyMaxUs = u32(b, at + L7_COUNTS.latency_max_us);
  }
  d.nonzero = nonzero;
}

/** A delta's socket fields, from the kernel's values (enum dh_l7_proto, dh_side, dh_l7_flag). */
export function setL7Socket(d: L7Delta, cookie: number, pid: number, proto: number, side: number, flags: number, closed: boolean): void {
  d.cookie = cookie;
  d.pid = pid;
  d.protocol = PROTOCOLS[proto] ?? 'unknown';
  d.role = side === Side.SERVER ? 'server' : 'client';
  d.roleInferred = (flags & L7Flag.ROLE_INFERRED) !== 0;
  d.tls = (flags & L7Flag.TLS) !== 0;
  d.closed = closed;
}

/** A close's second slot at `at` (its record at `ev` names the protocol, side and flags): the socket's last counts. */
function closingCounts(buf: Buffer, ev: number, at: number, e: ConnEvent, d: L7Delta): L7Delta {
  readL7Counts(WORDS, buf, at, d);
  setL7Socket(d, e.cookie, e.pid, buf[ev + EVENT.l7_proto], buf[ev + EVENT.l7_side], buf[ev + EVENT.l7_flags], true);
  return d;
}

/** Closing deltas of pooled events, by their order in the batch: valid, like the events, until the next pooled call (of any pool). */
const DELTA_POOL: L7Delta[] = [];

/**
 * Decodes a batch of `count` fixed-size slots as delivered by the loader: one
 * slot per record, or two for a close with its request counts (attached to the
 * close as `requests`). With a `pool`, events are written into its objects
 * (grown as needed, up to a bound) instead of new ones: nothing allocated per
 * record, but the events are only valid until the next call with the same pool.
 */
export function decodeBatch(buf: Buffer, count: number, clock: Clock, pool?: ConnEvent[], out?: ConnEvent[], foldHandshakes = false): DecodeResult {
  // With `out`, the events are listed in it (kept batch after batch: a new array per batch grew by copying, about a tenth of what the agent allocated per connection).
  const events: ConnEvent[] = out ?? [];
  let listed = 0, closings = 0;
  let malformed = 0;
  const n = Math.min(count, Math.floor(buf.length / EVENT_SIZE));
  malformed += count - n;
  const closing = foldHandshakes ? CLOSING.of(buf, n) : null;
  for (let i = 0; i < n; i++) {
    const off = i * EVENT_SIZE;
    const slots = slotsAt(buf, off);
    if (closing && buf[off + EVENT.kind] === EventKind.ESTABLISHED && buf[off + EVENT.conn + CONN.side] === Side.SERVER
      && closing.has(buf, off)) continue;
    if (i + slots > n) { malformed += n - i; break; } // a record cut short (never from the loader)
    let into: ConnEvent | undefined;
    if (pool) {
      into = pool[listed];
      if (!into) { into = blankEvent(); if (pool.length < MAX_POOL) pool.push(into); }
    }
    const e = decodeEvent(buf, off, clock, into);
    if (e) {
      events[listed++] = e;
      if (slots === 2) {
        let d: L7Delta;
        if (pool) {
          d = DELTA_POOL[closings++];
          if (!d) { d = blankDelta(); if (DELTA_POOL.length < MAX_POOL) DELTA_POOL.push(d); }
        } else d = blankDelta();
        e.requests = closingCounts(buf, off, off + EVENT_SIZE, e, d);
      }
    } else malformed += slots;
    i += slots - 1;
  }
  if (events.length !== listed) events.length = listed;
  return { events, malformed };
}

/**
 * The sockets whose close is in a batch, by cookie, for decodeBatch(foldHandshakes): a
 * server socket that was established and closed between two drains (every one under
 * connection-per-request load) is reported by its close alone, which carries all its
 * handshake record said (tuple, owner, start, the established flag) and more: a
 * quarter of a short connection's records left undecoded. Only a server's: its client
 * (on this host) was established before it, so the client's handshake record has put
 * the client's exact endpoint in the graph's index before the server's close looks for
 * it. Folding the client's too left the server's close to meet whatever else waited at
 * that endpoint (one other connection off loopback is taken as the DNAT case), and a
 * client that connects again after a failed attempt keeps its cookie, so its new
 * handshake follows the old attempt's close in the same batch.
 * Cookies come from one counter, handed out as sockets are first seen, so a batch's
 * closes are a narrow range: a bitmap over it, not a hash set.
 */
class ClosingCookies {
  private bits = new Uint8Array(8192);
  private low = 0;
  private span = 0;
  /** Cookies of a batch too far apart for the bitmap (never seen in practice; still correct). */
  private readonly wide = new Set<number>();
  private useWide = false;

  of(buf: Buffer, n: number): this {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i += slotsAt(buf, i * EVENT_SIZE)) {
      const off = i * EVENT_SIZE;
      if (buf[off + EVENT.kind] !== EventKind.CLOSE) continue;
      const c = cookieAt(buf, off);
      if (c < lo) lo = c;
      if (c > hi) hi = c;
    }
    this.bits.fill(0, 0, Math.min(this.bits.length, (this.span >>> 3) + 1));
    this.wide.clear();
    this.span = 0;
    this.useWide = false;
    if (hi < lo) return this;
    const span = hi - lo + 1;
    this.low = lo;
    if (span > MAX_SPAN) this.useWide = true;
    else if (span > this.bits.length * 8) this.bits = new Uint8Array(Math.max(this.bits.length * 2, (span >>> 3) + 1));
    this.span = span;
    for (let i = 0; i < n; i += slotsAt(buf, i * EVENT_SIZE)) {
      const off = i * EVENT_SIZE;
      if (buf[off + EVENT.kind] !== EventKind.CLOSE) continue;
      const c = cookieAt(buf, off);
      if (this.useWide) this.wide.add(c);
      else { const k = c - lo; this.bits[k >>> 3] |= 1 << (k & 7); }
    }
    return this;
  }

  has(buf: Buffer, off: number): boolean {
    if (!this.span) return false;
    const c = cookieAt(buf, off);
    if (this.useWide) return this.wide.has(c);
    const k = c - this.low;
    return k >= 0 && k < this.span && (this.bits[k >>> 3] & (1 << (k & 7))) !== 0;
  }
}

/** Cookies a batch's bitmap covers at most (64 KB of bits). */
const MAX_SPAN = 1 << 19;
const CLOSING = new ClosingCookies();

function cookieAt(buf: Buffer, off: number): number {
  return u32(buf, off + EVENT.cookie) + u32(buf, off + EVENT.cookie + 4) * TWO32;
}

/** Pooled events at most: a full ring buffer's worth is 29k, usual batches are far smaller. */
const MAX_POOL = 8192;

/** Decodes one conns-map value (an open connection's live counters). */
export function decodeConn(buf: Buffer, off: number, cookie: number, clock: Clock, nowMs: number): ConnEvent {
  let i = WORDS.index(buf, off), w = WORDS.words;
  if (i < 0) {
    buf.copy(aligned, 0, off, off + CONN_SIZE);
    buf = aligned; off = 0;
    i = 0; w = ALIGNED_WORDS;
  }
  const e = fillConn(buf, off, w, i, clock, 'traffic');
  e.time = nowMs;
  e.cookie = cookie;
  return e;
}

export { CONN_SIZE, EVENT_SIZE };
