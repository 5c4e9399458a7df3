// Request counts of sockets the graph does not know yet ("orphans"), in rows of
// one flat array. Under connection-per-request load every socket's closing
// count is read just before the events that introduce it, so hundreds of these
// come and go in every batch. Kept as objects (a socket's totals, its arrays),
// they spread over the heap and cost more in cache misses than in arithmetic:
// the ledger's share of the agent's CPU grew fourfold from a batch of 128
// connections to one of 2,048. Rows are contiguous, reused, and never seen by
// the GC.
import type { L7Delta } from '../l7/types.js';
import { deltaMaxUs } from '../events/types.js';
import { IntMap } from './int-map.js';
import { LATENCY_BUCKETS } from './latency.js';
import { REQUEST_PROTOCOLS, REQUEST_STATUS_CLASSES, type RequestProtocol } from './types.js';

const CLASSES = REQUEST_STATUS_CLASSES.length;

// A row: one protocol of one socket. The socket's first row (its head) also keeps when its first count came.
const PROTOCOL = 0, NEXT = 1, FLAGS = 2, SINCE = 3, STATUS = 4, BUCKETS = STATUS + CLASSES;
const LATENCY_SUM = BUCKETS + LATENCY_BUCKETS, UNPAIRED = LATENCY_SUM + 1, LATENCY_MAX = UNPAIRED + 1, STRIDE = LATENCY_MAX + 1;
const FINAL = 1, TLS = 2;
/** No row: what head() and next() return at the end. */
export const NO_ROW = -1;

/** What reads a row: RequestTotals' fields. */
export interface TotalsLike { status: number[]; buckets: number[]; latencySumNs: number; latencyMaxUs: number; unpaired: number; tls: boolean }

export class OrphanCounts {
  /** cookie → its head row. */
  private readonly heads: IntMap<number>;
  private rows: Float64Array;
  private capacity: number;
  /**
   * Rows given back (a stack up to `freeTop`), reused first: the most recently used are the likeliest in cache.
   * A typed array: emptying a plain array at every reset let its storage go, to be grown again at the next burst.
   */
  private free: Int32Array;
  private freeTop = 0;
  private used = 0;
  /** The cookies one walk visits (not reentrant). */
  private readonly visiting: number[] = [];

  /** `sockets`: how many are expected at once; past that the table and the rows grow (correct, only slower). */
  constructor(private readonly initial: number) {
    this.heads = new IntMap<number>(initial * 2);
    this.capacity = initial;
    this.rows = new Float64Array(initial * STRIDE);
    this.free = new Int32Array(initial);
  }

  /** Sockets with counts waiting. */
  get size(): number { return this.heads.size; }

  /** The socket's first row, which the reads below take; NO_ROW when none of its counts waits. */
  head(cookie: number): number { return this.heads.get(cookie) ?? NO_ROW; }

  /** The socket's next row (another protocol), or NO_ROW. */
  next(row: number): number { return this.rows[row * STRIDE + NEXT]; }

  /** Sums a socket's delta (a request protocol's) into its row for that protocol. */
  add(cookie: number, d: L7Delta, now: number): void {
    const p = REQUEST_PROTOCOLS.indexOf(d.protocol as RequestProtocol);
    const head = this.head(cookie);
    let r = head;
    while (r !== NO_ROW && this.rows[r * STRIDE + PROTOCOL] !== p) r = this.next(r);
    const fresh = r === NO_ROW; // a new row is written, not zeroed and then added to
    if (fresh) {
      r = this.takeRow();
      const o = r * STRIDE;
      this.rows[o + PROTOCOL] = p;
      this.rows[o + SINCE] = now;
      this.rows[o + FLAGS] = 0;
      if (head === NO_ROW) {
        this.rows[o + NEXT] = NO_ROW;
        this.heads.set(cookie, r);
      } else { // after the head, which keeps the socket's fields
        this.rows[o + NEXT] = this.rows[head * STRIDE + NEXT];
        this.rows[head * STRIDE + NEXT] = r;
      }
    }
    const rows = this.rows, o = r * STRIDE, req = d.requests, bk = d.buckets;
    for (let i = 0; i < CLASSES; i++) rows[o + STATUS + i] = (fresh ? 0 : rows[o + STATUS + i]) + (req[i] ?? 0);
    for (let i = 0; i < LATENCY_BUCKETS; i++) rows[o + BUCKETS + i] = (fresh ? 0 : rows[o + BUCKETS + i]) + (bk[i] ?? 0);
    rows[o + LATENCY_SUM] = (fresh ? 0 : rows[o + LATENCY_SUM]) + d.latencySumNs;
    rows[o + UNPAIRED] = (fresh ? 0 : rows[o + UNPAIRED]) + d.unpaired;
    rows[o + LATENCY_MAX] = Math.max(fresh ? 0 : rows[o + LATENCY_MAX], deltaMaxUs(d));
    if (d.tls) rows[o + FLAGS] = rows[o + FLAGS] | TLS;
    if (d.closed) { const h = (head === NO_ROW ? r : head) * STRIDE; this.rows[h + FLAGS] = this.rows[h + FLAGS] | FINAL; }
  }

