// DNS health per client -> resolver pair: queries per second, answers by
// rcode, timeouts, a latency histogram (for p95), and the names that fail.
// An NXDOMAIN for a search-list expansion (`api.corp.example` before `api`
// was found) is not a failure: it is re-counted when the shorter name is
// answered soon after by the same process. Bounded everywhere.
import type { DnsClient, DnsHealth, DnsOutcomes, DnsTransaction } from './types.js';
import { DNS_DEFAULTS } from '../config/defaults.js';

export interface HealthLimits {
  maxHealthEntries: number;
  maxFailingNames: number;
  topFailingNames: number;
  rateWindowSec: number;
  latencyBucketsMs: readonly number[];
  searchExpansionWindowMs: number;
}

export type ClientKey = (c: DnsClient) => string;

/** Default client identity: the container (cgroup), namespace and command. */
export const defaultClientKey: ClientKey = (c) => `${c.cgroupId}/${c.netns}/${c.comm}`;

const RECENT_NX = 16;

interface Entry extends DnsOutcomes {
  key: string;
  /** Last moved to the end of the recency order. */
  touched: number;
  evicted: boolean;
  clientKey: string;
  client: DnsClient;
  resolver: DnsTransaction['resolver'];
  firstSeen: number;
  lastSeen: number;
  searchExpansions: number;
  buckets: Uint32Array;
  latencyCount: number;
  latencyMax: number;
  latencySum: number;
  rateSlots: Uint32Array;
  rateSecs: Float64Array;
  failing: Map<string, { count: number; reason: string; lastSeen: number }>;
  recentNx: { name: string; pid: number; time: number }[];
}

/**
 * The q-quantile of latencies counted in buckets (counts[i]: those <= bounds[i],
 * the last count: above every bound), interpolated inside the bucket; null when empty.
 */
export function bucketQuantile(bounds: readonly number[], counts: ArrayLike<number>, total: number, max: number, q: number): number | null {
  if (total <= 0) return null;
  const want = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (n > 0 && seen + n >= want) {
      const lo = i === 0 ? 0 : bounds[i - 1];
      const hi = i < bounds.length ? Math.min(bounds[i], max) : max;
      return lo + (Math.max(hi, lo) - lo) * ((want - seen) / n);
    }
    seen += n;
  }
  return max;
}

export class HealthTable {
  evictions = 0;
  /** By key, least recently active first (recency kept to the second). */
  private entries = new Map<string, Entry>();
  /** Client objects are shared by a process's sockets (see partiesOf): the hot path finds their entry without a key. */
  private byClient = new WeakMap<DnsTransaction['client'], Entry>();

  constructor(private readonly clientKey: ClientKey = defaultClientKey, private readonly limits: HealthLimits = DNS_DEFAULTS) {}

  private entryFor(t: DnsTransaction): Entry {
    let e = this.byClient.get(t.client);
    if (e && !e.evicted) {
      if (t.time - e.touched >= 1000) { e.touched = t.time; this.entries.delete(e.key); this.entries.set(e.key, e); }
      return e;
    }
    const ck = this.clientKey(t.client);
    const key = `${ck}|${t.resolver.address}|${t.resolver.port}`;
    e = this.entries.get(key);
    if (!e) {
      e = {
        key, touched: t.time, evicted: false, clientKey: ck, client: t.client, resolver: t.resolver, firstSeen: t.time, lastSeen: t.time,
        queries: 0, answered: 0, noerror: 0, nxdomain: 0, servfail: 0, refused: 0, otherErrors: 0, timeouts: 0, searchExpansions: 0,
        buckets: new Uint32Array(this.limits.latencyBucketsMs.length + 1), latencyCount: 0, latencyMax: 0, latencySum: 0,
        rateSlots: new Uint32Array(this.limits.rateWindowSec + 1), rateSecs: new Float64Array(this.limits.rateWindowSec + 1),
        failing: new Map(), recentNx: [],
      };
      this.entries.set(key, e);
      while (this.entries.size > this.limits.maxHealthEntries) {
        const oldest = this.entries.values().next().value!;
        oldest.evicted = true;
        this.entries.delete(oldest.key);
        this.evictions++;
      }
    }
    this.byClient.set(t.client, e);
    return e;
  }

