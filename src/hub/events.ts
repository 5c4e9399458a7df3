// /api/v1/events on the hub: the agent's parameters and response shape, with
// the events Prometheus can tell. Series coming and going give edges and nodes
// appearing and vanishing and agents starting and stopping (to within one
// sampling step); the failure counters give failures (a count per reason and
// step, not each failure). Container lifecycle, suppressed events and policy
// events live only in each agent's own history: the answer names them as
// unavailable rather than pretending none happened.
import { BadRequest, onlyKnown } from '../api/params.js';
import { EVENT_TYPES, EVENTS_KNOWN, id, NotFound, range, single } from '../api/history-routes.js';
import { HISTORY_DEFAULTS, HUB_DEFAULTS } from '../config/defaults.js';
import type { HistoryEvent } from '../store/queries.js';
import type { PromClient, Sample } from './promql.js';
import { AddressBook, edgeLabelsOf, place, type EdgeNumbers } from './build.js';
import { gridValues, deltas, type Grid } from './detail.js';
import { COUNTERS, REPORT, rangeInfo, rs, SEP, str } from './queries.js';
import { EDGE_LABELS } from '../export/labels.js';
import type { HubSource } from './source.js';

type Query = Record<string, unknown>;

/** What a hub can tell from the agents' series. */
export const HUB_EVENT_TYPES = ['agent_started', 'agent_stopped', 'edge_appeared', 'edge_vanished', 'node_appeared', 'node_vanished', 'failure'] as const;
const UNAVAILABLE = EVENT_TYPES.filter((t) => !(HUB_EVENT_TYPES as readonly string[]).includes(t));
const UNAVAILABLE_REASON = 'kept only in each agent\'s own history (its /api/v1/events): the agents export counters and gauges to Prometheus, not these events';

const join = (expr: string) => `label_join(${expr}, "e", ${str(SEP)}, ${EDGE_LABELS.map((l) => str(l)).join(', ')})`;

/** When each series was first present in (to - span, to], sampled every step (seconds, the step's time). */
const firstPresent = (sel: string, by: string, span: number, step: number) => `min_over_time((timestamp(group by (${by}) (${sel})))[${rs(span)}:${rs(step)}])`;
/** The time of each series' last sample in the range. */
const lastSample = (sel: string, by: string, span: number, step: number) => `max_over_time((max by (${by}) (${sel}))[${rs(span)}:${rs(step)}])`;

interface Life { first: number; last: number }

function lives(first: Sample[], last: Sample[], keyOf: (m: Record<string, string>) => string | undefined): Map<string, Life> {
  const out = new Map<string, Life>();
  for (const s of first) { const k = keyOf(s.metric); if (k) out.set(k, { first: s.value * 1000, last: -Infinity }); }
  for (const s of last) {
    const k = keyOf(s.metric);
    if (!k) continue;
    const l = out.get(k) ?? { first: Infinity, last: -Infinity };
    l.last = s.value * 1000;
    out.set(k, l);
  }
  return out;
}

/** The agent's event parameters but `group`: the hub's events are built from metrics, per edge, with no project filter. */
const HUB_EVENTS_KNOWN = EVENTS_KNOWN.filter((k) => k !== 'group');

export async function hubEvents(hub: HubSource, q: Query) {
  onlyKnown(q, HUB_EVENTS_KNOWN);
  const now = Date.now();
  const r = range(q, now, '-1h');
  const l = single(q, 'limit');
  let limit: number = HISTORY_DEFAULTS.eventsDefaultLimit;
  if (l !== undefined) {
    limit = Number(l);
    if (!/^\d+$/.test(l) || limit < 1 || limit > HISTORY_DEFAULTS.eventsMaxLimit) throw new BadRequest(`limit must be a whole number from 1 to ${HISTORY_DEFAULTS.eventsMaxLimit}, got "${l}"`);
  }
  const t = single(q, 'type');
  let types: string[] = [...EVENT_TYPES];
  if (t !== undefined) {
    types = t.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = types.filter((x) => !(EVENT_TYPES as string[]).includes(x));
    if (!types.length || bad.length) throw new BadRequest(`type takes ${EVENT_TYPES.join(', ')}; got "${t}"`);
  }
  const node = id(q, 'node'), edge = id(q, 'edge');
  const unavailable = { types: UNAVAILABLE.filter((x) => types.includes(x)), reason: UNAVAILABLE_REASON };
  const want = new Set(types.filter((x) => (HUB_EVENT_TYPES as readonly string[]).includes(x)));
  const out = await compute(hub.prom, r.from, Math.min(r.to, now), hub.staleAfter, want, node, edge);
  if (!out) throw new NotFound(edge !== undefined ? `no edge ${edge} in the history` : `no node ${node} in the history`);
  out.sort((a, b) => a.time - b.time || (a.type < b.type ? -1 : 1));
  return { from: r.from, to: r.to, events: out.slice(0, limit), truncated: out.length > limit, ...(unavailable.types.length ? { unavailable } : {}) };
}

