// Which selectors match nothing that is running: probably a typo, or a
// workload not started yet. Reported as warnings, never as errors. A selector
// that matches no node on the map but a workload known to run (a container
// with no connection yet, a listening process) is no typo: it gets a note
// that says so instead.
import type { LoadedPolicy } from './load.js';
import type { NodeLike, Selector } from './model.js';
import { compileSelector, nodeFacts } from './selectors.js';

/** One selector that matches no node of the map. */
export interface SelectorGap {
  /** `file:line:column: zone "z": selector {…}`. */
  what: string;
  /** Labels of the running workloads it matches though they are not on the map (empty: it matches nothing at all). */
  running: string[];
}

/** Selectors that match no node in `nodes`, and for each the workloads of `running` (known to run, on the map or not) it matches. */
export function selectorGaps(p: LoadedPolicy, nodes: Iterable<NodeLike>, running: Iterable<NodeLike> = []): SelectorGap[] {
  const facts = [...nodes].map(nodeFacts);
  // A container by its name (a service node's label is the service), a process by its node name.
  const others = [...running].map((n) => ({ label: (n.kind === 'process' ? undefined : n.instances[0]?.name) ?? n.label, facts: nodeFacts(n) }));
  const out: SelectorGap[] = [];
  for (const z of p.spec.zones) {
    z.selectors.forEach((s, i) => {
      const match = compileSelector(s);
      if (facts.some(match)) return;
      const at = z.at?.[i];
      const names = [...new Set(others.filter((o) => match(o.facts)).map((o) => o.label))];
      out.push({ what: `${p.file}${at ? `:${at.line}:${at.column}` : ''}: zone "${z.name}": selector ${show(s)}`, running: names });
    });
  }
  return out;
}

/** `where` names what the nodes are: the live map (and running containers), or a history range. */
export function unmatchedSelectors(p: LoadedPolicy, nodes: Iterable<NodeLike>, where = 'on the map yet'): string[] {
  return selectorGaps(p, nodes).map((g) => `${g.what} matches nothing ${where}`);
}

/** "web", "web and api", "web, api and 3 more". */
export function someNames(names: string[], max = 3): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length <= max) return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function show(s: Selector): string {
  const parts = Object.entries(s).map(([k, v]) => `${k}: ${typeof v === 'object' ? (Array.isArray(v) ? `[${v.join(', ')}]` : `{${Object.entries(v).map(([a, b]) => `${a}: ${b}`).join(', ')}}`) : v}`);
  return `{${parts.join(', ')}}`;
}
