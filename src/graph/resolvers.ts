// Resolver edges: each client's DNS queries to its resolver, drawn as an edge
// (protocol 'dns') from the client's node to the resolver's: Docker's embedded
// DNS, a resolver container, a process on the host (named by the UDP socket it
// serves from), or a server outside. Fed about once a
// second with the DNS collector's health per client -> resolver pair: what
// moved since the last feed is added to the edge (queries as its connections),
// its rates and the history's interval, so a failing edge turns red like a
// failing TCP edge does, and its panel lists the names that failed.
import type { DnsClient, DnsHealth } from '../dns/types.js';
import type { EdgeDns } from './types.js';
import { addressNode, containerNode, ownerNode, DOCKER_DNS, HOST_RESOLVER, type NodeRef } from './naming.js';
import type { Identity } from './placement.js';
import { isDockerProxy } from '../identity/types.js';
import { isLoopback } from '../identity/addresses.js';
import type { EdgeState, GraphState } from './state.js';
import { DnsIntervalCounts } from './interval.js';
import { DNS_DEFAULTS, GRAPH_DEFAULTS } from '../config/defaults.js';

/** What the edge already counted of one client -> resolver pair. */
interface Seen {
  edgeId: string;
  lastSeen: number;
  queries: number; answered: number; failures: number;
  nxdomain: number; servfail: number; refused: number; otherErrors: number; timeouts: number;
  latencyCount: number; latencySumMs: number; buckets: number[];
  failing: Map<string, number>;
  /** The pair's latest health, for the edge's merged view. */
  health: DnsHealth;
}

const ZERO: Omit<Seen, 'edgeId' | 'health' | 'failing' | 'buckets' | 'lastSeen'> = {
  queries: 0, answered: 0, failures: 0, nxdomain: 0, servfail: 0, refused: 0, otherErrors: 0, timeouts: 0, latencyCount: 0, latencySumMs: 0,
};

export const resolverEdgeId = (client: string, resolver: string, port: number) => `${client}|${resolver}|${port}|dns`;

/**
 * Docker's embedded resolver asks upstream servers from dockerd itself, inside
 * the container's namespace: those queries leave from the Docker DNS node, not
 * from the container.
 */
const isDockerd = (comm: string) => comm === 'dockerd';

/**
 * The process serving UDP on a host address and port, asked by a client in network namespace `netns` (a loopback
 * address is the host's only from the host's): its pid, null if none, undefined while it is looked up.
 */
export type HostUdpServers = (ip: string, port: number, netns: number) => number | null | undefined;

/** Client nodes remembered by key (the health table keys pairs by them). */
const CLIENT_REFS = 4096;

export class ResolverEdges {
  /** By client key and resolver address: what the edge has counted. */
  private readonly seen = new Map<string, Seen>();
  /** Pairs not drawn yet while their ends are named: when this map first heard of each. */
  private readonly waiting = new Map<string, number>();
  /** Client nodes as they were when their queries were made (a short-lived container is gone a second later). */
  private readonly clients = new Map<string, NodeRef>();
  /** Names a resolver on this host by its process (systemd-resolved, dnsmasq); without it, HOST_RESOLVER stands for all. */
  hostUdpServers: HostUdpServers | null = null;
  /** The last resolver on this host named (most hosts have one). */
  private hostResolverRef: { pid: number; version: number; ref: NodeRef | null } | null = null;

  constructor(
    private readonly identity: Identity,
    private readonly state: GraphState,
    /** Caps outside nodes (Placement's rule). */
    private readonly outside: (ref: NodeRef) => NodeRef,
  ) {}

