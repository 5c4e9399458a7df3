// The live service map: connections correlated into edges between workloads,
// with health and rates, bounded in memory, and a change feed for deltas.
import type { ConnEvent } from '../events/types.js';
import type { AddressOwner, Owner, OwnerQuery } from '../identity/types.js';
import { Conn, ConnectionTable, type Side } from './connections.js';
import { addressNode, ownerNode, containerNode, OTHER_CLIENTS, OTHER_EXTERNAL, type NodeRef } from './naming.js';
import { RateWindow } from './window.js';
import { Distribution } from './stats.js';
import {
  FAILURE_REASONS, type EdgeDetail, type FailureSample, type GraphDelta, type GraphEdge, type GraphNode,
  type GraphSnapshot, type NodeDetail, type RemoteClient,
} from './types.js';
import { GRAPH_DEFAULTS, HISTOGRAM_BOUNDS } from '../config/defaults.js';

/** What the graph needs from the identity layer. */
export interface Identity {
  resolveOwner(q: OwnerQuery): Owner;
  resolveAddress(ip: string, port?: number): AddressOwner;
}

export interface GraphOptions {
  /** An idle edge (nothing open, nothing seen) leaves the live view after this long. */
  idleMs?: number;
  /** Beyond this many outside endpoints, new ones collapse into one aggregate node. */
  maxExternalNodes?: number;
  /** How long a connection waits for its other local end before it is placed on an edge. */
  pairGraceMs?: number;
}

export interface GraphFilter {
  /** Only edges seen within the last windowMs. */
  windowMs?: number;
  /** Only edges touching this Compose project / Kubernetes namespace. */
  group?: string;
  /** Kinds beyond containers and services to include; undefined = everything. */
  include?: Set<'external' | 'host' | 'clients'>;
  /** Fill GraphEdge.histograms (exporters). */
  histograms?: boolean;
}

export interface GraphCounters {
  connections: number;
  pending: number;
  expiredEdges: number;
  expiredNodes: number;
  collapsedEndpoints: number;
  proxiedConnections: number;
}

interface EdgeState {
  e: GraphEdge;
  window: RateWindow;
  rtt: Distribution;
  duration: Distribution;
  failures: FailureSample[];
  v: number;
}

interface NodeState { n: GraphNode; v: number }

const FAILURE_SAMPLES = 20;
const isDockerProxy = (o: Owner) => o.kind === 'process' && (o.comm === 'docker-proxy' || o.exe === 'docker-proxy');

export class LiveGraph {
  private readonly table = new ConnectionTable();
  private readonly nodes = new Map<string, NodeState>();
  private readonly edges = new Map<string, EdgeState>();
  private readonly clients = new Map<string, RemoteClient>();
  private readonly pending = new Set<Conn>();
  private readonly open = new Set<Conn>();
  private readonly tombstones: { id: string; kind: 'node' | 'edge'; v: number }[] = [];
  private version = 0;
  private externalCount = 0;
  readonly counters: GraphCounters = { connections: 0, pending: 0, expiredEdges: 0, expiredNodes: 0, collapsedEndpoints: 0, proxiedConnections: 0 };
  private readonly opts: Required<GraphOptions>;

  constructor(private readonly identity: Identity, opts: GraphOptions = {}) {
    this.opts = { ...GRAPH_DEFAULTS, ...opts };
  }

  get currentVersion(): number { return this.version; }

  ingest(events: ConnEvent[], now = Date.now()): void {
    for (const e of events) {
      const conn = this.table.apply(e);
      if (!conn) continue;
      if (conn.ignored) { if (conn.closedAt !== null) this.finish(conn); continue; } // a proxy hop: absorb its events until it ends
      if (conn.edgeId && conn.learntSincePlaced()) this.replace(conn, now);
      else if (conn.edgeId) this.account(conn, now);
      else if (this.ready(conn, now)) this.place(conn, now);
      else this.pending.add(conn);
    }
  }

  /** Places connections whose other end never came, and retires idle edges. Call a few times a second. */
  tick(now = Date.now()): void {
    for (const c of this.pending) {
      if (c.ignored || c.edgeId) { this.pending.delete(c); continue; }
      if (now - c.createdAt >= this.opts.pairGraceMs || c.closedAt !== null) this.place(c, now);
    }
    this.counters.pending = this.pending.size;
    this.expire(now);
  }

