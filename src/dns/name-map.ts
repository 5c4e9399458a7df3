// Names for addresses, from the answers processes received, per network
// namespace: address -> the names that resolved to it. An answer names its
// addresses for its TTL, held at least minHoldMs so a short TTL still names
// the connection that follows. When an address has several names, the one
// its own client resolved wins. Bounded: least recently used addresses are
// forgotten first, and every such eviction is counted.
import type { DnsNameBinding, DnsResolver, DnsTransaction } from './types.js';
import { DNS_DEFAULTS } from '../config/defaults.js';

export interface NameMapLimits {
  nameMapEntries: number;
  minHoldMs: number;
  maxHoldMs: number;
  maxNamesPerAddress: number;
  maxClientsPerName: number;
  maxAddressesPerName: number;
}

interface Binding {
  name: string;
  cnames: string[];
  resolver: DnsResolver;
  resolvedAt: number;
  expiresAt: number;
  /** Clients that received it, most recent first, and when each last did (the answer's time, Unix ms). */
  clients: { pid: number; cgroupId: number; comm: string; at: number }[];
}

/** An address's bindings, most recent first, and when the last of them expires. */
interface AddressEntry extends Linked<AddressEntry> { netns: number; address: string; bindings: Binding[]; expiresAt: number; touched: number }

/** The latest answer for a name. */
interface NameAnswer extends Linked<NameAnswer> { netns: number; name: string; addresses: string[]; resolvedAt: number; pid: number; touched: number }

/** Who asks for a name, and when their connection started (the name their latest answer before it gave wins). */
export interface ClientHint { pid?: number; cgroupId?: number; at?: number }

/** A repeated answer refreshes an address's bindings at most this often; recency is kept to this grain too. */
const REFRESH_MS = 1000;

/** Links of the recency list, kept on the entries themselves. */
interface Linked<T> { prev: T | null; next: T | null }

/**
 * Per-namespace maps for lookups (no composite string keys on the hot path),
 * and one recency order over all namespaces for the bound: a list linked
 * through the entries, so marking one used moves two pointers. (A Map kept in
 * order by delete and re-insert rebuilt its table every few thousand uses, and
 * each table lived long enough to be promoted, costing full collections.)
 */
class Bounded<T extends { netns: number; touched: number } & Linked<T>> {
  evictions = 0;
  private byNs = new Map<number, Map<string, T>>();
  /** Least recently used first. */
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;
  /** The last namespace looked up: consecutive lookups are mostly in the same one. */
  private lastNs = -1;
  private lastMap: Map<string, T> | undefined;

  constructor(private readonly max: number, private readonly keyOf: (e: T) => string) {}

  private ns(netns: number): Map<string, T> | undefined {
    if (netns !== this.lastNs) { this.lastNs = netns; this.lastMap = this.byNs.get(netns); }
    return this.lastMap;
  }

  get(netns: number, key: string): T | undefined {
    return this.ns(netns)?.get(key);
  }

  set(e: T, now: number): void {
    let m = this.ns(e.netns);
    if (!m) { m = new Map(); this.byNs.set(e.netns, m); this.lastMap = m; }
    const old = m.get(this.keyOf(e));
    if (old) this.unlink(old);
    m.set(this.keyOf(e), e);
    e.touched = now;
    this.append(e);
    while (this.count > this.max && this.head) {
      this.remove(this.head);
      this.evictions++;
    }
  }

  /** Marks an entry used (at most once per REFRESH_MS: the order is kept to that grain). */
  touch(e: T, now: number): void {
    if (now - e.touched < REFRESH_MS || (!e.prev && e !== this.head)) return; // recent, or no longer kept
    e.touched = now;
    if (e === this.tail) return;
    this.unlink(e);
    this.append(e);
  }

  remove(e: T): void {
    this.unlink(e);
    const m = this.ns(e.netns);
    if (m?.get(this.keyOf(e)) === e) {
      m.delete(this.keyOf(e));
      if (!m.size) { this.byNs.delete(e.netns); this.lastMap = undefined; }
    }
  }

