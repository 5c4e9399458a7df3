// The map's own canvases (moving dots, overview lines) laid over or under Cytoscape's.
import type cytoscape from 'cytoscape';

/** Sizes `c` to the map in device pixels (only when that changed, which clears it); returns the map's size and the ratio. */
export function fitToMap(c: HTMLCanvasElement, cy: cytoscape.Core): { w: number; h: number; dpr: number } {
  const w = cy.width(), h = cy.height();
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
  }
  return { w, h, dpr };
}
