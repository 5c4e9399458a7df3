// Building blocks shared by the node and edge panels.
import type { ReactNode } from 'react';
import type { FailureSample } from '../../../graph/types.js';
import { PAST_MOMENT } from '../history/state.js';
import { ago, clock } from '../model/format.js';

export function Section({ title, children, testId, aside }: { title: string; children: ReactNode; testId?: string; aside?: ReactNode }) {
  return (
    <section className="panel-section" data-testid={testId}>
      <h3>{title}{aside && <span className="section-aside">{aside}</span>}</h3>
      {children}
    </section>
  );
}

/** "55.8 KB/s" -> 55.8 with a small "KB/s", so numbers fit their boxes. */
function withUnit(v: ReactNode): ReactNode {
  if (typeof v !== 'string') return v;
  const i = v.lastIndexOf(' ');
  if (i < 0 || !/^[A-Za-zµ][A-Za-z/]*$/.test(v.slice(i + 1))) return v;
  return <>{v.slice(0, i)}<span className="stat-unit">{v.slice(i + 1)}</span></>;
}

export function Stat({ label, value, tone, testId }: { label: string; value: ReactNode; tone?: 'bad' | 'warn' | 'good'; testId?: string }) {
  return (
    <div className={`stat${tone ? ` tone-${tone}` : ''}`} data-testid={testId}>
      <div className="stat-value">{withUnit(value)}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

/** "in the replayed moment" / "over the picked range": what a past section's numbers are over, inside a sentence. */
export const pastSpan = (past: string) => (past === PAST_MOMENT ? 'in the replayed moment' : 'over the picked range');

/**
 * What the open-connections figure is: live, those open now; in the past, those open at a stored bucket's end (the
 * largest such over a range). A connection opened and closed inside one bucket is never counted there.
 */
export const openLabel = (past: string | undefined) =>
  !past ? 'open now' : past === PAST_MOMENT ? 'open at its end' : 'open (most at a bucket end)';

export function KeyValues({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k}><dt>{k}</dt><dd>{v}</dd></div>
      ))}
    </dl>
  );
}

export function Failures({ samples, loading, error, empty = 'No failed connections recorded recently.' }: { samples: FailureSample[] | undefined; loading: boolean; error: string | null; empty?: string }) {
  if (!samples) return <p className="muted">{error ? `Could not load: ${error}` : loading ? 'Loading…' : 'None recorded.'}</p>;
  if (samples.length === 0) return <p className="muted">{empty}</p>;
  const sorted = [...samples].sort((a, b) => b.time - a.time);
  return (
    <ul className="failures" data-testid="recent-failures">
      {sorted.map((f, i) => (
        <li key={`${f.time}-${i}`} data-testid="failure-row" data-reason={f.reason}>
          <div className="failure-head">
            <span className={`badge reason-${f.reason}`}>{f.reason}</span>
            <span className="failure-proc">{f.clientComm || 'unknown'}{f.clientPid ? <span className="muted"> · pid {f.clientPid}</span> : null}</span>
            <time dateTime={new Date(f.time).toISOString()} title={new Date(f.time).toLocaleString()}>{clock(f.time)} · {ago(f.time)}</time>
          </div>
          <div className="failure-addr mono">{f.clientAddr} → {f.serverAddr}</div>
          {f.error && <div className="failure-error">{f.error}</div>}
        </li>
      ))}
    </ul>
  );
}
