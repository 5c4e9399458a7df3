// The subnets of the container networks on this host, learnt from the
// containers Docker told of (a network's subnet is each member's address and
// prefix length). An address inside one that no container holds is a vacant
// address: a client calling it calls a container that is gone.
import net from 'node:net';
import type { ContainerInfo } from './types.js';

/** Answers kept between rebuilds: the same few outside addresses are asked about for every connection. */
const CACHE_MAX = 4096;

/** The project a container belongs to: its Compose project or Kubernetes namespace (its node's group), else null. */
export function projectOf(c: ContainerInfo): string | null {
  return c.compose?.project ?? c.kubernetes?.namespace ?? null;
}

export class ContainerSubnets {
  private nets: { name: string; list: net.BlockList }[] = [];
  /** Per network, the one project all its containers belong to (null: none, or several). */
  private projects = new Map<string, string | null>();
  private readonly cache = new Map<string, string | null>();

  /** Relearns the subnets from every container known, running or not (a stopped one's network is still there). */
  rebuild(containers: Iterable<ContainerInfo>): void {
    const byName = new Map<string, { list: net.BlockList; seen: Set<string> }>();
    const projects = new Map<string, Set<string | null>>();
    for (const c of containers) {
      for (const n of c.networks) {
        const p = projects.get(n.name) ?? new Set();
        p.add(projectOf(c));
        projects.set(n.name, p);
        const add = (ip: string | null, len: number | undefined, type: 'ipv4' | 'ipv6') => {
          if (!ip || !len) return;
          const key = `${type}/${ip}/${len}`;
          let e = byName.get(n.name);
          if (!e) byName.set(n.name, e = { list: new net.BlockList(), seen: new Set() });
          if (e.seen.has(key)) return;
          e.seen.add(key);
          try { e.list.addSubnet(ip, len, type); } catch { /* an address the daemon gave that is not one */ }
        };
        add(n.ipv4, n.ipv4PrefixLen, 'ipv4');
        add(n.ipv6, n.ipv6PrefixLen, 'ipv6');
      }
    }
    this.nets = [...byName].map(([name, e]) => ({ name, list: e.list }));
    this.projects = new Map([...projects].map(([name, p]) => [name, p.size === 1 ? [...p][0] : null]));
    this.cache.clear();
  }

  /** The one project every container on a network belongs to (a Compose project's own network), else null. */
  projectOfNetwork(network: string): string | null {
    return this.projects.get(network) ?? null;
  }

  /** The container network whose subnet holds ip (canonical form), or null. */
  networkOf(ip: string): string | null {
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const type = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
    let found: string | null = null;
    if (type) for (const n of this.nets) if (n.list.check(ip, type)) { found = n.name; break; }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(ip, found);
    return found;
  }
}