async function compute(prom: PromClient, from: number, to: number, staleAfterMs: number, want: Set<string>, node?: string, edge?: string): Promise<HistoryEvent[] | null> {
  const span = Math.max(1000, to - from);
  const step = Math.max(1000, Math.ceil(span / HUB_DEFAULTS.eventSteps / 1000) * 1000);
  const opened = `${join(COUNTERS.opened)}`;
  const [eFirst, eLast, aFirst, aLast, info] = await Promise.all([
    prom.instant(firstPresent(opened, 'e', span, step), to), prom.instant(lastSample(`${join(`timestamp(${COUNTERS.opened})`)}`, 'e', span, step), to),
    prom.instant(firstPresent(REPORT, 'host', span, step), to), prom.instant(lastSample(`timestamp(${REPORT})`, 'host', span, step), to),
    prom.instant(rangeInfo(span), to),
  ]);
  // The agents' edges, placed on the map as the range's end names their ends.
  const book = new AddressBook(info.data);
  const views = lives(eFirst.data, eLast.data, (m) => (edgeLabelsOf(m.e) ? m.e : undefined));
  const edges = new Map<string, Life & { source: string; target: string; views: EdgeNumbers[] }>();
  const nodes = new Map<string, Life>();
  const widen = (m: Map<string, Life>, k: string, l: Life) => { const x = m.get(k); if (!x) m.set(k, { ...l }); else { x.first = Math.min(x.first, l.first); x.last = Math.max(x.last, l.last); } };
  for (const [key, life] of views) {
    const p = place({ labels: edgeLabelsOf(key)! }, book);
    let x = edges.get(p.id);
    if (!x) { x = { first: life.first, last: life.last, source: p.client.id, target: p.server.id, views: [] }; edges.set(p.id, x); }
    widen(edges as Map<string, Life>, p.id, life);
    x.views.push({ key, labels: edgeLabelsOf(key)! } as EdgeNumbers);
    widen(nodes, p.client.id, life); widen(nodes, p.server.id, life);
  }
  if (edge !== undefined && !edges.has(edge)) return null;
  if (node !== undefined && !nodes.has(node)) return null;
  const touches = (e: { source: string; target: string }) => node === undefined || e.source === node || e.target === node;
  const events: HistoryEvent[] = [];
  // Present at the range's start (the first step) is not an appearance; no sample for a while before its end is a disappearance.
  const appeared = (l: Life) => l.first > from + step && l.first <= to;
  const vanished = (l: Life) => Number.isFinite(l.last) && l.last >= from && l.last < to - Math.max(staleAfterMs, 2 * step);
  for (const [id, x] of edges) {
    if ((edge !== undefined && id !== edge) || !touches(x)) continue;
    if (want.has('edge_appeared') && appeared(x)) events.push({ time: x.first, type: 'edge_appeared', node: null, edge: id, detail: { port: Number(id.split('|')[2]) || 0 } });
    if (want.has('edge_vanished') && vanished(x)) events.push({ time: x.last, type: 'edge_vanished', node: null, edge: id, detail: {} });
  }
  if (edge === undefined) {
    for (const [id, x] of nodes) {
      if (node !== undefined && id !== node) continue;
      if (want.has('node_appeared') && appeared(x)) events.push({ time: x.first, type: 'node_appeared', node: id, edge: null, detail: {} });
      if (want.has('node_vanished') && vanished(x)) events.push({ time: x.last, type: 'node_vanished', node: id, edge: null, detail: {} });
    }
    if (node === undefined) {
      for (const [host, x] of lives(aFirst.data, aLast.data, (m) => m.host)) {
        if (want.has('agent_started') && appeared(x)) events.push({ time: x.first, type: 'agent_started', node: null, edge: null, detail: { host } });
        if (want.has('agent_stopped') && vanished(x)) events.push({ time: x.last, type: 'agent_stopped', node: null, edge: null, detail: { host } });
      }
    }
  }
  if (want.has('failure')) {
    // Failure counters only exist for edges that failed: one range query, differenced per step.
    const chosen = [...edges].filter(([id, x]) => (edge === undefined || id === edge) && touches(x));
    const all = chosen.flatMap(([, x]) => x.views);
    const edgeOf = new Map(chosen.flatMap(([id, x]) => x.views.map((v) => [v.key, id] as const)));
    const grid: Grid = { from: Math.floor(from / step) * step, step, n: Math.ceil((to - Math.floor(from / step) * step) / step) };
    const rows = all.length ? await gridValues(prom, [COUNTERS.failed], all, grid, ['reason']) : [];
    for (const row of rows) {
      const d = deltas(row.v);
      for (let k = 0; k < d.length; k++) {
        const count = Math.round(d[k]);
        const time = grid.from + (k + 1) * step;
        if (count > 0 && time > from && time <= to + step) {
          events.push({ time: Math.min(time, to), type: 'failure', node: null, edge: edgeOf.get(row.metric.e) ?? null, detail: { reason: row.metric.reason, count, host: edgeLabelsOf(row.metric.e)?.host } });
        }
      }
    }
  }
  return events;
}
