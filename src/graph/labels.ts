// Short labels for numbers and for an edge's requests, shared by the web UI and
// the text exports (DOT, Mermaid): one wording wherever the map is shown.
import type { EdgeRequests, GraphEdge, GraphNode, RequestProtocol, RequestRates } from './types.js';

/**
 * What a node's label adds about the node itself: a vacant container address says which container it was
 * ("172.18.0.5 (was db-old)"), the reason its clients fail; '' for any other node.
 */
export function nodeNote(n: Pick<GraphNode, 'vacant'>): string {
  if (!n.vacant) return '';
  return n.vacant.lastHolder ? ` (was ${n.vacant.lastHolder})` : ' (no container)';
}

export function rate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0';
  if (n >= 1000) return `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k`;
  if (n >= 10) return n.toFixed(0);
  if (n >= 1) return n.toFixed(1).replace(/\.0$/, '');
  if (n < 0.005) return '<0.01'; // not "0.0": something happened
  return n.toFixed(2).replace(/0$/, '');
}

export function micros(us: number): string {
  if (!Number.isFinite(us) || us <= 0) return '–';
  if (us < 1000) return `${us.toFixed(0)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 1 : 0)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

export function millis(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  return micros(ms * 1000);
}

const NAMES: Record<RequestProtocol, string> = { http1: 'HTTP', http2: 'HTTP/2', postgres: 'Postgres', mysql: 'MySQL', redis: 'Redis' };

export function protocolName(r: Pick<EdgeRequests, 'protocol' | 'grpc'>): string {
  return r.protocol === 'http2' && r.grpc ? 'gRPC' : NAMES[r.protocol];
}

/** The protocol with the most requests lately (else the most in total); null without requests. */
export function mainRequests(e: GraphEdge): EdgeRequests | null {
  const rs = e.requests;
  if (!rs?.length) return null;
  return rs.reduce((a, b) => (b.rates['1m'].requests > a.rates['1m'].requests || (b.rates['1m'].requests === a.rates['1m'].requests && b.count > a.count) ? b : a));
}

/** Requests in the last minute, all protocols, and how many failed. */
export function recentRequests(e: GraphEdge): { requests: number; errors: number; clientErrors: number } {
  let requests = 0, errors = 0, clientErrors = 0;
  for (const r of e.requests ?? []) { requests += r.rates['1m'].requests; errors += r.rates['1m'].errors; clientErrors += r.rates['1m'].clientErrors; }
  return { requests, errors, clientErrors };
}

/** Error share (0..1) of a protocol's requests over the last minute. */
export function errorShare(r: EdgeRequests): number {
  const w = r.rates['1m'];
  return w.requests > 0 ? w.errors / w.requests : 0;
}

/** HTTP's errors in a window are its 5xx, and requests the server's end closed on ('failed' while there are such in
 *  it: an edge's one no-response of an hour ago does not name its 5xx of now); other protocols' are failures (gRPC
 *  non-OK, database and Redis errors). */
export const errorWord = (r: EdgeRequests, w: RequestRates = r.rates['1m']) =>
  (r.protocol === 'http1' || (r.protocol === 'http2' && !r.grpc) ? (w.errors > w.serverErrors ? 'failed' : '5xx') : 'err');

export function pctText(x: number): string {
  const p = x * 100;
  if (p <= 0) return '0%';
  if (p < 1) return `${p.toFixed(1).replace(/\.0$/, '')}%`;
  return `${Math.round(p)}%`;
}

/** "HTTP · 42/s · 3% 5xx · p95 180 ms"; null when the edge had no requests lately. */
export function requestLabel(e: GraphEdge): string | null {
  const r = mainRequests(e);
  if (!r) return null;
  const w1 = r.rates['1m'];
  if (w1.requests <= 0) return null;
  const per = r.rates['10s'].requests > 0 ? r.rates['10s'].requests : w1.requests;
  const parts = [protocolName(r), `${rate(per)}/s`];
  if (w1.errors > 0) parts.push(`${pctText(w1.errors / w1.requests)} ${errorWord(r)}`);
  else if (w1.clientErrors > 0) parts.push(`${pctText(w1.clientErrors / w1.requests)} 4xx`);
  if (w1.latency.samples > 0) parts.push(`p95 ${millis(w1.latency.p95Ms)}`);
  return parts.join(' · ');
}

// ---- how requests colour an edge (the UI lets the user change the thresholds; the text exports use the defaults) ----

export interface RequestThresholds {
  /** Error share (percent) over the last minute at or above which an edge is drawn failing (red). */
  errorFailPct: number;
  /** ... and above which it is drawn degraded (amber). */
  errorWarnPct: number;
  /** p95 latency (ms) over the last minute at or above which an edge is drawn degraded ... */
  latencyWarnMs: number;
  /** ... and failing. */
  latencyFailMs: number;
}

export const DEFAULT_THRESHOLDS: RequestThresholds = { errorFailPct: 5, errorWarnPct: 0, latencyWarnMs: 500, latencyFailMs: 2000 };

/** How the edge's requests judge it by the thresholds: 'failing', 'warn', or null (nothing to say). */
export function requestHealth(e: GraphEdge, t: RequestThresholds = DEFAULT_THRESHOLDS): 'failing' | 'warn' | null {
  let worst: 'failing' | 'warn' | null = null;
  for (const r of e.requests ?? []) {
    const w = r.rates['1m'];
    if (w.requests <= 0) continue;
    const err = (w.errors / w.requests) * 100;
    const p95 = w.latency.samples > 0 ? w.latency.p95Ms : 0;
    if ((w.errors > 0 && err >= t.errorFailPct) || (p95 > 0 && p95 >= t.latencyFailMs)) return 'failing';
    if ((w.errors > 0 && err > t.errorWarnPct) || (p95 > 0 && p95 >= t.latencyWarnMs)) worst = 'warn';
  }
  return worst;
}

/** A sampled request in one line: method and target, or a SQL statement alone (its verb is the method: not "SELECT SELECT …"). */
export function requestText(method: string | null | undefined, target: string | null | undefined): string {
  if (method && target && target.slice(0, method.length + 1).toUpperCase() === `${method.toUpperCase()} `) return target;
  return `${method ?? '?'} ${target ?? ''}`.trimEnd();
}
