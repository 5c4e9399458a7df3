// The chunked gzip body against zlib: one member that gunzip (which checks the
// CRC-32 and length in the trailer) and curl read whole, equal to the joined
// text across scrapes where rows change, appear, vanish and move; and the CRC
// combination against zlib's CRC of the whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { GzipChunks, crc32Combine } from './gzip-chunks.js';
import type { TextChunk } from '../export/exposition.js';

test('crc32Combine gives the CRC-32 of the concatenation (random byte strings)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
    const whole = zlib.crc32(Buffer.concat([a, b]));
    assert.equal(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length), whole);
  }), { numRuns: 500 });
  assert.equal(crc32Combine(0, 0, 0), 0);
});

const text = (head: string, chunks: TextChunk[]) => head + chunks.map((c) => c.parts.join('')).join('');
/** The rows, in order within the head and across chunks; within a chunk, a reused member keeps the rows' old order. */
const rowsOf = (t: string) => t.split('\n').sort();

test('scrape after scrape, the body is one gzip member holding exactly the text; unchanged chunks are reused', async () => {
  const gz = new GzipChunks();
  const rows = Array.from({ length: 2000 }, (_, i) => `m{edge="e${i}",host="h"} ${i}\n`);
  const chunksOf = (rs: string[]): TextChunk[] => {
    const out: TextChunk[] = [{ id: 'm#h', parts: ['# TYPE m counter\n'] }];
    for (let i = 0; i < rs.length; i += 256) out.push({ id: `m#${i / 256}`, parts: rs.slice(i, i + 256) });
    return out;
  };
  let chunks = chunksOf(rows);
  for (let scrape = 0; scrape < 6; scrape++) {
    const head = `# own metrics\nup ${scrape}\n`;
    const body = await gz.body(head, chunks);
    assert.ok(body.length < text(head, chunks).length / 5, 'compressed');
    const got = zlib.gunzipSync(body).toString();
    assert.ok(got.startsWith(head), 'the head first');
    assert.deepEqual(rowsOf(got), rowsOf(text(head, chunks)), `scrape ${scrape}`);
    // One member: a reader that stops after the first (curl) sees it all.
    const inflate = zlib.inflateRawSync(body.subarray(10, body.length - 8));
    assert.equal(inflate.length, body.readUInt32LE(body.length - 4));
    // Next scrape: one row's number moves, rows of one chunk swap places, one chunk gains a row.
    const next = [...rows];
    next[scrape * 300 + 5] = `m{edge="e${scrape * 300 + 5}",host="h"} ${1000 + scrape}\n`;
    chunks = chunksOf(next);
    chunks[7].parts.reverse();
    chunks[2].parts.push(`m{edge="new${scrape}",host="h"} 1\n`);
  }
  // Per scrape after the first, at most three of the nine chunks changed (the reversed one is the same text set).
  assert.ok(gz.counts.kept >= 5 * 6, JSON.stringify(gz.counts));
});

test('non-ASCII text and an empty chunk list', async () => {
  const gz = new GzipChunks();
  const chunks: TextChunk[] = [{ id: 'a', parts: ['x{name="café ☕"} 1\n'] }];
  assert.equal(zlib.gunzipSync(await gz.body('', chunks)).toString(), 'x{name="café ☕"} 1\n');
  assert.equal(zlib.gunzipSync(await gz.body('only\n', [])).toString(), 'only\n');
});