  /** Drops a whole namespace (not counted as evictions). */
  dropNamespace(netns: number): void {
    const m = this.byNs.get(netns);
    if (!m) return;
    for (const e of m.values()) this.unlink(e);
    this.byNs.delete(netns);
    if (this.lastNs === netns) this.lastMap = undefined;
  }

  get size(): number { return this.count; }

  /** Every entry, least recently used first (a copy: safe to remove while walking it). */
  values(): T[] {
    const out: T[] = [];
    for (let e = this.head; e; e = e.next) out.push(e);
    return out;
  }

  private append(e: T): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e; else this.head = e;
    this.tail = e;
    this.count++;
  }

  /** Takes an entry out of the list (nothing if it is not in it). */
  private unlink(e: T): void {
    if (e.prev) e.prev.next = e.next; else if (this.head === e) this.head = e.next; else return;
    if (e.next) e.next.prev = e.prev; else this.tail = e.prev;
    e.prev = e.next = null;
    this.count--;
  }
}

export class NameMap {
  private byAddress: Bounded<AddressEntry>;
  private byName: Bounded<NameAnswer>;

  constructor(private readonly limits: NameMapLimits = DNS_DEFAULTS) {
    this.byAddress = new Bounded(limits.nameMapEntries, (e) => e.address);
    this.byName = new Bounded(limits.nameMapEntries, (e) => e.name);
  }

  /** Addresses and names forgotten because the map was full. */
  get evictions(): number { return this.byAddress.evictions; }
  get nameEvictions(): number { return this.byName.evictions; }

  /** Takes the names an answered query gave its addresses. */
  record(t: DnsTransaction, now = Date.now()): void {
    if (t.outcome === 'timeout' || t.rcode !== 'NOERROR' || !t.name || !t.addresses.length) return;
    const netns = t.client.netns;
    const pid = t.client.pid;
    const at = t.time + (t.latencyMs ?? 0);
    const addresses = t.addresses.length > this.limits.maxAddressesPerName ? t.addresses.slice(0, this.limits.maxAddressesPerName) : t.addresses;
    const answer = this.byName.get(netns, t.name);
    if (answer && sameList(answer.addresses, addresses)) {
      // The same answer to the same process moments ago: its bindings are fresh (their hold is much longer).
      if (answer.pid === pid && now - answer.resolvedAt < REFRESH_MS) return;
      answer.resolvedAt = now;
      answer.pid = pid;
      this.byName.touch(answer, now);
    } else {
      this.byName.set({ netns, name: t.name, addresses, resolvedAt: now, pid, touched: now, prev: null, next: null }, now);
    }
    const hold = Math.min(Math.max(t.ttl * 1000, this.limits.minHoldMs), this.limits.maxHoldMs);
    const expiresAt = now + hold;
    for (const address of addresses) {
      const entry = this.live(netns, address, now);
      if (!entry) {
        const client = { pid, cgroupId: t.client.cgroupId, comm: t.client.comm, at };
        const b: Binding = { name: t.name, cnames: t.cnames, resolver: t.resolver, resolvedAt: now, expiresAt, clients: [client] };
        this.byAddress.set({ netns, address, bindings: [b], expiresAt, touched: now, prev: null, next: null }, now);
        continue;
      }
      this.byAddress.touch(entry, now);
      const list = entry.bindings;
      let b = list[0].name === t.name ? list[0] : list.find((x) => x.name === t.name);
      if (b) {
        if (b !== list[0]) { list.splice(list.indexOf(b), 1); list.unshift(b); }
        b.cnames = t.cnames;
        b.resolver = t.resolver;
        b.resolvedAt = now;
        b.expiresAt = expiresAt;
        if (b.clients[0].pid !== pid) {
          b.clients = [{ pid, cgroupId: t.client.cgroupId, comm: t.client.comm, at }, ...b.clients.filter((c) => c.pid !== pid)].slice(0, this.limits.maxClientsPerName);
        } else b.clients[0].at = at;
      } else {
        b = { name: t.name, cnames: t.cnames, resolver: t.resolver, resolvedAt: now, expiresAt, clients: [{ pid, cgroupId: t.client.cgroupId, comm: t.client.comm, at }] };
        list.unshift(b);
        if (list.length > this.limits.maxNamesPerAddress) list.length = this.limits.maxNamesPerAddress;
      }
      if (expiresAt > entry.expiresAt) entry.expiresAt = expiresAt;
    }
  }

