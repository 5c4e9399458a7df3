// Motion on edges with traffic: small dots travelling from client to server, drawn on
// a canvas of their own above Cytoscape's. Moving them never makes Cytoscape redraw
// the graph, so a thousand edges stay smooth; geometry is re-read only when nodes move.
import type cytoscape from 'cytoscape';
import { UI } from '../config.js';
import { fitToMap } from './layerCanvas.js';
import type { Palette } from './palette.js';

interface Track {
  x1: number; y1: number; x2: number; y2: number;
  /** Quadratic control point when Cytoscape bends the edge (parallel or opposite edges). */
  cx: number | null; cy: number | null;
  length: number;
  color: string;
  dots: number;
  radius: number;
  /** Dot speed in graph units per second. */
  speed: number;
  phase: number;
}

export class FlowOverlay {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private tracks: Track[] = [];
  /** Big opaque boxes (folded projects) that edges pass under: no dots drawn over them. */
  private covers: { x1: number; y1: number; x2: number; y2: number }[] = [];
  private dirty = true;
  /** Geometry is read only after Cytoscape has drawn the change, when its edge paths are already computed. */
  private drawnSinceDirty = false;
  private renderTimer = 0;
  private dirtySince = 0;
  // a little after the draw, so the frame that shows a change does not also pay for this
  private readonly onRender = () => {
    if (this.dirty && !this.drawnSinceDirty && !this.renderTimer) {
      this.renderTimer = window.setTimeout(() => { this.renderTimer = 0; this.drawnSinceDirty = true; }, 40);
    }
  };
  private raf = 0;
  private lastDraw = 0;
  private cleared = true;
  private readonly reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
  private readonly onPosition = () => { this.invalidate(); };
  /** With more flowing edges than get dots, the busiest ones in view get them: re-pick after the view moves. */
  private viewTimer = 0;
  private readonly onViewport = () => {
    if (!this.enabled || this.flowingCount <= UI.maxAnimatedEdges) return;
    window.clearTimeout(this.viewTimer);
    this.viewTimer = window.setTimeout(() => this.invalidate(), 250);
  };
  private flowingCount = 0;
  private enabled = true;
  private readonly onMotionPref = () => { this.invalidate(); };

