// The map: a Cytoscape canvas fed by the live model, with zoom controls, a legend
// and a message when there is nothing to draw. Also exposes window.__dhrishti for tests.
import { memo, useEffect, useRef, useState } from 'react';
import type { Live } from '../app/live.js';
import type { Filters } from '../model/filters.js';
import { emptyChange } from '../model/graphModel.js';
import { Legend } from './Legend.js';
import { PALETTES, type ThemeName } from './palette.js';
import { MapRenderer, type Selection } from './renderer.js';
import { installTestHook } from './testHook.js';
import { attachPolicyOverlay } from '../policy/overlay.js';
import type { Rect } from './viewport.js';
import './map.css';

/** Panels over the map marked data-map-overlay (legend, buttons, replay bar), in the canvas's pixels. */
function overlaysOver(canvas: HTMLElement): Rect[] {
  const base = canvas.getBoundingClientRect();
  const scope = canvas.closest('.view') ?? canvas.parentElement;
  if (!scope) return [];
  return [...scope.querySelectorAll<HTMLElement>('[data-map-overlay]')]
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0)
    .map((r) => ({ x1: r.left - base.left - 6, y1: r.top - base.top - 6, x2: r.right - base.left + 6, y2: r.bottom - base.top + 6 }));
}

interface Props {
  live: Live;
  theme: ThemeName;
  filters: Filters;
  selection: Selection;
  onSelect: (sel: Selection) => void;
  shown: boolean;
  connected: boolean;
  /** Bumps when the map should frame what is visible (e.g. after a filter change). */
  fitKey: number;
  /** `id\u0000nonce`: centres the view on that node each time it changes. */
  revealId: string | null;
  /** The map shows a moment or range from the history (the legend then speaks of that time). */
  past: boolean;
  /** The past shown is of a time the agent was not recording. */
  unrecorded?: boolean;
  /** Nodes the filters and search leave shown (of those loaded). */
  shownNodes?: number;
}

