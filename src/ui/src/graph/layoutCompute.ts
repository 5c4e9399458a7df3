// Node placement with fcose on a headless Cytoscape, away from the page: it runs in a Web Worker
// (layout.worker.ts) so a big map's layout never blocks the page, or on the page when no worker
// can be had. Two ways:
//  - 'compound': one run over everything, projects as compound nodes (small maps: edges across
//    projects pull their ends together);
//  - 'grouped': each project on its own, then one run that places the projects (as boxes of their
//    laid-out size) among the nodes outside any project. Cost grows with the largest project,
//    not with the whole map, so a thousand nodes take a second, not ten.
import cytoscape from 'cytoscape';
import fcose from 'cytoscape-fcose';

cytoscape.use(fcose);

export interface LayoutNode {
  id: string;
  /** Size with its label, in model units. */
  w: number;
  h: number;
  group: string | null;
  /** See pushOf: how much harder than an ordinary node it pushes others away. */
  push?: number;
}
export interface LayoutEdge { s: string; t: string }
export interface LayoutJob {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  strategy: 'compound' | 'grouped';
}
export interface LayoutResult {
  positions: Record<string, [number, number]>;
  ms: number;
}

/** Room around a project's nodes inside its box (as the stylesheet's padding) plus its title. */
export const GROUP_PADDING = 22;
const GROUP_TITLE = 24;

const BASE = {
  name: 'fcose',
  animate: false,
  fit: false,
  nodeDimensionsIncludeLabels: false, // sizes already include labels
  edgeElasticity: () => 0.3,
  nestingFactor: 0.9,
  gravity: 0.3,
  gravityCompound: 0.6,
  gravityRangeCompound: 2,
  tilingPaddingVertical: 28,
  tilingPaddingHorizontal: 28,
  padding: 40,
};

function headless(nodes: LayoutNode[], edges: LayoutEdge[], compound: boolean): cytoscape.Core {
  const ids = new Set(nodes.map((n) => n.id));
  const groups = compound ? [...new Set(nodes.map((n) => n.group).filter((g): g is string => !!g))] : [];
  return cytoscape({
    headless: true,
    styleEnabled: true,
    elements: [
      ...groups.map((g) => ({ group: 'nodes' as const, data: { id: `group::${g}` } })),
      ...nodes.map((n) => ({ group: 'nodes' as const, data: { id: n.id, w: n.w, h: n.h, push: n.push ?? 1, parent: compound && n.group ? `group::${n.group}` : undefined } })),
      ...edges.filter((e) => ids.has(e.s) && ids.has(e.t) && e.s !== e.t).map((e, i) => ({ group: 'edges' as const, data: { id: `e${i}`, source: e.s, target: e.t } })),
    ],
    style: [
      { selector: 'node[w]', style: { width: 'data(w)', height: 'data(h)', shape: 'rectangle' } },
      { selector: ':parent', style: { padding: `${GROUP_PADDING}px` } },
    ] as cytoscape.StylesheetJson,
  });
}

/**
 * Big nodes (folded projects, project boxes) push harder and get longer edges, so they do not
 * crowd each other: `push` (default 1) scales both.
 */
const pushOf = (n: cytoscape.NodeSingular) => Number(n.data('push')) || 1;
const bigEnds = (e: cytoscape.EdgeSingular) => Math.min(150, (pushOf(e.source()) - 1) * 30) + Math.min(150, (pushOf(e.target()) - 1) * 30);

/** How hard a box of this side pushes, relative to an ordinary node. */
export function pushFor(side: number): number {
  return Math.min(6, Math.max(1, (side / 70) ** 2));
}

