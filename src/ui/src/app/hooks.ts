// Small React hooks: the live version, the OS colour scheme, and polling an endpoint.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Live } from './live.js';
import type { ThemeName } from '../graph/palette.js';

export function useLiveVersion(live: Live): number {
  return useSyncExternalStore(live.subscribe, live.getVersion);
}

const darkQuery = () => window.matchMedia('(prefers-color-scheme: dark)');

export function useOsTheme(): ThemeName {
  const [dark, setDark] = useState(() => darkQuery().matches);
  useEffect(() => {
    const q = darkQuery();
    const on = () => setDark(q.matches);
    q.addEventListener('change', on);
    return () => q.removeEventListener('change', on);
  }, []);
  return dark ? 'dark' : 'light';
}

export interface Polled<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/** Fetches with `load` now and every `everyMs` (null: once) while `key` stays the same; null key pauses. */
export function usePoll<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>, everyMs: number | null, keepOnChange = false): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: null, error: null, loading: key !== null });
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    if (key === null) return;
    // keepOnChange: the last answer stays while the next loads (a replay's steps do not flash "Loading…")
    setState((s) => ({ data: keepOnChange ? s.data : null, error: null, loading: true }));
    let stopped = false;
    let timer: number | undefined;
    let ctl: AbortController | undefined;
    const tick = async () => {
      ctl = new AbortController();
      try {
        const data = await loadRef.current(ctl.signal);
        if (!stopped) setState({ data, error: null, loading: false });
      } catch (e) {
        if (!stopped) setState((s) => ({ data: s.data, error: (e as Error).message || 'request failed', loading: false }));
      }
      if (!stopped && everyMs !== null) timer = window.setTimeout(tick, everyMs);
    };
    void tick();
    return () => { stopped = true; window.clearTimeout(timer); ctl?.abort(); };
  }, [key, everyMs]);
  return state;
}
