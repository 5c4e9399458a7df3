// Dimension tables: node and edge descriptors stored once, referred to by
// small integers from every sample and event row.
import type { Db } from './database.js';
import type { GraphNode, Instance, NodeKind } from '../graph/types.js';
import { GRAPH_DEFAULTS, HISTORY_DEFAULTS } from '../config/defaults.js';
import { clientProgram, noteNewest } from '../graph/naming.js';

/** What the store keeps about a node (a GraphNode fits). */
export type NodeDesc = Pick<GraphNode, 'id' | 'kind' | 'label' | 'group' | 'image' | 'labels' | 'instances' | 'ips' | 'dns'> & Partial<Pick<GraphNode, 'firstSeen' | 'vacant'>>;

/** When a thing first appeared on the live map, if known and not after the write; else the write time. */
const firstSeenOr = (t: number | undefined, now: number) => (t && t > 0 && t <= now ? Math.round(t) : now);

/** What the store keeps about an edge (a GraphEdge fits). */
export type { EdgeDesc } from '../graph/interval.js';
import type { EdgeDesc } from '../graph/interval.js';

/** A node as stored, in the API's shape (without the numbers, which come from samples). */
export interface StoredNode extends Omit<GraphNode, 'lastSeen' | 'active'> { ref: number; lastSeen: number }
export interface StoredEdge extends EdgeDesc { ref: number; sourceRef: number; targetRef: number; firstSeen: number; lastSeen: number; clientInstances?: string[] }

interface NodeRow { id: number; key: string; kind: string; label: string; grp: string | null; image: string | null; labels: string | null; instances: string | null; ips: string | null; dns: string | null; vacant: string | null; first_seen: number; last_seen: number }
interface VersionRow { node: number; t: number; image: string | null; instances: string | null; ips: string | null }
interface EdgeRow { id: number; key: string; source: number; target: number; port: number; protocol: string; first_seen: number; last_seen: number }
interface EdgeVersionRow { edge: number; t: number; clients: string }

const MAX_INSTANCES = 16;

