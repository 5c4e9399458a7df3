// The containers Dhrishti knows, indexed for Map-lookup by id, cgroup id, IP,
// netns, pid and published port. Stopped containers keep their identity (and
// their cgroup id and last IPs, for late events) up to a bound, oldest evicted.
import { DEFAULTS } from '../config/defaults.js';
import { isUnspecified } from './addresses.js';
import type { ContainerChange, ContainerInfo, PublishedMatch, PublishedPort } from './types.js';

interface PortEntry { container: ContainerInfo; port: PublishedPort }

/** A container network mode whose netns belongs to someone else (host or another container). */
export function sharesNetns(mode = ''): boolean {
  return mode === 'host' || mode.startsWith('container:');
}

export class ContainerStore {
  private byIdMap = new Map<string, ContainerInfo>();
  private byCgroupMap = new Map<number, ContainerInfo>();
  private byIpMap = new Map<string, ContainerInfo>();
  private byNetnsMap = new Map<number, ContainerInfo>();
  private byPidMap = new Map<number, ContainerInfo>();
  private byPortMap = new Map<number, PortEntry[]>();
  /** Stopped container ids, oldest stop first. */
  private stoppedOrder = new Map<string, true>();
  evicted = 0;

  /**
   * When each container that is not running let go of its addresses (ms, this store's clock): its stop as seen here
   * (Docker frees the address then, and may hand it out again), or its removal while running; for releasedAddressGraceMs.
   */
  private releasedAt = new Map<string, number>();

  constructor(readonly maxStopped: number = DEFAULTS.maxStoppedContainers, private readonly clock: () => number = Date.now,
    private readonly releasedGraceMs: number = DEFAULTS.releasedAddressGraceMs) {}

  get(id: string): ContainerInfo | undefined { return this.byIdMap.get(id); }
  byCgroupId(id: number): ContainerInfo | undefined { return this.byCgroupMap.get(id); }
  /**
   * The container with this address. One stopped or removed keeps it only briefly: connections that closed as it
   * went are still its, but a client calling the address later calls nobody (Docker hands it out again). Naming the
   * gone container's node there would hide a client still pointed at an old address behind a healthy service's name
   * (a new replica of the same service, running elsewhere, then looked broken).
   */
  byIp(ip: string): ContainerInfo | undefined {
    const c = this.byIpMap.get(ip);
    if (c && c.state !== 'running' && this.clock() - (this.releasedAt.get(c.id) ?? 0) > this.releasedGraceMs) return undefined;
    return c;
  }
  /** The container that last held this address and no longer runs, past any grace (removed, or only stopped); for naming a vacant address. */
  lastHolder(ip: string): ContainerInfo | undefined {
    const c = this.byIpMap.get(ip);
    return c && c.state !== 'running' ? c : undefined;
  }
  /** When a container stopped holding its addresses: its stop as Docker dates it, else as seen here (unix ms); null if unknown. */
  heldUntil(c: ContainerInfo): number | null {
    return c.stoppedAt ?? this.releasedAt.get(c.id) ?? null;
  }
  byNetns(netns: number): ContainerInfo | undefined { return this.byNetnsMap.get(netns); }
  byPid(pid: number): ContainerInfo | undefined { return this.byPidMap.get(pid); }
  all(): IterableIterator<ContainerInfo> { return this.byIdMap.values(); }
  ids(): string[] { return [...this.byIdMap.keys()]; }
  get runningCount(): number { return this.byIdMap.size - this.stoppedOrder.size; }
  get stoppedCount(): number { return this.stoppedOrder.size; }

  /**
   * Adds or updates a container from a fresh snapshot. Returns the changes to
   * report (none if nothing a viewer cares about moved).
   */
  upsert(fresh: ContainerInfo): ContainerChange[] {
    const old = this.byIdMap.get(fresh.id);
    if (!old) {
      this.byIdMap.set(fresh.id, fresh);
      this.index(fresh);
      this.trackState(fresh, fresh.stoppedAt ?? this.clock()); // found stopped: it let go when it stopped
      return [...(fresh.state === 'running' ? [{ type: 'start' as const, container: fresh }] : []), ...this.evict()];
    }
    const changes: ContainerChange[] = [];
    if (old.name !== fresh.name) changes.push({ type: 'rename', container: old, oldName: old.name });
    if (old.state !== fresh.state) changes.push({ type: fresh.state === 'running' ? 'start' : 'stop', container: old });
    else if (fresh.state === 'running' && fresh.startedAt !== old.startedAt) changes.push({ type: 'start', container: old });
    if (!changes.length && this.differs(old, fresh)) changes.push({ type: 'update', container: old });
    if (fresh.state === 'stopped') {
      // A stopped container's inspect has no IPs or ports: keep the last ones for late lookups.
      if (!fresh.networks.some((n) => n.ipv4 || n.ipv6)) fresh.networks = old.networks;
      if (!fresh.ports.length) fresh.ports = old.ports;
      if (!fresh.cgroupId) { fresh.cgroupId = old.cgroupId; fresh.cgroupPath = old.cgroupPath; }
      if (!fresh.netns) fresh.netns = old.netns;
    }
    this.unindex(old);
    Object.assign(old, fresh);
    this.index(old);
    this.trackState(old);
    return [...changes, ...this.evict()];
  }

