// Who serves and who owns which address on this host, as metrics another host's
// agent or the hub can join against: `dhrishti_listen_info` (every server
// address, IP:port, published ports included, with its owner) and
// `dhrishti_address_info` (every address a node here uses, so a remote
// client's IP can be named too) and `dhrishti_name_info` (the addresses behind
// an outside server this host's clients know by a DNS name, since its edges
// then name the server by that name, not by an address).
import type { ConnEvent } from '../events/types.js';
import { isDockerProxy, type ContainerInfo, type Owner, type OwnerQuery } from '../identity/types.js';
import { containerNode, ownerNode, type NodeRef } from '../graph/naming.js';
import { HostAddresses, isLoopback, isUnspecified } from '../identity/addresses.js';
import { EXPORT_DEFAULTS } from '../config/defaults.js';
import type { Family, Labels, ScalarSeries } from './families.js';
import type { GraphNode } from '../graph/types.js';

export interface ListenIdentity {
  resolveOwner(q: OwnerQuery): Owner;
  containers(): ContainerInfo[];
}

interface Listener { ip: string; port: number; family: 4 | 6; owner: Owner }

const reachable = (ip: string) => !isLoopback(ip) && !isUnspecified(ip) && !ip.toLowerCase().startsWith('fe80:');

export interface ListenOptions {
  host: string;
  /** Host processes and this host's own addresses are in view (false for an agent scoped to some cgroups). */
  includeHost: boolean;
  /** Containers in view (all, unless scoped). */
  ownsContainer?: (c: ContainerInfo) => boolean;
  hostAddresses?: HostAddresses;
  maxRows?: number;
}

export class ListenTable {
  private readonly listeners = new Map<string, Listener>();
  private readonly addrs: HostAddresses;
  private readonly max: number;
  /** Rows left out past the cap. */
  dropped = 0;

  constructor(private readonly identity: ListenIdentity, private readonly o: ListenOptions) {
    this.addrs = o.hostAddresses ?? new HostAddresses();
    this.max = o.maxRows ?? EXPORT_DEFAULTS.maxListenRows;
  }

  /** Feed with the (scoped) event batches the graph gets. */
  ingest(events: ConnEvent[]): void {
    for (const e of events) {
      if (e.type !== 'listen' && e.type !== 'listen_close') continue;
      const key = `${e.netns}|${e.saddr}|${e.sport}`;
      if (e.type === 'listen_close') { this.listeners.delete(key); continue; }
      if (this.listeners.size >= this.max * 2 && !this.listeners.has(key)) { this.dropped++; continue; }
      this.listeners.set(key, { ip: e.saddr, port: e.sport, family: e.family, owner: this.identity.resolveOwner({ pid: e.pid, cgroupId: e.cgroupId, netns: e.netns, comm: e.comm }) });
    }
  }

  private hostIps(family: 4 | 6 | null): string[] {
    return this.addrs.list().filter((ip) => reachable(ip) && (family === null || (family === 4) === !ip.includes(':')));
  }

  private inView(c: ContainerInfo): boolean {
    return c.state === 'running' && (this.o.ownsContainer?.(c) ?? true);
  }

  /**
   * The same label set as at the last refresh is the same object: the exposition keeps a label set's
   * text and chunk by object, so a new one every refresh would make new text and chunks every scrape.
   */
  private keptLabels = new Map<string, Labels>();
  private labelsNow = new Map<string, Labels>();
  private labels(l: Labels): Labels {
    const k = Object.values(l).join('\u0000');
    const kept = this.keptLabels.get(k) ?? this.labelsNow.get(k) ?? l;
    this.labelsNow.set(k, kept);
    return kept;
  }

