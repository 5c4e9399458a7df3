// Requests (L7) in the side panels: a protocol's RED numbers and status
// breakdown, its latency histogram, and the recent failed and slow requests.
import type { EdgeRequests, RequestSample, RequestStatusClass } from '../../../graph/types.js';
import { REQUEST_STATUS_CLASSES } from '../../../graph/types.js';
import { bucketFromUs, quantileUs } from '../../../graph/latency.js';
import { ago, clock, count, micros, millis, rate } from '../model/format.js';
import { errorWord, pctText, protocolName, requestText } from '../model/requests.js';
import { Stat } from '../panel/parts.js';
import './requests.css';

/** One protocol's requests: rate, errors and latency lately, and every request by status class. */
/** past: the block shows a past range or moment (both windows then hold its averages), not the last 10 s and minute. */
export function RequestBlock({ r, testId = 'request-block', past = false }: { r: EdgeRequests; testId?: string; past?: boolean }) {
  const w10 = r.rates['10s'], w1 = r.rates['1m'];
  const recent = (w: string) => (past ? '' : ` (${w})`);
  // no request in the last minute: no error rate to give (not "0%", which reads as healthy traffic)
  const pct = (n: number) => (w1.requests > 0 ? pctText(n / w1.requests) : '–');
  const lat = w1.latency.samples ? w1.latency : r.latency;
  const classes = REQUEST_STATUS_CLASSES.filter((c) => r.status[c] > 0);
  const total = r.count || 1;
  return (
    <div className="req-block" data-testid={testId} data-protocol={r.protocol}>
      <div className="req-head">
        <strong data-testid="request-protocol">{protocolName(r)}</strong>
        {r.tls && <span className="badge" title="Seen in plaintext through the TLS library's uprobes">TLS</span>}
        <span className="muted small">{count(r.count)} requests {past ? 'in that time' : 'since first seen'}</span>
      </div>
      <div className="stats">
        <Stat label={`req/s${recent('10 s')}`} value={rate(w10.requests > 0 ? w10.requests : 0)} testId="stat-req-rate" />
        <Stat label={`${errorWord(r)}${recent('1 min')}`} value={pct(w1.errors)} tone={w1.errors > 0 ? 'bad' : undefined} testId="stat-req-errors" />
        {r.protocol === 'http1' || (r.protocol === 'http2' && !r.grpc) ? <Stat label={`4xx${recent('1 min')}`} value={pct(w1.clientErrors)} tone={w1.clientErrors > 0 ? 'warn' : undefined} testId="stat-req-4xx" /> : null}
        <Stat label={`p95${w1.latency.samples ? recent('1 min') : ''}`} value={lat.samples ? millis(lat.p95Ms) : '–'} testId="stat-req-p95" />
      </div>
      <p className="muted small" data-testid="request-latency">
        latency {past ? 'in that time' : w1.latency.samples ? 'last minute' : 'since first seen'}: p50 {millis(lat.p50Ms)} · p95 {millis(lat.p95Ms)} · p99 {millis(lat.p99Ms)} · mean {millis(lat.meanMs)}
      </p>
      <div className="status-bar" role="img" aria-label={`status: ${classes.map((c) => `${c} ${r.status[c]}`).join(', ')}`}>
        {classes.map((c) => <span key={c} className={`st-${c}`} style={{ width: `${(r.status[c] / total) * 100}%` }} />)}
      </div>
      <div className="status-legend" data-testid="status-breakdown">
        <span className="muted" data-testid="status-breakdown-span">{past ? 'in that time:' : 'since first seen:'}</span>
        {classes.map((c) => <span key={c} data-status={c}><i className={`st-${c}`} />{statusName(c)} {count(r.status[c])}</span>)}
        {r.unpaired > 0 && (
          <span className="warn-text" data-testid="request-unpaired" title="Requests that never got a response because the client's end closed first (a client that gave up, a load generator stopping), or responses the parser could not pair (framing lost). Requests the server's end closed on count as errors.">
            {count(r.unpaired)} without a response
          </span>
        )}
      </div>
    </div>
  );
}

const statusName = (c: RequestStatusClass) => (c === 'ok' ? 'OK' : c === 'error' ? 'error' : c === 'other' ? 'no status' : c);

