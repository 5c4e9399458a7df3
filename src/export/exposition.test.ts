// The byte-written exposition against a plain string formatter written here
// (numbers by String(), rows joined): the same text for any numbers (large
// integers, fractions, negatives, NaN, infinities) and any label values; and a
// chunk's stamp moves exactly when one of its series' numbers does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHUNK_SERIES, exposition, expositionChunks } from './exposition.js';
import type { Family, Labels } from './families.js';

const num = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const lab = (l: Labels, extra = '') => [...Object.entries(l).filter(([, v]) => v !== '').map(([k, v]) => `${k}="${esc(v)}"`), ...(extra ? [extra] : [])].join(',');

function reference(families: Family[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.series) {
      if (f.type === 'histogram') {
        const h = s as Extract<Family, { type: 'histogram' }>['series'][number];
        let acc = 0;
        f.bounds.forEach((b, i) => { acc += h.counts[i]; out += `${f.name}_bucket{${lab(h.labels, `le="${b}"`)}} ${num(acc)}\n`; });
        out += `${f.name}_bucket{${lab(h.labels, 'le="+Inf"')}} ${num(h.count)}\n${f.name}_sum{${lab(h.labels)}} ${num(h.sum)}\n${f.name}_count{${lab(h.labels)}} ${num(h.count)}\n`;
      } else if (f.type === 'summary') {
        const m = s as Extract<Family, { type: 'summary' }>['series'][number];
        for (const [q, v] of m.quantiles ?? []) out += `${f.name}{${lab(m.labels, `quantile="${q}"`)}} ${num(v)}\n`;
        out += `${f.name}_sum{${lab(m.labels)}} ${num(m.sum)}\n${f.name}_count{${lab(m.labels)}} ${num(m.count)}\n`;
      } else {
        out += `${f.name}{${lab(s.labels)}} ${num((s as { value: number }).value)}\n`;
      }
    }
  }
  return out;
}

const anyNumber = fc.oneof(fc.double(), fc.nat(), fc.maxSafeNat(), fc.integer(), fc.constantFrom(0, -0, 1e21, 2 ** 53, 2 ** 53 + 2, 0.1, 1e-7));
const labels = fc.dictionary(fc.constantFrom('client', 'server', 'host', 'reason'), fc.string({ unit: 'binary', maxLength: 12 }), { maxKeys: 3 });

test('any numbers and label values: the same text as a plain string formatter', () => {
  const families = fc.tuple(
    fc.array(fc.record({ labels, value: anyNumber }), { maxLength: 6 }),
    fc.array(fc.record({ labels, counts: fc.array(fc.nat(1e9), { minLength: 3, maxLength: 3 }), sum: anyNumber, count: fc.nat() }), { maxLength: 4 }),
    fc.array(fc.record({ labels, sum: anyNumber, count: fc.nat(), quantiles: fc.option(fc.array(fc.tuple(fc.constantFrom(0.5, 0.95), anyNumber), { maxLength: 2 }), { nil: undefined }) }), { maxLength: 4 }),
  ).map(([scalars, hists, sums]): Family[] => [
    { type: 'gauge', name: 'g', help: 'a\\b\nc', unit: '1', series: scalars },
    { type: 'histogram', name: 'h_seconds', help: 'h', unit: 's', bounds: [0.001, 0.5, 10], series: hists },
    { type: 'summary', name: 's_seconds', help: 's', unit: 's', series: sums },
  ]);
  fc.assert(fc.property(families, (fs) => { assert.equal(exposition(fs), reference(fs)); }), { numRuns: 300 });
  // Past the writer's first buffer (64 KiB), with multi-byte characters across the boundary.
  const big: Family[] = [{ type: 'gauge', name: 'g', help: 'g', unit: '1', series: Array.from({ length: 40 }, (_, i) => ({ labels: { name: `☕é${i}`.repeat(900) }, value: i * 1.5 })) }];
  assert.equal(exposition(big), reference(big));
});

test('a chunk keeps its stamp while its numbers stand still, and gets a new one when one moves', () => {
  const series = Array.from({ length: 2.5 * CHUNK_SERIES }, (_, i) => ({ labels: { edge: `e${i}` }, value: i }));
  const fam = (): Family[] => [{ type: 'counter', name: 'c_total', help: 'c', unit: '1', series }];
  const stamps = () => expositionChunks(fam()).map((c) => c.stamp);
  const first = stamps();
  assert.ok(first.length >= 4, 'a header and at least three chunks');
  assert.deepEqual(stamps(), first, 'nothing moved');
  series[CHUNK_SERIES + 7].value++;
  const next = stamps();
  assert.equal(next[0], first[0], 'the header stands still');
  assert.equal(next.filter((s, i) => s !== first[i]).length, 1, 'only the chunk holding the series that moved');
});

