// The graph as the page knows it: snapshot and deltas from the stream applied to
// plain maps, each step reporting exactly which ids were added, changed or removed
// so the drawing can touch only those. Pure logic (no DOM), unit-tested in test/ui-model.test.ts.
import type { GraphDelta, GraphEdge, GraphNode, GraphSnapshot } from '../../../graph/types.js';
import { edgeHealth, type Health } from './derive.js';
import { nodeNote } from '../../../graph/labels.js';

export interface Change {
  /** True for the first snapshot: the drawing lays out everything from scratch. */
  initial: boolean;
  addedNodes: string[];
  changedNodes: string[];
  removedNodes: string[];
  addedEdges: string[];
  changedEdges: string[];
  removedEdges: string[];
}

/**
 * What an edge's counters count. The live API gives running totals since the agent started, so
 * "lately" is judged from how they move while the page watches. A history moment gives one
 * bucket's counts, and a history range the sums over the range: those are judged as they are.
 */
export type Counting = 'running' | 'interval';

export function emptyChange(initial = false): Change {
  return { initial, addedNodes: [], changedNodes: [], removedNodes: [], addedEdges: [], changedEdges: [], removedEdges: [] };
}

export function changeSize(c: Change): number {
  return c.addedNodes.length + c.changedNodes.length + c.removedNodes.length + c.addedEdges.length + c.changedEdges.length + c.removedEdges.length;
}

export class GraphModel {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();
  /** node id -> ids of edges touching it */
  readonly adjacency = new Map<string, Set<string>>();
  /** Edges whose retransmit count grew by at least `retransmitWarnCount` within the last `retransmitWindowMs`. */
  readonly retransmitting = new Set<string>();
  /** edge id -> (time, retransmit count) whenever the count changed; the first is the baseline */
  private readonly retransmitSamples = new Map<string, { t: number; v: number }[]>();
  generatedAt = 0;
  /** How the counters of the graph shown now count; changes with the live/history switch. */
  counting: Counting = 'running';
  /** Bumped on every applied message; React views compare it. */
  version = 0;
  private hasSnapshot = false;
  /** External servers named by DNS are put in a group per registered domain (the "Domains" toggle). */
  private groupByDomain = false;

  constructor(private readonly retransmitWindowMs = 60_000, private readonly retransmitWarnCount = 3) {}

  get loaded(): boolean {
    return this.hasSnapshot;
  }

  /**
   * A snapshot replaces everything; after the first one (a reconnect, or a switch to or from the
   * history) it is applied as a diff. `counting` says what its counters are (see Counting).
   */
  applySnapshot(s: GraphSnapshot, now = Date.now(), counting: Counting = 'running'): Change {
    const change = emptyChange(!this.hasSnapshot);
    this.useCounting(counting);
    const nodeIds = new Set(s.nodes.map((n) => n.id));
    const edgeIds = new Set(s.edges.map((e) => e.id));
    for (const id of [...this.edges.keys()]) if (!edgeIds.has(id)) { this.dropEdge(id); change.removedEdges.push(id); }
    for (const id of [...this.nodes.keys()]) if (!nodeIds.has(id)) { this.dropNode(id, change); change.removedNodes.push(id); }
    for (const n of s.nodes) this.putNode(n, change);
    for (const e of s.edges) this.putEdge(e, change, now);
    this.generatedAt = s.generatedAt;
    this.hasSnapshot = true;
    this.version++;
    return change;
  }

  /**
   * Switches what the counters count. A total and a bucket's count cannot be compared, so the
   * retransmit judgement starts afresh; returns the edges whose mark that cleared.
   */
  useCounting(counting: Counting): string[] {
    if (counting === this.counting) return [];
    this.counting = counting;
    const cleared = [...this.retransmitting];
    this.retransmitSamples.clear();
    this.retransmitting.clear();
    return cleared;
  }

  applyDelta(d: GraphDelta, now = Date.now()): Change {
    const change = emptyChange(false);
    for (const id of d.removedEdges ?? []) if (this.edges.has(id)) { this.dropEdge(id); change.removedEdges.push(id); }
    for (const id of d.removedNodes ?? []) if (this.nodes.has(id)) { this.dropNode(id, change); change.removedNodes.push(id); }
    for (const n of d.nodes ?? []) this.putNode(n, change);
    for (const e of d.edges ?? []) this.putEdge(e, change, now);
    this.generatedAt = d.generatedAt;
    this.version++;
    return change;
  }

  /** Edges whose "retransmitting" mark ran out by `now`; their colour must be recomputed. */
  expireRetransmitMarks(now = Date.now()): string[] {
    const expired: string[] = [];
    if (this.counting === 'interval') return expired; // a past moment does not age
    for (const id of [...this.retransmitting]) {
      if (!this.judgeRetransmits(id, now)) expired.push(id);
    }
    return expired;
  }

  healthOf(id: string): Health {
    const e = this.edges.get(id);
    return e ? edgeHealth(e, this.retransmitting.has(id)) : 'ok';
  }

