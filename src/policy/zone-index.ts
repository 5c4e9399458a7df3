// A node's zones found by lookup instead of by testing every zone's selectors.
//
// A selector is an AND of tests, each one key and one pattern: an "atom"
// (`compose_project: shop`, `label tenant: a*`, `kind: process`, a CIDR list).
// Literal patterns sit in a map per key, so each of a node's values finds the
// atoms it satisfies in one lookup. Globs are tested only against values of
// their own key, and only those whose literal start fits the value's first
// character; CIDR lists only against the address of an outside end. A selector
// holds when all its atoms do (counted as atoms are found), a zone when one of
// its selectors does. What a selector matches is defined once, by
// compileSelector (selectors.ts): scanZones below tests every selector with
// it, and zone-index.test.ts checks the index against that on random policies.
import type { ZoneSpec } from './model.js';
import {
  GLOB_KEYS, GLOB_KEY_NAMES, compileSelector, glob, inCidr, isLiteral, labelValue, parseCidr,
  type Cidr, type GlobKey, type NodeFacts,
} from './selectors.js';

/** Sets the bits of the zones a node is in (zone i: bit i), clearing the others. */
export type PlaceZones = (f: NodeFacts, bits: Uint32Array) => void;

/** The built-in zone `any` holds every node. */
const holdsEverything = (z: ZoneSpec) => !!z.builtin && z.name === 'any';

interface Glob { match: (s: string) => boolean; atom: number }

/** The atoms one key's values can satisfy. */
interface KeyIndex {
  exact: Map<string, number[]>;
  /** Globs by the character a value must start with, */
  byStart: Map<number, Glob[]>;
  /** and those that can match any start. */
  anyStart: Glob[];
}
const ANY_START = -1;

export class ZoneIndex {
  private readonly globKeys: { get: (f: NodeFacts) => string | null | readonly string[]; index: KeyIndex }[] = [];
  private readonly labels: { key: string; index: KeyIndex }[] = [];
  private readonly kinds = new Map<string, number[]>();
  private readonly cidrs: { ranges: Cidr[]; atom: number }[] = [];
  /** Zones every node is in. */
  private readonly always: number[] = [];
  /** Per atom, the selectors that hold it; per selector, its number of atoms and its zone. */
  private readonly holders: number[][] = [];
  private readonly need: number[] = [];
  private readonly zoneOf: number[] = [];
  // Scratch for one placement, reset by a stamp rather than by clearing: an atom counts once per node
  // (a node may have several names that match it), and a selector's count starts from zero.
  private stamp = 0;
  private atomSeen: Int32Array;
  private selectorSeen: Int32Array;
  private count: Int32Array;
  private out: Uint32Array = new Uint32Array(0);

  constructor(zones: readonly ZoneSpec[]) {
    const atoms = new Map<string, number>();
    const atom = (id: string, add: (a: number) => void): number => {
      let a = atoms.get(id);
      if (a === undefined) { a = atoms.size; atoms.set(id, a); this.holders.push([]); add(a); }
      return a;
    };
    const byKey = new Map<GlobKey, KeyIndex>(), byLabel = new Map<string, KeyIndex>();
    for (const k of GLOB_KEY_NAMES) { const index = newKeyIndex(); byKey.set(k, index); this.globKeys.push({ get: GLOB_KEYS[k], index }); }
    const labelIndex = (key: string) => {
      let index = byLabel.get(key);
      if (!index) { index = newKeyIndex(); byLabel.set(key, index); this.labels.push({ key, index }); }
      return index;
    };

    zones.forEach((z, zone) => {
      if (holdsEverything(z)) { this.always.push(zone); return; }
      for (const s of z.selectors) {
        const mine: number[] = [];
        for (const k of GLOB_KEY_NAMES) {
          const pattern = s[k];
          if (pattern !== undefined) mine.push(atom(`${k}\0${pattern}`, (a) => addPattern(byKey.get(k)!, pattern, a)));
        }
        for (const [k, pattern] of Object.entries(s.label ?? {})) {
          mine.push(atom(`label\0${k}\0${pattern}`, (a) => addPattern(labelIndex(k), pattern, a)));
        }
        if (s.kind) { const kind = s.kind; mine.push(atom(`kind\0${kind}`, (a) => push(this.kinds, kind, a))); }
        if (s.cidr) { const list = s.cidr; mine.push(atom(`cidr\0${list.join(',')}`, (a) => this.cidrs.push({ ranges: list.map(parseCidr), atom: a }))); }
        if (!mine.length) { this.always.push(zone); continue; } // a selector without tests holds everything
        const sel = this.need.length;
        this.need.push(mine.length);
        this.zoneOf.push(zone);
        for (const a of mine) this.holders[a].push(sel);
      }
    });
    this.atomSeen = new Int32Array(atoms.size);
    this.selectorSeen = new Int32Array(this.need.length);
    this.count = new Int32Array(this.need.length);
  }

