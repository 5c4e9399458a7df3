// The families in Prometheus' text format (0.0.4). prom-client formats the
// agent's own metrics; edge families are tens of thousands of rows whose label
// sets repeat across metrics and scrapes, and on a busy host most of whose
// numbers move between two scrapes. So each series keeps its rows' label text
// (made once, up to the value), and a chunk's rows are written straight into
// bytes: the label text copied in, the numbers' digits written beside it.
// Rows made as strings, joined and then encoded cost 2.4x more (2,000 edges,
// every row moved: 80 ms against 34), most of a busy scrape.
import type { Family, HistogramFamily, Labels, ScalarSeries, SummaryFamily } from './families.js';

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

// Buffer#write's argument checks cost more than the copy for short rows; utf8Write is the method under it.
type Utf8Write = (this: Buffer, s: string, offset: number) => number;
const utf8Write: Utf8Write = (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write ?? function (this: Buffer, s: string, offset: number) { return this.write(s, offset, 'utf8'); };
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Room for a number's text and its newline: String() of a double is at most 24 characters; 16 digits for a safe integer. */
const NUMBER_ROOM = 25;

/** Writes a chunk's rows into one buffer sized for them up front (no copy when done). */
class Writer {
  private buf = Buffer.alloc(0);
  private n = 0;

  begin(room: number): void { this.buf = Buffer.allocUnsafe(room); this.n = 0; }

  /** Only when the room given was short (a summary's quantile rows): grow by copying. */
  private reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  /** A row: its start (label text up to the value), the number and the newline. */
  row(start: string, v: number): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; near the end of the room, count them.
    if (this.n + start.length * 3 + NUMBER_ROOM > this.buf.length) this.reserve(Buffer.byteLength(start) + NUMBER_ROOM);
    this.n += utf8Write.call(this.buf, start, this.n);
    if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v)) this.n += utf8Write.call(this.buf, value(v), this.n);
    else this.digits(v);
    this.buf[this.n++] = 10;
  }

  /** An integer's digits, as String() gives them, without making a string. */
  private digits(v: number): void {
    let len = 1;
    while (len < 16 && v >= POW10[len]) len++;
    let at = this.n + len;
    let x = v;
    if (x < 0x80000000) {
      do { const q = (x / 10) | 0; this.buf[--at] = 48 + x - q * 10; x = q; } while (x > 0);
    } else {
      do { const q = Math.floor(x / 10); this.buf[--at] = 48 + (x - q * 10); x = q; } while (x > 0);
    }
    this.n += len;
  }

  /** What was written; the writer lets go of it. */
  end(): Buffer {
    const out = this.buf.subarray(0, this.n);
    this.buf = Buffer.alloc(0);
    return out;
  }
}

const writer = new Writer();

/**
 * One series of one family: its rows' text up to the value (each a line's start),
 * the numbers it was last written with, and when those last moved. The same
 * object, with the same stamp, means the same rows.
 */
export interface SeriesRows {
  /** Rows' starts: histogram buckets then +Inf, _sum, _count; a summary's quantile rows come first, made per write. */
  starts: string[];
  /** Bytes its rows can take: the starts' and NUMBER_ROOM per row. */
  room: number;
  a: number; b: number; c: number;
  stamp: number;
}

/** Per label set (one object per edge, kept while the edge lives), per family name. */
const rowCache = new WeakMap<Labels, Map<string, SeriesRows>>();
/** Moves on every change anywhere: a chunk's newest stamp changes when any of its series does. */
let clock = 0;

function rowsOf(labels: Labels, f: Family): SeriesRows {
  let m = rowCache.get(labels);
  if (!m) { m = new Map(); rowCache.set(labels, m); }
  let r = m.get(f.name);
  if (!r) {
    const starts = startsOf(f, labels);
    let room = 0;
    for (const x of starts) room += Buffer.byteLength(x) + NUMBER_ROOM;
    if (f.type === 'summary') room += Buffer.byteLength(starts[0]) + 20 + NUMBER_ROOM; // its quantile row (one, mostly)
    r = { starts, room, a: NaN, b: NaN, c: NaN, stamp: 0 };
    m.set(f.name, r);
  }
  return r;
}

function startsOf(f: Family, labels: Labels): string[] {
  const l = labelText(labels);
  const tail = [`${f.name}_sum{${l}} `, `${f.name}_count{${l}} `];
  if (f.type === 'histogram') {
    const b = `${f.name}_bucket{${l}${l ? ',' : ''}`;
    return [...f.bounds.map((x) => `${b}le="${x}"} `), `${b}le="+Inf"} `, ...tail];
  }
  if (f.type === 'summary') return tail;
  return [`${f.name}{${l}} `];
}

