// Edges of a big map seen from afar, drawn on a canvas of their own under Cytoscape's.
// Cytoscape's canvas renderer spends about 20 µs per element on every redraw (bounds, style
// look-ups, label and arrow checks), drawn or not: a delta that recolours a few of 1,000 edges
// redraws them all. Zoomed out, an edge is a straight line between two node centres (haystack,
// no arrow, no label), so here they are stroked in a few batches, one per look, in the same
// frame as Cytoscape's. Cytoscape keeps every edge (hidden, not drawn) for its state, and draws
// the ones that need more than a line: the picked edge and its neighbours, loops. Project boxes
// are filled here too, under the edges, as Cytoscape would (it draws only their borders and titles).
import type cytoscape from 'cytoscape';
import { fitToMap } from './layerCanvas.js';
import { GROUP_CORNER_RADIUS, GROUP_FILL_OPACITY } from './style.js';

/** Cytoscape's dots for 'dotted'; one array, so dotted lines share a batch. */
const DOTTED = [1, 1];

/** How far from a line (in screen pixels) a tap still picks it. */
const TAP_SLOP_PX = 6;

interface Stroke {
  /** Draw order: Cytoscape's z-index, then failing over warning over the rest. */
  rank: number;
  style: string;
  width: number;
  dash: number[] | null;
  /** Segments x1, y1, x2, y2, flattened. */
  xy: number[];
}

interface Segment { id: string; x1: number; y1: number; x2: number; y2: number; half: number }

export class EdgeOverview {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private enabled = false;
  private segments: Segment[] = [];
  private warned = false;
  // Runs inside Cytoscape's frame: an error escaping here would stop its render loop, and the map with it.
  private readonly onRender = () => {
    if (!this.enabled) return;
    try { this.draw(); } catch (e) {
      if (!this.warned) { this.warned = true; console.warn('dhrishti: overview lines not drawn:', (e as Error).message); }
    }
  };

  constructor(private readonly cy: cytoscape.Core, container: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'overview-layer';
    this.canvas.setAttribute('aria-hidden', 'true');
    this.canvas.dataset.testid = 'overview-layer';
    this.canvas.style.display = 'none';
    // before Cytoscape's own canvases, so under them
    container.insertBefore(this.canvas, container.firstChild);
    this.ctx = this.canvas.getContext('2d')!;
    cy.on('render', this.onRender);
  }

  destroy(): void {
    this.cy.off('render', this.onRender);
    this.canvas.remove();
  }

  get active(): boolean { return this.enabled; }

  /** On while the stylesheet hides Cytoscape's edges (see `LabelDetail.overview`). */
  setEnabled(on: boolean): void {
    if (on === this.enabled) return;
    this.enabled = on;
    this.segments = [];
    this.canvas.style.display = on ? '' : 'none';
    if (!on) this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    else this.onRender();
  }

  /** Ids of the edges drawn here in the last frame. */
  drawnIds(): string[] { return this.segments.map((s) => s.id); }

  /** The edge under a tap at `pos` (graph coordinates), nearest first; null when none is close. */
  edgeAt(pos: { x: number; y: number }): string | null {
    if (!this.enabled) return null;
    const slop = TAP_SLOP_PX / this.cy.zoom();
    let best: string | null = null, bestD = Infinity;
    for (const s of this.segments) {
      const d = distanceToSegment(pos.x, pos.y, s) - s.half;
      if (d <= slop && d < bestD) { bestD = d; best = s.id; }
    }
    return best;
  }