  constructor(private readonly cy: cytoscape.Core, container: HTMLElement, private palette: Palette) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'flow-layer';
    this.canvas.setAttribute('aria-hidden', 'true');
    this.canvas.dataset.testid = 'flow-layer';
    container.appendChild(this.canvas);
    this.ctx = this.canvas.getContext('2d')!;
    cy.on('position add remove', this.onPosition);
    cy.on('layoutstop', this.onPosition);
    cy.on('render', this.onRender);
    cy.on('viewport', this.onViewport);
    this.reducedMotion.addEventListener('change', this.onMotionPref);
    this.loop = this.loop.bind(this);
    this.raf = requestAnimationFrame(this.loop);
  }

  destroy(): void {
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    window.clearTimeout(this.renderTimer);
    window.clearTimeout(this.viewTimer);
    this.cy.off('viewport', this.onViewport);
    this.reducedMotion.removeEventListener('change', this.onMotionPref);
    this.cy.off('position add remove', this.onPosition);
    this.cy.off('layoutstop', this.onPosition);
    this.cy.off('render', this.onRender);
    this.canvas.remove();
  }

  setPalette(p: Palette): void { this.palette = p; this.invalidate(); }

  private paused = false;

  /** Level of detail: no dots on a big map seen from afar (they would be specks, and cost frames). */
  setEnabled(on: boolean): void {
    if (on === this.enabled) return;
    this.enabled = on;
    this.invalidate();
  }

  /** No frames at all while the map is hidden. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) { cancelAnimationFrame(this.raf); this.raf = 0; } else this.invalidate();
  }

  /** The flowing edges changed (added, removed, restyled, moved or filtered). */
  invalidate(): void {
    if (!this.dirty) this.dirtySince = performance.now();
    this.dirty = true;
    this.drawnSinceDirty = false;
    if (this.paused || !this.canvas.isConnected) return;
    if (!this.raf) this.raf = requestAnimationFrame(this.loop);
  }

  private rebuild(): void {
    this.dirty = false;
    const p = this.palette;
    // the busiest edges move; on a crowded map the rest would only add noise
    if (!this.enabled) { this.tracks = []; return; }
    this.covers = this.cy.nodes('.folded').filter((n) => n.visible()).map((n) => n.boundingBox({ includeLabels: false }));
    let edges = this.cy.edges('.flowing').filter((e) => !e.hasClass('hidden') && !e.hasClass('faded'));
    this.flowingCount = edges.length;
    if (edges.length > UI.maxAnimatedEdges) {
      const ext = this.cy.extent();
      edges = edges.filter((e) => {
        const s = (e as cytoscape.EdgeSingular).source().position(), t = (e as cytoscape.EdgeSingular).target().position();
        return Math.max(s.x, t.x) >= ext.x1 && Math.min(s.x, t.x) <= ext.x2 && Math.max(s.y, t.y) >= ext.y1 && Math.min(s.y, t.y) <= ext.y2;
      });
    }
    edges = edges.sort((a, b) => Number(b.data('width')) - Number(a.data('width')));
    const tracks: Track[] = [];
    const limit = Math.min(edges.length, UI.maxAnimatedEdges);
    for (let i = 0; i < limit; i++) {
      const e = edges[i] as cytoscape.EdgeSingular;
      const g = pathOf(e);
      if (!g) continue;
      const length = Math.hypot(g.x2 - g.x1, g.y2 - g.y1);
      if (length < 8) continue;
      const width = Number(e.data('width')) || 2;
      const color = e.hasClass('failing') ? p.edgeFail : e.hasClass('warn') ? p.edgeWarn : p.edgeOk;
      tracks.push({
        ...g,
        length, color,
        dots: Math.max(1, Math.min(4, Math.round(length / 140))),
        radius: 1.6 + width * 0.45,
        speed: 45 + width * 10,
        // a stable phase per edge so dots on neighbouring edges do not march in step
        phase: (hash(e.id()) % 1000) / 1000,
      });
    }
    this.tracks = tracks;
  }

  private covered(x: number, y: number): boolean {
    for (const c of this.covers) if (x >= c.x1 && x <= c.x2 && y >= c.y1 && y <= c.y2) return true;
    return false;
  }

  /** Runs only while there is something to move: an idle map costs no frames here. */
  private loop(now: number): void {
    this.raf = 0;
    const still = this.reducedMotion.matches;
    // normally after Cytoscape has drawn the change; if nothing is drawn (no change on its side), soon anyway
    if (this.dirty && (this.drawnSinceDirty || now - this.dirtySince > 300) && !still) this.rebuild();
    const moving = (this.tracks.length > 0 || this.dirty) && !still;
    const fps = this.tracks.length > UI.flowBusyEdges ? UI.flowFpsBusy : UI.flowFps;
    if (now - this.lastDraw >= 1000 / fps || !moving) {
      this.lastDraw = now;
      if (!document.hidden) this.draw(now);
    }
    if (moving) this.raf = requestAnimationFrame(this.loop);
  }

  private draw(now: number): void {
    const c = this.canvas;
    const { w, h, dpr } = fitToMap(c, this.cy);
    const ctx = this.ctx;
    if (!this.tracks.length || this.reducedMotion.matches) {
      if (!this.cleared) { ctx.clearRect(0, 0, c.width, c.height); this.cleared = true; }
      // an empty layer still costs the compositor a full-size blend each frame
      if (c.style.display !== 'none') c.style.display = 'none';
      return;
    }
    if (c.style.display === 'none') c.style.display = '';
    const zoom = this.cy.zoom();
    const pan = this.cy.pan();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    this.cleared = false;
    ctx.translate(pan.x, pan.y);
    ctx.scale(zoom, zoom);
    // visible part of the graph, in graph coordinates
    const x0 = -pan.x / zoom, y0 = -pan.y / zoom, x1 = x0 + w / zoom, y1 = y0 + h / zoom;
    const secs = now / 1000;
    const halo = this.palette.canvas;
    const minR = 1.8 / zoom;
    const covers = this.covers.length > 0;
    ctx.lineWidth = 1.2 / zoom;
    ctx.strokeStyle = halo;
    for (const t of this.tracks) {
      if (Math.max(t.x1, t.x2) < x0 || Math.min(t.x1, t.x2) > x1 || Math.max(t.y1, t.y2) < y0 || Math.min(t.y1, t.y2) > y1) continue;
      ctx.fillStyle = t.color;
      const r = Math.max(minR, t.radius);
      const base = (secs * t.speed) / t.length + t.phase;
      ctx.beginPath();
      for (let i = 0; i < t.dots; i++) {
        const u = (base + i / t.dots) % 1;
        let x: number, y: number;
        if (t.cx !== null && t.cy !== null) {
          const v = 1 - u;
          x = v * v * t.x1 + 2 * v * u * t.cx + u * u * t.x2;
          y = v * v * t.y1 + 2 * v * u * t.cy + u * u * t.y2;
        } else {
          x = t.x1 + (t.x2 - t.x1) * u;
          y = t.y1 + (t.y2 - t.y1) * u;
        }
        if (covers && this.covered(x, y)) continue;
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, Math.PI * 2);
      }
      ctx.fill();
      ctx.stroke();
    }
  }
}

interface Path { x1: number; y1: number; x2: number; y2: number; cx: number | null; cy: number | null }

/**
 * The drawn path of an edge. Read from the renderer's scratch data, which Cytoscape has just
 * computed for drawing: the public edge.sourceEndpoint()/controlPoints() re-check every parallel
 * edge on each call and cost tens of milliseconds for a hundred edges. Falls back to the public
 * API should the scratch data ever look different.
 */
function pathOf(e: cytoscape.EdgeSingular): Path | null {
  const rs = (e as unknown as { _private?: { rscratch?: Record<string, unknown> } })._private?.rscratch;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if (rs) {
    const x1 = n(rs.startX), y1 = n(rs.startY), x2 = n(rs.endX), y2 = n(rs.endY);
    const cp = Array.isArray(rs.ctrlpts) ? rs.ctrlpts : null;
    if (x1 !== null && y1 !== null && x2 !== null && y2 !== null) {
      if (rs.edgeType === 'straight' || rs.edgeType === 'haystack' || !cp || cp.length < 2) return { x1, y1, x2, y2, cx: null, cy: null };
      if (rs.edgeType === 'bezier' && cp.length === 2 && n(cp[0]) !== null && n(cp[1]) !== null) return { x1, y1, x2, y2, cx: cp[0] as number, cy: cp[1] as number };
    }
  }
  const s = e.sourceEndpoint(), t = e.targetEndpoint();
  if (!s || !t || !Number.isFinite(s.x) || !Number.isFinite(t.x)) return null;
  const cps = e.controlPoints?.();
  const c = cps && cps.length === 1 ? cps[0] : null;
  return { x1: s.x, y1: s.y, x2: t.x, y2: t.y, cx: c ? c.x : null, cy: c ? c.y : null };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
