// From PromQL answers to one map (pure): edges of every agent, with a client's
// remote address joined to the host that owns it and a server's to the host
// that listens on it, so a cross-host call is one edge between real nodes.
import { FAILURE_REASONS, type FailureReason, type GraphEdge, type GraphNode, type GraphSnapshot, type NodeKind, type Rates } from '../graph/types.js';
import { EDGE_LABELS, OTHER } from '../export/labels.js';
import type { Sample } from './promql.js';
import { ACTIVE, AGENT_TOTALS, COUNTERS, REPORT, type CounterField } from './queries.js';

/** One agent's numbers for one of its edges, as its series say. */
export interface EdgeNumbers {
  labels: Record<(typeof EDGE_LABELS)[number], string>;
  c: Record<CounterField, number>;
  failedBy: Record<FailureReason, number>;
  active: number;
  rttP95: number;
  durP95: number;
  rates: { '10s': Rates; '1m': Rates };
}

export interface AgentState {
  host: string;
  job: string;
  instance: string;
  /** Unix ms of its last report (its heartbeat gauge's value). */
  lastReport: number;
  /** Last scrape succeeded; null when Prometheus does not scrape it (remote-write). */
  up: boolean | null;
  state: 'up' | 'down' | 'stale';
  staleSec: number;
  folded: number;
  edges: number;
  lostEvents: number;
}

const zeroRates = (): Rates => ({ connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 });
const zeroCounters = () => Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Record<CounterField, number>;
const zeroFailed = () => Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>;
const FIELD_OF = new Map<string, CounterField>(Object.entries(COUNTERS).map(([f, m]) => [m, f as CounterField]));

export function edgeKey(m: Record<string, string>): string {
  return EDGE_LABELS.map((l) => m[l] ?? '').join('\u0001');
}

/** The largest sample per (what, edge), whatever job or instance it came under. */
function onePerSeries(samples: Sample[], what: (m: Record<string, string>) => string): Sample[] {
  const best = new Map<string, Sample>();
  for (const s of samples) {
    const k = `${what(s.metric)}\u0002${edgeKey(s.metric)}`;
    const b = best.get(k);
    if (!b || s.value > b.value) best.set(k, s);
  }
  return [...best.values()];
}

/** A table of edges filled from several answers. */
export class EdgeTable {
  readonly edges = new Map<string, EdgeNumbers>();

  get(m: Record<string, string>): EdgeNumbers | null {
    if (!m.host || !m.client || m.client === OTHER) return null; // `other` is a sum of folded edges: counted in the agent's status, not drawn
    const k = edgeKey(m);
    let e = this.edges.get(k);
    if (!e) {
      e = {
        labels: Object.fromEntries(EDGE_LABELS.map((l) => [l, m[l] ?? ''])) as EdgeNumbers['labels'],
        c: zeroCounters(), failedBy: zeroFailed(), active: 0, rttP95: 0, durP95: 0, rates: { '10s': zeroRates(), '1m': zeroRates() },
      };
      this.edges.set(k, e);
    }
    return e;
  }

  /**
   * Counters (by __name__, or by __m for range answers) and active. One agent's edge can arrive as
   * several series (scraped and also pushed with remote-write, or under two jobs): they say the same,
   * so the largest is taken, never their sum.
   */
  addCounters(samples: Sample[], field: (m: Record<string, string>) => CounterField | 'active' | null = (m) => (m.__name__ === ACTIVE ? 'active' : FIELD_OF.get(m.__name__) ?? null)): void {
    for (const s of onePerSeries(samples, (m) => `${field(m)}\u0001${m.reason ?? ''}`)) {
      const f = field(s.metric);
      if (!f) continue;
      const e = this.get(s.metric);
      if (!e) continue;
      if (f === 'active') e.active += s.value;
      else {
        e.c[f] += s.value;
        if (f === 'failed' && (FAILURE_REASONS as string[]).includes(s.metric.reason)) e.failedBy[s.metric.reason as FailureReason] += s.value;
      }
    }
  }

  /**
   * Rates from the counters now and `windowSec` earlier (two plain selections are far cheaper for
   * Prometheus than rate() over every edge). A series that is new or was reset counts from zero.
   * The map's 10 s and 1 m rates are both this one.
   */
  addRatesBetween(now: Sample[], before: Sample[], windowSec: number): void {
    const fields: Partial<Record<string, keyof Rates>> = { [COUNTERS.opened]: 'connections', [COUNTERS.failed]: 'failures', [COUNTERS.sent]: 'bytesSent', [COUNTERS.received]: 'bytesReceived' };
    const id = (m: Record<string, string>) => `${m.__name__}\u0001${m.job ?? ''}\u0001${m.instance ?? ''}\u0001${m.reason ?? ''}\u0001${edgeKey(m)}`;
    const prev = new Map<string, number>();
    for (const s of before) if (fields[s.metric.__name__]) prev.set(id(s.metric), s.value);
    const rated: Sample[] = [];
    for (const s of now) {
      if (!fields[s.metric.__name__]) continue;
      const p = prev.get(id(s.metric));
      rated.push({ metric: s.metric, value: (p !== undefined && s.value >= p ? s.value - p : s.value) / windowSec });
    }
    for (const s of onePerSeries(rated, (m) => `${m.__name__}\u0001${m.reason ?? ''}`)) {
      const f = fields[s.metric.__name__];
      const e = f && this.get(s.metric);
      if (!e || !f) continue;
      e.rates['1m'][f] += s.value;
      e.rates['10s'][f] += s.value;
    }
  }

