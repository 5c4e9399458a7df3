// Which nodes and edges a reader asked for: one set of rules for the live map
// (API, stream) and for maps read back from the history store.
import type { GraphNode, NodeKind } from './types.js';

/** Kinds beyond containers and services that a reader can ask for. */
export type IncludeKind = 'external' | 'host' | 'clients';
export const INCLUDE_KINDS: readonly IncludeKind[] = ['external', 'host', 'clients'];

export interface GraphFilter {
  /** Only edges seen within the last windowMs (live map, and `at=` in the history). */
  windowMs?: number;
  /** Only edges touching this Compose project / Kubernetes namespace. */
  group?: string;
  /** Kinds beyond containers and services to include; undefined = everything. */
  include?: Set<IncludeKind>;
  /** Fill GraphEdge.histograms (exporters). */
  histograms?: boolean;
  /** Only edges of this protocol (connections, or resolver edges) and their ends. */
  protocol?: 'tcp' | 'dns';
}

type NodeFacts = Pick<GraphNode, 'kind' | 'group'>;

/** Containers and services always show; host processes, outside servers and remote clients only when included. */
export function kindVisible(kind: NodeKind, include: ReadonlySet<IncludeKind> | undefined): boolean {
  if (!include) return true;
  if (kind === 'external') return include.has('external');
  if (kind === 'client') return include.has('clients') || include.has('external');
  if (kind === 'process') return include.has('host');
  return true;
}

/** An edge shows when both ends' kinds do and, with a group, when either end is in the group. */
export function edgeVisible(source: NodeFacts, target: NodeFacts, f: GraphFilter): boolean {
  if (!kindVisible(source.kind, f.include) || !kindVisible(target.kind, f.include)) return false;
  return !f.group || source.group === f.group || target.group === f.group;
}

/** A node on its own (without a shown edge): its kind shows, and it is in the group if one is asked for. */
export function nodeVisible(n: NodeFacts, f: GraphFilter): boolean {
  return kindVisible(n.kind, f.include) && (!f.group || n.group === f.group);
}