  families(): Family[] {
    const host = this.o.host;
    const listen: ScalarSeries[] = [], address: ScalarSeries[] = [];
    const seen = new Set<string>();
    const add = (ip: string, port: number, n: NodeRef, published: string, containerPort: number) => {
      const k = `${ip}|${port}`;
      if (seen.has(k)) return;
      if (listen.length >= this.max) { this.dropped++; return; }
      seen.add(k);
      listen.push({ labels: this.labels({ host, ip, port: String(port), name: n.label, group: n.group ?? '', kind: n.kind, published, container_port: containerPort ? String(containerPort) : '' }), value: 1 });
    };
    for (const l of this.listeners.values()) {
      const o = l.owner;
      if (isDockerProxy(o)) continue; // its ports are listed as the containers' published ones below
      if (o.kind === 'container' && !this.inView(o.container)) continue;
      if (o.kind !== 'container' && !this.o.includeHost) continue;
      // Named only when it has a row: most listeners on a host are on loopback, and naming makes objects every refresh.
      if (!isUnspecified(l.ip)) {
        if (reachable(l.ip)) add(l.ip, l.port, ownerNode(o), '', 0);
        continue;
      }
      const ips = o.kind === 'container' ? containerIps(o.container, l.ip === '::' ? null : 4) : this.hostIps(l.ip === '::' ? null : 4);
      let n: NodeRef | undefined;
      for (const ip of ips) if (reachable(ip)) add(ip, l.port, (n ??= ownerNode(o)), '', 0);
    }
    const containers = this.identity.containers().filter((c) => this.inView(c));
    for (const c of containers) {
      const n = containerNode(c);
      for (const p of c.ports) {
        if (p.protocol !== 'tcp' || !p.hostPort) continue;
        const ips = isUnspecified(p.hostIp) ? this.hostIps(p.hostIp === '::' ? 6 : 4) : [p.hostIp];
        for (const ip of ips) if (reachable(ip)) add(ip, p.hostPort, n, 'docker', p.containerPort);
      }
      for (const ip of containerIps(c, null)) address.push({ labels: this.labels({ host, ip, name: n.label, group: n.group ?? '', kind: n.kind }), value: 1 });
    }
    if (this.o.includeHost) for (const ip of this.hostIps(null)) address.push({ labels: this.labels({ host, ip, name: 'host', group: 'host', kind: 'process' }), value: 1 });
    // Only this refresh's label sets are kept for the next one.
    this.keptLabels = this.labelsNow;
    this.labelsNow = new Map();
    return [
      { type: 'gauge', name: 'dhrishti_listen_info', help: 'A server address on this host (ip, port) and its owner; published="docker" for a container port published on the host', unit: '1', series: listen },
      { type: 'gauge', name: 'dhrishti_address_info', help: 'An address a node on this host uses, so a remote peer can name it', unit: '1', series: address.slice(0, this.max) },
    ];
  }
}

function containerIps(c: ContainerInfo, family: 4 | null): string[] {
  return c.networks.flatMap((n) => (family === 4 ? [n.ipv4] : [n.ipv4, n.ipv6])).filter((x): x is string => !!x);
}

/**
 * Outside servers named by the DNS answers their clients here received, with the addresses behind each name
 * (`dhrishti_name_info`): fed with the servers of the edges read for a refresh, so only names on the map are listed.
 */
export class NameTable {
  private names = new Map<string, readonly string[]>();
  /** One label set object per (name, address) while it is listed: the exposition keeps a label set's text by object. */
  private kept = new Map<string, Labels>();
  /** Rows left out past the cap. */
  dropped = 0;

  constructor(private readonly host: string, private readonly max = EXPORT_DEFAULTS.maxListenRows) {}

  /** A server of an edge read for this refresh. */
  note(n: Readonly<GraphNode> | undefined): void {
    if (n?.kind === 'external' && n.dns && n.ips.length) this.names.set(n.label, n.ips);
  }

  families(): Family[] {
    const series: ScalarSeries[] = [];
    const now = new Map<string, Labels>();
    for (const [name, ips] of this.names) {
      for (const ip of ips) {
        if (series.length >= this.max) { this.dropped++; continue; }
        const k = `${name}\u0000${ip}`;
        const labels = this.kept.get(k) ?? { host: this.host, dns_name: name, ip }; // not `name`: a range query drops __name__, and the hub tells the families apart by their labels
        now.set(k, labels);
        series.push({ labels, value: 1 });
      }
    }
    this.kept = now;
    this.names = new Map();
    return [{ type: 'gauge', name: 'dhrishti_name_info', help: 'An address behind the DNS name by which clients on this host reach an outside server (its edges\' server label)', unit: '1', series }];
  }
}