/** Re-stamps the series when its numbers moved since it was last written. */
function touch(f: Family, s: Family['series'][number]): SeriesRows {
  const r = rowsOf(s.labels, f);
  if (f.type === 'histogram') {
    // Per-bucket counts only grow: the same count and sum mean the same buckets.
    const h = s as HistogramFamily['series'][number];
    if (r.a !== h.count || r.b !== h.sum) { r.a = h.count; r.b = h.sum; r.stamp = ++clock; }
  } else if (f.type === 'summary') {
    const m = s as SummaryFamily['series'][number];
    const q = m.quantiles?.length === 1 ? m.quantiles[0][1] : m.quantiles?.length ? NaN : -1; // NaN: never equal, re-stamped
    if (r.a !== m.count || r.b !== m.sum || r.c !== q) { r.a = m.count; r.b = m.sum; r.c = q; r.stamp = ++clock; }
  } else {
    const v = (s as ScalarSeries).value;
    if (r.a !== v) { r.a = v; r.stamp = ++clock; }
  }
  return r;
}

// One writer per type, so that each reads one shape of series.
type SeriesWriter = (w: Writer, f: Family, s: Family['series'][number], r: SeriesRows) => void;

const writeHistogram: SeriesWriter = (w, f, s, r) => {
  const st = r.starts, h = s as HistogramFamily['series'][number], counts = h.counts, k = st.length - 3;
  let acc = 0;
  for (let i = 0; i < k; i++) { acc += counts[i]; w.row(st[i], acc); }
  w.row(st[k], h.count);
  w.row(st[k + 1], h.sum);
  w.row(st[k + 2], h.count);
};

const writeSummary: SeriesWriter = (w, f, s, r) => {
  const m = s as SummaryFamily['series'][number];
  if (m.quantiles?.length) {
    const l = labelText(m.labels);
    for (const [q, v] of m.quantiles) w.row(`${f.name}{${l}${l ? ',' : ''}quantile="${q}"} `, v);
  }
  w.row(r.starts[0], m.sum);
  w.row(r.starts[1], m.count);
};

const writeScalar: SeriesWriter = (w, _f, s, r) => { w.row(r.starts[0], (s as ScalarSeries).value); };

const writerOf = (f: Family): SeriesWriter => (f.type === 'histogram' ? writeHistogram : f.type === 'summary' ? writeSummary : writeScalar);

/**
 * Rows that stay together from scrape to scrape: a family's header, or the
 * series of up to CHUNK_SERIES label sets (a label set keeps its chunk while
 * it lives). The same series (by identity) with the same newest stamp have
 * the same text, whatever their order, so a chunk's compressed form can be
 * kept (api/gzip-chunks.ts) without writing it.
 */
export interface ExpositionChunk {
  id: string;
  series: readonly SeriesRows[];
  stamp: number;
  /** Its text, as UTF-8. */
  bytes(): Buffer;
}

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

/** A family's header, stamped anew only if its text changes. */
const headers = new Map<string, { text: string; stamp: number; bytes: Buffer }>();
function headerChunk(f: Family): ExpositionChunk {
  const text = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  let h = headers.get(f.name);
  if (!h || h.text !== text) headers.set(f.name, (h = { text, stamp: ++clock, bytes: Buffer.from(text) }));
  const bytes = h.bytes;
  return { id: `${f.name}#h`, series: [], stamp: h.stamp, bytes: () => bytes };
}

/** The families as chunks, in the order Prometheus' format asks for: each family's header, then its series. */
export function expositionChunks(families: Family[]): ExpositionChunk[] {
  const out: ExpositionChunk[] = [];
  for (const f of families) {
    out.push(headerChunk(f));
    const byChunk = new Map<number, { items: Family['series'][number][]; rows: SeriesRows[]; stamp: number }>();
    for (const s of f.series) {
      const r = touch(f, s);
      const c = chunkNo(s.labels);
      let b = byChunk.get(c);
      if (!b) byChunk.set(c, (b = { items: [], rows: [], stamp: 0 }));
      b.items.push(s);
      b.rows.push(r);
      if (r.stamp > b.stamp) b.stamp = r.stamp;
    }
    for (const [c, b] of byChunk) {
      out.push({
        id: `${f.name}#${c}`, series: b.rows, stamp: b.stamp,
        bytes() {
          let room = 0;
          for (const r of b.rows) room += r.room;
          writer.begin(room);
          const write = writerOf(f);
          for (let i = 0; i < b.items.length; i++) write(writer, f, b.items[i], b.rows[i]);
          return writer.end();
        },
      });
    }
  }
  return out;
}

/** Chunks as one text. */
export function chunksText(chunks: ExpositionChunk[]): string {
  return Buffer.concat(chunks.map((c) => c.bytes())).toString('utf8');
}

/** The families in Prometheus' text format. */
export function exposition(families: Family[]): string {
  return chunksText(expositionChunks(families));
}
