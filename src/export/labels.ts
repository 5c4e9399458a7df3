// The labels every edge series carries. They are a contract with dashboards,
// alert rules and the hub: add new ones, never rename (docs: deploy/README.md).
import type { GraphNode } from '../graph/types.js';
import type { Labels } from './families.js';
import os from 'node:os';

/** This agent's `host` label: --hostname, else the machine's name. One definition for the edge rows, the agent's own series and its policy alerts. */
export function agentHostName(given?: string): string {
  return given || os.hostname();
}

/**
 * - `client`, `server`: the end's name: Compose service or Kubernetes workload,
 *   container name, host process (systemd unit or executable), or an IP
 *   address for an end outside this host.
 * - `client_group`, `server_group`: Compose project or Kubernetes namespace;
 *   `host` for host processes; empty for outside ends.
 * - `client_kind`, `server_kind`: service, container, process, external
 *   (a server outside this host) or client (a remote client).
 * - `server_port`: the port as the server sees it. Client ports are never labels.
 * - `protocol`: `tcp` (`dns` on the DNS series of resolver edges). Request series (request-metrics.ts) add `app_protocol`
 *   (http1, http2, postgres, mysql, redis) and, on the counter, `status_class`.
 * - `host`: the reporting agent's host name (`--hostname`).
 */
export const EDGE_LABELS = ['client', 'client_group', 'client_kind', 'server', 'server_group', 'server_kind', 'server_port', 'protocol', 'host'] as const;

/**
 * The edge labels of series on the agent's own registry, which adds `host` to all of them: resolver edges' DNS series
 * (api/dns-metrics.ts; `protocol` is `dns`, `server` the resolver), so the hub draws them, and policy violations
 * (policy/metrics.ts). Both join edge series.
 */
export const OWN_EDGE_LABELS = EDGE_LABELS.filter((l) => l !== 'host');

/** Edge labels of a series on the agent's own registry: `host` left out (the registry adds it). */
export function ownEdgeLabels(e: { port: number; protocol: string }, c: End, s: End): Labels {
  const { host: _host, ...labels } = edgeLabels(e, c, s, '');
  return labels;
}

/** A DNS failure's `kind` label on those series, and the field of EdgeDns it counts. */
export const DNS_FAILURE_KINDS = [['nxdomain', 'NXDOMAIN'], ['servfail', 'SERVFAIL'], ['refused', 'REFUSED'], ['otherErrors', 'other'], ['timeouts', 'timeout']] as const;

/** The value every name label takes on the series that sums the edges beyond the top N. */
export const OTHER = 'other';

type End = Pick<GraphNode, 'label' | 'group' | 'kind'>;

/** An end the graph no longer names (an edge read while its node was dropped). */
export const UNKNOWN_NODE: End = { label: 'unknown', group: null, kind: 'external' };

export function edgeLabels(e: { port: number; protocol: string }, c: End, s: End, host: string): Labels {
  return {
    client: c.label, client_group: c.group ?? '', client_kind: c.kind,
    server: s.label, server_group: s.group ?? '', server_kind: s.kind,
    server_port: String(e.port), protocol: e.protocol, host,
  };
}

export function otherLabels(host: string): Labels {
  return { client: OTHER, client_group: '', client_kind: OTHER, server: OTHER, server_group: '', server_kind: OTHER, server_port: '', protocol: 'tcp', host };
}

/** Tempo has no group label: a grouped end is named `group/name` so two projects' `api`s stay apart. */
export function tempoName(n: Pick<GraphNode, 'label' | 'group'>): string {
  return n.group && n.group !== 'host' ? `${n.group}/${n.label}` : n.label;
}

/** Tempo's `connection_type`: empty between two observed ends; `virtual_node` when one end is only an address. */
export function connectionType(c: Pick<GraphNode, 'kind'>, s: Pick<GraphNode, 'kind'>): string {
  const outside = (k: string) => k === 'external' || k === 'client';
  return outside(c.kind) || outside(s.kind) ? 'virtual_node' : '';
}
