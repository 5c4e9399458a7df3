// The chosen node's or edge's failed connections in the past view: over the picked range, or in the replayed
// moment, from the history's timeline (the live panel's recent failures are the agent's last few, of now).
import { useEffect, useState } from 'react';
import type { FailureSample } from '../../../graph/types.js';
import type { Selection } from '../graph/renderer.js';
import { Failures, Section } from '../panel/parts.js';
import { historyApi, type EventsPage, type HistoryEvent } from './api.js';
import { REPLAY_STEP_MS } from './range.js';
import { useHistory, type HistoryState } from './state.js';

/** Failures listed at most (the timeline keeps each failure the agent sampled). */
const MAX_SHOWN = 50;

/** A failure event's detail is the sample the agent kept (store/events.ts). */
const sampleOf = (e: HistoryEvent): FailureSample => ({ ...(e.detail as Omit<FailureSample, 'time'>), time: e.time });

export function PastFailures({ history, selection }: { history: HistoryState; selection: NonNullable<Selection> }) {
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
  return (
    <Section title={v.at === null ? 'Failures over the picked range' : 'Failures in the replayed moment'} testId="past-failures">
      <Failures samples={unseen ? [] : page?.events.map(sampleOf)} loading={!page && !error} error={unseen ? null : error} empty="No failures in that time." />
      {page?.truncated && <p className="muted small">The first {page.events.length} of that time.</p>}
    </Section>
  );
}