  edgesOf(nodeId: string): GraphEdge[] {
    const ids = this.adjacency.get(nodeId);
    if (!ids) return [];
    const out: GraphEdge[] = [];
    for (const id of ids) { const e = this.edges.get(id); if (e) out.push(e); }
    return out;
  }

  /**
   * A node's name in lists and titles: its label, or group/label when another node has the same label
   * (tenant-a's db and tenant-b's db, or two projects' app), so a row or title says which one it is.
   */
  nameOf(id: string): string {
    const n = this.nodes.get(id);
    if (!n) return id;
    if (this.labelCounts.version !== this.version) {
      const counts = new Map<string, number>();
      for (const x of this.nodes.values()) counts.set(x.label, (counts.get(x.label) ?? 0) + 1);
      this.labelCounts = { version: this.version, counts };
    }
    // a vacant address says which container it was, in titles and lists as on the map ("db (was shop-db-1)")
    return (n.group && (this.labelCounts.counts.get(n.label) ?? 0) > 1 ? `${n.group}/${n.label}` : n.label) + nodeNote(n);
  }

  private labelCounts: { version: number; counts: Map<string, number> } = { version: -1, counts: new Map() };

  groups(): string[] {
    const gs = new Set<string>();
    for (const n of this.nodes.values()) if (n.group) gs.add(n.group);
    return [...gs].sort((a, b) => a.localeCompare(b));
  }

  /** Boxes external servers by the registered domain of their DNS name, or not; returns the nodes that moved. */
  setGroupByDomain(on: boolean): Change {
    const change = emptyChange(false);
    if (on === this.groupByDomain) return change;
    this.groupByDomain = on;
    for (const n of [...this.nodes.values()]) if (n.kind === 'external' && n.dns?.domain) this.putNode({ ...n, group: null }, change);
    this.version++;
    return change;
  }

  private putNode(n: GraphNode, change: Change): void {
    if (this.nodes.has(n.id)) change.changedNodes.push(n.id);
    else change.addedNodes.push(n.id);
    this.nodes.set(n.id, this.groupByDomain && n.kind === 'external' && n.dns?.domain && !n.group ? { ...n, group: n.dns.domain } : n);
  }

  private putEdge(e: GraphEdge, change: Change, now: number): void {
    const prev = this.edges.get(e.id);
    if (prev) {
      change.changedEdges.push(e.id);
      if (prev.source !== e.source || prev.target !== e.target) this.unlink(prev);
    } else {
      change.addedEdges.push(e.id);
    }
    this.edges.set(e.id, e);
    this.link(e);
    this.noteRetransmits(e, now);
  }

  /**
   * Live, retransmits are a running total, so "lately" is judged from how the total moved while
   * the page watched; the first count seen is only a baseline (an old total says nothing about now).
   * From the history, the count is the bucket's (or the range's) own.
   */
  private noteRetransmits(e: GraphEdge, now: number): void {
    if (this.counting === 'interval') {
      if (e.retransmits >= this.retransmitWarnCount) this.retransmitting.add(e.id); else this.retransmitting.delete(e.id);
      return;
    }
    const samples = this.retransmitSamples.get(e.id);
    if (!samples) {
      this.retransmitSamples.set(e.id, [{ t: now, v: e.retransmits }]);
      return;
    }
    if (samples[samples.length - 1].v !== e.retransmits) samples.push({ t: now, v: e.retransmits });
    this.judgeRetransmits(e.id, now);
  }

  private judgeRetransmits(id: string, now: number): boolean {
    const s = this.retransmitSamples.get(id);
    if (!s) { this.retransmitting.delete(id); return false; }
    // keep one sample at or before the window's start as the baseline
    while (s.length > 1 && s[1].t <= now - this.retransmitWindowMs) s.shift();
    const rising = s[s.length - 1].v - s[0].v >= this.retransmitWarnCount;
    if (rising) this.retransmitting.add(id); else this.retransmitting.delete(id);
    return rising;
  }

  private link(e: GraphEdge): void {
    for (const end of [e.source, e.target]) {
      let set = this.adjacency.get(end);
      if (!set) this.adjacency.set(end, (set = new Set()));
      set.add(e.id);
    }
  }

  private unlink(e: GraphEdge): void {
    for (const end of [e.source, e.target]) {
      const set = this.adjacency.get(end);
      set?.delete(e.id);
      if (set && set.size === 0) this.adjacency.delete(end);
    }
  }

  private dropEdge(id: string): void {
    const e = this.edges.get(id);
    if (!e) return;
    this.unlink(e);
    this.edges.delete(id);
    this.retransmitting.delete(id);
    this.retransmitSamples.delete(id);
  }

  /** Removing a node removes its edges too, even if the delta forgot to list them. */
  private dropNode(id: string, change: Change): void {
    for (const eid of [...(this.adjacency.get(id) ?? [])]) {
      this.dropEdge(eid);
      change.removedEdges.push(eid);
    }
    this.nodes.delete(id);
    this.adjacency.delete(id);
  }
}
