// The policy on top of the live graph's public output, without touching the
// graph's internals: a follower reads the graph's change feed a few times a
// second (so verdicts, violations and alerts do not wait for a reader), and a
// decorator puts verdicts on everything the graph hands out (snapshots,
// WebSocket deltas, edge details), for the API, the stream and the store alike.
import type { EdgeDetail, GraphDelta, GraphSnapshot, NodeDetail } from '../graph/types.js';
import type { GraphFilter } from '../graph/live-graph.js';
import { annotate, type PolicyEngine } from './engine.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';

/** The graph's public reading side (LiveGraph fits). */
export interface GraphOutput {
  snapshot(f?: GraphFilter, now?: number): GraphSnapshot;
  changesSince(since: number, f?: GraphFilter, now?: number): { delta: GraphDelta; version: number };
  readonly currentVersion: number;
  edgeDetail(id: string, now?: number): EdgeDetail | null;
  nodeDetail(id: string): NodeDetail | null;
}

/** Feeds the engine from the graph's change feed until stopped. */
export function follow(graph: GraphOutput, engine: PolicyEngine, intervalMs: number = POLICY_DEFAULTS.followIntervalMs): { stop(): void; poll(now?: number): void } {
  let version = graph.currentVersion;
  const first = graph.snapshot();
  for (const n of first.nodes) engine.noteNode(n);
  for (const e of first.edges) engine.noteEdge(e);
  const poll = (now = Date.now()) => {
    const { delta, version: v } = graph.changesSince(version, {}, now);
    version = v;
    for (const id of delta.removedEdges) engine.forgetEdge(id);
    for (const n of delta.nodes) engine.noteNode(n);
    for (const e of delta.edges) engine.noteEdge(e, now);
    for (const id of delta.removedNodes) engine.forgetNode(id);
  };
  const timer = setInterval(() => {
    try { poll(); } catch (e) { console.error(`dhrishti: policy: could not read the graph: ${(e as Error).message}`); }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), poll };
}

/**
 * Replaces the graph object's reading methods with ones that add verdicts, and
 * returns the originals (the follower must read the undecorated feed).
 *
 * After a policy change every edge's verdict may differ, but the graph's
 * version did not move; so versions handed out are the graph's plus the number
 * of policy changes, and a reader whose version predates a change gets every
 * edge once more. With P_k the version right after change k (graph version then,
 * plus k), a reader holding version W has seen change k exactly when P_k <= W,
 * and its graph version is W minus the number of such changes.
 */
export function decorateGraph<G extends GraphOutput>(graph: G, engine: PolicyEngine): GraphOutput {
  for (const m of ['snapshot', 'changesSince', 'edgeDetail', 'nodeDetail'] as const) {
    if (typeof graph[m] !== 'function') throw new Error(`the graph has no ${m}(): the policy cannot decorate it`);
  }
  const version = versionReader(graph);
  const orig: GraphOutput = {
    snapshot: graph.snapshot.bind(graph),
    changesSince: graph.changesSince.bind(graph),
    edgeDetail: graph.edgeDetail.bind(graph),
    nodeDetail: graph.nodeDetail.bind(graph),
    get currentVersion() { return version(); },
  };
  const changes: number[] = [];
  engine.onPolicyChange(() => changes.push(orig.currentVersion + changes.length + 1));
  const seen = (w: number) => { let k = 0; while (k < changes.length && changes[k] <= w) k++; return k; };
  const nodeOf = (id: string) => orig.nodeDetail(id) ?? undefined;

  const decorated: Pick<GraphOutput, 'snapshot' | 'changesSince' | 'edgeDetail'> = {
    snapshot(f, now) {
      const s = orig.snapshot(f, now);
      annotate(engine, s.edges, s.nodes, nodeOf);
      return s;
    },
    changesSince(since, f, now) {
      const k = seen(since);
      const r = orig.changesSince(since - k, f, now);
      if (k < changes.length) {
        // A policy change this reader has not seen: every edge again, with its new verdict.
        const have = new Set(r.delta.edges.map((e) => e.id));
        for (const e of orig.snapshot(f, now).edges) if (!have.has(e.id)) r.delta.edges.push(e);
      }
      annotate(engine, r.delta.edges, r.delta.nodes, nodeOf);
      return { delta: r.delta, version: r.version + changes.length };
    },
    edgeDetail(id, now) {
      const d = orig.edgeDetail(id, now);
      if (d) annotate(engine, [d], [], nodeOf);
      return d;
    },
  };
  Object.assign(graph, decorated);
  Object.defineProperty(graph, 'currentVersion', { configurable: true, get: () => orig.currentVersion + changes.length });
  return orig;
}

/** Reads currentVersion as the object itself defines it (before the decorator puts its own on the instance). */
function versionReader(graph: GraphOutput): () => number {
  for (let o: object | null = graph; o; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, 'currentVersion');
    if (d?.get) { const get = d.get; return () => get.call(graph) as number; }
    if (d && 'value' in d) return () => (Object.getOwnPropertyDescriptor(o!, 'currentVersion')?.value as number);
  }
  throw new Error('the graph has no currentVersion: the policy cannot decorate it');
}
