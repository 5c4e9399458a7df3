// Selectors compiled once per policy into predicates over a node's facts: globs
// become regular expressions, CIDRs parsed ranges. A node's facts are read once
// per node change, not per rule.
import picomatch from 'picomatch';
import ipaddr from 'ipaddr.js';
import type { NodeLike, Selector } from './model.js';

/** What selectors look at, read once from a node. */
export interface NodeFacts {
  kind: NodeLike['kind'];
  composeProject: string | null;
  composeService: string | null;
  namespace: string | null;
  labels: Record<string, string>;
  /** Container names (instances, and the node's label for a lone container). */
  names: readonly string[];
  images: readonly string[];
  /** Host process names: systemd unit or executable (the label) and command names. */
  processes: readonly string[];
  /** The address of an outside end (external server or remote client). */
  address: Address | null;
}

/** An address as bytes: 4 for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6. */
export type Address = Uint8Array;
export interface Cidr { bytes: Uint8Array; bits: number }

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const K8S_NAMESPACE = 'io.kubernetes.pod.namespace';
const NONE: readonly string[] = Object.freeze([]);
const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const emptyFacts = (): NodeFacts => ({ kind: 'service', composeProject: null, composeService: null, namespace: null, labels: NO_LABELS, names: NONE, images: NONE, processes: NONE, address: null });

export function nodeFacts(n: NodeLike): NodeFacts {
  return readFacts(n, emptyFacts(), null);
}

/** Lists a FactsReader fills again for each node. */
interface FactLists { names: string[]; images: string[]; processes: string[] }

/**
 * Reads node after node into one NodeFacts, reusing it and its lists: placing
 * thousands of new nodes then allocates nothing per node but an outside end's
 * address. The facts hold until the next read.
 */
export class FactsReader {
  private readonly f = emptyFacts();
  private readonly lists: FactLists = { names: [], images: [], processes: [] };
  read(n: NodeLike): NodeFacts { return readFacts(n, this.f, this.lists); }
}

/** Fills `f` from the node; with `lists`, its list facts are those arrays refilled (else new arrays). */
function readFacts(n: NodeLike, f: NodeFacts, lists: FactLists | null): NodeFacts {
  const labels = n.labels ?? NO_LABELS;
  const isContainer = n.kind === 'service' || n.kind === 'container';
  const outside = n.kind === 'external' || n.kind === 'client';
  // A service node is a Compose service or a Kubernetes workload; without labels (history, cgroup-only naming) its group says which.
  const composeSvc = n.kind === 'service' && labels[K8S_NAMESPACE] === undefined;
  f.kind = n.kind;
  // A vacant container address (a client still calling a gone container) belongs to the project it was part of: a
  // project calling its own stale address has not left the project.
  f.composeProject = labels[COMPOSE_PROJECT] ?? (composeSvc ? n.group : n.vacant?.group ?? null);
  f.composeService = labels[COMPOSE_SERVICE] ?? (composeSvc ? n.label : null);
  f.namespace = labels[K8S_NAMESPACE] ?? null;
  f.labels = labels;
  f.names = isContainer ? distinct(n.kind === 'container' ? n.label : undefined, n.instances, 'name', lists?.names) : NONE;
  f.images = isContainer ? distinct(n.image, n.instances, 'image', lists?.images) : NONE;
  f.processes = n.kind === 'process' ? distinct(n.label, n.instances, 'name', lists?.processes) : NONE;
  f.address = outside ? parseAddress(n.ips[0] ?? n.label) : null;
  return f;
}

/** `first` and the instances' `key`, each once, empty ones left out (a node has one or a few instances: no Set needed), into `out` when given. */
function distinct(first: string | undefined, instances: NodeLike['instances'], key: 'name' | 'image', into?: string[]): readonly string[] {
  const out = into ?? [];
  out.length = 0;
  if (first) out.push(first);
  for (let i = 0; i < instances.length; i++) {
    const v = instances[i][key];
    if (v && !out.includes(v)) out.push(v);
  }
  return out.length ? out : NONE;
}

export function parseAddress(s: string): Address | null {
  const quad = dottedQuad(s);
  if (quad) return quad;
  if (!ipaddr.isValid(s)) return null;
  const a = ipaddr.parse(s);
  return Uint8Array.from(a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address().toByteArray() : a.toByteArray());
}

/** The common case without ipaddr's regular expressions: four decimal octets, no leading zeros (ipaddr reads those as octal, so they go to it). */
function dottedQuad(s: string): Address | null {
  const out = new Uint8Array(4);
  let part = 0, v = 0, digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part === 4) return null;
      out[part++] = v;
      v = digits = 0;
    } else {
      if (c < 48 || c > 57 || (digits === 1 && v === 0)) return null;
      v = v * 10 + c - 48;
      if (++digits > 3 || v > 255) return null;
    }
  }
  return part === 4 ? out : null;
}

export function parseCidr(c: string): Cidr {
  const [net, bits] = ipaddr.parseCIDR(c);
  return { bytes: Uint8Array.from(net.toByteArray()), bits };
}