  /** The daemon no longer has this container (destroyed, or gone while we were away). */
  markRemoved(id: string, at = Date.now()): ContainerChange[] {
    const c = this.byIdMap.get(id);
    if (!c || c.removed) return [];
    const wasRunning = c.state === 'running';
    this.unindex(c);
    c.removed = true;
    if (wasRunning) { c.state = 'stopped'; c.stoppedAt = at; c.pid = 0; }
    this.index(c);
    this.trackState(c, at);
    return [...(wasRunning ? [{ type: 'stop' as const, container: c }] : []), { type: 'remove', container: c }, ...this.evict()];
  }

  /** The running container with a port published on (ip, port), or null. `isLocal` says if ip is this host's. */
  published(ip: string, port: number, isLocal: (ip: string) => boolean, protocol = 'tcp'): PublishedMatch | null {
    const entries = this.byPortMap.get(port);
    if (!entries) return null;
    let wildcard: PortEntry | null = null;
    for (const e of entries) {
      if (e.port.protocol !== protocol) continue;
      if (e.port.hostIp === ip) return match(e);
      if (!wildcard && isUnspecified(e.port.hostIp)) wildcard = e;
    }
    return wildcard && isLocal(ip) ? match(wildcard) : null;
  }

  private differs(a: ContainerInfo, b: ContainerInfo): boolean {
    return a.pid !== b.pid || a.cgroupId !== b.cgroupId || a.netns !== b.netns || a.image !== b.image ||
      JSON.stringify([a.networks, a.ports, a.labels]) !== JSON.stringify([b.networks, b.ports, b.labels]);
  }

  /** Keeps the stopped ones in stop order, and when each let go of its addresses (`at`, if it had not yet). */
  private trackState(c: ContainerInfo, at = this.clock()): void {
    this.stoppedOrder.delete(c.id);
    if (c.state === 'stopped') {
      this.stoppedOrder.set(c.id, true);
      if (!this.releasedAt.has(c.id)) this.releasedAt.set(c.id, at);
    } else this.releasedAt.delete(c.id);
  }

  private evict(): ContainerChange[] {
    const out: ContainerChange[] = [];
    while (this.stoppedOrder.size > this.maxStopped) {
      const id = this.stoppedOrder.keys().next().value as string;
      this.stoppedOrder.delete(id);
      const c = this.byIdMap.get(id);
      if (!c) continue;
      this.unindex(c);
      this.byIdMap.delete(id);
      this.releasedAt.delete(id);
      this.evicted++;
      out.push({ type: 'evict', container: c });
    }
    return out;
  }

  private index(c: ContainerInfo): void {
    const running = c.state === 'running';
    if (c.cgroupId) this.claim(this.byCgroupMap, c.cgroupId, c);
    for (const n of c.networks) {
      if (n.ipv4) this.claim(this.byIpMap, n.ipv4, c);
      if (n.ipv6) this.claim(this.byIpMap, n.ipv6, c);
    }
    // pids and netns inodes are reused by the kernel: only running containers hold them.
    if (!running) return;
    if (c.pid) this.byPidMap.set(c.pid, c);
    if (c.netns && !sharesNetns(c.networkMode)) this.byNetnsMap.set(c.netns, c);
    for (const port of c.ports) {
      const list = this.byPortMap.get(port.hostPort) ?? [];
      list.push({ container: c, port });
      this.byPortMap.set(port.hostPort, list);
    }
  }

  /** A running container takes a key from a stopped one, never the other way round. */
  private claim<K>(map: Map<K, ContainerInfo>, key: K, c: ContainerInfo): void {
    const holder = map.get(key);
    if (!holder || holder === c || c.state === 'running' || holder.state !== 'running') map.set(key, c);
  }

  private unindex(c: ContainerInfo): void {
    const drop = <K>(map: Map<K, ContainerInfo>, key: K) => { if (map.get(key) === c) map.delete(key); };
    if (c.cgroupId) drop(this.byCgroupMap, c.cgroupId);
    for (const n of c.networks) {
      if (n.ipv4) drop(this.byIpMap, n.ipv4);
      if (n.ipv6) drop(this.byIpMap, n.ipv6);
    }
    if (c.pid) drop(this.byPidMap, c.pid);
    if (c.netns) drop(this.byNetnsMap, c.netns);
    for (const port of c.ports) {
      const list = this.byPortMap.get(port.hostPort);
      if (!list) continue;
      const rest = list.filter((e) => e.container !== c);
      if (rest.length) this.byPortMap.set(port.hostPort, rest); else this.byPortMap.delete(port.hostPort);
    }
  }
}

function match(e: PortEntry): PublishedMatch {
  return { container: e.container, containerPort: e.port.containerPort, hostIp: e.port.hostIp, hostPort: e.port.hostPort };
}
