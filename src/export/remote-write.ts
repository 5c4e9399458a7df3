// Prometheus remote-write push (`--remote-write URL`) for hosts Prometheus
// cannot scrape: the families as remote-write time series, encoded and
// snappy-compressed by the prometheus-remote-write library.
import { pushTimeseries } from 'prometheus-remote-write';
import { EXPORT_DEFAULTS } from '../config/defaults.js';
import { cumulativeRows, type Labels, type Snapshot } from './families.js';
import type { PushStats } from './push-stats.js';

export interface RemoteWriteOptions {
  url: string;
  intervalMs?: number;
  headers?: Record<string, string>;
  /** Labels a scrape would have added (job, instance), so queries work the same. */
  labels?: Labels;
}

export function checkRemoteWriteUrl(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new Error(`--remote-write must be a URL such as http://prometheus:9090/api/v1/write, got "${url}"`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--remote-write must be http(s), got "${url}"`);
  return u.toString();
}

export interface Timeseries { labels: { __name__: string; [k: string]: string }; samples: { value: number; timestamp: number }[] }

/** One sample per series at the snapshot's time. */
export function toTimeseries(snap: Snapshot, extra: Labels = {}): Timeseries[] {
  const out: Timeseries[] = [];
  const t = snap.time;
  for (const f of snap.families) {
    if (f.type === 'histogram') {
      for (const s of f.series) {
        for (const r of cumulativeRows(f, s)) out.push({ labels: { ...extra, ...r.labels, __name__: f.name + r.suffix }, samples: [{ value: r.value, timestamp: t }] });
      }
    } else if (f.type === 'summary') {
      for (const s of f.series) {
        out.push({ labels: { ...extra, ...s.labels, __name__: `${f.name}_sum` }, samples: [{ value: s.sum, timestamp: t }] });
        out.push({ labels: { ...extra, ...s.labels, __name__: `${f.name}_count` }, samples: [{ value: s.count, timestamp: t }] });
      }
    } else {
      for (const s of f.series) out.push({ labels: { ...extra, ...s.labels, __name__: f.name }, samples: [{ value: s.value, timestamp: t }] });
    }
  }
  return out;
}

/** fetch with a deadline, in the shape the library calls. */
function timedFetch(timeoutMs: number) {
  return async (url: string, init?: { method: string; headers: Record<string, string>; body: ArrayBufferLike }) => {
    const res = await fetch(url, { method: init?.method, headers: init?.headers, body: init ? (init.body as unknown as BodyInit) : undefined, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, statusText: res.statusText, text: () => res.text() };
  };
}

/** Sends one batch; resolves to an error message, or null when the receiver took it. */
export async function writeOnce(url: string, series: Timeseries[], opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<string | null> {
  try {
    const r = await pushTimeseries(series, {
      url,
      fetch: timedFetch(opts.timeoutMs ?? EXPORT_DEFAULTS.pushTimeoutMs),
      headers: { 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'User-Agent': 'dhrishti', ...opts.headers },
    });
    return r.status >= 200 && r.status < 300 ? null : `HTTP ${r.status} ${r.statusText}${r.errorMessage ? `: ${r.errorMessage.trim().slice(0, 200)}` : ''}`;
  } catch (e) {
    return (e as Error).message;
  }
}

export class RemoteWritePusher {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly url: string;

  constructor(private readonly snapshot: () => Snapshot, readonly stats: PushStats, private readonly o: RemoteWriteOptions) {
    this.url = checkRemoteWriteUrl(o.url);
  }

  start(): void {
    this.timer = setInterval(() => void this.push(), this.o.intervalMs ?? EXPORT_DEFAULTS.remoteWriteIntervalMs);
    this.timer.unref();
    void this.push();
  }

  /** One push; skipped while the previous one is still going (a slow receiver never piles up requests). */
  async push(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const t0 = performance.now();
    try {
      const err = await writeOnce(this.url, toTimeseries(this.snapshot(), this.o.labels), { headers: this.o.headers });
      this.stats.record(err === null, performance.now() - t0, err ?? undefined);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
