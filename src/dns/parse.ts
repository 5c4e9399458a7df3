// A bounded DNS message parser (RFC 1035) for bytes read off the wire of
// other processes: the header, the first question, and the A, AAAA and CNAME
// records of the answer section. It never throws and never loops: compression
// pointers must point backwards and are followed a bounded number of times,
// names are capped at 255 bytes, records per message are capped. A capture
// shorter than the message (`complete` false) yields what was whole, marked
// partial; running out of bytes in a complete message is malformed.
import { ipv4, ipv6 } from '../events/address.js';
import { DNS_DEFAULTS } from '../config/defaults.js';

export const RRType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, HTTPS: 65, ANY: 255 } as const;
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RRType).map(([k, v]) => [v, k]));
export const typeName = (t: number): string => TYPE_NAMES[t] ?? `TYPE${t}`;

export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const RCODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Rcode).map(([k, v]) => [v, k]));
export const rcodeName = (r: number): string => RCODE_NAMES[r] ?? `RCODE${r}`;

export interface DnsQuestion { name: string; type: number }

/** An A, AAAA or CNAME record: `data` is the address, or the CNAME's target. */
export interface DnsRecord { name: string; type: 'A' | 'AAAA' | 'CNAME'; ttl: number; data: string }

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  /** TC: the server truncated the answer (the client retries over TCP). */
  truncated: boolean;
  question: DnsQuestion | null;
  answers: DnsRecord[];
  /** The capture ended before the message did: what was whole has been read. */
  partial: boolean;
  /** Answer records not returned: other types, or beyond the record limit. */
  skipped: number;
}

export type DnsParseError = 'short-header' | 'bad-count' | 'bad-label' | 'pointer-loop' | 'name-too-long' | 'truncated' | 'bad-rdata';

/** The message, or why it is malformed. */
export type ParseResult = DnsMessage | DnsParseError;

export const isMalformed = (r: ParseResult): r is DnsParseError => typeof r === 'string';

/** Shared by every message without answers (never modified). */
const NO_ANSWERS: DnsRecord[] = [];

export interface ParseLimits { maxRecords: number; maxPointerJumps: number }

const LIMITS: ParseLimits = { maxRecords: DNS_DEFAULTS.maxRecordsPerMessage, maxPointerJumps: DNS_DEFAULTS.maxPointerJumps };
const HEADER = 12;
const MAX_NAME = 255;
const MAX_QUESTIONS = 4;
const CLASS_IN = 1;

/** Sentinel for "ran out of bytes": partial if the capture was short, malformed if not. */
const OUT = 'out' as const;
type NameResult = string | DnsParseError | typeof OUT;

/** Where the last name read ended (module state: no object per name). */
let nameEnd = 0;
/** The last name's labels as on the wire (length bytes included, pointers followed): at most 255 bytes. */
const raw = Buffer.allocUnsafe(256);
/** A name's text is built here, then made one flat string (255 wire bytes escape to at most ~1020 characters). */
const text = Buffer.allocUnsafe(1100);

/**
 * Names recently read, by a hash of their wire bytes: a resolver loop asks for
 * the same few names again and again, and each hit returns the string made the
 * first time, without building its text again (direct-mapped; a collision just
 * replaces). Keyed by the bytes as sent, so two spellings of one name in
 * different case are two entries with equal text.
 */
const NAME_CACHE = 4096;
const cachedBytes: (Uint8Array | undefined)[] = new Array(NAME_CACHE).fill(undefined);
const cachedText: string[] = new Array(NAME_CACHE).fill('');

/** The text of raw[0, n) (hash h), from the cache when the same bytes were read lately. */
function nameOf(n: number, h: number): string {
  const slot = (h >>> 0) & (NAME_CACHE - 1);
  const k = cachedBytes[slot];
  if (k && k.length === n) {
    let i = 0;
    while (i < n && k[i] === raw[i]) i++;
    if (i === n) return cachedText[slot];
  }
  const str = textOf(n);
  cachedBytes[slot] = Uint8Array.prototype.slice.call(raw, 0, n);
  cachedText[slot] = str;
  return str;
}

/**
 * The text of the labels in raw[0, n): lower case, dot-separated, and every
 * byte outside [a-z0-9_-] escaped as \DDD: names come from the wire and end
 * up on terminals and web pages.
 */
function textOf(n: number): string {
  let t = 0;
  for (let at = 0; at < n;) {
    const last = at + raw[at];
    if (t) text[t++] = 0x2e;
    for (let i = at + 1; i <= last; i++) {
      const c = raw[i];
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f) text[t++] = c;
      else if (c >= 0x41 && c <= 0x5a) text[t++] = c + 32;
      else {
        text[t++] = 0x5c;
        text[t++] = 0x30 + ((c / 100) | 0);
        text[t++] = 0x30 + (((c / 10) | 0) % 10);
        text[t++] = 0x30 + (c % 10);
      }
    }
    at = last + 1;
  }
  return text.toString('latin1', 0, t);
}

/**
 * Reads a (possibly compressed) name at absolute offset `off` of a message
 * starting at `base` and captured up to `end`; sets nameEnd. Its labels are
 * copied and hashed in one pass; the text is made only for a name not read lately.
 */