  addP95(samples: Sample[]): void {
    for (const s of samples) {
      const e = this.get(s.metric);
      if (!e) continue;
      if (s.metric.__m === 'rtt') e.rttP95 = Math.max(e.rttP95, s.value);
      if (s.metric.__m === 'dur') e.durP95 = Math.max(e.durP95, s.value);
    }
  }
}

/**
 * One state per host from its heartbeat series (scraped, pushed, or both) and the scrape's `up`:
 * up while a scrape succeeds or a push is fresh; down when every scrape of it fails and nothing is
 * pushed; stale when its last report is older than staleAfterMs.
 */
export function agentStates(reports: Sample[], up: Sample[], current: Sample[], at: number, staleAfterMs: number): AgentState[] {
  const upOf = new Map(up.map((s) => [`${s.metric.job}\u0001${s.metric.instance}`, s.value === 1]));
  const byHost = new Map<string, AgentState & { scraped: boolean; pushedFresh: boolean; anyUp: boolean }>();
  for (const r of reports) {
    const host = r.metric.host;
    if (!host) continue;
    const lastReport = r.value * 1000;
    const u = upOf.get(`${r.metric.job ?? ''}\u0001${r.metric.instance ?? ''}`);
    let a = byHost.get(host);
    if (!a) {
      a = { host, job: r.metric.job ?? '', instance: r.metric.instance ?? '', lastReport, up: null, state: 'stale', staleSec: 0, folded: 0, edges: 0, lostEvents: 0, scraped: false, pushedFresh: false, anyUp: false };
      byHost.set(host, a);
    }
    if (lastReport > a.lastReport) Object.assign(a, { lastReport, job: r.metric.job ?? '', instance: r.metric.instance ?? '' });
    if (u === undefined) a.pushedFresh ||= at - lastReport <= staleAfterMs;
    else { a.scraped = true; a.anyUp ||= u; }
  }
  for (const a of byHost.values()) {
    a.up = a.scraped ? a.anyUp : null;
    a.staleSec = Math.max(0, Math.round((at - a.lastReport) / 1000));
    a.state = a.anyUp || a.pushedFresh ? (at - a.lastReport > staleAfterMs ? 'stale' : 'up') : a.scraped ? 'down' : 'stale';
  }
  for (const s of current) {
    const a = byHost.get(s.metric.host ?? '');
    if (!a) continue;
    if (s.metric.__name__ === AGENT_TOTALS.folded) a.folded = s.value;
    else if (s.metric.__name__ === AGENT_TOTALS.edges) a.edges = s.value;
    else if (s.metric.__name__ === AGENT_TOTALS.lost) a.lostEvents += s.value;
  }
  return [...byHost.values()].map(({ scraped: _s, pushedFresh: _p, anyUp: _u, ...a }) => a).sort((a, b) => (a.host < b.host ? -1 : 1));
}

interface Owner { host: string; name: string; group: string; kind: NodeKind; containerPort: number }

/** Who owns an address (and who listens on an address and port), from every agent's info series. */
export class AddressBook {
  private readonly listen = new Map<string, Owner>();
  private readonly address = new Map<string, Owner>();

  constructor(info: Sample[]) {
    for (const s of info) {
      const m = s.metric;
      if (!m.ip || !m.host || !m.name) continue;
      const o: Owner = { host: m.host, name: m.name, group: m.group ?? '', kind: (m.kind || 'process') as NodeKind, containerPort: Number(m.container_port) || 0 };
      if (m.port) this.listen.set(`${m.ip}|${m.port}`, o);
      else this.address.set(m.ip, o);
    }
  }

  server(ip: string, port: number): Owner | null { return this.listen.get(`${ip}|${port}`) ?? this.address.get(ip) ?? null; }
  client(ip: string): Owner | null { return this.address.get(ip) ?? null; }
}

interface End { id: string; kind: NodeKind; label: string; group: string | null; host: string | null; ip: string | null }

/** Node ids of the hub: services join across hosts (replicas of one workload); containers and processes are per host. */
function end(name: string, group: string, kind: NodeKind, host: string): End {
  const g = group || null;
  switch (kind) {
    case 'service': return { id: `svc:${group}/${name}`, kind, label: name, group: g, host, ip: null };
    case 'container': return { id: `ctr:${name}@${host}`, kind, label: name, group: g, host, ip: null };
    case 'process': return { id: `proc:${name}@${host}`, kind, label: name, group: g ?? 'host', host, ip: null };
    case 'client': return { id: `client:${name}`, kind, label: name, group: null, host: null, ip: name };
    default: return { id: `ext:${name}`, kind: 'external', label: name, group: null, host: null, ip: name };
  }
}