  /** Placed right away when both ends are known, when it is over, or when its peer is outside this host. */
  private ready(c: Conn, now: number): boolean {
    if (c.client && c.server) return true;
    if (c.closedAt !== null) return true;
    const s = (c.client ?? c.server)!;
    if (this.identity.resolveAddress(s.peerIp, s.peerPort).kind === 'external') return true;
    return now - c.createdAt >= this.opts.pairGraceMs;
  }

  private place(c: Conn, now: number): void {
    this.pending.delete(c);
    const ends = this.resolveEnds(c);
    if (!ends) {
      c.ignored = true;
      this.counters.proxiedConnections++;
      if (c.closedAt !== null) this.finish(c);
      return;
    }
    const [client, server, port] = ends;
    const cn = this.touchNode(client, now);
    const sn = this.touchNode(server, now);
    const id = `${cn.n.id}|${sn.n.id}|${port}|tcp`;
    let edge = this.edges.get(id);
    if (!edge) {
      edge = {
        e: {
          id, source: cn.n.id, target: sn.n.id, port, protocol: 'tcp',
          connections: { opened: 0, active: 0, closed: 0, failed: 0, failedBy: Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as GraphEdge['connections']['failedBy'] },
          bytes: { sent: 0, received: 0 }, rtt: { meanUs: 0, p95Us: 0, samples: 0 }, retransmits: 0,
          duration: { meanMs: 0, p95Ms: 0, samples: 0 }, firstSeen: now, lastSeen: now,
          rates: { '10s': zeroRates(), '1m': zeroRates() },
        },
        window: new RateWindow(), rtt: new Distribution(256, HISTOGRAM_BOUNDS.rttUs), duration: new Distribution(256, HISTOGRAM_BOUNDS.durationMs), failures: [], v: 0,
      };
      this.edges.set(id, edge);
    }
    if (!c.edgeId) this.counters.connections++;
    c.edgeId = id;
    c.placedWith = c.sides();
    c.placedClientPid = c.client?.pid ?? 0;
    c.placedServerPid = c.server?.pid ?? 0;
    if (cn.n.kind === 'client') this.countClient(c, cn.n.label, sn.n.id, port, now);
    this.account(c, now);
  }

  /**
   * The other end showed up after the connection was placed by address alone
   * (its peer looked external), or an end's process became known (accepted in
   * softirq): place it again with what is now known, moving what it counted
   * to the right edge if that changed.
   */
  private replace(c: Conn, now: number): void {
    const ends = this.resolveEnds(c);
    if (ends && `${ends[0].id}|${ends[1].id}|${ends[2]}|tcp` === c.edgeId) { // same edge: just remember what it knew
      c.placedWith = c.sides();
      c.placedClientPid = c.client?.pid ?? 0;
      c.placedServerPid = c.server?.pid ?? 0;
      this.account(c, now);
      return;
    }
    const old = this.edges.get(c.edgeId!);
    const k = c.counted;
    if (old) {
      const e = old.e;
      if (k.open) {
        e.connections.opened--;
        if (this.open.delete(c)) { e.connections.active--; this.nodeActive(e, -1); }
        if (k.close) e.connections.closed--;
      }
      if (k.failure && c.failure) { e.connections.failed--; e.connections.failedBy[c.failure]--; }
      e.bytes.sent -= k.sent; e.bytes.received -= k.received; e.retransmits -= k.retransmits;
      old.window.add(now, k.open ? -1 : 0, k.failure ? -1 : 0, -k.sent, -k.received);
      old.v = ++this.version;
      if (e.connections.opened === 0 && e.connections.failed === 0) this.dropEdge(c.edgeId!);
    }
    if (c.remoteClientIp) { const rc = this.clients.get(c.remoteClientIp); if (rc) rc.connections--; c.remoteClientIp = null; }
    c.counted = { open: false, close: false, failure: false, sent: 0, received: 0, retransmits: 0 };
    this.place(c, now);
  }

  private dropEdge(id: string): void {
    this.edges.delete(id);
    this.tombstones.push({ id, kind: 'edge', v: ++this.version });
  }

