// Where a connection goes on the map: which node each end is (its owner, or
// its address when the end is not on this host), the docker-proxy rule for
// published ports, and the cap on outside nodes.
import type { AddressOwner, ContainerInfo, Owner, OwnerQuery } from '../identity/types.js';
import { isDockerProxy } from '../identity/types.js';
import type { Conn, Listener, Side } from './connections.js';
import { addressNode, ownerNode, containerNode, namedExternalNode, OTHER_CLIENTS, OTHER_EXTERNAL, type AddressNames, type NodeRef } from './naming.js';
import type { GraphState } from './state.js';
import { DOCKER_EMBEDDED_DNS } from '../config/defaults.js';
import { isLoopback } from '../identity/addresses.js';

/** What the graph needs from the identity layer. */
export interface Identity {
  resolveOwner(q: OwnerQuery): Owner;
  /** Who owns an address; with a port, also the container publishing it on this host (TCP unless told). */
  resolveAddress(ip: string, port?: number, protocol?: 'tcp' | 'udp'): AddressOwner;
  /** Grows whenever an answer may have changed; without it, answers are taken as fixed. */
  readonly version?: number;
  /** False when no process runs as pid any more (or the pid names another process now); undefined when it cannot say. */
  processRunning?(pid: number): boolean | undefined;
}

/** Owners and outside addresses are looked up once and remembered this long (or until the identity's version moves). */
const CACHE_MS = 10_000;
const CACHE_MAX = 16_384;

/**
 * An end's owner as last resolved, and its node. Not keyed by comm: a
 * process's threads carry their own names (the node is named by executable
 * or unit; the comm only names what has neither).
 */
interface OwnerEntry { cgroupId: number; netns: number; owner: Owner; ref: NodeRef }

export interface Ends { client: NodeRef; server: NodeRef; port: number }

export const edgeId = (client: string, server: string, port: number) => `${client}|${server}|${port}|tcp`;

/**
 * Edge ids by their parts, so placing a connection on a known edge builds no
 * string (node ids are the same string objects each time: their hashes are cached).
 */
export class EdgeIds {
  private ids = new Map<string, Map<string, Map<number, string>>>();
  private count = 0;

  get(client: string, server: string, port: number): string {
    let a = this.ids.get(client);
    if (!a) { a = new Map(); this.ids.set(client, a); }
    let b = a.get(server);
    if (!b) { b = new Map(); a.set(server, b); }
    let id = b.get(port);
    if (id === undefined) {
      if (this.count >= 65_536) { this.ids.clear(); this.count = 0; } // bounded; rebuilt as edges are met again
      id = edgeId(client, server, port);
      b.set(port, id);
      this.count++;
    }
    return id;
  }
}

export class Placement {
  /** By pid (or, without one, by cgroup id): identity lookups happen once per process, not per connection. */
  private owners = new Map<number, OwnerEntry>();
  /** Whether an address is outside this host and its containers. */
  private outsideIps = new Map<string, boolean>();
  private cachedVersion = -1;
  private cachedEpoch = -1;
  /** Names from the DNS answers clients received (set when DNS capture runs). */
  names: AddressNames | null = null;

  constructor(
    private readonly identity: Identity,
    private readonly state: GraphState,
    private readonly opts: { maxExternalNodes: number },
    private readonly counters: { collapsedEndpoints: number },
  ) {}

  /** Drops cached answers when the identity layer changed, and every CACHE_MS (a process's facts, pid reuse). */
  private fresh(now: number): void {
    const v = this.identity.version ?? 0, epoch = Math.floor(now / CACHE_MS);
    if (v === this.cachedVersion && epoch === this.cachedEpoch) return;
    this.owners.clear();
    this.outsideIps.clear();
    this.cachedVersion = v;
    this.cachedEpoch = epoch;
  }

  private owner(s: Side): OwnerEntry {
    const key = s.pid > 0 ? s.pid : -1 - s.cgroupId;
    let e = this.owners.get(key);
    if (e && e.cgroupId === s.cgroupId && e.netns === s.netns) return e;
    const owner = this.identity.resolveOwner(query(s));
    e = { cgroupId: s.cgroupId, netns: s.netns, owner, ref: ownerNode(owner) };
    if (this.owners.size >= CACHE_MAX) this.owners.clear();
    this.owners.set(key, e);
    return e;
  }

  private isOutside(ip: string): boolean {
    let v = this.outsideIps.get(ip);
    if (v === undefined) {
      v = this.identity.resolveAddress(ip).kind === 'external';
      if (this.outsideIps.size >= CACHE_MAX) this.outsideIps.clear();
      this.outsideIps.set(ip, v);
    }
    return v;
  }

  /**
   * Placed right away when both ends are known, when it ended unestablished, or when its peer is outside
   * this host; else the graph waits a grace for the other end (one that closed, to the end of its batch).
   */
  ready(c: Conn, now: number): boolean {
    if (c.client && c.server) return true;
    // Over before it was established (refused, timed out): no other end will come. One that was established
    // waits to the end of its batch, even with an outside peer (a client in a namespace of its own on this
    // host looks outside): its other end's close may follow in the same batch (the handshakes folded away).
    if (c.closedAt) return !c.established;
    this.fresh(now);
    return this.isOutside((c.client ?? c.server)!.peerIp);
  }

