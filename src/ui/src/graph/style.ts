// The Cytoscape stylesheet for one theme. Element data carries only what styles
// map (label, kind, width); health and activity are classes set by the renderer.
import type { StylesheetJson } from 'cytoscape';
import type { NodeKind } from '../../../graph/types.js';
import { kindIcon } from './icons.js';
import type { Palette } from './palette.js';

const FONT = 'Inter, "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif';

const SHAPE: Record<NodeKind, string> = {
  service: 'round-hexagon',
  container: 'round-rectangle',
  process: 'ellipse',
  external: 'round-diamond',
  client: 'round-triangle',
};
const SIZE: Record<NodeKind, number> = { service: 44, container: 38, process: 36, external: 40, client: 40 };
const KINDS: NodeKind[] = ['service', 'container', 'process', 'external', 'client'];

export function buildStyle(p: Palette): StylesheetJson {
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
        label: 'data(label)',
        'font-family': FONT,
        'font-size': 11,
        'font-weight': 500,
        color: p.text,
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 5,
        'text-wrap': 'ellipsis',
        'text-max-width': '130px',
        'text-outline-color': p.labelHalo,
        'text-outline-width': 2,
        'text-outline-opacity': 0.9,
        'min-zoomed-font-size': 7,
        'border-width': 1.5,
        'background-fit': 'none',
        'background-clip': 'none',
        'overlay-opacity': 0,
        'transition-property': 'opacity',
        'transition-duration': 150,
      },
    },
    ...kindRules,
    {
      // a compound parent: one Compose project, namespace or "host"
      selector: 'node.group',
      style: {
        shape: 'round-rectangle',
        'background-color': p.groupFill,
        'background-opacity': 0.85,
        'background-image': 'none',
        'border-color': p.groupBorder,
        'border-width': 1,
        padding: '22px',
        label: 'data(label)',
        'font-size': 12,
        'font-weight': 650,
        color: p.groupText,
        'text-transform': 'uppercase',
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': -6,
        'text-outline-width': 0,
        'min-zoomed-font-size': 6,
        'corner-radius': 14,
      },
    },
    { selector: 'node.failing', style: { 'border-color': p.edgeFail, 'border-width': 3.5, 'underlay-color': p.edgeFail, 'underlay-opacity': 0.18, 'underlay-padding': 7, 'underlay-shape': 'ellipse' } },
    { selector: 'node.stopped', style: { 'background-opacity': 0.45, 'border-style': 'dashed' } },
    {
      selector: 'edge',
      style: {
        width: 'data(width)',
        'curve-style': 'bezier',
        'control-point-step-size': 26,
        'line-color': p.edgeIdle,
        'target-arrow-color': p.edgeIdle,
        'target-arrow-shape': 'triangle',
        'arrow-scale': 0.85,
        'line-cap': 'round',
        label: 'data(label)',
        'font-family': FONT,
        'font-size': 9.5,
        'font-weight': 500,
        color: p.muted,
        'text-background-color': p.labelBg,
        'text-background-opacity': 0.9,
        'text-background-padding': '2px',
        'text-background-shape': 'round-rectangle',
        'min-zoomed-font-size': 8,
        'overlay-opacity': 0,
      },
    },
    { selector: 'edge.idle', style: { opacity: 0.55, 'line-style': 'solid' } },
    { selector: 'edge.open.ok', style: { 'line-color': p.edgeOpen, 'target-arrow-color': p.edgeOpen } },
    { selector: 'edge.flowing', style: { 'line-style': 'dashed', 'line-dash-pattern': [7, 4], opacity: 1 } },
    { selector: 'edge.flowing.ok', style: { 'line-color': p.edgeOk, 'target-arrow-color': p.edgeOk } },
    { selector: 'edge.warn', style: { 'line-color': p.edgeWarn, 'target-arrow-color': p.edgeWarn, color: p.text } },
    { selector: 'edge.failing', style: { 'line-color': p.edgeFail, 'target-arrow-color': p.edgeFail, color: p.edgeFail, 'z-index': 5 } },
    { selector: 'edge.failing.flowing', style: { 'underlay-color': p.edgeFail, 'underlay-opacity': 0.15, 'underlay-padding': 4 } },
    // selection: the chosen element and its neighbours stand out, the rest fades
    { selector: '.faded', style: { opacity: 0.14 } },
    { selector: 'node.group.faded', style: { opacity: 0.5 } },
    { selector: 'node:selected', style: { 'underlay-color': p.accent, 'underlay-opacity': 0.28, 'underlay-padding': 9, 'underlay-shape': 'ellipse' } },
    { selector: 'edge:selected', style: { 'underlay-color': p.accent, 'underlay-opacity': 0.3, 'underlay-padding': 5, 'z-index': 10, color: p.text, 'min-zoomed-font-size': 0 } },
    { selector: 'edge.near', style: { 'min-zoomed-font-size': 0, 'z-index': 9 } },
    { selector: '.hidden', style: { display: 'none' } },
  ] as StylesheetJson;
}
