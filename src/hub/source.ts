// The hub's data source for the API: the live map rebuilt from instant queries
// every few seconds, past maps from queries at a time or over a range. It holds
// nothing but the last answer (two hubs on one Prometheus say the same), and
// when Prometheus fails it says so instead of drawing an empty map.
import type { AgentStatus, EdgeDetail, GraphDelta, GraphSnapshot, NodeDetail, RemoteClient } from '../graph/types.js';
import type { GraphFilter } from '../graph/live-graph.js';
import { HUB_DEFAULTS } from '../config/defaults.js';
import { PromClient, PromError, type PromFailure, type Sample } from './promql.js';
import { AddressBook, agentStates, buildGraph, EdgeTable, type AgentState } from './build.js';
import * as Q from './queries.js';
import { filterGraph } from './filter.js';

/** The slower-moving figures are asked for on every this many live refreshes. */
const SLOW_EVERY = 6;

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
  /** How long the last refresh's queries took. */
  queryMs: number;
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
}

export interface HubMap { graph: GraphSnapshot; agents: AgentState[]; warnings: string[]; ms: number; queryMs?: number }

/** The slower-moving part of a map (closed, retransmits, RTT/duration sums, RTT p95), reusable across live refreshes. */
export interface SlowPart { counters: Sample[]; p95: Sample[] }

/**
 * The queries behind one map at one time (now when absent). Pass `slow` to reuse an earlier
 * answer for the dearer, slower-moving figures (RTT p95 needs histogram_quantile over every bucket).
 */
export async function mapAt(prom: PromClient, at: number | undefined, staleAfterMs: number, slow?: SlowPart): Promise<HubMap & { slow: SlowPart }> {
  const t0 = performance.now();
  const when = at ?? Date.now();
  const cachedSlow = slow ? { counters: { data: slow.counters, warnings: [], ms: 0 }, p95: { data: slow.p95, warnings: [], ms: 0 } } : null;
  const [reports, up, current, before, slowCounters, quantiles, info] = await Promise.all([
    prom.instant(Q.AGENTS, when), prom.instant(Q.UP, when), prom.instant(Q.CURRENT, when), prom.instant(Q.RATED, when - Q.RATE_WINDOW_MS),
    cachedSlow?.counters ?? prom.instant(Q.SLOW, when), cachedSlow?.p95 ?? prom.instant(Q.P95, when), prom.instant(Q.INFO, when),
  ]);
  const queryMs = performance.now() - t0;
  const table = new EdgeTable();
  table.addCounters(current.data);
  table.addCounters(slowCounters.data);
  table.addRatesBetween(current.data, before.data, Q.RATE_WINDOW_MS / 1000);
  table.addP95(quantiles.data);
  return {
    graph: buildGraph(table, new AddressBook(info.data), when),
    agents: agentStates(reports.data, up.data, current.data, when, staleAfterMs),
    warnings: [...new Set([reports, up, current, before, slowCounters, quantiles, info].flatMap((r) => r.warnings))],
    ms: performance.now() - t0,
    queryMs,
    slow: { counters: slowCounters.data, p95: quantiles.data },
  };
}

/** Everything seen in [from, to]: counters' increases (reset-aware), active at its peak, rates as the range's average. */
export async function mapRange(prom: PromClient, from: number, to: number, staleAfterMs: number): Promise<HubMap> {
  const t0 = performance.now();
  const span = to - from;
  const [reports, last, resets, start, p95, info] = await Promise.all([
    prom.instant(Q.rangeAgents(span), to), prom.instant(Q.rangeLast(span), to), prom.instant(Q.rangeResets(span), to),
    prom.instant(Q.RANGE_START, from), prom.instant(Q.rangeP95(span), to), prom.instant(Q.rangeInfo(span), to),
  ]);
  const field = (m: Record<string, string>) => (m.__m as Q.CounterField | 'active' | undefined) ?? null;
  const key = (m: Record<string, string>) => `${m.__m ?? ''}\u0002${Object.entries(m).filter(([k]) => k !== '__m' && k !== '__name__').sort().map((x) => x.join('=')).join(',')}`;
  const startOf = new Map<string, number>();
  const fieldOf = new Map<string, string>(Object.entries(Q.COUNTERS).map(([f, n]) => [n, f]));
  for (const s of start.data) startOf.set(key({ ...s.metric, __m: fieldOf.get(s.metric.__name__) ?? '' }), s.value);
  const resetOf = new Map(resets.data.map((s) => [key(s.metric), s.value]));
  const table = new EdgeTable();
  const increases: Sample[] = last.data.map((s) => {
    if (s.metric.__m === 'active') return s;
    const k = key(s.metric);
    const viaResets = resetOf.get(k);
    return { metric: s.metric, value: viaResets !== undefined ? viaResets : Math.max(0, s.value - (startOf.get(k) ?? 0)) };
  });
  table.addCounters(increases, field);
  table.addP95(p95.data);
  const secs = Math.max(1, span / 1000);
  for (const e of table.edges.values()) {
    const avg = { connections: e.c.opened / secs, failures: e.c.failed / secs, bytesSent: e.c.sent / secs, bytesReceived: e.c.received / secs };
    e.rates = { '10s': avg, '1m': { ...avg } };
  }
  // Agents that reported in the range; "up" as of its end.
  const agents = agentStates(reports.data, [], [], to, staleAfterMs);
  const graph = buildGraph(table, new AddressBook(info.data), to);
  // Edges with nothing in the range are not part of it.
  graph.edges = graph.edges.filter((e) => e.connections.opened || e.connections.active || e.connections.failed || e.bytes.sent || e.bytes.received);
  const used = new Set(graph.edges.flatMap((e) => [e.source, e.target]));
  graph.nodes = graph.nodes.filter((n) => used.has(n.id));
  return { graph, agents, warnings: [...new Set([reports, last, resets, start, p95, info].flatMap((r) => r.warnings))], ms: performance.now() - t0 };
}

