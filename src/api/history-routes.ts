// History API: /api/v1/graph?at= and ?from=&to= (through the graph route's hook),
// /api/v1/timeseries, /api/v1/timeline, /api/v1/events and /api/v1/history (what is stored, and its health).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { BadRequest, GRAPH_HISTORY_PARAMS, GRAPH_PARAMS, onlyKnown, parseDuration, parseGraphFilter, parseGroup } from './params.js';
import { GRAPH_HISTORY, type GraphHistory, type RoutePlugin } from './server.js';
import { parseTime } from './time.js';
import { METRICS, isRequestMetric, type HistoryEvent, type HistoryGraph, type HistoryQueries, type HistorySpan, type Metric } from '../store/queries.js';
import { storedRequests, type RequestSum } from '../store/requests.js';
import { HistoryUnavailable, type HistoryStore } from '../store/history-store.js';
import type { EventType } from '../store/sampler.js';
import { formatDuration } from '../store/retention.js';
import { GRAPH_DEFAULTS, HISTORY_DEFAULTS, L7_DEFAULTS } from '../config/defaults.js';
import type { EdgeDetail, FailureSample, NodeDetail, RequestHistogram, RequestProtocol, RequestSample, Timeline } from '../graph/types.js';

/** An id the store never saw: answered 404 (here, and by the app's error handler for the detail routes). */
export class NotFound extends Error { readonly statusCode = 404; }

const GRAPH_KNOWN = [...GRAPH_PARAMS, ...GRAPH_HISTORY_PARAMS];
/** /api/v1/edges/:id and /api/v1/nodes/:id of the past. */
export const DETAIL_KNOWN = [...GRAPH_HISTORY_PARAMS, 'window', 'token'];
/** Samples a past detail lists, newest first: as many as the live one keeps of each. */
const FAILURE_SAMPLES = GRAPH_DEFAULTS.failureSamples, REQUEST_SAMPLES = L7_DEFAULTS.edgeSamples;
export const SERIES_KNOWN = ['edge', 'node', 'metric', 'from', 'to', 'step', 'token'];
export const TIMELINE_KNOWN = ['from', 'to', 'step', 'group', 'token'];
export const EVENTS_KNOWN = ['from', 'to', 'limit', 'type', 'node', 'edge', 'group', 'token'];
export const EVENT_TYPES: EventType[] = ['agent_started', 'agent_stopped', 'edge_appeared', 'edge_vanished', 'node_appeared', 'node_vanished',
  'container_started', 'container_stopped', 'container_renamed', 'failure', 'dns_failure', 'request_sample', 'suppressed',
  'policy_loaded', 'policy_rejected', 'policy_violation'];

type Query = Record<string, unknown>;

