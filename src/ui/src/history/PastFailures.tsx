// The chosen node's or edge's failed connections in the past view: over the picked range, or in the replayed
// moment, from the history's timeline (the live panel's recent failures are the agent's last few, of now).
import { useEffect, useState } from 'react';
import type { FailureSample } from '../../../graph/types.js';
import type { Selection } from '../graph/renderer.js';
import { Failures, Section } from '../panel/parts.js';
import { failuresWording, sampledNote, type FailureCounts } from '../panel/failure-wording.js';
import { historyApi, type EventsPage, type HistoryEvent } from './api.js';
import { REPLAY_STEP_MS } from './range.js';
import { useHistory, type HistoryState } from './state.js';

/** Failures listed at most (the timeline keeps each failure the agent sampled). */
const MAX_SHOWN = 50;

/** A failure event's detail is the sample the agent kept (store/events.ts). */
const sampleOf = (e: HistoryEvent): FailureSample => ({ ...(e.detail as Omit<FailureSample, 'time'>), time: e.time });

/**
 * `counts`: the selection's failed connections and request errors in the same time, as the panel above shows
 * them (the map's numbers for the range or moment), so an empty list can say why it is empty.
 */
export function PastFailures({ history, selection, counts }: { history: HistoryState; selection: NonNullable<Selection>; counts: FailureCounts | null }) {
  const v = useHistory(history);
  const span = v.range ? (v.at === null ? v.range : { from: v.at, to: v.at + REPLAY_STEP_MS }) : null;
  const [page, setPage] = useState<EventsPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!span) return;
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
  const tcp = page?.events.filter((e) => e.type === 'failure');
  const lookups = lookupsOf(page?.events ?? []);
  const note = tcp && !page!.truncated ? sampledNote(tcp.length, counts) : null;
  const lookupList = lookups.length > 0 && (
    <ul className="failures" data-testid="past-dns-failures">
      {lookups.map((l) => (
        <li key={l.name} data-testid="past-dns-failure" data-name={l.name} data-reason={l.reason}>
          <div className="failure-head"><span className="badge reason-dns">{l.reason}</span><span className="mono">{l.name}</span><span className="muted">× {l.count.toLocaleString('en-US')}</span></div>
        </li>
      ))}
    </ul>
  );
  // A resolver edge fails lookups, not connections: its section says so (its DNS numbers are above).
  if (selection.type === 'edge' && selection.id.endsWith('|dns')) {
    return (
      <Section title={v.at === null ? 'Failed lookups in that range' : 'Failed lookups in the replayed moment'} testId="past-failures">
        {lookupList || <p className="muted">{page || error ? 'No failed lookups sampled in that time.' : 'Loading…'}</p>}
      </Section>
    );
  }
  return (
    <Section title={w.title} testId="past-failures">
      <Failures samples={unseen ? [] : tcp?.map(sampleOf)} loading={!page && !error} error={unseen ? null : error} empty={w.empty} />
      {page?.truncated && <p className="muted small">The first {page.events.length} of that time.</p>}
      {note && <p className="muted small" data-testid="past-failures-sampled">{note}</p>}
      {lookupList && <h4 className="muted small">Failed name lookups (its DNS)</h4>}
      {lookupList}
    </Section>
  );
}

/** Failed lookups by name (the history keeps each resolver edge's failing names per flush, with a count), most first. */
function lookupsOf(events: HistoryEvent[]): { name: string; reason: string; count: number }[] {
  const by = new Map<string, { name: string; reason: string; count: number }>();
  for (const e of events) {
    if (e.type !== 'dns_failure' || typeof e.detail.name !== 'string') continue;
    const l = by.get(e.detail.name) ?? { name: e.detail.name, reason: '', count: 0 };
    l.reason = typeof e.detail.reason === 'string' ? e.detail.reason : l.reason;
    l.count += typeof e.detail.count === 'number' ? e.detail.count : 1;
    by.set(l.name, l);
  }
  return [...by.values()].sort((a, b) => b.count - a.count);
}