  /** Takes the collector's health list (DnsCollector.resolverEdges()). */
  update(list: readonly DnsHealth[], now: number): void {
    const changed = new Set<EdgeState>();
    const live = new Set<string>();
    for (const h of list) {
      const key = `${h.clientKey}|${h.resolver.address}|${h.resolver.port}`;
      live.add(key);
      let p = this.seen.get(key);
      if (p && p.lastSeen === h.lastSeen && p.queries === h.queries && p.failures === h.failures && this.state.edges.has(p.edgeId)) {
        p.health = h;
        continue;
      }
      // A pair evicted and seen again starts from nothing.
      if (p && h.queries < p.queries) { this.seen.delete(key); p = undefined; }
      const ends = this.ends(h);
      if (!ends) continue; // docker-proxy's relaying
      // Drawn once Docker names the container (a short-lived one is often gone before the inspect) and the resolver on
      // this host its process, or after a grace without. The grace runs from the pair's first query, or from when this
      // map first heard of it if later: a pair whose first query timed out is told of after the DNS timeout, when its
      // resolver's lookup has only begun.
      if (ends.provisional && !p) {
        let since = this.waiting.get(key);
        if (since === undefined) this.waiting.set(key, since = now);
        if (now - Math.max(h.firstSeen, since) < GRAPH_DEFAULTS.dnsClientNameGraceMs) continue;
      }
      this.waiting.delete(key);
      const id = resolverEdgeId(ends.client.id, ends.resolver.id, ends.port);
      if (p && p.edgeId !== id) { // its resolver is named otherwise now: the edge it leaves shows its other pairs only
        const left = this.state.edges.get(p.edgeId);
        if (left) changed.add(left);
      }
      const cn = this.state.touchNode(ends.client, now);
      const rn = this.state.touchNode(ends.resolver, now);
      const s = this.state.edge(id, cn.n.id, rn.n.id, ends.port, now, 'dns');
      const prev: Seen = p ?? { ...ZERO, edgeId: id, lastSeen: 0, buckets: [], failing: new Map(), health: h };
      this.account(s, prev, h, now);
      this.seen.set(key, { ...countsOf(h), edgeId: id, lastSeen: h.lastSeen, health: h });
      changed.add(s);
    }
    for (const k of this.seen.keys()) if (!live.has(k)) this.seen.delete(k); // evicted by the collector
    for (const k of this.waiting.keys()) if (!live.has(k)) this.waiting.delete(k);
    if (!changed.size) return;
    const byEdge = new Map<string, DnsHealth[]>();
    for (const p of this.seen.values()) {
      const l = byEdge.get(p.edgeId);
      if (l) l.push(p.health); else byEdge.set(p.edgeId, [p.health]);
    }
    for (const s of changed) if (s.e.dns) mergeView(s.e.dns, byEdge.get(s.e.id) ?? []);
  }

  /** Resolver edges folded into others (LiveGraph.mergeNode), old id to new: their pairs follow, and the views are merged again. */
  edgesMoved(moved: ReadonlyMap<string, string>): void {
    const touched = new Set<string>();
    for (const p of this.seen.values()) {
      const to = moved.get(p.edgeId);
      if (to) { p.edgeId = to; touched.add(to); }
    }
    for (const id of touched) {
      const s = this.state.edges.get(id);
      if (s?.e.dns) mergeView(s.e.dns, [...this.seen.values()].filter((p) => p.edgeId === id).map((p) => p.health));
    }
  }

  /**
   * The node a DNS client is (the DNS collector's client key, asked when a
   * client object is first seen: once per process, address and resolver): its
   * health is kept per node, and the node is the one it was then.
   */
  clientKey(c: DnsClient): string {
    const { ref, provisional, relay } = this.clientNode(c);
    // A container known so far only by its cgroup (Docker has not told its name yet) is asked again at each update.
    if (!provisional && !relay) this.pin(ref.id, ref);
    return ref.id;
  }

  private pin(key: string, ref: NodeRef): void {
    this.clients.delete(key);
    this.clients.set(key, ref);
    if (this.clients.size > CLIENT_REFS) this.clients.delete(this.clients.keys().next().value!);
  }

  /** `relay`: docker-proxy passing on queries to a published port, a hop the map leaves out (as for TCP): its client's edge goes to the container. */
  private clientNode(c: DnsClient): { ref: NodeRef; provisional: boolean; relay: boolean } {
    if (isDockerd(c.comm)) return { ref: DOCKER_DNS, provisional: false, relay: false };
    const owner = this.identity.resolveOwner({ pid: c.pid, cgroupId: c.cgroupId, netns: c.netns, comm: c.comm });
    return { ref: ownerNode(owner), provisional: owner.kind === 'container' && owner.container.source === 'cgroup', relay: isDockerProxy(owner) };
  }