  private draw(): void {
    const cy = this.cy, ctx = this.ctx;
    const { w, h, dpr } = fitToMap(this.canvas, cy);
    const zoom = cy.zoom(), pan = cy.pan();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.translate(pan.x, pan.y);
    ctx.scale(zoom, zoom);
    const x0 = -pan.x / zoom, y0 = -pan.y / zoom, x1 = x0 + w / zoom, y1 = y0 + h / zoom;

    // where each shown node is: read once, not per edge end
    const at = new Map<string, { x: number; y: number }>();
    const groups: { n: cytoscape.NodeSingular; depth: number }[] = [];
    cy.nodes().forEach((n) => {
      if (!n.visible()) return;
      if (n.isParent()) groups.push({ n, depth: n.parents().length });
      else at.set(n.id(), n.position());
    });
    // a hub's host box first, then the projects in it
    for (const g of groups.sort((a, b) => a.depth - b.depth)) this.fillGroup(g.n);

    const strokes = new Map<string, Stroke[]>();
    const segments: Segment[] = [];
    cy.edges().forEach((e) => {
      // Cytoscape draws it (picked, a neighbour of the pick, a loop), or nobody does
      if (ps(e, 'visibility').value !== 'hidden' || ps(e, 'display').value === 'none') return;
      const s = at.get(e.data('source') as string), t = at.get(e.data('target') as string);
      if (!s || !t) return;
      // in half units (a merged edge's width is any number): from this far, a quarter unit is under a tenth of a pixel
      const width = Math.round((ps(e, 'width').pfValue as number) * 2) / 2;
      const half = width / 2;
      segments.push({ id: e.id(), x1: s.x, y1: s.y, x2: t.x, y2: t.y, half });
      if (Math.max(s.x, t.x) + half < x0 || Math.min(s.x, t.x) - half > x1 || Math.max(s.y, t.y) + half < y0 || Math.min(s.y, t.y) - half > y1) return;
      const alpha = (ps(e, 'opacity').value as number) * (ps(e, 'line-opacity').value as number);
      if (alpha <= 0) return;
      const rank = (ps(e, 'z-index').value as number) * 4 + (e.hasClass('failing') ? 2 : e.hasClass('warn') ? 1 : 0);
      const lineStyle = ps(e, 'line-style').value as string;
      const dash = lineStyle === 'dotted' ? DOTTED : lineStyle === 'dashed' ? (ps(e, 'line-dash-pattern').pfValue as number[]) : null;
      const underlay = ps(e, 'underlay-opacity').value as number;
      if (underlay > 0) {
        const uw = width + 2 * (ps(e, 'underlay-padding').pfValue as number);
        add(strokes, rank - 0.5, rgba(ps(e, 'underlay-color').value as number[], underlay * alpha), uw, null, s, t);
      }
      add(strokes, rank, rgba(ps(e, 'line-color').value as number[], alpha), width, dash, s, t);
    });
    this.segments = segments;

    ctx.lineCap = 'butt';
    for (const st of [...strokes.values()].flat().sort((a, b) => a.rank - b.rank)) {
      ctx.strokeStyle = st.style;
      ctx.lineWidth = st.width;
      ctx.setLineDash(st.dash ?? []);
      ctx.beginPath();
      const xy = st.xy;
      for (let i = 0; i < xy.length; i += 4) { ctx.moveTo(xy[i], xy[i + 1]); ctx.lineTo(xy[i + 2], xy[i + 3]); }
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  /** A project's box, as Cytoscape would fill it (it draws only the border and the title meanwhile). */
  private fillGroup(n: cytoscape.NodeSingular): void {
    const ctx = this.ctx;
    // the body: its padding inside, its border (stroked on the body's edge) half outside
    const border = n.numericStyle('border-width');
    const p = n.position(), w = n.outerWidth() - border, h = n.outerHeight() - border;
    ctx.fillStyle = rgba(ps(n, 'background-color').value as number[], GROUP_FILL_OPACITY * n.effectiveOpacity());
    ctx.beginPath();
    ctx.roundRect(p.x - w / 2, p.y - h / 2, w, h, GROUP_CORNER_RADIUS);
    ctx.fill();
  }
}

interface Parsed { value: unknown; pfValue: unknown }
/**
 * A parsed style value (colours as [r, g, b], lengths in pixels as pfValue): what Cytoscape's own
 * renderer reads, not in its type definitions; the public style() returns strings to be parsed.
 */
function ps(el: cytoscape.SingularElementArgument, name: string): Parsed {
  return (el as unknown as { pstyle(n: string): Parsed }).pstyle(name);
}

/** Adds a line to the batch of its look (a few looks, many lines: found by colour, then a short scan). */
function add(strokes: Map<string, Stroke[]>, rank: number, style: string, width: number, dash: number[] | null, s: { x: number; y: number }, t: { x: number; y: number }): void {
  let list = strokes.get(style);
  if (!list) { list = []; strokes.set(style, list); }
  let st = list.find((x) => x.rank === rank && x.width === width && x.dash === dash);
  if (!st) { st = { rank, style, width, dash, xy: [] }; list.push(st); }
  st.xy.push(s.x, s.y, t.x, t.y);
}

/** CSS colours by Cytoscape's parsed [r, g, b] (shared by every element of a colour) and opacity: no string per line. */
const colours = new WeakMap<number[], Map<number, string>>();
function rgba(rgb: number[], alpha: number): string {
  let byAlpha = colours.get(rgb);
  if (!byAlpha) { byAlpha = new Map(); colours.set(rgb, byAlpha); }
  let css = byAlpha.get(alpha);
  if (css === undefined) { css = `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${Math.round(alpha * 1000) / 1000})`; byAlpha.set(alpha, css); }
  return css;
}

function distanceToSegment(px: number, py: number, s: Segment): number {
  const dx = s.x2 - s.x1, dy = s.y2 - s.y1;
  const len2 = dx * dx + dy * dy;
  const u = len2 ? Math.max(0, Math.min(1, ((px - s.x1) * dx + (py - s.y1) * dy) / len2)) : 0;
  return Math.hypot(px - (s.x1 + u * dx), py - (s.y1 + u * dy));
}
