// From PromQL answers to one map (pure): edges of every agent, with a client's
// remote address joined to the host that owns it and a server's to the host
// that listens on it, so a cross-host call is one edge between real nodes.
import { FAILURE_REASONS, type EdgeDns, type FailureReason, type GraphEdge, type GraphNode, type GraphSnapshot, type NodeKind, type NodePort, type Rates } from '../graph/types.js';
import { DNS_FAILURE_KINDS, EDGE_LABELS, OTHER } from '../export/labels.js';
import type { Sample } from './promql.js';
import { hostPort } from '../events/address.js';
import { ACTIVE, AGENT_TOTALS, COUNTERS, DNS_COUNTERS, DNS_SERIES, DURATION, RATED, SEP, type CounterField } from './queries.js';

type EdgeLabels = Record<(typeof EDGE_LABELS)[number], string>;

/** One agent's numbers for one of its edges, as its series say. */
export interface EdgeNumbers {
  /** Its labels joined (the `e` label of the answers): one key per agent and edge. */
  key: string;
  labels: EdgeLabels;
  c: Record<CounterField, number>;
  failedBy: Record<FailureReason, number>;
  active: number;
  rttP95: number;
  durP95: number;
  rates: { '10s': Rates; '1m': Rates };
  /** A resolver edge's (protocol dns) failures by kind and answer latency p95 (seconds); null on TCP edges. */
  dns: DnsNumbers | null;
}

type DnsFailureField = (typeof DNS_FAILURE_KINDS)[number][0];
export type DnsNumbers = Record<DnsFailureField, number> & { p95: number };
const DNS_FIELD_OF = new Map<string, DnsFailureField>(DNS_FAILURE_KINDS.map(([f, kind]) => [kind, f]));
const zeroDns = (): DnsNumbers => ({ ...Object.fromEntries(DNS_FAILURE_KINDS.map(([f]) => [f, 0])) as Record<DnsFailureField, number>, p95: 0 });

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
const FIELD_OF = new Map<string, CounterField>([...Object.entries(COUNTERS).map(([f, m]) => [m, f as CounterField] as const), ...Object.entries(DNS_COUNTERS)]);

/** The labels an answer's `e` carries, in EDGE_LABELS order; null for `other` and anything malformed. */
const parsed = new Map<string, EdgeLabels | null>();
export function edgeLabelsOf(e: string | undefined): EdgeLabels | null {
  if (!e) return null;
  let l = parsed.get(e);
  if (l === undefined) {
    const parts = e.split(SEP);
    l = parts.length === EDGE_LABELS.length ? Object.fromEntries(EDGE_LABELS.map((k, i) => [k, parts[i]])) as EdgeLabels : null;
    // `other` is a sum of folded edges: counted in the agent's status, not drawn
    if (l && (!l.host || !l.client || l.client === OTHER)) l = null;
    if (parsed.size > 200_000) parsed.clear(); // keys of edges long gone
    parsed.set(e, l);
  }
  return l;
}

/** A table of one or many agents' edges, filled from several answers. */
export class EdgeTable {
  readonly edges = new Map<string, EdgeNumbers>();

  get(e: string | undefined): EdgeNumbers | null {
    const labels = edgeLabelsOf(e);
    if (!labels) return null;
    let n = this.edges.get(e!);
    if (!n) {
      n = { key: e!, labels, c: zeroCounters(), failedBy: zeroFailed(), active: 0, rttP95: 0, durP95: 0, rates: { '10s': zeroRates(), '1m': zeroRates() }, dns: labels.protocol === 'dns' ? zeroDns() : null };
      this.edges.set(e!, n);
    }
    return n;
  }

  /** The answer of queries.edges (or any answer with __name__ and e): counters, failures by reason, open now, the duration p95. */
  addEdges(samples: Sample[]): void {
    for (const s of samples) {
      const m = s.metric;
      const e = this.get(m.e);
      if (!e) continue;
      const name = m.__name__;
      if (name === ACTIVE) { e.active = s.value; continue; }
      if (name === DURATION) { if (m.quantile === '0.95' && Number.isFinite(s.value)) e.durP95 = s.value; continue; }
      if (name === DNS_SERIES.p95) { if (e.dns && Number.isFinite(s.value)) e.dns.p95 = s.value; continue; }
      const f = FIELD_OF.get(name);
      if (!f) continue;
      e.c[f] += s.value;
      const k = name === DNS_SERIES.failures ? DNS_FIELD_OF.get(m.kind) : undefined;
      if (k && e.dns) e.dns[k] += s.value;
      if (f === 'failed' && (FAILURE_REASONS as string[]).includes(m.reason)) e.failedBy[m.reason as FailureReason] += s.value;
    }
  }

