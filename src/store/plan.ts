// Which stored tier answers which part of a time range (pure logic).

/** What one tier holds now: buckets of `resolutionMs` from `from` (its keep) to `to` (rolled so far). */
export interface TierSpan {
  resolutionMs: number;
  from: number;
  to: number;
}

/** Buckets of one resolution starting in [from, to). */
export interface Segment {
  resolutionMs: number;
  from: number;
  to: number;
}

/**
 * Covers [from, to) with as few rows as possible: the coarsest tier for the whole
 * buckets it has, finer tiers for the ragged ends and for the recent part not yet
 * rolled up. The range is first widened to whole buckets of the finest tier; where
 * the finer tiers no longer reach back, the coarse bucket at the edge is used whole.
 */
export function planRange(from: number, to: number, spans: TierSpan[]): Segment[] {
  const r0 = spans[0].resolutionMs;
  return plan(Math.floor(from / r0) * r0, Math.ceil(to / r0) * r0, spans.length - 1, spans);
}

function plan(from: number, to: number, k: number, spans: TierSpan[]): Segment[] {
  if (from >= to) return [];
  if (k === 0) return [{ resolutionMs: spans[0].resolutionMs, from, to }];
  const r = spans[k].resolutionMs, finer = spans[k - 1];
  const start = from < finer.from ? Math.floor(from / r) * r : Math.ceil(from / r) * r;
  const end = Math.min(to <= finer.from ? Math.ceil(to / r) * r : Math.floor(to / r) * r, spans[k].to);
  if (start >= end) return plan(from, to, k - 1, spans);
  return [...plan(from, start, k - 1, spans), { resolutionMs: r, from: start, to: end }, ...plan(end, to, k - 1, spans)];
}

/** The finest tier that still holds `at`, else the coarsest. */
export function tierAt(at: number, spans: TierSpan[]): number {
  for (let k = 0; k < spans.length; k++) if (at >= spans[k].from && at < spans[k].to) return k;
  return spans.length - 1;
}

/**
 * The tier a series is drawn at: among tiers that reach back to `from`, the coarsest
 * not coarser than `step` when given, else the finest giving at most `targetPoints`.
 */
export function seriesTier(from: number, to: number, stepMs: number | undefined, spans: TierSpan[], targetPoints: number): number {
  let k0 = spans.findIndex((s) => s.from <= from);
  if (k0 < 0) k0 = spans.length - 1;
  if (stepMs !== undefined) {
    let k = k0;
    for (let i = k0; i < spans.length; i++) if (spans[i].resolutionMs <= stepMs) k = i;
    return k;
  }
  for (let i = k0; i < spans.length; i++) if ((to - from) / spans[i].resolutionMs <= targetPoints) return i;
  return spans.length - 1;
}
