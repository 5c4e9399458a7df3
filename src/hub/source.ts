// The hub's data source for the API: the live map, kept up to date from
// Prometheus every few seconds, and past maps from queries at a time or over a
// range. It holds nothing but caches (two hubs on one Prometheus say the same),
// and when Prometheus fails it says so instead of drawing an empty map.
//
// A live refresh asks only for what can have changed: an agent's numbers move
// when it reports (a scrape, or a push), so each refresh first asks when every
// agent last reported, then the edges of those that reported since the last
// refresh. Rates come from an agent's successive reports (its latest two for
// "10s", about a minute apart for "1m"), so they need no rate() over every edge.
// The map is served from the last good refresh while the next one runs.
import type { AgentStatus, EdgeDetail, GraphDelta, GraphEdge, GraphNode, GraphSnapshot, NodeDetail, RemoteClient } from '../graph/types.js';
import type { GraphFilter } from '../graph/live-graph.js';
import { HUB_DEFAULTS } from '../config/defaults.js';
import { PromClient, PromError, type PromFailure, type Result, type Sample } from './promql.js';
import { AddressBook, agentStates, buildGraph, edgeLabelsOf, EdgeTable, ratesBetween, reportFrom, reportOf, type AgentState, type EdgeNumbers, type Report } from './build.js';
import * as Q from './queries.js';
import { filterGraph } from './filter.js';
import { recentFailures, edgeSeries } from './detail.js';

export class Unavailable extends Error {
  readonly statusCode = 503;
}

export interface HubStatus {
  prometheus: string;
  state: 'starting' | 'ok' | PromFailure;
  message: string | null;
  /** Unix ms of the last refresh that succeeded, and of the last try. */
  lastSuccess: number | null;
  lastAttempt: number | null;
  /** A refresh is running now (the map served is the last good one, `mapAgeMs` old). */
  refreshing: boolean;
  /** How old the map served is (ms since the refresh that made it). */
  mapAgeMs: number | null;
  /** How long the last refresh took, and how much of it was waiting for Prometheus. */
  refreshMsLast: number;
  queryMs: number;
  /** Agents whose edges the last refresh asked for (those that reported since the one before). */
  hostsAsked: number;
  refreshMs: number;
  warnings: string[];
}

export interface HubTelemetry extends AgentStatus {
  hub: HubStatus;
  agents: AgentState[];
  graph: { nodes: number; edges: number };
}

export interface HubOptions {
  prometheus: string;
  refreshMs?: number;
  timeoutMs?: number;
  staleAfterMs?: number;
  headers?: Record<string, string>;
  /** Where state changes are told (stderr by default). */
  log?: (s: string) => void;
}

export interface HubMap {
  graph: GraphSnapshot;
  agents: AgentState[];
  warnings: string[];
  ms: number;
  queryMs?: number;
  /** Per edge of the map, the agents' edges behind it. */
  views: Map<string, EdgeNumbers[]>;
  /** The agents' address and listener rows the map was built with. */
  book: AddressBook;
}

const warningsOf = (rs: (Result<unknown> | null)[]) => [...new Set(rs.flatMap((r) => r?.warnings ?? []))];

/** The host an answer's sample belongs to (edges carry it in `e`). */
const hostOf = (s: Sample) => s.metric.host ?? edgeLabelsOf(s.metric.e)?.host ?? '';

function byHost(samples: Sample[]): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const s of samples) {
    const h = hostOf(s);
    let l = out.get(h);
    if (!l) { l = []; out.set(h, l); }
    l.push(s);
  }
  return out;
}

/** Agents' states and totals, asked on every refresh and for every past map. */
async function agentsAt(prom: PromClient, at: number, staleAfterMs: number) {
  const [reports, up, totals] = await Promise.all([prom.instant(Q.AGENTS, at), prom.instant(Q.UP, at), prom.instant(Q.TOTALS, at)]);
  return { agents: agentStates(reports.data, up.data, totals.data, at, staleAfterMs), totals: totals.data, results: [reports, up, totals] };
}

