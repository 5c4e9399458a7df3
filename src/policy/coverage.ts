// Which selectors match nothing that is running: probably a typo, or a
// workload not started yet. Reported as warnings, never as errors.
import type { LoadedPolicy } from './load.js';
import type { NodeLike, Selector } from './model.js';
import { compileSelector, nodeFacts } from './selectors.js';

/** `where` names what the nodes are: the live map (and running containers), or a history range. */
export function unmatchedSelectors(p: LoadedPolicy, nodes: Iterable<NodeLike>, where = 'on the map yet'): string[] {
  const facts = [...nodes].map(nodeFacts);
  const out: string[] = [];
  for (const z of p.spec.zones) {
    z.selectors.forEach((s, i) => {
      const match = compileSelector(s);
      if (facts.some(match)) return;
      const at = z.at?.[i];
      out.push(`${p.file}${at ? `:${at.line}:${at.column}` : ''}: zone "${z.name}": selector ${show(s)} matches nothing ${where}`);
    });
  }
  return out;
}

function show(s: Selector): string {
  const parts = Object.entries(s).map(([k, v]) => `${k}: ${typeof v === 'object' ? (Array.isArray(v) ? `[${v.join(', ')}]` : `{${Object.entries(v).map(([a, b]) => `${a}: ${b}`).join(', ')}}`) : v}`);
  return `{${parts.join(', ')}}`;
}
