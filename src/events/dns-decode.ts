// Decodes DNS ring buffer records (struct dh_dns_event) into segments: one
// piece of one DNS message, with the socket and process that moved it.
// Hot path: a socket's facts (process, addresses as text) are decoded once
// and shared by its records while they stay the same; the payload is not
// copied (a segment points into the batch).
import { DNS_EVENT, DNS_COMM_LEN, DNS_DATA_MAX, DnsDir, DnsFlag, SysKind } from './dns-layout.js';
import { u64, type Clock } from './decode.js';
import { addrText, isV4Mapped } from './address.js';

const AF_INET = 2;
const SYSCALL_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SysKind).map(([k, v]) => [v, k.toLowerCase()]));

/** Who moved the bytes, over which socket to which server. One object per socket while these stay the same. */
export interface DnsSocketFacts {
  pid: number;
  comm: string;
  cgroupId: number;
  netns: number;
  family: 4 | 6;
  local: string;
  localPort: number;
  /** The DNS server ('' when unknown). */
  peer: string;
  peerPort: number;
  tcp: boolean;
}

export interface DnsSegment {
  /** Unix ms. */
  time: number;
  cookie: number;
  tid: number;
  facts: DnsSocketFacts;
  dir: 'send' | 'recv';
  tcp: boolean;
  /** Where the peer came from: the connected socket, the syscall's address argument, or the socket's last query. */
  peerSource: 'socket' | 'args' | 'query';
  syscall: string;
  msgIndex: number;
  /** Bytes of the whole message (UDP) or of this chunk of the stream (TCP). */
  msgLen: number;
  segOff: number;
  segLen: number;
  /** Last segment of its message. */
  last: boolean;
  readFault: boolean;
  /** The captured bytes are buf[dataOff, dataOff + cap): a view into the batch, valid during the call. */
  buf: Buffer;
  dataOff: number;
  cap: number;
}

function u16(b: Buffer, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Buffer, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}

function isZero(b: Buffer, o: number): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== 0) return false;
  return true;
}

function comm(b: Buffer, o: number): string {
  let s = '';
  for (let i = 0; i < DNS_COMM_LEN; i++) {
    const c = b[o + i];
    if (c === 0) break;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?'; // a process names itself: never trust it
  }
  return s;
}

/** The raw fields a cached DnsSocketFacts was made from. */
interface Cached { facts: DnsSocketFacts; key: number[] }

/** What may change under one cookie: the process (pid), and an unconnected socket's peer (and its bound port). */
const KEY_FIELDS = [DNS_EVENT.pid, DNS_EVENT.sport, DNS_EVENT.daddr, DNS_EVENT.daddr + 4, DNS_EVENT.daddr + 8, DNS_EVENT.daddr + 12];

export class DnsRecordDecoder {
  private sockets = new Map<number, Cached>();
  /** The last socket's entry: a query and its answer, and a resolver's run of queries, share one (and cookies are
   *  doubles, slow Map keys). */
  private lastCookie = -1;
  private last: Cached | undefined;

  /** maxSockets bounds the facts cache (it starts over when full). */
  constructor(private readonly clock: Clock, private readonly maxSockets = 4096) {}

  private factsOf(buf: Buffer, off: number, cookie: number, flags: number): DnsSocketFacts {
    const hit = cookie === this.lastCookie ? this.last : this.sockets.get(cookie);
    if (hit) {
      this.lastCookie = cookie;
      this.last = hit;
      const k = hit.key;
      let same = u16(buf, off + DNS_EVENT.dport) === hit.facts.peerPort;
      for (let i = 0; same && i < KEY_FIELDS.length; i++) same = u32(buf, off + KEY_FIELDS[i]) === k[i];
      if (same) return hit.facts;
    }
    const af = u16(buf, off + DNS_EVENT.family);
    const daddr = off + DNS_EVENT.daddr;
    const facts: DnsSocketFacts = {
      pid: u32(buf, off + DNS_EVENT.pid),
      comm: comm(buf, off + DNS_EVENT.comm),
      cgroupId: u64(buf, off + DNS_EVENT.cgroup_id),
      netns: u32(buf, off + DNS_EVENT.netns),
      family: af === AF_INET || isV4Mapped(buf, daddr) ? 4 : 6,
      local: addrText(buf, off + DNS_EVENT.saddr, af),
      localPort: u16(buf, off + DNS_EVENT.sport),
      peer: isZero(buf, daddr) ? '' : addrText(buf, daddr, af),
      peerPort: u16(buf, off + DNS_EVENT.dport),
      tcp: (flags & DnsFlag.TCP) !== 0,
    };
    if (this.sockets.size >= this.maxSockets) this.sockets.clear();
    const entry = { facts, key: KEY_FIELDS.map((f) => u32(buf, off + f)) };
    this.sockets.set(cookie, entry);
    this.lastCookie = cookie;
    this.last = entry;
    return facts;
  }

  /** Decodes the record at `off` of a batch into `into` (or a new segment): records are decoded into one reused object. */
  decode(buf: Buffer, off: number, into?: DnsSegment): DnsSegment {
    const flags = buf[off + DNS_EVENT.flags];
    const cookie = u64(buf, off + DNS_EVENT.cookie);
    const segLen = u32(buf, off + DNS_EVENT.seg_len);
    const s = into ?? ({} as DnsSegment);
    s.time = this.clock.bootNsToUnixMs(u64(buf, off + DNS_EVENT.ts_ns));
    s.cookie = cookie;
    s.tid = u32(buf, off + DNS_EVENT.tid);
    s.facts = this.factsOf(buf, off, cookie, flags);
    s.dir = buf[off + DNS_EVENT.dir] === DnsDir.SEND ? 'send' : 'recv';
    s.tcp = (flags & DnsFlag.TCP) !== 0;
    s.peerSource = flags & DnsFlag.PEER_FROM_ARGS ? 'args' : flags & DnsFlag.PEER_FROM_QUERY ? 'query' : 'socket';
    s.syscall = SYSCALL_NAMES[buf[off + DNS_EVENT.syscall]] ?? 'none';
    s.msgIndex = buf[off + DNS_EVENT.msg_index];
    s.msgLen = u32(buf, off + DNS_EVENT.msg_len);
    s.segOff = u32(buf, off + DNS_EVENT.seg_off);
    s.segLen = segLen;
    s.last = (flags & DnsFlag.LAST_SEG) !== 0;
    s.readFault = (flags & DnsFlag.READ_FAULT) !== 0;
    s.buf = buf;
    s.dataOff = off + DNS_EVENT.data;
    s.cap = Math.min(u16(buf, off + DNS_EVENT.cap), segLen, DNS_DATA_MAX);
    return s;
  }
}
