// Requests (L7) in the history: one row per edge, protocol and bucket, with
// the counts by status class and every latency histogram bucket as columns, so
// roll-ups and range queries sum them exactly in SQL (never percentiles of
// percentiles: percentiles are drawn from the summed histogram when read).
import type { Database as Db } from 'better-sqlite3'; // as schema.ts: database.ts migrates through schema.ts, which holds this file's table
import type { RequestInterval } from '../graph/request-totals.js';
import { GROUP_EDGES, type BucketQuery } from './buckets.js';
import { LATENCY_BUCKETS, latencySummary } from '../graph/latency.js';
import { REQUEST_STATUS_CLASSES, type EdgeRequests, type RequestProtocol, type RequestRates, type RequestStatusClass } from '../graph/types.js';

/** requests.proto codes: fixed here (the kernel's enum dh_l7_proto values). */
export const PROTO_CODES: Record<RequestProtocol, number> = { http1: 1, http2: 2, postgres: 3, mysql: 4, redis: 5 };
const PROTO_BY_CODE = new Map(Object.entries(PROTO_CODES).map(([p, c]) => [c, p as RequestProtocol]));
const FLAG_TLS = 1, FLAG_GRPC = 2;

const S_COLS = REQUEST_STATUS_CLASSES.map((_, i) => `s${i}`);
const B_COLS = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `b${i}`);
/** Columns summed in roll-ups and reads. */
export const REQUEST_SUM_COLUMNS = [...S_COLS, 'unpaired', 'lat_us', ...B_COLS];
/** The one column taken as a maximum: at least the slowest request's latency, µs (RequestInterval.latencyMaxUs; schema 5). */
export const REQUEST_MAX_COLUMN = 'lat_max_us';
const MAX = REQUEST_MAX_COLUMN;

/** Schema version 2: the requests table (latency sums in µs). */
export const REQUESTS_SCHEMA = `
CREATE TABLE requests (
  res INTEGER NOT NULL,
  t INTEGER NOT NULL,
  edge INTEGER NOT NULL,
  proto INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  ${REQUEST_SUM_COLUMNS.map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  PRIMARY KEY (res, t, edge, proto)
) WITHOUT ROWID;
`;

