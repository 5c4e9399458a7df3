// The one identity API the graph uses: who owns a connection end (container
// or host process) and who owns an address (container, this host, or outside).
// Hits are Map lookups; slow paths (/proc reads, cgroup tree walks) are cached.
import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../config/defaults.js';
import { canonicalIp, HostAddresses } from './addresses.js';
import { CgroupIndex } from './cgroups.js';
import { containerRefFromCgroupPath, systemdUnitFromCgroupPath } from './cgroup.js';
import { DockerWatcher } from './docker.js';
import { ProcessCache, type ProcessInfo } from './process.js';
import { KubeletLogNames } from './kubelet-logs.js';
import { ContainerSubnets, projectOf } from './subnets.js';
import type {
  AddressOwner, ContainerChange, ContainerInfo, ContainerRef, KubernetesInfo, Owner, OwnerQuery, PublishedMatch, ResolverStats,
  VacantAddress,
} from './types.js';

export interface ResolverOptions {
  /** Docker API socket (default DEFAULTS.dockerSocket). */
  dockerSocket?: string;
  /** Follow a Docker daemon (default true). Without it containers are named from cgroup paths only. */
  docker?: boolean;
  procRoot?: string;
  /** cgroup v2 mount point (found in /proc/self/mountinfo when not given; null: none). */
  cgroupRoot?: string | null;
  maxStoppedContainers?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** The agent's own pid: its process is an owner with `self` (named `dhrishti` on the map). 0: none. */
  selfPid?: number;
  /** kubelet's container log links, which name containers no Docker knows (default DEFAULTS.kubeletContainerLogs; null: not read). */
  kubeletLogs?: string | null;
}

interface CgroupVerdict { ref: ContainerRef | null; unit: string | null }

const MAX_VERDICTS = 65536;
/** /proc/<pid>/stat counts a process's start in clock ticks: USER_HZ, 100 on Linux whatever the kernel's HZ. */
const NS_PER_TICK = 1e9 / 100;
const MAX_SYNTHETIC = 4096;
/** The answer for an address outside this host, one object (asked for every connection to one). */
const EXTERNAL: AddressOwner = { kind: 'external' };

export { isDockerProxy } from './types.js';

/**
 * Events: 'change' (ContainerChange) when a container starts, stops, is
 * renamed, updated, removed or forgotten; 'docker' ({ up: boolean }) when the
 * daemon connection comes or goes.
 */
export class IdentityResolver extends EventEmitter {
  readonly cgroups: CgroupIndex;
  readonly processes: ProcessCache;
  readonly hostAddresses: HostAddresses;
  readonly docker: DockerWatcher | null;
  readonly kubelet: KubeletLogNames | null;
  private verdicts = new Map<number, CgroupVerdict>();
  private readonly selfPid: number;
  /** Containers seen only in cgroup paths (no daemon told us about them), by id. */
  private synthetic = new Map<string, ContainerInfo>();
  private readonly subnets = new ContainerSubnets();
  /**
   * What exec said of a process the kernel saw start (the engine's exec_args): the arguments of one that exited
   * before /proc/<pid> could be read. Set by the agent once the probes are loaded.
   */
  execFacts: ((pid: number) => { comm: string; argv: string[]; startNs: number } | null) | null = null;
  /** Bumped whenever an owner or address answer may have changed (see `version`). */
  private changes = 0;
  private counters = {
    ownerLookups: 0, ownerContainer: 0, ownerProcess: 0, ownerUnknown: 0, ownerFromExec: 0, cgroupMisses: 0,
    addressLookups: 0, addressContainer: 0, addressHost: 0, addressExternal: 0,
  };

  constructor(opts: ResolverOptions = {}) {
    super();
    this.selfPid = opts.selfPid ?? 0;
    this.cgroups = new CgroupIndex({ procRoot: opts.procRoot, root: opts.cgroupRoot });
    this.processes = new ProcessCache({ procRoot: opts.procRoot });
    this.hostAddresses = new HostAddresses();
    const logs = opts.kubeletLogs === undefined ? DEFAULTS.kubeletContainerLogs : opts.kubeletLogs;
    this.kubelet = logs ? new KubeletLogNames(logs) : null;
    this.docker = opts.docker === false ? null : new DockerWatcher({
      socketPath: opts.dockerSocket ?? DEFAULTS.dockerSocket,
      maxStopped: opts.maxStoppedContainers,
      reconnectMinMs: opts.reconnectMinMs,
      reconnectMaxMs: opts.reconnectMaxMs,
      cgroups: this.cgroups,
      procRoot: opts.procRoot,
    });
    this.docker?.on('change', (c: ContainerChange) => this.onChange(c));
    this.docker?.on('up', () => { this.changes++; this.refreshNetworks(); this.emit('docker', { up: true }); });
    this.docker?.on('down', (err: Error) => { this.changes++; this.emit('docker', { up: false, error: err.message }); });
  }

