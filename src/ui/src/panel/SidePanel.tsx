// The side panel for the chosen node or edge. Takes focus when it opens, gives it
// back when it closes, and closes on Escape.
import { useEffect, useRef } from 'react';
import type { Live } from '../app/live.js';
import type { Selection } from '../graph/renderer.js';
import { KIND_NAMES } from '../model/derive.js';
import { EdgePanel } from './EdgePanel.js';
import { NodePanel } from './NodePanel.js';
import { HistoryCharts } from '../history/HistoryCharts.js';
import { failedLookups, PastFailures } from '../history/PastFailures.js';
import { failureCounts } from './failure-wording.js';
import { pastCaption, pastQuery, useHistory, type HistoryState } from '../history/state.js';

interface Props {
  live: Live;
  selection: NonNullable<Selection>;
  onSelect: (sel: Selection) => void;
  onClose: () => void;
  /** When given, charts over the picked past range follow the live numbers. */
  history: HistoryState;
}

export function SidePanel({ live, selection, onSelect, onClose, history }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  const m = live.model;
  const hv = useHistory(history);
  // a past range or moment: the edge's numbers are over it, and its charts come from history (below)
  const past = pastCaption(hv);
  const pastAt = pastQuery(hv);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    return () => { if (before && document.contains(before)) before.focus(); };
  }, []);
  useEffect(() => { heading.current?.focus(); }, [selection.type, selection.id]);
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === 'Escape' && !ev.defaultPrevented) { ev.preventDefault(); onClose(); }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  const labelOf = (id: string) => m.nameOf(id);
  const healthOf = (id: string) => m.healthOf(id);
  let kicker: string;
  let title: string;
  if (selection.type === 'node') {
    const n = m.nodes.get(selection.id);
    kicker = n ? KIND_NAMES[n.kind] : 'Node';
    title = n ? m.nameOf(selection.id) : selection.id;
  } else {
    const e = m.edges.get(selection.id);
    kicker = 'Connection';
    title = e ? `${labelOf(e.source)} → ${labelOf(e.target)}` : selection.id;
  }

  // The past view's failure list is told the numbers the panel shows (the map's, for the range or moment).
  const pastEdges = selection.type === 'node' ? m.edgesOf(selection.id) : [m.edges.get(selection.id)].filter((e) => e !== undefined);
  const pastCounts = past && pastEdges.length ? failureCounts(pastEdges, selection.type === 'node' ? selection.id : undefined) : null;
  // and the names its resolver edges failed to resolve then (the map's own, from the history's failure events)
  const pastLookups = past ? failedLookups(pastEdges.filter((e) => e.dns && (selection.type === 'edge' || e.source === selection.id))) : [];

  return (
    <aside className="panel" aria-labelledby="panel-title" data-testid="side-panel" data-kind={selection.type} data-id={selection.id}>
      <header className="panel-head">
        <div className="panel-titles">
          <div className="kicker">{kicker}</div>
          <h2 id="panel-title" ref={heading} tabIndex={-1} title={title}>{title}</h2>
        </div>
        <button type="button" className="icon-btn" onClick={onClose} aria-label="Close the panel (Escape)" title="Close (Esc)" data-testid="panel-close">
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round"><path d="M6 6l12 12M18 6 6 18" /></svg>
        </button>
      </header>
      <div className="panel-body">
        {selection.type === 'node' ? (
          <NodePanel
            key={selection.id}
            id={selection.id}
            node={m.nodes.get(selection.id)}
            edges={m.edgesOf(selection.id)}
            labelOf={labelOf}
            healthOf={healthOf}
            onSelectEdge={(id) => onSelect({ type: 'edge', id })}
            past={past}
            pastAt={pastAt}
          />
        ) : (
          <EdgePanel
            key={selection.id}
            id={selection.id}
            edge={m.edges.get(selection.id)}
            labelOf={labelOf}
            retransmitsLately={m.retransmitting.has(selection.id)}
            onSelectNode={(id) => onSelect({ type: 'node', id })}
            past={past}
            pastAt={pastAt}
          />
        )}
        <HistoryCharts history={history} selection={selection} />
        <PastFailures history={history} selection={selection} counts={pastCounts} lookups={pastLookups} />
      </div>
    </aside>
  );
}
