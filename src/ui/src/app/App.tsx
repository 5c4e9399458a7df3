// The page: top bar, the map or a table, the side panel and the status bar.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ClientsTable } from '../table/ClientsTable.js';
import { EdgeTable } from '../table/EdgeTable.js';
import { MapView } from '../graph/MapView.js';
import type { Selection } from '../graph/renderer.js';
import { computeVisible, NO_FILTERS, nodeMatches, type Filters } from '../model/filters.js';
import { SidePanel } from '../panel/SidePanel.js';
import { StatusBar } from '../status/StatusBar.js';
import { Toolbar, type ThemePref, type View } from '../ui/Toolbar.js';
import { useLiveVersion, useOsTheme } from './hooks.js';
import type { Live } from './live.js';
import { HistoryState, usePastUnrecorded, useShowingPast } from '../history/state.js';
import { TimePicker } from '../history/TimePicker.js';
import { ReplayBar } from '../history/ReplayBar.js';
import { PolicyPanel, PolicyToggle } from '../policy/PolicyPanel.js';
import { policyState } from '../policy/state.js';
import { Thresholds } from '../requests/Thresholds.js';
import { thresholds } from '../model/requests.js';

const THEME_KEY = 'dhrishti.theme';

function storedThemePref(): ThemePref {
  try {
    const v = window.localStorage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'auto';
  } catch { return 'auto'; }
}

export function App({ live }: { live: Live }) {
  const version = useLiveVersion(live);
  const m = live.model;
  const [view, setView] = useState<View>('map');
  const [filters, setFiltersState] = useState<Filters>(NO_FILTERS);
  const [fitKey, setFitKey] = useState(0);
  const [selection, setSelection] = useState<Selection>(null);
  const [revealId, setRevealId] = useState<string | null>(null);
  const [themePref, setThemePref] = useState<ThemePref>(storedThemePref);
  const osTheme = useOsTheme();
  const history = useMemo(() => new HistoryState(live), [live]);
  useEffect(() => () => history.destroy(), [history]);
  const past = useShowingPast(history);
  const unrecorded = usePastUnrecorded(history);
  // The policy panel follows the map's time: a range's or a replayed moment's violations, not the live ones.
  useEffect(() => history.subscribe(() => {
    const v = history.get();
    policyState.setSpan(!v.range ? null : v.at !== null ? { at: v.at } : { from: v.range.from, to: v.range.to });
  }), [history]);
  const timePicker = useMemo(() => <><PolicyToggle /><Thresholds /><TimePicker history={history} /></>, [history]); // same element: the toolbar stays memoized
  useEffect(() => thresholds.subscribe(() => live.restyle()), [live]); // new request thresholds: every edge judged again
  const theme = themePref === 'auto' ? osTheme : themePref;

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    try { window.localStorage.setItem(THEME_KEY, themePref); } catch { /* private mode */ }
  }, [theme, themePref]);

  const setFilters = useCallback((f: Filters) => { setFiltersState(f); setFitKey((k) => k + 1); }, []);
  useEffect(() => live.setGroupDomains(filters.groupDomains), [live, filters.groupDomains]);
  useEffect(() => history.setGroup(filters.group), [history, filters.group]);
  const close = useCallback(() => setSelection(null), []);
  const openEdge = useCallback((id: string) => setSelection({ type: 'edge', id }), []);
  const openNode = useCallback((id: string) => setSelection({ type: 'node', id }), []);
  const labelOf = useCallback((id: string) => m.nameOf(id), [m]);

  // the same list (same array) until a project comes or goes, so the toolbar need not re-render
  const groupsKey = useMemo(() => {
    const gs = m.groups();
    return (filters.group && !gs.includes(filters.group) ? [...gs, filters.group] : gs).join('\u0000');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, filters.group]);
  const groups = useMemo(() => (groupsKey ? groupsKey.split('\u0000') : []), [groupsKey]);

  const visible = useMemo(
    () => computeVisible(m.nodes, m.edges, filters, (id) => m.healthOf(id)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [version, filters],
  );

  const visibleRef = useRef(visible);
  visibleRef.current = visible;

  /** Enter in the search box: open the best match and bring it into view. */
  const onSearchEnter = useCallback(() => {
    const q = filters.search.trim().toLowerCase();
    if (!q) return;
    const candidates = [...visibleRef.current.nodes].map((id) => m.nodes.get(id)!).filter((n) => n && nodeMatches(n, q));
    const best = candidates.find((n) => n.label.toLowerCase() === q) ?? candidates.sort((a, b) => a.label.length - b.label.length)[0];
    if (!best) return;
    setSelection({ type: 'node', id: best.id });
    if (view === 'map') setRevealId(`${best.id}\u0000${Date.now()}`);
  }, [filters.search, m, view]);

  const connected = live.state.phase === 'connected';
  return (
    <div className={`app${selection ? ' with-panel' : ''}`} data-theme={theme}>
      <Toolbar view={view} onView={setView} filters={filters} onFilters={setFilters} groups={groups} onSearchEnter={onSearchEnter} themePref={themePref} onThemePref={setThemePref}>{timePicker}</Toolbar>
      <main className="main">
        <div className="view">
          <MapView
            live={live}
            theme={theme}
            filters={filters}
            selection={selection}
            onSelect={setSelection}
            shown={view === 'map'}
            connected={connected}
            fitKey={view === 'map' ? fitKey : 0}
            revealId={revealId}
            past={past}
            unrecorded={unrecorded}
            shownNodes={visible.nodes.size}
          />
          {view === 'map' && <ReplayBar history={history} />}
          {view === 'map' && <PolicyPanel onOpenEdge={openEdge} />}
          {view === 'table' && <EdgeTable live={live} version={version} filters={filters} selectedId={selection?.type === 'edge' ? selection.id : null} onOpen={openEdge} />}
          {view === 'clients' && <ClientsTable shown labelOf={labelOf} onOpenNode={openNode} search={filters.search} />}
        </div>
        {selection && <SidePanel live={live} selection={selection} onSelect={setSelection} onClose={close} history={history} />}
      </main>
      <StatusBar live={live} shownNodes={visible.nodes.size} shownEdges={visible.edges.size} />
    </div>
  );
}
