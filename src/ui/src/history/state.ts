// What the page shows in time: live (the stream) or a past range, and within a range
// either the whole range summed or one replayed moment. Owns the fetches and the replay timer.
import { useSyncExternalStore } from 'react';
import { api } from '../api/client.js';
import type { Live } from '../app/live.js';
import { historyApi } from './api.js';
import { rangeFor, replayGrid, REPLAY_STEP_MS, type ReplaySpeed, type TimeChoice, type TimeRange } from './range.js';
import { AGENT_RUNS, markersFrom, TOPOLOGY, type Marker } from './markers.js';

export type { Marker };

export interface HistoryView {
  choice: TimeChoice;
  range: TimeRange | null;
  /** The replayed moment; null shows the whole range summed. */
  at: number | null;
  playing: boolean;
  speed: ReplaySpeed;
  markers: Marker[];
  loading: boolean;
  error: string | null;
  /** Of the range summed, how long the agent was recording (its rates are over that); null if not said. */
  recordedMs: number | null;
  /** The past map shown covers a time the agent was not recording at all (an empty map there says nothing). */
  unrecorded: boolean;
  /** A replayed moment's numbers are its stored bucket's, this wide (ms); null when not said. */
  bucketMs: number | null;
}

export class HistoryState {
  private view: HistoryView = { choice: 'live', range: null, at: null, playing: false, speed: 10, markers: [], loading: false, error: null, recordedMs: null, unrecorded: false, bucketMs: null };
  private readonly listeners = new Set<() => void>();
  /** Only the answer to the newest map request is drawn. */
  private seq = 0;
  private ctl: AbortController | undefined;
  private timer: number | undefined;
  /** The project the map is narrowed to ('' for all): the replay track's counts are that project's. */
  private group = '';

  constructor(private readonly live: Live) {}

  /** Follows the map's project filter: a project's markers count its own failures, not every tenant's on the host. */
  setGroup(group: string): void {
    if (group === this.group) return;
    this.group = group;
    if (this.view.range) void this.loadMarkers(this.view.range);
  }

  subscribe = (fn: () => void): (() => void) => { this.listeners.add(fn); return () => this.listeners.delete(fn); };
  get = (): HistoryView => this.view;

  choose(choice: TimeChoice, now = Date.now()): void {
    if (choice === 'live') { this.goLive(); return; }
    if (choice === 'custom') {
      const r = this.view.range ?? rangeFor('1h', now)!;
      this.setRange(r, 'custom');
      return;
    }
    this.setRange(rangeFor(choice, now)!, choice);
  }

  setRange(r: TimeRange, choice: TimeChoice = 'custom'): void {
    if (!(r.from < r.to)) { this.set({ choice, error: 'the start must come before the end' }); return; }
    this.stopTimer();
    this.live.paused = true;
    this.set({ choice, range: r, at: null, playing: false, markers: [], error: null });
    void this.draw(() => historyApi.range(r.from, r.to, this.signal()));
    void this.loadMarkers(r);
  }

  /** Shows the map at `t` (snapped to the replay grid inside the range). */
  scrub(t: number): void {
    const r = this.view.range;
    if (!r) return;
    const g = replayGrid(r);
    const at = Math.min(g.max, Math.max(g.min, Math.round(t / g.step) * g.step));
    this.set({ at });
    void this.draw(() => historyApi.at(at, this.signal()));
  }

  /** Back to the whole range summed. */
  summary(): void {
    const r = this.view.range;
    if (!r) return;
    this.stopTimer();
    this.set({ at: null, playing: false });
    void this.draw(() => historyApi.range(r.from, r.to, this.signal()));
  }

  play(): void {
    const r = this.view.range;
    if (!r) return;
    const g = replayGrid(r);
    const start = this.view.at === null || this.view.at >= g.max ? g.min : this.view.at;
    this.set({ playing: true });
    this.scrub(start);
    this.schedule();
  }

  pause(): void { this.stopTimer(); this.set({ playing: false }); }

  setSpeed(speed: ReplaySpeed): void {
    this.set({ speed });
    if (this.view.playing) { this.stopTimer(); this.schedule(); }
  }

