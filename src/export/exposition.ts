// The families in Prometheus' text format (0.0.4). prom-client formats the
// agent's own metrics; edge families are tens of thousands of rows whose label
// sets repeat across metrics and scrapes, and most of whose numbers stand still
// between two scrapes. So each label set is escaped once, each series' rows are
// kept as text with the numbers they were made from, and a scrape re-renders
// only the series whose numbers moved; the text is joined once at the end (a
// string grown row by row is a rope of ~10^5 pieces that costs more to flatten
// than to build).
import type { Family, HistogramFamily, Labels, SummaryFamily } from './families.js';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** `a="x",b="y"` for a label set; cached per object, since the exporter reuses an edge's labels. */
const labelCache = new WeakMap<Labels, string>();
function labelText(l: Labels): string {
  let s = labelCache.get(l);
  if (s === undefined) {
    s = '';
    for (const k in l) if (l[k] !== '') s += `${s ? ',' : ''}${k}="${escapeLabel(l[k])}"`; // an empty value is no label, to Prometheus
    labelCache.set(l, s);
  }
  return s;
}

function value(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

/** A series' rows as text, and the numbers they were made from. */
interface Rows { a: number; b: number; c: number; text: string }
/** Per label set (one object per edge, kept while the edge lives), per family name. */
const rowCache = new WeakMap<Labels, Map<string, Rows>>();

function rowsOf(labels: Labels, family: string): Rows {
  let m = rowCache.get(labels);
  if (!m) { m = new Map(); rowCache.set(labels, m); }
  let r = m.get(family);
  if (!r) { r = { a: NaN, b: NaN, c: NaN, text: '' }; m.set(family, r); }
  return r;
}

// Rows are made with join: it gives one flat string, where `+` gives a rope
// that the final join would have to walk piece by piece on every scrape.
function histogramText(f: HistogramFamily, s: HistogramFamily['series'][number], les: string[]): string {
  const l = labelText(s.labels);
  const b = `${f.name}_bucket{${l}${l ? ',' : ''}`;
  const out: (string | number)[] = [];
  let acc = 0;
  for (let i = 0; i < f.bounds.length; i++) {
    acc += s.counts[i];
    out.push(b, les[i], '} ', acc, '\n');
  }
  out.push(b, 'le="+Inf"} ', s.count, '\n', f.name, '_sum{', l, '} ', value(s.sum), '\n', f.name, '_count{', l, '} ', s.count, '\n');
  return out.join('');
}

function summaryText(f: SummaryFamily, s: SummaryFamily['series'][number]): string {
  const l = labelText(s.labels);
  const out: (string | number)[] = [];
  for (const [q, v] of s.quantiles ?? []) out.push(f.name, '{', l, l ? ',' : '', 'quantile="', q, '"} ', value(v), '\n');
  out.push(f.name, '_sum{', l, '} ', value(s.sum), '\n', f.name, '_count{', l, '} ', s.count, '\n');
  return out.join('');
}

/** Each series' rows, from the cache while its numbers stand still, with the series' label set. */
function forEachSeries(f: Family, emit: (labels: Labels, text: string) => void): void {
  if (f.type === 'histogram') {
    const les = f.bounds.map((b) => `le="${b}"`);
    for (const s of f.series) {
      // Per-bucket counts only grow: the same count and sum mean the same buckets.
      const r = rowsOf(s.labels, f.name);
      if (r.a !== s.count || r.b !== s.sum) { r.a = s.count; r.b = s.sum; r.text = histogramText(f, s, les); }
      emit(s.labels, r.text);
    }
  } else if (f.type === 'summary') {
    for (const s of f.series) {
      const q = s.quantiles?.length === 1 ? s.quantiles[0][1] : s.quantiles?.length ? NaN : -1; // NaN: never equal, re-rendered
      const r = rowsOf(s.labels, f.name);
      if (r.a !== s.count || r.b !== s.sum || r.c !== q) { r.a = s.count; r.b = s.sum; r.c = q; r.text = summaryText(f, s); }
      emit(s.labels, r.text);
    }
  } else {
    for (const s of f.series) {
      const r = rowsOf(s.labels, f.name);
      if (r.a !== s.value) { r.a = s.value; r.text = [f.name, '{', labelText(s.labels), '} ', value(s.value), '\n'].join(''); }
      emit(s.labels, r.text);
    }
  }
}

const header = (f: Family) => `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;

/** The families in Prometheus' text format. */
export function exposition(families: Family[]): string {
  return chunksText(expositionChunks(families));
}

/** Chunks as one text. */
export function chunksText(chunks: TextChunk[]): string {
  return chunks.map((c) => c.parts.join('')).join('');
}

/**
 * Rows that stay together from scrape to scrape: a family's header, or the
 * series of up to CHUNK_SERIES label sets (a label set keeps its chunk while
 * it lives). A chunk whose row texts are the same strings as at the last
 * scrape has the same text, whatever their order, so its compressed form can
 * be kept (api/gzip-chunks.ts).
 */
export interface TextChunk { id: string; parts: string[] }

const CHUNK_SERIES = 256;
const chunkOf = new WeakMap<Labels, number>();
let openChunk = 0, inOpenChunk = 0;
function chunkNo(l: Labels): number {
  let c = chunkOf.get(l);
  if (c === undefined) {
    if (++inOpenChunk > CHUNK_SERIES) { openChunk++; inOpenChunk = 1; }
    c = openChunk;
    chunkOf.set(l, c);
  }
  return c;
}

/** The families as chunks, in the order Prometheus' format asks for: each family's header, then its series. */
export function expositionChunks(families: Family[]): TextChunk[] {
  const out: TextChunk[] = [];
  for (const f of families) {
    out.push({ id: `${f.name}#h`, parts: [header(f)] });
    const byChunk = new Map<number, string[]>();
    forEachSeries(f, (labels, text) => {
      const c = chunkNo(labels);
      const parts = byChunk.get(c);
      if (parts) parts.push(text); else byChunk.set(c, [text]);
    });
    for (const [c, parts] of byChunk) out.push({ id: `${f.name}#${c}`, parts });
  }
  return out;
}