/** A latency histogram: bars over the log2 buckets that hold requests, with the p95 marked. */
export function LatencyHistogram({ buckets, sumUs, maxUs, caption, testId = 'latency-histogram' }: { buckets: number[]; sumUs?: number; maxUs?: number; caption: string; testId?: string }) {
  const first = buckets.findIndex((n) => n > 0);
  if (first < 0) return <p className="muted small">No requests to chart.</p>;
  let last = buckets.length - 1;
  while (last > first && !buckets[last]) last--;
  const lo = Math.max(0, first - 1), hi = Math.min(buckets.length - 1, last + 1);
  const shown = buckets.slice(lo, hi + 1);
  const peak = Math.max(...shown);
  const W = 300, H = 84, base = 66, bw = W / shown.length;
  const p95 = quantileUs(buckets, 0.95, undefined, sumUs, maxUs);
  const total = buckets.reduce((a, b) => a + b, 0);
  return (
    <figure className="spark" data-testid={testId}>
      <figcaption><span className="spark-label">{caption}</span><span className="spark-value">p95 {micros(p95)}</span></figcaption>
      <svg className="latency-hist" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${caption}: ${count(total)} requests, p95 ${micros(p95)}`}>
        {shown.map((n, k) => {
          const i = lo + k, h = n ? Math.max(2, (n / peak) * (base - 6)) : 0;
          const slow = n > 0 && 2 ** (i + 1) > p95; // at or past the p95's bucket
          return (
            <g key={i} data-bucket={i} data-count={n}>
              <rect className={`bar${slow ? ' slow' : ''}`} x={k * bw + 1} y={base - h} width={Math.max(1, bw - 2)} height={h}>
                <title>{`${micros(Math.max(1, bucketFromUs(i)))}–${micros(2 ** (i + 1))}: ${count(n)} requests`}</title>
              </rect>
              {(k % Math.max(1, Math.ceil(shown.length / 6)) === 0) && <text x={k * bw + 1} y={H - 4}>{micros(Math.max(1, bucketFromUs(i)))}</text>}
            </g>
          );
        })}
        <line className="tick" x1="0" x2={W} y1={base} y2={base} />
      </svg>
    </figure>
  );
}

/** The recent failed and slow requests, newest first. */
export function RequestSamples({ samples, loading, error, empty = 'No failed or slow requests recorded recently.' }: { samples: RequestSample[] | undefined; loading: boolean; error: string | null; empty?: string }) {
  if (!samples) return <p className="muted">{error ? `Could not load: ${error}` : loading ? 'Loading…' : 'None recorded.'}</p>;
  if (!samples.length) return <p className="muted">{empty}</p>;
  return (
    <table className="mini requests" data-testid="request-samples">
      <thead><tr><th scope="col">time</th><th scope="col">request</th><th scope="col">status</th><th scope="col">latency</th><th scope="col">process</th><th scope="col">server</th></tr></thead>
      <tbody>
        {samples.map((s, i) => {
          const bad = s.statusClass === '5xx' || s.statusClass === 'error' || s.statusClass === '4xx';
          return (
            <tr key={`${s.time}-${i}`} data-testid="request-sample" data-status={s.status} data-reasons={s.reasons.join(',')}>
              <td title={`${new Date(s.time).toLocaleString()} (${ago(s.time)})`}>{clock(s.time)}</td>
              <td className="target mono" title={s.target ?? ''}>{requestText(s.method, s.target)}</td>
              <td className={bad ? 'status-bad' : undefined}>{statusText(s)}</td>
              <td className={s.reasons.includes('slow') ? 'warn-text' : undefined}>{millis(s.latencyMs)}</td>
              <td title={`pid ${s.pid}, ${s.side} side${s.tls ? ', TLS' : ''}`}>{s.process}</td>
              <td className="mono" data-testid="request-sample-server" title="the server end's instance that answered (a replica), or its address">{s.server ?? '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function statusText(s: RequestSample): string {
  if (s.reasons.includes('no-response')) return 'no response';
  if (s.reasons.includes('abandoned')) return 'client gave up';
  if (s.protocol === 'http1' || (s.protocol === 'http2' && s.statusClass !== 'ok' && s.statusClass !== 'error')) return String(s.status);
  if (s.protocol === 'http2') return s.statusClass === 'ok' ? 'OK' : `grpc ${s.status}`;
  if (s.protocol === 'mysql' && s.statusClass === 'error' && s.status > 1) return `ERR ${s.status}`;
  if (s.code) return `error ${s.code}`;
  return s.statusClass === 'ok' ? 'OK' : 'error';
}
