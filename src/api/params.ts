// Query parameter parsing: anything malformed becomes a BadRequest with a message.
import type { GraphFilter } from '../graph/live-graph.js';
import { parseDuration as parseDurationValue } from '../config/duration.js';

export class BadRequest extends Error {}

/** parseDuration for query parameters: a bad value is a BadRequest. */
export function parseDuration(v: string, name: string): number {
  try { return parseDurationValue(v, name); } catch (e) { throw new BadRequest((e as Error).message); }
}

const INCLUDE = ['external', 'host', 'clients'] as const;

/** Rejects parameters the endpoint does not know, so a typo is not silently ignored. */
export function onlyKnown(q: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(q)) if (!known.includes(k)) throw new BadRequest(`unknown parameter "${k}"; known: ${known.join(', ') || 'none'}`);
}

function single(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be given once`);
  return v;
}

export const GRAPH_PARAMS = ['window', 'group', 'include', 'token'] as const;
/** /api/v1/graph at a past time or over a range (served by the history store), on top of GRAPH_PARAMS. */
export const GRAPH_HISTORY_PARAMS = ['at', 'from', 'to'] as const;

/** `group`: a Compose project or Kubernetes namespace name, if given. */
export function parseGroup(q: Record<string, unknown>): string | undefined {
  const g = single(q, 'group');
  if (g !== undefined && (!g || g.length > 253 || /[\u0000-\u001f]/.test(g))) throw new BadRequest('group must be a Compose project or Kubernetes namespace name');
  return g;
}

export function parseGraphFilter(q: Record<string, unknown>): GraphFilter {
  const f: GraphFilter = {};
  const w = single(q, 'window');
  if (w !== undefined) f.windowMs = parseDuration(w, 'window');
  const g = parseGroup(q);
  if (g !== undefined) f.group = g;
  const inc = single(q, 'include');
  if (inc !== undefined) {
    const parts = inc.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = parts.filter((p) => !(INCLUDE as readonly string[]).includes(p));
    if (bad.length) throw new BadRequest(`include takes ${INCLUDE.join(', ')}; got "${bad.join(', ')}"`);
    f.include = new Set(parts as (typeof INCLUDE)[number][]);
  }
  return f;
}
