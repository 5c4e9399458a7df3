// HTTP/2 request of a sample: the client's HEADERS frame (frame header and as
// much of the header block as the kernel kept), HPACK-decoded by hpack.js with
// a fresh table. A header the client sent as a reference to its dynamic table
// (a repeated path, say) cannot be resolved from one frame: it stays unknown.
import hpack from 'hpack.js';
import type { RequestDescription } from '../types.js';
import { keptPath } from './http1.js';

const HEADERS = 1, PADDED = 8, PRIORITY = 0x20;

export function describeHttp2(text: Buffer): RequestDescription | null {
  if (text.length < 10 || text[3] !== HEADERS) return null;
  const len = (text[0] << 16) | (text[1] << 8) | text[2];
  const flags = text[4];
  let start = 9, end = Math.min(text.length, 9 + len);
  if (flags & PADDED) { end = Math.min(end, 9 + len - text[9]); start++; }
  if (flags & PRIORITY) start += 5;
  if (start >= end) return null;
  return describeHttp2Block(text.subarray(start, end));
}

/** The request named by a header block alone: the kernel's rebuilt :method and :path of a stream (sample flag HPACK,
 *  src/kernel/l7/http2_paths.c), whose path the client had sent as a reference to its HPACK table. */
export function describeHttp2Block(block: Buffer): RequestDescription | null {
  const fields = decodeFields(block);
  const method = fields.get(':method');
  const raw = fields.get(':path');
  const path = raw === undefined ? undefined : keptPath(raw);
  if (!method && path === undefined) return null;
  return { method: method && /^[A-Z]{1,16}$/.test(method) ? method : 'HTTP/2', target: path };
}

/** Fields decoded until the first one that cannot be (dynamic reference, cut block). */
function decodeFields(block: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const d = hpack.decompressor.create({ table: { size: 4096 } });
  d.on('error', () => { /* the fields before it are kept */ });
  try {
    d.write(block);
    d.execute();
  } catch { /* malformed: keep what was decoded */ }
  for (let f = d.read(); f !== null; f = d.read()) if (!out.has(f.name)) out.set(f.name, f.value);
  return out;
}
