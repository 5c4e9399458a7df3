// The graph as a table: one row per connection (client, server, port), sortable,
// with the same filters as the map. Rows are focusable; Enter opens the side panel.
import { memo, useMemo } from 'react';
import type { GraphEdge } from '../../../graph/types.js';
import type { Live } from '../app/live.js';
import { UI } from '../config.js';
import { edgeActivity, type Health } from '../model/derive.js';
import { computeVisible, type Filters } from '../model/filters.js';
import { ago, bytesRate, count, micros, millis, rate } from '../model/format.js';
import { mainRequests, pctText, recentRequests } from '../model/requests.js';
import { dnsFailureSummary } from '../panel/DnsPanel.js';
import { compareBy, SortHeader, useSort } from './sort.js';
import { useVirtualRows } from './virtual.js';

type Key = 'source' | 'target' | 'port' | 'rate' | 'failures' | 'reqRate' | 'reqErrors' | 'reqP95' | 'bytes' | 'rtt' | 'active' | 'failed' | 'dns' | 'lastSeen';

/** RTT p95 in µs; on a resolver edge, the DNS answer latency p95. */
const latencyUs = (e: GraphEdge): number | null => (e.dns ? (e.dns.latency.p95Ms === null ? null : e.dns.latency.p95Ms * 1000) : e.rtt.samples ? e.rtt.p95Us : null);

/** The DNS column: a resolver edge's failures by kind and the name failing most; a connection's server name chain. */
function dnsText(e: GraphEdge, serverNames: string | undefined): string {
  if (e.dns) {
    const top = e.dns.failingNames[0];
    return [dnsFailureSummary(e.dns), top ? `${top.name} ${top.reason}` : ''].filter(Boolean).join(' · ') || `${count(e.dns.queries)} queries`;
  }
  return serverNames ?? '';
}

interface Props {
  live: Live;
  version: number;
  filters: Filters;
  selectedId: string | null;
  onOpen: (edgeId: string) => void;
}

interface Row { e: GraphEdge; health: Health; src: string; dst: string; req: number; errShare: number; p95: number; dns: string }

/** Requests of an edge for the table: req/s over 10 s (all protocols), error share and p95 over the last minute (-1: none). */
function requestCells(e: GraphEdge): { req: number; errShare: number; p95: number } {
  if (!e.requests?.length) return { req: -1, errShare: -1, p95: -1 };
  const r = recentRequests(e);
  const main = mainRequests(e)!;
  const req = e.requests.reduce((n, x) => n + x.rates['10s'].requests, 0);
  return { req, errShare: r.requests > 0 ? r.errors / r.requests : -1, p95: main.rates['1m'].latency.samples ? main.rates['1m'].latency.p95Ms : -1 };
}

/** `tick` changes every few seconds so "last seen" texts of quiet rows do not go stale. */
interface LineProps { row: Row; index: number; selected: boolean; onOpen: (id: string) => void; onKey: (ev: React.KeyboardEvent, i: number) => boolean; tick: number }

const Line = memo(function Line({ row, index, selected, onOpen, onKey }: LineProps) {
  const { e, health } = row;
  const r = e.rates['10s'];
  const lat = latencyUs(e);
  return (
    <tr
      tabIndex={0}
      className={`${selected ? 'selected ' : ''}health-${health}`}
      aria-selected={selected}
      data-testid="edge-row"
      data-edge-id={e.id}
      data-row-index={index}
      onClick={() => onOpen(e.id)}
      onKeyDown={(ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onOpen(e.id); } else onKey(ev, index);
      }}
    >
      <td><span className={`dot health-${health}`} aria-label={health} />{row.src}</td>
      <td>{row.dst}</td>
      <td className="num mono">{e.port}{e.protocol === 'dns' && <span className="unit"> dns</span>}</td>
      <td className="num">{rate(r.connections)}<span className="unit">/s</span></td>
      <td className={`num${r.failures > 0 ? ' bad-text' : ''}`}>{rate(r.failures)}<span className="unit">/s</span></td>
      <td className="num" data-testid="cell-req-rate">{row.req >= 0 ? <>{rate(row.req)}<span className="unit">/s</span></> : '–'}</td>
      <td className={`num${row.errShare > 0 ? ' bad-text' : ''}`} data-testid="cell-req-errors">{row.errShare >= 0 ? pctText(row.errShare) : '–'}</td>
      <td className="num" data-testid="cell-req-p95">{row.p95 >= 0 ? millis(row.p95) : '–'}</td>
      <td className="num">{bytesRate(r.bytesSent + r.bytesReceived)}</td>
      <td className={`num${lat !== null && lat > UI.highRttUs ? ' warn-text' : ''}`}>{lat === null ? '–' : e.dns ? millis(lat / 1000) : micros(lat)}</td>
      <td className="num">{count(e.connections.active)}</td>
      <td className={`num${e.connections.failed ? ' bad-text' : ''}`}>{count(e.connections.failed)}</td>
      <td className={`dns-cell${e.dns?.failures ? ' bad-text' : ''}`} title={row.dns} data-testid="edge-row-dns">{row.dns}</td>
      <td className="num muted">{ago(e.lastSeen)}</td>
    </tr>
  );
}, (a, b) => a.row.e === b.row.e && a.row.health === b.row.health && a.row.src === b.row.src && a.row.dst === b.row.dst && a.row.dns === b.row.dns && a.index === b.index && a.selected === b.selected && a.onOpen === b.onOpen && a.onKey === b.onKey && a.tick === b.tick);

