// The top bar: views, filters and the theme switch.
import { memo, type ReactNode } from 'react';
import type { Filters } from '../model/filters.js';

export type View = 'map' | 'table' | 'clients';
export type ThemePref = 'auto' | 'light' | 'dark';

interface Props {
  view: View;
  onView: (v: View) => void;
  filters: Filters;
  onFilters: (f: Filters) => void;
  groups: string[];
  onSearchEnter: () => void;
  themePref: ThemePref;
  onThemePref: (t: ThemePref) => void;
  /** Extra controls before the theme switch (the time picker). */
  children?: ReactNode;
}

const VIEWS: { id: View; label: string }[] = [
  { id: 'map', label: 'Map' },
  { id: 'table', label: 'Table' },
  { id: 'clients', label: 'Remote clients' },
];

const NEXT_THEME: Record<ThemePref, ThemePref> = { auto: 'light', light: 'dark', dark: 'auto' };
const THEME_TEXT: Record<ThemePref, string> = { auto: 'Theme: follows the system', light: 'Theme: light', dark: 'Theme: dark' };

function Toggle({ label, title, checked, onChange, testId }: { label: string; title: string; checked: boolean; onChange: (v: boolean) => void; testId: string }) {
  return (
    <label className={`toggle${checked ? ' on' : ''}`} title={title}>
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
      {label}
    </label>
  );
}

export const Toolbar = memo(function Toolbar({ view, onView, filters, onFilters, groups, onSearchEnter, themePref, onThemePref, children }: Props) {
  const set = (patch: Partial<Filters>) => onFilters({ ...filters, ...patch });
  return (
    <header className="topbar">
      <div className="brand" aria-label="Dhrishti">
        <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true"><circle cx="16" cy="16" r="14" fill="var(--accent)" /><circle cx="16" cy="16" r="6" fill="var(--surface)" /><circle cx="16" cy="16" r="2.5" fill="var(--accent)" /></svg>
        <span>Dhrishti</span>
      </div>
      <nav className="tabs" aria-label="Views">
        {VIEWS.map((v) => (
          <button key={v.id} type="button" className={`tab${view === v.id ? ' active' : ''}`} aria-pressed={view === v.id} onClick={() => onView(v.id)} data-testid={`tab-${v.id}`}>
            {v.label}
          </button>
        ))}
      </nav>
      <div className="filters" role="search" aria-label="Filters">
        <label className="field">
          <span className="sr-only">Project or namespace</span>
          <select value={filters.group} onChange={(e) => set({ group: e.target.value })} data-testid="filter-group" aria-label="Project or namespace">
            <option value="">All projects</option>
            {groups.map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
        </label>
        <label className="field search">
          <span className="sr-only">Search</span>
          <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round"><circle cx="11" cy="11" r="6.5" /><path d="m16 16 4.5 4.5" /></svg>
          <input
            type="search"
            placeholder="Search name, DNS name, image, IP, :port"
            value={filters.search}
            onChange={(e) => set({ search: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter') { e.preventDefault(); onSearchEnter(); }
              if (e.key === 'Escape' && filters.search) { e.preventDefault(); set({ search: '' }); }
            }}
            data-testid="filter-search"
            aria-label="Search nodes by name, image, address or port"
          />
        </label>
        <Toggle label="Host" title="Show host processes (programs outside containers)" checked={filters.showHost} onChange={(v) => set({ showHost: v })} testId="filter-host" />
        <Toggle label="External" title="Show servers outside this host" checked={filters.showExternal} onChange={(v) => set({ showExternal: v })} testId="filter-external" />
        <Toggle label="Clients" title="Show remote clients connecting to this host" checked={filters.showClients} onChange={(v) => set({ showClients: v })} testId="filter-clients" />
        <Toggle label="Failing only" title="Show only connections failing in the last minute: failed connections, requests failing (HTTP 5xx, gRPC, database or Redis errors) or past the request thresholds" checked={filters.failingOnly} onChange={(v) => set({ failingOnly: v })} testId="filter-failing" />
        <Toggle label="Domains" title="Box external servers named by DNS by their registered domain (api.partner.example and payments.partner.example under partner.example)" checked={filters.groupDomains} onChange={(v) => set({ groupDomains: v })} testId="filter-domains" />
      </div>
      <div className="topbar-actions">
        {children}
        <button type="button" className="icon-btn theme" onClick={() => onThemePref(NEXT_THEME[themePref])} aria-label={`${THEME_TEXT[themePref]} (change)`} title={THEME_TEXT[themePref]} data-testid="theme-toggle" data-pref={themePref}>
          {themePref === 'auto' ? (
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2"><circle cx="12" cy="12" r="8" /><path d="M12 4a8 8 0 0 1 0 16z" fill="currentColor" /></svg>
          ) : themePref === 'light' ? (
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round"><circle cx="12" cy="12" r="4" /><path d="M12 2.5v2M12 19.5v2M2.5 12h2M19.5 12h2M5.3 5.3l1.4 1.4M17.3 17.3l1.4 1.4M5.3 18.7l1.4-1.4M17.3 6.7l1.4-1.4" /></svg>
          ) : (
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round"><path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" /></svg>
          )}
        </button>
      </div>
    </header>
  );
});
