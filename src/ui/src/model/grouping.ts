// What the map draws: the model's nodes and edges, except that a folded project (Compose
// project, namespace or "host") is drawn as one node, and the edges between two drawn ends
// that stand for several model edges are merged into one. Kept up to date from each model
// Change, reporting the drawn ids it added, changed or removed, so the drawing touches only
// those. Pure logic (no DOM), unit-tested in test/ui-model.test.ts.
import type { GraphEdge, GraphNode, Rates } from '../../../graph/types.js';
import { edgeHealth, type Health } from './derive.js';
import type { Visible } from './filters.js';
import { emptyChange, type Change, type GraphModel } from './graphModel.js';

const FOLD_PREFIX = 'fold::';

/**
 * What a node folds into: its project, or for the nodes outside any project, one fold for all
 * external servers and one for all remote clients (a big map has hundreds of them).
 */
export const OUTSIDE: Record<'external' | 'client', { key: string; title: string }> = {
  external: { key: '*external', title: 'external servers' },
  client: { key: '*clients', title: 'remote clients' },
};

export function foldKey(n: GraphNode): string | null {
  if (n.group) return n.group;
  return n.kind === 'external' || n.kind === 'client' ? OUTSIDE[n.kind].key : null;
}

/** A fold's name as shown: a project's name, or "external servers" / "remote clients". */
export function foldTitle(key: string): string {
  return Object.values(OUTSIDE).find((o) => o.key === key)?.title ?? key;
}
const LINK_PREFIX = 'link::';

/** The drawn id of a folded project. */
export function foldedId(group: string): string { return `${FOLD_PREFIX}${group}`; }
export function isFoldedId(id: string): boolean { return id.startsWith(FOLD_PREFIX); }
export function groupOfFolded(id: string): string { return id.slice(FOLD_PREFIX.length); }
/** A drawn edge standing for the model edges between two drawn ends (at least one of them folded). */
export function isMergedId(id: string): boolean { return id.startsWith(LINK_PREFIX); }

export interface FoldedNode {
  id: string;
  group: string;
  /** Model nodes inside. */
  members: number;
  /** Model edges with both ends inside (not drawn while folded). */
  inner: number;
}

export interface DrawnEdge {
  id: string;
  source: string;
  target: string;
  /** The model edge, or for a merged one the sum of its members (see mergeEdges). */
  edge: GraphEdge;
  /** Model edge ids behind a merged edge; null for a model edge drawn as itself. */
  members: string[] | null;
}

/** When the map is this big at first sight, its projects start folded. */
export interface FoldPolicy { aboveNodes: number; aboveEdges: number; minMembers: number }

export class GroupedGraph {
  private readonly folded = new Set<string>();
  /** group -> model node ids in it */
  private readonly groupMembers = new Map<string, Set<string>>();
  /** model node id -> its group when last seen (null: none) */
  private readonly nodeGroup = new Map<string, string | null>();
  /** model edge id -> drawn edge id, or the folded node's id when both ends are inside that project */
  private readonly edgeDrawn = new Map<string, string>();
  /** group -> model edges inside it while folded */
  private readonly innerEdges = new Map<string, Set<string>>();
  /** merged drawn edge id -> model edge ids */
  private readonly mergedMembers = new Map<string, Set<string>>();
  private readonly mergedValue = new Map<string, DrawnEdge>();
  private readonly foldedDrawn = new Set<string>();

  constructor(readonly model: GraphModel) {}

  /** Folds every project of at least `minMembers` nodes when the model is big (for a first sight of it). */
  foldIfBig(p: FoldPolicy): boolean {
    if (this.model.nodes.size <= p.aboveNodes && this.model.edges.size <= p.aboveEdges) return false;
    for (const n of this.model.nodes.values()) {
      const k = foldKey(n);
      if (k && !this.folded.has(k) && this.membersOf(k, true).size >= p.minMembers) this.folded.add(k);
    }
    return true;
  }

  isFolded(group: string): boolean { return this.folded.has(group); }
  foldedGroups(): string[] { return [...this.folded].sort(); }

  /** The drawn node standing for a model node (itself, or its folded project). */
  drawnNodeOf(nodeId: string): string {
    const n = this.model.nodes.get(nodeId);
    const g = n ? foldKey(n) : this.nodeGroup.get(nodeId) ?? null;
    return g && this.folded.has(g) ? foldedId(g) : nodeId;
  }

