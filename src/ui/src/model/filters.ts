// Which nodes and edges the filters let through. Pure, so the map, the table
// and tests compute the same answer.
import type { GraphEdge, GraphNode } from '../../../graph/types.js';
import type { Health } from './derive.js';
import { recentRequests } from './requests.js';
import { neverConnected } from '../../../graph/edge-facts.js';

export interface Filters {
  /** Compose project / namespace / "host"; '' for all. */
  group: string;
  search: string;
  showHost: boolean;
  showExternal: boolean;
  showClients: boolean;
  failingOnly: boolean;
  /** External servers named by DNS are boxed by registered domain (not a filter: nothing is hidden). */
  groupDomains: boolean;
}

export const NO_FILTERS: Filters = { group: '', search: '', showHost: true, showExternal: true, showClients: true, failingOnly: false, groupDomains: false };

export function isFiltering(f: Filters): boolean {
  return f.group !== '' || f.search.trim() !== '' || !f.showHost || !f.showExternal || !f.showClients || f.failingOnly;
}

export interface Visible {
  nodes: Set<string>;
  edges: Set<string>;
}

export function kindAllowed(n: GraphNode, f: Filters): boolean {
  if (!f.showHost && (n.kind === 'process' || n.group === 'host')) return false;
  if (!f.showExternal && n.kind === 'external') return false;
  if (!f.showClients && n.kind === 'client') return false;
  return true;
}

export function nodeMatches(n: GraphNode, q: string): boolean {
  if (!q) return true;
  const hay = [n.label, n.id, n.image ?? '', n.group ?? '', ...n.ips, ...n.instances.map((i) => i.name), ...n.instances.map((i) => i.command ?? ''), ...(n.dns ? [...n.dns.names, ...n.dns.cnames] : [])];
  return hay.some((s) => s.toLowerCase().includes(q));
}

function edgeMatches(e: GraphEdge, q: string): boolean {
  const port = q.startsWith(':') ? q.slice(1) : q;
  return /^\d+$/.test(port) && String(e.port) === port;
}

/**
 * A node is in focus when it passes the group and search filters; an edge is shown when one
 * of its ends is in focus (so a group's outside peers stay visible as context), both ends pass
 * the kind filters and, with "failing only", it is failing. Nodes shown: those in focus plus
 * the ends of shown edges — or, with "failing only", just the ends of shown edges.
 */
export function computeVisible(
  nodes: ReadonlyMap<string, GraphNode>,
  edges: ReadonlyMap<string, GraphEdge>,
  f: Filters,
  healthOf: (edgeId: string) => Health,
): Visible {
  const q = f.search.trim().toLowerCase();
  const allowed = new Set<string>();
  const inGroup = new Set<string>();
  const matched = new Set<string>();
  for (const n of nodes.values()) {
    if (!kindAllowed(n, f)) continue;
    allowed.add(n.id);
    if (f.group === '' || n.group === f.group) inGroup.add(n.id);
    if (nodeMatches(n, q)) matched.add(n.id);
  }
  const visEdges = new Set<string>();
  const visNodes = new Set<string>();
  for (const e of edges.values()) {
    if (!allowed.has(e.source) || !allowed.has(e.target)) continue;
    if (!inGroup.has(e.source) && !inGroup.has(e.target)) continue;
    if (q && !matched.has(e.source) && !matched.has(e.target) && !edgeMatches(e, q)) continue;
    // failing, requests failing lately, or never connected (a cron job refused an hour ago is still a problem)
    if (f.failingOnly && healthOf(e.id) !== 'failing' && !(recentRequests(e).errors > 0) && !(e.protocol === 'tcp' && neverConnected(e.connections))) continue;
    visEdges.add(e.id);
    visNodes.add(e.source);
    visNodes.add(e.target);
  }
  if (!f.failingOnly) for (const id of inGroup) if (matched.has(id)) visNodes.add(id);
  return { nodes: visNodes, edges: visEdges };
}