  destroy(): void { this.stopTimer(); this.ctl?.abort(); }

  private schedule(): void {
    this.timer = window.setTimeout(() => {
      const r = this.view.range;
      if (!r || !this.view.playing || this.view.at === null) return;
      const g = replayGrid(r);
      if (this.view.at >= g.max) { this.pause(); return; }
      this.scrub(this.view.at + g.step);
      this.schedule();
    }, REPLAY_STEP_MS / this.view.speed);
  }

  private stopTimer(): void { window.clearTimeout(this.timer); this.timer = undefined; }

  private goLive(): void {
    this.stopTimer();
    this.set({ choice: 'live', range: null, at: null, playing: false, markers: [], error: null });
    void this.draw(() => api.graph(this.signal()), true);
  }

  private signal(): AbortSignal {
    this.ctl?.abort();
    this.ctl = new AbortController();
    return this.ctl.signal;
  }

  private async draw(load: () => Promise<import('../../../graph/types.js').HistoryGraph>, resume = false): Promise<void> {
    const mine = ++this.seq;
    this.set({ loading: true });
    try {
      const g = await load();
      if (mine !== this.seq) return;
      if (resume) this.live.resume(g); else this.live.showSnapshot(g, 'interval');
      this.set({ loading: false, error: null, unrecorded: !resume && g.recordedMs === 0, bucketMs: g.at !== undefined ? g.resolutionMs ?? null : null, ...(g.from !== undefined ? { recordedMs: g.recordedMs || null } : {}) });
    } catch (e) {
      if (mine !== this.seq || (e as Error).name === 'AbortError') return;
      if (resume) this.live.resume(null); // the stream carries on from what is drawn
      this.set({ loading: false, error: (e as Error).message || 'request failed' });
    }
  }

  private async loadMarkers(r: TimeRange): Promise<void> {
    try {
      // Failures and request errors are counted from the stored counts; the failure events are samples, capped per
      // flush (10 of 30 failed connections read as "10 failed connections"). A hub or an older agent has no
      // timeline: its failure events stand in, said to be samples unless they carry their count.
      const timeline = await historyApi.timeline(r.from, r.to, this.group).catch(() => null);
      // (a project's events only where the timeline is: a hub or an older agent takes no group)
      const page = await historyApi.events(r.from, r.to, timeline ? [...TOPOLOGY, ...AGENT_RUNS] : [...TOPOLOGY, ...AGENT_RUNS, 'failure'], timeline ? this.group : '');
      if (this.view.range !== r) return;
      this.set({ markers: markersFrom(page.events, timeline) });
    } catch { /* markers are a hint; the map still works without them */ }
  }

  private set(patch: Partial<HistoryView>): void {
    this.view = { ...this.view, ...patch };
    for (const fn of this.listeners) fn();
  }
}

export function useHistory(h: HistoryState): HistoryView {
  return useSyncExternalStore(h.subscribe, h.get);
}

/** The captions of what a past map's numbers are over: a range summed, or one replayed moment. */
export const PAST_RANGE = 'Over the picked range';
export const PAST_MOMENT = 'In the replayed moment';

/** What the map's numbers are over while it shows the past (a panel's caption); undefined while live. */
export function pastCaption(v: HistoryView): string | undefined {
  return v.range ? (v.at === null ? PAST_RANGE : PAST_MOMENT) : undefined;
}

/** The past a detail is asked for, as the map's own query: the replayed moment (at=), or the range summed (from=&to=). */
export function pastQuery(v: HistoryView): string | undefined {
  if (!v.range) return undefined;
  return v.at === null ? `from=${v.range.from}&to=${v.range.to}` : `at=${v.at}`;
}

/** Whether the map shows the past: re-renders its user only when that changes, not at every replay step. */
export function useShowingPast(h: HistoryState): boolean {
  return useSyncExternalStore(h.subscribe, () => h.get().range !== null);
}

/** Whether the past map shown is of a time nothing was recorded (the agent was not running). */
export function usePastUnrecorded(h: HistoryState): boolean {
  return useSyncExternalStore(h.subscribe, () => h.get().range !== null && h.get().unrecorded);
}
