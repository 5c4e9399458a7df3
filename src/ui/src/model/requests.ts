// Requests (L7) as the page shows them: how error rate and latency colour an
// edge, and the thresholds the user sets for that (kept in the browser). The
// edge label ("HTTP · 42/s · 3% 5xx · p95 180 ms") is graph/labels.ts', which
// the text exports share. Pure, except the thresholds store.
import type { GraphEdge } from '../../../graph/types.js';

export { protocolName, mainRequests, recentRequests, errorShare, errorWord, pctText, requestLabel, requestText, DEFAULT_THRESHOLDS, type RequestThresholds } from '../../../graph/labels.js';
import { DEFAULT_THRESHOLDS, requestHealth as judge, type RequestThresholds } from '../../../graph/labels.js';

// ---- thresholds (defaults and judgement: graph/labels.ts, shared with the text exports) ----

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

/** How the edge's requests judge it by the user's thresholds: 'failing', 'warn', or null (nothing to say). */
export function requestHealth(e: GraphEdge, t: RequestThresholds = current): 'failing' | 'warn' | null {
  return judge(e, t);
}