  /** The drawn edge standing for a model edge; null while it is hidden inside a folded project. */
  drawnEdgeOf(edgeId: string): string | null {
    const d = this.edgeDrawn.get(edgeId);
    return d === undefined ? edgeId : isFoldedId(d) ? null : d;
  }

  folds(id: string): FoldedNode | null {
    if (!isFoldedId(id)) return null;
    const group = groupOfFolded(id);
    const members = this.groupMembers.get(group);
    if (!this.folded.has(group) || !members?.size) return null;
    return { id, group, members: members.size, inner: this.innerEdges.get(group)?.size ?? 0 };
  }

  /** The worst health among the edges hidden inside a folded project. */
  innerHealth(group: string): Health {
    let worst: Health = 'ok';
    for (const id of this.innerEdges.get(group) ?? []) {
      const e = this.model.edges.get(id);
      if (!e) continue;
      const h = edgeHealth(e, this.model.retransmitting.has(id));
      if (h === 'failing') return h;
      if (h === 'warn') worst = h;
    }
    return worst;
  }

  /** Members of a fold (model node ids). */
  membersOf(group: string, fresh = false): ReadonlySet<string> {
    if (fresh) {
      const s = new Set<string>();
      for (const n of this.model.nodes.values()) if (foldKey(n) === group) s.add(n.id);
      return s;
    }
    return this.groupMembers.get(group) ?? new Set();
  }

  edge(id: string): DrawnEdge | null {
    if (isMergedId(id)) return this.mergedValue.get(id) ?? null;
    const e = this.model.edges.get(id);
    return e && this.edgeDrawn.get(id) === id ? { id, source: e.source, target: e.target, edge: e, members: null } : null;
  }

  /** Health of a drawn edge: a merged one is as bad as its worst member. */
  healthOf(id: string): Health {
    const d = this.edge(id);
    if (!d) return 'ok';
    const retransmitting = d.members ? d.members.some((m) => this.model.retransmitting.has(m)) : this.model.retransmitting.has(id);
    return edgeHealth(d.edge, retransmitting);
  }

  /** Drawn edges at a drawn node. */
  drawnEdgesAt(drawnNodeId: string): string[] {
    const out = new Set<string>();
    const ids = isFoldedId(drawnNodeId) ? [...this.membersOf(groupOfFolded(drawnNodeId))] : [drawnNodeId];
    for (const n of ids) for (const eid of this.model.adjacency.get(n) ?? []) { const d = this.drawnEdgeOf(eid); if (d) out.add(d); }
    return [...out];
  }

  /** The drawn ids that model visibility (filters) lets through. */
  visible(v: Visible): Visible {
    const nodes = new Set<string>();
    const edges = new Set<string>();
    for (const id of v.nodes) nodes.add(this.drawnNodeOf(id));
    for (const id of v.edges) { const d = this.drawnEdgeOf(id); if (d) edges.add(d); }
    return { nodes, edges };
  }

  /** Maps a model Change to the drawn elements it touches. */
  apply(c: Change): Change {
    const out = emptyChange(c.initial);
    const dirty = new Set<string>();
    const touchedGroups = new Set<string>();
    const rehome = new Set<string>();
    const changedEdges = new Set(c.changedEdges);
    for (const id of c.removedEdges) this.detach(id, out, dirty);
    for (const id of c.removedNodes) {
      const g = this.nodeGroup.get(id) ?? null;
      this.nodeGroup.delete(id);
      if (g) this.groupMembers.get(g)?.delete(id);
      if (g && this.folded.has(g)) touchedGroups.add(g); else out.removedNodes.push(id);
    }
    for (const id of [...c.addedNodes, ...c.changedNodes]) {
      const n = this.model.nodes.get(id);
      if (!n) continue;
      const key = foldKey(n);
      const known = this.nodeGroup.has(id);
      const prev = this.nodeGroup.get(id) ?? null;
      const wasFolded = known && prev !== null && this.folded.has(prev);
      if (known && prev !== key && prev) {
        this.groupMembers.get(prev)?.delete(id);
        if (wasFolded) touchedGroups.add(prev);
      }
      this.nodeGroup.set(id, key);
      if (key) {
        let set = this.groupMembers.get(key);
        if (!set) this.groupMembers.set(key, (set = new Set()));
        set.add(id);
      }
      const nowFolded = key !== null && this.folded.has(key);
      if (nowFolded) {
        touchedGroups.add(key!);
        if (known && !wasFolded) out.removedNodes.push(id);
      } else {
        (known && !wasFolded ? out.changedNodes : out.addedNodes).push(id);
      }
      // its edges may now end at another drawn node (also when they came before the node did)
      if (known ? wasFolded !== nowFolded || prev !== key : nowFolded) for (const e of this.model.adjacency.get(id) ?? []) rehome.add(e);
    }
    this.syncGroups(touchedGroups, out);
    for (const id of [...c.addedEdges, ...c.changedEdges, ...rehome]) this.attach(id, out, dirty, changedEdges);
    this.syncMerged(dirty, out);
    return dedupe(out);
  }