  /** client node, server node, server port; null for a proxy's own hop. */
  private resolveEnds(c: Conn): [NodeRef, NodeRef, number] | null {
    let client: NodeRef, server: NodeRef;
    let port = c.server ? c.server.localPort : c.client!.peerPort;
    if (c.client) {
      const o = this.identity.resolveOwner(query(c.client));
      if (isDockerProxy(o)) return null; // docker-proxy -> container: the hop behind a published port
      // A namespace with an address of its own that is neither this host's nor a
      // container's behaves as another host on the network: name it by address.
      client = o.kind !== 'container' && this.identity.resolveAddress(c.client.localIp).kind === 'external'
        ? this.outside(addressNode({ kind: 'external' }, c.client.localIp, 'client'))
        : ownerNode(o);
    } else {
      client = this.outside(addressNode(this.identity.resolveAddress(c.server!.peerIp), c.server!.peerIp, 'client'));
    }
    if (c.server) {
      const o = this.identity.resolveOwner(query(c.server));
      const published = isDockerProxy(o) ? this.identity.resolveAddress(c.server.localIp, c.server.localPort) : null;
      if (published?.kind === 'host' && published.published) {
        server = containerNode(published.published.container);
        port = published.published.containerPort;
      } else if (o.kind !== 'container' && this.identity.resolveAddress(c.server.localIp).kind === 'external') {
        server = this.outside(addressNode({ kind: 'external' }, c.server.localIp, 'server'));
      } else server = ownerNode(o);
    } else {
      const a = this.identity.resolveAddress(c.client!.peerIp, c.client!.peerPort);
      if (a.kind === 'host' && a.published) port = a.published.containerPort;
      server = this.outside(addressNode(a, c.client!.peerIp, 'server'));
    }
    return [client, server, port];
  }

  /** Caps outside endpoints: past the limit, new ones join an aggregate node. */
  private outside(ref: NodeRef): NodeRef {
    if (ref.kind !== 'external' && ref.kind !== 'client') return ref;
    if (this.nodes.has(ref.id)) return ref;
    if (this.externalCount >= this.opts.maxExternalNodes) {
      this.counters.collapsedEndpoints++;
      return ref.kind === 'client' ? OTHER_CLIENTS : OTHER_EXTERNAL;
    }
    return ref;
  }

  private touchNode(ref: NodeRef, now: number): NodeState {
    let s = this.nodes.get(ref.id);
    if (!s) {
      s = { n: { id: ref.id, kind: ref.kind, label: ref.label, group: ref.group, instances: [], ips: ref.kind === 'external' || ref.kind === 'client' ? [ref.label] : [], firstSeen: now, lastSeen: now, active: 0 }, v: 0 };
      if (ref.kind === 'external' || ref.kind === 'client') this.externalCount++;
      this.nodes.set(ref.id, s);
    }
    const n = s.n;
    n.lastSeen = now;
    if (ref.image) n.image = ref.image;
    if (ref.labels) n.labels = ref.labels;
    if (ref.instance) {
      const i = n.instances.findIndex((x) => x.id === ref.instance!.id);
      if (i < 0) {
        n.instances.push(ref.instance);
        // Host processes come and go (one per curl); keep the most recent few.
        if (n.kind === 'process' && n.instances.length > 16) n.instances.shift();
      }
      else n.instances[i] = { ...ref.instance, pids: [...new Set([...n.instances[i].pids, ...ref.instance.pids])].slice(-16) };
      for (const ip of ref.instance.ips) if (!n.ips.includes(ip)) n.ips.push(ip);
    }
    s.v = ++this.version;
    return s;
  }

