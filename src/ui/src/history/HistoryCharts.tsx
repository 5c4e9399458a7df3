// Side panel charts for the chosen node or edge over the picked range, from /api/v1/timeseries.
import { useEffect, useState } from 'react';
import type { Selection } from '../graph/renderer.js';
import { bytes, count, millis } from '../model/format.js';
import { isDnsEdgeId } from '../model/derive.js';
import { Sparkline } from '../panel/Sparkline.js';
import { historyApi, type Series, type SeriesMetric } from './api.js';
import { PAST_RANGE, useHistory, type HistoryState } from './state.js';

const CHARTS: { metric: SeriesMetric; label: string; color: string; format: (v: number) => string }[] = [
  { metric: 'connections', label: 'connections', color: 'var(--accent)', format: count },
  { metric: 'failures', label: 'failures', color: 'var(--edge-fail)', format: count },
  { metric: 'bytes_sent', label: 'bytes sent', color: 'var(--edge-ok)', format: bytes },
  { metric: 'bytes_received', label: 'bytes received', color: 'var(--kind-container)', format: bytes },
  // Requests (a node's: inbound); drawn only when the selection had any in the range.
  { metric: 'requests', label: 'requests', color: 'var(--accent)', format: count },
  { metric: 'request_errors', label: 'request errors', color: 'var(--edge-fail)', format: count },
  { metric: 'request_p95', label: 'request p95', color: 'var(--edge-warn)', format: millis },
];
const REQUEST_METRICS = new Set<SeriesMetric>(['requests', 'request_errors', 'request_p95']);
/** A resolver edge counts queries where a TCP edge counts connections (GraphEdge, protocol 'dns'), and moves no bytes. */
const DNS_LABELS: Partial<Record<SeriesMetric, string>> = { connections: 'queries', failures: 'failed queries' };
const isDnsEdge = (s: NonNullable<Selection>) => s.type === 'edge' && isDnsEdgeId(s.id);

export function HistoryCharts({ history, selection }: { history: HistoryState; selection: NonNullable<Selection> }) {
  const v = useHistory(history);
  const dns = isDnsEdge(selection);
  const [series, setSeries] = useState<Series[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const range = v.range;
  useEffect(() => {
    if (!range) return;
    const ctl = new AbortController();
    setSeries(null); setError(null);
    Promise.all(CHARTS.map((c) => historyApi.series(selection, c.metric, range.from, range.to, ctl.signal)))
      .then(setSeries, (e: Error) => { if (e.name !== 'AbortError') setError(e.message); });
    return () => ctl.abort();
  }, [range, selection.type, selection.id]);
  if (!range) return null;
  return (
    <section className="history-charts" data-testid="history-charts">
      <h3>{PAST_RANGE}</h3>
      {error && <p className="muted">{error.startsWith('404') ? 'Not seen in this range.' : `History unavailable (${error}).`}</p>}
      {!error && !series && <p className="muted">Loading…</p>}
      {series && (
        <div className="sparks">
          {CHARTS.map((c, i) => {
            const pts = series[i].points;
            if (REQUEST_METRICS.has(c.metric) && !series[CHARTS.findIndex((x) => x.metric === 'requests')].points.some((p) => (p.v ?? 0) > 0)) return null;
            if (dns && c.metric.startsWith('bytes_')) return null;
            const label = (dns && DNS_LABELS[c.metric]) || c.label;
            const per = c.metric === 'request_p95' ? ` (${series[i].step / 1000}s buckets)` : ` per ${series[i].step / 1000}s`;
            // A range's headline is its total or peak, not its last bucket's (which is not "now").
            const headline = c.metric === 'request_p95' ? 'peak' : 'total';
            return <Sparkline key={c.metric} label={`${label}${per}`} times={pts.map((p) => p.t)} values={pts.map((p) => p.v)}
              format={c.format} color={c.color} headline={headline} testId={`history-${c.metric}`} />;
          })}
        </div>
      )}
    </section>
  );
}
