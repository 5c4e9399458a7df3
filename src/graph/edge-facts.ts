// Facts read off an edge's connection counts, one definition for the policy
// engine, `check` and the web UI.
import type { FailureReason } from './types.js';

/** The counts these facts need; a GraphEdge's `connections`, or a stored or remote edge's. */
export interface ConnectionCounts {
  opened: number;
  failed: number;
  /** Tells attempts that never connected from connections that failed later (a reset); without it every failure is an attempt. */
  failedBy?: Partial<Record<FailureReason, number>>;
  active?: number;
  closed?: number;
}

/** The failure reasons of attempts that never connected; the others (a reset) end a connection that got through. */
export const ATTEMPT_REASONS: readonly FailureReason[] = ['refused', 'unreachable', 'aborted', 'timeout'];

/** Failed attempts that never connected. A connection that got through and then failed (a reset) is one of the
 *  edge's opened connections already: counted once, as a connection. */
export function attemptsOf(c: ConnectionCounts | undefined): number {
  if (!c) return 0;
  const b = c.failedBy;
  return b ? ATTEMPT_REASONS.reduce((n, r) => n + (b[r] ?? 0), 0) : c.failed;
}

/** Some connection of the edge got through: opened while seen, or open (or closed) since before the agent started. */
export function gotThrough(c: ConnectionCounts | undefined): boolean {
  return !!c && (c.opened > 0 || (c.active ?? 0) > 0 || (c.closed ?? 0) > 0);
}

/** Every attempt the edge made failed: no connection of it ever got through. */
export function neverConnected(c: ConnectionCounts | undefined): boolean {
  return !!c && c.failed > 0 && !gotThrough(c);
}
