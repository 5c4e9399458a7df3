// The toolbar's time picker: Live, a recent range, or two custom ends.
import { useEffect, useState } from 'react';
import { fromLocalInput, TIME_CHOICES, toLocalInput, type TimeChoice } from './range.js';
import { useHistory, type HistoryState } from './state.js';
import './history.css';

export function TimePicker({ history }: { history: HistoryState }) {
  const v = useHistory(history);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  useEffect(() => {
    if (v.range) { setFrom(toLocalInput(v.range.from)); setTo(toLocalInput(v.range.to)); }
  }, [v.range]);

  const applyCustom = (f: string, t: string) => {
    const a = fromLocalInput(f), b = fromLocalInput(t);
    if (a !== null && b !== null) history.setRange({ from: a, to: b }, 'custom');
  };

  return (
    <div className={`time-picker${v.choice !== 'live' ? ' past' : ''}`} role="group" aria-label="Time">
      <label className="field">
        <span className="sr-only">Time range</span>
        <select value={v.choice} onChange={(e) => history.choose(e.target.value as TimeChoice)} data-testid="time-picker" aria-label="Time range">
          {TIME_CHOICES.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
        </select>
      </label>
      {v.choice === 'custom' && (
        <>
          <input type="datetime-local" step={1} value={from} onChange={(e) => { setFrom(e.target.value); applyCustom(e.target.value, to); }} data-testid="time-from" aria-label="From" />
          <span aria-hidden="true">–</span>
          <input type="datetime-local" step={1} value={to} onChange={(e) => { setTo(e.target.value); applyCustom(from, e.target.value); }} data-testid="time-to" aria-label="To" />
        </>
      )}
      {v.error && <span className="warn-text" role="alert" data-testid="time-error">{v.error}</span>}
    </div>
  );
}
