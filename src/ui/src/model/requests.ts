// Requests (L7) as the page shows them: how error rate and latency colour an
// edge, and the thresholds the user sets for that (kept in the browser). The
// edge label ("HTTP · 42/s · 3% 5xx · p95 180 ms") is graph/labels.ts', which
// the text exports share. Pure, except the thresholds store.
import type { GraphEdge } from '../../../graph/types.js';

export { protocolName, mainRequests, recentRequests, errorShare, errorWord, pctText, requestLabel } from '../../../graph/labels.js';

// ---- thresholds ----

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
const KEY = 'dhrishti.requestThresholds';

function valid(t: Partial<RequestThresholds>): RequestThresholds {
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
  return {
    errorFailPct: num(t.errorFailPct, DEFAULT_THRESHOLDS.errorFailPct),
    errorWarnPct: num(t.errorWarnPct, DEFAULT_THRESHOLDS.errorWarnPct),
    latencyWarnMs: num(t.latencyWarnMs, DEFAULT_THRESHOLDS.latencyWarnMs),
    latencyFailMs: num(t.latencyFailMs, DEFAULT_THRESHOLDS.latencyFailMs),
  };
}

function load(): RequestThresholds {
  try {
    const s = globalThis.localStorage?.getItem(KEY);
    return s ? valid(JSON.parse(s) as Partial<RequestThresholds>) : DEFAULT_THRESHOLDS;
  } catch { return DEFAULT_THRESHOLDS; }
}

let current: RequestThresholds = load();
const listeners = new Set<() => void>();

export const thresholds = {
  get: (): RequestThresholds => current,
  set(t: Partial<RequestThresholds>): void {
    current = valid({ ...current, ...t });
    try { globalThis.localStorage?.setItem(KEY, JSON.stringify(current)); } catch { /* private mode */ }
    for (const fn of listeners) fn();
  },
  subscribe(fn: () => void): () => void { listeners.add(fn); return () => listeners.delete(fn); },
};

/** How the edge's requests judge it by the thresholds: 'failing', 'warn', or null (nothing to say). */
export function requestHealth(e: GraphEdge, t: RequestThresholds = current): 'failing' | 'warn' | null {
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
