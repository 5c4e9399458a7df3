// The chunked gzip body against zlib: one member that gunzip (which checks the
// CRC-32 and length in the trailer) and curl read whole, equal to the joined
// text across scrapes where rows change, appear, vanish and move; and the CRC
// combination against zlib's CRC of the whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { GzipChunks, crc32Combine } from './gzip-chunks.js';
import { CHUNK_SERIES, expositionChunks } from '../export/exposition.js';
import type { Family, Labels } from '../export/families.js';

test('crc32Combine gives the CRC-32 of the concatenation (random byte strings)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
    const whole = zlib.crc32(Buffer.concat([a, b]));
    assert.equal(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length), whole);
  }), { numRuns: 500 });
  assert.equal(crc32Combine(0, 0, 0), 0);
});

const rowsOf = (t: string) => t.split('\n').filter(Boolean).sort();
const family = (series: { labels: Labels; value: number }[]): Family => ({ type: 'counter', name: 'm', help: 'h', unit: '1', series });

test('scrape after scrape, the body is one gzip member holding exactly the text; unchanged chunks are reused', async () => {
  const gz = new GzipChunks();
  const labels = Array.from({ length: 8 * CHUNK_SERIES - 50 }, (_, i) => ({ edge: `e${i}`, host: 'h' }));
  let series = labels.map((l, i) => ({ labels: l, value: i }));
  for (let scrape = 0; scrape < 6; scrape++) {
    const head = `# own metrics\nup ${scrape}\n`;
    const body = await gz.body(head, expositionChunks([family(series)]));
    // Written independently of the exposition: what the body must hold.
    const want = head + '# HELP m h\n# TYPE m counter\n' + series.map((s) => `m{edge="${s.labels.edge}",host="h"} ${s.value}\n`).join('');
    assert.ok(body.length < want.length / 5, 'compressed');
    const got = zlib.gunzipSync(body).toString();
    assert.ok(got.startsWith(head), 'the head first');
    assert.deepEqual(rowsOf(got), rowsOf(want), `scrape ${scrape}`);
    // One member: a reader that stops after the first (curl) sees it all.
    const inflate = zlib.inflateRawSync(body.subarray(10, body.length - 8));
    assert.equal(inflate.length, body.readUInt32LE(body.length - 4));
    // Next scrape: one series' number moves, one is new, one is gone; once, they come in another order.
    series = (scrape === 3 ? [...series].reverse() : series).map((s) => ({ ...s }));
    series[Math.floor(scrape * 1.2 * CHUNK_SERIES) + 5].value += 1000;
    series.push({ labels: { edge: `new${scrape}`, host: 'h' }, value: 1 });
    series.splice(100 + scrape, 1);
  }
  // Per scrape after the first, at most three of the eight series chunks changed (all of them once, in the new order).
  assert.ok(gz.counts.kept >= 4 * 6, JSON.stringify(gz.counts));
});

test('non-ASCII text and an empty chunk list', async () => {
  const gz = new GzipChunks();
  const chunks = expositionChunks([family([{ labels: { name: 'café ☕' }, value: 1 }])]);
  assert.equal(zlib.gunzipSync(await gz.body('', chunks)).toString(), '# HELP m h\n# TYPE m counter\nm{name="café ☕"} 1\n');
  assert.equal(zlib.gunzipSync(await gz.body('only\n', [])).toString(), 'only\n');
});

test('a scrape that moves the numbers while another is compressing never leaves old text under the new stamp', async () => {
  const gz = new GzipChunks();
  const labels = Array.from({ length: 600 }, (_, i) => ({ edge: `r${i}` }));
  const at = (v: number) => expositionChunks([family(labels.map((l) => ({ labels: l, value: v })))]);
  await gz.body('', at(1));
  const compressing = gz.body('', at(2));
  at(3); // e.g. a plain-text scrape meanwhile: every chunk gets a new stamp
  await compressing;
  const got = zlib.gunzipSync(await gz.body('', at(3))).toString();
  assert.equal(got.split('\n').filter((l) => l.endsWith(' 3')).length, 600, 'every row as of the last call');
});

test('two scrapes compressing at once, each with its own numbers: each body holds its own text (the second never writes into memory the first is reading)', async () => {
  const gz = new GzipChunks();
  const labels = Array.from({ length: 3 * CHUNK_SERIES }, (_, i) => ({ edge: `c${i}` }));
  const at = (v: number) => expositionChunks([family(labels.map((l) => ({ labels: l, value: v })))]);
  await gz.body('', at(1)); // every chunk has its memory now
  for (let round = 0; round < 3; round++) {
    const a = gz.body('', at(10 + 2 * round));
    const b = gz.body('', at(11 + 2 * round));
    for (const [body, v] of [[await a, 10 + 2 * round], [await b, 11 + 2 * round]] as const) {
      const rows = zlib.gunzipSync(body).toString().split('\n').filter((l) => l.startsWith('m{'));
      assert.equal(rows.length, labels.length);
      assert.ok(rows.every((l) => l.endsWith(` ${v}`)), `round ${round}: every row of the body with ${v}`);
    }
  }
});

test('no chunk written is given back while the body is being made, and every one of them is once it is done', async () => {
  const gz = new GzipChunks();
  const labels = Array.from({ length: 2 * CHUNK_SERIES }, (_, i) => ({ edge: `d${i}` }));
  const events: string[] = [];
  const watched = (v: number) => expositionChunks([family(labels.map((l) => ({ labels: l, value: v })))]).map((c) => ({
    id: c.id, stamp: c.stamp,
    bytes: () => { events.push(`bytes ${c.id}`); return c.bytes(); },
    release: (b: Buffer) => { events.push(`release ${c.id}`); c.release(b); },
  }));
  for (const v of [1, 2]) {
    events.length = 0;
    const body = gz.body('', watched(v));
    assert.ok(events.length > 0 && events.every((e) => e.startsWith('bytes ')), 'nothing released while compressing');
    const written = events.length;
    await body;
    assert.deepEqual(events.slice(written).sort(), events.slice(0, written).map((e) => e.replace('bytes', 'release')).sort());
  }
});