interface Obs { n: EdgeNumbers; side: 'client' | 'server' }

/** Builds the map: ends resolved across hosts; one connection seen by both agents counted once (the client's view first). */
export function buildGraph(table: EdgeTable, book: AddressBook, at: number): GraphSnapshot {
  const ends = new Map<string, End & { hosts: Set<string> }>();
  const obs = new Map<string, { ids: [string, string, number]; client: EdgeNumbers[]; server: EdgeNumbers[] }>();
  const keep = (e: End) => {
    let x = ends.get(e.id);
    if (!x) { x = { ...e, hosts: new Set() }; ends.set(e.id, x); }
    if (e.host) x.hosts.add(e.host);
    return x;
  };
  for (const n of table.edges.values()) {
    const l = n.labels;
    let port = Number(l.server_port) || 0;
    let client: End, server: End, side: Obs['side'];
    if (l.client_kind === 'client') {
      const o = book.client(l.client);
      client = o && o.host !== l.host ? end(o.name, o.group, o.kind, o.host) : end(l.client, '', 'client', l.host);
      side = 'server';
    } else {
      client = end(l.client, l.client_group, l.client_kind as NodeKind, l.host);
      side = 'client';
    }
    if (l.server_kind === 'external') {
      const o = book.server(l.server, port);
      if (o && o.host !== l.host) {
        server = end(o.name, o.group, o.kind, o.host);
        if (o.containerPort) port = o.containerPort; // a published port: the server sees its container port
      } else server = end(l.server, '', 'external', l.host);
    } else server = end(l.server, l.server_group, l.server_kind as NodeKind, l.host);
    const c = keep(client), s = keep(server);
    const id = `${c.id}|${s.id}|${port}|tcp`;
    let o = obs.get(id);
    if (!o) { o = { ids: [c.id, s.id, port], client: [], server: [] }; obs.set(id, o); }
    o[side].push(n);
  }
  const edges: GraphEdge[] = [];
  const active = new Map<string, number>();
  for (const [id, o] of obs) {
    const views = o.client.length ? o.client : o.server; // the client knows failures the server never sees
    const e = sumEdge(id, o.ids, views, at);
    edges.push(e);
    for (const nid of new Set([e.source, e.target])) active.set(nid, (active.get(nid) ?? 0) + e.connections.active);
  }
  const nodes: GraphNode[] = [...ends.values()].map((x) => ({
    id: x.id, kind: x.kind, label: x.label, group: x.group, instances: [], ips: x.ip ? [x.ip] : [],
    firstSeen: at, lastSeen: at, active: active.get(x.id) ?? 0, ...(x.hosts.size ? { hosts: [...x.hosts].sort() } : {}),
  }));
  return { generatedAt: at, nodes, edges };
}

function sumEdge(id: string, [source, target, port]: [string, string, number], views: EdgeNumbers[], at: number): GraphEdge {
  const c = zeroCounters(), failedBy = zeroFailed(), rates = { '10s': zeroRates(), '1m': zeroRates() };
  let active = 0, rttP95 = 0, durP95 = 0;
  for (const v of views) {
    for (const k of Object.keys(c) as CounterField[]) c[k] += v.c[k];
    for (const r of FAILURE_REASONS) failedBy[r] += v.failedBy[r];
    for (const w of ['10s', '1m'] as const) for (const k of Object.keys(rates[w]) as (keyof Rates)[]) rates[w][k] = (rates[w][k] ?? 0) + (v.rates[w][k] ?? 0);
    active += v.active;
    rttP95 = Math.max(rttP95, v.rttP95);
    durP95 = Math.max(durP95, v.durP95);
  }
  const r = (x: number) => Math.round(x);
  return {
    id, source, target, port, protocol: 'tcp',
    connections: { opened: r(c.opened), active: r(active), closed: r(c.closed), failed: r(c.failed), failedBy: Object.fromEntries(FAILURE_REASONS.map((k) => [k, r(failedBy[k])])) as Record<FailureReason, number> },
    bytes: { sent: r(c.sent), received: r(c.received) },
    rtt: { meanUs: c.rttCount ? Math.round((c.rttSum / c.rttCount) * 1e6) : 0, p95Us: Number.isFinite(rttP95) ? Math.round(rttP95 * 1e6) : 0, samples: r(c.rttCount) },
    retransmits: r(c.retransmits),
    duration: { meanMs: c.durCount ? Math.round((c.durSum / c.durCount) * 1e4) / 10 : 0, p95Ms: Number.isFinite(durP95) ? Math.round(durP95 * 1e4) / 10 : 0, samples: r(c.durCount) },
    firstSeen: at, lastSeen: at, rates,
  };
}

export { REPORT };
