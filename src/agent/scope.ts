// Scoping: the agent reports only sockets owned by cgroups under given paths, or
// living in given network namespaces (a tenant's slice, or one of several
// "hosts" sharing a kernel). Applied where events enter the graph; addresses of
// containers outside the scope then look external, as another host's would.
import type { ConnEvent } from '../events/types.js';
import type { AddressOwner, ContainerInfo } from '../identity/types.js';
import type { Identity } from '../graph/live-graph.js';
import { CgroupIndex } from '../identity/cgroups.js';

export interface ScopeOptions {
  /** cgroup v2 paths (relative to the cgroup2 mount, e.g. `/tenant-a` or `/kubepods.slice`): sockets of cgroups at or under one. */
  cgroups?: string[];
  /** Network namespace inodes (`readlink /proc/<pid>/ns/net`): sockets inside one. */
  netns?: number[];
}

/** Normalises a cgroup path option: leading slash, no trailing one; errors for anything else. */
export function parseCgroupPath(v: string): string {
  const s = v.trim();
  if (!s.startsWith('/') || s.includes('\0') || s.split('/').some((p) => p === '..' || p === '.')) {
    throw new Error(`a cgroup path starts with / and is relative to the cgroup2 mount (e.g. /system.slice/docker-tenant.slice), got "${v}"`);
  }
  return s.length > 1 ? s.replace(/\/+$/, '') : s;
}

export function parseNetnsInode(v: string): number {
  const m = /^(?:net:\[)?(\d{1,12})\]?$/.exec(v.trim());
  if (!m || Number(m[1]) === 0) throw new Error(`a network namespace is its inode number (readlink /proc/<pid>/ns/net gives net:[<inode>]), got "${v}"`);
  return Number(m[1]);
}

const MAX_VERDICTS = 65536;

export class Scope {
  private readonly prefixes: string[];
  private readonly netns: Set<number>;
  private readonly verdicts = new Map<number, boolean>();
  /** Events dropped for being outside the scope. */
  dropped = 0;

  constructor(opts: ScopeOptions, private readonly cgroups: Pick<CgroupIndex, 'pathOf'> = new CgroupIndex()) {
    this.prefixes = (opts.cgroups ?? []).map(parseCgroupPath);
    this.netns = new Set(opts.netns ?? []);
    if (!this.prefixes.length && !this.netns.size) throw new Error('a scope needs at least one cgroup path or network namespace');
  }

  describe(): string {
    return [...this.prefixes.map((p) => `cgroup ${p}`), ...[...this.netns].map((n) => `netns ${n}`)].join(', ');
  }

  private underPrefix(path: string): boolean {
    return this.prefixes.some((p) => p === '/' || path === p || path.startsWith(p + '/'));
  }

  /** Does the socket of this cgroup id and netns belong to the scope? */
  owns(cgroupId: number, netns: number): boolean {
    if (netns && this.netns.has(netns)) return true;
    if (!this.prefixes.length || !cgroupId) return false;
    const hit = this.verdicts.get(cgroupId);
    if (hit !== undefined) return hit;
    const path = this.cgroups.pathOf(cgroupId);
    if (path === null) return false; // not known yet: a later event asks again after the index rescans
    if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
    const v = this.underPrefix(path);
    this.verdicts.set(cgroupId, v);
    return v;
  }

  ownsContainer(c: ContainerInfo): boolean {
    if (c.netns && this.netns.has(c.netns)) return true;
    if (c.cgroupPath !== null) return this.underPrefix(c.cgroupPath);
    return c.cgroupId ? this.owns(c.cgroupId, 0) : false;
  }

  filter(events: ConnEvent[]): ConnEvent[] {
    const out = events.filter((e) => this.owns(e.cgroupId, e.netns));
    this.dropped += events.length - out.length;
    return out;
  }
}

/** The graph's view of identity inside a scope: containers outside it are other hosts' business. */
export function scopedIdentity(inner: Identity, scope: Scope): Identity {
  return {
    get version() { return inner.version; }, // the graph caches answers until it moves
    resolveOwner: (q) => inner.resolveOwner(q),
    processRunning: (pid) => inner.processRunning?.(pid),
    resolveAddress(ip, port, protocol): AddressOwner {
      const a = inner.resolveAddress(ip, port, protocol);
      if (a.kind === 'container' && !scope.ownsContainer(a.container)) return { kind: 'external' };
      if (a.kind === 'host' && a.published && !scope.ownsContainer(a.published.container)) return { kind: 'host', published: null };
      return a;
    },
  };
}