  /** An address's entry with its expired bindings dropped, or undefined. */
  private live(netns: number, address: string, now: number): AddressEntry | undefined {
    const entry = this.byAddress.get(netns, address);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) { this.byAddress.remove(entry); return undefined; }
    if (entry.bindings.some((b) => b.expiresAt <= now)) entry.bindings = entry.bindings.filter((b) => b.expiresAt > now);
    return entry;
  }

  /**
   * The name of an address in a namespace, as `client` resolved it if it did
   * (with `at`: its latest answer by then, so a connection made before the
   * process resolved another name of the same address keeps the first);
   * else the most recent answer's. Null for an address no answer named.
   */
  lookup(netns: number, address: string, client: ClientHint = {}, now = Date.now()): DnsNameBinding | null {
    const entry = this.live(netns, address, now);
    if (!entry) return null;
    this.byAddress.touch(entry, now); // naming a connection is a use
    const list = entry.bindings;
    const b = (client.pid && latestFor(list, (c) => c.pid === client.pid, client.at))
      || (client.cgroupId && latestFor(list, (c) => c.cgroupId === client.cgroupId, client.at))
      || list[0];
    return this.view(netns, address, b);
  }

  /** Every live name of an address, most recent first. */
  bindings(netns: number, address: string, now = Date.now()): DnsNameBinding[] {
    return (this.live(netns, address, now)?.bindings ?? []).map((b) => this.view(netns, address, b));
  }

  /** The addresses of a name's latest answer in a namespace. */
  addressesOf(netns: number, name: string): string[] {
    return this.byName.get(netns, name.toLowerCase().replace(/\.$/, ''))?.addresses ?? [];
  }

  private view(netns: number, address: string, b: Binding): DnsNameBinding {
    const latest = this.byName.get(netns, b.name);
    return {
      name: b.name, cnames: b.cnames, resolver: b.resolver, resolvedAt: b.resolvedAt, expiresAt: b.expiresAt,
      current: !latest || latest.addresses.includes(address),
      clients: b.clients.map((c) => ({ ...c })),
    };
  }

  get size(): { addresses: number; names: number; capacity: number } {
    return { addresses: this.byAddress.size, names: this.byName.size, capacity: this.limits.nameMapEntries };
  }

  /**
   * Forgets every name of a network namespace that is gone: the kernel reuses
   * namespace inodes, and a new container must not inherit old names.
   */
  forgetNamespace(netns: number): void {
    this.byAddress.dropNamespace(netns);
    this.byName.dropNamespace(netns);
  }

  /** Drops expired addresses now (they are dropped lazily otherwise). */
  purge(now = Date.now()): void {
    for (const e of this.byAddress.values()) if (e.expiresAt <= now) this.byAddress.remove(e);
  }
}

/** The binding a matching client received last (by `at` if given: last received by then, else the first received). */
function latestFor(list: Binding[], match: (c: Binding['clients'][number]) => boolean, at: number | undefined): Binding | undefined {
  if (list.length === 1) return list[0].clients.some(match) ? list[0] : undefined;
  let best: Binding | undefined, bestAt = -Infinity, first: Binding | undefined, firstAt = Infinity;
  for (const b of list) {
    for (const c of b.clients) {
      if (!match(c)) continue;
      if ((at === undefined || c.at <= at) && c.at > bestAt) { best = b; bestAt = c.at; }
      if (c.at < firstAt) { first = b; firstAt = c.at; }
    }
  }
  return best ?? first;
}

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
