// How a drawn edge looks, as a list of decorations. Each decoration owns one aspect: at most one
// class out of its own set (health: failing|warn|ok) and/or data fields the stylesheet maps
// (label, width), plus the style rules that give them meaning. The renderer diffs decorations
// per edge and touches Cytoscape only where one changed. A new aspect (a protocol label, colour
// by a metric, dashes for a policy verdict) is one more entry here; a mode switch picks which
// decorations apply (LookContext.mode) and is passed to the stylesheet as well.
import type { StylesheetJson } from 'cytoscape';
import type { DrawnEdge } from '../model/grouping.js';
import { edgeActivity, edgeLabel, edgeWidth, type Health } from '../model/derive.js';
import { rate } from '../model/format.js';
import type { Palette } from './palette.js';

/** What the map is coloured by; 'health' is the default. Other modes (e.g. a policy view) add their own decorations. */
export type MapMode = 'health';

export interface LookContext {
  mode: MapMode;
  /** Health of a drawn edge (the model judges retransmits over time; a merged edge is its worst member). */
  health(id: string): Health;
}

export interface EdgeDecoration {
  name: string;
  /** Only in these modes (all when unset). */
  modes?: MapMode[];
  /** The edge's one class for this aspect, or null for none. */
  classOf?(e: DrawnEdge, ctx: LookContext): string | null;
  /** Data fields read by the style rules. */
  dataOf?(e: DrawnEdge, ctx: LookContext): Record<string, string | number>;
  /**
   * Its data only shows at some zoom (labels: while drawn; widths: from where a half-pixel step can
   * be seen). Otherwise it is not updated (each update restyles the edge) until the zoom shows it.
   */
  shownAt?: 'labels' | 'close';
  /** The moving dots depend on it: a change re-reads them. */
  movesDots?: boolean;
  /** Style rules, placed after the base edge rules. */
  style?(p: Palette): StylesheetJson;
}

/** ":5432 · 12/s", or for a merged edge "3 links · 12/s". */
export function drawnEdgeLabel(d: DrawnEdge): string {
  if (!d.members || d.members.length === 1) return edgeLabel(d.edge);
  const r = d.edge.rates['10s'];
  const n = `${d.members.length} links`;
  if (r.failures > 0) return `${n} · ${rate(r.failures)} fail/s`;
  if (r.connections > 0) return `${n} · ${rate(r.connections)}/s`;
  return d.edge.port ? `${n} · :${d.edge.port}` : n;
}

export const EDGE_DECORATIONS: EdgeDecoration[] = [
  {
    name: 'activity',
    classOf: (e) => edgeActivity(e.edge),
    movesDots: true,
    style: (p) => [
      { selector: 'edge.idle', style: { opacity: 0.55 } },
      { selector: 'edge.open.ok', style: { 'line-color': p.edgeOpen, 'target-arrow-color': p.edgeOpen } },
      { selector: 'edge.flowing.ok', style: { 'line-color': p.edgeOk, 'target-arrow-color': p.edgeOk } },
    ] as StylesheetJson,
  },
  {
    name: 'health',
    classOf: (e, ctx) => ctx.health(e.id),
    movesDots: true,
    style: (p) => [
      { selector: 'edge.warn', style: { 'line-color': p.edgeWarn, 'target-arrow-color': p.edgeWarn, color: p.text } },
      { selector: 'edge.failing', style: { 'line-color': p.edgeFail, 'target-arrow-color': p.edgeFail, color: p.edgeFail } },
      { selector: 'edge.failing.flowing', style: { 'underlay-color': p.edgeFail, 'underlay-opacity': 0.15, 'underlay-padding': 4 } },
    ] as StylesheetJson,
  },
  {
    name: 'merged',
    classOf: (e) => (e.members ? 'merged' : null),
    // the links between folded projects are many and cross each other: their numbers show on a pick
    style: () => [{ selector: 'edge.merged', style: { label: '' } }] as StylesheetJson,
  },
  {
    name: 'resolver',
    // a resolver edge carries DNS queries, not connections: dotted, red like any edge when names fail
    classOf: (e) => (e.edge.protocol === 'dns' ? 'dns' : null),
    style: () => [{ selector: 'edge.dns', style: { 'line-style': 'dotted' } }] as StylesheetJson,
  },
  { name: 'width', dataOf: (e) => ({ width: e.members ? Math.min(9, edgeWidth(e.edge) + Math.log2(e.members.length)) : edgeWidth(e.edge) }), movesDots: true, shownAt: 'close' },
  { name: 'label', dataOf: (e) => ({ label: drawnEdgeLabel(e) }), shownAt: 'labels' },
];

/** The decorations that apply in `mode`. */
export function decorationsFor(mode: MapMode): EdgeDecoration[] {
  return EDGE_DECORATIONS.filter((d) => !d.modes || d.modes.includes(mode));
}

export function decorationStyles(p: Palette, mode: MapMode): StylesheetJson {
  return decorationsFor(mode).flatMap((d) => (d.style ? (d.style(p) as unknown[]) : [])) as StylesheetJson;
}
