// Collects the request (L7) aggregates of a real ProbeEngine per socket, and
// sums them for the sockets of one server port (server side) or of the
// clients connected to it (client side).
import { ProbeEngine, type EngineOptions } from '../../src/collector/engine.js';
import type { L7Options } from '../../src/l7/collector.js';
import type { L7Delta, L7Sample } from '../../src/l7/types.js';
import { L7_BUCKETS, L7_CLASSES } from '../../src/events/l7-layout.js';
import { sleep } from './wait.js';

export interface L7Totals {
  requests: number[];
  buckets: number[];
  unpaired: number;
  sockets: number;
  protocols: Set<string>;
  tls: boolean;
  count: number;
}

/** Requests by class name. */
export function byClass(t: L7Totals): Record<string, number> {
  const names = ['other', '1xx', '2xx', '3xx', '4xx', '5xx', 'ok', 'error'];
  return Object.fromEntries(names.map((n, i) => [n, t.requests[i]]).filter(([, v]) => v));
}

/** Requests in buckets [lo, hi]. */
export const inBuckets = (t: L7Totals, lo: number, hi: number) => t.buckets.slice(lo, hi + 1).reduce((a, b) => a + b, 0);

const empty = (d: L7Delta) => !d.unpaired && !d.latencySumNs && d.requests.every((v) => !v) && d.buckets.every((v) => !v);

export class L7Log {
  readonly engine: ProbeEngine;
  private ports = new Map<number, { sport: number; dport: number; role: string }>();
  private sums = new Map<number, { d: Pick<L7Delta, 'role' | 'protocol' | 'tls'>; requests: number[]; buckets: number[]; unpaired: number }>();
  readonly samples: L7Sample[] = [];
  private readonly closes: { port: number; role: string; l7: boolean }[] = [];

  /** Both ends of a local connection are parsed unless told otherwise: the parsers' tests check each end's view. */
  constructor(l7: L7Options = {}, opts: EngineOptions = {}) {
    this.engine = new ProbeEngine({ flushIntervalMs: 200, discover: false, ...opts, l7: { bothEnds: true, ...l7 } });
    this.engine.onEvents((batch) => {
      for (const e of batch) {
        if (e.cookie && e.sport && e.dport) this.ports.set(e.cookie, { sport: e.sport, dport: e.dport, role: e.role });
        if (e.type === 'close') this.closes.push({ port: e.role === 'server' ? e.sport : e.dport, role: e.role, l7: e.l7 || !!e.requests });
        // A socket's last counts, with its close (one that counted nothing, and was never reported, is not a socket that counted).
        if (e.requests && (this.sums.has(e.cookie) || !empty(e.requests))) this.add(e.requests);
      }
    });
  }

  /** Closes of sockets to or from `port` in `role`: how many said the kernel's parser took the socket (ConnEvent.l7), and how many not. */
  closeMarks(port: number, role: 'client' | 'server'): { l7: number; plain: number } {
    const mine = this.closes.filter((c) => c.port === port && c.role === role);
    return { l7: mine.filter((c) => c.l7).length, plain: mine.filter((c) => !c.l7).length };
  }

  start(): this {
    this.engine.start();
    const l7 = this.engine.l7;
    if (!l7) throw new Error(`L7 capture unavailable: ${this.engine.l7Unavailable}`);
    l7.onDeltas((ds) => { for (const d of ds) this.add(d); });
    l7.onSamples((ss) => this.samples.push(...ss));
    return this;
  }

  /** Deltas are read during the call only (closed sockets' are reused): what is read later is copied. */
  private add(d: L7Delta): void {
    const kept = { role: d.role, protocol: d.protocol, tls: d.tls };
    const s = this.sums.get(d.cookie) ?? { d: kept, requests: new Array(L7_CLASSES).fill(0), buckets: new Array(L7_BUCKETS).fill(0), unpaired: 0 };
    s.d = kept;
    d.requests.forEach((v, i) => (s.requests[i] += v));
    d.buckets.forEach((v, i) => (s.buckets[i] += v));
    s.unpaired += d.unpaired;
    this.sums.set(d.cookie, s);
  }

  stop(): void { this.engine.stop(); }

  /** Totals of the server side of `port` (role 'server') or of its clients (role 'client'). */
  totals(port: number, role: 'server' | 'client'): L7Totals {
    const t: L7Totals = { requests: new Array(L7_CLASSES).fill(0), buckets: new Array(L7_BUCKETS).fill(0), unpaired: 0, sockets: 0, protocols: new Set(), tls: false, count: 0 };
    for (const [cookie, s] of this.sums) {
      const p = this.ports.get(cookie);
      if (!p || s.d.role !== role || (role === 'server' ? p.sport : p.dport) !== port) continue;
      s.requests.forEach((v, i) => (t.requests[i] += v));
      s.buckets.forEach((v, i) => (t.buckets[i] += v));
      t.unpaired += s.unpaired;
      t.sockets++;
      t.protocols.add(s.d.protocol);
      t.tls ||= s.d.tls;
    }
    t.count = t.requests.reduce((a, b) => a + b, 0);
    return t;
  }

  /** Samples of the server sockets of `port` (role 'server') or of its clients (role 'client'). */
  samplesOf(port: number, role: 'server' | 'client'): L7Sample[] {
    return this.samples.filter((s) => {
      const p = this.ports.get(s.cookie);
      return s.role === role && !!p && (role === 'server' ? p.sport : p.dport) === port;
    });
  }

  /** Waits until the totals hold `want` requests (and two more flushes, so nothing late is missed). */
  async settle(port: number, role: 'server' | 'client', want: number, ms = 10_000): Promise<L7Totals> {
    const end = Date.now() + ms;
    while (Date.now() < end && this.totals(port, role).count < want) await sleep(100);
    await sleep(500);
    return this.totals(port, role);
  }
}
