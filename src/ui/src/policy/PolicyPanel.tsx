// Policy mode's controls: the toolbar switch, and the panel listing
// violations (rule, ends, first and last seen, counts, processes) with the
// intent diff and what the marks on the map mean.
import { useSyncExternalStore } from 'react';
import { policyState, type Violation } from './state.js';
import './policy.css';

function usePolicy() {
  useSyncExternalStore(policyState.subscribe, policyState.snapshot);
  return policyState;
}

export function PolicyToggle() {
  const s = usePolicy();
  const n = s.on ? s.policy?.counts.violation ?? 0 : 0;
  return (
    <button type="button" className={`tab policy-toggle${s.on ? ' active' : ''}`} aria-pressed={s.on} onClick={() => s.setOn(!s.on)}
      title="Policy mode: violations, undeclared and declared-but-unused edges, zones" data-testid="policy-toggle">
      Policy{n ? <span className="policy-count" data-testid="policy-count">{n}</span> : null}
    </button>
  );
}

const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const short = (id: string) => id.replace(/^(svc|ctr|proc|ext|client):/, '');

function ViolationRow({ v, onOpen }: { v: Violation; onOpen: (edge: string) => void }) {
  return (
    <li className="policy-violation" data-testid="policy-violation" data-edge={v.edge}>
      <button type="button" onClick={() => onOpen(v.edge)} title="Show this edge">
        <div className="pv-head">
          <span className={`pv-badge${v.attempted ? ' attempted' : ''}`}>{v.attempted ? 'attempted' : 'connected'}</span>
          <span className="pv-ends">{short(v.client)} → {short(v.server)}:{v.port}</span>
        </div>
        <div className="pv-rule">rule <b>{v.rule}</b></div>
        <div className="pv-meta">
          first {time(v.firstSeen)} · last {time(v.lastSeen)} · {v.connections} connected · {v.attempts} never connected
        </div>
        {v.processes.client.length > 0 && <div className="pv-proc">from {v.processes.client.join(', ')}</div>}
      </button>
    </li>
  );
}

export function PolicyPanel({ onOpenEdge }: { onOpenEdge: (id: string) => void }) {
  const s = usePolicy();
  if (!s.on) return null;
  const p = s.policy, i = s.intent;
  return (
    <aside className="policy-panel" aria-label="Policy" data-testid="policy-panel" data-map-overlay>
      <h2>Policy</h2>
      {s.note && <p className="policy-note">{s.note}</p>}
      {p && (
        <p className="policy-file">
          {p.file}{p.loadedAt ? `, loaded ${time(p.loadedAt)}` : ''} · {p.counts.violation} violation{p.counts.violation === 1 ? '' : 's'}, {p.counts.allowed} allowed, {p.counts.unmatched} unmatched
        </p>
      )}
      {p?.lastError && (
        <p className="policy-error" role="alert">Edit refused: {p.lastError.file}:{p.lastError.line}:{p.lastError.column}: {p.lastError.message}. The previous policy stays.</p>
      )}
      {p && p.warnings.length > 0 && (
        <details className="policy-warnings" data-testid="policy-warnings">
          <summary>{p.warnings.length} warning{p.warnings.length === 1 ? '' : 's'}</summary>
          <ul>{p.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
        </details>
      )}
      {p && (
        <>
          <h3>Violations</h3>
          {p.violations.length ? (
            <ul className="policy-list">{p.violations.map((v) => <ViolationRow key={v.edge} v={v} onOpen={onOpenEdge} />)}</ul>
          ) : <p className="policy-none">None.</p>}
        </>
      )}
      {i && (
        <>
          <h3>Compose intent</h3>
          <p className="policy-intent">
            <span className="swatch undeclared" /> {i.undeclared.length} observed but not declared ·{' '}
            <span className="swatch ghost" /> {i.unused.length} declared, never seen · {i.crossings.length} network crossing{i.crossings.length === 1 ? '' : 's'}
          </p>
          {i.unused.length > 0 && (
            <ul className="policy-unused">
              {i.unused.map((d) => <li key={`${d.client}|${d.server}`} data-testid="policy-unused">{short(d.client)} → {short(d.server)} <small>({d.evidence[0]?.text}, {d.evidence[0]?.at.file.split('/').pop()}:{d.evidence[0]?.at.line})</small></li>)}
            </ul>
          )}
        </>
      )}
      <h3>On the map</h3>
      <ul className="policy-legend">
        <li><span className="swatch violation" /> violation (short dashes: attempted, never connected)</li>
        <li><span className="swatch undeclared" /> observed, not declared in the compose files</li>
        <li><span className="swatch ghost" /> declared, never observed</li>
        <li><span className="swatch zone" /> a zone of the policy</li>
      </ul>
    </aside>
  );
}
