// /api/v1/policy (zones, rules, verdicts, violations; ?at= for a past moment
// under the policy in force then) and /api/v1/intent (compose files against
// what was observed, live or over a history range). Past maps served by the
// history plugin (/api/v1/graph?at=, ?from=) get verdicts too.
import type { FastifyInstance } from 'fastify';
import { BadRequest, onlyKnown, parseDuration } from './params.js';
import { GRAPH_HISTORY, type GraphHistory, type RoutePlugin } from './server.js';
import type { GraphOutput } from '../policy/graph-view.js';
import type { PolicyEngine, Violation } from '../policy/engine.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { PolicyRuntime } from '../policy/runtime.js';
import type { IntentRuntime } from '../intent/runtime.js';
import type { HistoryStore } from '../store/history-store.js';
import type { GraphSnapshot } from '../graph/types.js';
import { parseTime } from './time.js';
import type { Workload } from './workloads.js';
import { HISTORY_DEFAULTS, POLICY_DEFAULTS } from '../config/defaults.js';

export interface PolicyRouteDeps {
  graph: GraphOutput;
  policy: PolicyRuntime | null;
  intent: IntentRuntime | null;
  history: HistoryStore | null;
  /** What runs now, on the map or not (/api/v1/workloads); absent on a source that cannot tell (a hub). */
  workloads?: () => Workload[];
}

type Query = Record<string, unknown>;
const VERDICTS = ['allowed', 'violation', 'unmatched'] as const;