  /**
   * Grows whenever an answer of resolveOwner or resolveAddress may have
   * changed: a container event, Docker coming or going, this host's addresses,
   * a rescan of the cgroup tree. Callers may cache answers until it moves.
   */
  get version(): number { return this.changes + this.hostAddresses.changes + this.cgroups.scans; }

  /** Connects to Docker (or starts retrying in the background); never rejects. */
  async start(): Promise<void> {
    this.cgroups.scan();
    this.cgroups.watch();
    await this.docker?.start();
  }

  stop(): void {
    this.cgroups.unwatch();
    this.docker?.stop();
  }

  /** Whether pid still runs (the process the cache knows by it); undefined when /proc cannot say. */
  processRunning(pid: number): boolean | undefined {
    return this.processes.running(pid);
  }

  /** Who owns a connection end: by cgroup id, then the pid's cgroup, then the netns, else a host process. */
  resolveOwner(q: OwnerQuery): Owner {
    this.counters.ownerLookups++;
    const comm = q.comm ?? '';
    const store = this.docker?.store;
    let verdict: CgroupVerdict | null = null;
    if (q.cgroupId) {
      const c = store?.byCgroupId(q.cgroupId);
      if (c) return this.asContainer(c, q.pid, comm);
      verdict = this.cgroupVerdict(q.cgroupId);
      if (verdict?.ref) return this.asContainer(this.containerFor(verdict.ref), q.pid, comm);
    }
    let info: ProcessInfo | null = null;
    if (q.pid > 0) {
      const c = store?.byPid(q.pid);
      if (c) return this.asContainer(c, q.pid, comm);
      info = this.processes.get(q.pid, q.comm);
      if (info?.container) return this.asContainer(this.containerFor(info.container), q.pid, comm);
    }
    if (q.netns) {
      const c = store?.byNetns(q.netns);
      if (c) return this.asContainer(c, q.pid, comm);
    }
    if (q.cgroupId && !verdict) this.counters.cgroupMisses++;
    if (info) {
      this.counters.ownerProcess++;
      // The process's name, not the thread's: the kernel's comm is the thread that did the I/O (Tomcat's
      // http-nio-exec-1, Chrome_ChildIOT), and a node per thread name would split one service.
      const self = this.selfPid > 0 && (info.pid === this.selfPid || info.tgid === this.selfPid);
      // An exiting process (a zombie) still has its comm in /proc, but no cmdline any more.
      const argv = info.argv.length ? info.argv : this.execArgv(info.tgid, info.comm || comm, info.startTicks);
      return { kind: 'process', pid: info.pid, comm: info.comm || comm, exe: info.exe, cmdline: info.cmdline || (argv ?? []).join(' '), argv: argv ?? [], unit: info.unit ?? verdict?.unit ?? null, ...(self ? { self } : {}) };
    }
    if (q.pid > 0 || verdict?.unit) {
      this.counters.ownerProcess++;
      // Gone before /proc was read: named by what exec said of it (`node client.js` -> client.js) when its
      // program's name is the event's, else by its command name alone (its facts were never cached).
      const self = this.selfPid > 0 && q.pid === this.selfPid;
      const argv = q.pid > 0 ? this.execArgv(q.pid, comm) : undefined;
      return { kind: 'process', pid: q.pid, comm, exe: '', cmdline: argv ? argv.join(' ') : '', ...(argv ? { argv } : {}), unit: verdict?.unit ?? null, ...(self ? { self } : {}) };
    }
    this.counters.ownerUnknown++;
    return { kind: 'unknown', pid: q.pid, comm, cgroupId: q.cgroupId };
  }

  /** Who owns an IP: a local container (any of its networks), this host, or something outside. */
  resolveAddress(ip: string, port?: number, protocol: 'tcp' | 'udp' = 'tcp'): AddressOwner {
    this.counters.addressLookups++;
    const store = this.docker?.store;
    let c = store?.byIp(ip);
    let addr = ip;
    if (!c) {
      const canon = canonicalIp(ip);
      if (canon && canon !== ip) { addr = canon; c = store?.byIp(canon); }
    }
    if (c) {
      const network = c.networks.find((n) => n.ipv4 === addr || n.ipv6 === addr);
      if (network) { this.counters.addressContainer++; return { kind: 'container', container: c, network }; }
    }
    if (this.hostAddresses.has(addr)) {
      this.counters.addressHost++;
      return { kind: 'host', published: port ? this.publishedPort(addr, port, protocol) : null };
    }
    this.counters.addressExternal++;
    const vacant = this.vacant(addr);
    return vacant ? { kind: 'external', vacant } : EXTERNAL;
  }

  /** An address in a container network here that no container holds, with the one that last did. */
  private vacant(ip: string): VacantAddress | null {
    const store = this.docker?.store;
    const network = store ? this.subnets.networkOf(ip) : null;
    if (!store || !network) return null;
    const last = store.lastHolder(ip);
    return {
      network, lastHolder: last?.name ?? null, lastHeldUntil: last ? store.heldUntil(last) : null,
      group: (last && projectOf(last)) ?? this.subnets.projectOfNetwork(network),
    };
  }

