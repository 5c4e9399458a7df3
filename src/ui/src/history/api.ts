// The history endpoints (see src/store/README.md): the map at a moment or over a range, series and the timeline.
import type { HistoryGraph, Timeline } from '../../../graph/types.js';
import { getJson } from '../api/client.js';

export type { HistoryGraph };
export interface SeriesPoint { t: number; v: number | null }
export interface Series { metric: string; step: number; from: number; to: number; points: SeriesPoint[] }
export interface HistoryEvent { time: number; type: string; node: string | null; edge: string | null; detail: Record<string, unknown> }
export interface EventsPage { from: number; to: number; events: HistoryEvent[]; truncated: boolean }

export type SeriesMetric = 'connections' | 'failures' | 'bytes_sent' | 'bytes_received' | 'requests' | 'request_errors' | 'request_p95';

const INCLUDE = 'include=external,host';

export const historyApi = {
  at: (t: number, signal?: AbortSignal) => getJson<HistoryGraph>(`/graph?at=${t}&${INCLUDE}`, signal),
  range: (from: number, to: number, signal?: AbortSignal) => getJson<HistoryGraph>(`/graph?from=${from}&to=${to}&${INCLUDE}`, signal),
  series: (target: { type: 'node' | 'edge'; id: string }, metric: SeriesMetric, from: number, to: number, signal?: AbortSignal) =>
    getJson<Series>(`/timeseries?${target.type}=${encodeURIComponent(target.id)}&metric=${metric}&from=${from}&to=${to}`, signal),
  /** Failures on an edge, or on the edges of a node, in [from, to): the first `limit`, oldest first. */
  failures: (target: { type: 'node' | 'edge'; id: string }, from: number, to: number, limit: number, signal?: AbortSignal) =>
    getJson<EventsPage>(`/events?${target.type}=${encodeURIComponent(target.id)}&from=${from}&to=${to}&limit=${limit}&type=failure`, signal),
  /** Failed connections and request errors per bucket over all edges, or a project's (`group`): exact counts, not the samples. */
  timeline: (from: number, to: number, group = '', signal?: AbortSignal) =>
    getJson<Timeline>(`/timeline?from=${from}&to=${to}${group ? `&group=${encodeURIComponent(group)}` : ''}`, signal),
  /** Events of these types; with `group`, a project's (its nodes' and edges') and the agent's own. */
  events: (from: number, to: number, types: string[], group = '', signal?: AbortSignal) =>
    getJson<EventsPage>(`/events?from=${from}&to=${to}&limit=2000&type=${types.join(',')}${group ? `&group=${encodeURIComponent(group)}` : ''}`, signal),
};
