// A node's identity (image, labels, instances with pids and addresses), its connections and recent failures.
import type { ReactNode } from 'react';
import type { GraphEdge, GraphNode, NodeDetail } from '../../../graph/types.js';
import { api } from '../api/client.js';
import { usePoll } from '../app/hooks.js';
import { UI } from '../config.js';
import { KIND_NAMES } from '../model/derive.js';
import { ago, count, rate } from '../model/format.js';
import type { Health } from '../model/derive.js';
import { Failures, KeyValues, openLabel, pastSpan, Section, Stat } from './parts.js';
import { RequestBlock, RequestSamples } from '../requests/RequestParts.js';
import { NodeNames } from './DnsPanel.js';
import { failureCounts, failuresWording } from './failure-wording.js';

interface Props {
  id: string;
  node: GraphNode | undefined;
  edges: GraphEdge[];
  labelOf: (id: string) => string;
  healthOf: (edgeId: string) => Health;
  onSelectEdge: (id: string) => void;
  /** Set when the map shows the past: what its numbers are over. The live-only parts (listening ports, recent
   * failures) give way to history's charts and failures below the panel. */
  past?: string;
  /** ...and the past asked for (history/state.ts pastQuery): its inbound requests and their samples come from the history. */
  pastAt?: string;
}

/** Requests per second where the edge carries requests, else connections: a bare "0/s" beside 7 req/s misled. */
function edgeRateText(e: GraphEdge): string {
  const req = e.requests?.reduce((s, q) => s + q.rates['10s'].requests, 0);
  return req !== undefined && e.requests!.length ? `${rate(req)} req/s` : `${rate(e.rates['10s'].connections)} conn/s`;
}

