// window.__dhrishti: what the map has drawn, for browser tests and the render benchmark.
import type cytoscape from 'cytoscape';
import type { Live, Timing } from '../app/live.js';
import type { MapRenderer } from './renderer.js';

export interface DhrishtiTestHook {
  cy: cytoscape.Core;
  readonly ready: boolean;
  /** Acts as a click on a node or edge (opens the side panel). */
  tap(id: string): void;
  nodeIds(): string[];
  edgeIds(): string[];
  visibleNodeIds(): string[];
  /** Shown edges: drawn by Cytoscape, or as overview lines on a big map zoomed out. */
  visibleEdgeIds(): string[];
  /** The edges drawn as overview lines in the last frame. */
  overviewEdgeIds(): string[];
  edgeClasses(id: string): string[];
  nodeClasses(id: string): string[];
  position(id: string): { x: number; y: number } | null;
  layoutRuns(): number;
  timings(): Timing[];
  connection(): string;
  /** 'webgl' or 'canvas'. */
  renderer(): string;
  /** Folded projects, and the drawn ids of their nodes (fold::<project>). */
  folded(): string[];
  foldedIds(): string[];
  fold(group: string): void;
  unfold(group: string): void;
  /** What the zoom shows: labels, arrows, moving dots. */
  detail(): { nodes: boolean; edges: boolean; arrows: boolean; dots: boolean; overview: boolean };
  /** The first layout: how long (ms), where it ran ('page', 'worker', 'saved'), how many nodes. */
  firstLayout(): { ms: number; where: string; nodes: number } | null;
  lastLayout(): { ms: number; where: string; nodes: number } | null;
  /** The current zoom level and pan. */
  viewport(): { zoom: number; pan: { x: number; y: number } };
  /** Moves the view as a drag of the map would (the user has moved it). */
  panBy(x: number, y: number): void;
  /** A framing is due or under way (a zoom now would be undone by it). */
  framing(): boolean;
  /** The view counts as moved by the user (no reframing by itself). */
  userMoved(): boolean;
  /** Node boxes (labels included) in the canvas's pixels, for checks that nothing lies under a panel. */
  renderedBoxes(): { id: string; x1: number; y1: number; x2: number; y2: number }[];
}

declare global {
  interface Window { __dhrishti?: DhrishtiTestHook }
}

export function installTestHook(live: Live, r: MapRenderer): () => void {
  const cy = r.cy;
  const graphNodes = () => cy.nodes().not('.group').not('.folded');
  const hook: DhrishtiTestHook = {
    cy,
    get ready() { return live.model.loaded && (r.ready || live.model.nodes.size === 0); },
    tap: (id) => { cy.getElementById(id).emit('tap'); },
    nodeIds: () => graphNodes().map((n) => n.id()),
    edgeIds: () => cy.edges().map((e) => e.id()),
    visibleNodeIds: () => graphNodes().filter((n) => n.visible()).map((n) => n.id()),
    visibleEdgeIds: () => { const lines = new Set(r.overviewEdgeIds()); return cy.edges().filter((e) => e.visible() || lines.has(e.id())).map((e) => e.id()); },
    overviewEdgeIds: () => r.overviewEdgeIds(),
    edgeClasses: (id) => r.edgeClasses(id),
    nodeClasses: (id) => { const el = cy.getElementById(id); return el.nonempty() ? el.classes() : []; },
    position: (id) => { const el = cy.getElementById(id); return el.nonempty() && el.isNode() ? { ...el.position() } : null; },
    layoutRuns: () => r.layoutRuns,
    timings: () => [...live.timings],
    connection: () => live.state.phase,
    renderer: () => r.rendererName,
    folded: () => r.grouped.foldedGroups(),
    foldedIds: () => cy.nodes('.folded').map((n) => n.id()),
    fold: (g) => r.fold(g),
    unfold: (g) => r.unfold(g),
    detail: () => { const d = r.detail(); return { nodes: d.nodes, edges: d.edges, arrows: d.arrows, dots: d.dots, overview: d.overview }; },
    firstLayout: () => r.firstLayout,
    lastLayout: () => r.lastLayout,
    viewport: () => ({ zoom: cy.zoom(), pan: { ...cy.pan() } }),
    panBy: (x, y) => { r.markMovedByUser(); cy.panBy({ x, y }); },
    framing: () => r.isFraming,
    userMoved: () => r.movedByUser,
    renderedBoxes: () => cy.nodes().not('.group').filter((n) => n.visible()).map((n) => {
      const b = n.renderedBoundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
      return { id: n.id(), x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 };
    }),
  };
  window.__dhrishti = hook;
  return () => { if (window.__dhrishti === hook) delete window.__dhrishti; };
}
