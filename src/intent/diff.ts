// Declared against observed: which observed calls nobody declared, which
// declarations were never used in the window, and which observed connections
// crossed between networks that share nothing (possible only through a
// published port or the host).
import type { GraphEdge, GraphNode } from '../graph/types.js';
import { declaredEdges, shareNetwork, type DeclaredEdge, type Declarations, type ExternalHost } from './declared.js';
import type { ComposeProject } from './compose.js';

export interface ObservedEdge {
  edge: string;
  client: string;
  server: string;
  port: number;
  connections: number;
  failed: number;
  firstSeen: number;
  lastSeen: number;
}

export interface IntentDiff {
  compose: { file: string; project: string; services: string[] }[];
  declared: (DeclaredEdge & { observed: boolean })[];
  /** Observed edges touching a compose service that no declaration covers. `peer: outside` when the other end is not in the compose files. */
  undeclared: (ObservedEdge & { peer: 'compose' | 'outside' })[];
  /** Declared (and reachable) but not seen in the window. */
  unused: DeclaredEdge[];
  /**
   * Observed calls from a compose service to a vacant container address (GraphNode.vacant): a client still pointed at
   * a container that is gone. Not undeclared traffic to an outside host: named apart, with the container it was.
   */
  stale: (ObservedEdge & { network: string; lastHolder: string | null })[];
  /** Observed between services that share no network. */
  crossings: (ObservedEdge & { reason: string })[];
  /** Declared between services that share no network: cannot be a direct connection. */
  unreachable: DeclaredEdge[];
  external: ExternalHost[];
  /** Services the files define that are not on the map in the window. */
  absent: string[];
}

type Graph = { nodes: (Pick<GraphNode, 'id'> & Partial<Pick<GraphNode, 'vacant'>>)[]; edges: (Pick<GraphEdge, 'id' | 'source' | 'target' | 'port' | 'connections' | 'firstSeen' | 'lastSeen'> & Partial<Pick<GraphEdge, 'protocol'>>)[] };

export function intentDiff(projects: ComposeProject[], graph: Graph, decl: Declarations = declaredEdges(projects)): IntentDiff {
  const declared = new Map(decl.edges.map((d) => [`${d.client}|${d.server}`, d]));
  const observedPairs = new Set<string>();
  const undeclared: IntentDiff['undeclared'] = [];
  const crossings: IntentDiff['crossings'] = [];
  const stale: IntentDiff['stale'] = [];
  const vacant = new Map(graph.nodes.filter((n) => n.vacant).map((n) => [n.id, n.vacant!]));
  for (const e of graph.edges) {
    if (e.protocol === 'dns') continue; // name lookups through the resolver: no compose file declares them
    const c = decl.services.get(e.source), s = decl.services.get(e.target);
    if (!c && !s) continue;
    const o: ObservedEdge = {
      edge: e.id, client: e.source, server: e.target, port: e.port, connections: e.connections.opened, failed: e.connections.failed,
      firstSeen: e.firstSeen, lastSeen: e.lastSeen,
    };
    observedPairs.add(`${e.source}|${e.target}`);
    if (c && s) {
      // Both questions are asked: a call across networks is also undeclared when no file names it.
      if (!shareNetwork(c, s)) crossings.push({ ...o, reason: `${c.name} (${c.networks.join(', ') || c.networkMode}) and ${s.name} (${s.networks.join(', ') || s.networkMode}) share no network in the compose files: through a published port, the host, or a network attached outside them (docker network connect)` });
      if (!declared.get(`${e.source}|${e.target}`)) undeclared.push({ ...o, peer: 'compose' });
      continue;
    }
    // One end outside the files: a call into a published port is declared by `ports:`.
    if (s && !c && s.published.includes(e.port)) continue;
    const gone = c ? vacant.get(e.target) : undefined;
    if (gone) { stale.push({ ...o, network: gone.network, lastHolder: gone.lastHolder }); continue; }
    undeclared.push({ ...o, peer: 'outside' });
  }
  const onMap = new Set(graph.nodes.map((n) => n.id));
  return {
    compose: projects.map((p) => ({ file: p.file, project: p.project, services: [...p.services.keys()] })),
    declared: decl.edges.map((d) => ({ ...d, observed: observedPairs.has(`${d.client}|${d.server}`) })),
    undeclared,
    stale,
    unused: decl.edges.filter((d) => d.reachable && !observedPairs.has(`${d.client}|${d.server}`)),
    crossings,
    unreachable: decl.edges.filter((d) => !d.reachable),
    external: decl.external,
    absent: [...decl.services.keys()].filter((id) => !onMap.has(id)),
  };
}