function run(cy: cytoscape.Core, opts: Record<string, unknown>): void {
  const n = cy.nodes().length;
  const base = typeof opts.idealEdgeLength === 'number' ? opts.idealEdgeLength : n < 60 ? 105 : 110;
  cy.layout({
    ...BASE,
    // "proof" polishes longer; too slow beyond a few dozen nodes per run
    quality: n <= 80 ? 'proof' : 'default',
    randomize: true,
    packComponents: true,
    tile: true,
    ...opts,
    nodeRepulsion: (node: cytoscape.NodeSingular) => (typeof opts.nodeRepulsion === 'number' ? opts.nodeRepulsion : n < 60 ? 14000 : 9000) * pushOf(node),
    idealEdgeLength: (e: cytoscape.EdgeSingular) => base + bigEnds(e),
  } as cytoscape.LayoutOptions).run();
}

/**
 * fcose keeps nodes apart by forces, which a dense map (every project talks to every other)
 * can overpower: push overlapping boxes apart along the axis of least overlap until none overlap
 * (or rounds run out). Nodes in a compound are left to fcose (their project box holds them).
 */
export function separate(cy: cytoscape.Core, gap = 16, rounds = 60): void {
  const ns = cy.nodes().filter((n) => !n.isParent() && !n.isChild()) as unknown as cytoscape.NodeCollection;
  const r = ns.map((n: cytoscape.NodeSingular) => { const p = n.position(); return { n, x: p.x, y: p.y, hw: n.outerWidth() / 2 + gap / 2, hh: n.outerHeight() / 2 + gap / 2 }; });
  for (let round = 0; round < rounds; round++) {
    let moved = false;
    r.sort((a, b) => (a.x - a.hw) - (b.x - b.hw));
    for (let i = 0; i < r.length; i++) {
      const a = r[i];
      for (let j = i + 1; j < r.length; j++) {
        const b = r[j];
        if (b.x - b.hw >= a.x + a.hw) break; // sorted by left edge: nothing further can overlap a
        const ox = a.hw + b.hw - Math.abs(a.x - b.x), oy = a.hh + b.hh - Math.abs(a.y - b.y);
        if (ox <= 0 || oy <= 0) continue;
        moved = true;
        if (ox < oy) { const s = (a.x <= b.x ? -1 : 1) * ox / 2; a.x += s; b.x -= s; } else { const s = (a.y <= b.y ? -1 : 1) * oy / 2; a.y += s; b.y -= s; }
      }
    }
    if (!moved) break;
  }
  cy.batch(() => { for (const q of r) q.n.position({ x: q.x, y: q.y }); });
}

function positionsOf(cy: cytoscape.Core, out: Record<string, [number, number]>, dx = 0, dy = 0): void {
  cy.nodes().forEach((n) => { if (!n.isParent()) { const p = n.position(); out[n.id()] = [p.x + dx, p.y + dy]; } });
}

/** One project laid out on its own: positions and the box they fill. */
export interface InnerLayout { group: string; pos: Record<string, [number, number]>; bb: { x1: number; y1: number; w: number; h: number } }

/** The steps of a layout, each small enough for one worker; a 'grouped' layout runs its projects in parallel. */
export type LayoutStep =
  | { kind: 'compound'; nodes: LayoutNode[]; edges: LayoutEdge[] }
  | { kind: 'inner'; group: string; nodes: LayoutNode[]; edges: LayoutEdge[] }
  | { kind: 'outer'; inner: InnerLayout[]; top: LayoutNode[]; edges: LayoutEdge[]; groupOf: Record<string, string> };

