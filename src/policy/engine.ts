// Verdicts on edges under the policy in force, and the violations seen.
// Node zones are cached per node (recomputed when the node changes or the
// policy does); an edge's decision is cached until one of its nodes or the
// policy changes. Violations are kept per rule and edge with first/last seen
// and counts; listeners hear of new ones, recurrences after a quiet period,
// and attempted ones that got through.
import type { GraphEdge, GraphNode, PolicyVerdict } from '../graph/types.js';
import type { EdgeLike, NodeLike } from './model.js';
import { withAttempt, type Decision, type NodeZones } from './compile.js';
import { attemptsOf, gotThrough } from '../graph/edge-facts.js';
import type { LoadedPolicy } from './load.js';
import { NodeTable } from './node-table.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';

export interface Violation {
  rule: string;
  edge: string;
  client: string;
  server: string;
  port: number;
  protocol: string;
  /** When Dhrishti first saw this edge break this rule (unix ms). */
  firstSeen: number;
  /** Last activity on the edge while it broke the rule. */
  lastSeen: number;
  /** Connections that got through, and attempts that never connected (refused, unanswered, unreachable), counted since first seen. */
  connections: number;
  attempts: number;
  /** Never connected: only failed (or unanswered) attempts so far. */
  attempted: boolean;
  /** The client and server nodes' newest instances (containers, or a process node's pids): not only those of this edge's connections. */
  processes: { client: string[]; server: string[] };
}

export type ViolationNews = 'new' | 'recurred' | 'connected';

/** Hears every accounting of a violation: `news` says what is new about it, null when only its counts moved. */
export interface ViolationListener {
  (v: Violation, news: ViolationNews | null, counts: { connections: number; attempts: number }): void;
}

interface EdgeEntry {
  edge: EdgeLike & { firstSeen?: number; lastSeen?: number };
  d: Decision;
  policyGen: number;
  s: number;
  t: number;
  /** Counters last accounted, to count what is new. */
  opened: number;
  failed: number;
  firstSeen: number;
}

/** A node's processes and containers, as the violations panel lists them. */
function who(n: NodeLike | undefined): string[] {
  if (!n) return [];
  const out = n.instances.slice(-8).map((i) => (i.pids.length ? `${i.name} (pid ${i.pids.slice(-3).join(', ')})` : i.name));
  return out.length ? out : [n.label];
}

export class PolicyEngine {
  private loaded: LoadedPolicy | null = null;
  private policyGen = 0;
  private nodeGen = 0;
  /** Facts are read from a node when it is placed and not kept: less to hold per node. */
  private readonly nodes = new NodeTable();
  private readonly edges = new Map<string, EdgeEntry>();
  private readonly violations = new Map<string, Violation>();
  private readonly listeners: ViolationListener[] = [];
  private readonly changeListeners: (() => void)[] = [];

  constructor(policy: LoadedPolicy | null = null, private readonly opts: { quietMs?: number; maxViolations?: number } = {}) {
    if (policy) this.setPolicy(policy);
  }

  get policy(): LoadedPolicy | null { return this.loaded; }
  get generation(): number { return this.policyGen; }

  onViolation(l: ViolationListener): void { this.listeners.push(l); }
  /** Called after the policy changed (verdicts of old edges may differ). */
  onPolicyChange(l: () => void): void { this.changeListeners.push(l); }

  /**
   * Puts a policy in force: every known node is placed in its zones again and
   * every known edge judged again. Violations the new policy no longer sees are
   * cleared; ones it newly sees are reported as new.
   */
  setPolicy(p: LoadedPolicy, now = Date.now()): { edges: number; violations: number } {
    this.loaded = p;
    this.policyGen++;
    for (const [, s] of this.nodes.entries()) this.nodes.replace(s, p.compiled.place(this.nodes.node(s)), ++this.nodeGen);
    for (const e of this.edges.values()) {
      this.decide(e);
      if (e.d.verdict === 'violation') this.account(e, now, true);
      else this.violations.delete(e.edge.id);
    }
    // Violations of edges no longer on the map stay until they age out, unless the policy no longer sees them.
    for (const [id, v] of this.violations) if (!this.edges.has(id) && !this.stillBroken(v)) this.violations.delete(id);
    for (const l of this.changeListeners) l();
    return { edges: this.edges.size, violations: this.violations.size };
  }

  /** A node added or changed: placed in its zones again. */
  noteNode(n: NodeLike): void { this.place(n); }

  /** A node as last noted, if it still is known: what names a violation's ends on /metrics. */
  nodeOf(id: string): NodeLike | undefined {
    const s = this.nodes.slot(id);
    return s >= 0 ? this.nodes.node(s) : undefined;
  }

  private place(n: NodeLike): NodeZones {
    const p = this.loaded;
    const zones = p ? p.compiled.place(n) : EMPTY;
    this.nodes.put(n, zones, ++this.nodeGen);
    return zones;
  }

