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
          {FIELDS.map((f) => <ThresholdField key={f.key} f={f} value={t[f.key]} />)}
          {t.errorWarnPct >= t.errorFailPct && <p className="warn-text small" role="alert" data-testid="threshold-order">Amber errors are at or above red: edges go straight to red.</p>}
          {t.latencyWarnMs >= t.latencyFailMs && <p className="warn-text small" role="alert" data-testid="threshold-order">Amber p95 is at or above red: edges go straight to red.</p>}
          <button type="button" className="link" onClick={() => thresholds.set(DEFAULT_THRESHOLDS)} data-testid="thresholds-reset">Back to defaults</button>
        </div>
      )}
    </div>
  );
}

/**
 * One threshold. What is typed is kept as typed (a field can be cleared to type anew); only a number ≥ 0 is
 * applied, and anything else is marked and said, not silently put back.
 */
function ThresholdField({ f, value }: { f: (typeof FIELDS)[number]; value: number }) {
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? String(value);
  const v = Number(text);
  const bad = draft !== null && (text.trim() === '' || !Number.isFinite(v) || v < 0);
  return (
    <label className="threshold-row">
      <span>{f.label}</span>
      <input type="number" min={0} step={f.step} value={text} data-testid={`threshold-${f.key}`} aria-invalid={bad}
        onChange={(e) => {
          const s = e.target.value, n = Number(s);
          setDraft(s);
          if (s.trim() !== '' && Number.isFinite(n) && n >= 0) thresholds.set({ [f.key]: n });
        }}
        onBlur={() => setDraft(null)} />
      <span className="muted">{f.unit}</span>
      {bad && <span className="warn-text small" role="alert" data-testid={`threshold-${f.key}-error`}>a number, 0 or more ({value} applies)</span>}
    </label>
  );
}