  /**
   * The client's node, its resolver's and the resolver's port; provisional while a container is not named yet, or a
   * resolver on this host's process is being looked up. A container's resolver published on a host port is that
   * container, on its own port (as a TCP edge through a published port): docker-proxy only relays, and its own
   * queries (the relayed ones) are no edge: null.
   */
  private ends(h: DnsHealth): { client: NodeRef; resolver: NodeRef; port: number; provisional: boolean } | null {
    let client = this.clients.get(h.clientKey), provisional = false;
    if (!client) {
      let relay: boolean;
      ({ ref: client, provisional, relay } = this.clientNode(h.client));
      if (relay) return null;
      if (!provisional) this.pin(h.clientKey, client); // named now: kept as it is, even once the container is gone
    }
    const r = h.resolver;
    let resolver = DOCKER_DNS, port = r.port;
    if (!r.dockerEmbedded) {
      const a = this.identity.resolveAddress(r.address, r.port, 'udp');
      if (a.kind !== 'host') resolver = this.outside(addressNode(a, r.address, 'server'));
      else {
        // The process holding the socket answers, unless it is docker-proxy relaying a publication: then the container
        // does. (A 0.0.0.0:53/udp publication without the userland proxy leaves 127.0.0.53's resolver answering.)
        const pid = this.hostUdpServers?.(r.address, r.port, h.client.netns);
        if (pid === undefined && this.hostUdpServers) provisional = true;
        const held = pid ? this.hostResolver(pid) : null;
        if (held) resolver = held;
        else if (a.published) { resolver = containerNode(a.published.container); port = a.published.containerPort; }
        // A loopback address asked from a container's own namespace (pid null: not the host's) is that container's:
        // Docker's DNS forwarding to a resolver configured at 127.0.0.1 inside it, where nothing may listen.
        else resolver = (pid === null && isLoopback(r.address) && this.namespaceNode(h.client.netns)) || HOST_RESOLVER;
      }
    }
    return { client, resolver, port, provisional };
  }

  /** The container whose network namespace this is, as a node; null for the host's and unknown ones. */
  private namespaceNode(netns: number): NodeRef | null {
    if (!netns) return null;
    const o = this.identity.resolveOwner({ pid: 0, cgroupId: 0, netns });
    return o.kind === 'container' ? containerNode(o.container) : null;
  }

  /**
   * The process serving DNS on this host, as its own node: the same one its upstream queries and TCP connections come
   * from (a resolver container on the host's network is that container). Made once per pid while identity holds.
   */
  private hostResolver(pid: number): NodeRef | null {
    const v = this.identity.version ?? 0;
    if (this.hostResolverRef?.pid === pid && this.hostResolverRef.version === v) return this.hostResolverRef.ref;
    const owner = this.identity.resolveOwner({ pid, cgroupId: 0, netns: 0 });
    // a pid gone before it was read has no name; docker-proxy only relays: neither names the resolver
    const ref = !owner.comm || isDockerProxy(owner) ? null : ownerNode(owner);
    this.hostResolverRef = { pid, version: v, ref };
    return ref;
  }