  /** Folds a project (or the external servers, or the remote clients: see OUTSIDE) into one node. */
  fold(group: string): Change {
    const out = emptyChange(false);
    if (this.folded.has(group) || !this.groupMembers.get(group)?.size) return out;
    this.folded.add(group);
    return this.refold(group, out);
  }

  /** Unfolds a project: its nodes and their edges are drawn again. */
  unfold(group: string): Change {
    const out = emptyChange(false);
    if (!this.folded.delete(group)) return out;
    return this.refold(group, out);
  }

  private refold(group: string, out: Change): Change {
    const folding = this.folded.has(group);
    const members = this.groupMembers.get(group) ?? new Set<string>();
    const dirty = new Set<string>();
    const rehome = new Set<string>();
    for (const id of members) {
      (folding ? out.removedNodes : out.addedNodes).push(id);
      for (const e of this.model.adjacency.get(id) ?? []) rehome.add(e);
    }
    // edges leave their old drawn edge before the nodes they hang on go
    for (const id of rehome) this.detach(id, out, dirty);
    this.syncGroups(new Set([group]), out);
    for (const id of rehome) this.attach(id, out, dirty, new Set());
    this.syncMerged(dirty, out);
    return dedupe(out);
  }

  /** Adds, updates or removes the drawn node of each folded project in `groups`. */
  private syncGroups(groups: Set<string>, out: Change): void {
    for (const g of groups) {
      const id = foldedId(g);
      const show = this.folded.has(g) && (this.groupMembers.get(g)?.size ?? 0) > 0;
      if (show) { (this.foldedDrawn.has(id) ? out.changedNodes : out.addedNodes).push(id); this.foldedDrawn.add(id); }
      else if (this.foldedDrawn.delete(id)) out.removedNodes.push(id);
    }
  }

  /** Where a model edge is drawn: as itself, inside a folded project (that node's id), or merged. */
  private target(e: GraphEdge): string {
    const s = this.drawnNodeOf(e.source), t = this.drawnNodeOf(e.target);
    if (s === e.source && t === e.target) return e.id;
    if (s === t) return s;
    return `${LINK_PREFIX}${s}|${t}`;
  }

  private detach(id: string, out: Change, dirty: Set<string>): void {
    const d = this.edgeDrawn.get(id);
    this.edgeDrawn.delete(id);
    if (d === undefined) return;
    if (isFoldedId(d)) { this.innerEdges.get(groupOfFolded(d))?.delete(id); return; }
    if (d === id) { out.removedEdges.push(id); return; }
    this.mergedMembers.get(d)?.delete(id);
    dirty.add(d);
  }

  private attach(id: string, out: Change, dirty: Set<string>, changed: ReadonlySet<string>): void {
    const e = this.model.edges.get(id);
    if (!e) return;
    const d = this.target(e);
    const prev = this.edgeDrawn.get(id);
    if (prev !== undefined && prev !== d) this.detach(id, out, dirty);
    const was = this.edgeDrawn.get(id);
    this.edgeDrawn.set(id, d);
    if (isFoldedId(d)) {
      const g = groupOfFolded(d);
      let set = this.innerEdges.get(g);
      if (!set) this.innerEdges.set(g, (set = new Set()));
      set.add(id);
      return;
    }
    if (d === id) {
      if (was === id) { if (changed.has(id)) out.changedEdges.push(id); } else out.addedEdges.push(id);
      return;
    }
    let set = this.mergedMembers.get(d);
    if (!set) this.mergedMembers.set(d, (set = new Set()));
    set.add(id);
    dirty.add(d);
  }