/**
 * One map at one time from scratch (`?at=`): every edge, its rates from the counters a minute earlier
 * (both "10s" and "1m", as a map from an agent's history has one rate per bucket).
 */
export async function mapAt(prom: PromClient, at: number | undefined, staleAfterMs: number): Promise<HubMap> {
  const t0 = performance.now();
  const when = at ?? Date.now();
  const [edges, p95, info, before, a] = await Promise.all([
    prom.instant(Q.edges(null), when), prom.instant(Q.rttP95(null), when), prom.instant(Q.info(null), when),
    prom.instant(Q.rated(null), when - HUB_DEFAULTS.rateWindowMs), agentsAt(prom, when, staleAfterMs),
  ]);
  const queryMs = performance.now() - t0;
  const table = new EdgeTable();
  table.addEdges(edges.data);
  table.addRttP95(p95.data);
  const minute = ratesBetween(reportOf(when, table.edges.values()), reportFrom(when - HUB_DEFAULTS.rateWindowMs, before.data));
  for (const e of table.edges.values()) {
    const r = minute.get(e.key) ?? e.rates['1m'];
    e.rates = { '10s': r, '1m': { ...r } };
  }
  const built = buildGraph(table.edges.values(), new AddressBook(info.data), when);
  return { ...built, agents: a.agents, warnings: warningsOf([edges, p95, info, before, ...a.results]), ms: performance.now() - t0, queryMs };
}

/** Everything seen in [from, to]: counters' increases (reset-aware), active at its peak, rates as the range's average. */
export async function mapRange(prom: PromClient, from: number, to: number, staleAfterMs: number): Promise<HubMap> {
  const t0 = performance.now();
  const span = to - from;
  const [reports, last, resets, start, p95, info] = await Promise.all([
    prom.instant(Q.rangeAgents(span), to), prom.instant(Q.rangeLast(span), to), prom.instant(Q.rangeResets(span), to),
    prom.instant(Q.RANGE_START, from), prom.instant(Q.rangeP95(span), to), prom.instant(Q.rangeInfo(span), to),
  ]);
  const fieldOf = new Map<string, string>(Q.RANGE_COUNTERS.map(([f, n]) => [n, f]));
  const key = (m: Record<string, string>) => `${m.__m}\u0002${m.e}\u0002${m.reason ?? ''}\u0002${m.kind ?? ''}`;
  const startOf = new Map<string, number>();
  for (const s of start.data) startOf.set(key({ ...s.metric, __m: fieldOf.get(s.metric.__name__) ?? '' }), s.value);
  const resetOf = new Map(resets.data.map((s) => [key(s.metric), s.value]));
  const table = new EdgeTable();
  table.addTagged(last.data.map((s) => {
    if (s.metric.__m === 'active' || s.metric.__m === 'durP95' || s.metric.__m === 'dnsP95') return s;
    const k = key(s.metric);
    const viaResets = resetOf.get(k);
    return { metric: s.metric, value: viaResets !== undefined ? viaResets : Math.max(0, s.value - (startOf.get(k) ?? 0)) };
  }));
  table.addRttP95(p95.data);
  const secs = Math.max(1, span / 1000);
  for (const e of table.edges.values()) {
    const avg = { connections: e.c.opened / secs, failures: e.c.failed / secs, bytesSent: e.c.sent / secs, bytesReceived: e.c.received / secs };
    e.rates = { '10s': avg, '1m': { ...avg } };
  }
  // Agents that reported in the range; "up" as of its end.
  const agents = agentStates(reports.data, [], [], to, staleAfterMs);
  const built = buildGraph(table.edges.values(), new AddressBook(info.data), to);
  const graph = built.graph;
  // Edges with nothing in the range are not part of it.
  graph.edges = graph.edges.filter((e) => e.connections.opened || e.connections.active || e.connections.failed || e.bytes.sent || e.bytes.received);
  const used = new Set(graph.edges.flatMap((e) => [e.source, e.target]));
  graph.nodes = graph.nodes.filter((n) => used.has(n.id));
  return { graph, views: built.views, book: built.book, agents, warnings: warningsOf([reports, last, resets, start, p95, info]), ms: performance.now() - t0 };
}