  /** Range answers tagged by field in __m (rangeLast, increases): a resolver edge's failures by kind fill its DNS numbers. */
  addTagged(samples: Sample[]): void {
    for (const s of samples) {
      const e = this.get(s.metric.e);
      const f = s.metric.__m as CounterField | 'active' | 'durP95' | 'dnsP95' | undefined;
      if (!e || !f) continue;
      if (f === 'active') { e.active = Math.max(e.active, s.value); continue; }
      if (f === 'durP95') { e.durP95 = Math.max(e.durP95, s.value); continue; }
      if (f === 'dnsP95') { if (e.dns && Number.isFinite(s.value)) e.dns.p95 = Math.max(e.dns.p95, s.value); continue; }
      if (!(f in e.c)) continue;
      e.c[f] += s.value;
      if (f !== 'failed') continue;
      if ((FAILURE_REASONS as string[]).includes(s.metric.reason)) e.failedBy[s.metric.reason as FailureReason] += s.value;
      const k = e.dns ? DNS_FIELD_OF.get(s.metric.kind) : undefined;
      if (k) e.dns![k] += s.value;
    }
  }

  addRttP95(samples: Sample[]): void {
    for (const s of samples) {
      const e = this.get(s.metric.e);
      if (e && Number.isFinite(s.value)) e.rttP95 = s.value;
    }
  }
}

/** The rated counters of each edge at one report (an agent's, or everyone's at one time): opened, failed (all reasons), sent, received. */
export interface Report { t: number; values: Map<string, Float64Array> }

export function reportOf(t: number, edges: Iterable<EdgeNumbers>): Report {
  const values = new Map<string, Float64Array>();
  for (const e of edges) values.set(e.key, Float64Array.from(RATED, (f) => e.c[f]));
  return { t, values };
}

/** The same report from an answer of queries.rated. */
export function reportFrom(t: number, samples: Sample[]): Report {
  const t2 = new EdgeTable();
  t2.addEdges(samples);
  return reportOf(t, t2.edges.values());
}

const RATE_FIELDS: (keyof Rates)[] = ['connections', 'failures', 'bytesSent', 'bytesReceived'];

/** Per second between an earlier report and now; a counter lower than before was reset (the agent restarted): it counts from zero. */
export function ratesBetween(now: Report, before: Report | undefined): Map<string, Rates> {
  const out = new Map<string, Rates>();
  const dt = before ? (now.t - before.t) / 1000 : 0;
  for (const [k, v] of now.values) {
    const r = zeroRates();
    const b = before?.values.get(k);
    if (dt > 0) {
      for (let i = 0; i < RATE_FIELDS.length; i++) {
        const p = b ? b[i] : 0; // new since: it counted from zero
        r[RATE_FIELDS[i]] = (v[i] >= p ? v[i] - p : v[i]) / dt;
      }
    }
    out.set(k, r);
  }
  return out;
}


/**
 * One state per host from its heartbeat series (scraped, pushed, or both) and the scrape's `up`:
 * up while a scrape succeeds or a push is fresh; down when every scrape of it fails and nothing is
 * pushed; stale when its last report is older than staleAfterMs.
 */
