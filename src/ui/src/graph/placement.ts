// Placing nodes without a full layout: a new node next to what it talks to, an unfolded project
// where its folded box was (moving the rest out of its way), and the small map's incremental
// fcose run that settles new nodes while every other node stays exactly where it is.
import type cytoscape from 'cytoscape';
import type { GraphNode } from '../../../graph/types.js';
import { nodeLabel } from '../model/derive.js';
import { pushFor, type LayoutJob, type LayoutNode } from './layoutCompute.js';
import { SIZE } from './style.js';
import type { Point } from './positions.js';

/** Nodes closer than this (centre to centre) are taken to overlap. */
const MIN_GAP = 64;

/** The first point from `start` outwards (a spiral) with no other node centre within MIN_GAP. */
export function freeSpot(start: Point, taken: Point[]): Point {
  const near = taken.filter((p) => Math.abs(p.x - start.x) < 1200 && Math.abs(p.y - start.y) < 1200);
  const free = (q: Point) => near.every((p) => (p.x - q.x) ** 2 + (p.y - q.y) ** 2 >= MIN_GAP * MIN_GAP);
  if (free(start)) return start;
  for (let i = 1; i < 400; i++) {
    const a = i * 0.9, r = 30 + 9 * i;
    const q = { x: start.x + r * Math.cos(a), y: start.y + r * Math.sin(a) };
    if (free(q)) return q;
  }
  return start;
}

/**
 * Puts each new node next to its drawn neighbours (or its project's other nodes), at a free spot,
 * or to the right of the map when it has neither. `neighbours` gives the drawn node ids linked to a node.
 */
export function placeNearNeighbours(cy: cytoscape.Core, ids: string[], neighbours: (id: string) => string[]): void {
  const fresh = new Set(ids);
  const placed = cy.nodes().filter((n) => !n.isParent() && !fresh.has(n.id()));
  const taken: Point[] = placed.map((n) => ({ ...(n as cytoscape.NodeSingular).position() }));
  const box = placed.boundingBox({});
  let spare = 0;
  for (const id of ids) {
    const node = cy.getElementById(id) as cytoscape.NodeSingular;
    if (node.empty()) continue;
    const anchors: Point[] = [];
    for (const other of neighbours(id)) {
      if (fresh.has(other)) continue;
      const o = cy.getElementById(other);
      if (o.nonempty() && !o.isParent()) anchors.push((o as cytoscape.NodeSingular).position());
    }
    if (!anchors.length && node.parent().nonempty()) {
      node.siblings().forEach((s) => { if (!fresh.has(s.id())) anchors.push((s as unknown as cytoscape.NodeSingular).position()); });
    }
    let at: Point;
    if (anchors.length) {
      at = { x: anchors.reduce((a, p) => a + p.x, 0) / anchors.length, y: anchors.reduce((a, p) => a + p.y, 0) / anchors.length + 60 };
    } else if (Number.isFinite(box.x2)) {
      at = { x: box.x2 + 80 + (spare % 4) * 70, y: box.y1 + Math.floor(spare / 4) * 70 };
      spare++;
    } else {
      at = { x: 0, y: 0 };
    }
    const p = freeSpot(at, taken);
    node.position(p);
    taken.push(p);
  }
}

/**
 * Lays out `fresh` nodes with every other drawn node fixed where it is (fcose with fixed-node
 * constraints), then pins those back exactly. For small maps: the run costs time in the number of
 * nodes. Returns false when the layout failed (the neighbour placement then stays).
 */
export function settleNew(cy: cytoscape.Core, fresh: Set<string>, options: Record<string, unknown>): boolean {
  // Only drawn nodes: fcose leaves hidden ones out, and a constraint naming one of them breaks it.
  const others = cy.nodes().filter((n) => !n.isParent() && !fresh.has(n.id()) && n.visible()) as cytoscape.NodeCollection;
  if (others.empty()) return true;
  const before = new Map(others.map((n: cytoscape.NodeSingular) => [n.id(), { ...n.position() }] as const));
  try {
    cy.layout({
      ...options,
      quality: 'proof',
      randomize: false,
      fit: false,
      packComponents: false,
      tile: false,
      initialEnergyOnIncremental: 0.2,
      numIter: 600,
      fixedNodeConstraint: [...before].map(([nodeId, position]) => ({ nodeId, position })),
    } as unknown as cytoscape.LayoutOptions).run();
    return true;
  } catch (e) {
    console.warn('dhrishti: incremental layout failed, keeping neighbour placement:', e);
    return false;
  } finally {
    // fcose keeps fixed nodes in place up to rounding; make it exact so nothing drifts over time
    cy.batch(() => others.forEach((n) => { const p = before.get(n.id())!; const q = n.position(); if (p.x !== q.x || p.y !== q.y) n.position(p); }));
  }
}

/** A node's size with its label, for a layout job. */
export function layoutNode(n: cytoscape.NodeSingular, group: string | null): LayoutNode {
  const bb = n.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
  // a folded project is a big box: it keeps more room around it
  const push = n.hasClass('folded') ? pushFor(n.width()) : 1;
  return { id: n.id(), w: Math.max(20, Math.ceil(bb.w)), h: Math.max(20, Math.ceil(bb.h)), group, push };
}