const failureText = (e: unknown) => (e instanceof PromError ? e.message : `the hub could not read Prometheus' answer: ${(e as Error).message}`);

/** Hosts in order, grouped so that each group's edges (by `size`) stay within `limit`; a host bigger than that is a group alone. */
export function batchesOf(hosts: readonly string[], size: ReadonlyMap<string, number>, limit: number): string[][] {
  const batches: string[][] = [];
  let load = Infinity;
  for (const h of hosts) {
    const n = size.get(h) ?? 0;
    if (load + n > limit) { batches.push([]); load = 0; }
    batches[batches.length - 1].push(h);
    load += n;
  }
  return batches;
}

/** What the hub keeps of one agent between refreshes. */
interface HostCache {
  /** Sample time (ms) of the report its edges are from. */
  reported: number;
  edges: EdgeNumbers[];
  info: Sample[];
  /** Its recent reports' rated counters, oldest first, for rates. */
  reports: Report[];
  /** RTT p95 per edge, and when it was asked for. */
  p95: Map<string, number>;
  p95At: number;
}

/** The report to take "1m" rates against: the newest at least a minute older than `now`, else the oldest kept. */
function minuteBefore(reports: Report[], now: number): Report | undefined {
  let pick: Report | undefined;
  for (const r of reports) if (r.t <= now - HUB_DEFAULTS.rateWindowMs) pick = r;
  return pick ?? reports[0];
}

/** Reports needed later: the newest one at least a minute old, and all since. */
function trim(reports: Report[], now: number): Report[] {
  let first = 0;
  for (let i = 0; i < reports.length; i++) if (reports[i].t <= now - HUB_DEFAULTS.rateWindowMs) first = i;
  return reports.slice(first);
}

interface Versioned { v: number; sig: string }

/** A short signature of what a client draws of an edge or node: a change of it makes a new version. */
const edgeSig = (e: GraphEdge) => JSON.stringify([e.connections, e.bytes, e.rtt, e.retransmits, e.duration, e.rates, e.dns]);
const nodeSig = (n: GraphNode) => JSON.stringify([n.active, n.hosts, n.group, n.kind]);

export class HubSource {
  readonly prom: PromClient;
  private readonly refreshMs: number;
  private readonly staleAfterMs: number;
  private current: HubMap | null = null;
  private readonly hosts = new Map<string, HostCache>();
  /** Agents fetched by a refresh that has not finished (or failed part way): kept for the next one. */
  private readonly staged = new Map<string, HostCache>();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** Versions: every edge and node carries the version of its last change; removals leave tombstones. */
  private version = 0;
  private readonly edgeV = new Map<string, Versioned>();
  private readonly nodeV = new Map<string, Versioned>();
  private readonly tombstones: { id: string; kind: 'node' | 'edge'; v: number }[] = [];
  /** The live map as JSON per filter, made once per version when first asked for. */
  private json: { v: number; texts: Map<string, string> } | null = null;
  readonly hubStatus: HubStatus;

  private readonly log: (s: string) => void;

  constructor(o: HubOptions) {
    this.log = o.log ?? ((s) => console.error(`dhrishti hub: ${s}`));
    this.prom = new PromClient(o.prometheus, { timeoutMs: o.timeoutMs ?? HUB_DEFAULTS.queryTimeoutMs, headers: o.headers });
    this.refreshMs = o.refreshMs ?? HUB_DEFAULTS.refreshMs;
    this.staleAfterMs = o.staleAfterMs ?? HUB_DEFAULTS.staleAfterMs;
    this.hubStatus = {
      prometheus: o.prometheus, state: 'starting', message: null, lastSuccess: null, lastAttempt: null, refreshing: false, mapAgeMs: null,
      refreshMsLast: 0, queryMs: 0, hostsAsked: 0, refreshMs: this.refreshMs, warnings: [],
    };
  }

