// An edge's numbers: live rates and totals from the stream, time series and failure samples from /api/v1/edges/:id.
import type { ReactNode } from 'react';
import type { EdgeDetail, GraphEdge } from '../../../graph/types.js';
import { FAILURE_REASONS } from '../../../graph/types.js';
import { api } from '../api/client.js';
import { usePoll } from '../app/hooks.js';
import { UI } from '../config.js';
import { activityText, edgeActivity, edgeHealth, healthBadge } from '../model/derive.js';
import { ago, bytes, bytesRate, count, micros, millis, rate } from '../model/format.js';
import { Sparkline } from './Sparkline.js';
import { Failures, KeyValues, openLabel, pastSpan, Section, Stat } from './parts.js';
import { LatencyHistogram, RequestBlock, RequestSamples } from '../requests/RequestParts.js';
import { protocolName } from '../model/requests.js';
import { DnsEdgeSections } from './DnsPanel.js';
import { failureCounts, failuresWording } from './failure-wording.js';

interface Props {
  id: string;
  edge: GraphEdge | undefined;
  /** A node's name (GraphModel.nameOf: with its group when another node has the same label). */
  labelOf: (id: string) => string;
  retransmitsLately: boolean;
  onSelectNode: (id: string) => void;
  /** Set when the map shows the past: what its numbers are over (the live series then give way to history's). */
  past?: string;
  /** ...and the past asked for (history/state.ts pastQuery): its latency histogram and sampled requests come from the history. */
  pastAt?: string;
}