  record(t: DnsTransaction): void {
    if (t.outcome === 'unmatched') return; // the query was not seen: nothing to count it against
    const e = this.entryFor(t);
    e.client = t.client;
    e.lastSeen = Math.max(e.lastSeen, t.time);
    e.queries++;
    this.countRate(e, t.time);
    if (t.outcome === 'timeout') {
      e.timeouts++;
      this.fail(e, t.name, 'timeout', t.time);
      return;
    }
    e.answered++;
    if (t.latencyMs !== null) this.observe(e, t.latencyMs);
    switch (t.rcode) {
      case 'NOERROR': e.noerror++; this.forgiveSearch(e, t); break;
      case 'NXDOMAIN': e.nxdomain++; this.fail(e, t.name, 'NXDOMAIN', t.time); this.rememberNx(e, t); break;
      case 'SERVFAIL': e.servfail++; this.fail(e, t.name, 'SERVFAIL', t.time); break;
      case 'REFUSED': e.refused++; this.fail(e, t.name, 'REFUSED', t.time); break;
      default: e.otherErrors++; this.fail(e, t.name, t.rcode ?? 'error', t.time);
    }
  }

  private countRate(e: Entry, time: number): void {
    const sec = Math.floor(time / 1000);
    const slot = sec % e.rateSlots.length;
    if (e.rateSecs[slot] !== sec) { e.rateSecs[slot] = sec; e.rateSlots[slot] = 0; }
    e.rateSlots[slot]++;
  }

  private observe(e: Entry, ms: number): void {
    const b = this.limits.latencyBucketsMs;
    let i = 0;
    while (i < b.length && ms > b[i]) i++;
    e.buckets[i]++;
    e.latencyCount++;
    e.latencySum += ms;
    if (ms > e.latencyMax) e.latencyMax = ms;
  }

  private fail(e: Entry, name: string, reason: string, time: number): void {
    const f = e.failing.get(name);
    if (f) {
      f.count++; f.reason = reason; f.lastSeen = time;
      e.failing.delete(name); // re-insert: the map's order is least recently failed first
      e.failing.set(name, f);
      return;
    }
    if (e.failing.size >= this.limits.maxFailingNames) e.failing.delete(e.failing.keys().next().value!);
    e.failing.set(name, { count: 1, reason, lastSeen: time });
  }

  private rememberNx(e: Entry, t: DnsTransaction): void {
    e.recentNx.push({ name: t.name, pid: t.client.pid, time: t.time });
    if (e.recentNx.length > RECENT_NX) e.recentNx.shift();
  }

  /** `api` answered: an NXDOMAIN for `api.<search domain>` just before was the resolver's search list, not a failure. */
  private forgiveSearch(e: Entry, t: DnsTransaction): void {
    if (!e.recentNx.length) return;
    const prefix = t.name + '.';
    e.recentNx = e.recentNx.filter((nx) => {
      if (nx.pid !== t.client.pid || !nx.name.startsWith(prefix) || Math.abs(t.time - nx.time) > this.limits.searchExpansionWindowMs) return true;
      e.nxdomain--;
      e.searchExpansions++;
      const f = e.failing.get(nx.name);
      if (f && --f.count <= 0) e.failing.delete(nx.name);
      return false;
    });
  }

  private quantile(e: Entry, q: number): number | null {
    return bucketQuantile(this.limits.latencyBucketsMs, e.buckets, e.latencyCount, e.latencyMax, q);
  }

  private rate(e: Entry, now: number): number {
    const sec = Math.floor(now / 1000);
    const w = this.limits.rateWindowSec;
    let n = 0;
    // The current second is still filling: count the w whole seconds before it.
    for (let i = 0; i < e.rateSlots.length; i++) if (e.rateSecs[i] < sec && e.rateSecs[i] >= sec - w) n += e.rateSlots[i];
    return n / w;
  }

  private view(e: Entry, now: number): DnsHealth {
    const failingNames = [...e.failing].map(([name, f]) => ({ name, ...f }))
      .sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen)
      .slice(0, this.limits.topFailingNames);
    const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
    return {
      clientKey: e.clientKey, client: { ...e.client }, resolver: { ...e.resolver }, firstSeen: e.firstSeen, lastSeen: e.lastSeen,
      queries: e.queries, queriesPerSec: this.rate(e, now), answered: e.answered, noerror: e.noerror, nxdomain: e.nxdomain,
      servfail: e.servfail, refused: e.refused, otherErrors: e.otherErrors, timeouts: e.timeouts, searchExpansions: e.searchExpansions,
      failures: e.nxdomain + e.servfail + e.refused + e.otherErrors + e.timeouts,
      latency: {
        count: e.latencyCount, p50Ms: round(this.quantile(e, 0.5)), p95Ms: round(this.quantile(e, 0.95)), maxMs: e.latencyCount ? round(e.latencyMax) : null,
        sumMs: e.latencySum, buckets: Array.from(e.buckets),
      },
      failingNames,
    };
  }

  /** Every client -> resolver pair, most recently active first. */
  list(now = Date.now()): DnsHealth[] {
    return [...this.entries.values()].map((e) => this.view(e, now));
  }

  get size(): { entries: number; capacity: number } {
    return { entries: this.entries.size, capacity: this.limits.maxHealthEntries };
  }
}
