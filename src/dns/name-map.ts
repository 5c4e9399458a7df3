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

export class NameMap {
  evictions = 0;
  private byAddress: LRUCache<string, Binding[]>;
  private byName: LRUCache<string, NameAnswer>;

  constructor(private readonly limits: NameMapLimits = DNS_DEFAULTS) {
    const max = limits.nameMapEntries;
    this.byAddress = new LRUCache({
      max, ttlAutopurge: false,
      dispose: (_v, _k, reason) => { if (reason === 'evict') this.evictions++; },
    });
    this.byName = new LRUCache({ max, ttlAutopurge: false });
  }

  /** Takes the names an answered query gave its addresses. */
  record(t: DnsTransaction, now = Date.now()): void {
    if (t.outcome === 'timeout' || t.rcode !== 'NOERROR' || !t.name || !t.addresses.length) return;
    const hold = Math.min(Math.max(t.ttl * 1000, this.limits.minHoldMs), this.limits.maxHoldMs);
    const expiresAt = now + hold;
    const netns = t.client.netns;
    const addresses = t.addresses.slice(0, this.limits.maxAddressesPerName);
    this.byName.set(`${netns}|${t.name}`, { addresses, resolvedAt: now }, { ttl: this.limits.maxHoldMs });
    const client = { pid: t.client.pid, cgroupId: t.client.cgroupId, comm: t.client.comm };
    for (const address of addresses) {
      const key = `${netns}|${address}`;
      const list = this.live(key, now) ?? [];
      let b = list.find((x) => x.name === t.name);
      if (b) {
        list.splice(list.indexOf(b), 1);
        b.cnames = t.cnames;
        b.resolver = t.resolver;
        b.resolvedAt = now;
        b.expiresAt = expiresAt;
        b.clients = [client, ...b.clients.filter((c) => c.pid !== client.pid)].slice(0, this.limits.maxClientsPerName);
      } else {
        b = { name: t.name, cnames: t.cnames, resolver: t.resolver, resolvedAt: now, expiresAt, clients: [client] };
      }
      list.unshift(b);
      if (list.length > this.limits.maxNamesPerAddress) list.length = this.limits.maxNamesPerAddress;
      this.byAddress.set(key, list, { ttl: Math.max(...list.map((x) => x.expiresAt)) - now });
    }
  }

  /** Live bindings of an address, most recent first (expired ones dropped). */
  private live(key: string, now: number): Binding[] | undefined {
    const list = this.byAddress.get(key);
    if (!list) return undefined;
    const alive = list.filter((b) => b.expiresAt > now);
    if (alive.length !== list.length) {
      if (alive.length) this.byAddress.set(key, alive, { ttl: Math.max(...alive.map((x) => x.expiresAt)) - now });
      else this.byAddress.delete(key);
    }
    return alive.length ? alive : undefined;
  }

  /**
   * The name of an address in a namespace, as `client` resolved it if it did;
   * else the most recent answer's. Null for an address no answer named.
   */
  lookup(netns: number, address: string, client: ClientHint = {}, now = Date.now()): DnsNameBinding | null {
    const list = this.live(`${netns}|${address}`, now);
    if (!list) return null;
    const b = (client.pid && list.find((x) => x.clients.some((c) => c.pid === client.pid)))
      || (client.cgroupId && list.find((x) => x.clients.some((c) => c.cgroupId === client.cgroupId)))
      || list[0];
    return this.view(netns, address, b);
  }

  /** Every live name of an address, most recent first. */
  bindings(netns: number, address: string, now = Date.now()): DnsNameBinding[] {
    return (this.live(`${netns}|${address}`, now) ?? []).map((b) => this.view(netns, address, b));
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

  /** Drops expired entries now (they are dropped lazily otherwise). */
  purge(): void {
    this.byAddress.purgeStale();
    this.byName.purgeStale();
  }
}