const failureText = (e: unknown) => (e instanceof PromError ? e.message : `the hub could not read Prometheus' answer: ${(e as Error).message}`);

export class HubSource {
  readonly prom: PromClient;
  private readonly refreshMs: number;
  private readonly staleAfterMs: number;
  private current: (HubMap & { slow: SlowPart }) | null = null;
  private refreshes = 0;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private version = 0;
  private readonly versions: { v: number; nodes: Set<string>; edges: Set<string> }[] = [];
  readonly hubStatus: HubStatus;

  constructor(o: HubOptions) {
    this.prom = new PromClient(o.prometheus, { timeoutMs: o.timeoutMs ?? HUB_DEFAULTS.queryTimeoutMs, headers: o.headers });
    this.refreshMs = o.refreshMs ?? HUB_DEFAULTS.refreshMs;
    this.staleAfterMs = o.staleAfterMs ?? HUB_DEFAULTS.staleAfterMs;
    this.hubStatus = { prometheus: o.prometheus, state: 'starting', message: null, lastSuccess: null, lastAttempt: null, queryMs: 0, refreshMs: this.refreshMs, warnings: [] };
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One live refresh; concurrent callers share it. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      this.hubStatus.lastAttempt = Date.now();
      try {
        const reuse = this.current && this.refreshes % SLOW_EVERY !== 0 ? this.current.slow : undefined;
        const m = await mapAt(this.prom, undefined, this.staleAfterMs, reuse);
        this.refreshes++;
        this.current = m;
        this.remember(m.graph);
        Object.assign(this.hubStatus, { state: 'ok', message: null, lastSuccess: Date.now(), queryMs: Math.round(m.ms), warnings: m.warnings });
      } catch (e) {
        Object.assign(this.hubStatus, { state: e instanceof PromError ? e.kind : 'error', message: failureText(e) });
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private remember(g: GraphSnapshot): void {
    this.version++;
    this.versions.push({ v: this.version, nodes: new Set(g.nodes.map((n) => n.id)), edges: new Set(g.edges.map((e) => e.id)) });
    if (this.versions.length > 20) this.versions.shift();
  }

  /** The live map, or 503 when the last refresh failed (never an empty map that only looks true). */
  private live(): HubMap {
    if (this.hubStatus.state !== 'ok' || !this.current) {
      throw new Unavailable(this.hubStatus.state === 'starting' ? 'the hub has not heard from Prometheus yet' : `${this.hubStatus.message ?? 'Prometheus failed'}${this.hubStatus.lastSuccess ? `; last good map at ${new Date(this.hubStatus.lastSuccess).toISOString()}` : ''}`);
    }
    return this.current;
  }

  // ---- what the API reads (the same shapes as the agent's live graph) ----

  readonly graph = ((self: HubSource) => ({
    snapshot: (f: GraphFilter = {}): GraphSnapshot => filterGraph(self.live().graph, f),
    get currentVersion(): number { return self.version; },
    changesSince: (since: number, f: GraphFilter = {}): { delta: GraphDelta; version: number } => self.changesSince(since, f),
    nodeDetail: (id: string): NodeDetail | null => {
      const g = self.live().graph;
      const n = g.nodes.find((x) => x.id === id);
      if (!n) return null;
      return { ...n, incoming: g.edges.filter((e) => e.target === id).map((e) => e.id), outgoing: g.edges.filter((e) => e.source === id).map((e) => e.id), recentFailures: [] };
    },
    edgeDetail: (id: string): EdgeDetail | null => {
      const e = self.live().graph.edges.find((x) => x.id === id);
      return e ? { ...e, recentFailures: [], series: [] } : null;
    },
    remoteClients: (): RemoteClient[] => [],
  }))(this);

  private changesSince(since: number, f: GraphFilter): { delta: GraphDelta; version: number } {
    const now = Date.now();
    const empty: GraphDelta = { generatedAt: now, nodes: [], edges: [], removedNodes: [], removedEdges: [] };
    if (this.hubStatus.state !== 'ok' || !this.current || since >= this.version) return { delta: empty, version: Math.max(since, this.version) };
    const g = filterGraph(this.current.graph, f);
    const before = this.versions.find((x) => x.v === since);
    const nodes = new Set(g.nodes.map((n) => n.id)), edges = new Set(g.edges.map((e) => e.id));
    return {
      delta: {
        generatedAt: g.generatedAt, nodes: g.nodes, edges: g.edges,
        removedNodes: before ? [...before.nodes].filter((id) => !nodes.has(id)) : [],
        removedEdges: before ? [...before.edges].filter((id) => !edges.has(id)) : [],
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
    return { ...this.status(), hub: { ...this.hubStatus }, agents: this.current?.agents ?? [], graph: { nodes: g?.nodes.length ?? 0, edges: g?.edges.length ?? 0 } };
  }
}