  /** Adds what moved since `p` to the edge, its rates and its interval. */
  private account(s: EdgeState, p: Seen, h: DnsHealth, now: number): void {
    const e = s.e, iv = s.counts, c = e.connections;
    const dq = h.queries - p.queries, da = h.answered - p.answered, df = h.failures - p.failures;
    c.opened += dq;
    c.closed += da;
    c.failed = Math.max(0, c.failed + df); // an NXDOMAIN found to be a search-list expansion is taken back
    iv.opened += dq;
    iv.closed += da;
    iv.failed = Math.max(0, iv.failed + df);
    e.lastSeen = Math.max(e.lastSeen, Math.round(h.lastSeen)); // a DNS time is fractional (from boot ns); the API gives whole ms
    s.window.add(now, dq, Math.max(0, df), 0, 0, 0);
    const d = (iv.dns ??= new DnsIntervalCounts());
    d.nxdomain = Math.max(0, d.nxdomain + h.nxdomain - p.nxdomain);
    d.servfail += h.servfail - p.servfail;
    d.refused += h.refused - p.refused;
    d.otherErrors += h.otherErrors - p.otherErrors;
    d.timeouts += h.timeouts - p.timeouts;
    const l = h.latency;
    d.latencyCount += l.count - p.latencyCount;
    d.latencySumMs += l.sumMs - p.latencySumMs;
    if (l.maxMs !== null && l.maxMs > d.latencyMaxMs) d.latencyMaxMs = l.maxMs;
    for (let i = 0; i < l.buckets.length && i < d.buckets.length; i++) d.buckets[i] += l.buckets[i] - (p.buckets[i] ?? 0);
    for (const f of h.failingNames) {
      const n = f.count - (p.failing.get(f.name) ?? 0);
      if (n > 0) d.failed(f.name, n, f.reason, f.lastSeen);
    }
    const t = (e.dns ??= emptyDns());
    t.queries += dq; t.answered += da; t.failures = Math.max(0, t.failures + df);
    t.nxdomain = Math.max(0, t.nxdomain + h.nxdomain - p.nxdomain); t.servfail += h.servfail - p.servfail; t.refused += h.refused - p.refused;
    t.otherErrors += h.otherErrors - p.otherErrors; t.timeouts += h.timeouts - p.timeouts;
    t.noerror = Math.max(0, t.answered - t.nxdomain - t.servfail - t.refused - t.otherErrors);
    s.v = this.state.bump();
  }
}

function countsOf(h: DnsHealth): Omit<Seen, 'edgeId' | 'health' | 'lastSeen'> {
  return {
    queries: h.queries, answered: h.answered, failures: h.failures, nxdomain: h.nxdomain, servfail: h.servfail, refused: h.refused,
    otherErrors: h.otherErrors, timeouts: h.timeouts, latencyCount: h.latency.count, latencySumMs: h.latency.sumMs, buckets: h.latency.buckets,
    failing: new Map(h.failingNames.map((f) => [f.name, f.count])),
  };
}

export function emptyDns(): EdgeDns {
  return {
    resolvers: [], queries: 0, answered: 0, noerror: 0, nxdomain: 0, servfail: 0, refused: 0, otherErrors: 0, timeouts: 0, failures: 0,
    queriesPerSec: 0, latency: { p50Ms: null, p95Ms: null, maxMs: null }, failingNames: [],
  };
}

/** The parts of an edge's DNS block that are views of its pairs' health: resolvers, latency, failing names. */
function mergeView(t: EdgeDns, hs: DnsHealth[]): void {
  const resolvers = new Map<string, EdgeDns['resolvers'][number]>();
  const failing = new Map<string, EdgeDns['failingNames'][number]>();
  let lat: DnsHealth['latency'] | null = null;
  for (const h of hs) {
    const r = h.resolver;
    resolvers.set(`${r.address}|${r.port}`, { address: r.address, port: r.port, dockerEmbedded: r.dockerEmbedded });
    // Several pairs on one edge (a client asking two addresses of one resolver): the busiest one's latency.
    if (h.latency.count && (!lat || h.latency.count > lat.count)) lat = h.latency;
    for (const f of h.failingNames) {
      const o = failing.get(f.name);
      if (!o) failing.set(f.name, { ...f });
      else { o.count += f.count; if (f.lastSeen > o.lastSeen) { o.lastSeen = f.lastSeen; o.reason = f.reason; } }
    }
  }
  t.resolvers = [...resolvers.values()];
  t.latency = lat ? { p50Ms: lat.p50Ms, p95Ms: lat.p95Ms, maxMs: lat.maxMs } : { p50Ms: null, p95Ms: null, maxMs: null };
  t.failingNames = [...failing.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen).slice(0, DNS_DEFAULTS.topFailingNames);
}