  /** A remembered violation judged again by its nodes (if still known) under the policy now in force. */
  private stillBroken(v: Violation): boolean {
    const p = this.loaded, s = this.nodes.slot(v.client), t = this.nodes.slot(v.server);
    if (!p || s < 0 || t < 0) return false;
    const d = p.compiled.decide(this.nodes.zones(s), this.nodes.zones(t), v.port, v.protocol);
    return d.verdict === 'violation' && d.rule === v.rule;
  }

  forgetNode(id: string): void { this.nodes.delete(id); }

  /** An edge seen (new or with new numbers): judged, and its violation accounted. */
  noteEdge(e: EdgeLike & { firstSeen?: number; lastSeen?: number }, now = Date.now()): void {
    if (e.protocol === 'dns') return; // a resolver edge (DNS health), not traffic the policy rules on
    let entry = this.edges.get(e.id);
    const firstSeen = e.firstSeen ?? 0;
    if (!entry || entry.firstSeen !== firstSeen) {
      // A new edge, or a new life of one that expired: count from zero.
      entry = { edge: e, d: UNJUDGED, policyGen: -1, s: -1, t: -1, opened: 0, failed: 0, firstSeen };
      this.edges.set(e.id, entry);
    }
    entry.edge = e;
    if (!this.loaded) return;
    this.decide(entry);
    if (entry.d.verdict === 'violation') this.account(entry, now, false);
    else { entry.opened = e.connections?.opened ?? 0; entry.failed = e.connections?.failed ?? 0; }
  }

  forgetEdge(id: string): void { this.edges.delete(id); }

  /**
   * The verdict for an edge in some output (a snapshot, a delta, a detail),
   * from the caches when the nodes are known; `nodeOf` supplies nodes the
   * engine has not seen yet. Does not count anything.
   */
  verdict(e: EdgeLike, nodeOf?: (id: string) => NodeLike | undefined): PolicyVerdict | undefined {
    const p = this.loaded;
    if (!p || e.protocol === 'dns') return undefined;
    const entry = this.edges.get(e.id);
    if (entry) {
      const s = this.nodes.slot(e.source), t = this.nodes.slot(e.target);
      if (s >= 0 && t >= 0) {
        if (entry.policyGen !== this.policyGen || entry.s !== this.nodes.gen(s) || entry.t !== this.nodes.gen(t)) this.decide(entry);
        return withAttempt(entry.d, e);
      }
    }
    const sz = this.zonesFor(e.source, nodeOf), tz = this.zonesFor(e.target, nodeOf);
    if (!sz || !tz) return { verdict: 'unmatched' };
    return withAttempt(p.compiled.decide(sz, tz, e.port, e.protocol), e);
  }

  private zonesFor(id: string, nodeOf?: (id: string) => NodeLike | undefined): NodeZones | null {
    const known = this.nodes.slot(id);
    if (known >= 0) return this.nodes.zones(known);
    const n = nodeOf?.(id);
    return n ? this.place(n) : null;
  }

  private decide(e: EdgeEntry): void {
    const p = this.loaded;
    const s = this.nodes.slot(e.edge.source), t = this.nodes.slot(e.edge.target);
    if (!p || s < 0 || t < 0) { e.d = UNJUDGED; e.policyGen = this.policyGen; e.s = e.t = -1; return; }
    e.d = p.compiled.decide(this.nodes.zones(s), this.nodes.zones(t), e.edge.port, e.edge.protocol);
    e.policyGen = this.policyGen;
    e.s = this.nodes.gen(s);
    e.t = this.nodes.gen(t);
  }

  private account(e: EdgeEntry, now: number, fromReload: boolean): void {
    const edge = e.edge;
    const opened = edge.connections?.opened ?? 0, failed = attemptsOf(edge.connections);
    const dOpen = Math.max(0, opened - e.opened), dFail = Math.max(0, failed - e.failed);
    e.opened = opened;
    e.failed = failed;
    // An edge has one verdict, so at most one violation at a time: keyed by edge, replaced when the rule changes.
    let v = this.violations.get(edge.id);
    if (v && v.rule !== e.d.rule) { this.violations.delete(edge.id); v = undefined; }
    const activity = edge.lastSeen ?? now;
    let news: ViolationNews | null = null;
    if (!v) {
      // It began when the edge did, unless the policy came later.
      const began = Math.min(now, Math.max(edge.firstSeen ?? now, this.loaded?.loadedAt ?? 0));
      v = {
        rule: e.d.rule!, edge: edge.id, client: edge.source, server: edge.target, port: edge.port, protocol: edge.protocol,
        firstSeen: began, lastSeen: Math.max(began, activity), connections: opened, attempts: failed, attempted: !!edge.connections && !gotThrough(edge.connections),
        processes: NO_PROCESSES,
      };
      this.violations.set(edge.id, v);
      this.bound();
      news = 'new';
      if (this.listeners.length) this.emit(this.withProcesses(v), news, { connections: opened, attempts: failed });
      return;
    }
    if (fromReload || (!dOpen && !dFail)) return;
    if (activity - v.lastSeen >= (this.opts.quietMs ?? POLICY_DEFAULTS.quietMs)) news = 'recurred';
    v.lastSeen = Math.max(v.lastSeen, activity);
    v.connections += dOpen;
    v.attempts += dFail;
    if (v.attempted && gotThrough(edge.connections)) {
      v.attempted = false;
      if (!news) news = 'connected';
    }
    if (this.listeners.length) this.emit(this.withProcesses(v), news, { connections: dOpen, attempts: dFail });
  }