export class Dimensions {
  /** key -> row id, descriptor signature, last_seen as written. */
  private readonly nodes = new Map<string, { id: number; sig: string; seen: number }>();
  private readonly edges = new Map<string, { id: number; seen: number }>();
  /** edge row id -> signature of its latest stored client instances (clientsSig). */
  private readonly edgeClientSigs = new Map<number, string>();
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      insertNode: db.prepare(`INSERT INTO nodes (key, kind, label, grp, image, labels, instances, ips, dns, vacant, first_seen, last_seen)
        VALUES (@key, @kind, @label, @grp, @image, @labels, @instances, @ips, @dns, @vacant, @first, @now)`),
      updateNode: db.prepare(`UPDATE nodes SET kind=@kind, label=@label, grp=@grp, image=@image, labels=@labels, instances=@instances, ips=@ips,
        dns=@dns, vacant=@vacant, last_seen=max(last_seen, @now) WHERE id=@id`),
      seenNode: db.prepare('UPDATE nodes SET last_seen = max(last_seen, ?) WHERE id = ?'),
      insertVersion: db.prepare(`INSERT INTO node_versions (node, t, image, instances, ips) VALUES (@id, @now, @image, @instances, @ips)
        ON CONFLICT (node, t) DO UPDATE SET image = excluded.image, instances = excluded.instances, ips = excluded.ips`),
      // per node: the version in force at @from, those begun in [@from, @to), and the first (a node written after @to)
      versionsIn: db.prepare<{ refs: string; from: number; to: number }, VersionRow>(`SELECT node, t, image, instances, ips FROM node_versions v
        WHERE node IN (SELECT value FROM json_each(@refs)) AND ((t >= @from AND t < @to)
          OR t = (SELECT max(t) FROM node_versions w WHERE w.node = v.node AND w.t < @from)
          OR t = (SELECT min(t) FROM node_versions w WHERE w.node = v.node))
        ORDER BY node, t`),
      pruneVersions: db.prepare(`DELETE FROM node_versions WHERE NOT EXISTS (SELECT 1 FROM nodes WHERE nodes.id = node_versions.node)
        OR (t < ? AND t < (SELECT max(t) FROM node_versions w WHERE w.node = node_versions.node))`),
      insertEdgeVersion: db.prepare(`INSERT INTO edge_versions (edge, t, clients) VALUES (?, ?, ?)
        ON CONFLICT (edge, t) DO UPDATE SET clients = excluded.clients`),
      // per edge: the version in force at @from and those begun in [@from, @to)
      edgeVersionsIn: db.prepare<{ refs: string; from: number; to: number }, EdgeVersionRow>(`SELECT edge, t, clients FROM edge_versions v
        WHERE edge IN (SELECT value FROM json_each(@refs)) AND ((t >= @from AND t < @to)
          OR t = (SELECT max(t) FROM edge_versions w WHERE w.edge = v.edge AND w.t < @from))
        ORDER BY edge, t`),
      pruneEdgeVersions: db.prepare(`DELETE FROM edge_versions WHERE NOT EXISTS (SELECT 1 FROM edges WHERE edges.id = edge_versions.edge)
        OR (t < ? AND t < (SELECT max(t) FROM edge_versions w WHERE w.edge = edge_versions.edge))`),
      insertEdge: db.prepare(`INSERT INTO edges (key, source, target, port, protocol, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      seenEdge: db.prepare('UPDATE edges SET last_seen = max(last_seen, ?) WHERE id = ?'),
      nodesByRef: db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE id IN (SELECT value FROM json_each(?))'),
      edgesByRef: db.prepare<[string], EdgeRow>('SELECT * FROM edges WHERE id IN (SELECT value FROM json_each(?))'),
      edgeByKey: db.prepare<[string], EdgeRow>('SELECT * FROM edges WHERE key = ?'),
      nodeByKey: db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE key = ?'),
      incident: db.prepare<[number, number], { id: number }>('SELECT id FROM edges WHERE source = ? UNION SELECT id FROM edges WHERE target = ?'),
      inbound: db.prepare<[number], { id: number }>('SELECT id FROM edges WHERE target = ?'),
      pruneEdges: db.prepare('DELETE FROM edges WHERE last_seen < ?'),
      pruneNodes: db.prepare(`DELETE FROM nodes WHERE last_seen < ? AND NOT EXISTS (SELECT 1 FROM edges WHERE source = nodes.id)
        AND NOT EXISTS (SELECT 1 FROM edges WHERE target = nodes.id)`),
    };
    for (const r of db.prepare<[], NodeRow>('SELECT * FROM nodes').iterate()) this.nodes.set(r.key, { id: r.id, sig: signature(fromNodeRow(r)), seen: r.last_seen });
    for (const r of db.prepare<[], EdgeRow>('SELECT id, key, last_seen FROM edges').iterate()) this.edges.set(r.key, { id: r.id, seen: r.last_seen });
    this.loadClientSigs();
  }

  /** The write cache of each edge's latest stored client instances. */
  private loadClientSigs(): void {
    this.edgeClientSigs.clear();
    const latest = this.db.prepare<[], EdgeVersionRow>('SELECT edge, clients FROM edge_versions v WHERE t = (SELECT max(t) FROM edge_versions w WHERE w.edge = v.edge)');
    for (const r of latest.iterate()) this.edgeClientSigs.set(r.edge, clientsSig(JSON.parse(r.clients) as string[]));
  }

  /**
   * Row id of a node, written or updated when new or changed; last_seen moves at most once a minute. A change is
   * versioned from `since` (the start of the bucket whose numbers the write carries: the change happened in it).
   */
  node(n: NodeDesc, now: number, since = now): number {
    const sig = signature(n);
    const known = this.nodes.get(n.id);
    if (known && known.sig === sig) {
      if (now - known.seen >= HISTORY_DEFAULTS.lastSeenWriteMs) { this.stmt.seenNode.run(now, known.id); known.seen = now; }
      return known.id;
    }
    const row = {
      key: n.id, kind: n.kind, label: n.label, grp: n.group, image: n.image ?? null,
      labels: n.labels && Object.keys(n.labels).length ? JSON.stringify(n.labels) : null,
      instances: n.instances.length ? JSON.stringify(n.instances.slice(-MAX_INSTANCES)) : null,
      ips: n.ips.length ? JSON.stringify(n.ips.slice(0, 64)) : null, dns: n.dns ? JSON.stringify(n.dns) : null,
      vacant: n.vacant ? JSON.stringify(n.vacant) : null, now,
    };
    if (known) {
      this.stmt.updateNode.run({ ...row, id: known.id });
      this.stmt.insertVersion.run({ ...row, id: known.id, now: Math.min(since, now) });
      known.sig = sig;
      known.seen = Math.max(known.seen, now);
      return known.id;
    }
    const first = firstSeenOr(n.firstSeen, now);
    const id = Number(this.stmt.insertNode.run({ ...row, first }).lastInsertRowid);
    this.stmt.insertVersion.run({ ...row, id, now: Math.min(first, since) });
    this.nodes.set(n.id, { id, sig, seen: now });
    return id;
  }

  /** Row id of an edge; its end nodes must have been written first (or are given as a lookup). */
  edge(e: EdgeDesc, nodeOf: (key: string) => NodeDesc | undefined, now: number, since = now): number {
    const known = this.edges.get(e.id);
    if (known) {
      if (now - known.seen >= HISTORY_DEFAULTS.lastSeenWriteMs) { this.stmt.seenEdge.run(now, known.id); known.seen = now; }
      return known.id;
    }
    const s = this.node(nodeOf(e.source) ?? placeholder(e.source), now, since);
    const t = this.node(nodeOf(e.target) ?? placeholder(e.target), now, since);
    const id = Number(this.stmt.insertEdge.run(e.id, s, t, e.port, e.protocol, firstSeenOr(e.firstSeen, now), now).lastInsertRowid);
    this.edges.set(e.id, { id, seen: now });
    return id;
  }

  /**
   * The client instances of an edge (row id), versioned from `since` when they changed. A host process is stored by its
   * name, not its pid: a loop that runs `curl` again and again is one client, not a version per run.
   */
  edgeClients(ref: number, clients: readonly string[], now: number, since = now): void {
    const programs = storedClients(clients);
    const sig = clientsSig(programs);
    if (this.edgeClientSigs.get(ref) === sig) return;
    this.stmt.insertEdgeVersion.run(ref, Math.min(since, now), JSON.stringify(programs));
    this.edgeClientSigs.set(ref, sig);
  }

  /** Edges known (the write cache holds every stored edge). */
  edgeCount(): number { return this.edges.size; }

  edgeRef(key: string): number | undefined { return this.edges.get(key)?.id ?? this.stmt.edgeByKey.get(key)?.id; }
  nodeRef(key: string): number | undefined { return this.nodes.get(key)?.id ?? this.stmt.nodeByKey.get(key)?.id; }

  /** Edges touching a node (either end). */
  incidentEdges(nodeRef: number): number[] { return this.stmt.incident.all(nodeRef, nodeRef).map((r) => r.id); }

  /** When a node or edge was last seen as written (to within HISTORY_DEFAULTS.lastSeenWriteMs), if it is stored. */
  lastSeenOf(kind: 'node' | 'edge', key: string): number | undefined {
    return (kind === 'node' ? this.nodes : this.edges).get(key)?.seen;
  }

  /** Edges into a node (its inbound requests). */
  inboundEdges(nodeRef: number): number[] { return this.stmt.inbound.all(nodeRef).map((r) => r.id); }

  /**
   * Nodes by row id: as they are now, or with `during`, as they were over [from, to): the image of the version in
   * force at its end, the instances and addresses of every version in force during it (a restart inside the span
   * shows both containers, each in its state of then).
   */
  nodesByRef(refs: Iterable<number>, during?: { from: number; to: number }): Map<number, StoredNode> {
    const out = new Map<number, StoredNode>();
    const list = JSON.stringify([...refs]);
    for (const r of this.stmt.nodesByRef.all(list)) out.set(r.id, fromNodeRow(r));
    if (!during) return out;
    const byNode = new Map<number, VersionRow[]>();
    for (const v of this.stmt.versionsIn.all({ refs: list, ...during })) {
      const vs = byNode.get(v.node) ?? [];
      vs.push(v);
      byNode.set(v.node, vs);
    }
    for (const [ref, vs] of byNode) {
      const n = out.get(ref);
      if (!n) continue;
      const inSpan = vs.filter((v) => v.t < during.to);
      const used = inSpan.length ? inSpan : vs.slice(0, 1);
      const instances = new Map<string, Instance>();
      const ips = new Set<string>();
      for (const v of used) {
        for (const i of (v.instances ? JSON.parse(v.instances) : []) as Instance[]) { instances.delete(i.id); instances.set(i.id, i); }
        for (const ip of (v.ips ? JSON.parse(v.ips) : []) as string[]) ips.add(ip);
      }
      const last = used[used.length - 1];
      n.instances = [...instances.values()].slice(-MAX_INSTANCES);
      n.ips = [...ips];
      if (last.image !== null) n.image = last.image;
      else delete n.image;
    }
    return out;
  }

  /** Edges by row id; with `during`, each names the client instances of every version in force over [from, to), newest last. */
  edgesByRef(refs: Iterable<number>, during?: { from: number; to: number }): Map<number, StoredEdge> {
    const out = new Map<number, StoredEdge>();
    const list = JSON.stringify([...refs]);
    const rows = this.stmt.edgesByRef.all(list);
    const nodes = this.nodesByRef(new Set(rows.flatMap((r) => [r.source, r.target])));
    for (const r of rows) {
      const s = nodes.get(r.source), t = nodes.get(r.target);
      out.set(r.id, { ref: r.id, id: r.key, source: s?.id ?? `?${r.source}`, target: t?.id ?? `?${r.target}`, sourceRef: r.source, targetRef: r.target, port: r.port, protocol: r.protocol === 'dns' ? 'dns' : 'tcp', firstSeen: r.first_seen, lastSeen: r.last_seen });
    }
    if (!during) return out;
    for (const v of this.stmt.edgeVersionsIn.all({ refs: list, ...during })) {
      const e = out.get(v.edge);
      if (!e) continue;
      const names = (e.clientInstances ??= []);
      for (const n of JSON.parse(v.clients) as string[]) noteNewest(names, n, GRAPH_DEFAULTS.clientInstances);
    }
    return out;
  }

  /** Forgets nodes and edges last seen before `cutoff` (ms) that nothing refers to any more. */
  prune(cutoff: number): { edges: number; nodes: number } {
    const edges = this.stmt.pruneEdges.run(cutoff).changes;
    const nodes = this.stmt.pruneNodes.run(cutoff).changes;
    this.stmt.pruneVersions.run(cutoff); // a node's latest version stays: it held from then on
    this.stmt.pruneEdgeVersions.run(cutoff); // so does an edge's
    if (edges || nodes) {
      this.nodes.clear();
      this.edges.clear();
      this.loadClientSigs(); // a deleted edge's row id may be given to a new edge
      for (const r of this.db.prepare<[], NodeRow>('SELECT * FROM nodes').iterate()) this.nodes.set(r.key, { id: r.id, sig: signature(fromNodeRow(r)), seen: r.last_seen });
      for (const r of this.db.prepare<[], EdgeRow>('SELECT id, key, last_seen FROM edges').iterate()) this.edges.set(r.key, { id: r.id, seen: r.last_seen });
    }
    return { edges, nodes };
  }
}

/**
 * What makes a node's stored descriptor (and its version) change. A host process's instances count by what they
 * run, not by pid: a loop that runs the same command again and again (`curl` every second) is one program, and its
 * new pid every run wrote a version every bucket (review F: 50 rows in 520 s, about 7.6 MB a day per such name).
 */
function signature(n: NodeDesc): string {
  const instances = n.kind === 'process'
    ? [...new Set(n.instances.slice(-MAX_INSTANCES).map((i) => `${i.name}\u0000${i.command ?? ''}`))]
    : n.instances.slice(-MAX_INSTANCES);
  return JSON.stringify([n.kind, n.label, n.group, n.image ?? null, n.labels ?? {}, instances, n.ips.slice(0, 64), n.dns ?? null, n.vacant ?? null]);
}

/** An edge's client instances as stored: a host process by its name without its pid, once, newest last. */
function storedClients(clients: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of clients) noteNewest(out, clientProgram(c), GRAPH_DEFAULTS.clientInstances);
  return out;
}

/** What makes a version: the set of stored names, in any order. */
const clientsSig = (programs: readonly string[]) => JSON.stringify([...programs].sort());

/** A node known only by its id (its descriptor was not at hand): kind from the id's prefix. */
function placeholder(key: string): NodeDesc {
  const kind: NodeKind = key.startsWith('svc:') ? 'service' : key.startsWith('ctr:') ? 'container' : key.startsWith('ext:') ? 'external' : key.startsWith('client:') ? 'client' : 'process';
  return { id: key, kind, label: key.replace(/^[a-z]+:/, ''), group: null, instances: [], ips: [] };
}

function fromNodeRow(r: NodeRow): StoredNode {
  const n: StoredNode = {
    ref: r.id, id: r.key, kind: r.kind as NodeKind, label: r.label, group: r.grp,
    instances: r.instances ? JSON.parse(r.instances) : [], ips: r.ips ? JSON.parse(r.ips) : [],
    firstSeen: r.first_seen, lastSeen: r.last_seen,
  };
  if (r.image !== null) n.image = r.image;
  if (r.labels !== null) n.labels = JSON.parse(r.labels);
  if (r.dns) n.dns = JSON.parse(r.dns);
  if (r.vacant) n.vacant = JSON.parse(r.vacant);
  return n;
}