function EdgeList({ edges, self, labelOf, healthOf, onSelectEdge, dir }: { edges: GraphEdge[]; self: string; labelOf: (id: string) => string; healthOf: (id: string) => Health; onSelectEdge: (id: string) => void; dir: 'in' | 'out' }) {
  if (!edges.length) return <p className="muted">None.</p>;
  const sorted = [...edges].sort((a, b) => b.rates['10s'].connections - a.rates['10s'].connections || a.port - b.port);
  return (
    <ul className="edge-list">
      {sorted.map((e) => {
        const other = dir === 'in' ? e.source : e.target;
        return (
          <li key={e.id}>
            <button type="button" className="edge-link" onClick={() => onSelectEdge(e.id)} data-testid="panel-edge-link" data-edge-id={e.id}>
              <span className={`dot health-${healthOf(e.id)}`} aria-hidden="true" />
              <span className="edge-link-name">{dir === 'in' ? `${labelOf(other)} →` : `→ ${labelOf(other)}`}{other === self ? ' (itself)' : ''}</span>
              <span className="mono muted">:{e.port}</span>
              <span className="edge-link-rate">{edgeRateText(e)}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function NodePanel({ id, node: live, edges, labelOf, healthOf, onSelectEdge, past, pastAt }: Props) {
  // For the past, the history's detail of then (inbound requests, their samples); a node not on the past map is the live one's.
  const then = past && live ? pastAt : undefined;
  const detail = usePoll<NodeDetail>(past && live && !then ? null : `${id}?${then ?? ''}`, (s) => api.node(id, s, then), then ? null : UI.detailRefreshMs, !!then);
  const n: GraphNode | undefined = live ?? detail.data ?? undefined;
  if (!n) return <p className="muted panel-pad">{detail.error ? `This node is gone (${detail.error}).` : 'Loading…'}</p>;
  const incoming = edges.filter((e) => e.target === id);
  const outgoing = edges.filter((e) => e.source === id);
  const failing = edges.filter((e) => healthOf(e.id) === 'failing').length;
  const labels = Object.entries(n.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const running = n.instances.filter((i) => i.state !== 'stopped').length;

  return (
    <div data-testid="node-panel" data-node-id={n.id}>
      <div className="badges">
        <span className={`badge kind kind-${n.kind}`}>{KIND_NAMES[n.kind]}</span>
        {n.group && <span className="badge">{n.group}</span>}
        {!live && <span className="badge">no longer on the map</span>}
        {n.vacant && <span className="badge health-warn">no container at this address</span>}
      </div>
      {n.vacant && (
        <p className="warn-text small" role="note" data-testid="node-vacant">
          {n.vacant.network} holds this address, but no container on it does{n.vacant.lastHolder
            ? <>: it was <span className="mono">{n.vacant.lastHolder}</span>'s{n.vacant.lastHeldUntil ? ` until ${ago(n.vacant.lastHeldUntil)}` : ''}</>
            : ''}. Its clients still call a container that is gone.
        </p>
      )}
      {past && <p className="stats-caption" data-testid="node-stats-caption">{past}</p>}
      <div className="stats">
        <Stat label={openLabel(past)} value={count(n.active)} testId="stat-active" />
        <Stat label="instances" value={n.instances.length ? `${running}/${n.instances.length}` : '–'} />
        <Stat label="in / out" value={`${incoming.length} / ${outgoing.length}`} />
        <Stat label="failing links" value={count(failing)} tone={failing ? 'bad' : undefined} />
      </div>

      <Section title="Identity" testId="node-identity">
        <KeyValues rows={[
          ['id', <span className="mono">{n.id}</span>],
          ...(n.image ? [['image', <span className="mono">{n.image}</span>] as [string, ReactNode]] : []),
          ['addresses', n.ips.length ? <span className="mono">{n.ips.join(', ')}</span> : '–'],
          ...(!past && detail.data?.listening?.length ? [['listens on', <span className="mono" data-testid="node-listening">{detail.data.listening.map((p) =>
            `:${p.port}${p.published.length ? ` (published ${p.published.join(', ')})` : ''}`).join(', ')}</span>] as [string, ReactNode]] : []),
          ['first seen', ago(n.firstSeen)],
          ['last seen', ago(n.lastSeen)],
        ]} />
        {labels.length > 0 && (
          <details className="labels">
            <summary>{labels.length} label{labels.length === 1 ? '' : 's'}</summary>
            <dl className="kv mono small">
              {labels.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
            </dl>
          </details>
        )}
      </Section>

      {n.dns && <NodeNames dns={n.dns} />}

      {n.instances.length > 0 && (
        <Section title="Instances" testId="node-instances">
          <table className="mini">
            <thead><tr><th scope="col">name</th><th scope="col">pids</th><th scope="col">addresses</th></tr></thead>
            <tbody>
              {n.instances.map((i) => (
                <tr key={i.id} className={i.state === 'stopped' ? 'stopped' : undefined} data-testid="instance-row">
                  <td title={i.id}>
                    <span className={`dot ${i.state === 'stopped' ? 'health-idle' : 'health-ok'}`} aria-hidden="true" />
                    {i.name}{i.state === 'stopped' && <span className="muted">{i.renamedTo ? ` (renamed to ${i.renamedTo})` : ' (stopped)'}</span>}
                    {i.image && i.image !== n.image && <div className="muted small mono">{i.image}</div>}
                    {i.command && <div className="muted small mono" data-testid="instance-command" title={i.command}>{i.command}</div>}
                  </td>
                  <td className="mono">{i.pids.length ? i.pids.join(', ') : '–'}</td>
                  <td className="mono">{i.ips.length ? i.ips.join(', ') : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}

      {(!past || then) && (detail.data?.inboundRequests?.length ?? 0) > 0 && (
        <Section title={past ? `Inbound requests, ${pastSpan(past)}` : 'Inbound requests (rate, errors, duration)'} testId="node-inbound-requests">
          {detail.data!.inboundRequests!.map((r) => <RequestBlock key={r.protocol} r={r} testId="inbound-request-block" past={!!past} />)}
          <h4 className="muted small">{past ? 'Failed and slow requests then' : 'Recent failed and slow requests'}</h4>
          <RequestSamples samples={detail.data?.recentRequests} loading={detail.loading} error={detail.error} empty={past ? `None sampled ${pastSpan(past)}.` : undefined} />
        </Section>
      )}

      <Section title={`Incoming (${incoming.length})`} testId="node-incoming">
        <EdgeList edges={incoming} self={id} labelOf={labelOf} healthOf={healthOf} onSelectEdge={onSelectEdge} dir="in" />
      </Section>
      <Section title={`Outgoing (${outgoing.length})`} testId="node-outgoing">
        <EdgeList edges={outgoing} self={id} labelOf={labelOf} healthOf={healthOf} onSelectEdge={onSelectEdge} dir="out" />
      </Section>
      {!past && (() => {
        const w = failuresWording('recent', failureCounts(edges, id), 'Inbound requests, above');
        return (
          <Section title={w.title} testId="node-failures">
            <Failures samples={detail.data?.recentFailures} loading={detail.loading} error={detail.error} empty={w.empty} />
          </Section>
        );
      })()}
    </div>
  );
}