  get staleAfter(): number { return this.staleAfterMs; }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** When the refreshes began to fail (the first failed try); null while they succeed. */
  private failingSince: number | null = null;

  /** One live refresh; concurrent callers share it. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      this.hubStatus.lastAttempt = Date.now();
      this.hubStatus.refreshing = true;
      try {
        const m = await this.refreshLive(Date.now());
        this.commit(m);
        if (this.failingSince !== null) this.log(`Prometheus answers again (${this.hubStatus.state} since ${new Date(this.failingSince).toISOString()})`);
        this.failingSince = null;
        Object.assign(this.hubStatus, { state: 'ok', message: null, lastSuccess: Date.now(), queryMs: Math.round(m.queryMs ?? 0), refreshMsLast: Math.round(m.ms), warnings: m.warnings });
      } catch (e) {
        const state = e instanceof PromError ? e.kind : 'error', message = failureText(e);
        if (state !== this.hubStatus.state || message !== this.hubStatus.message) this.log(`refresh failed (${state}): ${message}`);
        this.failingSince ??= this.hubStatus.lastAttempt;
        Object.assign(this.hubStatus, { state, message });
      } finally {
        this.hubStatus.refreshing = false;
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Asks for the edges of agents that reported since the last refresh; nothing here changes until every answer is in. */
  private async refreshLive(now: number): Promise<HubMap & { hosts: Map<string, HostCache> }> {
    const t0 = performance.now();
    const [reported, a] = await Promise.all([this.prom.instant(Q.REPORTED, now), agentsAt(this.prom, now, this.staleAfterMs)]);
    const times = new Map(reported.data.filter((s) => s.metric.host).map((s) => [s.metric.host, Math.round(s.value * 1000)]));
    const known = (h: string) => this.staged.get(h) ?? this.hosts.get(h);
    const changed = [...times].filter(([h, t]) => (known(h)?.reported ?? -1) < t).map(([h]) => h);
    const results: (Result<unknown> | null)[] = [reported, ...a.results];
    // In pieces of about edgesPerQuery edges (an agent's count is in its totals): each answer stays small enough
    // to come within the query timeout, and what came in is kept (staged) should a later piece fail.
    const size = new Map<string, number>();
    for (const s of a.totals) if (s.metric.__name__ === Q.AGENT_TOTALS.edges) size.set(s.metric.host, s.value);
    for (const batch of batchesOf(changed, size, HUB_DEFAULTS.edgesPerQuery)) results.push(...await this.fetchHosts(batch, batch.length === times.size ? null : batch, times, now));
    const queryMs = performance.now() - t0;
    const hosts = new Map<string, HostCache>();
    // An agent silent past Prometheus' lookback is gone, as its series are.
    for (const h of times.keys()) { const c = known(h); if (c) hosts.set(h, c); }
    this.staged.clear();
    const all: EdgeNumbers[] = [];
    const info: Sample[] = [];
    for (const c of hosts.values()) { for (const e of c.edges) all.push(e); for (const s of c.info) info.push(s); }
    const built = buildGraph(all, new AddressBook(info), now);
    this.hubStatus.hostsAsked = changed.length;
    return { ...built, hosts, agents: a.agents, warnings: warningsOf(results), ms: performance.now() - t0, queryMs };
  }