  /** Its closing count is in (head: from head()): the kernel reports nothing more of it. */
  isFinal(head: number): boolean { return (this.rows[head * STRIDE + FLAGS] & FINAL) !== 0; }

  /** When its first count came (head: from head()). */
  since(head: number): number { return this.rows[head * STRIDE + SINCE]; }

  /** Reads a row's counts into `into`; returns its protocol. */
  read(row: number, into: TotalsLike): RequestProtocol {
    const rows = this.rows, o = row * STRIDE, st = into.status, bk = into.buckets;
    for (let i = 0; i < CLASSES; i++) st[i] = rows[o + STATUS + i];
    for (let i = 0; i < LATENCY_BUCKETS; i++) bk[i] = rows[o + BUCKETS + i];
    into.latencySumNs = rows[o + LATENCY_SUM];
    into.unpaired = rows[o + UNPAIRED];
    into.latencyMaxUs = rows[o + LATENCY_MAX];
    into.tls = (rows[o + FLAGS] & TLS) !== 0;
    return REQUEST_PROTOCOLS[rows[o + PROTOCOL]];
  }

  /** The row's protocol, as its index in REQUEST_PROTOCOLS. */
  protocolIndex(row: number): number { return this.rows[row * STRIDE + PROTOCOL]; }

  /** Adds a row's counts to `into`. */
  addTo(row: number, into: TotalsLike): void {
    const rows = this.rows, o = row * STRIDE, st = into.status, bk = into.buckets;
    for (let i = 0; i < CLASSES; i++) st[i] += rows[o + STATUS + i];
    for (let i = 0; i < LATENCY_BUCKETS; i++) bk[i] += rows[o + BUCKETS + i];
    into.latencySumNs += rows[o + LATENCY_SUM];
    into.unpaired += rows[o + UNPAIRED];
    if (rows[o + LATENCY_MAX] > into.latencyMaxUs) into.latencyMaxUs = rows[o + LATENCY_MAX];
    if (rows[o + FLAGS] & TLS) into.tls = true;
  }

  /** Requests the socket counted, all protocols (head: from head()). */
  requests(head: number): number {
    let n = 0;
    for (let r = head; r !== NO_ROW; r = this.next(r)) {
      for (let i = 0; i < CLASSES; i++) n += this.rows[r * STRIDE + STATUS + i];
    }
    return n;
  }

  /** Forgets the socket's counts. */
  delete(cookie: number): void {
    const head = this.heads.get(cookie);
    if (head === undefined) return;
    this.heads.delete(cookie);
    for (let r = head; r !== NO_ROW;) {
      const next: number = this.rows[r * STRIDE + NEXT];
      this.free[this.freeTop++] = r;
      r = next;
    }
    if (this.heads.size === 0) this.reset();
  }

  /** None waits: rows are used again from the first (a burst's are let go). */
  private reset(): void {
    this.freeTop = 0;
    this.used = 0;
    if (this.capacity > this.initial * 4) {
      this.capacity = this.initial;
      this.rows = new Float64Array(this.initial * STRIDE);
      this.free = new Int32Array(this.initial);
    }
  }

  /** Visits every socket waiting; fn may delete it. */
  forEach(fn: (cookie: number) => void): void {
    const keys = this.visiting, n = this.heads.keysInto(keys);
    for (let i = 0; i < n; i++) if (this.heads.has(keys[i])) fn(keys[i]);
  }

  private takeRow(): number {
    if (this.freeTop) return this.free[--this.freeTop];
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    const rows = new Float64Array(this.capacity * 2 * STRIDE);
    rows.set(this.rows);
    this.rows = rows;
    const free = new Int32Array(this.capacity * 2);
    free.set(this.free.subarray(0, this.freeTop));
    this.free = free;
    this.capacity *= 2;
  }
}