  /** Moves a connection's news onto its edge: what moved since it was last counted. */
  private account(c: Conn, now: number): void {
    const edge = this.edges.get(c.edgeId!);
    if (!edge) return;
    const e = edge.e;
    const k = c.counted;
    let opened = 0, failed = 0, activeDelta = 0;
    if (c.established && !k.open) {
      k.open = true;
      e.connections.opened++;
      opened = 1;
      if (!c.closedAt) { e.connections.active++; activeDelta++; this.open.add(c); this.nodeActive(e, 1); }
    }
    const ds = Math.max(0, c.bytesSent() - k.sent), dr = Math.max(0, c.bytesReceived() - k.received);
    k.sent += ds; k.received += dr;
    e.bytes.sent += ds; e.bytes.received += dr;
    const rt = c.retransmits();
    if (rt > k.retransmits) { e.retransmits += rt - k.retransmits; k.retransmits = rt; }
    if (c.failure && !k.failure) {
      k.failure = true;
      failed = 1;
      e.connections.failed++;
      e.connections.failedBy[c.failure]++;
      const cl = c.client, sv = c.server;
      edge.failures.push({
        time: c.closedAt ?? now, reason: c.failure, error: c.error, clientPid: cl?.pid ?? 0, clientComm: cl?.comm ?? '',
        clientAddr: cl ? `${cl.localIp}:${cl.localPort}` : `${sv!.peerIp}:${sv!.peerPort}`,
        serverAddr: sv ? `${sv.localIp}:${sv.localPort}` : `${cl!.peerIp}:${cl!.peerPort}`,
      });
      if (edge.failures.length > FAILURE_SAMPLES) edge.failures.shift();
    }
    const rtt = c.srttUs();
    if (c.closedAt !== null && !k.close) {
      k.close = true;
      if (k.open) {
        e.connections.closed++;
        if (this.open.delete(c)) { e.connections.active--; activeDelta--; this.nodeActive(e, -1); }
        if (!c.midflight) edge.duration.add(c.closedAt - c.startTime);
      }
      if (rtt) edge.rtt.add(rtt);
      this.finish(c);
    }
    if (opened || failed || ds || dr) edge.window.add(now, opened, failed, ds, dr);
    const rc = c.remoteClientIp ? this.clients.get(c.remoteClientIp) : undefined;
    if (rc) {
      rc.bytesSent += ds; rc.bytesReceived += dr; rc.failed += failed; rc.lastSeen = now;
      rc.active += activeDelta;
    }
    e.lastSeen = now;
    edge.v = ++this.version;
  }

  private nodeActive(e: GraphEdge, d: number): void {
    for (const id of new Set([e.source, e.target])) {
      const n = this.nodes.get(id);
      if (n) { n.n.active += d; n.v = ++this.version; }
    }
  }

  private finish(c: Conn): void { this.table.remove(c); this.pending.delete(c); }

  private countClient(c: Conn, ip: string, target: string, port: number, now: number): void {
    if (ip === 'other clients') return;
    let rc = this.clients.get(ip);
    if (!rc) {
      if (this.clients.size >= this.opts.maxExternalNodes) { this.counters.collapsedEndpoints++; return; }
      rc = { ip, connections: 0, active: 0, failed: 0, bytesSent: 0, bytesReceived: 0, firstSeen: now, lastSeen: now, targets: [] };
      this.clients.set(ip, rc);
    }
    c.remoteClientIp = ip;
    rc.connections++;
    rc.lastSeen = now;
    const t = rc.targets.find((x) => x.node === target && x.port === port);
    if (t) t.connections++; else rc.targets.push({ node: target, port, connections: 1 });
  }

  private expire(now: number): void {
    const idle = this.opts.idleMs;
    const used = new Set<string>();
    for (const [id, s] of this.edges) {
      if (s.e.connections.active === 0 && now - s.e.lastSeen > idle) {
        this.dropEdge(id);
        this.counters.expiredEdges++;
      } else { used.add(s.e.source); used.add(s.e.target); }
    }
    for (const [id, s] of this.nodes) {
      if (!used.has(id) && now - s.n.lastSeen > idle) {
        this.nodes.delete(id);
        if (s.n.kind === 'external' || s.n.kind === 'client') this.externalCount--;
        this.tombstones.push({ id, kind: 'node', v: ++this.version });
        this.counters.expiredNodes++;
      }
    }
    for (const [ip, rc] of this.clients) if (now - rc.lastSeen > idle) this.clients.delete(ip);
    while (this.tombstones.length > 10_000) this.tombstones.shift(); // only streams far behind need old ones
  }

  /** Marks a node changed (identity update: a container stopped or was renamed). */
  refreshContainer(ref: NodeRef, now = Date.now()): void {
    if (this.nodes.has(ref.id)) this.touchNode(ref, now);
  }

  // ---- reading ----

  private edgeOut(s: EdgeState, now: number, histograms = false): GraphEdge {
    const e = s.e;
    e.rates = { '10s': s.window.rates(now, 10), '1m': s.window.rates(now, 60) };
    e.rtt = { meanUs: Math.round(s.rtt.mean()), p95Us: s.rtt.p95(), samples: s.rtt.count };
    e.duration = { meanMs: Math.round(s.duration.mean() * 10) / 10, p95Ms: Math.round(s.duration.p95() * 10) / 10, samples: s.duration.count };
    const out = structuredClone(e);
    if (histograms) out.histograms = { rttUs: s.rtt.histogram()!, durationMs: s.duration.histogram()! };
    return out;
  }

