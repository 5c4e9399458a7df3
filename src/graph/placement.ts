// Where a connection goes on the map: which node each end is (its owner, or
// its address when the end is not on this host), the docker-proxy rule for
// published ports, and the cap on outside nodes.
import type { AddressOwner, Owner, OwnerQuery } from '../identity/types.js';
import { isDockerProxy } from '../identity/types.js';
import type { Conn, Side } from './connections.js';
import { addressNode, ownerNode, containerNode, namedExternalNode, OTHER_CLIENTS, OTHER_EXTERNAL, type AddressNames, type NodeRef } from './naming.js';
import type { GraphState } from './state.js';

/** What the graph needs from the identity layer. */
export interface Identity {
  resolveOwner(q: OwnerQuery): Owner;
  resolveAddress(ip: string, port?: number): AddressOwner;
}

export interface Ends { client: NodeRef; server: NodeRef; port: number }

export const edgeId = (client: string, server: string, port: number) => `${client}|${server}|${port}|tcp`;

export class Placement {
  /** Names from the DNS answers clients received (set when DNS capture runs). */
  names: AddressNames | null = null;

  constructor(
    private readonly identity: Identity,
    private readonly state: GraphState,
    private readonly opts: { maxExternalNodes: number; pairGraceMs: number },
    private readonly counters: { collapsedEndpoints: number },
  ) {}

  /** Placed right away when both ends are known, when it is over, or when its peer is outside this host; else after the grace. */
  ready(c: Conn, now: number): boolean {
    if (c.client && c.server) return true;
    if (c.closedAt !== null) return true;
    const s = (c.client ?? c.server)!;
    if (this.identity.resolveAddress(s.peerIp, s.peerPort).kind === 'external') return true;
    return now - c.createdAt >= this.opts.pairGraceMs;
  }

  /** Client node, server node and server port; null for a proxy's own hop. */
  ends(c: Conn): Ends | null {
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
        server = this.outside(this.named(addressNode({ kind: 'external' }, c.server.localIp, 'server'), c.client));
      } else server = this.named(ownerNode(o), c.client);
    } else {
      const a = this.identity.resolveAddress(c.client!.peerIp, c.client!.peerPort);
      if (a.kind === 'host' && a.published) port = a.published.containerPort;
      server = this.outside(this.named(addressNode(a, c.client!.peerIp, 'server'), c.client));
    }
    return { client, server, port };
  }

  /**
   * The name the client resolved for the address it connected to: an external
   * server becomes a node named by it; a local node (a container reached through
   * Docker's embedded DNS) stays itself and lists the name.
   */
  private named(ref: NodeRef, client: Side | null | undefined): NodeRef {
    // Loopback is this host's own traffic, the bulk of it on a busy host: DNS names outside servers, not it.
    if (!this.names || !client || isLoopback(client.peerIp)) return ref;
    const name = this.names.nameFor(client.netns, client.peerIp, { pid: client.pid, cgroupId: client.cgroupId, at: client.startTime ?? undefined });
    if (!name) return ref;
    return ref.kind === 'external' ? namedExternalNode(client.peerIp, name) : { ...ref, dns: name };
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

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

function query(s: Side): OwnerQuery { return { pid: s.pid, cgroupId: s.cgroupId, netns: s.netns, comm: s.comm }; }