export function runStep(step: LayoutStep): Record<string, [number, number]> | InnerLayout {
  if (step.kind === 'compound') {
    const cy = headless(step.nodes, step.edges, true);
    if (step.nodes.length > 1) { run(cy, {}); separate(cy); }
    const out: Record<string, [number, number]> = {};
    positionsOf(cy, out);
    cy.destroy();
    return out;
  }
  if (step.kind === 'inner') {
    const cy = headless(step.nodes, step.edges, false);
    if (step.nodes.length > 1) { run(cy, {}); separate(cy); }
    const pos: Record<string, [number, number]> = {};
    positionsOf(cy, pos);
    const bb = cy.nodes().boundingBox({});
    cy.destroy();
    return { group: step.group, pos, bb: { x1: bb.x1, y1: bb.y1, w: bb.w, h: bb.h } };
  }
  // the projects as boxes of their laid-out size, among the nodes outside any project
  const box = (g: string) => `box::${g}`;
  const at = (id: string) => { const g = step.groupOf[id]; return g ? box(g) : id; };
  const boxes: LayoutNode[] = step.inner.map((v) => ({
    id: box(v.group), w: v.bb.w + 2 * GROUP_PADDING, h: v.bb.h + 2 * GROUP_PADDING + GROUP_TITLE, group: null,
    push: pushFor(Math.max(v.bb.w, v.bb.h) / 3),
  }));
  const seen = new Set<string>();
  const links: LayoutEdge[] = [];
  for (const e of step.edges) {
    const s = at(e.s), t = at(e.t);
    const k = s < t ? `${s}\u0000${t}` : `${t}\u0000${s}`;
    if (s !== t && !seen.has(k)) { seen.add(k); links.push({ s, t }); }
  }
  const cy = headless([...boxes, ...step.top], links, false);
  run(cy, { quality: 'default', nodeRepulsion: 12000, idealEdgeLength: 140 });
  separate(cy, 40, 400);
  const byGroup = new Map(step.inner.map((v) => [box(v.group), v]));
  const positions: Record<string, [number, number]> = {};
  cy.nodes().forEach((n) => {
    const p = n.position();
    const v = byGroup.get(n.id());
    if (!v) { positions[n.id()] = [p.x, p.y]; return; }
    // the inner layout's box centre onto the project's place (its title sits above the nodes)
    const dx = p.x - (v.bb.x1 + v.bb.w / 2), dy = p.y + GROUP_TITLE / 2 - (v.bb.y1 + v.bb.h / 2);
    for (const [id, q] of Object.entries(v.pos)) positions[id] = [q[0] + dx, q[1] + dy];
  });
  cy.destroy();
  return positions;
}

/** Splits a 'grouped' job: one inner step per project, then the outer step given their results. */
export function splitGrouped(job: LayoutJob): { inner: Extract<LayoutStep, { kind: 'inner' }>[]; outer: (inner: InnerLayout[]) => LayoutStep } {
  const byGroup = new Map<string, LayoutNode[]>();
  const top: LayoutNode[] = [];
  const groupOf: Record<string, string> = {};
  for (const n of job.nodes) {
    if (!n.group) { top.push(n); continue; }
    groupOf[n.id] = n.group;
    const l = byGroup.get(n.group) ?? [];
    l.push(n);
    byGroup.set(n.group, l);
  }
  const innerEdges = new Map<string, LayoutEdge[]>();
  for (const e of job.edges) {
    const g = groupOf[e.s];
    if (g && groupOf[e.t] === g) { const l = innerEdges.get(g) ?? []; l.push(e); innerEdges.set(g, l); }
  }
  return {
    inner: [...byGroup].map(([group, nodes]) => ({ kind: 'inner' as const, group, nodes, edges: innerEdges.get(group) ?? [] }))
      // biggest first, so parallel workers finish together
      .sort((a, b) => b.nodes.length - a.nodes.length),
    outer: (inner) => ({ kind: 'outer', inner, top, edges: job.edges, groupOf }),
  };
}

/** A whole layout in one go (on the page, or in tests). */
export function computeLayout(job: LayoutJob): LayoutResult {
  const t0 = performance.now();
  if (job.strategy === 'compound' || job.nodes.length < 2) {
    return { positions: runStep({ kind: 'compound', nodes: job.nodes, edges: job.edges }) as Record<string, [number, number]>, ms: performance.now() - t0 };
  }
  const { inner, outer } = splitGrouped(job);
  const done = inner.map((st) => runStep(st) as InnerLayout);
  return { positions: runStep(outer(done)) as Record<string, [number, number]>, ms: performance.now() - t0 };
}
