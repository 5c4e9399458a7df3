// The live service map: connections correlated into edges between workloads,
// with health and rates, bounded in memory. Placement decides where a
// connection goes (placement.ts); the views read the map (views.ts); the
// history store drains what happened per interval (interval.ts).
import type { ConnEvent, CounterUpdate, FailureReason } from '../events/types.js';
import { Conn, ConnectionTable, resetCounted, type ListeningSocket } from './connections.js';
import { instanceName, noteNewest, type AddressNames, type NodeRef } from './naming.js';
import { ResolverEdges, type HostUdpServers, resolverEdgeId } from './resolvers.js';
import type { DnsClient, DnsHealth } from '../dns/types.js';
import { Placement, EdgeIds, type Identity } from './placement.js';
import { GraphState, type EdgeState, type NodeState } from './state.js';
import { IntervalLog, type GraphInterval } from './interval.js';
import { RequestLedger, type RequestCounters } from './request-ledger.js';
import type { L7Delta, L7Sample } from '../l7/types.js';
import * as views from './views.js';
import { forEachEdge, type EdgeReading } from './readings.js';
import type { GraphFilter } from './filter.js';
import type { EdgeDetail, FailureSample, GraphDelta, GraphEdge, GraphSnapshot, Instance, NodeDetail, NodePort, RemoteClient } from './types.js';
import { GRAPH_DEFAULTS, L7_DEFAULTS } from '../config/defaults.js';
import { foldEdge, type FoldLimits } from './merge.js';
import { hostPort } from '../events/address.js';

export type { Identity } from './placement.js';
export type { GraphFilter } from './filter.js';
export type { EdgeReading } from './readings.js';

export interface GraphOptions {
  /** An idle edge (nothing open, nothing seen) leaves the live view after this long. */
  idleMs?: number;
  /** Beyond this many outside endpoints, new ones collapse into one aggregate node. */
  maxExternalNodes?: number;
  /** How long a connection waits for its other local end before it is placed on an edge. */
  pairGraceMs?: number;
  /** How often nodes' instances drop the pids of processes that exited. */
  pidSweepMs?: number;
}

export interface GraphCounters {
  connections: number;
  pending: number;
  expiredEdges: number;
  expiredNodes: number;
  collapsedEndpoints: number;
  proxiedConnections: number;
  /** Connections from remote clients past the list's cap (maxExternalNodes): counted, not listed. */
  foldedClientConnections: number;
  /** Nodes folded into the node they turned out to be (a container named late: mergeNode). */
  mergedNodes: number;
}

/** How late the agent may run behind the kernel's events before the wall clock decides alone. */
const LATE_MS = 2000;

/** Failure samples kept per interval for the history (it writes fewer; the rest are counted). */
const INTERVAL_FAILURE_SAMPLES = 100;
/** Request samples kept per interval for the history (it writes fewer, failed first; the rest are counted). */
const INTERVAL_REQUEST_SAMPLES = 100;
const FAILURE_SAMPLES = GRAPH_DEFAULTS.failureSamples;
/** Ports a node's detail lists at most (a process listening on thousands is cut). */
const MAX_NODE_PORTS = 64;

export class LiveGraph {
  private readonly table = new ConnectionTable();
  private readonly state = new GraphState();
  private readonly placement: Placement;
  /** Recent failures of docker-proxy hops by the edge they serve (noteHopFailure). */
  private readonly hopFailures = new Map<string, { reason: FailureReason; error: string | null; at: number }>();
  private readonly resolvers: ResolverEdges;
  private readonly edgeIds = new EdgeIds();
  /** Connections waiting to be placed (flagged on each; placed ones are dropped from the list lazily). */
  private pending: Conn[] = [];
  private openCount = 0;
  private lastExpire = -Infinity;
  private lastPidSweep = 0;
  /**
   * The latest event time seen. Whether a connection's other end had time to
   * show up is judged on the events' clock: when the agent runs late (a busy
   * host), the other end is already waiting in the next batch.
   */
  private eventClock = 0;
  readonly counters: GraphCounters = { connections: 0, pending: 0, expiredEdges: 0, expiredNodes: 0, collapsedEndpoints: 0, proxiedConnections: 0, foldedClientConnections: 0, mergedNodes: 0 };
  private readonly opts: Required<GraphOptions>;
  /** Requests (L7) per socket, onto the edges of their connections. */
  private readonly ledger: RequestLedger;