  /** What ends() returns: one object, overwritten by each call (one connection placed per call, a thousand a second). */
  private readonly found: Ends = { client: OTHER_CLIENTS, server: OTHER_EXTERNAL, port: 0 };

  /** Client node, server node and server port, valid until the next call; null for a proxy's own hop. */
  ends(c: Conn, now: number): Ends | null {
    this.fresh(now);
    let client: NodeRef, server: NodeRef;
    let port = c.server ? c.server.localPort : c.client!.peerPort;
    if (c.client) {
      const { owner: o, ref } = this.owner(c.client);
      if (isDockerProxy(o)) return null; // docker-proxy -> container: the hop behind a published port
      // A namespace with an address of its own that is neither this host's nor a
      // container's behaves as another host on the network: name it by address.
      client = o.kind !== 'container' && this.isOutside(c.client.localIp)
        ? this.outside(addressNode({ kind: 'external' }, c.client.localIp, 'client'))
        : ref;
    } else {
      client = this.outside(addressNode(this.identity.resolveAddress(c.server!.peerIp), c.server!.peerIp, 'client'));
    }
    if (c.server) {
      const { owner: o, ref } = this.owner(c.server);
      const published = isDockerProxy(o) ? this.identity.resolveAddress(c.server.localIp, c.server.localPort) : null;
      if (published?.kind === 'host' && published.published) {
        server = containerNode(published.published.container);
        port = published.published.containerPort;
      } else if (o.kind !== 'container' && this.isOutside(c.server.localIp)) {
        server = this.outside(this.named(addressNode({ kind: 'external' }, c.server.localIp, 'server'), c.client));
      } else server = this.named(ref, c.client);
    } else {
      const a = this.identity.resolveAddress(c.client!.peerIp, c.client!.peerPort);
      if (a.kind === 'host' && a.published) port = a.published.containerPort;
      server = this.outside(this.named(addressNode(a, c.client!.peerIp, 'server'), c.client));
    }
    const f = this.found;
    f.client = client; f.server = server; f.port = port;
    return f;
  }

  /**
   * The node a listening socket belongs to, and the container behind it (for its published ports); null for one whose
   * owner is not known, for docker-proxy's (a published port is its container's), and for Docker's embedded DNS
   * (dockerd's, in each container's namespace: the map's one `Docker DNS` node).
   */
  listenerNode(l: Listener): { id: string; container: ContainerInfo | null } | null {
    if (l.ip === DOCKER_EMBEDDED_DNS) return null;
    const o = this.identity.resolveOwner({ pid: l.pid, cgroupId: l.cgroupId, netns: l.netns, comm: l.comm });
    if (o.kind === 'unknown' || isDockerProxy(o)) return null;
    return { id: ownerNode(o).id, container: o.kind === 'container' ? o.container : null };
  }

  /**
   * The edge a docker-proxy hop (docker-proxy -> container, left off the map) serves: `<container node>|<port>`, as the
   * edge from the client of the published port reads; null if its target is no container.
   */
  hopEdge(c: Conn): string | null {
    if (!c.client) return null;
    const a = this.identity.resolveAddress(c.client.peerIp);
    return a.kind === 'container' ? `${containerNode(a.container).id}|${c.client.peerPort}` : null;
  }

  /**
   * The name the client resolved for the address it connected to: an external
   * server becomes a node named by it; a local node (a container reached through
   * Docker's embedded DNS) stays itself and lists the name.
   */
  private named(ref: NodeRef, client: Side | null | undefined): NodeRef {
    // Loopback is this host's own traffic, the bulk of it on a busy host: DNS names outside servers, not it.
    if (!this.names || !client || isLoopback(client.peerIp)) return ref;
    const name = this.names.nameFor(client.netns, client.peerIp, { pid: client.pid, cgroupId: client.cgroupId, at: client.startTime || undefined });
    if (!name) return ref;
    if (ref.kind !== 'external') return { ...ref, dns: name };
    const named = namedExternalNode(client.peerIp, name);
    if (ref.vacant) { named.vacant = ref.vacant; named.group = ref.group; }
    return named;
  }

  /** Caps outside endpoints: past the limit, new ones join an aggregate node. */
  outside(ref: NodeRef): NodeRef {
    if (ref.kind !== 'external' && ref.kind !== 'client') return ref;
    if (this.state.nodes.has(ref.id)) return ref;
    if (this.state.externalCount >= this.opts.maxExternalNodes) {
      this.counters.collapsedEndpoints++;
      return ref.kind === 'client' ? OTHER_CLIENTS : OTHER_EXTERNAL;
    }
    return ref;
  }
}

function query(s: Side): OwnerQuery { return { pid: s.pid, cgroupId: s.cgroupId, netns: s.netns, comm: s.comm }; }