test('a family name given twice in one call: each keeps its own rows', () => {
  const labels = Array.from({ length: 300 }, (_, i) => ({ edge: `d${i}` }));
  const fams = (v: number): Family[] => [
    { type: 'gauge', name: 'dup', help: 'd', unit: '1', series: labels.map((l) => ({ labels: l, value: v })) },
    { type: 'gauge', name: 'dup', help: 'd', unit: '1', series: labels.slice(0, 10).map((l) => ({ labels: l, value: v + 100 })) },
  ];
  for (const v of [1, 2, 2]) assert.equal(exposition(fams(v)), reference(fams(v)));
});

test('a series object given to two families is written with each one\'s name, and follows its new numbers', () => {
  const shared = { labels: { edge: 'x' }, value: 1 };
  const fams = (): Family[] => [
    { type: 'gauge', name: 'first', help: 'f', unit: '1', series: [shared] },
    { type: 'counter', name: 'second_total', help: 's', unit: '1', series: [shared] },
  ];
  for (const v of [1, 2, 2, 3]) {
    shared.value = v;
    assert.equal(exposition(fams()), reference(fams()));
  }
});

test('fractions written without String() read as String() writes them: sums of µs, ms and ns in seconds, and others', () => {
  const nice = fc.oneof(
    fc.integer({ min: -1e15, max: 1e15 }).map((k) => k / 1e6),
    fc.integer({ min: -1e15, max: 1e15 }).map((k) => k / 1e9),
    fc.integer({ min: 0, max: 1e12 }).map((k) => k / 1e3),
    fc.double({ min: -2e9, max: 2e9, noNaN: true }),
    fc.constantFrom(0.1 + 0.2, 1e-7, 5e-7, 1e-6, 0.000001, 1073741823.999999, 1073741824.5, 1048575.999999999, -0.5),
  );
  fc.assert(fc.property(fc.array(nice, { minLength: 1, maxLength: 20 }), (vs) => {
    const series = vs.map((value, i) => ({ labels: { i: String(i) }, value }));
    const fams: Family[] = [{ type: 'gauge', name: 'g', help: 'g', unit: '1', series }];
    assert.equal(exposition(fams), reference(fams));
  }), { numRuns: 2000 });
});

test('a chunk writes into the memory it lent only once it is released: text lent out is never overwritten', () => {
  const series = Array.from({ length: 50 }, (_, i) => ({ labels: { edge: `m${i}` }, value: i }));
  const fams = (): Family[] => [{ type: 'gauge', name: 'mem', help: 'm', unit: '1', series }];
  const chunkOf = () => expositionChunks(fams()).find((c) => c.id.startsWith('mem#') && !c.id.endsWith('#h'))!;
  const overlap = (a: Buffer, b: Buffer) => a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
  const c = chunkOf();
  const lent = c.bytes();
  const text = lent.toString();
  series[0].value = 12345; // moved while the first text is still being read
  const second = chunkOf().bytes();
  assert.equal(lent.toString(), text, 'the lent text stands');
  assert.ok(!overlap(second, lent), 'the second text went elsewhere');
  assert.match(second.toString(), /mem\{edge="m0"\} 12345\n/);
  c.release(second); // text written elsewhere, given back: the first loan stands
  const fourth = chunkOf().bytes();
  assert.ok(!overlap(fourth, lent), 'giving back other text does not end the loan');
  assert.equal(lent.toString(), text);
  c.release(fourth);
  c.release(lent);
  series[0].value = 7;
  const third = chunkOf().bytes();
  assert.ok(third.buffer === lent.buffer && third.byteOffset === lent.byteOffset, 'after release, the same memory again');
  // this chunk's rows with m0's new value (chunk numbers are the module's: earlier tests' label sets can put m40-m49 in the next chunk)
  assert.equal(third.toString(), text.replace('mem{edge="m0"} 0\n', 'mem{edge="m0"} 7\n'));
  assert.match(third.toString(), /^mem\{edge="m0"\} 7\n/);
  c.release(third);
});