/** Same family and the first `bits` bits equal (an IPv4 address is never in an IPv6 range, as ipaddr has it). */
export function inCidr(a: Address, c: Cidr): boolean {
  const b = c.bytes;
  if (a.length !== b.length) return false;
  const whole = c.bits >> 3, rest = c.bits & 7;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  return rest === 0 || ((a[whole] ^ b[whole]) & (0xff00 >> rest) & 0xff) === 0;
}

/** The selector keys whose value is a glob, and the facts each one tests: a node matches when one of its values does. */
export const GLOB_KEYS = {
  compose_project: (f: NodeFacts) => f.composeProject,
  compose_service: (f: NodeFacts) => f.composeService,
  namespace: (f: NodeFacts) => f.namespace,
  name: (f: NodeFacts) => f.names,
  image: (f: NodeFacts) => f.images,
  process: (f: NodeFacts) => f.processes,
} satisfies Partial<Record<keyof Selector, (f: NodeFacts) => string | null | readonly string[]>>;
export type GlobKey = keyof typeof GLOB_KEYS;
export const GLOB_KEY_NAMES = Object.keys(GLOB_KEYS) as GlobKey[];

/** A label's value, or undefined (a key like "constructor" reads no function from Object.prototype). */
export function labelValue(f: NodeFacts, key: string): string | undefined {
  const v = f.labels[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * `*` matches any characters, `/` included (images and names are not paths).
 * Most patterns are a literal, a prefix or a suffix: those skip the regular expression.
 */
const SEP = '\u0001';
const SPECIAL = /[*?[\]{}()!+@\\]/;
/** A pattern without glob characters matches only itself. */
export function isLiteral(pattern: string): boolean { return !SPECIAL.test(pattern); }
export function glob(pattern: string): (s: string) => boolean {
  if (isLiteral(pattern)) return (s) => s === pattern;
  if (pattern === '*') return () => true;
  const inner = pattern.slice(1, -1);
  if (pattern.endsWith('*') && !SPECIAL.test(pattern.slice(0, -1))) { const p = pattern.slice(0, -1); return (s) => s.startsWith(p); }
  if (pattern.startsWith('*') && !SPECIAL.test(pattern.slice(1))) { const p = pattern.slice(1); return (s) => s.endsWith(p); }
  if (pattern.startsWith('*') && pattern.endsWith('*') && !SPECIAL.test(inner)) return (s) => s.includes(inner);
  // Only * and ?: matched without a regular expression, whose backtracking on `*-*-*-*-x` against a long name takes
  // seconds (a policy's pattern and a process's chosen name would stall the agent). picomatch's path rules are not wanted.
  if (!SPECIAL.test(pattern.replace(/[*?]/g, ''))) return (s) => wildcard(pattern, s);
  // Classes, braces and a leading ! too, in their common forms; anything else is picomatch's.
  return linearGlob(pattern) ?? viaPicomatch(pattern);
}

/** picomatch's answer for a pattern (`/` an ordinary character): what the forms above must agree with. */
export function viaPicomatch(pattern: string): (s: string) => boolean {
  const re = picomatch.makeRe(pattern.replaceAll('/', SEP), { dot: true, noextglob: true });
  return pattern.includes('/') ? (s) => re.test(s.replaceAll('/', SEP)) : (s) => re.test(s.includes('/') ? s.replaceAll('/', SEP) : s);
}

/** `*` (any run) and `?` (one character) in time O(|p|·|s|) at worst: a mismatch after a star retries from it only. */
export function wildcard(p: string, s: string): boolean {
  let i = 0, j = 0, star = -1, from = 0;
  while (j < s.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === s[j]))) { i++; j++; }
    else if (i < p.length && p[i] === '*') { star = i++; from = j; }
    else if (star >= 0) { i = star + 1; j = ++from; }
    else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

type Tok = { k: 'lit'; c: string } | { k: 'any' } | { k: 'star' } | { k: 'set'; neg: boolean; sets: [string, string][] };

/** A pattern of literals, `*`, `?` and `[…]` classes as single-character tokens; null for any other form. */
function tokensOf(p: string): Tok[] | null {
  const out: Tok[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') { if (out.at(-1)?.k !== 'star') out.push({ k: 'star' }); continue; }
    if (c === '?') { out.push({ k: 'any' }); continue; }
    if (c === '[') {
      let j = i + 1;
      if (p[j] === '!') return null; // picomatch reads [!a] as '!' or 'a' (or the text itself), not as a negation
      const neg = p[j] === '^';
      if (neg) j++;
      const end = p.indexOf(']', j);
      if (end <= j) return null; // `[]…` and an unclosed class: picomatch's
      const body = p.slice(j, end);
      if (/[[\\]/.test(body)) return null;
      const sets: [string, string][] = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          if (body[k] > body[k + 2]) return null; // a reversed range: picomatch's own reading
          sets.push([body[k], body[k + 2]]);
          k += 2;
        } else sets.push([body[k], body[k]]);
      }
      out.push({ k: 'set', neg, sets });
      i = end;
      continue;
    }
    if (/[\]{}()!+@\\]/.test(c)) return null;
    out.push({ k: 'lit', c });
  }
  return out;
}