  private visible(f: GraphFilter, now: number): { nodes: Set<string>; edges: EdgeState[] } {
    const kindOk = (n: GraphNode | undefined) => {
      if (!n) return false;
      if (!f.include) return true;
      if (n.kind === 'external') return f.include.has('external');
      if (n.kind === 'client') return f.include.has('clients') || f.include.has('external');
      if (n.kind === 'process') return f.include.has('host');
      return true;
    };
    const edges: EdgeState[] = [];
    const nodes = new Set<string>();
    for (const s of this.edges.values()) {
      if (f.windowMs && now - s.e.lastSeen > f.windowMs && s.e.connections.active === 0) continue;
      const a = this.nodes.get(s.e.source)?.n, b = this.nodes.get(s.e.target)?.n;
      if (!kindOk(a) || !kindOk(b)) continue;
      if (f.group && a!.group !== f.group && b!.group !== f.group) continue;
      edges.push(s);
      nodes.add(a!.id);
      nodes.add(b!.id);
    }
    for (const s of this.nodes.values()) {
      if (nodes.has(s.n.id) || !kindOk(s.n)) continue;
      if (f.group && s.n.group !== f.group) continue;
      if (f.windowMs && now - s.n.lastSeen > f.windowMs) continue;
      nodes.add(s.n.id);
    }
    return { nodes, edges };
  }

  snapshot(f: GraphFilter = {}, now = Date.now()): GraphSnapshot {
    const v = this.visible(f, now);
    return {
      generatedAt: now,
      nodes: [...v.nodes].map((id) => structuredClone(this.nodes.get(id)!.n)),
      edges: v.edges.map((s) => this.edgeOut(s, now, f.histograms)),
    };
  }

  /** What changed after `since` (a version from a previous call); edges with recent traffic always, as their rates move. */
  changesSince(since: number, f: GraphFilter = {}, now = Date.now()): { delta: GraphDelta; version: number } {
    const v = this.visible(f, now);
    const delta: GraphDelta = { generatedAt: now, nodes: [], edges: [], removedNodes: [], removedEdges: [] };
    for (const id of v.nodes) { const s = this.nodes.get(id)!; if (s.v > since) delta.nodes.push(structuredClone(s.n)); }
    for (const s of v.edges) if (s.v > since || now - s.e.lastSeen < 61_000) delta.edges.push(this.edgeOut(s, now, f.histograms));
    for (const t of this.tombstones) {
      if (t.v <= since) continue;
      (t.kind === 'node' ? delta.removedNodes : delta.removedEdges).push(t.id);
    }
    return { delta, version: this.version };
  }

  edgeDetail(id: string, now = Date.now()): EdgeDetail | null {
    const s = this.edges.get(id);
    if (!s) return null;
    return { ...this.edgeOut(s, now), recentFailures: [...s.failures].reverse(), series: s.window.series(now) };
  }

  nodeDetail(id: string): NodeDetail | null {
    const s = this.nodes.get(id);
    if (!s) return null;
    const incoming: string[] = [], outgoing: string[] = [], fails: FailureSample[] = [];
    for (const e of this.edges.values()) {
      if (e.e.target === id) { incoming.push(e.e.id); fails.push(...e.failures); }
      if (e.e.source === id) { outgoing.push(e.e.id); fails.push(...e.failures); }
    }
    return { ...structuredClone(s.n), incoming, outgoing, recentFailures: fails.sort((a, b) => b.time - a.time).slice(0, FAILURE_SAMPLES) };
  }

  remoteClients(): RemoteClient[] {
    return [...this.clients.values()].map((c) => structuredClone(c)).sort((a, b) => b.connections - a.connections);
  }

  size(): { nodes: number; edges: number; connections: number; open: number } {
    return { nodes: this.nodes.size, edges: this.edges.size, connections: this.table.size, open: this.open.size };
  }
}

function query(s: Side): OwnerQuery { return { pid: s.pid, cgroupId: s.cgroupId, netns: s.netns, comm: s.comm }; }
function zeroRates() { return { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 }; }
