// Reading the map: a full snapshot, what changed since a version, one edge or
// node in detail, the remote clients. Readers get copies, never the state.
import type { EdgeDetail, FailureSample, GraphDelta, GraphEdge, GraphNode, GraphSnapshot, NodeDetail, RemoteClient } from './types.js';
import { edgeVisible, nodeVisible, type GraphFilter } from './filter.js';
import type { EdgeState, GraphState } from './state.js';
import { edgeRequests, mergedRequests, requestHistograms, requestSeries } from './request-views.js';
import { GRAPH_DEFAULTS } from '../config/defaults.js';

/** Edges whose rates still move (traffic within the last minute) are in every delta. */
const RATES_MOVE_MS = 61_000;
const FAILURE_SAMPLES = GRAPH_DEFAULTS.failureSamples;

/** An edge's derived numbers brought up to date, copied out. */
function edgeOut(s: EdgeState, now: number, histograms = false): GraphEdge {
  const e = s.e;
  e.rates = { '10s': s.window.rates(now, 10), '1m': s.window.rates(now, 60) };
  e.rtt = { meanUs: Math.round(s.rtt.mean()), p95Us: s.rtt.p95(), samples: s.rtt.count };
  e.duration = { meanMs: Math.round(s.duration.mean() * 10) / 10, p95Ms: Math.round(s.duration.p95() * 10) / 10, samples: s.duration.count };
  const c = e.connections;
  const out: GraphEdge = {
    id: e.id, source: e.source, target: e.target, port: e.port, protocol: e.protocol,
    connections: { opened: c.opened, active: c.active, closed: c.closed, failed: c.failed, failedBy: { ...c.failedBy } },
    bytes: { ...e.bytes }, rtt: e.rtt, retransmits: e.retransmits, duration: e.duration,
    firstSeen: e.firstSeen, lastSeen: e.lastSeen, rates: e.rates,
  };
  if (e.clientInstances) out.clientInstances = [...e.clientInstances];
  const requests = edgeRequests(s.requests, now);
  if (requests) out.requests = requests;
  if (histograms) {
    out.histograms = { rttUs: s.rtt.histogram()!, durationMs: s.duration.histogram()! };
    if (requests) {
      out.histograms.requests = requests.map((r) => {
        const t = s.requests!.protocols.get(r.protocol)!.totals;
        return { protocol: r.protocol, buckets: Array.from(t.buckets), latencySumNs: t.latencySumNs };
      });
    }
  }
  if (e.dns) out.dns = { ...structuredClone(e.dns), queriesPerSec: e.rates['10s'].connections };
  return out;
}

const nodeOut = (n: GraphNode): GraphNode => structuredClone(n);

/** The edges and nodes a filter shows; nodes without a shown edge too, if they pass on their own. */
function visible(state: GraphState, f: GraphFilter, now: number): { nodes: Set<string>; edges: EdgeState[] } {
  const edges: EdgeState[] = [];
  const nodes = new Set<string>();
  for (const s of state.edges.values()) {
    if (f.protocol && s.e.protocol !== f.protocol) continue;
    if (f.windowMs && now - s.e.lastSeen > f.windowMs && s.e.connections.active === 0) continue;
    const a = state.nodes.get(s.e.source)?.n, b = state.nodes.get(s.e.target)?.n;
    if (!a || !b || !edgeVisible(a, b, f)) continue;
    edges.push(s);
    nodes.add(a.id);
    nodes.add(b.id);
  }
  for (const s of state.nodes.values()) {
    if (f.protocol || nodes.has(s.n.id) || !nodeVisible(s.n, f)) continue;
    if (f.windowMs && now - s.n.lastSeen > f.windowMs) continue;
    nodes.add(s.n.id);
  }
  return { nodes, edges };
}

export function snapshot(state: GraphState, f: GraphFilter, now: number): GraphSnapshot {
  const v = visible(state, f, now);
  return {
    generatedAt: now,
    nodes: [...v.nodes].map((id) => nodeOut(state.nodes.get(id)!.n)),
    edges: v.edges.map((s) => edgeOut(s, now, f.histograms)),
  };
}

/** What changed after `since` (a version from a previous call); edges with recent traffic always, as their rates move. */
export function changesSince(state: GraphState, since: number, f: GraphFilter, now: number): { delta: GraphDelta; version: number } {
  const v = visible(state, f, now);
  const delta: GraphDelta = { generatedAt: now, nodes: [], edges: [], removedNodes: [], removedEdges: [] };
  for (const id of v.nodes) { const s = state.nodes.get(id)!; if (s.v > since) delta.nodes.push(nodeOut(s.n)); }
  for (const s of v.edges) if (s.v > since || now - s.e.lastSeen < RATES_MOVE_MS) delta.edges.push(edgeOut(s, now, f.histograms));
  for (const t of state.tombstones) {
    if (t.v <= since) continue;
    (t.kind === 'node' ? delta.removedNodes : delta.removedEdges).push(t.id);
  }
  return { delta, version: state.version };
}

export function edgeDetail(state: GraphState, id: string, now: number): EdgeDetail | null {
  const s = state.edges.get(id);
  if (!s) return null;
  const series: EdgeDetail['series'] = s.window.series(now);
  const req = requestSeries(s.requests, now);
  if (req) series.forEach((p, i) => { p.requests = req[i].requests; p.requestErrors = req[i].errors; });
  return {
    ...edgeOut(s, now), recentFailures: [...s.failures].reverse(), series,
    requestLatency: requestHistograms(s.requests, now), recentRequests: s.requests ? [...s.requests.samples].reverse() : [],
  };
}

export function nodeDetail(state: GraphState, id: string, now = Date.now()): NodeDetail | null {
  const s = state.nodes.get(id);
  if (!s) return null;
  const incoming: string[] = [], outgoing: string[] = [], fails: FailureSample[] = [];
  const inbound: EdgeState[] = [];
  for (const e of state.edges.values()) {
    if (e.e.target === id) { incoming.push(e.e.id); fails.push(...e.failures); inbound.push(e); }
    if (e.e.source === id) { outgoing.push(e.e.id); fails.push(...e.failures); }
  }
  const out: NodeDetail = { ...nodeOut(s.n), incoming, outgoing, recentFailures: fails.sort((a, b) => b.time - a.time).slice(0, FAILURE_SAMPLES) };
  const red = mergedRequests(inbound.map((e) => e.requests), now);
  if (red) out.inboundRequests = red;
  out.recentRequests = inbound.flatMap((e) => e.requests?.samples ?? []).sort((a, b) => b.time - a.time).slice(0, FAILURE_SAMPLES);
  return out;
}

export function remoteClients(state: GraphState): RemoteClient[] {
  return [...state.clients.values()].map((c) => structuredClone(c)).sort((a, b) => b.connections - a.connections);
}

