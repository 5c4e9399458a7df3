// Time picker choices and the replay grid. Pure logic.

export type TimeChoice = 'live' | '15m' | '1h' | '24h' | 'custom';

export const TIME_CHOICES: { id: TimeChoice; label: string; ms?: number }[] = [
  { id: 'live', label: 'Live' },
  { id: '15m', label: 'Last 15 min', ms: 15 * 60_000 },
  { id: '1h', label: 'Last 1 h', ms: 60 * 60_000 },
  { id: '24h', label: 'Last 24 h', ms: 24 * 60 * 60_000 },
  { id: 'custom', label: 'Custom…' },
];

/** The store's finest resolution: replay moves in these steps. */
export const REPLAY_STEP_MS = 10_000;
export const REPLAY_SPEEDS = [1, 10, 60] as const;
export type ReplaySpeed = (typeof REPLAY_SPEEDS)[number];

export interface TimeRange { from: number; to: number }

export function rangeFor(choice: TimeChoice, now: number): TimeRange | null {
  const c = TIME_CHOICES.find((x) => x.id === choice);
  return c?.ms ? { from: now - c.ms, to: now } : null;
}

/** Scrubber ends: whole steps inside the range (the last one is the bucket holding `to`). */
export function replayGrid(r: TimeRange, step = REPLAY_STEP_MS): { min: number; max: number; step: number } {
  const min = Math.floor(r.from / step) * step;
  const max = Math.max(min, Math.floor((r.to - 1) / step) * step);
  return { min, max, step };
}

/** A Date as the value of an <input type=datetime-local step=1> (local time, to the second: an incident's moment, not its minute). */
export function toLocalInput(t: number): string {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

export function fromLocalInput(v: string): number | null {
  if (!v) return null;
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? t : null;
}

export function formatTime(t: number, withDate: boolean): string {
  const d = new Date(t);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return withDate ? `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}` : time;
}