/** A node's size with its label, estimated from the model (before Cytoscape has styled it). */
export function estimatedNode(n: GraphNode): LayoutNode {
  const body = SIZE[n.kind];
  // 13 px labels below the shape, ellipsized at 11 em (style.ts)
  const label = Math.min(nodeLabel(n).length * 7.4, 13 * 11);
  return { id: n.id, w: Math.ceil(Math.max(body, label) + 4), h: body + 22, group: n.group };
}

/** The job for drawn nodes `nodes` (not project boxes) and the drawn edges among them. */
export function layoutJob(cy: cytoscape.Core, nodes: cytoscape.NodeCollection, strategy: LayoutJob['strategy']): LayoutJob {
  const ids = new Set(nodes.map((n) => n.id()));
  const groupOf = (n: cytoscape.NodeSingular) => { const p = n.parent(); return p.nonempty() ? String(p.data('label') ?? p[0].id()) : null; };
  const edges: LayoutJob['edges'] = [];
  cy.edges().forEach((e) => { const s = e.data('source') as string, t = e.data('target') as string; if (ids.has(s) && ids.has(t)) edges.push({ s, t }); });
  return { nodes: nodes.map((n) => layoutNode(n, groupOf(n))), edges, strategy };
}

/**
 * Moves what is around an unfolded project out of its way, keeping the map's arrangement: every
 * block (a project with all its nodes, or a node outside any project) moves straight away from
 * the project's centre by as much as the project grew in that direction (from its folded box,
 * `was`, to `box`), so blocks that were side by side stay side by side; one still in the way then
 * moves on until it is clear. Boxes are in model coordinates.
 */
export function makeRoom(cy: cytoscape.Core, box: Rect, was: Rect | null, keep: Set<string>, gap = 40): void {
  const cx = (box.x1 + box.x2) / 2, cy0 = (box.y1 + box.y2) / 2;
  const b = { x1: box.x1 - gap, y1: box.y1 - gap, x2: box.x2 + gap, y2: box.y2 + gap };
  // distance from the centre to a box's border along a unit direction
  const exit = (r: Rect, dx: number, dy: number) => Math.min(
    dx ? Math.abs((dx > 0 ? r.x2 - cx : cx - r.x1) / dx) : Infinity,
    dy ? Math.abs((dy > 0 ? r.y2 - cy0 : cy0 - r.y1) / dy) : Infinity,
  );
  const blocks: cytoscape.CollectionReturnValue[] = [];
  cy.nodes().forEach((n) => {
    if (keep.has(n.id()) || n.isChild()) return;
    blocks.push(n.isParent() ? (n as cytoscape.NodeSingular).children() as unknown as cytoscape.CollectionReturnValue : cy.collection().union(n));
  });
  cy.batch(() => {
    for (const blk of blocks) {
      if (blk.empty()) continue;
      let bb = blk.boundingBox({ includeLabels: true });
      let dx = (bb.x1 + bb.x2) / 2 - cx, dy = (bb.y1 + bb.y2) / 2 - cy0;
      if (dx === 0 && dy === 0) dx = 1;
      const len = Math.hypot(dx, dy);
      dx /= len; dy /= len;
      let t = Math.max(0, exit(b, dx, dy) - (was ? exit(was, dx, dy) : 0));
      const moveBy = (d: number) => blk.forEach((n) => { const p = (n as cytoscape.NodeSingular).position(); (n as cytoscape.NodeSingular).position({ x: p.x + dx * d, y: p.y + dy * d }); });
      if (t > 0) moveBy(t);
      bb = blk.boundingBox({ includeLabels: true });
      if (bb.x2 < b.x1 || bb.x1 > b.x2 || bb.y2 < b.y1 || bb.y1 > b.y2) continue; // clear
      // how much further along (dx, dy) until the block's box no longer meets the room
      const tx = dx > 0 ? (b.x2 - bb.x1) / dx : dx < 0 ? (b.x1 - bb.x2) / dx : Infinity;
      const ty = dy > 0 ? (b.y2 - bb.y1) / dy : dy < 0 ? (b.y1 - bb.y2) / dy : Infinity;
      t = Math.min(tx, ty);
      if (Number.isFinite(t) && t > 0) moveBy(t);
    }
  });
}

export interface Rect { x1: number; y1: number; x2: number; y2: number }

/** A placeholder placement: each project's nodes in a square grid of their own, the projects side by side. */
export function gridByGroup(cy: cytoscape.Core, nodes: cytoscape.NodeCollection, gap = 90): void {
  const byGroup = new Map<string, cytoscape.NodeSingular[]>();
  nodes.forEach((n) => {
    const p = n.parent();
    const k = p.nonempty() ? p[0].id() : '';
    const l = byGroup.get(k) ?? [];
    l.push(n);
    byGroup.set(k, l);
  });
  const cells = [...byGroup.values()];
  const cellSide = Math.max(...cells.map((c) => Math.ceil(Math.sqrt(c.length)))) * gap + 2 * gap;
  const perRow = Math.ceil(Math.sqrt(cells.length));
  cy.batch(() => cells.forEach((members, i) => {
    const ox = (i % perRow) * cellSide, oy = Math.floor(i / perRow) * cellSide;
    const side = Math.ceil(Math.sqrt(members.length));
    members.forEach((n, j) => n.position({ x: ox + (j % side) * gap, y: oy + Math.floor(j / side) * gap }));
  }));
}