export function EdgePanel({ id, edge: live, labelOf, retransmitsLately, onSelectNode, past, pastAt }: Props) {
  // For the past, the history's detail of then (histograms, samples; no series: history's charts below are the past's).
  // An edge not on the past map is the live one's, as before: the panel still names it.
  const then = past && live ? pastAt : undefined;
  // A past detail is asked for once: the past does not change.
  const detail = usePoll<EdgeDetail>(past && live && !then ? null : `${id}?${then ?? ''}`, (s) => api.edge(id, s, then), then ? null : UI.detailRefreshMs, !!then);
  const e: GraphEdge | undefined = live ?? detail.data ?? undefined;
  if (!e) {
    return <p className="muted panel-pad">{detail.error ? `This connection is gone (${detail.error}).` : 'Loading…'}</p>;
  }
  const health = healthBadge(edgeHealth(e, retransmitsLately), e, !!past);
  const activity = edgeActivity(e);
  const r10 = e.rates['10s'];
  const r1m = e.rates['1m'];
  const series = detail.data?.series ?? [];
  const times = series.map((p) => p.time);
  const failedBy = FAILURE_REASONS.filter((r) => (e.connections.failedBy?.[r] ?? 0) > 0);
  const requests = e.requests ?? [];
  const hasRequests = requests.length > 0 || (detail.data?.requestLatency?.length ?? 0) > 0;

  const head = (
    <>
      <div className="panel-ends">
        <button type="button" className="link" onClick={() => onSelectNode(e.source)}>{labelOf(e.source)}</button>
        <span className="arrow" aria-label={e.dns ? 'resolves names through' : 'connects to'}>→</span>
        <button type="button" className="link" onClick={() => onSelectNode(e.target)}>{labelOf(e.target)}</button>
        <span className="port mono">:{e.port}/{e.protocol}</span>
      </div>
      <div className="badges">
        <span className={`badge health-${health.tone}`} data-testid="edge-health" title={health.title}>{health.text}</span>
        <span className={`badge activity-${activity}`} data-testid="edge-activity">{activityText(activity, !!past)}</span>
        {!live && <span className="badge">no longer on the map</span>}
        {e.policy?.verdict === 'violation' && <span className="badge health-failing" data-testid="edge-policy" title={`Decided by the policy rule ${e.policy.rule ?? ''}`}>{e.policy.attempted ? 'Policy violation (attempted)' : 'Policy violation'}{e.policy.rule ? `: ${e.policy.rule}` : ''}</span>}
      </div>
    </>
  );
  // A resolver edge: the client's DNS health towards its resolver.
  if (e.dns) return <div data-testid="edge-panel" data-edge-id={e.id} data-protocol="dns">{head}<DnsEdgeSections e={e} dns={e.dns} past={past} /></div>;

  return (
    <div data-testid="edge-panel" data-edge-id={e.id}>
      {head}

      <p className="stats-caption" data-testid="edge-stats-caption">{past ?? 'Last 10 seconds'}</p>
      <div className="stats">
        <Stat label="conn/s" value={rate(r10.connections)} testId="stat-conn-rate" />
        <Stat label="fail/s" value={rate(r10.failures)} tone={r10.failures > 0 ? 'bad' : undefined} testId="stat-fail-rate" />
        <Stat label="bytes/s" value={bytesRate(r10.bytesSent + r10.bytesReceived)} testId="stat-bytes-rate" />
        <Stat label={openLabel(past)} value={count(e.connections.active)} testId="stat-active" />
      </div>

      {!past && <Section title="Last minute" testId="edge-series" aside={detail.error ? <span className="warn-text">series unavailable</span> : null}>
        <div className="sparks">
          <Sparkline label="connections/s" times={times} values={series.map((p) => p.connections)} format={rate} color="var(--accent)" testId="spark-connections" />
          <Sparkline label="failures/s" times={times} values={series.map((p) => p.failures)} format={rate} color="var(--edge-fail)" testId="spark-failures" />
          <Sparkline label="sent/s" times={times} values={series.map((p) => p.bytesSent)} format={bytesRate} color="var(--edge-ok)" testId="spark-sent" />
          <Sparkline label="received/s" times={times} values={series.map((p) => p.bytesReceived)} format={bytesRate} color="var(--kind-container)" testId="spark-received" />
          {hasRequests && <Sparkline label="requests/s" times={times} values={series.map((p) => p.requests ?? 0)} format={rate} color="var(--accent)" testId="spark-requests" />}
          {hasRequests && <Sparkline label="request errors/s" times={times} values={series.map((p) => p.requestErrors ?? 0)} format={rate} color="var(--edge-fail)" testId="spark-request-errors" />}
        </div>
      </Section>}

      {hasRequests && (
        <Section title="Requests" testId="edge-requests">
          {requests.map((r) => {
            const h = detail.data?.requestLatency?.find((x) => x.protocol === r.protocol);
            const minute = h && h.lastMinute.some((n) => n > 0);
            return (
              <div key={r.protocol}>
                <RequestBlock r={r} past={!!past} />
                {h && then && past && <LatencyHistogram buckets={h.total} sumUs={h.totalSumUs} maxUs={h.totalMaxUs} caption={`${protocolName(r)} latency, ${pastSpan(past)}`} />}
                {h && !past && <LatencyHistogram buckets={minute ? h.lastMinute : h.total} sumUs={minute ? h.lastMinuteSumUs : h.totalSumUs} maxUs={minute ? h.lastMinuteMaxUs : h.totalMaxUs} caption={`${protocolName(r)} latency, ${minute ? 'last minute' : 'since first seen'}`} />}
              </div>
            );
          })}
        </Section>
      )}
      {/* a past the server cannot detail (the hub's history is Prometheus') shows the map's numbers only */}
      {hasRequests && (!past || (then && !detail.error)) && (
        <Section title={past ? `Failed and slow requests, ${pastSpan(past)}` : 'Recent failed and slow requests'} testId="edge-request-samples">
          <RequestSamples samples={detail.data?.recentRequests} loading={detail.loading} error={detail.error} empty={past ? `None sampled ${pastSpan(past)}.` : undefined} />
        </Section>
      )}

      <Section title="Connections">
        <KeyValues rows={[
          ['opened', count(e.connections.opened)],
          ['closed', count(e.connections.closed)],
          ['failed', <span className={e.connections.failed ? 'bad-text' : undefined}>{count(e.connections.failed)}</span>],
          [past ? 'per second' : 'per second, 1 min', `${rate(r1m.connections)} opened · ${rate(r1m.failures)} failed`],
          ...(failedBy.length ? [['failed by', <span className="chips">{failedBy.map((r) => <span key={r} className={`badge reason-${r}`}>{r} {count(e.connections.failedBy[r])}</span>)}</span>] as [string, ReactNode]] : []),
          ...(e.clientInstances?.length ? [['made by', <span data-testid="edge-client-instances">{e.clientInstances.join(', ')}</span>] as [string, ReactNode]] : []),
        ]} />
      </Section>

      <Section title="Traffic and timing">
        <KeyValues rows={[
          ['sent (client → server)', `${bytes(e.bytes.sent)} · ${bytesRate(r10.bytesSent)}`],
          ['received', `${bytes(e.bytes.received)} · ${bytesRate(r10.bytesReceived)}`],
          ['round trip', e.rtt.samples ? `${micros(e.rtt.meanUs)} mean · ${micros(e.rtt.p95Us)} p95 (${count(e.rtt.samples)} samples)` : '–'],
          ['connection lifetime', e.duration.samples ? `${millis(e.duration.meanMs)} mean · ${millis(e.duration.p95Ms)} p95` : '–'],
          ['retransmits', <span className={retransmitsLately ? 'warn-text' : undefined}>{count(e.retransmits)}{retransmitsLately ? ' (rising)' : ''}</span>],
          ['first seen', ago(e.firstSeen)],
          ['last seen', ago(e.lastSeen)],
        ]} />
      </Section>

      {!past && (() => {
        // Failed connections only: an edge failing on HTTP 500s has none, and must not read "No failures".
        const w = failuresWording('recent', failureCounts([e]), 'Recent failed and slow requests, above');
        return (
          <Section title={w.title} testId="edge-failures">
            <Failures samples={detail.data?.recentFailures} loading={detail.loading} error={detail.error} empty={w.empty} />
          </Section>
        );
      })()}
    </div>
  );
}
