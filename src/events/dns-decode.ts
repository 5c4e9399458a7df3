// Decodes DNS ring buffer records (struct dh_dns_event) into segments: one
// piece of one DNS message, with the socket and process that moved it.
import { DNS_EVENT, DNS_COMM_LEN, DNS_DATA_MAX, DnsDir, DnsFlag, SysKind } from './dns-layout.js';
import { ipv6, u64, type Clock } from './decode.js';

const AF_INET = 2;
const SYSCALL_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SysKind).map(([k, v]) => [v, k.toLowerCase()]));

export interface DnsSegment {
  /** Unix ms. */
  time: number;
  cookie: number;
  pid: number;
  tid: number;
  comm: string;
  cgroupId: number;
  netns: number;
  family: 4 | 6;
  local: string;
  localPort: number;
  /** The DNS server ('' when unknown). */
  peer: string;
  peerPort: number;
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
  /** The captured bytes (cap of segLen); a view into the batch: copy what you keep. */
  data: Buffer;
}

function u16(b: Buffer, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Buffer, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}

function isV4Mapped(b: Buffer, o: number): boolean {
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) return false;
  return b[o + 10] === 0xff && b[o + 11] === 0xff;
}

function isZero(b: Buffer, o: number): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== 0) return false;
  return true;
}

function address(b: Buffer, o: number, af: number): string {
  if (af === AF_INET) return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  if (isV4Mapped(b, o)) return `${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  return ipv6(b, o);
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

/** Decodes the record at `off` of a batch. */
export function decodeDnsRecord(buf: Buffer, off: number, clock: Clock): DnsSegment {
  const af = u16(buf, off + DNS_EVENT.family);
  const flags = buf[off + DNS_EVENT.flags];
  const daddr = off + DNS_EVENT.daddr;
  const cap = u16(buf, off + DNS_EVENT.cap);
  const data = off + DNS_EVENT.data;
  return {
    time: clock.bootNsToUnixMs(u64(buf, off + DNS_EVENT.ts_ns)),
    cookie: u64(buf, off + DNS_EVENT.cookie),
    pid: u32(buf, off + DNS_EVENT.pid),
    tid: u32(buf, off + DNS_EVENT.tid),
    comm: comm(buf, off + DNS_EVENT.comm),
    cgroupId: u64(buf, off + DNS_EVENT.cgroup_id),
    netns: u32(buf, off + DNS_EVENT.netns),
    family: af === AF_INET || isV4Mapped(buf, daddr) ? 4 : 6,
    local: address(buf, off + DNS_EVENT.saddr, af),
    localPort: u16(buf, off + DNS_EVENT.sport),
    peer: isZero(buf, daddr) ? '' : address(buf, daddr, af),
    peerPort: u16(buf, off + DNS_EVENT.dport),
    dir: buf[off + DNS_EVENT.dir] === DnsDir.SEND ? 'send' : 'recv',
    tcp: (flags & DnsFlag.TCP) !== 0,
    peerSource: flags & DnsFlag.PEER_FROM_ARGS ? 'args' : flags & DnsFlag.PEER_FROM_QUERY ? 'query' : 'socket',
    syscall: SYSCALL_NAMES[buf[off + DNS_EVENT.syscall]] ?? 'none',
    msgIndex: buf[off + DNS_EVENT.msg_index],
    msgLen: u32(buf, off + DNS_EVENT.msg_len),
    segOff: u32(buf, off + DNS_EVENT.seg_off),
    segLen: u32(buf, off + DNS_EVENT.seg_len),
    last: (flags & DnsFlag.LAST_SEG) !== 0,
    readFault: (flags & DnsFlag.READ_FAULT) !== 0,
    data: buf.subarray(data, data + Math.min(cap, u32(buf, off + DNS_EVENT.seg_len), DNS_DATA_MAX)),
  };
}