function readName(b: Buffer, base: number, end: number, off: number, maxJumps: number): NameResult {
  let pos = off, next = -1, jumps = 0, n = 0, h = 2166136261;
  for (;;) {
    if (pos >= end) return OUT;
    const len = b[pos];
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) return OUT;
      const target = base + (((len & 0x3f) << 8) | b[pos + 1]);
      if (next < 0) next = pos + 2;
      // Only backwards: a pointer to itself or beyond is how loops are made.
      if (target >= pos || ++jumps > maxJumps) return 'pointer-loop';
      pos = target;
      continue;
    }
    if (kind !== 0) return 'bad-label';
    if (pos + 1 + len > end) return OUT;
    if (n + len + 2 > MAX_NAME) return 'name-too-long'; // its labels, their length bytes and the root's
    for (let i = pos, last = pos + len; i <= last; i++) {
      const c = b[i];
      raw[n++] = c;
      h = Math.imul(h ^ c, 16777619);
    }
    pos += 1 + len;
  }
  nameEnd = next;
  return n ? nameOf(n, h) : '.';
}

const fail = (error: DnsParseError): ParseResult => error;

/** A fresh message object to parse into (parseDnsMessage's `into`). */
export function emptyMessage(): DnsMessage {
  return { id: 0, response: false, opcode: 0, rcode: 0, truncated: false, question: null, answers: NO_ANSWERS, partial: false, skipped: 0 };
}

/**
 * Parses one DNS message held in buf[start, start + length). `complete` says
 * whether those are all its bytes (false when the kernel captured only a prefix).
 * With `into`, the message and its question object are written there instead of
 * new ones (a caller that copies what it keeps, like the query side of matching).
 */
export function parseDnsMessage(buf: Buffer, start = 0, length = buf.length - start, complete = true, limits: ParseLimits = LIMITS, into?: DnsMessage): ParseResult {
  const b = buf;
  const base = start;
  const end = Math.min(start + length, buf.length);
  if (end - base < HEADER) return fail('short-header');
  const flags = (b[base + 2] << 8) | b[base + 3];
  const qd = (b[base + 4] << 8) | b[base + 5];
  const an = (b[base + 6] << 8) | b[base + 7];
  const question = into?.question ?? null;
  const msg: DnsMessage = into ?? emptyMessage();
  msg.id = (b[base] << 8) | b[base + 1];
  msg.response = (flags & 0x8000) !== 0;
  msg.opcode = (flags >> 11) & 0xf;
  msg.rcode = flags & 0xf;
  msg.truncated = (flags & 0x0200) !== 0;
  msg.question = null;
  msg.answers = NO_ANSWERS;
  msg.partial = false;
  msg.skipped = 0;
  // Every question takes at least 5 bytes and every record 11: counts a message cannot hold are lies.
  if (qd > MAX_QUESTIONS || (complete && qd * 5 + an * 11 > end - base - HEADER)) return fail('bad-count');
  const jumps = limits.maxPointerJumps;

  // Records are gathered here and copied out at their exact count (no growing arrays per message).
  found.length = 0;
  let pos = base + HEADER;
  for (let i = 0; i < qd; i++) {
    const name = readName(b, base, end, pos, jumps);
    if (name === OUT) return outOfData(msg, complete);
    if (isError(name)) return fail(name);
    pos = nameEnd;
    if (pos + 4 > end) return outOfData(msg, complete);
    if (i === 0) {
      const type = (b[pos] << 8) | b[pos + 1];
      if (question) { question.name = name; question.type = type; msg.question = question; } else msg.question = { name, type };
    }
    pos += 4;
  }

  for (let i = 0; i < an; i++) {
    if (i >= limits.maxRecords) { msg.skipped += an - i; break; }
    // Most records name the question by a pointer to it (0xc00c): reuse its text.
    const toQuestion = msg.question !== null && pos + 1 < end && b[pos] === 0xc0 && b[pos + 1] === HEADER;
    const name = toQuestion ? msg.question!.name : readName(b, base, end, pos, jumps);
    if (toQuestion) nameEnd = pos + 2;
    if (name === OUT) return outOfData(msg, complete);
    if (isError(name)) return fail(name);
    pos = nameEnd;
    if (pos + 10 > end) return outOfData(msg, complete);
    const type = (b[pos] << 8) | b[pos + 1];
    const cls = (b[pos + 2] << 8) | b[pos + 3];
    const rawTtl = ((b[pos + 4] << 24) >>> 0) + ((b[pos + 5] << 16) | (b[pos + 6] << 8) | b[pos + 7]);
    const ttl = rawTtl > 0x7fffffff ? 0 : rawTtl; // RFC 2181: a TTL with the top bit set means zero
    const rdlen = (b[pos + 8] << 8) | b[pos + 9];
    const rdata = pos + 10;
    if (rdata + rdlen > end) return outOfData(msg, complete);
    pos = rdata + rdlen;
    if (cls !== CLASS_IN) { msg.skipped++; continue; }
    if (type === RRType.A) {
      if (rdlen !== 4) return fail('bad-rdata');
      found.push({ name, type: 'A', ttl, data: ipv4(b, rdata) });
    } else if (type === RRType.AAAA) {
      if (rdlen !== 16) return fail('bad-rdata');
      found.push({ name, type: 'AAAA', ttl, data: ipv6(b, rdata) });
    } else if (type === RRType.CNAME) {
      const target = readName(b, base, rdata + rdlen, rdata, jumps);
      if (target === OUT || isError(target)) return fail(target === OUT ? 'bad-rdata' : target);
      found.push({ name, type: 'CNAME', ttl, data: target });
    } else {
      msg.skipped++;
    }
  }
  if (found.length) msg.answers = found.slice();
  return msg;
}

/** Ran out of bytes: malformed if they were all the message's, partial if the capture was short. */
function outOfData(msg: DnsMessage, complete: boolean): ParseResult {
  if (complete) return 'truncated';
  msg.partial = true;
  if (found.length) msg.answers = found.slice();
  return msg;
}

const found: DnsRecord[] = [];

function isError(x: NameResult): x is DnsParseError {
  return x === 'bad-label' || x === 'pointer-loop' || x === 'name-too-long' || x === 'truncated' || x === 'bad-rdata';
}
