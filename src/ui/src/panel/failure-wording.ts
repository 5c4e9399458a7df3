// What a list of failed-connection samples is called, and what it says when it has none, so it never
// contradicts the counts above it: samples are rate-limited (a flush keeps 10, another edge may take them all),
// and request errors (HTTP 5xx, database errors) are failed requests, not failed connections. Pure logic.
import type { GraphEdge } from '../../../graph/types.js';

export interface FailureCounts {
  /** Connections that failed (refused, reset, timed out, ...). */
  failed: number;
  /** Failed requests: HTTP 5xx, gRPC non-OK, database and Redis errors. */
  requestErrors: number;
}

/** Of an edge, or a node's edges (`node`: its request errors are its inbound ones, as its panel shows them). */
export function failureCounts(edges: GraphEdge[], node?: string): FailureCounts {
  let failed = 0, requestErrors = 0;
  for (const e of edges) {
    if (e.dns) continue; // a resolver edge's failed are failed queries, listed in its own panel
    failed += e.connections.failed;
    if (node === undefined || e.target === node) for (const r of e.requests ?? []) requestErrors += r.errors;
  }
  return { failed, requestErrors };
}

/** recent: the live panel's last few; range, moment: the past view's, from the history. */
export type FailureScope = 'recent' | 'range' | 'moment';

const TITLES: Record<FailureScope, string> = {
  recent: 'Recent failed connections',
  range: 'Failed connections over the picked range',
  moment: 'Failed connections in the replayed moment',
};

const n = (v: number, one: string) => `${v.toLocaleString('en-US')} ${one}${v === 1 ? '' : 's'}`;

/**
 * The section's title and its text when no sample is listed. `counts`: the numbers shown above it (live: since
 * first seen; past: over the range or moment); `requestsAt`: where the request errors are listed.
 */
export function failuresWording(scope: FailureScope, counts: FailureCounts | null, requestsAt: string): { title: string; empty: string } {
  const when = scope === 'recent' ? 'recently' : 'in that time';
  let empty = `No failed connections ${when}.`;
  if (counts && counts.failed > 0) {
    empty = scope === 'recent'
      ? `${n(counts.failed, 'failed connection')} counted; none sampled (samples are rate-limited).`
      : `${n(counts.failed, 'failed connection')} ${when}; none sampled (samples are rate-limited).`;
  } else if (counts && counts.requestErrors > 0) {
    empty += ` The ${n(counts.requestErrors, 'request error')} ${counts.requestErrors === 1 ? 'is a failed request' : 'are failed requests'}, not connections: see ${requestsAt}.`;
  }
  return { title: TITLES[scope], empty };
}

/** Under a list holding fewer samples than failed connections: says the rest were counted, not sampled. */
export function sampledNote(samples: number, counts: FailureCounts | null): string | null {
  if (!counts || samples === 0 || samples >= counts.failed) return null;
  return `${samples.toLocaleString('en-US')} sampled of the ${n(counts.failed, 'failed connection')} (samples are rate-limited).`;
}
