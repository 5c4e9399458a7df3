// The Cytoscape stylesheet for one theme. Element data carries only what styles
// map (label, kind, width); health and activity are classes set by the renderer.
import type { StylesheetJson } from 'cytoscape';
import type { NodeKind } from '../../../graph/types.js';
import { kindIcon, projectIcon } from './icons.js';
import { decorationStyles, type MapMode } from './looks.js';
import type { Palette } from './palette.js';
import { policyStyle } from '../policy/style.js';

const TRANSPARENT_PIXEL = 'data:image/svg+xml;utf8,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20width%3D%221%22%20height%3D%221%22%2F%3E';
const FONT = 'Inter, "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif';

const SHAPE: Record<NodeKind, string> = {
  service: 'round-hexagon',
  container: 'round-rectangle',
  process: 'ellipse',
  external: 'round-diamond',
  client: 'round-triangle',
};
export const SIZE: Record<NodeKind, number> = { service: 44, container: 38, process: 36, external: 40, client: 40 };
const KINDS: NodeKind[] = ['service', 'container', 'process', 'external', 'client'];

/**
 * Labels for the current zoom. On a small map they grow as the view zooms out, so names stay
 * readable; on a big one, labels too small to read are left out of the stylesheet altogether
 * (Cytoscape spends time on every label, drawn or not).
 */
export interface LabelDetail {
  nodes: boolean;
  edges: boolean;
  /** Arrowheads: on a big map zoomed far out they are a few pixels wide and cost half of every redraw. */
  arrows: boolean;
  nodeFont: number;
  edgeFont: number;
  /** Dots moving along busy edges: on a small map, or close enough to tell the edges apart. */
  dots: boolean;
  /**
   * Edges drawn as plain lines by the overview layer (graph/overview.ts), hidden in Cytoscape: on a
   * big map zoomed out as far as arrows are dropped. The renderer turns it off for WebGL.
   */
  overview: boolean;
}

const NODE_FONT = 13;
const EDGE_FONT = 11;
const MIN_SCREEN_FONT = 7;
export const FULL_LABELS: LabelDetail = { nodes: true, edges: true, arrows: true, nodeFont: NODE_FONT, edgeFont: EDGE_FONT, dots: true, overview: false };

/** Drawn maps up to this size are "small": every label and dot at any zoom. */
const SMALL = { nodes: 80, edges: 200 };
/** Dots on a bigger map only from this zoom on (and only on the busiest edges in view). */
const DOTS_ZOOM = 0.6;
/** Arrowheads (and curves) on a bigger map from this zoom on; below it, edges are overview lines. */
const ARROWS_ZOOM = 0.45;

/** A project's box: its fill (drawn by the overview layer while that is on) and corners. */
export const GROUP_FILL_OPACITY = 0.85;
export const GROUP_CORNER_RADIUS = 14;

/** What to draw at `zoom` for a map drawing `nodes` nodes and `edges` edges. */
export function labelDetailAt(zoom: number, nodes: number, edges: number): LabelDetail {
  const clamp = (v: number, lo: number, hi: number) => Math.round(Math.min(hi, Math.max(lo, v)));
  if (nodes <= SMALL.nodes && edges <= SMALL.edges) {
    return { nodes: true, edges: true, arrows: true, nodeFont: clamp(10 / zoom, NODE_FONT, 26), edgeFont: clamp(8.5 / zoom, EDGE_FONT, 20), dots: true, overview: false };
  }
  return {
    nodes: NODE_FONT * zoom >= MIN_SCREEN_FONT,
    edges: EDGE_FONT * zoom >= MIN_SCREEN_FONT,
    arrows: zoom >= ARROWS_ZOOM,
    nodeFont: NODE_FONT,
    edgeFont: EDGE_FONT,
    dots: zoom >= DOTS_ZOOM,
    overview: zoom < ARROWS_ZOOM,
  };
}

export function sameDetail(a: LabelDetail, b: LabelDetail): boolean {
  return a.nodes === b.nodes && a.edges === b.edges && a.arrows === b.arrows && a.nodeFont === b.nodeFont && a.edgeFont === b.edgeFont && a.dots === b.dots && a.overview === b.overview;
}

const TITLE_SIZES = [4, 5, 6, 7.5, 9.5, 12, 15, 19, 24, 30, 38, 48, 64, 84];

