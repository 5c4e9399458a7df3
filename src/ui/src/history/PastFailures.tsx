// The chosen node's or edge's failed connections in the past view: over the picked range, or in the replayed
// moment, from the history's timeline (the live panel's recent failures are the agent's last few, of now).
import { useEffect, useState } from 'react';
import type { FailureSample, GraphEdge } from '../../../graph/types.js';
import type { Selection } from '../graph/renderer.js';
import { Failures, Section } from '../panel/parts.js';
import { failuresWording, sampledNote, type FailureCounts } from '../panel/failure-wording.js';
import { historyApi, type EventsPage, type HistoryEvent } from './api.js';
import { REPLAY_STEP_MS } from './range.js';
import { isDnsEdgeId } from '../model/derive.js';
import { useHistory, type HistoryState } from './state.js';

/** Failures listed at most (the timeline keeps each failure the agent sampled). */
const MAX_SHOWN = 50;

/** A failure event's detail is the sample the agent kept (store/events.ts). */
const sampleOf = (e: HistoryEvent): FailureSample => ({ ...(e.detail as Omit<FailureSample, 'time'>), time: e.time });

/**
 * `counts`: the selection's failed connections and request errors in the same time, as the panel above shows
 * them (the map's numbers for the range or moment), so an empty list can say why it is empty.
 */
export function PastFailures({ history, selection, counts, lookups }: { history: HistoryState; selection: NonNullable<Selection>; counts: FailureCounts | null; lookups: Lookup[] }) {
  const v = useHistory(history);
  const span = v.range ? (v.at === null ? v.range : { from: v.at, to: v.at + REPLAY_STEP_MS }) : null;
  const [page, setPage] = useState<EventsPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A resolver edge fails lookups, not connections: its section lists them (from the map) and asks for no failures.
  const dnsEdge = selection.type === 'edge' && isDnsEdgeId(selection.id);
  useEffect(() => {
    if (!span || dnsEdge) return;
    const ctl = new AbortController();
    setPage(null); setError(null);
    historyApi.failures(selection, span.from, span.to, MAX_SHOWN, ctl.signal)
      .then(setPage, (e: Error) => { if (e.name !== 'AbortError') setError(e.message); });
    return () => ctl.abort();
  }, [span?.from, span?.to, selection.type, selection.id]);
  if (!span) return null;
  const unseen = error?.startsWith('404') ?? false; // not in the history at all: no failures either
  // The samples are rate-limited per flush (another edge may have taken them all): the counts say how many failed.
  const w = failuresWording(v.at === null ? 'range' : 'moment', counts, 'Requests, above');
  const note = page && !page.truncated ? sampledNote(page.events.length, counts) : null;
  const lookupList = lookups.length > 0 && (
    <ul className="failures" data-testid="past-dns-failures">
      {lookups.map((l) => (
        <li key={l.name} data-testid="past-dns-failure" data-name={l.name} data-reason={l.reason}>
          <div className="failure-head"><span className="badge reason-dns">{l.reason}</span><span className="mono">{l.name}</span><span className="muted">× {l.count.toLocaleString('en-US')}</span></div>
        </li>
      ))}
    </ul>
  );
  if (dnsEdge) {
    return (
      <Section title={v.at === null ? 'Failed lookups in that range' : 'Failed lookups in the replayed moment'} testId="past-failures">
        {lookupList || <p className="muted">No failed lookups in that time.</p>}
      </Section>
    );
  }
  return (
    <Section title={w.title} testId="past-failures">
      <Failures samples={unseen ? [] : page?.events.map(sampleOf)} loading={!page && !error} error={unseen ? null : error} empty={w.empty} />
      {page?.truncated && <p className="muted small">The first {page.events.length} of that time.</p>}
      {note && <p className="muted small" data-testid="past-failures-sampled">{note}</p>}
      {lookupList && <h4 className="muted small">Failed name lookups (its DNS)</h4>}
      {lookupList}
    </Section>
  );
}

interface Lookup { name: string; reason: string; count: number }

/** The names resolver edges failed to resolve (their `dns.failingNames`, on a past map those of its time), by name, most first. */
export function failedLookups(edges: GraphEdge[]): Lookup[] {
  const by = new Map<string, Lookup>();
  for (const e of edges) {
    for (const f of e.dns?.failingNames ?? []) {
      const l = by.get(f.name) ?? { name: f.name, reason: f.reason, count: 0 };
      l.count += f.count;
      by.set(f.name, l);
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count);
}
