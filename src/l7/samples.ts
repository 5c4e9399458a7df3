// Decodes `l7_samples` ring buffer records and names the request each holds.
import { L7_SAMPLE, L7_SAMPLE_SIZE, L7_COMM_LEN, L7Proto, L7SampleFlag, L7H1Method } from '../events/l7-layout.js';
import { u64, type Clock } from '../events/decode.js';
import { printableAt } from '../events/text.js';
import { PROTOCOLS, STATUS_CLASSES, type L7Protocol, type L7Sample, type RequestDescription, type SampleReason } from './types.js';
import { describeHttp1 } from './protocols/http1.js';
import { describeHttp2, describeHttp2Block } from './protocols/http2.js';
import { describePostgres, sqlstateOf } from './protocols/postgres.js';
import { describeMysql } from './protocols/mysql.js';
import { describeRedis, redisErrorOf } from './protocols/redis.js';

const DESCRIBE: Partial<Record<number, (text: Buffer) => RequestDescription | null>> = {
  [L7Proto.HTTP1]: describeHttp1,
  [L7Proto.HTTP2]: describeHttp2,
  [L7Proto.POSTGRES]: describePostgres,
  [L7Proto.MYSQL]: describeMysql,
  [L7Proto.REDIS]: describeRedis,
};

/** Names a request from its first bytes (or, with `hpack`, from an HTTP/2 header block the kernel rebuilt); null (counted
 *  by the caller as unparsed) for bytes no parser accepts. Never throws. */
export function describeRequest(proto: number, text: Buffer, hpack = false): RequestDescription | null {
  const fn = hpack ? (proto === L7Proto.HTTP2 ? describeHttp2Block : undefined) : DESCRIBE[proto];
  if (!fn || !text.length) return null;
  try {
    return fn(text);
  } catch {
    return null;
  }
}

export interface SampleDecodeStats { samples: number; unparsed: number; malformed: number }

/** Decodes `count` records of a batch; bad records are counted, never thrown. */
/** A PostgreSQL error carries its SQLSTATE packed in the status, a Redis error its prefix: status 1 (error) and the code apart. */
function statusOf(proto: number, raw: number): { status: number; code?: string } {
  const code = proto === L7Proto.POSTGRES ? sqlstateOf(raw) : proto === L7Proto.REDIS ? redisErrorOf(raw) : null;
  return code ? { status: 1, code } : { status: raw };
}

const H1_METHODS: readonly (string | undefined)[] = (() => {
  const names: (string | undefined)[] = [];
  for (const [name, code] of Object.entries(L7H1Method)) names[code] = name;
  return names;
})();

/** An HTTP/1 request's method as the kernel coded it (a pipelined request's sample has it without its own text); null if not known. */
export function http1MethodOf(proto: number, code: number): string | null {
  return proto === L7Proto.HTTP1 ? H1_METHODS[code] ?? null : null;
}

/**
 * A pipelined request named from its first bytes only (the kernel's dh_l7_name, flag CUT): a target cut there ends with
 * an ellipsis; one that ends among them does not.
 */
export function describeCut(proto: number, text: Buffer): RequestDescription | null {
  if (proto === L7Proto.HTTP1) return http1Cut(text);
  const d = describeRequest(proto, text);
  return d?.target && messageCut(proto, text) ? { ...d, target: d.target + '…' } : d;
}

/** Does the message these bytes start with run past them (its length field says so)? */
function messageCut(proto: number, b: Buffer): boolean {
  if (proto === L7Proto.POSTGRES) {
    if (b.length >= 8 && b[0] === 0) return b.readUInt32BE(0) > b.length; // startup: [length][protocol]
    return b.length < 5 || 1 + b.readUInt32BE(1) > b.length;
  }
  if (proto === L7Proto.MYSQL) return b.length < 4 || 4 + (b[0] | (b[1] << 8) | (b[2] << 16)) > b.length;
  return true;
}

/**
 * An HTTP/1 request line's start: whole up to its target's end when that is among the bytes, else the target cut. A cut
 * absolute-form target whose authority never ends among them (`http://user:pass…`) may hold credentials that keptPath
 * strips only when it sees the "@": only its scheme is kept. A path followed by a query or parameters was whole.
 */
function http1Cut(text: Buffer): RequestDescription | null {
  const sp = text.indexOf(0x20);
  const end = sp < 0 ? -1 : text.indexOf(0x20, sp + 1);
  if (end > 0) return describeRequest(L7Proto.HTTP1, text.subarray(0, end));
  const d = describeRequest(L7Proto.HTTP1, text);
  if (!d?.target) return d;
  const raw = text.toString('latin1', sp + 1);
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*$/i.exec(raw);
  if (scheme) return { ...d, target: `${scheme[1]}…` };
  return /[?#;]/.test(raw) || d.target.endsWith('…') ? d : { ...d, target: d.target + '…' };
}

export function decodeSamples(buf: Buffer, count: number, clock: Clock, stats: SampleDecodeStats): L7Sample[] {
  const out: L7Sample[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * L7_SAMPLE_SIZE;
    if (o + L7_SAMPLE_SIZE > buf.length) { stats.malformed++; break; }
    const proto = buf[o + L7_SAMPLE.proto], cls = buf[o + L7_SAMPLE.cls], flags = buf[o + L7_SAMPLE.flags];
    if (proto >= PROTOCOLS.length || cls >= STATUS_CLASSES.length) { stats.malformed++; continue; }
    const textLen = Math.min(buf.readUInt16LE(o + L7_SAMPLE.text_len), 256);
    const text = flags & L7SampleFlag.TEXT ? buf.subarray(o + L7_SAMPLE.text, o + L7_SAMPLE.text + textLen) : Buffer.alloc(0);
    const d = flags & L7SampleFlag.CUT ? describeCut(proto, text) : describeRequest(proto, text, (flags & L7SampleFlag.HPACK) !== 0);
    if (text.length && !d) stats.unparsed++;
    const reasons: SampleReason[] = [];
    if (flags & L7SampleFlag.FAILED) reasons.push('failed');
    if (flags & L7SampleFlag.SLOW) reasons.push('slow');
    if (flags & L7SampleFlag.NO_RESPONSE) reasons.push('no-response');
    if (flags & L7SampleFlag.ABANDONED) reasons.push('abandoned');
    if (!reasons.length) reasons.push('traced');
    out.push({
      time: clock.bootNsToUnixMs(u64(buf, o + L7_SAMPLE.ts_ns)),
      cookie: u64(buf, o + L7_SAMPLE.cookie),
      pid: buf.readUInt32LE(o + L7_SAMPLE.pid),
      comm: printableAt(buf, o + L7_SAMPLE.comm, L7_COMM_LEN),
      protocol: PROTOCOLS[proto] as L7Protocol,
      role: buf[o + L7_SAMPLE.side] === 2 ? 'server' : 'client',
      ...statusOf(proto, buf.readUInt32LE(o + L7_SAMPLE.status)),
      statusClass: STATUS_CLASSES[cls],
      latencyMs: u64(buf, o + L7_SAMPLE.latency_ns) / 1e6,
      method: d?.method ?? http1MethodOf(proto, buf[o + L7_SAMPLE.method]),
      target: d?.target ?? null,
      tls: (flags & L7SampleFlag.TLS) !== 0,
      reasons,
    });
    stats.samples++;
  }
  return out;
}
