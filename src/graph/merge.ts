// Folding one edge into another, when two nodes turn out to be one: a
// container named from its cgroup path alone (Docker not followed yet, or its
// inspect not back) is the same container as the named node that follows
// (LiveGraph.mergeNode). Every number is added, so the folded edge reads as if
// its connections had been placed on the other from the start.
import type { EdgeState } from './state.js';
import { FAILURE_REASONS } from './types.js';

/** A resolver edge's running totals (EdgeDns), as opposed to its views. */
const DNS_TOTALS = ['queries', 'answered', 'noerror', 'nxdomain', 'servfail', 'refused', 'otherErrors', 'timeouts', 'failures'] as const;

export interface FoldLimits { failureSamples: number; requestSamples: number; clientInstances: number }

/**
 * Adds `from`'s numbers to `into`: running totals, the rate windows, the RTT and duration samples, the interval's
 * counts not drained yet (from's are then the caller's to reset), failure and request samples, client instances.
 */
export function foldEdge(into: EdgeState, from: EdgeState, now: number, limits: FoldLimits): void {
  const a = into.e, b = from.e;
  a.connections.opened += b.connections.opened;
  a.connections.active += b.connections.active;
  a.connections.closed += b.connections.closed;
  a.connections.failed += b.connections.failed;
  for (const r of FAILURE_REASONS) a.connections.failedBy[r] += b.connections.failedBy[r];
  a.bytes.sent += b.bytes.sent;
  a.bytes.received += b.bytes.received;
  a.retransmits += b.retransmits;
  a.firstSeen = Math.min(a.firstSeen, b.firstSeen);
  a.lastSeen = Math.max(a.lastSeen, b.lastSeen);
  into.window.absorb(from.window, now);
  into.rtt.absorb(from.rtt);
  into.duration.absorb(from.duration);
  into.counts.absorb(from.counts);
  into.failures.push(...from.failures);
  into.failures.sort((x, y) => x.time - y.time);
  if (into.failures.length > limits.failureSamples) into.failures.splice(0, into.failures.length - limits.failureSamples);
  if (from.requests) {
    if (into.requests) into.requests.absorb(from.requests, now, limits.requestSamples);
    else into.requests = from.requests;
  }
  if (b.dns) { // a resolver edge: its running totals here, its views of the pairs' health are the resolver edges' (ResolverEdges.edgesMoved)
    const t = a.dns;
    if (!t) a.dns = b.dns;
    else for (const k of DNS_TOTALS) t[k] += b.dns[k];
  }
  if (b.clientInstances?.length) {
    const list = (a.clientInstances ??= []);
    for (const name of b.clientInstances) if (!list.includes(name)) list.unshift(name); // older than into's own
    if (list.length > limits.clientInstances) list.splice(0, list.length - limits.clientInstances);
    into.counts.clientsChanged = true;
  }
}
