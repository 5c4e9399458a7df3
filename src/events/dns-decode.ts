// Decodes DNS ring buffer records (struct dh_dns_event) into segments: one
// piece of one DNS message, with the socket and process that moved it.
// Hot path: the facts of a record (process, addresses as text) are decoded
// once and shared by every record, over any socket, made from the same words;
// the payload is not copied (a segment points into the batch).
import { DNS_EVENT, DNS_COMM_LEN, DNS_DATA_MAX, DnsDir, DnsFlag, SysKind } from './dns-layout.js';
import { u64, type Clock } from './decode.js';
import { addrText, isV4Mapped } from './address.js';
import { printableAt } from './text.js';

const AF_INET = 2;
const SYSCALL_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SysKind).map(([k, v]) => [v, k.toLowerCase()]));

/**
 * Who moved the bytes, from which local address to which server: the same
 * object for every record with the same process, addresses and command, over
 * however many sockets (glibc and musl open one per lookup; the socket's own
 * port is on the segment).
 */
export interface DnsFacts {
  pid: number;
  comm: string;
  cgroupId: number;
  netns: number;
  family: 4 | 6;
  local: string;
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
  facts: DnsFacts;
  /** The client socket's local port (0 when unbound). */
  localPort: number;
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
  return printableAt(b, o, DNS_COMM_LEN);
}

/**
 * The record's words its facts are made from: cgroup, local and peer address
 * and pid (one run), the namespace, peer port with family, and the command.
 * Facts are a function of these (and the TCP flag) alone, so a cache keyed by
 * them is never stale, whichever socket or process reuse comes along.
 */
const FACT_WORDS = [
  DNS_EVENT.cgroup_id, DNS_EVENT.cgroup_id + 4,
  DNS_EVENT.saddr, DNS_EVENT.saddr + 4, DNS_EVENT.saddr + 8, DNS_EVENT.saddr + 12,
  DNS_EVENT.daddr, DNS_EVENT.daddr + 4, DNS_EVENT.daddr + 8, DNS_EVENT.daddr + 12,
  DNS_EVENT.pid, DNS_EVENT.netns, DNS_EVENT.dport,
  DNS_EVENT.comm, DNS_EVENT.comm + 4, DNS_EVENT.comm + 8, DNS_EVENT.comm + 12,
];
const KEY_LEN = FACT_WORDS.length + 1; // and the TCP flag
/** Facts cache slots (direct-mapped by a hash of the words; a collision just replaces). */
const FACT_SLOTS = 512;

export class DnsRecordDecoder {
  private keys = new Uint32Array(FACT_SLOTS * KEY_LEN);
  private facts: (DnsFacts | undefined)[] = new Array(FACT_SLOTS).fill(undefined);
  private words = new Uint32Array(KEY_LEN);

  constructor(private readonly clock: Clock) {}

  private factsOf(buf: Buffer, off: number, flags: number): DnsFacts {
    const w = this.words;
    let h = 2166136261;
    for (let i = 0; i < FACT_WORDS.length; i++) {
      const x = u32(buf, off + FACT_WORDS[i]);
      w[i] = x;
      h = Math.imul(h ^ x, 16777619);
    }
    w[FACT_WORDS.length] = flags & DnsFlag.TCP;
    h = Math.imul(h ^ w[FACT_WORDS.length], 16777619); // a process's UDP and TCP facts (a retry after TC) in their own slots
    const slot = ((h ^ (h >>> 15)) >>> 0) & (FACT_SLOTS - 1);
    const hit = this.facts[slot];
    if (hit) {
      const k = this.keys;
      let i = 0;
      for (const base = slot * KEY_LEN; i < KEY_LEN && k[base + i] === w[i]; i++);
      if (i === KEY_LEN) return hit;
    }
    const af = u16(buf, off + DNS_EVENT.family);
    const daddr = off + DNS_EVENT.daddr;
    const facts: DnsFacts = {
      pid: u32(buf, off + DNS_EVENT.pid),
      comm: comm(buf, off + DNS_EVENT.comm),
      cgroupId: u64(buf, off + DNS_EVENT.cgroup_id),
      netns: u32(buf, off + DNS_EVENT.netns),
      family: af === AF_INET || isV4Mapped(buf, daddr) ? 4 : 6,
      local: addrText(buf, off + DNS_EVENT.saddr, af),
      peer: isZero(buf, daddr) ? '' : addrText(buf, daddr, af),
      peerPort: u16(buf, off + DNS_EVENT.dport),
      tcp: (flags & DnsFlag.TCP) !== 0,
    };
    this.keys.set(w, slot * KEY_LEN);
    this.facts[slot] = facts;
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
    s.facts = this.factsOf(buf, off, flags);
    s.localPort = u16(buf, off + DNS_EVENT.sport);
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
