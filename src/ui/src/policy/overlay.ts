// Policy mode on the map. Edges get classes (see style.ts) from their live
// verdicts and the intent diff; zones (dashed boxes around their members) and
// declared-but-unused edges (ghost dotted lines, to a ghost node when the
// service never showed up) are drawn on a canvas of their own, so the graph's
// renderer and layout never see them.
import type cytoscape from 'cytoscape';
import type { Live } from '../app/live.js';
import { policyState, type PolicyState } from './state.js';

const CLASSES = ['pol-violation', 'pol-attempted', 'pol-undeclared', 'pol-quiet'] as const;
const ZONE_COLOURS = ['#3566d6', '#b8408f', '#0f8a86', '#7a52cc', '#c26a00', '#5f6b7a'];
const GHOST = '#8a94a3';

export interface PolicyTestHook {
  on(): boolean;
  /** `client|server` of the ghost edges drawn. */
  ghostEdges(): string[];
  ghostNodes(): string[];
  zones(): string[];
  violationEdges(): string[];
  undeclaredEdges(): string[];
}

declare global {
  interface Window { __dhrishtiPolicy?: PolicyTestHook }
}

interface Pt { x: number; y: number }

export function attachPolicyOverlay(cy: cytoscape.Core, live: Live, state: PolicyState = policyState): () => void {
  const container = cy.container()!;
  const canvas = document.createElement('canvas');
  canvas.className = 'policy-layer';
  canvas.setAttribute('aria-hidden', 'true');
  canvas.dataset.testid = 'policy-layer';
  container.appendChild(canvas);
  const ctx = canvas.getContext('2d')!;
  const applied = new Map<string, string>();
  let drawn = { ghosts: [] as string[], ghostNodes: [] as string[], zones: [] as string[] };
  let frame = 0;

  /** The classes an edge should carry now. */
  const classesFor = (id: string, undeclared: Set<string>): string => {
    if (!state.on) return '';
    const e = live.model.edges.get(id);
    const v = e?.policy;
    const out: string[] = [];
    if (v?.verdict === 'violation') { out.push('pol-violation'); if (v.attempted) out.push('pol-attempted'); }
    if (undeclared.has(id)) out.push('pol-undeclared');
    if (!out.length) out.push('pol-quiet');
    return out.join(' ');
  };

  const restyle = () => {
    if (!state.on && applied.size === 0) { drawSoon(); return; } // off, nothing to take back: the map's changes cost nothing here
    const undeclared = new Set(state.on ? state.intent?.undeclared.map((u) => u.edge) ?? [] : []);
    cy.batch(() => {
      cy.edges().forEach((el) => {
        const id = el.id();
        const want = classesFor(id, undeclared);
        if ((applied.get(id) ?? '') === want) return;
        for (const c of CLASSES) el.removeClass(c);
        if (want) el.addClass(want);
        if (want) applied.set(id, want); else applied.delete(id);
      });
    });
    for (const id of applied.keys()) if (cy.getElementById(id).empty()) applied.delete(id);
    drawSoon();
  };

  const drawSoon = () => { if (!frame) frame = requestAnimationFrame(draw); };

  const visibleNode = (id: string): cytoscape.NodeSingular | null => {
    const n = cy.getElementById(id);
    return n.nonempty() && n.isNode() && n.visible() ? (n as cytoscape.NodeSingular) : null;
  };

  function draw(): void {
    frame = 0;
    const w = container.clientWidth, h = container.clientHeight, dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
      canvas.style.width = `${w}px`; canvas.style.height = `${h}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    drawn = { ghosts: [], ghostNodes: [], zones: [] };
    if (!state.on) return;
    const zoom = cy.zoom();
    ctx.font = '600 11px Inter, "Segoe UI", system-ui, sans-serif';

    // Zones: a dashed box around the members on the map, one colour each.
    const zones = (state.policy?.zones ?? []).filter((z) => !z.builtin);
    zones.forEach((z, i) => {
      const boxes = z.members.map(visibleNode).filter((n): n is cytoscape.NodeSingular => !!n).map((n) => n.renderedBoundingBox({ includeLabels: true }));
      if (!boxes.length) return;
      const pad = 10 + (i % 4) * 5;
      const x1 = Math.min(...boxes.map((b) => b.x1)) - pad, y1 = Math.min(...boxes.map((b) => b.y1)) - pad - 12;
      const x2 = Math.max(...boxes.map((b) => b.x2)) + pad, y2 = Math.max(...boxes.map((b) => b.y2)) + pad;
      const colour = ZONE_COLOURS[i % ZONE_COLOURS.length];
      ctx.save();
      ctx.strokeStyle = colour;
      ctx.globalAlpha = 0.85;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.roundRect(x1, y1, x2 - x1, y2 - y1, 12);
      ctx.stroke();
      ctx.globalAlpha = 0.06;
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.setLineDash([]);
      ctx.fillStyle = colour;
      ctx.fillText(`zone ${z.name}`, x1 + 8, y1 + 12);
      ctx.restore();
      drawn.zones.push(z.name);
    });

    // Declared but never observed: ghost dotted lines; an absent service gets a ghost node beside its peer.
    const ghostAt = new Map<string, Pt>();
    let stack = 0;
    const place = (id: string, near: Pt): Pt => {
      const known = ghostAt.get(id);
      if (known) return known;
      const p = { x: near.x + 90 * Math.max(zoom, 0.5), y: near.y + (50 + 40 * stack++) * Math.max(zoom, 0.5) };
      ghostAt.set(id, p);
      return p;
    };
    for (const d of state.intent?.unused ?? []) {
      const a = visibleNode(d.client), b = visibleNode(d.server);
      if (!a && !b) continue;
      const pa = a ? a.renderedPosition() : place(d.client, b!.renderedPosition());
      const pb = b ? b.renderedPosition() : place(d.server, a!.renderedPosition());
      ctx.save();
      ctx.strokeStyle = GHOST;
      ctx.fillStyle = GHOST;
      ctx.lineWidth = 2;
      ctx.setLineDash([2, 5]);
      ctx.lineCap = 'round';
      const r = 20 * Math.max(zoom, 0.5);
      const len = Math.hypot(pb.x - pa.x, pb.y - pa.y) || 1;
      const ux = (pb.x - pa.x) / len, uy = (pb.y - pa.y) / len;
      const sx = pa.x + ux * r, sy = pa.y + uy * r, ex = pb.x - ux * (r + 2), ey = pb.y - uy * (r + 2);
      ctx.beginPath(); ctx.moveTo(sx, sy); ctx.lineTo(ex, ey); ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(ex, ey); ctx.lineTo(ex - ux * 9 - uy * 4.5, ey - uy * 9 + ux * 4.5); ctx.lineTo(ex - ux * 9 + uy * 4.5, ey - uy * 9 - ux * 4.5); ctx.closePath(); ctx.globalAlpha = 0.8; ctx.fill();
      ctx.globalAlpha = 1;
      ctx.fillText(`declared: ${d.via.join(', ')}`, (sx + ex) / 2 + 6, (sy + ey) / 2 - 6);
      ctx.restore();
      drawn.ghosts.push(`${d.client}|${d.server}`);
    }
    for (const [id, p] of ghostAt) {
      const r = 20 * Math.max(zoom, 0.5);
      ctx.save();
      ctx.strokeStyle = GHOST; ctx.fillStyle = GHOST; ctx.lineWidth = 1.5; ctx.setLineDash([3, 4]);
      ctx.beginPath(); ctx.arc(p.x, p.y, r, 0, Math.PI * 2); ctx.stroke();
      ctx.setLineDash([]);
      ctx.textAlign = 'center';
      ctx.fillText(`${id.replace(/^svc:[^/]*\//, '')} (not seen)`, p.x, p.y + r + 13);
      ctx.restore();
      drawn.ghostNodes.push(id);
    }
  }

  // The panel takes the map's right edge: the canvas makes room for it, and the view frames what is drawn again.
  const map = container.closest('.map');
  let open = false;
  const makeRoom = () => {
    if (!map || open === state.on) return;
    open = state.on;
    map.classList.toggle('policy-open', open);
    cy.resize();
    if (cy.nodes().nonempty()) cy.animate({ fit: { eles: cy.elements(), padding: 40 } }, { duration: 250 });
  };
  const offLive = live.onChange(() => restyle());
  const offState = state.subscribe(() => { makeRoom(); restyle(); });
  makeRoom();
  const onView = () => drawSoon();
  cy.on('render viewport resize', onView);
  restyle();

  const hook: PolicyTestHook = {
    on: () => state.on,
    ghostEdges: () => [...drawn.ghosts],
    ghostNodes: () => [...drawn.ghostNodes],
    zones: () => [...drawn.zones],
    violationEdges: () => cy.edges('.pol-violation').map((e) => e.id()),
    undeclaredEdges: () => cy.edges('.pol-undeclared').map((e) => e.id()),
  };
  window.__dhrishtiPolicy = hook;

  return () => {
    offLive(); offState();
    map?.classList.remove('policy-open');
    cy.off('render viewport resize', onView);
    cancelAnimationFrame(frame);
    cy.batch(() => cy.edges().forEach((el) => { for (const c of CLASSES) el.removeClass(c); }));
    canvas.remove();
    if (window.__dhrishtiPolicy === hook) delete window.__dhrishtiPolicy;
  };
}