function single(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be given once`);
  return v;
}

/** The policy text in force at `at`, from the timeline (the policy_loaded event at or before it). */
function storedPolicyAt(store: HistoryStore, at: number): { text: string; file: string; sha256: string; since: number } | null {
  const longest = Math.max(...store.tiers.map((t) => t.keepMs));
  // Reaffirmed at least once per reaffirm period: look there first, then the whole retention.
  for (const back of [POLICY_DEFAULTS.reaffirmMs + 3_600_000, longest]) {
    const r = store.queries.events({ from: at - back, to: at + 1, limit: HISTORY_DEFAULTS.eventsMaxLimit, types: ['policy_loaded'] });
    const last = r?.events.at(-1);
    const d = last?.detail as { text?: string; file?: string; sha256?: string } | undefined;
    if (last && typeof d?.text === 'string') return { text: d.text, file: d.file ?? '', sha256: d.sha256 ?? '', since: last.time };
  }
  return null;
}

export function policyRoutes(deps: PolicyRouteDeps): RoutePlugin {
  const compiled = new Map<string, LoadedPolicy>(); // past policies by hash, a few
  // Only reached with a policy on: its runtime compiles past policies (this module loads no policy code, so an agent without --policy does not either).
  const policyAt = (rt: PolicyRuntime, at: number): { loaded: LoadedPolicy; since: number } | null => {
    const cur = rt.engine.policy;
    if (cur && at >= cur.loadedAt) return { loaded: cur, since: cur.loadedAt };
    if (!deps.history) return null;
    const s = storedPolicyAt(deps.history, at);
    if (!s) return null;
    if (cur && s.sha256 === cur.sha256) return { loaded: cur, since: s.since };
    let p = compiled.get(s.sha256);
    if (!p) {
      try { p = rt.compile(s.file, s.text, s.since); } catch { return null; } // a policy refused then was never in force
      if (compiled.size > 8) compiled.clear();
      compiled.set(s.sha256, p);
    }
    return { loaded: p, since: s.since };
  };

  /** A past map's edges judged under the policy in force then. */
  const judgePast = (rt: PolicyRuntime, g: GraphSnapshot, at: number): LoadedPolicy | null => {
    const p = policyAt(rt, at);
    if (!p) return null;
    const engine = rt.engineFor(p.loaded);
    for (const n of g.nodes) engine.noteNode(n);
    for (const e of g.edges) { const v = engine.verdict(e); if (v) e.policy = v; }
    return p.loaded;
  };

  return (app: FastifyInstance) => {
    const q = (req: { query: unknown }) => (req.query ?? {}) as Query;

    const rt0 = deps.policy;
    if (rt0 && app.hasDecorator(GRAPH_HISTORY)) {
      const h = (app as unknown as Record<string, GraphHistory>)[GRAPH_HISTORY];
      const past = h.graph.bind(h);
      h.graph = (query) => {
        const g = past(query) as GraphSnapshot & { at?: number; to?: number };
        const at = g.at ?? g.to;
        if (at !== undefined) judgePast(rt0, g, at);
        return g;
      };
    }

    app.get('/api/v1/policy', async (req, reply) => {
      const query = q(req);
      onlyKnown(query, ['at', 'from', 'to', 'verdict', 'window', 'token']);
      const rt = deps.policy;
      if (!rt) return reply.code(404).send({ error: 'not_found', message: 'no policy on this agent: start it with --policy FILE' });
      const vf = single(query, 'verdict');
      if (vf !== undefined && !(VERDICTS as readonly string[]).includes(vf)) throw new BadRequest(`verdict takes ${VERDICTS.join(', ')}; got "${vf}"`);
      const at = single(query, 'at'), from = single(query, 'from'), to = single(query, 'to');
      if (at !== undefined && (from !== undefined || to !== undefined)) throw new BadRequest('give either at (a moment), or from and to (a range), not both');
      if (to !== undefined && from === undefined) throw new BadRequest('from is required with to');
      if (at === undefined && from === undefined) {
        if (single(query, 'window') !== undefined) throw new BadRequest('window applies with at=');
        const p = rt.engine.policy!;
        const verdicts = rt.engine.verdicts().filter((v) => !vf || v.policy.verdict === vf);
        return {
          ...rt.status(),
          rules: p.spec.rules,
          zones: zonesOut(p, rt.engine),
          counts: countOf(rt.engine.verdicts()),
          verdicts,
          violations: rt.engine.violationList(),
        };
      }
      if (!deps.history) throw new BadRequest(`${at !== undefined ? 'at' : 'from and to'} need the history store, which is off on this agent`);
      const store = deps.history;
      // A moment (the map of its window), or a range (its map summed); judged under the policy in force at the end.
      let t: number, since: number, g: GraphSnapshot;
      if (at !== undefined) {
        t = parseTime(at, 'at', store.now());
        const w = single(query, 'window');
        const windowMs = w === undefined ? HISTORY_DEFAULTS.atWindowMs : parseDuration(w, 'window');
        g = store.queries.graphAt(t, windowMs);
        since = t - Math.max(windowMs, POLICY_DEFAULTS.quietMs);
      } else {
        if (single(query, 'window') !== undefined) throw new BadRequest('window applies with at=');
        const now = store.now();
        const f = parseTime(from!, 'from', now);
        t = parseTime(to ?? 'now', 'to', now);
        if (f >= t) throw new BadRequest('from must be before to');
        g = store.queries.graphRange(f, t);
        since = f;
      }
      const p = policyAt(rt, t);
      if (!p) return reply.code(404).send({ error: 'not_found', message: `no policy was in force at ${new Date(t).toISOString()} (or the history no longer holds it)` });
      const engine = rt.engineFor(p.loaded);
      for (const n of g.nodes) engine.noteNode(n);
      for (const e of g.edges) engine.noteEdge(e, t);
      const all = engine.verdicts();
      const events = store.queries.events({ from: since, to: t + 1, limit: 1000, types: ['policy_violation'] });
      return {
        ...(at !== undefined ? { at: t } : { from: since, to: t }), file: p.loaded.file, sha256: p.loaded.sha256, inForceSince: p.since,
        rules: p.loaded.spec.rules, zones: zonesOut(p.loaded, engine),
        counts: countOf(all), verdicts: all.filter((v) => !vf || v.policy.verdict === vf),
        violations: pastViolations(engine.violationList(), g),
        events: events?.events ?? [],
      };
    });

    // Running containers and listening processes, on the map or not: `dhrishti check` tells a selector matching
    // a workload that made no connection yet from one matching nothing.
    const known = deps.workloads;
    if (known) {
      app.get('/api/v1/workloads', async (req) => {
        onlyKnown(q(req), ['token']);
        return { workloads: known() };
      });
    }

    app.get('/api/v1/intent', async (req, reply) => {
      const query = q(req);
      onlyKnown(query, ['window', 'from', 'to', 'token']);
      const rt = deps.intent;
      if (!rt) return reply.code(404).send({ error: 'not_found', message: 'no compose files on this agent: start it with --compose FILE' });
      const w = single(query, 'window'), from = single(query, 'from'), to = single(query, 'to');
      if (w !== undefined && (from !== undefined || to !== undefined)) throw new BadRequest('give either window (live map), or from and to (history), not both');
      let graph: GraphSnapshot;
      let span: { window?: number; from?: number; to?: number };
      if (from !== undefined || to !== undefined) {
        if (!deps.history) throw new BadRequest('from and to need the history store, which is off on this agent');
        if (from === undefined) throw new BadRequest('from is required with to');
        const now = deps.history.now();
        const f = parseTime(from, 'from', now), t = parseTime(to ?? 'now', 'to', now);
        if (f >= t) throw new BadRequest('from must be before to');
        graph = deps.history.queries.graphRange(f, t);
        span = { from: f, to: t };
      } else {
        const windowMs = w === undefined ? undefined : parseDuration(w, 'window');
        graph = deps.graph.snapshot(windowMs ? { windowMs } : {});
        span = windowMs ? { window: windowMs } : {};
      }
      return { ...span, ...rt.status(), ...rt.diff(graph) };
    });
  };
}

function countOf(vs: { policy: { verdict: (typeof VERDICTS)[number] } }[]): Record<(typeof VERDICTS)[number], number> {
  const c = { allowed: 0, violation: 0, unmatched: 0 };
  for (const v of vs) c[v.policy.verdict]++;
  return c;
}

function zonesOut(p: LoadedPolicy, engine: PolicyEngine) {
  const members = new Map(engine.zones().map((z) => [z.name, z]));
  return p.compiled.zoneNames.map((name) => {
    const spec = p.spec.zones.find((z) => z.name === name);
    // `any` holds every node: its list would only repeat the map.
    return { name, builtin: !spec, selectors: spec?.selectors ?? [], members: name === 'any' && !spec ? [] : members.get(name)?.members ?? [] };
  });
}

/** Violations on a past map: first and last seen are the edges' own. */
function pastViolations(vs: Violation[], g: GraphSnapshot): Violation[] {
  const edges = new Map(g.edges.map((e) => [e.id, e]));
  return vs.map((v) => { const e = edges.get(v.edge); return e ? { ...v, firstSeen: e.firstSeen, lastSeen: e.lastSeen } : v; });
}
