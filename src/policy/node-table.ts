// The engine's nodes, kept column-wise: one slot per node id, with the node,
// its zones and a generation in arrays. A new node then adds no object of its
// own; thousands of new containers at once (a deploy) leave the young heap
// with little to copy, which is where per-node entry objects cost the most.
import type { NodeLike } from './model.js';
import type { NodeZones } from './compile.js';

export class NodeTable {
  private readonly slots = new Map<string, number>();
  private readonly nodes: (NodeLike | undefined)[] = [];
  private readonly zoneSets: (NodeZones | undefined)[] = [];
  private readonly gens: number[] = [];
  private readonly free: number[] = [];

  /** The node's slot, or -1. */
  slot(id: string): number { return this.slots.get(id) ?? -1; }
  node(slot: number): NodeLike { return this.nodes[slot]!; }
  zones(slot: number): NodeZones { return this.zoneSets[slot]!; }
  gen(slot: number): number { return this.gens[slot]; }

  /** Adds the node or replaces the one with its id; returns its slot. */
  put(n: NodeLike, zones: NodeZones, gen: number): number {
    let s = this.slots.get(n.id);
    if (s === undefined) {
      s = this.free.length ? this.free.pop()! : this.nodes.length;
      this.slots.set(n.id, s);
    }
    this.nodes[s] = n;
    this.zoneSets[s] = zones;
    this.gens[s] = gen;
    return s;
  }

  /** New zones (and generation) for a known slot. */
  replace(slot: number, zones: NodeZones, gen: number): void { this.zoneSets[slot] = zones; this.gens[slot] = gen; }

  delete(id: string): void {
    const s = this.slots.get(id);
    if (s === undefined) return;
    this.slots.delete(id);
    this.nodes[s] = undefined;
    this.zoneSets[s] = undefined;
    this.free.push(s);
  }

  get size(): number { return this.slots.size; }

  /** Every id with its slot. */
  entries(): IterableIterator<[string, number]> { return this.slots.entries(); }
}
