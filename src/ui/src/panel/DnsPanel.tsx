// DNS on the panels: a resolver edge's health (queries, failures by kind,
// latency, the names that fail) and a node's names.
import type { ReactNode } from 'react';
import type { EdgeDns, GraphEdge, NodeDns } from '../../../graph/types.js';
import { ago, count, millis, rate } from '../model/format.js';
import { KeyValues, Section, Stat } from './parts.js';

const KINDS: [keyof EdgeDns, string][] = [['nxdomain', 'NXDOMAIN'], ['servfail', 'SERVFAIL'], ['refused', 'REFUSED'], ['otherErrors', 'other errors'], ['timeouts', 'timeouts']];

/** The failure kinds that happened, as "NXDOMAIN 5 · timeouts 2". */
export function dnsFailureSummary(d: EdgeDns): string {
  return KINDS.filter(([k]) => (d[k] as number) > 0).map(([k, label]) => `${label} ${count(d[k] as number)}`).join(' · ');
}

/** `past`: what the numbers are over when the map shows the past (a replayed moment or a range), as on TCP edges. */
export function DnsEdgeSections({ e, dns, past }: { e: GraphEdge; dns: EdgeDns; past?: string }) {
  const r10 = e.rates['10s'];
  const lat = dns.latency;
  return (
    <>
      <p className="stats-caption" data-testid="dns-stats-caption">{past ?? 'Last 10 seconds'}</p>
      <div className="stats">
        <Stat label="queries/s" value={rate(r10.connections)} testId="stat-dns-rate" />
        <Stat label="failed/s" value={rate(r10.failures)} tone={r10.failures > 0 ? 'bad' : undefined} testId="stat-dns-fail-rate" />
        <Stat label="latency p95" value={lat.p95Ms === null ? '–' : millis(lat.p95Ms)} testId="stat-dns-p95" />
        <Stat label="failed" value={count(dns.failures)} tone={dns.failures ? 'bad' : undefined} testId="stat-dns-failed" />
      </div>

      <Section title="Names that fail" testId="dns-failing-names">
        {dns.failingNames.length === 0 ? <p className="muted">Every name resolved.</p> : (
          <table className="mini">
            <thead><tr><th scope="col">name</th><th scope="col">answer</th><th scope="col">times</th><th scope="col">last</th></tr></thead>
            <tbody>
              {dns.failingNames.map((f) => (
                <tr key={f.name} data-testid="dns-failing-name" data-name={f.name} data-reason={f.reason}>
                  <td className="mono">{f.name}</td>
                  <td><span className="badge reason-dns">{f.reason}</span></td>
                  <td className="num">{count(f.count)}</td>
                  <td className="muted">{ago(f.lastSeen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Queries" testId="dns-counts">
        <KeyValues rows={[
          ['sent', count(dns.queries)],
          ['answered', `${count(dns.answered)} (${count(dns.noerror)} NOERROR)`],
          ...KINDS.map(([k, label]) => [label, <span className={(dns[k] as number) ? 'bad-text' : undefined}>{count(dns[k] as number)}</span>] as [string, ReactNode]),
          ['latency', lat.p95Ms === null ? '–' : `${lat.p50Ms === null ? '' : `${millis(lat.p50Ms)} p50 · `}${millis(lat.p95Ms)} p95${lat.maxMs === null ? '' : ` · ${millis(lat.maxMs)} max`}`],
          ['resolver', dns.resolvers.length ? <span className="mono">{dns.resolvers.map((r) => `${r.address}:${r.port}${r.dockerEmbedded ? ' (Docker embedded DNS)' : ''}`).join(', ')}</span> : '–'],
          ['first seen', ago(e.firstSeen)],
          ...(past ? [] : [['last query', ago(e.lastSeen)] as [string, ReactNode]]),
        ]} />
      </Section>
    </>
  );
}

export function NodeNames({ dns }: { dns: NodeDns }) {
  return (
    <Section title="DNS names" testId="node-dns">
      <KeyValues rows={[
        ['names', <span className="mono" data-testid="node-dns-names">{dns.names.join(', ')}</span>],
        ...(dns.cnames.length ? [['CNAME chain', <span className="mono" data-testid="node-dns-cnames">{[dns.names[0], ...dns.cnames].join(' → ')}</span>] as [string, ReactNode]] : []),
        ...(dns.domain ? [['registered domain', <span className="mono">{dns.domain}</span>] as [string, ReactNode]] : []),
      ]} />
    </Section>
  );
}
