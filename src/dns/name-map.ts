// Names for addresses, from the answers processes received, per network
// namespace: address -> the names that resolved to it. An answer names its
// addresses for its TTL, held at least minHoldMs so a short TTL still names
// the connection that follows. When an address has several names, the one
// its own client resolved wins. Bounded: least recently used addresses are
// forgotten first, and every such eviction is counted.
import { LRUCache } from 'lru-cache';
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
  clients: { pid: number; cgroupId: number; comm: string }[];
}

/** The latest answer for a name. */
interface NameAnswer { addresses: string[]; resolvedAt: number }

export interface ClientHint { pid?: number; cgroupId?: number }

/** An address's bindings, most recent first, and when the last of them expires. */
interface AddressEntry { bindings: Binding[]; expiresAt: number }

export class NameMap {
  evictions = 0;
  private byAddress: LRUCache<string, AddressEntry>;
  private byName: LRUCache<string, NameAnswer>;

  constructor(private readonly limits: NameMapLimits = DNS_DEFAULTS) {
    const max = limits.nameMapEntries;
    this.byAddress = new LRUCache<string, AddressEntry>({
      max,
      dispose: (_v, _k, reason) => { if (reason === 'evict') this.evictions++; },
    });
    this.byName = new LRUCache<string, NameAnswer>({ max });
  }

  /** Takes the names an answered query gave its addresses. */
  record(t: DnsTransaction, now = Date.now()): void {
    if (t.outcome === 'timeout' || t.rcode !== 'NOERROR' || !t.name || !t.addresses.length) return;
    const hold = Math.min(Math.max(t.ttl * 1000, this.limits.minHoldMs), this.limits.maxHoldMs);
    const expiresAt = now + hold;
    const netns = t.client.netns;
    const addresses = t.addresses.length > this.limits.maxAddressesPerName ? t.addresses.slice(0, this.limits.maxAddressesPerName) : t.addresses;
    const nameKey = `${netns}|${t.name}`;
    const answer = this.byName.get(nameKey);
    if (answer && sameList(answer.addresses, addresses)) answer.resolvedAt = now;
    else this.byName.set(nameKey, { addresses, resolvedAt: now });
    const pid = t.client.pid;
    for (const address of addresses) {
      const key = `${netns}|${address}`;
      const entry = this.live(key, now);
      if (!entry) {
        const client = { pid, cgroupId: t.client.cgroupId, comm: t.client.comm };
        this.byAddress.set(key, { bindings: [{ name: t.name, cnames: t.cnames, resolver: t.resolver, resolvedAt: now, expiresAt, clients: [client] }], expiresAt });
        continue;
      }
      const list = entry.bindings;
      let b = list[0].name === t.name ? list[0] : list.find((x) => x.name === t.name);
      if (b) {
        if (b !== list[0]) { list.splice(list.indexOf(b), 1); list.unshift(b); }
        b.cnames = t.cnames;
        b.resolver = t.resolver;
        b.resolvedAt = now;
        b.expiresAt = expiresAt;
        if (b.clients[0].pid !== pid) {
          b.clients = [{ pid, cgroupId: t.client.cgroupId, comm: t.client.comm }, ...b.clients.filter((c) => c.pid !== pid)].slice(0, this.limits.maxClientsPerName);
        }
      } else {
        b = { name: t.name, cnames: t.cnames, resolver: t.resolver, resolvedAt: now, expiresAt, clients: [{ pid, cgroupId: t.client.cgroupId, comm: t.client.comm }] };
        list.unshift(b);
        if (list.length > this.limits.maxNamesPerAddress) list.length = this.limits.maxNamesPerAddress;
      }
      if (expiresAt > entry.expiresAt) entry.expiresAt = expiresAt;
    }
  }

  /** An address's entry with its expired bindings dropped, or undefined. */
  private live(key: string, now: number): AddressEntry | undefined {
    const entry = this.byAddress.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) { this.byAddress.delete(key); return undefined; }
    if (entry.bindings.some((b) => b.expiresAt <= now)) entry.bindings = entry.bindings.filter((b) => b.expiresAt > now);
    return entry;
  }

  /**
   * The name of an address in a namespace, as `client` resolved it if it did;
   * else the most recent answer's. Null for an address no answer named.
   */
  lookup(netns: number, address: string, client: ClientHint = {}, now = Date.now()): DnsNameBinding | null {
    const list = this.live(`${netns}|${address}`, now)?.bindings;
    if (!list) return null;
    const b = (client.pid && list.find((x) => x.clients.some((c) => c.pid === client.pid)))
      || (client.cgroupId && list.find((x) => x.clients.some((c) => c.cgroupId === client.cgroupId)))
      || list[0];
    return this.view(netns, address, b);
  }

  /** Every live name of an address, most recent first. */
  bindings(netns: number, address: string, now = Date.now()): DnsNameBinding[] {
    return (this.live(`${netns}|${address}`, now)?.bindings ?? []).map((b) => this.view(netns, address, b));
  }

  /** The addresses of a name's latest answer in a namespace. */
  addressesOf(netns: number, name: string): string[] {
    return this.byName.get(`${netns}|${name.toLowerCase().replace(/\.$/, '')}`)?.addresses ?? [];
  }

  private view(netns: number, address: string, b: Binding): DnsNameBinding {
    const latest = this.byName.get(`${netns}|${b.name}`);
    return {
      name: b.name, cnames: b.cnames, resolver: b.resolver, resolvedAt: b.resolvedAt, expiresAt: b.expiresAt,
      current: !latest || latest.addresses.includes(address),
      clients: b.clients.map((c) => ({ ...c })),
    };
  }

  get size(): { addresses: number; names: number; capacity: number } {
    return { addresses: this.byAddress.size, names: this.byName.size, capacity: this.limits.nameMapEntries };
  }

  /** Drops expired addresses now (they are dropped lazily otherwise). */
  purge(now = Date.now()): void {
    for (const [key, entry] of this.byAddress.entries()) if (entry.expiresAt <= now) this.byAddress.delete(key);
  }
}

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
