// Remote clients (addresses outside this host that connect to local services), from /api/v1/clients.
import { useMemo } from 'react';
import type { RemoteClient } from '../../../graph/types.js';
import { api } from '../api/client.js';
import { usePoll } from '../app/hooks.js';
import { UI } from '../config.js';
import { ago, bytes, count } from '../model/format.js';
import { compareBy, SortHeader, useSort } from './sort.js';
import { useVirtualRows } from './virtual.js';

type Key = 'ip' | 'connections' | 'active' | 'failed' | 'bytes' | 'lastSeen';

interface Props {
  shown: boolean;
  labelOf: (nodeId: string) => string;
  onOpenNode: (nodeId: string) => void;
  search: string;
}

export function ClientsTable({ shown, labelOf, onOpenNode, search }: Props) {
  const polled = usePoll(shown ? 'clients' : null, (s) => api.clients(s), UI.clientsRefreshMs);
  const [sort, onSort] = useSort<Key>('connections');
  const rows = useMemo(() => {
    const all = polled.data?.clients ?? [];
    const q = search.trim().toLowerCase();
    const list = q ? all.filter((c) => c.ip.includes(q) || c.targets.some((t) => labelOf(t.node).toLowerCase().includes(q))) : all;
    const get: Record<Key, (c: RemoteClient) => number | string> = {
      ip: (c) => c.ip,
      connections: (c) => c.connections,
      active: (c) => c.active,
      failed: (c) => c.failed,
      bytes: (c) => c.bytesSent + c.bytesReceived,
      lastSeen: (c) => c.lastSeen,
    };
    return [...list].sort(compareBy(get[sort.key], sort.desc));
  }, [polled.data, sort, search, labelOf]);

  const v = useVirtualRows(rows.length);
  return (
    <section className="table-view" aria-label="Remote clients" data-testid="clients-table">
      <div className="table-caption">
        <strong>{count(rows.length)}</strong> remote clients
        {polled.error && <span className="warn-text"> · could not refresh: {polled.error}</span>}
      </div>
      <div className="table-scroll" ref={v.ref}>
        <table className="grid fixed">
          <colgroup>
            <col style={{ width: '15%' }} /><col style={{ width: '10%' }} /><col style={{ width: '7%' }} /><col style={{ width: '7%' }} />
            <col style={{ width: '15%' }} /><col style={{ width: '36%' }} /><col style={{ width: '10%' }} />
          </colgroup>
          <thead>
            <tr>
              <SortHeader k="ip" label="Client address" sort={sort} onSort={onSort} />
              <SortHeader k="connections" label="Connections" sort={sort} onSort={onSort} numeric />
              <SortHeader k="active" label="Open" sort={sort} onSort={onSort} numeric />
              <SortHeader k="failed" label="Failed" sort={sort} onSort={onSort} numeric />
              <SortHeader k="bytes" label="Sent / received" sort={sort} onSort={onSort} numeric title="Sort by bytes sent by the client plus bytes it received" />
              <th scope="col">Talks to</th>
              <SortHeader k="lastSeen" label="Last seen" sort={sort} onSort={onSort} numeric />
            </tr>
          </thead>
          <tbody>
            {v.padTop > 0 && <tr className="spacer" aria-hidden="true" style={{ height: v.padTop }}><td colSpan={7} /></tr>}
            {rows.slice(v.start, v.end).map((c, i) => (
              <tr key={c.ip} tabIndex={0} data-testid="client-row" data-client-ip={c.ip} data-row-index={v.start + i}
                onKeyDown={(ev) => {
                  if (ev.target !== ev.currentTarget) return;
                  if (ev.key === 'Enter' && c.targets[0]) onOpenNode(c.targets[0].node); else v.onRowKey(ev, v.start + i);
                }}>
                <td className="mono">{c.ip}</td>
                <td className="num">{count(c.connections)}</td>
                <td className="num">{count(c.active)}</td>
                <td className={`num${c.failed ? ' bad-text' : ''}`}>{count(c.failed)}</td>
                <td className="num">{bytes(c.bytesSent)} / {bytes(c.bytesReceived)}</td>
                <td>
                  <span className="chips">
                    {c.targets.map((t) => (
                      <button type="button" key={`${t.node}:${t.port}`} className="chip" onClick={() => onOpenNode(t.node)}>
                        {labelOf(t.node)}<span className="mono">:{t.port}</span> <span className="muted">×{count(t.connections)}</span>
                      </button>
                    ))}
                  </span>
                </td>
                <td className="num muted">{ago(c.lastSeen)}</td>
              </tr>
            ))}
            {v.padBottom > 0 && <tr className="spacer" aria-hidden="true" style={{ height: v.padBottom }}><td colSpan={7} /></tr>}
          </tbody>
        </table>
        {rows.length === 0 && (
          <p className="muted table-empty" data-testid="clients-empty">
            {polled.loading ? 'Loading…' : polled.error && !polled.data ? `Could not load remote clients: ${polled.error}` : 'No remote clients seen yet.'}
          </p>
        )}
      </div>
    </section>
  );
}