/**
 * Font of project titles: 12-16 px on screen from zoom 3 (the closest) out to 1/7 (it grows as the view zooms out, and shrinks as it zooms in:
 * Cytoscape scales fonts with the zoom, and a fixed 12 read 36 px at the closest). In a few steps: each change
 * restyles the projects, and with them every node and edge inside.
 */
export function groupFontAt(zoom: number): number {
  const want = 12 / zoom;
  return TITLE_SIZES.find((s) => s >= want) ?? TITLE_SIZES[TITLE_SIZES.length - 1];
}

/** Side of a folded project's box: grows with the square root of its nodes. */
export function foldedSize(members: number): number {
  return Math.round(40 + 4 * Math.sqrt(members));
}

export function buildStyle(p: Palette, lod: LabelDetail = FULL_LABELS, mode: MapMode = 'health'): StylesheetJson {
  const kindRules = KINDS.map((k) => ({
    selector: `node.kind-${k}`,
    style: {
      shape: SHAPE[k],
      width: SIZE[k],
      height: k === 'service' ? SIZE[k] * 0.9 : SIZE[k],
      'background-color': p.kind[k],
      'border-color': p.kindBorder[k],
      'background-image': kindIcon(k),
      'background-width': k === 'client' ? '46%' : '54%',
      'background-height': k === 'client' ? '46%' : '54%',
      'background-position-y': k === 'client' ? '62%' : '50%',
    },
  }));
  return [
    {
      selector: 'node',
      style: {
        label: lod.nodes ? 'data(label)' : '',
        'font-family': FONT,
        'font-size': lod.nodeFont,
        'font-weight': 500, // Cytoscape takes weights in hundreds only: 550 was dropped with a console warning
        color: p.text,
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 5,
        'text-wrap': 'ellipsis',
        'text-max-width': `${lod.nodeFont * 11}px`,
        'text-outline-color': p.labelHalo,
        'text-outline-width': 2,
        'text-outline-opacity': 0.9,
        'min-zoomed-font-size': MIN_SCREEN_FONT,
        'border-width': 1.5,
        'background-fit': 'none',
        'background-clip': 'none',
        'overlay-opacity': 0,
        // Explicit depths keep Cytoscape's z-sort from walking the compound tree per comparison.
        'z-compound-depth': 'orphan',
      },
    },
    ...kindRules,
    {
      // a compound parent: one Compose project, namespace or "host"
      selector: 'node.group',
      style: {
        shape: 'round-rectangle',
        'background-color': p.groupFill,
        'background-opacity': lod.overview ? 0 : GROUP_FILL_OPACITY,
        // A node with no background image makes Cytoscape 3.34 flip its "backgrounding" state on
        // every draw (counting the image as missing in one pass and present in the other), which
        // restyles the group, its children and their edges each frame. A transparent image avoids it.
        'background-image': TRANSPARENT_PIXEL,
        'border-color': p.groupBorder,
        'border-width': 1,
        padding: '22px',
        label: 'data(label)',
        'font-size': 12,
        'font-weight': 600,
        color: p.groupText,
        'text-transform': 'uppercase',
        'text-wrap': 'none',
        'text-max-width': '2000px',
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': -6,
        'text-outline-width': 0,
        'min-zoomed-font-size': 6,
        'corner-radius': GROUP_CORNER_RADIUS,
        'z-compound-depth': 'bottom',
      },
    },
    {
      // a folded project: one box standing for all its nodes (tap to unfold)
      selector: 'node.folded',
      style: {
        shape: 'round-rectangle',
        width: 'data(size)',
        height: 'data(size)',
        'corner-radius': 12,
        'background-color': p.groupFill,
        'background-opacity': 1,
        'background-image': projectIcon(p.groupText),
        'background-width': '42%',
        'background-height': '42%',
        'border-color': p.groupBorder,
        'border-width': 2.5,
        label: 'data(label)',
        'text-wrap': 'wrap',
        'text-max-width': '2000px',
        'text-valign': 'bottom',
        'text-margin-y': 6,
        'font-size': 12,
        'font-weight': 600,
        color: p.groupText,
        'text-outline-color': p.labelHalo,
        'text-outline-width': 2,
        'min-zoomed-font-size': 6,
        'z-compound-depth': 'orphan',
      },
    },
    ...(['external', 'client'] as const).map((k) => ({
      // the folded external servers / remote clients: their kind's icon and colour
      selector: `node.folded.of-${k}`,
      style: { 'background-image': kindIcon(k, p.kind[k]), 'border-color': p.kind[k], 'background-width': '48%', 'background-height': '48%' },
    })),
    { selector: 'node.failing', style: { 'border-color': p.edgeFail, 'border-width': 3.5, 'underlay-color': p.edgeFail, 'underlay-opacity': 0.18, 'underlay-padding': 7, 'underlay-shape': 'ellipse' } },
    { selector: 'node.stopped', style: { 'background-opacity': 0.45, 'border-style': 'dashed' } },
    // a vacant address's label names the container it was: wrapped onto a second line, not cut to an ellipsis
    { selector: 'node.vacant', style: { 'text-wrap': 'wrap' } },
    {
      selector: 'edge',
      style: {
        width: 'data(width)',
        'curve-style': lod.arrows ? 'bezier' : 'haystack',
        'haystack-radius': 0,
        'control-point-step-size': 26,
        'line-color': p.edgeIdle,
        'target-arrow-color': p.edgeIdle,
        'target-arrow-shape': lod.arrows ? 'triangle' : 'none',
        'arrow-scale': 0.85,
        'line-cap': 'butt',
        label: lod.edges ? 'data(label)' : '',
        'font-family': FONT,
        'font-size': lod.edgeFont,
        'font-weight': 500,
        color: p.muted,
        'text-background-color': p.labelBg,
        'text-background-opacity': 0.9,
        'text-background-padding': '2px',
        'text-background-shape': 'round-rectangle',
        'min-zoomed-font-size': MIN_SCREEN_FONT,
        'overlay-opacity': 0,
        'z-compound-depth': 'orphan',
        // explicit, so idle <-> active never looks like a change from "no opacity" (which re-sorts every element)
        opacity: 1,
        visibility: lod.overview ? 'hidden' : 'visible',
      },
    },
    // Haystack edges cost a fraction of bezier ones to place and draw (no bundling of parallel edges, no control
    // points): on a big map zoomed out, where arrows are off and a to/from pair would not be told apart anyway.
    // A loop, a chosen edge and its neighbours stay curves with arrowheads.
    // A loop (a service calling its own replicas) is drawn wide, above its node and clear of it: Cytoscape's default loop
    // hugs the node, and its label sat on the node and on the edges around it.
    { selector: 'edge:loop', style: { 'curve-style': 'bezier', 'loop-direction': '0deg', 'loop-sweep': '-50deg', 'control-point-step-size': 72, 'text-margin-y': -6 } },
    ...(decorationStyles(p, mode) as unknown[]),
    ...policyStyle(p), // policy mode's marks (classes set by src/ui/src/policy/overlay.ts)
    // selection: the chosen element and its neighbours stand out, the rest fades
    { selector: '.faded', style: { opacity: 0.14, 'underlay-opacity': 0 } },
    { selector: 'node.group.faded', style: { opacity: 0.5 } },
    // a hub's host box around its projects: dashed, so it reads as a machine rather than a project
    { selector: 'node.host-group', style: { 'border-style': 'dashed', 'border-width': 2, 'text-transform': 'none' } },
    { selector: 'node:selected', style: { label: 'data(label)', 'underlay-color': p.accent, 'underlay-opacity': 0.28, 'underlay-padding': 9, 'underlay-shape': 'ellipse' } },
    { selector: 'edge:selected', style: { label: 'data(label)', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'underlay-color': p.accent, 'underlay-opacity': 0.3, 'underlay-padding': 5, color: p.text, 'min-zoomed-font-size': 0 } },
    { selector: 'edge.near', style: { label: 'data(label)', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'min-zoomed-font-size': 0 } },
    { selector: 'node.near', style: { label: 'data(label)' } },
    // with overview lines, Cytoscape still draws what needs more than a line
    ...(lod.overview ? [{ selector: 'edge:selected, edge.near, edge:loop', style: { visibility: 'visible' } }] : []),
    { selector: '.hidden', style: { display: 'none' } },
  ] as StylesheetJson;
}