  /** These agents' edges, RTT p95 and addresses at `now`, staged with their rates; agents new to this hub get their counters a minute earlier too. */
  private async fetchHosts(batch: string[], sel: string[] | null, times: Map<string, number>, now: number): Promise<Result<unknown>[]> {
    const fresh = batch.filter((h) => !this.staged.has(h) && !this.hosts.has(h));
    const fsel = sel === null && fresh.length === batch.length ? null : fresh;
    const seedAt = now - HUB_DEFAULTS.rateWindowMs;
    // RTT p95 (histogram_quantile over every bucket series) moves slowly: asked again for an agent once a minute.
    const p95Due = batch.filter((h) => now - ((this.staged.get(h) ?? this.hosts.get(h))?.p95At ?? 0) >= HUB_DEFAULTS.p95EveryMs);
    const psel = p95Due.length === batch.length ? sel : p95Due;
    const [edges, p95, info, seed, seedTimes] = await Promise.all([
      this.prom.instant(Q.edges(sel), now), p95Due.length ? this.prom.instant(Q.rttP95(psel), now) : null, this.prom.instant(Q.info(sel), now),
      fresh.length ? this.prom.instant(Q.rated(fsel), seedAt) : null, fresh.length ? this.prom.instant(Q.REPORTED, seedAt) : null,
    ]);
    const edgesOf = byHost(edges.data), p95Of = byHost(p95?.data ?? []), infoOf = byHost(info.data), seedOf = byHost(seed?.data ?? []);
    const seedTime = new Map((seedTimes?.data ?? []).map((s) => [s.metric.host, Math.round(s.value * 1000)]));
    for (const h of batch) {
      const t = times.get(h)!;
      const before = this.staged.get(h) ?? this.hosts.get(h);
      const table = new EdgeTable();
      table.addEdges(edgesOf.get(h) ?? []);
      const due = p95Due.includes(h);
      // An edge new since the last p95 answer has none yet: the agent's p95s are asked on its next report.
      let unknown = false;
      if (due) table.addRttP95(p95Of.get(h) ?? []);
      else for (const e of table.edges.values()) { const v = before!.p95.get(e.key); if (v === undefined) unknown = true; else e.rttP95 = v; }
      const report = reportOf(t, table.edges.values());
      const st = seedTime.get(h);
      const earlier = before?.reports ?? (st !== undefined && st < t ? [reportFrom(st, seedOf.get(h) ?? [])] : []);
      const recent = ratesBetween(report, earlier[earlier.length - 1]);
      const minute = ratesBetween(report, minuteBefore(earlier, t));
      for (const e of table.edges.values()) {
        e.rates = { '10s': recent.get(e.key) ?? e.rates['10s'], '1m': minute.get(e.key) ?? e.rates['1m'] };
      }
      const edges = [...table.edges.values()];
      this.staged.set(h, {
        reported: t, edges, info: infoOf.get(h) ?? [], reports: trim([...earlier, report], t),
        p95: due ? new Map(edges.map((e) => [e.key, e.rttP95])) : before!.p95, p95At: due ? now : unknown ? 0 : before!.p95At,
      });
    }
    return [edges, info, ...(p95 ? [p95] : []), ...(seed ? [seed] : []), ...(seedTimes ? [seedTimes] : [])];
  }

  /** Makes a refresh's map the live one: versions for what changed, tombstones for what went. */
  private commit(m: HubMap & { hosts: Map<string, HostCache> }): void {
    this.hosts.clear();
    for (const [h, c] of m.hosts) this.hosts.set(h, c);
    const v = ++this.version;
    const mark = (seen: Map<string, Versioned>, id: string, sig: string) => {
      const old = seen.get(id);
      if (!old || old.sig !== sig) seen.set(id, { v, sig });
    };
    const edges = new Set<string>(), nodes = new Set<string>();
    for (const e of m.graph.edges) { mark(this.edgeV, e.id, edgeSig(e)); edges.add(e.id); }
    for (const n of m.graph.nodes) { mark(this.nodeV, n.id, nodeSig(n)); nodes.add(n.id); }
    for (const [id] of this.edgeV) if (!edges.has(id)) { this.edgeV.delete(id); this.tombstones.push({ id, kind: 'edge', v }); }
    for (const [id] of this.nodeV) if (!nodes.has(id)) { this.nodeV.delete(id); this.tombstones.push({ id, kind: 'node', v }); }
    if (this.tombstones.length > 20_000) this.tombstones.splice(0, this.tombstones.length - 10_000);
    this.current = { graph: m.graph, views: m.views, book: m.book, agents: m.agents, warnings: m.warnings, ms: m.ms, queryMs: m.queryMs };
    this.json = null;
  }

