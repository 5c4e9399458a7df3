// How policy mode marks edges on the map (classes set by the overlay):
// violations red and dashed (short dashes: attempted only), undeclared edges
// amber, everything else dimmed so the crossings stand out.
import type { StylesheetJson } from 'cytoscape';
import type { Palette } from '../graph/palette.js';

export function policyStyle(p: Palette): StylesheetJson {
  return [
    { selector: 'edge.pol-quiet', style: { opacity: 0.3 } },
    { selector: 'edge.pol-undeclared', style: { 'line-color': p.edgeWarn, 'target-arrow-color': p.edgeWarn, color: p.edgeWarn, opacity: 1 } },
    {
      selector: 'edge.pol-violation',
      style: { 'line-color': p.edgeFail, 'target-arrow-color': p.edgeFail, color: p.edgeFail, 'line-style': 'dashed', 'line-dash-pattern': [9, 5], opacity: 1, 'z-index': 10 },
    },
    { selector: 'edge.pol-violation.pol-attempted', style: { 'line-dash-pattern': [3, 5] } },
  ] as StylesheetJson;
}
