// A map keyed by non-negative integers (socket cookies, ports), in an
// open-addressing table of typed arrays. A busy host adds and deletes thousands
// of sockets a second: V8's Map rebuilds its table
// every time deletions fill half of it, and the new table (100-200 KB with a
// few thousand sockets open) lives on into the old generation, where each one
// brings the next full collection closer. This table allocates only when it
// doubles, or shrinks once mostly empty; deleting shifts the following entries
// back (linear probing), so no deleted marks pile up.

/** Keys are non-negative integers. 0 marks an empty slot in the table: key 0 is kept beside it. */
export class IntMap<V> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private mask: number;
  private bits: number;
  private count = 0;
  private readonly minCapacity: number;
  private hasZero = false;
  private zero: V | undefined;

  constructor(capacity = 1024) {
    this.bits = Math.max(4, Math.ceil(Math.log2(capacity)));
    this.minCapacity = 1 << this.bits;
    this.keys = new Float64Array(this.minCapacity);
    this.values = new Array<V | undefined>(this.minCapacity).fill(undefined);
    this.mask = this.minCapacity - 1;
  }

  get size(): number { return this.count + (this.hasZero ? 1 : 0); }

  /** Fibonacci hashing of the key's two 32-bit halves: cookies come in runs, which this spreads. */
  private slot(k: number): number {
    return Math.imul((k >>> 0) ^ ((k / 4294967296) >>> 0), 0x9e3779b1) >>> (32 - this.bits);
  }

  private find(k: number): number {
    for (let i = this.slot(k); ; i = (i + 1) & this.mask) {
      const x = this.keys[i];
      if (x === k) return i;
      if (x === 0) return -1;
    }
  }

  get(k: number): V | undefined {
    if (k === 0) return this.zero;
    const i = this.find(k);
    return i < 0 ? undefined : this.values[i];
  }

  has(k: number): boolean { return k === 0 ? this.hasZero : this.find(k) >= 0; }

  set(k: number, v: V): void {
    if (!(k >= 0) || !Number.isInteger(k)) throw new RangeError(`IntMap key must be a non-negative integer, got ${k}`);
    if (k === 0) { this.hasZero = true; this.zero = v; return; }
    let i = this.slot(k);
    for (; ; i = (i + 1) & this.mask) {
      const x = this.keys[i];
      if (x === k) { this.values[i] = v; return; }
      if (x === 0) break;
    }
    this.keys[i] = k;
    this.values[i] = v;
    if (++this.count * 2 > this.keys.length) this.resize(this.bits + 1); // at most half full: probes stay short
  }

  delete(k: number): boolean {
    if (k === 0) { const had = this.hasZero; this.hasZero = false; this.zero = undefined; return had; }
    let i = this.find(k);
    if (i < 0) return false;
    // Backward shift: an entry after the hole moves into it unless its own slot lies (cyclically) after the hole.
    for (let j = (i + 1) & this.mask; this.keys[j] !== 0; j = (j + 1) & this.mask) {
      const home = this.slot(this.keys[j]);
      if (((j - home) & this.mask) >= ((j - i) & this.mask)) {
        this.keys[i] = this.keys[j];
        this.values[i] = this.values[j];
        i = j;
      }
    }
    this.keys[i] = 0;
    this.values[i] = undefined;
    this.count--;
    if (this.count * 16 < this.keys.length && this.keys.length > this.minCapacity) this.resize(this.bits - 2); // under a sixteenth full: a quarter the size
    return true;
  }

  /** Writes every key into out from index 0 and returns how many: a list to walk while deleting (deletion moves entries). */
  keysInto(out: number[]): number {
    let n = 0;
    if (this.hasZero) out[n++] = 0;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) out[n++] = keys[i];
    return n;
  }

  /** fn must not set or delete: deleting moves entries, so some would be skipped or met twice (see keysInto). */
  forEach(fn: (v: V, k: number) => void): void {
    if (this.hasZero) fn(this.zero as V, 0);
    const keys = this.keys, values = this.values;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) fn(values[i] as V, keys[i]);
  }

  private resize(bits: number): void {
    const keys = this.keys, values = this.values;
    this.bits = Math.max(bits, Math.log2(this.minCapacity));
    const n = 1 << this.bits;
    this.keys = new Float64Array(n);
    this.values = new Array<V | undefined>(n).fill(undefined);
    this.mask = n - 1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === 0) continue;
      let j = this.slot(k);
      while (this.keys[j] !== 0) j = (j + 1) & this.mask;
      this.keys[j] = k;
      this.values[j] = values[i];
    }
  }
}