const sums = [...REQUEST_SUM_COLUMNS.map((c) => `sum(${c}) AS ${c}`), `max(${MAX}) AS ${MAX}`].join(', ');
const addUp = [...REQUEST_SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`), `${MAX} = max(${MAX}, excluded.${MAX})`].join(', ');
/** flags are OR-ed: SQLite has no bitwise aggregate, so one max() per bit. */
const orFlags = `(max(flags & ${FLAG_TLS}) | max(flags & ${FLAG_GRPC}))`;

export function requestInsert(db: Db) {
  const stmt = db.prepare(`INSERT INTO requests (res, t, edge, proto, flags, ${REQUEST_SUM_COLUMNS.join(', ')}, ${MAX})
    VALUES (?, ?, ?, ?, ?, ${REQUEST_SUM_COLUMNS.map(() => '?').join(', ')}, ?)
    ON CONFLICT (res, t, edge, proto) DO UPDATE SET flags = flags | excluded.flags, ${addUp}`);
  return (res: number, t: number, edge: number, r: RequestInterval) => {
    const flags = (r.tls ? FLAG_TLS : 0) | (r.grpc ? FLAG_GRPC : 0);
    stmt.run(res, t, edge, PROTO_CODES[r.protocol], flags, ...r.status.map(Math.round), Math.round(r.unpaired), Math.round(r.latencySumNs / 1000), ...r.buckets.map(Math.round), Math.ceil(r.latencyMaxUs));
  };
}

/** Rolls [start, end) of resolution `from` into resolution `to` (named parameters as Rollup's). */
export function requestRollup(db: Db) {
  return db.prepare(`INSERT INTO requests (res, t, edge, proto, flags, ${REQUEST_SUM_COLUMNS.join(', ')}, ${MAX})
    SELECT @to, t - t % @to AS bt, edge, proto, ${orFlags}, ${REQUEST_SUM_COLUMNS.map((c) => `sum(${c})`).join(', ')}, max(${MAX})
    FROM requests WHERE res = @from AND t >= @start AND t < @end GROUP BY bt, edge, proto
    ON CONFLICT (res, t, edge, proto) DO UPDATE SET flags = flags | excluded.flags, ${addUp}`);
}

export function requestDelete(db: Db) {
  return db.prepare('DELETE FROM requests WHERE res = ? AND t < ?');
}

/** One protocol's requests summed over edges and buckets. */
export class RequestSum {
  readonly status = new Array<number>(REQUEST_STATUS_CLASSES.length).fill(0);
  readonly buckets = new Array<number>(LATENCY_BUCKETS).fill(0);
  unpaired = 0;
  latencyUs = 0;
  /** At least the slowest request's latency, µs (0: not known, rows from before schema 5). */
  latencyMaxUs = 0;
  flags = 0;

  add(row: Record<string, number>): void {
    for (let i = 0; i < this.status.length; i++) this.status[i] += row[`s${i}`];
    for (let i = 0; i < LATENCY_BUCKETS; i++) this.buckets[i] += row[`b${i}`];
    this.unpaired += row.unpaired;
    this.latencyUs += row.lat_us;
    this.latencyMaxUs = Math.max(this.latencyMaxUs, row[MAX] ?? 0);
    this.flags |= row.flags ?? 0;
  }

  count(): number { return this.status.reduce((a, b) => a + b, 0); }
  errors(): number { return this.status[REQUEST_STATUS_CLASSES.indexOf('5xx')] + this.status[REQUEST_STATUS_CLASSES.indexOf('error')]; }
  clientErrors(): number { return this.status[REQUEST_STATUS_CLASSES.indexOf('4xx')]; }
  serverErrors(): number { return this.status[REQUEST_STATUS_CLASSES.indexOf('5xx')]; }
}

type Row = Record<string, number> & { edge: number; proto: number; flags: number };

/** Per edge, per protocol sums over buckets [start, end) of one resolution: of every edge, or of `edges` (row ids). */
export function requestRange(db: Db) {
  const all = db.prepare<{ res: number; start: number; end: number }, Row>(
    `SELECT edge, proto, ${orFlags} AS flags, ${sums} FROM requests WHERE res = @res AND t >= @start AND t < @end GROUP BY edge, proto`);
  const some = db.prepare<{ res: number; start: number; end: number; edges: string }, Row>(
    `SELECT edge, proto, ${orFlags} AS flags, ${sums} FROM requests
     WHERE res = @res AND t >= @start AND t < @end AND edge IN (SELECT value FROM json_each(@edges)) GROUP BY edge, proto`);
  return (res: number, start: number, end: number, into: Map<number, Map<RequestProtocol, RequestSum>>, edges?: readonly number[]) => {
    const rows = edges ? some.all({ res, start, end, edges: JSON.stringify(edges) }) : all.all({ res, start, end });
    for (const row of rows) {
      const p = PROTO_BY_CODE.get(row.proto);
      if (!p) continue;
      let m = into.get(row.edge);
      if (!m) into.set(row.edge, (m = new Map()));
      let s = m.get(p);
      if (!s) m.set(p, (s = new RequestSum()));
      s.add(row);
    }
  };
}

/** Per bucket sums over some edges (all protocols): one seek per bucket and edge, like the samples series. */
export function requestSeries(db: Db) {
  const stmt = db.prepare<{ res: number; start: number; end: number; edges: string }, Row & { t: number }>(
    `SELECT t, 0 AS edge, 0 AS proto, 0 AS flags, ${sums} FROM requests
     WHERE res = @res AND t >= @start AND t < @end AND edge IN (SELECT value FROM json_each(@edges)) GROUP BY t`);
  return (res: number, start: number, end: number, edges: number[], add: (t: number, row: Row) => void) => {
    for (const row of stmt.all({ res, start, end, edges: JSON.stringify(edges) })) add(row.t, row);
  };
}

/** Failed requests (5xx and protocol errors, RequestSum.errors) per bucket over all edges, or a group's: the timeline's request errors. */
export function requestErrorBuckets(db: Db) {
  const cols = (['5xx', 'error'] as const).map((c) => `s${REQUEST_STATUS_CLASSES.indexOf(c)}`).join(' + ');
  const stmt = db.prepare<BucketQuery, { t: number; n: number }>(
    `SELECT t, sum(${cols}) AS n FROM requests WHERE res = @res AND t >= @start AND t < @end
       AND (@group IS NULL OR edge IN ${GROUP_EDGES}) GROUP BY t HAVING n > 0`);
  return (q: BucketQuery) => stmt.all(q);
}

/** The API's requests block of an edge (or a range) from stored sums over `spanMs`. */
export function storedRequests(m: Map<RequestProtocol, RequestSum> | undefined, spanMs: number): EdgeRequests[] | undefined {
  if (!m) return undefined;
  const out: EdgeRequests[] = [];
  const secs = Math.max(spanMs, 1) / 1000;
  for (const p of (Object.keys(PROTO_CODES) as RequestProtocol[]).filter((x) => m.has(x))) {
    const s = m.get(p)!;
    const count = s.count();
    if (!count && !s.unpaired) continue;
    const latency = latencySummary(s.buckets, s.latencyUs * 1000, s.latencyMaxUs);
    const rates: RequestRates = { requests: count / secs, errors: s.errors() / secs, clientErrors: s.clientErrors() / secs, serverErrors: s.serverErrors() / secs, latency };
    out.push({
      protocol: p, grpc: (s.flags & FLAG_GRPC) !== 0, tls: (s.flags & FLAG_TLS) !== 0, count,
      status: Object.fromEntries(REQUEST_STATUS_CLASSES.map((c, i) => [c, s.status[i]])) as Record<RequestStatusClass, number>,
      errors: s.errors(), clientErrors: s.clientErrors(), unpaired: s.unpaired, latency,
      rates: { '10s': rates, '1m': { ...rates } },
    });
  }
  return out.length ? out : undefined;
}