  constructor(private readonly identity: Identity, opts: GraphOptions = {}) {
    this.opts = { ...GRAPH_DEFAULTS, ...opts };
    this.placement = new Placement(identity, this.state, this.opts, this.counters);
    this.ledger = new RequestLedger(this.state, (cookie) => this.table.sideOf(cookie));
    this.resolvers = new ResolverEdges(identity, this.state, (r) => this.placement.outside(r));
  }

  /** Requests counted and requests that could not be put on the map. */
  get requestCounters(): RequestCounters { return this.ledger.counters; }

  /** Names outside servers (and lists names on local ones) from the DNS answers their clients received. */
  setNames(names: AddressNames | null): void { this.placement.names = names; }

  /**
   * Names a resolver on one of this host's addresses by the process serving UDP there (discovery/udp-servers.ts):
   * the pid, null if none, undefined while it is looked up.
   */
  setHostUdpServers(pidOf: HostUdpServers | null): void { this.resolvers.hostUdpServers = pidOf; }

  /** The DNS collector's client key: the client's node, resolved when its socket is first seen. */
  dnsClientKey(c: DnsClient): string { return this.resolvers.clientKey(c); }

  /** DNS health per client -> resolver pair (DnsCollector.resolverEdges()), as resolver edges; call about once a second. */
  updateDns(health: readonly DnsHealth[], now = Date.now()): void { this.resolvers.update(health, now); }

  get currentVersion(): number { return this.state.version; }

  /**
   * While start-up discovery reports what predates the agent, a connection it
   * found waits for its other end (listed anywhere in the walk) instead of
   * being placed alone after the usual grace.
   */
  set discovering(on: boolean) { this.table.discovering = on; }
  get discovering(): boolean { return this.table.discovering; }
  /** Remote clients listed at most by remoteClients(). */
  get clientLimit(): number { return this.opts.maxExternalNodes; }

  /** Connection lifecycle events (and sockets introduced by discovery or the counters read). */
  ingest(events: ConnEvent[], now = Date.now()): void {
    this.batching = true;
    try {
      for (const e of events) {
        // Only the kernel's own timestamps move it (counters reads and discovery carry the time they ran).
        if (e.time > this.eventClock && e.type !== 'traffic' && e.type !== 'existing') this.eventClock = e.time;
        const conn = this.table.apply(e);
        if (!conn) continue;
        // A close with its socket's last request counts: they join the socket before its connection is settled (and maybe finished).
        if (e.requests) this.ledger.closing(this.table.applied!, e.requests, now);
        this.settle(conn, now);
      }
      // Closed with one end known, and its other end's close was not in the batch after all: placed alone, as it is over.
      const list = this.closedWaiting;
      for (let i = 0; i < list.length; i++) {
        const c = list[i];
        if (c.pending && c.closedAt && !c.ignored && !c.edgeId) this.place(c, now);
      }
      list.length = 0;
      this.finishKept(now);
    } finally {
      this.batching = false;
    }
    this.ledger.applyBatch(now);
  }

  /**
   * Connections that closed in the batch being ingested with one end known. A server socket
   * that opened and closed between two drains comes as its close alone (the engine folds its
   * handshake away: decodeBatch), so a client's close that comes first waits for it, to the
   * end of the batch. A reused port cannot begin before its last connection closed, so the
   * server's close time serves as when it was established when the two ends are met.
   */
  private readonly closedWaiting: Conn[] = [];

  /**
   * Placed connections whose client closed in the batch being ingested while their server was unknown (placed
   * at the client's handshake because the server looked outside, or after the grace): kept in the table to its
   * end, as the server's close may follow in it (a server in a namespace of its own on this host, its handshake
   * folded away) and must meet its client, not start a second connection. Meanwhile they pair only with their
   * exact server (ConnectionTable.partner). A batch cut short by an error leaves them to the next tick.
   */
  private readonly finishAtBatchEnd: Conn[] = [];
  private batching = false;

