// The hub's /api/v1/graph?at= and ?from=&to=: Prometheus' retention is the
// hub's history. Served through the graph route's history hook, like the agent's store.
import type { FastifyInstance } from 'fastify';
import { BadRequest, GRAPH_HISTORY_PARAMS, GRAPH_PARAMS, onlyKnown, parseGraphFilter } from '../api/params.js';
import { GRAPH_HISTORY, type GraphHistory, type RoutePlugin } from '../api/server.js';
import { parseTime } from '../api/time.js';
import { HUB_DEFAULTS } from '../config/defaults.js';
import { PromError } from './promql.js';
import { mapAt, mapRange, Unavailable, type HubSource } from './source.js';
import { filterGraph } from './filter.js';

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

export function hubHistoryRoutes(hub: HubSource, staleAfterMs?: number): RoutePlugin {
  return (app: FastifyInstance) => {
    const history: GraphHistory = { graph: (q) => hubHistoryGraph(hub, q as Record<string, unknown>, staleAfterMs) };
    app.decorate(GRAPH_HISTORY, history);
  };
}
