// /metrics gzip-compressed a chunk of rows at a time, reusing a chunk's
// compressed bytes while its stamp stands (the same series, none of whose
// numbers moved), so a quiet scrape neither writes nor compresses the text of
// tens of thousands of series.
//
// The body is still one gzip member (curl --compressed reads only the first of
// several): each chunk is a DEFLATE stream compressed on its own and ended
// with a sync flush (byte-aligned, not final), so the chunks concatenate into
// one valid stream; an empty final block closes it. The trailer's CRC-32 is
// combined from the chunks' CRCs (crc32Combine), without reading their text again.
//
// Each chunk is compressed as a gzip file of its own on libuv's threads, which
// also compute its CRC there: on the main thread, CRC-32 of a busy scrape's
// text (10-15 MB) took 5-8 ms. Its header, its final block and its trailer
// (after the CRC is read from it) are cut off.
import zlib from 'node:zlib';
import type { ExpositionChunk } from '../export/exposition.js';

const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block with fixed codes: BFINAL=1, BTYPE=01, end-of-block. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
/** What ends a chunk's own gzip file: a sync flush's empty stored block (its LEN and NLEN), the empty final block, then CRC and length. */
const SYNC_THEN_FINAL = Buffer.concat([Buffer.from([0x00, 0x00, 0xff, 0xff]), FINAL_BLOCK]);
/** The gzip trailer: CRC-32, then length. */
const TRAILER = 8;

/** One chunk: its DEFLATE blocks, and its text's CRC-32 and length in bytes. */
interface Piece { deflated: Buffer; crc: number; size: number }
interface Member extends Piece { stamp: number }

/** The chunk as a gzip file: its rows written with a sync flush, then the stream ended (so the final block is empty). */
function gzipFile(raw: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z = zlib.createGzip({ level: 1, flush: zlib.constants.Z_SYNC_FLUSH });
    const out: Buffer[] = [];
    z.on('data', (d: Buffer) => out.push(d));
    z.on('end', () => resolve(Buffer.concat(out)));
    z.on('error', reject);
    z.write(raw); // compressed with the sync flush: end() with it would make its last block final
    z.end();
  });
}

async function piece(raw: Buffer): Promise<Piece> {
  const file = await gzipFile(raw);
  const trailer = file.length - TRAILER; // zlib's header is as long as ours: 10 bytes, no optional fields
  if (trailer - SYNC_THEN_FINAL.length < HEADER.length || !file.subarray(trailer - SYNC_THEN_FINAL.length, trailer).equals(SYNC_THEN_FINAL)) {
    throw new Error('zlib ended a gzip chunk in an unexpected way'); // never seen: zlib's flush rules fix these bytes
  }
  return { deflated: file.subarray(HEADER.length, trailer - FINAL_BLOCK.length), crc: file.readUInt32LE(trailer), size: raw.length };
}

export class GzipChunks {
  private members = new Map<string, Member>();
  /** Chunks compressed and chunks reused, over all calls. */
  readonly counts = { compressed: 0, kept: 0 };

  /** `head` (always compressed: the agent's own metrics move every scrape), then the chunks, as one gzip file. */
  async body(head: string, chunks: ExpositionChunk[]): Promise<Buffer> {
    const next = new Map<string, Member>();
    const pieces: Piece[] = new Array(chunks.length + 1);
    const made: Promise<void>[] = [piece(Buffer.from(head)).then((p) => { pieces[0] = p; })];
    // Every chunk's bytes are written before the first await: they read the live numbers of this scrape.
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i], old = this.members.get(c.id);
      if (old && old.stamp === c.stamp) {
        next.set(c.id, old);
        pieces[i + 1] = old;
        this.counts.kept++;
        continue;
      }
      this.counts.compressed++;
      const stamp = c.stamp; // as written now: a call meanwhile may stamp the chunk anew
      const raw = c.bytes();
      made.push(piece(raw).finally(() => c.release(raw)).then((p) => { next.set(c.id, { ...p, stamp }); pieces[i + 1] = p; }));
    }
    await Promise.all(made);
    this.members = next;
    let crc = 0, size = 0;
    for (const p of pieces) { crc = crc32Combine(crc, p.crc, p.size); size += p.size; }
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(size % 0x1_0000_0000, 4);
    return Buffer.concat([HEADER, ...pieces.map((p) => p.deflated), FINAL_BLOCK, trailer]);
  }
}

// CRC-32 of A followed by B from crc(A), crc(B) and B's length: crc(A) times x^(8·len(B)) modulo the
// CRC polynomial, plus crc(B) (the arithmetic of zlib's crc32_combine, in GF(2) with reflected bits).
const POLY = 0xedb88320;

/** a·b modulo the polynomial (bit 31 is x^0, as CRC-32 holds its bits reflected). */
function mulModP(a: number, b: number): number {
  let m = 0x80000000, p = 0;
  for (;;) {
    if (a & m) { p ^= b; if ((a & (m - 1)) === 0) break; }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..31. */
const X2N: number[] = (() => {
  const t = [0x40000000]; // x^1
  for (let k = 1; k < 32; k++) t.push(mulModP(t[k - 1], t[k - 1]));
  return t;
})();

/** x^(n·2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n) {
    if (n & 1) p = mulModP(X2N[k & 31], p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

export function crc32Combine(crcA: number, crcB: number, lenB: number): number {
  return (mulModP(x2nModP(lenB, 3), crcA >>> 0) ^ crcB) >>> 0;
}
