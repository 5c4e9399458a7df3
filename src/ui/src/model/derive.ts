// What an edge or node looks like, derived from its numbers: health colour,
// activity, width and label. One place, so the map, the tables and tests agree.
import type { GraphEdge, GraphNode } from '../../../graph/types.js';
import { UI } from '../config.js';
import { bytesRate, rate } from './format.js';
import { neverConnected } from '../../../graph/edge-facts.js';
import { nodeNote } from '../../../graph/labels.js';
import { requestHealth, requestLabel, type RequestThresholds } from './requests.js';

export type Health = 'failing' | 'warn' | 'ok';
/** flowing: new connections or bytes in the last 10 s; open: connections held open, quiet; idle: neither. */
export type Activity = 'flowing' | 'open' | 'idle';

/** Failed connections, or requests failing or slow past the user's thresholds (model/requests.ts), make an edge failing or degraded. */
export function edgeHealth(e: GraphEdge, retransmitsLately: boolean, t?: RequestThresholds): Health {
  if (e.rates['1m'].failures > 0 || e.rates['10s'].failures > 0) return 'failing';
  const req = requestHealth(e, t);
  if (req === 'failing') return 'failing';
  if (req === 'warn' || retransmitsLately || (e.rtt.samples > 0 && e.rtt.p95Us > UI.highRttUs)) return 'warn';
  return 'ok';
}

/**
 * The health badge's words. Health is about the last minute, so an edge whose failures are older reads "No failures
 * lately", and one that never got a connection through reads "Never connected", not "Healthy" (live: a past view's
 * numbers and rates cover the same time).
 */
export function healthBadge(h: Health, e: GraphEdge, past: boolean): { text: string; tone: Health; title?: string } {
  if (h === 'failing') return { text: 'Failing', tone: h };
  if (h === 'warn') return { text: 'Degraded', tone: h };
  const failed = e.connections.failed;
  if (failed === 0 || past) return { text: 'Healthy', tone: h };
  const older = `none in the last minute`;
  if (e.protocol === 'tcp' && neverConnected(e.connections)) return { text: 'Never connected', tone: 'warn', title: `All ${failed} attempts failed; ${older}` };
  return { text: 'No failures lately', tone: h, title: `${failed} failed since first seen; ${older}` };
}

/** How an activity reads, live or in a past view (where "now" would be wrong); the panel and the legend share it. */
export function activityText(a: Activity, past: boolean): string {
  if (a === 'flowing') return past ? 'had traffic' : 'traffic now';
  return a === 'open' ? 'open, quiet' : 'idle';
}

export function edgeActivity(e: GraphEdge): Activity {
  const r = e.rates['10s'];
  if (r.connections > 0 || r.bytesSent + r.bytesReceived > 0) return 'flowing';
  if (e.connections.active > 0) return 'open';
  return 'idle';
}

/** Line width in px: grows with the log of bytes/s and connections/s over the last 10 s. */
export function edgeWidth(e: GraphEdge): number {
  const r = e.rates['10s'];
  const byConn = Math.log10(1 + r.connections) * 1.7;
  const byBytes = Math.log10(1 + (r.bytesSent + r.bytesReceived) / 1024) * 1.1;
  // half-pixel steps: small rate wobbles do not restyle the edge on every update
  return Math.round((1.5 + Math.min(5, Math.max(byConn, byBytes))) * 2) / 2;
}

/** "HTTP · 42/s · 3% 5xx · p95 180 ms" with requests lately; else ":5432 · 12/s", the port and the one rate that matters most right now. */
export function edgeLabel(e: GraphEdge): string {
  const r = e.rates['10s'];
  const port = e.protocol === 'dns' ? 'DNS' : `:${e.port}`;
  if (e.protocol === 'dns') return r.failures > 0 ? `${port} · ${rate(r.failures)} failed/s` : r.connections > 0 ? `${port} · ${rate(r.connections)} q/s` : port;
  const req = requestLabel(e);
  if (req) return r.failures > 0 ? `${req} · ${rate(r.failures)} fail/s` : req;
  if (r.failures > 0) return `${port} · ${rate(r.failures)} fail/s`;
  if (r.connections > 0) return `${port} · ${rate(r.connections)}/s`;
  const b = r.bytesSent + r.bytesReceived;
  if (b > 0) return `${port} · ${bytesRate(b)}`;
  if (e.connections.active > 0) return `${port} · ${e.connections.active} open`;
  return port;
}

/** A resolver edge's id (`client|resolver|port|dns`): it counts queries and failed lookups, not connections and bytes. */
export const isDnsEdgeId = (id: string): boolean => id.endsWith('|dns');

export function nodeLabel(n: GraphNode): string {
  const running = n.instances.filter((i) => i.state !== 'stopped').length;
  return (n.kind === 'service' && running > 1 ? `${n.label} ×${running}` : n.label) + nodeNote(n);
}

export const KIND_NAMES: Record<GraphNode['kind'], string> = {
  service: 'Service',
  container: 'Container',
  process: 'Host process',
  external: 'External server',
  client: 'Remote client',
};

export function groupParentId(group: string): string {
  return `group::${group}`;
}

/** The box of one host's nodes on a hub's map. */
export function hostParentId(host: string): string {
  return `host::${host}`;
}

export function edgeEnds(e: GraphEdge): string {
  return `${e.source} → ${e.target}`;
}
