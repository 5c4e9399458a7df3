// Framing the map: fit what is shown into the canvas without putting anything under the
// panels that float over it (legend, zoom buttons, replay bar). If the plain fit puts a node
// under one, the fit is tried again in the canvas minus a band beside each panel in the way,
// and the framing that keeps the map largest wins.
import type cytoscape from 'cytoscape';

export interface Rect { x1: number; y1: number; x2: number; y2: number }

/** The most the view zooms in when framing a small map (nodes would look oversized). */
export const FIT_MAX_ZOOM = 1.3;

interface Frame { zoom: number; pan: { x: number; y: number } }

function frameFor(bb: Rect, area: Rect, padding: number, minZoom: number, maxZoom: number): Frame | null {
  const w = area.x2 - area.x1 - 2 * padding, h = area.y2 - area.y1 - 2 * padding;
  if (w <= 40 || h <= 40) return null;
  const bw = Math.max(1, bb.x2 - bb.x1), bh = Math.max(1, bb.y2 - bb.y1);
  const zoom = Math.max(minZoom, Math.min(maxZoom, w / bw, h / bh));
  const cx = (area.x1 + area.x2) / 2, cy = (area.y1 + area.y2) / 2;
  return { zoom, pan: { x: cx - zoom * (bb.x1 + bb.x2) / 2, y: cy - zoom * (bb.y1 + bb.y2) / 2 } };
}

const overlaps = (a: Rect, b: Rect) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

/** The ways to keep clear of one panel: ignore it (if nothing lands under it), or give up a band beside it. */
function cuts(o: Rect, view: Rect): ((a: Rect) => Rect)[] {
  const out: ((a: Rect) => Rect)[] = [(a) => a];
  const midX = (view.x1 + view.x2) / 2, midY = (view.y1 + view.y2) / 2;
  // the band between the panel and the nearer edge of the canvas, across the whole canvas
  if ((o.y1 + o.y2) / 2 > midY) out.push((a) => ({ ...a, y2: Math.min(a.y2, o.y1) }));
  else out.push((a) => ({ ...a, y1: Math.max(a.y1, o.y2) }));
  if ((o.x1 + o.x2) / 2 < midX) out.push((a) => ({ ...a, x1: Math.max(a.x1, o.x2) }));
  else out.push((a) => ({ ...a, x2: Math.min(a.x2, o.x1) }));
  return out;
}

/**
 * The zoom and pan that show `eles` as large as possible with none of them under `obstacles`
 * (rectangles in the canvas's own pixels). Boxes are the nodes' model boxes, labels included.
 */
export function clearFrame(cy: cytoscape.Core, eles: cytoscape.CollectionReturnValue, obstacles: Rect[], padding: number, maxZoom = FIT_MAX_ZOOM): Frame | null {
  const nodes = eles.nodes();
  if (nodes.empty()) return null;
  const boxes: Rect[] = [];
  const bb = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  nodes.forEach((n) => {
    if (n.isParent()) return; // a project's box follows its nodes; only what is inside matters
    const b = n.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
    boxes.push(b);
    bb.x1 = Math.min(bb.x1, b.x1); bb.y1 = Math.min(bb.y1, b.y1); bb.x2 = Math.max(bb.x2, b.x2); bb.y2 = Math.max(bb.y2, b.y2);
  });
  if (!boxes.length) return null;
  const view: Rect = { x1: 0, y1: 0, x2: cy.width(), y2: cy.height() };
  const top = Math.min(maxZoom, cy.maxZoom());
  const clear = (f: Frame) => !obstacles.some((o) => boxes.some((b) => overlaps(o, {
    x1: b.x1 * f.zoom + f.pan.x, y1: b.y1 * f.zoom + f.pan.y, x2: b.x2 * f.zoom + f.pan.x, y2: b.y2 * f.zoom + f.pan.y,
  })));
  const plain = frameFor(bb, view, padding, cy.minZoom(), top);
  if (!plain || !obstacles.length || clear(plain)) return plain;
  // every combination of ways around each panel (3 panels: 27 tries), the largest clear one wins
  let areas: Rect[] = [view];
  for (const o of obstacles) areas = areas.flatMap((a) => cuts(o, view).map((cut) => cut(a)));
  let best: Frame | null = null;
  for (const a of areas) {
    const f = frameFor(bb, a, padding, cy.minZoom(), top);
    if (f && (!best || f.zoom > best.zoom) && clear(f)) best = f;
  }
  return best ?? plain;
}

/** True when a node box (model coordinates) would be drawn under an obstacle or outside the canvas. */
export function outOfClearView(cy: cytoscape.Core, b: Rect, obstacles: Rect[]): boolean {
  const z = cy.zoom(), p = cy.pan();
  const r = { x1: b.x1 * z + p.x, y1: b.y1 * z + p.y, x2: b.x2 * z + p.x, y2: b.y2 * z + p.y };
  if (r.x1 < 0 || r.y1 < 0 || r.x2 > cy.width() || r.y2 > cy.height()) return true;
  return obstacles.some((o) => overlaps(o, r));
}