const tokMatches = (t: Tok, c: string): boolean =>
  t.k === 'any' || (t.k === 'lit' ? t.c === c : t.k === 'set' ? t.sets.some(([a, b]) => c >= a && c <= b) !== t.neg : false);

/** The two-pointer match of wildcard() over tokens: O(|p|·|s|) at worst, never exponential. */
function tokensMatch(p: Tok[], s: string): boolean {
  let i = 0, j = 0, star = -1, from = 0;
  while (j < s.length) {
    if (i < p.length && p[i].k !== 'star' && tokMatches(p[i], s[j])) { i++; j++; }
    else if (i < p.length && p[i].k === 'star') { star = i++; from = j; }
    else if (star >= 0) { i = star + 1; j = ++from; }
    else return false;
  }
  while (i < p.length && p[i].k === 'star') i++;
  return i === p.length;
}

/** `{a,b}` groups (not nested, at most 32 alternatives in all) expanded; null for any other use of braces. */
function expandBraces(p: string): string[] | null {
  const open = p.indexOf('{');
  if (open < 0) return p.includes('}') ? null : [p];
  const close = p.indexOf('}', open);
  if (close < 0 || p.slice(open + 1, close).includes('{') || !p.slice(open, close).includes(',')) return null;
  const rest = expandBraces(p.slice(close + 1));
  if (!rest) return null;
  const out = p.slice(open + 1, close).split(',').flatMap((alt) => rest.map((r) => p.slice(0, open) + alt + r));
  return out.length <= 32 ? out : null;
}

/** A matcher that cannot backtrack for the common forms: classes, `{a,b}`, a leading `!`; null for the others. */
export function linearGlob(pattern: string): ((s: string) => boolean) | null {
  // picomatch's own readings stay its: escapes, dots (`.*` needs a character after the dot), braces or stars in a class
  if (/[\\.]/.test(pattern) || /\[[^\]]*[{}*?,]/.test(pattern)) return null;
  if (pattern.startsWith('!')) {
    if (pattern[1] === '(' || pattern.length === 1) return null;
    const m = linearGlob(pattern.slice(1));
    return m && ((s) => !m(s));
  }
  const alts = expandBraces(pattern)?.map(tokensOf);
  // an alternative of stars alone: picomatch's `*` matches neither an empty name nor `.` or `..`
  if (!alts || alts.some((t) => !t || t.every((x) => x.k === 'star'))) return null;
  const ts = alts as Tok[][];
  // As picomatch: a leading `*` never matches the names `.` and `..`. (picomatch also lets a class match its own
  // text, `[ab]` itself; names with brackets are not matched so here.)
  return (s) => ts.some((t) => tokensMatch(t, s) && !(t[0].k === 'star' && (s === '.' || s === '..')));
}

/** Checks a CIDR as written; null when fine, else what is wrong. */
export function cidrProblem(c: string): string | null {
  try {
    const [addr, bits] = ipaddr.parseCIDR(c);
    // 10.0.0.1/8: a host's address with a range's length, most likely a typo either way; say which range it is.
    const net = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(c) : ipaddr.IPv6.networkAddressFromCIDR(c);
    if (net.toString() !== addr.toString()) return `"${c}" has bits set past its /${bits}: write the range as ${net.toString()}/${bits}, or the host as ${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
    return null;
  } catch {
    return ipaddr.isValid(c) ? `"${c}" needs a prefix length, e.g. ${c}/${c.includes(':') ? 128 : 32}` : `"${c}" is not a CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)`;
  }
}

export type NodePredicate = (f: NodeFacts) => boolean;

/** One value of a glob key matches (null and [] never do). */
export function someMatch(v: string | null | readonly string[], m: (s: string) => boolean): boolean {
  if (v === null) return false;
  if (typeof v === 'string') return m(v);
  for (let i = 0; i < v.length; i++) if (m(v[i])) return true;
  return false;
}

/**
 * A selector as one predicate that tests every key: the definition of what a
 * selector matches. The zone index (zone-index.ts) finds the same answers by
 * lookup, and is tested against this.
 */
export function compileSelector(s: Selector): NodePredicate {
  const tests: NodePredicate[] = [];
  for (const key of GLOB_KEY_NAMES) {
    const pattern = s[key];
    if (pattern === undefined) continue;
    const m = glob(pattern), get = GLOB_KEYS[key];
    tests.push((f) => someMatch(get(f), m));
  }
  if (s.kind) { const k = s.kind; tests.push((f) => f.kind === k); }
  for (const [k, v] of Object.entries(s.label ?? {})) {
    const m = glob(v);
    tests.push((f) => { const x = labelValue(f, k); return x !== undefined && m(x); });
  }
  if (s.cidr) {
    const ranges = s.cidr.map(parseCidr);
    tests.push((f) => f.address !== null && ranges.some((r) => inCidr(f.address!, r)));
  }
  if (tests.length === 1) return tests[0];
  return (f) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](f)) return false;
    return true;
  };
}
