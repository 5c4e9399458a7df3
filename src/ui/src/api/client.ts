// The one place that knows how to reach the API: same origin as the page, with
// the access token (when the agent asks for one) taken from the page's ?token=.
import type { EdgeDetail, GraphSnapshot, HistoryHealth, NodeDetail, RemoteClient } from '../../../graph/types.js';

const API = '/api/v1';

function pageToken(): string | null {
  return new URLSearchParams(window.location.search).get('token');
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const token = pageToken();
  const res = await fetch(API + path, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    signal,
  });
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const body = (await res.json()) as { message?: string; error?: string };
      detail = body.message ?? body.error ?? detail;
    } catch { /* not JSON: keep the status text */ }
    throw new ApiError(res.status, `${res.status} ${detail}`);
  }
  return (await res.json()) as T;
}

/** Agent self-telemetry from /api/v1/agent; every field optional so an older agent still renders. */
export interface AgentTelemetry {
  eventsPerSec?: number;
  lostEvents?: number;
  identityMisses?: number;
  cpuPercent?: number;
  rssBytes?: number;
  uptimeSec?: number;
  probes?: { name: string; attached?: boolean; ok?: boolean; [k: string]: unknown }[];
  /** null when history is off. */
  history?: HistoryHealth | null;
  /** Present when the page is served by `dhrishti hub`: whether Prometheus answers, and the agents it knows. */
  hub?: { prometheus: string; state: 'starting' | 'ok' | 'down' | 'slow' | 'error'; message: string | null; lastSuccess: number | null; queryMs: number };
  agents?: { host: string; state: 'up' | 'down' | 'stale'; staleSec: number; folded: number }[];
}

export const api = {
  graph: (signal?: AbortSignal) => getJson<GraphSnapshot>('/graph?include=external,host', signal),
  /** `past`: at=… or from=…&to=… (PastQuery): the node or edge as the history has it then. */
  node: (id: string, signal?: AbortSignal, past?: string) => getJson<NodeDetail>(`/nodes/${encodeURIComponent(id)}${past ? `?${past}` : ''}`, signal),
  edge: (id: string, signal?: AbortSignal, past?: string) => getJson<EdgeDetail>(`/edges/${encodeURIComponent(id)}${past ? `?${past}` : ''}`, signal),
  clients: (signal?: AbortSignal) => getJson<{ clients: RemoteClient[] }>('/clients', signal),
  agent: (signal?: AbortSignal) => getJson<AgentTelemetry>('/agent', signal),
};

/** ws(s)://<this host>/api/v1/stream, with ?token= when the page has one (browsers cannot set headers on a WebSocket). */
export function streamUrl(): string {
  const url = new URL(`${API}/stream`, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = pageToken();
  if (token) url.searchParams.set('token', token);
  return url.toString();
}