  /** The running container that publishes (ip, port) on this host; 0.0.0.0 / :: bindings match any local address. */
  publishedPort(ip: string, port: number, protocol = 'tcp'): PublishedMatch | null {
    const store = this.docker?.store;
    if (!store) return null;
    const addr = canonicalIp(ip) ?? ip;
    return store.published(addr, port, (a) => this.hostAddresses.has(a), protocol);
  }

  /** A known container by full or short id. */
  container(id: string): ContainerInfo | null {
    const store = this.docker?.store;
    const c = store?.get(id) ?? this.synthetic.get(id);
    if (c) return c;
    if (id.length >= 12 && store) for (const x of store.all()) if (x.id.startsWith(id)) return x;
    return null;
  }

  /** Every container the daemon told us about (running and remembered stopped ones). */
  containers(): ContainerInfo[] {
    return this.docker ? [...this.docker.store.all()] : [];
  }

  stats(): ResolverStats {
    return { ...this.counters, cgroupScans: this.cgroups.scans, cgroupsLearnt: this.cgroups.learnt, cgroupsUnwatched: this.cgroups.unwatched, docker: this.docker?.stats() ?? null };
  }

  /**
   * The arguments exec gave a process whose own are unreadable now, if its program's name is the one seen and,
   * when /proc still gave its start (`startTicks`, a zombie's), it started then: the pid is the same process.
   */
  private execArgv(pid: number, comm: string, startTicks = 0): string[] | undefined {
    const exec = this.execFacts?.(pid);
    if (!exec || exec.comm !== comm) return undefined;
    if (startTicks && Math.abs(Math.floor(exec.startNs / NS_PER_TICK) - startTicks) > 1) return undefined;
    this.counters.ownerFromExec++;
    return exec.argv;
  }

  private asContainer(container: ContainerInfo, pid: number, comm: string): Owner {
    this.counters.ownerContainer++;
    return { kind: 'container', container, pid, comm };
  }

  private cgroupVerdict(id: number): CgroupVerdict | null {
    const hit = this.verdicts.get(id);
    if (hit) return hit;
    const p = this.cgroups.pathOf(id);
    if (p === null) return null;
    const v = { ref: containerRefFromCgroupPath(p), unit: systemdUnitFromCgroupPath(p) };
    if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
    this.verdicts.set(id, v);
    return v;
  }

  /** The daemon's container for a ref, else one named from the cgroup path alone. */
  private containerFor(ref: ContainerRef): ContainerInfo {
    const known = this.docker?.store.get(ref.id);
    if (known) return known;
    let s = this.synthetic.get(ref.id);
    if (s && (s.kubernetes || !this.kubelet)) return s;
    // A pod's container on a node without Docker: kubelet's log link names it (read again at most once a second).
    const pod = this.kubelet?.lookup(ref.id) ?? null;
    if (s && !pod) return s;
    const named = syntheticContainer(ref, pod);
    if (s) this.namedLate(s, named);
    else if (this.synthetic.size >= MAX_SYNTHETIC) this.synthetic.delete(this.synthetic.keys().next().value as string);
    this.synthetic.set(ref.id, named);
    return named;
  }

  /**
   * A container known by id alone is named now (its kubelet log link came after its first connections): said as
   * a change with the provisional one, like Docker's late answer, once the caller's batch is over.
   */
  private namedLate(provisional: ContainerInfo, named: ContainerInfo): void {
    this.changes++;
    setImmediate(() => this.emit('change', { type: 'start', container: named, provisional }));
  }

  private onChange(c: ContainerChange): void {
    this.changes++;
    const provisional = this.synthetic.get(c.container.id);
    this.synthetic.delete(c.container.id);
    if (c.type === 'start' || c.type === 'update' || c.type === 'evict') this.refreshNetworks();
    this.emit('change', provisional ? { ...c, provisional } : c);
  }

  /** Docker bridge gateways are this host's addresses; the networks' subnets say which outside addresses are vacant. */
  private refreshNetworks(): void {
    const all = this.containers();
    this.subnets.rebuild(all);
    const gws: string[] = [];
    for (const c of all) {
      if (c.state !== 'running') continue;
      for (const n of c.networks) {
        if (n.gateway) gws.push(n.gateway);
        if (n.ipv6Gateway) gws.push(n.ipv6Gateway);
      }
    }
    this.hostAddresses.setExtra(gws);
  }
}

/** A container no daemon told us of: named by its short id, or by its pod when kubelet's log link says (`pod/container`). */
function syntheticContainer(ref: ContainerRef, pod: KubernetesInfo | null = null): ContainerInfo {
  const shortId = ref.id.slice(0, 12);
  return {
    id: ref.id, shortId, name: pod ? `${pod.pod}/${pod.container}` : shortId, image: '', labels: {}, compose: null,
    kubernetes: pod, networks: [], ports: [], pid: 0, netns: 0, cgroupId: 0, cgroupPath: null,
    state: 'running', startedAt: null, stoppedAt: null, exitCode: null, removed: false,
    runtime: ref.runtime, source: pod ? 'kubelet' : 'cgroup',
  };
}
