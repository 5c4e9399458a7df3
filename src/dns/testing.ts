// DNS messages built for tests and benchmarks (queries and answers, with name
// compression as servers write it). The product never sends DNS.
import net from 'node:net';
import { RRType } from './parse.js';
import { DNS_DATA_MAX, DNS_EVENT, DNS_EVENT_SIZE, DnsDir, DnsFlag, SysKind } from '../events/dns-layout.js';

export interface BuildRecord { name: string; type: 'A' | 'AAAA' | 'CNAME'; ttl: number; data: string }

export interface BuildMessage {
  id: number;
  response?: boolean;
  rcode?: number;
  truncated?: boolean;
  question?: { name: string; type: 'A' | 'AAAA' | 'CNAME' | number };
  answers?: BuildRecord[];
  /** Compress repeated name suffixes with pointers (default true). */
  compress?: boolean;
}

const typeCode = (t: string | number): number => (typeof t === 'number' ? t : RRType[t as keyof typeof RRType]);

function ipv6Bytes(a: string): number[] {
  const [head, tail] = a.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const h = part(head), t = part(tail);
  const words = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

export function buildMessage(m: BuildMessage): Buffer {
  const out: number[] = [];
  const seen = new Map<string, number>();
  const compress = m.compress !== false;
  const u16 = (v: number) => out.push((v >> 8) & 0xff, v & 0xff);
  const name = (n: string) => {
    const labels = n === '.' ? [] : n.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = seen.get(suffix);
      if (compress && at !== undefined) { u16(0xc000 | at); return; }
      if (out.length < 0x3fff) seen.set(suffix, out.length);
      const bytes = Buffer.from(labels[i], 'latin1');
      out.push(bytes.length, ...bytes);
    }
    out.push(0);
  };
  const answers = m.answers ?? [];
  u16(m.id);
  u16((m.response ? 0x8000 : 0) | 0x0100 | (m.response ? 0x0080 : 0) | (m.truncated ? 0x0200 : 0) | (m.rcode ?? 0));
  u16(m.question ? 1 : 0);
  u16(answers.length);
  u16(0);
  u16(0);
  if (m.question) { name(m.question.name); u16(typeCode(m.question.type)); u16(1); }
  for (const r of answers) {
    name(r.name);
    u16(typeCode(r.type));
    u16(1);
    u16((r.ttl >>> 16) & 0xffff);
    u16(r.ttl & 0xffff);
    const lenAt = out.length;
    u16(0);
    if (r.type === 'A') out.push(...r.data.split('.').map(Number));
    else if (r.type === 'AAAA') { if (!net.isIPv6(r.data)) throw new Error(`bad IPv6 ${r.data}`); out.push(...ipv6Bytes(r.data)); }
    else name(r.data);
    const len = out.length - lenAt - 2;
    out[lenAt] = len >> 8;
    out[lenAt + 1] = len & 0xff;
  }
  return Buffer.from(out);
}

export const buildQuery = (id: number, name: string, type: 'A' | 'AAAA' = 'A'): Buffer => buildMessage({ id, question: { name, type } });

export interface RecordFields {
  dir: 'send' | 'recv';
  data: Buffer;
  cookie?: number;
  pid?: number;
  tid?: number;
  comm?: string;
  cgroupId?: number;
  netns?: number;
  /** IPv4 only here. */
  local?: string;
  localPort?: number;
  peer?: string;
  peerPort?: number;
  tcp?: boolean;
  /** Boot-clock nanoseconds. */
  tsNs?: number;
  msgLen?: number;
  segOff?: number;
  segLen?: number;
  last?: boolean;
  msgIndex?: number;
}

/** One struct dh_dns_event as the kernel writes it (see src/kernel/dns.h). */
export function buildRecord(f: RecordFields): Buffer {
  const b = Buffer.alloc(DNS_EVENT_SIZE);
  const v4 = (s: string, at: number) => s.split('.').forEach((x, i) => { b[at + i] = Number(x); });
  const segLen = f.segLen ?? f.data.length;
  b.writeBigUInt64LE(BigInt(f.tsNs ?? 1e12), DNS_EVENT.ts_ns);
  b.writeBigUInt64LE(BigInt(f.cookie ?? 1), DNS_EVENT.cookie);
  b.writeBigUInt64LE(BigInt(f.cgroupId ?? 7), DNS_EVENT.cgroup_id);
  v4(f.local ?? '127.0.0.1', DNS_EVENT.saddr);
  v4(f.peer ?? '127.0.0.53', DNS_EVENT.daddr);
  b.writeUInt32LE(f.pid ?? 100, DNS_EVENT.pid);
  b.writeUInt32LE(f.tid ?? f.pid ?? 100, DNS_EVENT.tid);
  b.writeUInt32LE(f.netns ?? 4026531840, DNS_EVENT.netns);
  b.writeUInt32LE(f.msgLen ?? segLen, DNS_EVENT.msg_len);
  b.writeUInt32LE(f.segOff ?? 0, DNS_EVENT.seg_off);
  b.writeUInt32LE(segLen, DNS_EVENT.seg_len);
  const cap = Math.min(f.data.length, DNS_DATA_MAX);
  b.writeUInt16LE(cap, DNS_EVENT.cap);
  b.writeUInt16LE(f.localPort ?? 40000, DNS_EVENT.sport);
  b.writeUInt16LE(f.peerPort ?? 53, DNS_EVENT.dport);
  b.writeUInt16LE(2, DNS_EVENT.family);
  b[DNS_EVENT.dir] = f.dir === 'send' ? DnsDir.SEND : DnsDir.RECV;
  b[DNS_EVENT.flags] = (f.tcp ? DnsFlag.TCP : 0) | (f.last === false ? 0 : DnsFlag.LAST_SEG);
  b[DNS_EVENT.syscall] = f.tcp ? SysKind.READ : f.dir === 'send' ? SysKind.SENDTO : SysKind.RECVFROM;
  b[DNS_EVENT.msg_index] = f.msgIndex ?? 0;
  b.write((f.comm ?? 'client').slice(0, 15), DNS_EVENT.comm, 'latin1');
  f.data.copy(b, DNS_EVENT.data, 0, cap);
  return b;
}