export function single(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be given once`);
  return v;
}

export function id(q: Query, name: string): string | undefined {
  const v = single(q, name);
  if (v !== undefined) pathId(v, name);
  return v;
}

/** An edge's or node's id as the graph gives it: not empty, at most 1024 characters. */
function pathId(v: string, name: string): void {
  if (!v || v.length > 1024) throw new BadRequest(`${name} must be the id of a ${name} as the graph gives it`);
}

/** from/to with defaults; from must come before to. */
export function range(q: Query, now: number, defaultFrom?: string): { from: number; to: number } {
  const f = single(q, 'from') ?? defaultFrom;
  if (f === undefined) throw new BadRequest('from is required (ISO-8601, unix ms, now, or relative like -1h)');
  const from = parseTime(f, 'from', now);
  const to = parseTime(single(q, 'to') ?? 'now', 'to', now);
  if (from >= to) throw new BadRequest(`from must be before to (got from=${new Date(from).toISOString()}, to=${new Date(to).toISOString()})`);
  return { from, to };
}

/** /api/v1/graph with at, or with from and to. */
export function historyGraph(store: HistoryStore, q: Query): HistoryGraph {
  onlyKnown(q, GRAPH_KNOWN);
  const now = store.now();
  const filter = parseGraphFilter(q);
  const at = single(q, 'at');
  if (at !== undefined) {
    if (q.from !== undefined || q.to !== undefined) throw new BadRequest('give either at, or from and to, not both');
    const t = parseTime(at, 'at', now);
    return store.read((q) => q.graphAt(t, filter.windowMs ?? HISTORY_DEFAULTS.atWindowMs, filter));
  }
  if (filter.windowMs !== undefined) throw new BadRequest('window applies to the live map and to at=, not to from/to');
  const r = range(q, now);
  return store.read((q) => q.graphRange(r.from, r.to, filter));
}

/** at (with window: how long before it an edge still shows), or from and to. */
function spanParams(q: Query, now: number): { span: HistorySpan; windowMs: number } {
  const at = single(q, 'at');
  const w = single(q, 'window');
  if (at !== undefined) {
    if (q.from !== undefined || q.to !== undefined) throw new BadRequest('give either at, or from and to, not both');
    return { span: { at: parseTime(at, 'at', now) }, windowMs: w === undefined ? HISTORY_DEFAULTS.atWindowMs : parseDuration(w, 'window') };
  }
  if (w !== undefined) throw new BadRequest('window applies to at=, not to from/to');
  return { span: range(q, now), windowMs: 0 };
}

const failureOf = (e: HistoryEvent): FailureSample => ({ ...(e.detail as Omit<FailureSample, 'time'>), time: e.time });
const requestOf = (e: HistoryEvent): RequestSample => ({ ...(e.detail as Omit<RequestSample, 'time'>), time: e.time });

function histograms(m: Map<RequestProtocol, RequestSum>): RequestHistogram[] {
  return [...m].filter(([, s]) => s.count() > 0).map(([protocol, s]) => ({
    protocol, total: [...s.buckets], lastMinute: [...s.buckets], totalSumUs: s.latencyUs, lastMinuteSumUs: s.latencyUs,
    totalMaxUs: s.latencyMaxUs, lastMinuteMaxUs: s.latencyMaxUs,
  }));
}

/** A node's or edge's detail of the past: the parameters checked, the past map read, 404 when `build` does not find it there. */
function pastDetail<T>(store: HistoryStore, kind: 'edge' | 'node', id: string, q: Query,
  build: (h: HistoryQueries, g: HistoryGraph, span: HistorySpan, samplesIn: { from: number; to: number }) => T | null): T {
  onlyKnown(q, DETAIL_KNOWN);
  pathId(id, kind);
  return store.read((h) => {
    const { span, windowMs } = spanParams(q, store.now());
    const g = h.graphOf(span, windowMs);
    const out = build(h, g, span, h.extentOf(span));
    if (out === null) throw new NotFound(`no ${kind} ${id} in the history ${'at' in span ? 'at that moment' : 'in that range'}`);
    return out;
  });
}

/**
 * /api/v1/edges/:id?at= (or from&to): the edge as the past map shows it, with its requests' summed latency histograms
 * and the failed connections and failed or slow requests sampled then, newest first. No per-second series: the
 * history's own (/api/v1/timeseries) are the past's.
 */
export function historyEdgeDetail(store: HistoryStore, id: string, q: Query): EdgeDetail {
  return pastDetail(store, 'edge', id, q, (h, g, span, r) => {
    const e = g.edges.find((x) => x.id === id);
    if (!e) return null;
    const samples = (type: string, limit: number) => h.events({ ...r, limit, types: [type], edge: id, newest: true })?.events ?? [];
    return {
      ...e, series: [], recentFailures: samples('failure', FAILURE_SAMPLES).map(failureOf),
      requestLatency: histograms(h.requestSums(span, [id])), recentRequests: samples('request_sample', REQUEST_SAMPLES).map(requestOf),
    };
  });
}

/** /api/v1/nodes/:id?at= (or from&to): the node as the past map shows it, with its inbound requests (histograms summed exactly) and the samples of then. */
export function historyNodeDetail(store: HistoryStore, id: string, q: Query): NodeDetail {
  return pastDetail(store, 'node', id, q, (h, g, span, r) => {
    const n = g.nodes.find((x) => x.id === id);
    if (!n) return null;
    const incoming = g.edges.filter((e) => e.target === id).map((e) => e.id);
    const outgoing = g.edges.filter((e) => e.source === id).map((e) => e.id);
    // Failed connections of its edges both ways; requests of its incoming edges only, as the live panel's.
    const failures = h.events({ ...r, limit: FAILURE_SAMPLES, types: ['failure'], node: id, newest: true })?.events ?? [];
    const requests = incoming.length ? h.events({ ...r, limit: REQUEST_SAMPLES, types: ['request_sample'], edges: incoming, newest: true })?.events ?? [] : [];
    const out: NodeDetail = { ...n, incoming, outgoing, recentFailures: failures.map(failureOf), recentRequests: requests.map(requestOf) };
    const red = storedRequests(h.requestSums(span, incoming), h.rateSpanMs(span));
    if (red) out.inboundRequests = red;
    return out;
  });
}

/** A series request's parameters, checked: one of edge or node, a known metric, the step asked for (if any). Shared with the hub. */
export function seriesParams(q: Query): { edge?: string; node?: string; metric: Metric; step?: number; stepText?: string } {
  onlyKnown(q, SERIES_KNOWN);
  const edge = id(q, 'edge'), node = id(q, 'node');
  if ((edge === undefined) === (node === undefined)) throw new BadRequest('give exactly one of edge or node');
  const metric = single(q, 'metric');
  if (metric === undefined) throw new BadRequest(`metric is required: one of ${Object.keys(METRICS).join(', ')}`);
  if (!Object.hasOwn(METRICS, metric)) throw new BadRequest(`unknown metric "${metric}"; known: ${Object.keys(METRICS).join(', ')}`);
  const s = single(q, 'step');
  return { edge, node, metric: metric as Metric, step: s === undefined ? undefined : parseDuration(s, 'step'), stepText: s };
}

export function historySeries(store: HistoryStore, q: Query) {
  const { edge, node, metric, step, stepText: s } = seriesParams(q);
  const r = range(q, store.now(), '-1h');
  const out = store.read((q) => {
    const grid = q.seriesGrid(r.from, r.to, step, HISTORY_DEFAULTS.seriesTargetPoints);
    if (grid.points > HISTORY_DEFAULTS.seriesMaxPoints) {
      // Name the step asked for: the stored resolution it snapped to is a detail the caller did not choose.
      const asked = s === undefined ? 'without step' : `at step=${s}`;
      const snapped = s !== undefined && grid.step !== step ? ` (served in ${formatDuration(grid.step)} buckets: whole buckets of the stored resolution that reaches back to from)` : '';
      throw new BadRequest(`that range has ${grid.points} points ${asked}${snapped}; at most ${HISTORY_DEFAULTS.seriesMaxPoints}: narrow the range or raise step`);
    }
    const edges = q.seriesEdges({ edge, node, inbound: isRequestMetric(metric as Metric) }, metric as Metric);
    if (!edges) throw new NotFound(edge !== undefined ? `no edge ${edge} in the history` : `no node ${node} in the history`);
    return q.timeseries(edges, metric as Metric, grid);
  });
  return { metric, ...(edge !== undefined ? { edge } : { node }), step: out.step, from: out.from, to: out.to, points: out.points };
}

/**
 * /api/v1/timeline: per bucket, failed connections (by reason) and failed requests over all edges, exact from the
 * stored counts (the timeline's failure events are samples, capped per flush). Only buckets with any are listed.
 */
export function historyTimeline(store: HistoryStore, q: Query): Timeline {
  onlyKnown(q, TIMELINE_KNOWN);
  const r = range(q, store.now(), '-1h');
  const s = single(q, 'step');
  const step = s === undefined ? undefined : parseDuration(s, 'step');
  const group = parseGroup(q) ?? null;
  return store.read((q) => {
    const grid = q.seriesGrid(r.from, r.to, step, HISTORY_DEFAULTS.seriesTargetPoints);
    if (grid.points > HISTORY_DEFAULTS.seriesMaxPoints) throw new BadRequest(`that range has ${grid.points} buckets at step=${s}; at most ${HISTORY_DEFAULTS.seriesMaxPoints}: narrow the range or raise step`);
    return { step: grid.step, from: grid.from, to: grid.to, buckets: q.timeline(grid, group) };
  });
}

export function historyEvents(store: HistoryStore, q: Query) {
  onlyKnown(q, EVENTS_KNOWN);
  const r = range(q, store.now(), '-1h');
  const l = single(q, 'limit');
  let limit: number = HISTORY_DEFAULTS.eventsDefaultLimit;
  if (l !== undefined) {
    limit = Number(l);
    if (!/^\d+$/.test(l) || limit < 1 || limit > HISTORY_DEFAULTS.eventsMaxLimit) throw new BadRequest(`limit must be a whole number from 1 to ${HISTORY_DEFAULTS.eventsMaxLimit}, got "${l}"`);
  }
  const t = single(q, 'type');
  let types: string[] | undefined;
  if (t !== undefined) {
    types = t.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = types.filter((x) => !(EVENT_TYPES as string[]).includes(x));
    if (!types.length || bad.length) throw new BadRequest(`type takes ${EVENT_TYPES.join(', ')}; got "${t}"`);
  }
  const node = id(q, 'node'), edge = id(q, 'edge'), group = parseGroup(q);
  const out = store.read((q) => q.events({ ...r, limit, types, node, edge, group }));
  if (!out) throw new NotFound(edge !== undefined ? `no edge ${edge} in the history` : `no node ${node} in the history`);
  return { from: r.from, to: r.to, ...out };
}

/**
 * Bad input answers 400, an unknown id 404, a history that cannot answer (corrupt, unreadable) 503,
 * each as {error, message}; anything else goes to the app's handler.
 */
async function answer(reply: FastifyReply, fn: () => unknown): Promise<unknown> {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', message: e.message });
    if (e instanceof NotFound) return reply.code(404).send({ error: 'not_found', message: e.message });
    if (e instanceof HistoryUnavailable) return reply.code(503).send({ error: e.error, message: e.message });
    throw e;
  }
}

export function historyRoutes(store: HistoryStore): RoutePlugin {
  return (app: FastifyInstance) => {
    const graph: GraphHistory = {
      graph: (q) => historyGraph(store, q),
      edge: (id, q) => historyEdgeDetail(store, id, q),
      node: (id, q) => historyNodeDetail(store, id, q),
    };
    app.decorate(GRAPH_HISTORY, graph);
    const q = (req: { query: unknown }) => (req.query ?? {}) as Query;
    app.get('/api/v1/timeseries', (req, reply) => answer(reply, () => historySeries(store, q(req))));
    app.get('/api/v1/timeline', (req, reply) => answer(reply, () => historyTimeline(store, q(req))));
    app.get('/api/v1/events', (req, reply) => answer(reply, () => historyEvents(store, q(req))));
    app.get('/api/v1/history', (req, reply) => answer(reply, () => {
      onlyKnown(q(req), ['token']);
      return { ...store.status(), metrics: METRICS, eventTypes: EVENT_TYPES };
    }));
  };
}