  /** Counter updates of open sockets: what moved is added to their edges. */
  count(updates: CounterUpdate[], now = Date.now()): void {
    for (const u of updates) {
      const conn = this.table.count(u, now);
      if (conn?.edgeId) this.settle(conn, now); // unplaced ones are counted when placed
    }
    this.ledger.applyBatch(now); // requests of connections this finished
  }

  /** Per-socket request (L7) aggregates: onto the edge of each socket's connection. */
  requests(deltas: readonly L7Delta[], now = Date.now()): void { this.ledger.ingest(deltas, now); }

  /** No request counts will come (L7 capture is off): closed connections need not wait for them. */
  requestsOff(): void { this.ledger.enabled = false; }

  /** Samples of failed and slow requests: kept on their edges. */
  requestSamples(samples: readonly L7Sample[], now = Date.now()): void { this.ledger.samples(samples, now); }

  private settle(conn: Conn, now: number): void {
    if (conn.ignored) { if (conn.closedAt) this.finish(conn, now); return; } // a proxy hop: absorb its events until it ends
    if (conn.edgeId && conn.learntSincePlaced()) this.replace(conn, now);
    else if (conn.edgeId) this.account(conn, now);
    else if (this.heldForDiscovery(conn) || !(this.placement.ready(conn, now) || this.waitedEnough(conn, -Infinity))) {
      this.wait(conn);
      if (conn.closedAt) this.closedWaiting.push(conn);
    }
    else this.place(conn, now);
  }

  private wait(c: Conn): void {
    if (c.pending) return;
    c.pending = true;
    this.pending.push(c);
  }

  /** Its other end had its chance: the grace has passed on the events' clock, or (no events coming: `now`, the wall clock, from the timer) well past it. */
  private waitedEnough(c: Conn, now: number): boolean {
    const grace = this.opts.pairGraceMs;
    return this.eventClock - c.waitingSince >= grace || now - c.waitingSince >= grace + LATE_MS;
  }

  private heldForDiscovery(c: Conn): boolean {
    return this.discovering && c.discovered && !c.closedAt && !(c.client && c.server);
  }

