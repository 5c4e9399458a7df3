// Decodes ring buffer batches and conns-map values into ConnEvents.
// Hot path: plain offsets, no BigInt, one object per record.
import { CONN, CONN_SIZE, COMM_LEN, EVENT, EVENT_SIZE, EventKind, ConnFlag } from './layout.js';
import { classifyClose, errnoName } from './classify.js';
import { addrText, isV4Mapped } from './address.js';
import type { ConnEvent, EventType, Role } from './types.js';

const TWO32 = 4294967296;
const AF_INET = 2;

/** Converts kernel CLOCK_BOOTTIME nanoseconds to Unix milliseconds. */
export interface Clock { bootNsToUnixMs(ns: number): number }

export function clockFrom(bootTimeNs: number, nowMs = Date.now()): Clock {
  const offsetMs = nowMs - bootTimeNs / 1e6;
  return { bootNsToUnixMs: (ns) => ns / 1e6 + offsetMs };
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

function comm(b: Buffer, o: number): string {
  let s = '';
  for (let i = 0; i < COMM_LEN; i++) {
    const c = b[o + i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Decodes a struct dh_conn at `c` into the connection fields of an event. */
function fillConn(buf: Buffer, c: number, clock: Clock, type: EventType, time: number, cookie: number): ConnEvent {
  const af = u16(buf, c + CONN.family);
  const family: 4 | 6 = af === AF_INET || isV4Mapped(buf, c + CONN.saddr) ? 4 : 6;
  const saddr = addrText(buf, c + CONN.saddr, af);
  const daddr = addrText(buf, c + CONN.daddr, af);
  const flags = buf[c + CONN.flags];
  const start = u64(buf, c + CONN.start_ns);
  return {
    type,
    time,
    cookie,
    role: ROLE[buf[c + CONN.side]] ?? 'unknown',
    family,
    saddr,
    sport: u16(buf, c + CONN.sport),
    daddr,
    dport: u16(buf, c + CONN.dport),
    pid: u32(buf, c + CONN.pid),
    comm: comm(buf, c + CONN.comm),
    cgroupId: u64(buf, c + CONN.cgroup_id),
    netns: u32(buf, c + CONN.netns),
    bytesSent: u64(buf, c + CONN.bytes_sent),
    bytesReceived: u64(buf, c + CONN.bytes_received),
    retransmits: u32(buf, c + CONN.retransmits),
    srttUs: u32(buf, c + CONN.srtt_us),
    startTime: start ? clock.bootNsToUnixMs(start) : null,
    established: (flags & ConnFlag.ESTABLISHED) !== 0,
    resetSent: (flags & ConnFlag.RST_SENT) !== 0,
    resetReceived: (flags & ConnFlag.RST_RECV) !== 0,
    midflight: (flags & ConnFlag.MIDFLIGHT) !== 0,
    oldState: 0,
    newState: 0,
    error: null,
    failure: null,
  };
}

/** Decodes one struct dh_event at byte offset `off`. Returns null for an unknown kind. */
export function decodeEvent(buf: Buffer, off: number, clock: Clock): ConnEvent | null {
  const type = KIND_TYPE[buf[off + EVENT.kind]];
  if (!type) return null;
  const e = fillConn(buf, off + EVENT.conn, clock, type, clock.bootNsToUnixMs(u64(buf, off + EVENT.ts_ns)), u64(buf, off + EVENT.cookie));
  e.oldState = buf[off + EVENT.old_state];
  e.newState = buf[off + EVENT.new_state];
  if (type === 'close') {
    const c = off + EVENT.conn;
    const skErr = i32(buf, c + CONN.close_err);
    const end = u64(buf, c + CONN.end_ns);
    if (end) e.time = clock.bootNsToUnixMs(end); // when it closed, not when it was freed
    e.error = errnoName(skErr);
    e.failure = classifyClose(e.oldState, skErr, buf[c + CONN.flags], e.retransmits);
  }
  return e;
}

export interface DecodeResult { events: ConnEvent[]; malformed: number }

/** Decodes a batch of `count` fixed-size records as delivered by the loader. */
export function decodeBatch(buf: Buffer, count: number, clock: Clock): DecodeResult {
  const events: ConnEvent[] = [];
  let malformed = 0;
  const n = Math.min(count, Math.floor(buf.length / EVENT_SIZE));
  malformed += count - n;
  for (let i = 0; i < n; i++) {
    const e = decodeEvent(buf, i * EVENT_SIZE, clock);
    if (e) events.push(e); else malformed++;
  }
  return { events, malformed };
}

/** Decodes one conns-map value (an open connection's live counters). */
export function decodeConn(buf: Buffer, off: number, cookie: number, clock: Clock, nowMs: number): ConnEvent {
  return fillConn(buf, off, clock, 'traffic', nowMs, cookie);
}

export { CONN_SIZE, EVENT_SIZE };
