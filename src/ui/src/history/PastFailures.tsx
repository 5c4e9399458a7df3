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
  const note = page && !page.truncated ? sampledNote(page.events.length, counts) : null;
  return (
    <Section title={w.title} testId="past-failures">
      <Failures samples={unseen ? [] : page?.events.map(sampleOf)} loading={!page && !error} error={unseen ? null : error} empty={w.empty} />
      {page?.truncated && <p className="muted small">The first {page.events.length} of that time.</p>}
      {note && <p className="muted small" data-testid="past-failures-sampled">{note}</p>}
    </Section>
  );
}