  /**
   * The live map; while refreshes fail, the last good one for a short grace (its age in the telemetry and
   * its generatedAt), then 503: never an empty map, nor an old one for long, that only looks true.
   */
  private live(): HubMap {
    if (!this.servable()) throw new Unavailable(this.unservableWhy());
    return this.current!;
  }

  private unservableWhy(): string {
    return this.hubStatus.state === 'starting' ? 'the hub has not heard from Prometheus yet' : `${this.hubStatus.message ?? 'Prometheus failed'}${this.hubStatus.lastSuccess ? `; last good map at ${new Date(this.hubStatus.lastSuccess).toISOString()}` : ''}`;
  }

  /** For /api/v1/health: not ok exactly when the map answers 503. */
  health(): { ok: boolean; message: string | null } {
    return this.servable() ? { ok: true, message: null } : { ok: false, message: this.unservableWhy() };
  }

  private servable(): boolean {
    if (!this.current) return false;
    if (this.hubStatus.state === 'ok') return true;
    const grace = Math.max(HUB_DEFAULTS.staleMapGraceMs, 2 * this.refreshMs);
    return this.hubStatus.lastSuccess !== null && Date.now() - this.hubStatus.lastSuccess <= grace;
  }

  /** The live map's views of an edge (undefined when the live map has no such edge). */
  liveViews(edgeId: string): EdgeNumbers[] | undefined {
    return this.current?.views.get(edgeId);
  }

  /** Every edge of the live map touching a node, with its views. */
  liveNodeViews(nodeId: string): { edges: { e: GraphEdge; views: EdgeNumbers[] }[]; views: EdgeNumbers[] } | undefined {
    const m = this.current;
    if (!m || !m.graph.nodes.some((n) => n.id === nodeId)) return undefined;
    const edges = m.graph.edges.filter((e) => e.source === nodeId || e.target === nodeId).map((e) => ({ e, views: m.views.get(e.id) ?? [] }));
    return { edges, views: edges.flatMap((x) => x.views) };
  }

  // ---- what the API reads (the same shapes as the agent's live graph) ----

  readonly graph = ((self: HubSource) => ({
    snapshot: (f: GraphFilter = {}): GraphSnapshot => filterGraph(self.live().graph, f),
    /** The map as JSON, made once per refresh and filter (the API sends it as it is: a map of thousands of edges is megabytes of JSON). */
    snapshotJson: (f: GraphFilter = {}): string | null => {
      const g = self.live().graph;
      if (self.json?.v !== self.version) self.json = { v: self.version, texts: new Map() };
      const key = JSON.stringify([f.include ? [...f.include].sort() : null, f.group ?? null, f.windowMs ?? null]);
      let text = self.json.texts.get(key);
      if (text === undefined) {
        if (self.json.texts.size >= 16) self.json.texts.clear();
        text = JSON.stringify(filterGraph(g, f));
        self.json.texts.set(key, text);
      }
      return text;
    },
    get currentVersion(): number { return self.version; },
    changesSince: (since: number, f: GraphFilter = {}): { delta: GraphDelta; version: number } => self.changesSince(since, f),
    nodeDetail: async (id: string): Promise<NodeDetail | null> => {
      const g = self.live().graph;
      const n = g.nodes.find((x) => x.id === id);
      if (!n) return null;
      const views = self.liveNodeViews(id)?.views ?? [];
      const listening = self.current?.book.listeningOf(id) ?? [];
      return {
        ...n, incoming: g.edges.filter((e) => e.target === id).map((e) => e.id), outgoing: g.edges.filter((e) => e.source === id).map((e) => e.id),
        recentFailures: await recentFailures(self.prom, views, self.current!.views, Date.now()),
        ...(listening.length ? { listening } : {}),
      };
    },
    edgeDetail: async (id: string): Promise<EdgeDetail | null> => {
      const m = self.live();
      const e = m.graph.edges.find((x) => x.id === id);
      if (!e) return null;
      const views = m.views.get(id) ?? [];
      const now = Date.now();
      const [series, failures] = await Promise.all([edgeSeries(self.prom, views, now), recentFailures(self.prom, views, m.views, now)]);
      return { ...e, recentFailures: failures, series };
    },
    remoteClients: (): RemoteClient[] => remoteClients(self.live().graph),
  }))(this);

