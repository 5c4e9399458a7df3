// The toolbar's request thresholds: when request errors and latency turn an
// edge amber or red. Kept in the browser (localStorage); the map restyles at once.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { DEFAULT_THRESHOLDS, thresholds, type RequestThresholds } from '../model/requests.js';
import './requests.css';

const FIELDS: { key: keyof RequestThresholds; label: string; unit: string; step: number }[] = [
  { key: 'errorWarnPct', label: 'Amber above', unit: '% errors', step: 0.5 },
  { key: 'errorFailPct', label: 'Red from', unit: '% errors', step: 0.5 },
  { key: 'latencyWarnMs', label: 'Amber from p95', unit: 'ms', step: 50 },
  { key: 'latencyFailMs', label: 'Red from p95', unit: 'ms', step: 50 },
];

export function Thresholds() {
  const t = useSyncExternalStore(thresholds.subscribe, thresholds.get);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (ev: MouseEvent) => { if (box.current && !box.current.contains(ev.target as Node)) setOpen(false); };
    const esc = (ev: KeyboardEvent) => { if (ev.key === 'Escape') { ev.preventDefault(); setOpen(false); } };
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', esc);
    return () => { document.removeEventListener('mousedown', away); document.removeEventListener('keydown', esc); };
  }, [open]);
  return (
    <div className="thresholds" ref={box}>
      <button type="button" className={`tab${open ? ' active' : ''}`} aria-expanded={open} onClick={() => setOpen(!open)} data-testid="thresholds-toggle"
        title="When request errors and latency colour an edge">Thresholds</button>
      {open && (
        <div className="thresholds-pop" role="dialog" aria-label="Request thresholds" data-testid="thresholds">
          <p className="muted small">Requests over the last minute colour an edge (failed connections always make it red).</p>
          {FIELDS.map((f) => (
            <label key={f.key} className="threshold-row">
              <span>{f.label}</span>
              <input type="number" min={0} step={f.step} value={t[f.key]} data-testid={`threshold-${f.key}`}
                onChange={(e) => { const v = Number(e.target.value); if (e.target.value !== '' && Number.isFinite(v) && v >= 0) thresholds.set({ [f.key]: v }); }} />
              <span className="muted">{f.unit}</span>
            </label>
          ))}
          <button type="button" className="link" onClick={() => thresholds.set(DEFAULT_THRESHOLDS)} data-testid="thresholds-reset">Back to defaults</button>
        </div>
      )}
    </div>
  );
}