  private emit(v: Violation, news: ViolationNews | null, counts: { connections: number; attempts: number }): void {
    for (const l of this.listeners) l(v, news, counts);
  }

  private bound(): void {
    const max = this.opts.maxViolations ?? POLICY_DEFAULTS.maxViolations;
    if (this.violations.size <= max) return;
    // Past the bound, the oldest tenth goes at once (not one sort per new violation).
    const oldest = [...this.violations.entries()].sort((a, b) => a[1].lastSeen - b[1].lastSeen).slice(0, this.violations.size - max + Math.ceil(max / 10));
    for (const [k] of oldest) this.violations.delete(k);
  }

  // ---- reading ----

  /**
   * The processes are read when asked for, not kept per violation: the client's are the instances that made the
   * edge's connections when the map says (GraphEdge.clientInstances), else the client node's newest; the server's
   * are its node's.
   */
  private withProcesses(v: Violation): Violation {
    const c = this.nodeOf(v.client), s = this.nodeOf(v.server);
    const made = this.edges.get(v.edge)?.edge.clientInstances;
    const client = made?.length ? [...made] : c ? who(c) : v.processes.client;
    v.processes = { client, server: s ? who(s) : v.processes.server };
    return v;
  }

  violationList(): Violation[] {
    return [...this.violations.values()].map((v) => { const w = this.withProcesses(v); return { ...w, processes: { client: [...w.processes.client], server: [...w.processes.server] } }; })
      .sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** Every known edge with its verdict. */
  verdicts(): { edge: string; source: string; target: string; port: number; protocol: string; policy: PolicyVerdict }[] {
    if (!this.loaded) return [];
    const out = [];
    for (const e of this.edges.values()) {
      if (e.policyGen !== this.policyGen) this.decide(e);
      out.push({ edge: e.edge.id, source: e.edge.source, target: e.edge.target, port: e.edge.port, protocol: e.edge.protocol, policy: withAttempt(e.d, e.edge) });
    }
    return out;
  }

  /** Zones with the nodes in them now, and how many nodes each of their selectors matches. */
  zones(): { name: string; builtin: boolean; members: string[] }[] {
    const p = this.loaded;
    if (!p) return [];
    const names = p.compiled.zoneNames;
    const members: string[][] = names.map(() => []);
    for (const [id, s] of this.nodes.entries()) {
      const bits = this.nodes.zones(s).bits;
      for (let i = 0; i < names.length; i++) if ((bits[i >> 5] >>> (i & 31)) & 1) members[i].push(id);
    }
    const builtin = new Set(['any', 'external', 'host']);
    return names.map((name, i) => ({ name, builtin: builtin.has(name) && !p.spec.zones.some((z) => z.name === name), members: members[i].sort() }));
  }

  knownNodes(): NodeLike[] { return [...this.nodes.entries()].map(([, s]) => this.nodes.node(s)); }

  size(): { nodes: number; edges: number; violations: number } {
    return { nodes: this.nodes.size, edges: this.edges.size, violations: this.violations.size };
  }
}

const NO_PROCESSES: Violation['processes'] = Object.freeze({ client: [], server: [] }) as unknown as Violation['processes'];
const EMPTY: NodeZones = { bits: new Uint32Array(0), rules: new Int32Array(0) };
const UNJUDGED: Decision = { verdict: 'unmatched' };

/** Puts verdicts on a snapshot's or a delta's edges (in place), nodes from the same output first. */
export function annotate(engine: PolicyEngine, edges: GraphEdge[], nodes: GraphNode[] = [], nodeOf?: (id: string) => NodeLike | undefined): void {
  if (!engine.policy) return;
  let byId: Map<string, GraphNode> | null = null;
  const lookup = (id: string) => {
    byId ??= new Map(nodes.map((n) => [n.id, n]));
    return byId.get(id) ?? nodeOf?.(id);
  };
  for (const e of edges) {
    const v = engine.verdict(e, lookup);
    if (v) e.policy = v;
  }
}
