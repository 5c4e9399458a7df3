// The families in Prometheus' text format (0.0.4). prom-client formats the
// agent's own metrics; edge families are tens of thousands of rows whose label
// sets repeat across metrics and scrapes, and on a busy host most of whose
// numbers move between two scrapes. So each series keeps its rows' label text
// (made once, up to the value), and a chunk's rows are written straight into
// bytes: the label text copied in, the numbers' digits written beside it.
// Rows made as strings, joined and then encoded cost 2.4x more (2,000 edges,
// every row moved: 80 ms against 34), most of a busy scrape. A row's start is
// kept as UTF-8 bytes, copied with one typed-array set: encoding the string
// on every write cost 1.6x as much (100k rows: 7.0 ms against 4.5).
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

// Buffer#write's argument checks cost more than the copy for a short number; latin1Write is the method under it.
type Latin1Write = (this: Buffer, s: string, offset: number) => number;
const latin1Write: Latin1Write = (Buffer.prototype as unknown as { latin1Write?: Latin1Write }).latin1Write ?? function (this: Buffer, s: string, offset: number) { return this.write(s, offset, 'latin1'); };
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Room for a number's text and its newline: String() of a double is at most 24 characters; 16 digits for a safe integer. */
const NUMBER_ROOM = 25;

/** Writes a chunk's rows into one buffer sized for them up front (no copy when done). */
class Writer {
  private buf: Buffer = Buffer.alloc(0);
  private n = 0;

  /** Writes into `into` when it has the room, else into new memory (with a quarter more, so the next calls fit). */
  begin(room: number, into?: Buffer): void {
    this.buf = into && into.length >= room ? into : Buffer.allocUnsafe(Math.ceil(room * 1.25));
    this.n = 0;
  }

  /** The memory written into (what end() returns is the written part of it). */
  get memory(): Buffer { return this.buf; }