export const MapView = memo(function MapView({ live, theme, filters, selection, onSelect, shown, connected, fitKey, revealId, past, unrecorded, shownNodes }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const renderer = useRef<MapRenderer | null>(null);
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const [counts, setCounts] = useState({ loaded: false, nodes: 0 });
  const [layouting, setLayouting] = useState(false);
  const [folded, setFolded] = useState<string[]>([]);

  useEffect(() => {
    const canvas = box.current!;
    const r = new MapRenderer(canvas, live.model, PALETTES[theme], {
      onSelect: (sel) => onSelectRef.current(sel),
      onLayouting: setLayouting,
      onFolded: setFolded,
      obstacles: () => overlaysOver(canvas),
    });
    renderer.current = r;
    r.setFilters(filters, false);
    const sync = () => setCounts((c) => (c.loaded === live.model.loaded && c.nodes === live.model.nodes.size ? c : { loaded: live.model.loaded, nodes: live.model.nodes.size }));
    if (live.model.loaded) {
      const all = emptyChange(true);
      all.addedNodes = [...live.model.nodes.keys()];
      all.addedEdges = [...live.model.edges.keys()];
      r.applyChange(all);
      sync();
    }
    const off = live.onChange((c) => { r.applyChange(c); sync(); });
    const removeHook = installTestHook(live, r);
    const removePolicy = attachPolicyOverlay(r.cy, live);
    return () => { off(); removeHook(); removePolicy(); r.destroy(); renderer.current = null; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [live]);

  // panels over the map (the replay bar, the legend opening or closing) change what is clear to draw on
  useEffect(() => {
    const section = box.current!.parentElement!;
    const view = section.parentElement ?? section;
    const sizes = new ResizeObserver(() => renderer.current?.panelsChanged());
    const watch = () => {
      sizes.disconnect();
      for (const el of view.querySelectorAll('[data-map-overlay]')) sizes.observe(el);
    };
    const children = new MutationObserver(watch);
    children.observe(view, { childList: true });
    children.observe(section, { childList: true });
    watch();
    return () => { children.disconnect(); sizes.disconnect(); };
  }, []);

  useEffect(() => { renderer.current?.setPalette(PALETTES[theme]); }, [theme]);
  // filters apply at once; the view frames the result once typing pauses (unless the user moves it first)
  useEffect(() => {
    renderer.current?.setFilters(filters, false);
    if (fitKey === 0) return;
    return renderer.current?.fitLater(250);
  }, [filters, fitKey]);
  useEffect(() => { renderer.current?.select(selection); }, [selection]);
  useEffect(() => { if (revealId) renderer.current?.reveal(revealId.split('\u0000')[0]); }, [revealId]);
  useEffect(() => {
    const r = renderer.current;
    if (!r) return;
    if (shown) r.cy.resize();
    r.setPaused(!shown);
  }, [shown]);

  const empty = counts.loaded && counts.nodes === 0;
  const filteredOut = counts.loaded && counts.nodes > 0 && shownNodes === 0; // a search with no match: say so, not a blank map
  return (
    <section className="map" aria-label="Service map" hidden={!shown} data-testid="map">
      <div ref={box} className="map-canvas" data-testid="map-canvas" />
      {!counts.loaded && (
        <div className="map-empty" data-testid="map-waiting" role="status">
          <div className="spinner" aria-hidden="true" />
          <p>{connected ? 'Loading the service map…' : 'Waiting for the Dhrishti agent…'}</p>
        </div>
      )}
      {layouting && (
        <div className="map-empty" data-testid="map-layouting" role="status">
          <div className="spinner" aria-hidden="true" />
          <p>Laying out {counts.nodes} nodes…</p>
        </div>
      )}
      {past && unrecorded && !empty && counts.loaded && (
        <p className="map-banner" data-testid="map-unrecorded" role="status">
          The agent was not running at this moment: nothing was recorded. The map shows what it had seen shortly
          before, not what happened then.
        </p>
      )}
      {empty && (
        <div className="map-empty" data-testid="map-empty" role="status">
          {!past ? (
            <>
              <p className="big">No connections seen yet</p>
              <p>Services appear here as soon as they open a TCP connection.</p>
            </>
          ) : unrecorded ? (
            <>
              <p className="big">Nothing was recorded then</p>
              <p>The agent was not running at that time: its history starts when it first ran with it on.</p>
            </>
          ) : (
            <>
              <p className="big">No connections in that time</p>
              <p>The agent was recording, and saw no connection.</p>
            </>
          )}
        </div>
      )}
      {filteredOut && (
        <div className="map-empty" data-testid="map-no-match" role="status">
          <p className="big">Nothing matches the filters</p>
          <p>{counts.nodes} node{counts.nodes === 1 ? ' is' : 's are'} on the map: clear the search or the filters to see them.</p>
        </div>
      )}
      {folded.length > 0 && shown && (
        <div className="map-hint" data-map-overlay data-testid="folded-hint" role="status">
          Folded into {folded.length} box{folded.length > 1 ? 'es' : ''}: tap one to open it
          <button type="button" className="link" onClick={() => renderer.current?.setAllFolded(false)} data-testid="unfold-all">unfold all</button>
        </div>
      )}
      <div className="map-controls" role="toolbar" aria-label="Zoom" data-map-overlay>
        <button type="button" onClick={() => renderer.current?.zoomBy(1.25)} aria-label="Zoom in" title="Zoom in" data-testid="zoom-in">+</button>
        <button type="button" onClick={() => renderer.current?.zoomBy(0.8)} aria-label="Zoom out" title="Zoom out" data-testid="zoom-out">−</button>
        <button type="button" onClick={() => renderer.current?.fit(true)} aria-label="Fit the map to the window" title="Fit" data-testid="zoom-fit">
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round"><path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" /></svg>
        </button>
        <button type="button" onClick={() => renderer.current?.setAllFolded(folded.length === 0)} data-testid="fold-toggle" data-folded={folded.length > 0}
          aria-label={folded.length ? 'Unfold every project' : 'Fold each project into one node'} title={folded.length ? 'Unfold all projects' : 'Fold projects'}>
          {folded.length ? (
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><rect x="4" y="4" width="16" height="16" rx="3" /><path d="M9 12h6M12 9v6" /></svg>
          ) : (
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><rect x="4" y="4" width="16" height="16" rx="3" /><path d="M9 12h6" /></svg>
          )}
        </button>
      </div>
      <Legend past={past} />
    </section>
  );
});