  private syncMerged(dirty: Set<string>, out: Change): void {
    for (const d of dirty) {
      const members = this.mergedMembers.get(d);
      if (!members?.size) {
        this.mergedMembers.delete(d);
        if (this.mergedValue.delete(d)) out.removedEdges.push(d);
        continue;
      }
      const edges = [...members].map((m) => this.model.edges.get(m)!).filter(Boolean);
      const [s, t] = d.slice(LINK_PREFIX.length).split('|');
      const had = this.mergedValue.has(d);
      this.mergedValue.set(d, { id: d, source: s, target: t, edge: mergeEdges(d, s, t, edges), members: [...members] });
      (had ? out.changedEdges : out.addedEdges).push(d);
    }
  }
}

/** Removes repeats; an id both removed and added (it went and came back) counts as added. */
function dedupe(c: Change): Change {
  const addedNodes = new Set(c.addedNodes), addedEdges = new Set(c.addedEdges);
  const removedNodes = new Set([...c.removedNodes].filter((id) => !addedNodes.has(id)));
  const removedEdges = new Set([...c.removedEdges].filter((id) => !addedEdges.has(id)));
  return {
    initial: c.initial,
    addedNodes: [...addedNodes],
    changedNodes: [...new Set(c.changedNodes)].filter((id) => !addedNodes.has(id) && !removedNodes.has(id)),
    removedNodes: [...removedNodes],
    addedEdges: [...addedEdges],
    changedEdges: [...new Set(c.changedEdges)].filter((id) => !addedEdges.has(id) && !removedEdges.has(id)),
    removedEdges: [...removedEdges],
  };
}

function sumRates(xs: Rates[]): Rates {
  const r = { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 };
  for (const x of xs) { r.connections += x.connections; r.failures += x.failures; r.bytesSent += x.bytesSent; r.bytesReceived += x.bytesReceived; }
  return r;
}

/**
 * Several model edges as one: counts, bytes and rates summed, RTT p95 the worst, means weighted
 * by their samples. The port is the members' port when they share one, else 0.
 */
export function mergeEdges(id: string, source: string, target: string, es: GraphEdge[]): GraphEdge {
  const first = es[0];
  const sum = (f: (e: GraphEdge) => number) => es.reduce((a, e) => a + f(e), 0);
  const weighted = (mean: (e: GraphEdge) => number, n: (e: GraphEdge) => number) => { const w = sum(n); return w > 0 ? sum((e) => mean(e) * n(e)) / w : 0; };
  const failedBy = { ...first.connections.failedBy };
  for (const e of es.slice(1)) for (const k of Object.keys(failedBy) as (keyof typeof failedBy)[]) failedBy[k] += e.connections.failedBy[k] ?? 0;
  return {
    ...first,
    id, source, target,
    port: es.every((e) => e.port === first.port) ? first.port : 0,
    connections: { opened: sum((e) => e.connections.opened), active: sum((e) => e.connections.active), closed: sum((e) => e.connections.closed), failed: sum((e) => e.connections.failed), failedBy },
    bytes: { sent: sum((e) => e.bytes.sent), received: sum((e) => e.bytes.received) },
    rtt: { meanUs: weighted((e) => e.rtt.meanUs, (e) => e.rtt.samples), p95Us: Math.max(...es.map((e) => e.rtt.p95Us)), samples: sum((e) => e.rtt.samples) },
    retransmits: sum((e) => e.retransmits),
    duration: { meanMs: weighted((e) => e.duration.meanMs, (e) => e.duration.samples), p95Ms: Math.max(...es.map((e) => e.duration.p95Ms)), samples: sum((e) => e.duration.samples) },
    firstSeen: Math.min(...es.map((e) => e.firstSeen)),
    lastSeen: Math.max(...es.map((e) => e.lastSeen)),
    rates: { '10s': sumRates(es.map((e) => e.rates['10s'])), '1m': sumRates(es.map((e) => e.rates['1m'])) },
  };
}