  private changesSince(since: number, f: GraphFilter): { delta: GraphDelta; version: number } {
    const now = Date.now();
    const empty: GraphDelta = { generatedAt: now, nodes: [], edges: [], removedNodes: [], removedEdges: [] };
    if (!this.current || !this.servable() || since >= this.version) return { delta: empty, version: Math.max(since, this.version) };
    const g = filterGraph(this.current.graph, f);
    const newer = (m: Map<string, Versioned>, id: string) => (m.get(id)?.v ?? Infinity) > since;
    const removed = this.tombstones.filter((t) => t.v > since);
    return {
      delta: {
        generatedAt: g.generatedAt,
        nodes: g.nodes.filter((n) => newer(this.nodeV, n.id)),
        edges: g.edges.filter((e) => newer(this.edgeV, e.id)),
        removedNodes: removed.filter((t) => t.kind === 'node').map((t) => t.id),
        removedEdges: removed.filter((t) => t.kind === 'edge').map((t) => t.id),
      },
      version: this.version,
    };
  }

  status(): AgentStatus {
    const lost = this.current?.agents.reduce((s, a) => s + a.lostEvents, 0) ?? 0;
    return { eventsPerSec: 0, lostEvents: lost, identityMisses: 0, uptimeSec: Math.round((Date.now() - this.startedAt) / 1000) };
  }

  telemetry(): HubTelemetry {
    const g = this.current?.graph;
    const hub = { ...this.hubStatus, mapAgeMs: g ? Math.max(0, Date.now() - g.generatedAt) : null };
    return { ...this.status(), hub, agents: this.current?.agents ?? [], graph: { nodes: g?.nodes.length ?? 0, edges: g?.edges.length ?? 0 } };
  }
}

/** Remote clients: addresses no agent claims, that connect to services of the fleet, from the map's client nodes. */
export function remoteClients(g: GraphSnapshot): RemoteClient[] {
  const byIp = new Map<string, RemoteClient>();
  const nodes = new Map(g.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) {
    const n = nodes.get(e.source);
    if (n?.kind !== 'client') continue;
    const ip = n.ips[0] ?? n.label;
    let c = byIp.get(ip);
    // The hub sees counters, not connection times: first and last seen are the map's time.
    if (!c) { c = { ip, connections: 0, active: 0, failed: 0, bytesSent: 0, bytesReceived: 0, firstSeen: g.generatedAt, lastSeen: g.generatedAt, targets: [] }; byIp.set(ip, c); }
    c.connections += e.connections.opened; c.active += e.connections.active; c.failed += e.connections.failed;
    c.bytesSent += e.bytes.sent; c.bytesReceived += e.bytes.received;
    c.targets.push({ node: e.target, port: e.port, connections: e.connections.opened });
  }
  return [...byIp.values()].sort((a, b) => b.connections - a.connections);
}

