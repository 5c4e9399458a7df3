// The hub's history, which is Prometheus' retention: /api/v1/graph?at= and
// ?from=&to= (through the graph route's history hook, like the agent's store),
// /api/v1/timeseries and /api/v1/events with the agent's parameters and shapes,
// and /api/v1/history saying what the hub can and cannot tell.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { BadRequest, GRAPH_HISTORY_PARAMS, GRAPH_PARAMS, onlyKnown, parseGraphFilter } from '../api/params.js';
import { GRAPH_HISTORY, type GraphHistory, type RoutePlugin } from '../api/server.js';
import { EVENT_TYPES, NotFound } from '../api/history-routes.js';
import { parseTime } from '../api/time.js';
import { METRICS } from '../store/queries.js';
import { HUB_DEFAULTS } from '../config/defaults.js';
import { PromError } from './promql.js';
import { mapAt, mapRange, Unavailable, type HubSource } from './source.js';
import { filterGraph } from './filter.js';
import { hubSeries } from './series.js';
import { hubEvents, HUB_EVENT_TYPES } from './events.js';

const KNOWN = [...GRAPH_PARAMS, ...GRAPH_HISTORY_PARAMS];

function single(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be given once`);
  return v;
}

export async function hubHistoryGraph(hub: HubSource, q: Record<string, unknown>, staleAfterMs: number = HUB_DEFAULTS.staleAfterMs) {
  onlyKnown(q, KNOWN);
  const now = Date.now();
  const filter = parseGraphFilter(q);
  const at = single(q, 'at');
  try {
    if (at !== undefined) {
      if (q.from !== undefined || q.to !== undefined) throw new BadRequest('give either at, or from and to, not both');
      const t = parseTime(at, 'at', now);
      const m = await mapAt(hub.prom, t, staleAfterMs);
      return { ...filterGraph(m.graph, filter), at: t, agents: m.agents, warnings: m.warnings };
    }
    if (filter.windowMs !== undefined) throw new BadRequest('window applies to the live map and to at=, not to from/to');
    const f = single(q, 'from');
    if (f === undefined) throw new BadRequest('from is required (ISO-8601, unix ms, now, or relative like -1h)');
    const from = parseTime(f, 'from', now), to = parseTime(single(q, 'to') ?? 'now', 'to', now);
    if (from >= to) throw new BadRequest(`from must be before to (got from=${new Date(from).toISOString()}, to=${new Date(to).toISOString()})`);
    const m = await mapRange(hub.prom, from, to, staleAfterMs);
    return { ...filterGraph(m.graph, filter), from, to, agents: m.agents, warnings: m.warnings };
  } catch (e) {
    if (e instanceof PromError) throw new Unavailable(e.message);
    throw e;
  }
}

/** Bad input answers 400, an unknown id 404, Prometheus failing 503, each as {error, message}. */
async function answer(reply: FastifyReply, fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', message: e.message });
    if (e instanceof NotFound) return reply.code(404).send({ error: 'not_found', message: e.message });
    if (e instanceof PromError || e instanceof Unavailable) return reply.code(503).send({ error: 'prometheus_unavailable', message: e.message });
    throw e;
  }
}

export function hubHistoryRoutes(hub: HubSource, staleAfterMs?: number): RoutePlugin {
  return (app: FastifyInstance) => {
    const history: GraphHistory = { graph: (q) => hubHistoryGraph(hub, q as Record<string, unknown>, staleAfterMs) };
    app.decorate(GRAPH_HISTORY, history);
    const q = (req: { query: unknown }) => (req.query ?? {}) as Record<string, unknown>;
    app.get('/api/v1/timeseries', (req, reply) => answer(reply, () => hubSeries(hub, q(req))));
    app.get('/api/v1/events', (req, reply) => answer(reply, () => hubEvents(hub, q(req))));
    app.get('/api/v1/history', (req, reply) => answer(reply, async () => {
      onlyKnown(q(req), ['token']);
      return {
        source: 'prometheus', prometheus: hub.hubStatus.prometheus, retention: 'Prometheus\' own', metrics: METRICS, eventTypes: EVENT_TYPES,
        hubEventTypes: HUB_EVENT_TYPES, unavailableEventTypes: EVENT_TYPES.filter((t) => !(HUB_EVENT_TYPES as readonly string[]).includes(t)),
      };
    }));
  };
}