export function EdgeTable({ live, version, filters, selectedId, onOpen }: Props) {
  const [sort, onSort] = useSort<Key>('rate');
  const m = live.model;
  const rows = useMemo(() => {
    const healthOf = (id: string) => m.healthOf(id);
    const vis = computeVisible(m.nodes, m.edges, filters, healthOf);
    const label = (id: string) => m.nameOf(id);
    const out: Row[] = [];
    for (const id of vis.edges) {
      const e = m.edges.get(id)!;
      const server = m.nodes.get(e.target)?.dns;
      out.push({ e, health: healthOf(id), src: label(e.source), dst: label(e.target), ...requestCells(e), dns: dnsText(e, server?.cnames.length ? [server.names[0], ...server.cnames].join(' → ') : undefined) });
    }
    const get: Record<Key, (r: Row) => number | string> = {
      source: (r) => r.src,
      target: (r) => r.dst,
      port: (r) => r.e.port,
      rate: (r) => r.e.rates['10s'].connections,
      failures: (r) => r.e.rates['10s'].failures * 1e6 + r.e.connections.failed,
      reqRate: (r) => r.req,
      reqErrors: (r) => r.errShare,
      reqP95: (r) => r.p95,
      bytes: (r) => r.e.rates['10s'].bytesSent + r.e.rates['10s'].bytesReceived,
      rtt: (r) => latencyUs(r.e) ?? -1,
      active: (r) => r.e.connections.active,
      failed: (r) => r.e.connections.failed,
      dns: (r) => r.dns,
      lastSeen: (r) => r.e.lastSeen,
    };
    const tie = compareBy<Row>((r) => r.e.id, false);
    const key = get[sort.key], cmp = compareBy(key, sort.desc);
    // A cell with nothing to show ('–', held as -1: no requests, no RTT) sorts last whichever way the column goes.
    const missing = (r: Row) => { const v = key(r); return typeof v === 'number' && v < 0 ? 1 : 0; };
    return out.sort((a, b) => missing(a) - missing(b) || cmp(a, b) || tie(a, b));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, filters, sort, m]);

  const flowing = rows.filter((r) => edgeActivity(r.e) === 'flowing').length;
  const tick = Math.floor(Date.now() / 5000);
  const v = useVirtualRows(rows.length);
  return (
    <section className="table-view" aria-label="Connections table" data-testid="edge-table">
      <div className="table-caption">
        <strong>{count(rows.length)}</strong> connections shown of {count(m.edges.size)} · {count(flowing)} with traffic {live.paused ? 'in that time' : 'now'}
      </div>
      <div className="table-scroll" ref={v.ref}>
        <table className="grid fixed wide">
          <colgroup>
            <col style={{ width: '12%' }} /><col style={{ width: '12%' }} /><col style={{ width: '5%' }} /><col style={{ width: '6%' }} />
            <col style={{ width: '6%' }} /><col style={{ width: '6%' }} /><col style={{ width: '6%' }} /><col style={{ width: '6%' }} />
            <col style={{ width: '7%' }} /><col style={{ width: '6%' }} /><col style={{ width: '5%' }} /><col style={{ width: '5%' }} /><col style={{ width: '12%' }} /><col style={{ width: '6%' }} />
          </colgroup>
          <thead>
            <tr>
              <SortHeader k="source" label="Client" sort={sort} onSort={onSort} />
              <SortHeader k="target" label="Server" sort={sort} onSort={onSort} />
              <SortHeader k="port" label="Port" sort={sort} onSort={onSort} numeric />
              <SortHeader k="rate" label="Conn/s" sort={sort} onSort={onSort} numeric title="Sort by connections opened per second (10 s)" />
              <SortHeader k="failures" label="Fail/s" sort={sort} onSort={onSort} numeric title="Sort by failures per second (10 s)" />
              <SortHeader k="reqRate" label="Req/s" sort={sort} onSort={onSort} numeric title="Sort by requests per second (10 s, all protocols)" />
              <SortHeader k="reqErrors" label="Err %" sort={sort} onSort={onSort} numeric title="Sort by the share of failed requests (HTTP 5xx, gRPC, database and Redis errors) in the last minute" />
              <SortHeader k="reqP95" label="Req p95" sort={sort} onSort={onSort} numeric title="Sort by request latency p95 in the last minute" />
              <SortHeader k="bytes" label="Bytes/s" sort={sort} onSort={onSort} numeric />
              <SortHeader k="rtt" label="RTT p95" sort={sort} onSort={onSort} numeric title="Sort by round-trip time p95 (resolver edges: DNS answer latency p95)" />
              <SortHeader k="active" label="Open" sort={sort} onSort={onSort} numeric />
              <SortHeader k="failed" label="Failed" sort={sort} onSort={onSort} numeric title="Sort by failed connections (resolver edges: failed queries) in total" />
              <SortHeader k="dns" label="DNS" sort={sort} onSort={onSort} title="Resolver edges: failures by answer and the name failing most; connections: the server's CNAME chain" />
              <SortHeader k="lastSeen" label="Last seen" sort={sort} onSort={onSort} numeric />
            </tr>
          </thead>
          <tbody>
            {v.padTop > 0 && <tr className="spacer" aria-hidden="true" style={{ height: v.padTop }}><td colSpan={14} /></tr>}
            {rows.slice(v.start, v.end).map((r, i) => (
              <Line key={r.e.id} row={r} index={v.start + i} selected={r.e.id === selectedId} onOpen={onOpen} onKey={v.onRowKey} tick={tick} />
            ))}
            {v.padBottom > 0 && <tr className="spacer" aria-hidden="true" style={{ height: v.padBottom }}><td colSpan={14} /></tr>}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted table-empty" data-testid="edge-table-empty">{m.edges.size ? 'No connection matches the filters.' : 'No connections seen yet.'}</p>}
      </div>
    </section>
  );
}
