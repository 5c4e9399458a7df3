// The API's graph filters (group, include, window) on a map the hub built, with
// the meaning they have on an agent's live graph.
import type { GraphNode, GraphSnapshot } from '../graph/types.js';
import type { GraphFilter } from '../graph/live-graph.js';

function kindOk(n: GraphNode | undefined, f: GraphFilter): boolean {
  if (!n) return false;
  if (!f.include) return true;
  if (n.kind === 'external') return f.include.has('external');
  if (n.kind === 'client') return f.include.has('clients') || f.include.has('external');
  if (n.kind === 'process') return f.include.has('host');
  return true;
}

export function filterGraph(g: GraphSnapshot, f: GraphFilter): GraphSnapshot {
  if (!f.include && !f.group && !f.windowMs) return g;
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const nodes = new Set<string>();
  const edges = g.edges.filter((e) => {
    // The hub sees rates, not last-seen times: within a window under a minute, an edge must be busy or open.
    if (f.windowMs && f.windowMs <= 60_000 && !e.connections.active && !e.rates['1m'].connections && !e.rates['1m'].bytesSent && !e.rates['1m'].bytesReceived) return false;
    const a = byId.get(e.source), b = byId.get(e.target);
    if (!kindOk(a, f) || !kindOk(b, f)) return false;
    if (f.group && a!.group !== f.group && b!.group !== f.group) return false;
    nodes.add(e.source);
    nodes.add(e.target);
    return true;
  });
  for (const n of g.nodes) if (!nodes.has(n.id) && kindOk(n, f) && (!f.group || n.group === f.group) && !f.windowMs) nodes.add(n.id);
  return { generatedAt: g.generatedAt, nodes: g.nodes.filter((n) => nodes.has(n.id)), edges };
}