  /** Places connections whose other end never came, and retires idle edges. Call a few times a second. */
  tick(now = Date.now()): void {
    this.finishKept(now); // none, unless a batch was cut short by an error
    let kept = 0;
    const list = this.pending;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (!c.pending) continue;
      if (c.ignored || c.edgeId) { c.pending = false; continue; }
      if (!this.heldForDiscovery(c) && (c.closedAt || this.waitedEnough(c, now))) { this.place(c, now); continue; }
      list[kept++] = c;
    }
    list.length = kept;
    this.counters.pending = kept;
    this.ledger.tick(now);
    this.ledger.applyBatch(now);
    // Expiry walks the whole map: once a second is plenty for idle times of minutes.
    if (now - this.lastExpire >= Math.min(1000, this.opts.idleMs / 2)) { this.lastExpire = now; this.expire(now); }
    if (now - this.lastPidSweep >= this.opts.pidSweepMs) { this.lastPidSweep = now; this.sweepPids(now); }
  }

  /**
   * Instances forget the pids of processes that exited: a restarted container listed its old pid beside its new one,
   * and a host server restarted (Postgres' postmaster) its old one. A host process's instance with none left is stopped.
   */
  private sweepPids(now: number): void {
    const running = this.identity.processRunning?.bind(this.identity);
    if (!running) return;
    for (const s of this.state.nodes.values()) {
      let changed = false;
      const instances = s.n.instances.map((inst) => {
        if (inst.state === 'stopped' || !inst.pids.length) return inst;
        const pids = inst.pids.filter((p) => running(p) !== false);
        if (pids.length === inst.pids.length) return inst;
        changed = true;
        const host = inst.id.startsWith('pid:');
        // A host process's instance keeps its pid, which names it ("curl (pid 812)"): it is stopped instead.
        return host ? { ...inst, state: 'stopped' as const, stoppedAt: now } : { ...inst, pids };
      });
      if (changed) { s.n.instances = instances; s.v = this.state.bump(); }
    }
  }

  private place(c: Conn, now: number): void {
    c.pending = false;
    const ends = this.placement.ends(c, now);
    if (!ends) {
      c.ignored = true;
      this.counters.proxiedConnections++;
      this.noteHopFailure(c, now);
      if (c.closedAt) this.finish(c, now);
      return;
    }
    const cn = this.state.touchNode(ends.client, now);
    const sn = this.state.touchNode(ends.server, now);
    const id = this.edgeIds.get(cn.n.id, sn.n.id, ends.port);
    const s = this.state.edge(id, cn.n.id, sn.n.id, ends.port, now);
    if (ends.client.instance && s.lastClientInstance !== ends.client.instance.id) noteClientInstance(s, ends.client.instance);
    if (!c.edgeId) this.counters.connections++;
    c.edgeId = id;
    c.placedWith = c.sides();
    c.placedClientPid = c.client?.pid ?? 0;
    c.placedServerPid = c.server?.pid ?? 0;
    c.serverRef = ends.server;
    c.serverPort = ends.port;
    if (cn.n.kind === 'client') this.countClient(c, cn.n.label, sn.n.id, ends.port, now);
    this.account(c, now);
    this.ledger.placed(c, now);
  }

  /**
   * The other end showed up after the connection was placed by address alone
   * (its peer looked external), or an end's process became known (accepted in
   * softirq): place it again with what is now known, moving what it counted
   * to the right edge if that changed.
   */
  private replace(c: Conn, now: number): void {
    const ends = this.placement.ends(c, now);
    if (ends && this.edgeIds.get(ends.client.id, ends.server.id, ends.port) === c.edgeId) { // same edge: just remember what it knew
      c.placedWith = c.sides();
      c.placedClientPid = c.client?.pid ?? 0;
      c.placedServerPid = c.server?.pid ?? 0;
      c.serverRef = ends.server;
      c.serverPort = ends.port;
      this.account(c, now);
      return;
    }
    this.ledger.moving(c, now);
    const old = this.state.edges.get(c.edgeId!);
    if (old) this.unaccount(c, old, now);
    if (c.remoteClientIp) { const rc = this.state.clients.get(c.remoteClientIp); if (rc) rc.connections--; c.remoteClientIp = null; }
    resetCounted(c.counted);
    this.place(c, now);
  }

  /** Takes a connection's numbers back off an edge (it moves to another one). */
  private unaccount(c: Conn, s: EdgeState, now: number): void {
    const e = s.e, k = c.counted, iv = s.counts;
    if (k.open) {
      if (k.opened) { e.connections.opened--; if (iv.opened > 0) iv.opened--; }
      if (c.open) { c.open = false; this.openCount--; e.connections.active--; this.nodeActive(e, -1); }
      if (k.close) { e.connections.closed--; if (iv.closed > 0) iv.closed--; }
    }
    if (k.failure) this.takeBackFailure(s, k.failure, k.failureSample);
    e.bytes.sent -= k.sent; e.bytes.received -= k.received; e.retransmits -= k.retransmits;
    // The interval keeps what was drained before: only this interval's share can be taken back.
    iv.sent = Math.max(0, iv.sent - k.sent); iv.received = Math.max(0, iv.received - k.received); iv.retransmits = Math.max(0, iv.retransmits - k.retransmits);
    if (k.rttUs) iv.rtt.remove(k.rttUs);
    if (k.durationMs >= 0) iv.duration.remove(k.durationMs);
    s.window.add(now, k.opened ? -1 : 0, k.failure ? -1 : 0, -k.sent, -k.received, -k.retransmits);
    s.v = this.state.bump();
    const n = e.connections;
    if (n.opened === 0 && n.failed === 0 && n.active === 0 && n.closed === 0) this.state.dropEdge(e.id);
  }

  /**
   * docker-proxy's own connect to the container failed (nothing listens behind a published port, or it is down): the
   * hop is left off the map, so its reason is kept a moment for the connection from the client it then resets.
   */
  private noteHopFailure(c: Conn, now: number): void {
    if (!c.failure || c.failure === 'reset') return;
    const edge = this.placement.hopEdge(c);
    if (!edge) return;
    if (this.hopFailures.size >= HOP_FAILURES_MAX) this.hopFailures.clear();
    this.hopFailures.set(edge, { reason: c.failure, error: c.error, at: c.closedAt || now });
  }

  /** A published port's client reset by docker-proxy right after its hop failed fails for the hop's reason (refused, not reset). */
  private hopReason(c: Conn, e: GraphEdge): void {
    if (c.failure !== 'reset' || !this.hopFailures.size) return;
    const hop = this.hopFailures.get(`${e.target}|${e.port}`);
    if (!hop || Math.abs((c.closedAt || hop.at) - hop.at) > GRAPH_DEFAULTS.proxyHopFailureMs) return;
    c.failure = hop.reason;
    c.error = hop.error ? `${hop.error} (docker-proxy's connect to the container)` : c.error;
  }

  /** Takes a counted failure back off an edge: its counts, its sample in the recent list and in the interval. */
  private takeBackFailure(s: EdgeState, reason: FailureReason, sample: FailureSample | null): void {
    const e = s.e, iv = s.counts;
    e.connections.failed--; e.connections.failedBy[reason]--;
    if (iv.failed > 0) { iv.failed--; iv.failedBy[reason]--; }
    const i = sample ? s.failures.indexOf(sample) : -1;
    if (i >= 0) s.failures.splice(i, 1);
    this.state.log?.failureRemoved(sample);
  }

  /** Moves a connection's news onto its edge: what moved since it was last counted. */
  private account(c: Conn, now: number): void {
    const s = this.state.edges.get(c.edgeId!);
    if (!s) return;
    const e = s.e, iv = s.counts, k = c.counted;
    let opened = 0, failed = 0, activeDelta = 0;
    if (c.established && !k.open) {
      k.open = true;
      // One that predates the agent (found at start, or met midway) is active, not opened: a restart must not count it again.
      if (!c.midflight) { k.opened = true; e.connections.opened++; iv.opened++; opened = 1; }
      if (!c.closedAt) { e.connections.active++; activeDelta++; c.open = true; this.openCount++; this.nodeActive(e, 1); }
    }
    const ds = Math.max(0, c.bytesSent() - k.sent), dr = Math.max(0, c.bytesReceived() - k.received);
    k.sent += ds; k.received += dr;
    e.bytes.sent += ds; e.bytes.received += dr;
    iv.sent += ds; iv.received += dr;
    const rt = c.retransmits();
    let drt = 0;
    if (rt > k.retransmits) { drt = rt - k.retransmits; e.retransmits += drt; iv.retransmits += drt; k.retransmits = rt; }
    if (!c.failure && k.failure) { // its client's close said the server end's reset was no failure
      this.takeBackFailure(s, k.failure, k.failureSample);
      k.failure = null; k.failureSample = null;
      failed = -1; // out of the rates below, as it went in
    }
    if (c.failure && !k.failure) {
      this.hopReason(c, e);
      k.failure = c.failure;
      failed = 1;
      e.connections.failed++;
      e.connections.failedBy[c.failure]++;
      iv.failed++;
      iv.failedBy[c.failure]++;
      const cl = c.client, sv = c.server;
      const sample = {
        time: c.closedAt || now, reason: c.failure, error: c.error, clientPid: cl?.pid ?? 0, clientComm: cl?.comm ?? '',
        clientAddr: cl ? hostPort(cl.localIp, cl.localPort) : hostPort(sv!.peerIp, sv!.peerPort),
        serverAddr: sv ? hostPort(sv.localIp, sv.localPort) : hostPort(cl!.peerIp, cl!.peerPort),
      };
      k.failureSample = sample;
      s.failures.push(sample);
      if (s.failures.length > FAILURE_SAMPLES) s.failures.shift();
      this.state.log?.failure(e, sample);
    }
    if (c.closedAt && !k.close) {
      k.close = true;
      if (k.open) {
        e.connections.closed++;
        iv.closed++;
        if (c.open) { c.open = false; this.openCount--; e.connections.active--; activeDelta--; this.nodeActive(e, -1); }
        if (!c.midflight) {
          const d = c.closedAt - c.startTime;
          s.duration.add(d);
          iv.duration.add(d);
          k.durationMs = d;
        }
      }
      const rtt = c.srttUs();
      if (rtt) { s.rtt.add(rtt); iv.rtt.add(rtt); k.rttUs = rtt; }
      if (this.batching && c.established && !c.server) { c.finishDeferred = true; this.finishAtBatchEnd.push(c); }
      else this.finish(c, now);
    }
    if (opened || failed || ds || dr || drt) s.window.add(now, opened, failed, ds, dr, drt);
    const rc = c.remoteClientIp ? this.state.clients.get(c.remoteClientIp) : undefined;
    if (rc) {
      rc.bytesSent += ds; rc.bytesReceived += dr; rc.failed += failed; rc.lastSeen = now;
      rc.active += activeDelta;
    }
    if (now > e.lastSeen) { // once per edge and batch: its events share the batch's time
      this.state.seen(e.source, now);
      this.state.seen(e.target, now);
    }
    e.lastSeen = now;
    s.v = this.state.bump();
  }

  private nodeActive(e: GraphEdge, d: number): void {
    const a = this.state.nodes.get(e.source);
    if (a) { a.n.active += d; a.v = this.state.bump(); }
    if (e.target === e.source) return;
    const b = this.state.nodes.get(e.target);
    if (b) { b.n.active += d; b.v = this.state.bump(); }
  }

  /** Finishes the connections kept to the end of the batch (finishAtBatchEnd) that are still unfinished. */
  private finishKept(now: number): void {
    const done = this.finishAtBatchEnd;
    for (let i = 0; i < done.length; i++) if (done[i].finishDeferred) this.finish(done[i], now);
    done.length = 0;
  }

  private finish(c: Conn, now: number): void { c.finishDeferred = false; this.ledger.finished(c, now); this.table.remove(c); c.pending = false; }

  /** A connection from a client past the list's cap: counted once, even if it is placed again. */
  private fold(c: Conn): void {
    if (!c.folded) { c.folded = true; this.counters.foldedClientConnections++; }
  }

  private countClient(c: Conn, ip: string, target: string, port: number, now: number): void {
    if (ip === 'other clients') { this.fold(c); return; }
    let rc = this.state.clients.get(ip);
    if (!rc) {
      if (this.state.clients.size >= this.opts.maxExternalNodes) { this.counters.collapsedEndpoints++; this.fold(c); return; }
      rc = { ip, connections: 0, active: 0, failed: 0, bytesSent: 0, bytesReceived: 0, firstSeen: now, lastSeen: now, targets: [] };
      this.state.clients.set(ip, rc);
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
    for (const [id, s] of this.state.edges) {
      if (s.e.connections.active === 0 && now - s.e.lastSeen > idle) {
        this.state.dropEdge(id);
        this.counters.expiredEdges++;
      } else { used.add(s.e.source); used.add(s.e.target); }
    }
    for (const [id, s] of this.state.nodes) {
      if (!used.has(id) && now - s.n.lastSeen > idle) {
        this.state.dropNode(id);
        this.counters.expiredNodes++;
      }
    }
    for (const [ip, rc] of this.state.clients) if (now - rc.lastSeen > idle) this.state.clients.delete(ip);
  }

  /**
   * A container first named from its cgroup path alone (node `fromId`: Docker was not followed yet, or its inspect
   * was not back) is now known by name: its node is folded into the named one, with its edges, their numbers and
   * interval counts, its open connections and what they counted of requests. So are outside nodes that are only its
   * addresses (`also`: connections seen from their client alone, placed by address then) and first seen since it
   * started, when the address was its. Without this, connections placed before the naming kept a second node for
   * the same container for as long as they lived. Called between batches.
   */
  mergeNode(fromId: string, to: NodeRef, now = Date.now(), also?: { addresses: readonly string[]; since: number }): void {
    const from = [fromId, ...(also ? this.addressNodes(also.addresses, also.since) : [])].filter((id) => id !== to.id && this.state.nodes.has(id));
    if (!from.length) return;
    this.ledger.applyBatch(now);
    const target = this.state.touchNode(to, now);
    const moved = new Map<string, string>();
    for (const id of from) this.foldNode(id, to.id, target, moved, now);
    target.v = this.state.bump();
    if (moved.size) {
      for (const [k, v] of moved) { let end = v; while (moved.has(end)) end = moved.get(end)!; moved.set(k, end); } // an edge folded twice
      const conns: Conn[] = [];
      this.table.forEachConn((c) => { if (c.edgeId && moved.has(c.edgeId)) { c.edgeId = moved.get(c.edgeId)!; conns.push(c); } });
      this.ledger.edgesMoved(moved, conns);
      this.resolvers.edgesMoved(moved);
      for (const rc of this.state.clients.values()) for (const id of from) foldTargets(rc.targets, id, to.id);
    }
    for (const id of from) this.state.dropNode(id);
    this.counters.mergedNodes += from.length;
  }

  /** Outside nodes named only by these addresses (or by a name the client resolved for them), first seen since `since`. */
  private addressNodes(addresses: readonly string[], since: number): string[] {
    const out: string[] = [];
    for (const [id, s] of this.state.nodes) {
      const n = s.n;
      if (n.kind === 'external' && n.firstSeen >= since && n.ips.length && n.ips.every((ip) => addresses.includes(ip))) out.push(id);
    }
    return out;
  }

  /** Folds node `fromId`'s edges into `toId`'s (mergeNode), old edge id to new in `moved`. */
  private foldNode(fromId: string, toId: string, target: NodeState, moved: Map<string, string>, now: number): void {
    for (const [id, s] of [...this.state.edges]) {
      const e = s.e;
      if (e.source !== fromId && e.target !== fromId) continue;
      const src = e.source === fromId ? toId : e.source, dst = e.target === fromId ? toId : e.target;
      const newId = e.protocol === 'dns' ? resolverEdgeId(src, dst, e.port) : this.edgeIds.get(src, dst, e.port);
      const into = this.state.edge(newId, src, dst, e.port, e.firstSeen, e.protocol);
      foldEdge(into, s, now, FOLD_LIMITS);
      // Its open connections counted on both its ends; now the target is one of them (once, for a loop).
      if (e.source !== toId && e.target !== toId) target.n.active += e.connections.active;
      this.state.log?.samplesMoved(id, into.e);
      s.counts.reset(); // they went with it: the history must not have them twice
      this.state.dropEdge(id);
      into.v = this.state.bump();
      moved.set(id, newId);
    }
  }

  /**
   * A container was renamed and its node is named by it (`ctr:<name>`): under the old name it is gone from now on,
   * so that node does not count it as running, nor take it for a new container that gets the old name later.
   */
  containerRenamed(oldNodeId: string, containerId: string, newName: string, now = Date.now()): void {
    const s = this.state.nodes.get(oldNodeId);
    const i = s ? s.n.instances.findIndex((x) => x.id === containerId) : -1;
    if (!s || i < 0) return;
    s.n.instances[i] = { ...s.n.instances[i], state: 'stopped', stoppedAt: now, renamedTo: newName };
    s.v = this.state.bump();
  }

  /** Marks a node changed (identity update: a container stopped or was renamed). */
  refreshContainer(ref: NodeRef, now = Date.now()): void {
    if (this.state.nodes.has(ref.id)) this.state.touchNode(ref, now);
  }

  // ---- reading ----

  snapshot(f: GraphFilter = {}, now = Date.now()): GraphSnapshot { return views.snapshot(this.state, f, now); }

  /** What changed after `since` (a version from a previous call); edges with recent traffic always, as their rates move. */
  changesSince(since: number, f: GraphFilter = {}, now = Date.now()): { delta: GraphDelta; version: number } {
    return views.changesSince(this.state, since, f, now);
  }

  edgeDetail(id: string, now = Date.now()): EdgeDetail | null { return views.edgeDetail(this.state, id, now); }

  nodeDetail(id: string, now = Date.now()): NodeDetail | null {
    const d = views.nodeDetail(this.state, id, now);
    if (!d || (d.kind !== 'service' && d.kind !== 'container' && d.kind !== 'process')) return d;
    const ports = this.listeningPorts(id);
    if (ports.length) d.listening = ports;
    return d;
  }

  /** The ports a node listens on now, with their published bindings (a detail: read on request, not per event). */
  private listeningPorts(id: string): NodePort[] {
    const byPort = new Map<number, Set<string>>();
    for (const l of this.table.listening()) {
      const owner = this.placement.listenerNode(l);
      if (owner?.id !== id) continue;
      const published = byPort.get(l.port) ?? new Set<string>();
      for (const p of owner.container?.ports ?? []) if (p.protocol === 'tcp' && p.containerPort === l.port) published.add(hostPort(p.hostIp, p.hostPort));
      byPort.set(l.port, published);
      if (byPort.size >= MAX_NODE_PORTS) break;
    }
    return [...byPort].sort(([a], [b]) => a - b).map(([port, published]) => ({ port, published: [...published].sort() }));
  }

  remoteClients(): RemoteClient[] { return views.remoteClients(this.state); }

  /** Listening sockets known now, with their owner's pid (0: unknown): servers that need no connection to exist. */
  listening(): ListeningSocket[] { return this.table.listening(); }

  /** Exporters: every edge's numbers read in place, no copies (readings.ts). */
  forEachEdge(fn: (r: EdgeReading) => void, now = Date.now()): void { forEachEdge(this.state, now, fn); }

  size(): { nodes: number; edges: number; connections: number; open: number } {
    return { nodes: this.state.nodes.size, edges: this.state.edges.size, connections: this.table.size, open: this.openCount };
  }

  // ---- history ----

  /**
   * Starts keeping what the history store drains (idempotent). What is on the
   * map already counts as new, and counts since the agent started go into the
   * first interval.
   */
  startIntervals(): void {
    if (this.state.log) return;
    this.state.log = new IntervalLog(INTERVAL_FAILURE_SAMPLES, INTERVAL_REQUEST_SAMPLES);
    for (const id of this.state.nodes.keys()) this.state.log.nodeAdded(id);
    for (const id of this.state.edges.keys()) this.state.log.edgeAdded(id);
  }

  /** Everything since the previous call: per-edge sums and counts, topology changes, failure samples. */
  drainInterval(now = Date.now()): GraphInterval {
    this.startIntervals();
    return this.state.log!.drain(now, this.state.edges, (id) => this.state.nodes.get(id)?.n);
  }
}

/** Failed docker-proxy hops remembered at once (each for GRAPH_DEFAULTS.proxyHopFailureMs). */
const HOP_FAILURES_MAX = 1024;

const FOLD_LIMITS: FoldLimits = { failureSamples: FAILURE_SAMPLES, requestSamples: L7_DEFAULTS.edgeSamples, clientInstances: GRAPH_DEFAULTS.clientInstances };

/** A remote client's targets with one node folded into another. */
function foldTargets(targets: RemoteClient['targets'], from: string, to: string): void {
  for (let i = targets.length - 1; i >= 0; i--) {
    const t = targets[i];
    if (t.node !== from) continue;
    const same = targets.find((u) => u.node === to && u.port === t.port);
    if (same) { same.connections += t.connections; targets.splice(i, 1); } else t.node = to;
  }
}

/** Puts the instance that made a connection last in its edge's list (its name, with the pid for a host process). */
function noteClientInstance(s: EdgeState, inst: Instance): void {
  s.lastClientInstance = inst.id;
  const name = instanceName(inst);
  s.counts.clientsChanged = true;
  noteNewest((s.e.clientInstances ??= []), name, GRAPH_DEFAULTS.clientInstances);
}
