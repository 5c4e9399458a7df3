// DNS messages built for tests and benchmarks (queries and answers, with name
// compression as servers write it). The product never sends DNS.
import net from 'node:net';
import { RRType } from './parse.js';

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