export function agentStates(reports: Sample[], up: Sample[], totals: Sample[], at: number, staleAfterMs: number): AgentState[] {
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
  for (const s of totals) {
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
  /** host|DNS name -> the addresses behind it (dhrishti_name_info): that host's edges name such a server by the name. */
  private readonly names = new Map<string, string[]>();

  constructor(info: Sample[]) {
    for (const s of info) {
      const m = s.metric;
      if (m.dns_name && m.ip && m.host) {
        const k = `${m.host}|${m.dns_name}`;
        const ips = this.names.get(k);
        if (!ips) this.names.set(k, [m.ip]); else if (!ips.includes(m.ip)) ips.push(m.ip);
        continue;
      }
      if (!m.ip || !m.host || !m.name) continue;
      const o: Owner = { host: m.host, name: m.name, group: m.group ?? '', kind: (m.kind || 'process') as NodeKind, containerPort: Number(m.container_port) || 0 };
      if (m.port) this.listen.set(`${m.ip}|${m.port}`, o);
      else this.address.set(m.ip, o);
    }
  }

  server(ip: string, port: number): Owner | null { return this.listen.get(`${ip}|${port}`) ?? this.address.get(ip) ?? null; }

  /**
   * The owner of a server that `host`'s clients reach by a DNS name, through the addresses behind that name there: only
   * when every owned one is on another host and all name the same node (a name spread over hosts, or partly this host's,
   * stays an outside node: one pick would depend on the order Prometheus answers in).
   */
  named(host: string, name: string, port: number): Owner | null {
    let found: Owner | null = null;
    for (const ip of this.names.get(`${host}|${name}`) ?? []) {
      const o = this.server(ip, port);
      if (!o) continue;
      if (o.host === host) return null;
      if (found && end(o.name, o.group, o.kind, o.host).id !== end(found.name, found.group, found.kind, found.host).id) return null;
      found ??= o;
    }
    return found;
  }
  client(ip: string): Owner | null { return this.address.get(ip) ?? null; }

  /** The ports a node of the map listens on, as its agents list them; a published one with its host bindings. */
  listeningOf(nodeId: string): NodePort[] {
    const byPort = new Map<number, Set<string>>();
    for (const [key, o] of this.listen) {
      if (end(o.name, o.group, o.kind, o.host).id !== nodeId) continue;
      const cut = key.lastIndexOf('|'), ip = key.slice(0, cut), port = Number(key.slice(cut + 1));
      const own = o.containerPort || port;
      const published = byPort.get(own) ?? new Set<string>();
      if (o.containerPort) published.add(hostPort(ip, port));
      byPort.set(own, published);
    }
    return [...byPort].sort(([a], [b]) => a - b).map(([port, published]) => ({ port, published: [...published].sort() }));
  }
}

export interface End { id: string; kind: NodeKind; label: string; group: string | null; host: string | null; ip: string | null }

/** Node ids of the hub: services join across hosts (replicas of one workload); containers and processes are per host. */
export function end(name: string, group: string, kind: NodeKind, host: string): End {
  const g = group || null;
  switch (kind) {
    case 'service': return { id: `svc:${group}/${name}`, kind, label: name, group: g, host, ip: null };
    case 'container': return { id: `ctr:${name}@${host}`, kind, label: name, group: g, host, ip: null };
    case 'process': return { id: `proc:${name}@${host}`, kind, label: name, group: g ?? 'host', host, ip: null };
    case 'client': return { id: `client:${name}`, kind, label: name, group: null, host: null, ip: name };
    default: return { id: `ext:${name}`, kind: 'external', label: name, group: null, host: null, ip: name };
  }
}

/** Where one agent's edge sits on the hub's map: its ends resolved across hosts, and which side saw it. */
export interface Placed { id: string; client: End; server: End; port: number; side: 'client' | 'server' }

export function place(n: Pick<EdgeNumbers, 'labels'>, book: AddressBook): Placed {
  const l = n.labels;
  let port = Number(l.server_port) || 0;
  let client: End, server: End, side: Placed['side'];
  if (l.client_kind === 'client') {
    const o = book.client(l.client);
    client = o && o.host !== l.host ? end(o.name, o.group, o.kind, o.host) : end(l.client, '', 'client', l.host);
    side = 'server';
  } else {
    client = end(l.client, l.client_group, l.client_kind as NodeKind, l.host);
    side = 'client';
  }
  if (l.server_kind === 'external') {
    const o = book.server(l.server, port) ?? book.named(l.host, l.server, port);
    if (o && o.host !== l.host) {
      server = end(o.name, o.group, o.kind, o.host);
      if (o.containerPort) port = o.containerPort; // a published port: the server sees its container port
    } else server = end(l.server, '', 'external', l.host);
  } else server = end(l.server, l.server_group, l.server_kind as NodeKind, l.host);
  return { id: `${client.id}|${server.id}|${port}|${l.protocol === 'dns' ? 'dns' : 'tcp'}`, client, server, port, side };
}

export interface BuiltMap {
  graph: GraphSnapshot;
  /** Who owns and serves which address, from the agents' info series the map was built with. */
  book: AddressBook;
  /** For each edge of the map, the agents' edges its numbers were summed from (for series and events). */
  views: Map<string, EdgeNumbers[]>;
}

/** Builds the map: ends resolved across hosts; one connection seen by both agents counted once (the client's view first). */
export function buildGraph(views: Iterable<EdgeNumbers>, book: AddressBook, at: number): BuiltMap {
  const ends = new Map<string, End & { hosts: Set<string> }>();
  const obs = new Map<string, { ids: [string, string, number]; client: EdgeNumbers[]; server: EdgeNumbers[] }>();
  const keep = (e: End) => {
    let x = ends.get(e.id);
    if (!x) { x = { ...e, hosts: new Set() }; ends.set(e.id, x); }
    if (e.host) x.hosts.add(e.host);
    return x;
  };
  for (const n of views) {
    const p = place(n, book);
    keep(p.client); keep(p.server);
    let o = obs.get(p.id);
    if (!o) { o = { ids: [p.client.id, p.server.id, p.port], client: [], server: [] }; obs.set(p.id, o); }
    o[p.side].push(n);
  }
  const edges: GraphEdge[] = [];
  const used = new Map<string, EdgeNumbers[]>();
  const active = new Map<string, number>();
  for (const [id, o] of obs) {
    const views = o.client.length ? o.client : o.server; // the client knows failures the server never sees
    const e = sumEdge(id, o.ids, views, at);
    edges.push(e);
    used.set(id, views);
    active.set(e.source, (active.get(e.source) ?? 0) + e.connections.active);
    if (e.target !== e.source) active.set(e.target, (active.get(e.target) ?? 0) + e.connections.active);
  }
  const nodes: GraphNode[] = [...ends.values()].map((x) => ({
    id: x.id, kind: x.kind, label: x.label, group: x.group, instances: [], ips: x.ip ? [x.ip] : [],
    firstSeen: at, lastSeen: at, active: active.get(x.id) ?? 0, ...(x.hosts.size ? { hosts: [...x.hosts].sort() } : {}),
  }));
  return { graph: { generatedAt: at, nodes, edges }, views: used, book };
}

function sumEdge(id: string, [source, target, port]: [string, string, number], views: EdgeNumbers[], at: number): GraphEdge {
  const c = zeroCounters(), failedBy = zeroFailed(), rates = { '10s': zeroRates(), '1m': zeroRates() };
  let active = 0, rttP95 = 0, durP95 = 0;
  const dns = views.some((v) => v.dns) ? zeroDns() : null;
  for (const v of views) {
    if (dns && v.dns) for (const k of Object.keys(dns) as (keyof DnsNumbers)[]) dns[k] = k === 'p95' ? Math.max(dns.p95, v.dns.p95) : dns[k] + v.dns[k];
    for (const k of Object.keys(c) as CounterField[]) c[k] += v.c[k];
    for (const r of FAILURE_REASONS) failedBy[r] += v.failedBy[r];
    for (const w of ['10s', '1m'] as const) for (const k of RATE_FIELDS) rates[w][k] = (rates[w][k] ?? 0) + (v.rates[w][k] ?? 0);
    active += v.active;
    rttP95 = Math.max(rttP95, v.rttP95);
    durP95 = Math.max(durP95, v.durP95);
  }
  const r = (x: number) => Math.round(x);
  const block = dns ? dnsBlock(dns, c, rates['10s']) : null;
  return {
    id, source, target, port, protocol: block ? 'dns' : 'tcp',
    ...(block ? { dns: block } : {}),
    connections: { opened: r(c.opened), active: r(active), closed: block ? block.answered : r(c.closed), failed: r(c.failed), failedBy: Object.fromEntries(FAILURE_REASONS.map((k) => [k, r(failedBy[k])])) as Record<FailureReason, number> },
    bytes: { sent: r(c.sent), received: r(c.received) },
    rtt: { meanUs: c.rttCount ? Math.round((c.rttSum / c.rttCount) * 1e6) : 0, p95Us: Number.isFinite(rttP95) ? Math.round(rttP95 * 1e6) : 0, samples: r(c.rttCount) },
    retransmits: r(c.retransmits),
    duration: { meanMs: c.durCount ? Math.round((c.durSum / c.durCount) * 1e4) / 10 : 0, p95Ms: Number.isFinite(durP95) ? Math.round(durP95 * 1e4) / 10 : 0, samples: r(c.durCount) },
    firstSeen: at, lastSeen: at, rates,
  };
}

/** A resolver edge's DNS block from its series (answered: what did not time out); the failing names and resolver addresses stay the agents' own. */
function dnsBlock(d: DnsNumbers, c: Record<CounterField, number>, rates: Rates): EdgeDns {
  const r = (x: number) => Math.round(x);
  const queries = r(c.opened), failures = r(c.failed), timeouts = r(d.timeouts);
  const answered = Math.max(0, queries - timeouts);
  const errors = r(d.nxdomain) + r(d.servfail) + r(d.refused) + r(d.otherErrors);
  return {
    resolvers: [], queries, answered, noerror: Math.max(0, answered - errors),
    nxdomain: r(d.nxdomain), servfail: r(d.servfail), refused: r(d.refused), otherErrors: r(d.otherErrors), timeouts, failures,
    queriesPerSec: rates.connections, latency: { p50Ms: null, p95Ms: d.p95 > 0 ? Math.round(d.p95 * 1e4) / 10 : null, maxMs: null }, failingNames: [],
  };
}