  /** Sets the bits of the node's zones (and clears the rest). */
  place(f: NodeFacts, bits: Uint32Array): void {
    for (let w = 0; w < bits.length; w++) bits[w] = 0;
    this.out = bits;
    if (++this.stamp === 0x7fffffff) { this.atomSeen.fill(0); this.selectorSeen.fill(0); this.stamp = 1; }
    for (let i = 0; i < this.always.length; i++) { const z = this.always[i]; bits[z >> 5] |= 1 << (z & 31); }
    for (let i = 0; i < this.globKeys.length; i++) {
      const { get, index } = this.globKeys[i];
      const v = get(f);
      if (v === null) continue;
      if (typeof v === 'string') this.matchValue(index, v);
      else for (let j = 0; j < v.length; j++) this.matchValue(index, v[j]);
    }
    for (let i = 0; i < this.labels.length; i++) {
      const v = labelValue(f, this.labels[i].key);
      if (v !== undefined) this.matchValue(this.labels[i].index, v);
    }
    const kind = this.kinds.get(f.kind);
    if (kind) for (let i = 0; i < kind.length; i++) this.mark(kind[i]);
    const a = f.address;
    if (a) {
      for (let i = 0; i < this.cidrs.length; i++) {
        const { ranges, atom } = this.cidrs[i];
        for (let j = 0; j < ranges.length; j++) if (inCidr(a, ranges[j])) { this.mark(atom); break; }
      }
    }
  }

  private matchValue(k: KeyIndex, v: string): void {
    if (k.exact.size) {
      const exact = k.exact.get(v);
      if (exact) for (let i = 0; i < exact.length; i++) this.mark(exact[i]);
    }
    if (k.anyStart.length) this.matchGlobs(k.anyStart, v);
    if (k.byStart.size && v.length) this.matchGlobs(k.byStart.get(v.charCodeAt(0)), v);
  }

  private matchGlobs(gs: Glob[] | undefined, v: string): void {
    if (gs) for (let i = 0; i < gs.length; i++) if (gs[i].match(v)) this.mark(gs[i].atom);
  }

  /** An atom holds for this node: every selector it completes puts the node in that selector's zone. */
  private mark(atom: number): void {
    const stamp = this.stamp;
    if (this.atomSeen[atom] === stamp) return;
    this.atomSeen[atom] = stamp;
    const sels = this.holders[atom];
    for (let i = 0; i < sels.length; i++) {
      const s = sels[i];
      if (this.selectorSeen[s] !== stamp) { this.selectorSeen[s] = stamp; this.count[s] = 0; }
      if (++this.count[s] === this.need[s]) { const z = this.zoneOf[s]; this.out[z >> 5] |= 1 << (z & 31); }
    }
  }
}

const newKeyIndex = (): KeyIndex => ({ exact: new Map(), byStart: new Map(), anyStart: [] });

function addPattern(k: KeyIndex, pattern: string, atom: number): void {
  if (isLiteral(pattern)) { push(k.exact, pattern, atom); return; }
  const g = { match: glob(pattern), atom }, start = globStart(pattern);
  if (start === ANY_START) k.anyStart.push(g); else push(k.byStart, start, g);
}

/**
 * The character every value a glob matches starts with, or ANY_START. Only for
 * patterns whose wildcards are `*` and `?` (glob() reads those itself, so the
 * literal start is literal); the richer ones go through picomatch, which reads
 * a leading `!`, `./` or brace as more than a character.
 */
function globStart(pattern: string): number {
  return isLiteral(pattern.replace(/[*?]/g, '')) && isLiteral(pattern[0]) ? pattern.charCodeAt(0) : ANY_START;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const xs = m.get(k);
  if (xs) xs.push(v); else m.set(k, [v]);
}

/** Every selector of every zone tested in turn: the reference the index is checked against, and the bench's baseline. */
export function scanZones(zones: readonly ZoneSpec[]): PlaceZones {
  const tests = zones.map((z) => (holdsEverything(z) ? [() => true] : z.selectors.map(compileSelector)));
  return (f, bits) => {
    bits.fill(0);
    for (let z = 0; z < tests.length; z++) if (tests[z].some((t) => t(f))) bits[z >> 5] |= 1 << (z & 31);
  };
}
