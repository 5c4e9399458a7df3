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
  visibleEdgeIds(): string[];
  edgeClasses(id: string): string[];
  nodeClasses(id: string): string[];
  position(id: string): { x: number; y: number } | null;
  layoutRuns(): number;
  timings(): Timing[];
  connection(): string;
}

declare global {
  interface Window { __dhrishti?: DhrishtiTestHook }
}

export function installTestHook(live: Live, r: MapRenderer): () => void {
  const cy = r.cy;
  const graphNodes = () => cy.nodes().not('.group');
  const hook: DhrishtiTestHook = {
    cy,
    get ready() { return live.model.loaded && (r.ready || live.model.nodes.size === 0); },
    tap: (id) => { cy.getElementById(id).emit('tap'); },
    nodeIds: () => graphNodes().map((n) => n.id()),
    edgeIds: () => cy.edges().map((e) => e.id()),
    visibleNodeIds: () => graphNodes().filter((n) => n.visible()).map((n) => n.id()),
    visibleEdgeIds: () => cy.edges().filter((e) => e.visible()).map((e) => e.id()),
    edgeClasses: (id) => r.edgeClasses(id),
    nodeClasses: (id) => { const el = cy.getElementById(id); return el.nonempty() ? el.classes() : []; },
    position: (id) => { const el = cy.getElementById(id); return el.nonempty() && el.isNode() ? { ...el.position() } : null; },
    layoutRuns: () => r.layoutRuns,
    timings: () => [...live.timings],
    connection: () => live.state.phase,
  };
  window.__dhrishti = hook;
  return () => { if (window.__dhrishti === hook) delete window.__dhrishti; };
}