  /** Only when the room given was short (a summary's quantile rows): grow by copying. */
  private reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  /** A row: its start (label text up to the value, as UTF-8), the number and the newline. */
  row(start: Uint8Array, v: number): void {
    if (this.n + start.length + NUMBER_ROOM > this.buf.length) this.reserve(start.length + NUMBER_ROOM);
    this.buf.set(start, this.n);
    this.n += start.length;
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v) this.digits(v);
    else if (!this.decimal(v, 1e6, 6, 0x40000000) && !this.decimal(v, 1e9, 9, 0x100000)) this.n += latin1Write.call(this.buf, value(v), this.n); // a number's text is ASCII
    this.buf[this.n++] = 10;
  }

  /**
   * v as String() writes it, when v is the double nearest to a decimal with at most `places`
   * fractional digits (sums of µs, ms or ns in seconds, mostly): that decimal, trailing zeros
   * cut. Below `limit` a double's spacing is under 10^-places, so no shorter decimal reads
   * back as v, and the decimal is the shortest, which is what String() gives. String() of a
   * fraction goes through V8's number-to-string cache, which keeps the strings alive past
   * the next scavenge: a busy scrape promoted about 150 KB of them.
   */
  private decimal(v: number, scale: number, places: number, limit: number): boolean {
    if (!(v > -limit && v < limit) || (v > -1e-6 && v < 1e-6 && v !== 0)) return false; // below 10^-6 String() writes an exponent
    const k = Math.round(v * scale);
    if (k / scale !== v) return false;
    let m = k;
    if (m < 0) { this.buf[this.n++] = 45; m = -m; }
    const whole = Math.floor(m / scale);
    let frac = m - whole * scale;
    this.digits(whole);
    if (frac === 0) return true; // a negative integer
    let width = places;
    while (frac % 10 === 0) { frac /= 10; width--; }
    this.buf[this.n++] = 46;
    for (let i = width - 1; i >= 0; i--) { this.buf[this.n + i] = 48 + (frac % 10); frac = Math.floor(frac / 10); }
    this.n += width;
    return true;
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
 * the numbers it was last written with, and when those last moved.
 */
interface SeriesRows {
  /** The family and label set they were made for. */
  name: string;
  labels: Labels;
  /** Rows' starts as UTF-8 (views of one buffer): histogram buckets then +Inf, _sum, _count; a summary's quantile rows come first, made per write. */
  starts: Uint8Array[];
  /** Bytes its rows can take: the starts' and NUMBER_ROOM per row. */
  room: number;
  /** Its label set's chunk. */
  chunk: number;
  /** A summary's quantile row start, and the quantile it was made for. */
  qStart: Uint8Array;
  q: number;
  a: number; b: number; c: number;
  stamp: number;
}

/**
 * Label sets per chunk: a label set keeps its chunk while it lives. Each chunk
 * moved is compressed on its own, and making a zlib stream costs about 50 us of
 * the main thread and more CPU than compressing a small chunk: on a busy scrape
 * (2,000 edges, every row moved) 1,024 took 25% less CPU than 256.
 */
export const CHUNK_SERIES = 1024;
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

/** Per family name, per label set (one object per edge, kept while the edge lives), for series objects made anew each time. */
const rowCache = new Map<string, WeakMap<Labels, SeriesRows>>();
/** Where a series object reused from refresh to refresh (families.ts' slots) holds its rows: one property read, no lookup. */
const ROWS = Symbol('exposition rows');
type Held = Family['series'][number] & { [ROWS]?: SeriesRows };
/** Moves on every change anywhere: a chunk's newest stamp changes when any of its series does. */
let clock = 0;

function rowsOf(m: WeakMap<Labels, SeriesRows>, s: Held, f: Family): SeriesRows {
  let r = s[ROWS];
  if (r !== undefined && r.name === f.name && r.labels === s.labels) return r;
  r = m.get(s.labels);
  if (!r) {
    const text = startsOf(f, s.labels);
    const bytes = Buffer.from(text.join(''));
    const starts: Uint8Array[] = [];
    let at = 0, room = 0;
    for (const x of text) {
      const n = Buffer.byteLength(x);
      starts.push(bytes.subarray(at, at + n));
      at += n;
      room += n + NUMBER_ROOM;
    }
    if (f.type === 'summary') room += starts[0].length + 20 + NUMBER_ROOM; // its quantile row (one, mostly)
    r = { name: f.name, labels: s.labels, starts, room, chunk: chunkNo(s.labels), qStart: EMPTY, q: NaN, a: NaN, b: NaN, c: NaN, stamp: 0 };
    m.set(s.labels, r);
  }
  s[ROWS] = r;
  return r;
}
const EMPTY = new Uint8Array(0);

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
function touch(m: WeakMap<Labels, SeriesRows>, f: Family, s: Family['series'][number]): SeriesRows {
  const r = rowsOf(m, s, f);
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
  const qs = m.quantiles;
  if (qs) for (let i = 0; i < qs.length; i++) { // indexed: an entry's destructuring made an iterator and an array per series
    const q = qs[i][0], v = qs[i][1];
    if (q !== r.q) { const l = labelText(m.labels); r.q = q; r.qStart = Buffer.from(`${f.name}{${l}${l ? ',' : ''}quantile="${q}"} `); } // one quantile, mostly: made once
    w.row(r.qStart, v);
  }
  w.row(r.starts[0], m.sum);
  w.row(r.starts[1], m.count);
};

const writeScalar: SeriesWriter = (w, _f, s, r) => { w.row(r.starts[0], (s as ScalarSeries).value); };

const writerOf = (f: Family): SeriesWriter => (f.type === 'histogram' ? writeHistogram : f.type === 'summary' ? writeSummary : writeScalar);

/**
 * Rows that stay together from scrape to scrape: a family's header, or the
 * series of up to CHUNK_SERIES label sets (a label set keeps its chunk while
 * it lives). Its stamp moves whenever its text may have: a series in it
 * moved, or its series are not the same ones in the same order. So a chunk
 * with the stamp of the last scrape has the same text, and its compressed
 * form can be kept (api/gzip-chunks.ts) without writing it.
 */
export interface ExpositionChunk {
  readonly id: string;
  readonly stamp: number;
  /**
   * Its text, as UTF-8, from the numbers of the last expositionChunks call. The bytes are the
   * caller's until it gives them back with release(); a call before that writes into new memory.
   */
  bytes(): Buffer;
  /** Gives back what bytes() gave: if that was the chunk's own memory, its next text is written there. */
  release(bytes: Buffer): void;
}

/** A family's header, stamped anew only if its text changes. */
const headers = new Map<string, { id: string; text: string; stamp: number; buf: Buffer; bytes(): Buffer; release(bytes: Buffer): void }>();
function headerChunk(f: Family): ExpositionChunk {
  const text = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  let h = headers.get(f.name);
  if (!h || h.text !== text) {
    const buf = Buffer.from(text);
    headers.set(f.name, (h = { id: `${f.name}#h`, text, stamp: ++clock, buf, bytes: () => buf, release: () => {} }));
  }
  return h;
}

/** One chunk of one family's series, kept from call to call (its arrays refilled in place). */
class SeriesChunk implements ExpositionChunk {
  readonly id: string;
  stamp = 0;
  family!: Family;
  items: Family['series'][number][] = [];
  rows: SeriesRows[] = [];
  n = 0;
  /** Newest stamp of its series' and of its membership. */
  private members = 0;
  private changed = false;
  /**
   * Memory its text is written into, scrape after scrape. New memory each time (10 MB a busy scrape,
   * outside V8's heap but counted by its collector) made V8 mark the whole heap at most scrapes.
   */
  private memory: Buffer | undefined;
  /**
   * Its memory is lent (being compressed on libuv's threads): write elsewhere. Only the loan of
   * that memory ends it; text written elsewhere meanwhile is given back to no effect.
   */
  private lent = false;

  constructor(name: string, no: number) { this.id = `${name}#${no}`; }

  begin(f: Family): void { this.family = f; this.n = 0; this.changed = false; this.stamp = this.members; }

  add(s: Family['series'][number], r: SeriesRows): void {
    const i = this.n++;
    if (this.rows[i] !== r) { this.rows[i] = r; this.changed = true; }
    this.items[i] = s;
    if (r.stamp > this.stamp) this.stamp = r.stamp;
  }

  /** After the family's series are in: true if it holds any. */
  end(): boolean {
    if (this.changed || this.rows.length !== this.n) {
      this.rows.length = this.n;
      this.items.length = this.n;
      this.stamp = this.members = ++clock;
    }
    return this.n > 0;
  }

  bytes(): Buffer {
    const f = this.family, write = writerOf(f);
    let room = 0;
    for (let i = 0; i < this.n; i++) room += this.rows[i].room;
    writer.begin(room, this.lent ? undefined : this.memory);
    for (let i = 0; i < this.n; i++) write(writer, f, this.items[i], this.rows[i]);
    if (!this.lent) { this.memory = writer.memory; this.lent = true; } // what it lends is its own memory
    return writer.end();
  }

  release(bytes: Buffer): void {
    const m = this.memory;
    if (m && bytes.buffer === m.buffer && bytes.byteOffset === m.byteOffset) this.lent = false;
  }
}

/** Per family (its name; a name given twice in one call, with the time it came), its chunks by number. */
const seriesChunks = new Map<string, Map<number, SeriesChunk>>();

/** The families as chunks, in the order Prometheus' format asks for: each family's header, then its series. */
export function expositionChunks(families: Family[]): ExpositionChunk[] {
  const out: ExpositionChunk[] = [];
  const names = new Map<string, number>();
  for (const f of families) {
    // Prometheus refuses a name twice; should it happen, each keeps its own chunks (one object cannot hold both).
    const nth = names.get(f.name) ?? 0;
    names.set(f.name, nth + 1);
    const key = nth ? `${f.name}#${nth}` : f.name;
    out.push(headerChunk(f));
    let m = rowCache.get(f.name);
    if (!m) rowCache.set(f.name, (m = new WeakMap()));
    let chunks = seriesChunks.get(key);
    if (!chunks) seriesChunks.set(key, (chunks = new Map()));
    for (const c of chunks.values()) c.begin(f);
    for (const s of f.series) {
      const r = touch(m, f, s);
      let c = chunks.get(r.chunk);
      if (!c) { chunks.set(r.chunk, (c = new SeriesChunk(key, r.chunk))); c.begin(f); }
      c.add(s, r);
    }
    for (const [no, c] of chunks) {
      if (c.end()) out.push(c);
      else chunks.delete(no); // its label sets are gone
    }
  }
  return out;
}

/** Chunks as one text. */
export function chunksText(chunks: ExpositionChunk[]): string {
  return joinChunks(chunks).toString('utf8');
}

/** Chunks' bytes after `head`, in one new buffer; each chunk's are given back, whatever happens. */
export function joinChunks(chunks: ExpositionChunk[], head?: Buffer): Buffer {
  const lent: Buffer[] = [];
  try {
    for (const c of chunks) lent.push(c.bytes());
    return Buffer.concat(head ? [head, ...lent] : lent);
  } finally {
    for (let i = 0; i < lent.length; i++) chunks[i].release(lent[i]);
  }
}

/** The families in Prometheus' text format. */
export function exposition(families: Family[]): string {
  return chunksText(expositionChunks(families));
}
