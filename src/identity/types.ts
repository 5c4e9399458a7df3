// The identity types: who owns a connection end, and who owns an address.
// The graph names its nodes from these.

/** A container runtime as recognised from a cgroup path or a daemon. */
export type Runtime = 'docker' | 'containerd' | 'crio' | 'podman' | 'kubernetes';

/** A container named by a cgroup path, before any daemon has been asked about it. */
export interface ContainerRef {
  runtime: Runtime;
  /** Full 64-hex container id. */
  id: string;
  /** Kubernetes pod UID (dashes restored) when the path carries one. */
  podUid: string | null;
}

/** One network a container is attached to. */
export interface ContainerNetwork {
  /** Network name (`bridge`, `shop_default`, ...). */
  name: string;
  networkId: string;
  /** IPv4 address on this network, or null. */
  ipv4: string | null;
  /** Global IPv6 address on this network, or null. */
  ipv6: string | null;
  gateway: string | null;
  ipv6Gateway: string | null;
  /** Prefix lengths of the network's subnets (IPPrefixLen, GlobalIPv6PrefixLen); absent when the daemon gave none. */
  ipv4PrefixLen?: number;
  ipv6PrefixLen?: number;
  /** DNS aliases on this network (service name, short id, ...). */
  aliases: string[];
}

/** A port a container publishes on the host (`-p hostIp:hostPort:containerPort/protocol`). */
export interface PublishedPort {
  /** Host address bound; `0.0.0.0` or `::` mean every local address of that family. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ComposeInfo {
  project: string;
  service: string;
  /** Replica number (`com.docker.compose.container-number`), or null. */
  number: number | null;
}

export interface KubernetesInfo {
  pod: string;
  namespace: string;
  container: string;
}

/**
 * Everything Dhrishti knows about one container. There is one object per
 * container id for its whole life: fields are updated in place (rename, new
 * networks, stop), so a reference held by the graph stays current. Listen to
 * the resolver's 'change' event to redraw.
 */
export interface ContainerInfo {
  id: string;
  /** First 12 hex digits of the id, as `docker ps` shows it. */
  shortId: string;
  /** Name without the leading slash. */
  name: string;
  /** Image as the container was started with (`nginx:1.25`), or its id. */
  image: string;
  labels: Record<string, string>;
  compose: ComposeInfo | null;
  kubernetes: KubernetesInfo | null;
  networks: ContainerNetwork[];
  ports: PublishedPort[];
  /** Main process on the host, 0 when not running. */
  pid: number;
  /** Network namespace inode (readlink /proc/<pid>/ns/net), 0 if unknown. */
  netns: number;
  /**
   * Docker network mode: 'bridge', 'host' (the host's netns and addresses),
   * 'container:<id>' (another container's netns), 'none', or a network name;
   * absent when not known (containers named from a cgroup path only).
   */
  networkMode?: string;
  /** cgroup v2 id (inode of its cgroup v2 directory), 0 if unknown. */
  cgroupId: number;
  /** cgroup v2 path relative to the cgroup2 mount, or null. */
  cgroupPath: string | null;
  state: 'running' | 'stopped';
  /** Unix ms of the last start, or null. */
  startedAt: number | null;
  /** Unix ms of the last stop, or null while running. */
  stoppedAt: number | null;
  exitCode: number | null;
  /** The daemon has deleted the container; its identity is kept for late events. */
  removed: boolean;
  runtime: Runtime;
  /**
   * Where the facts come from: 'docker' (the daemon), 'kubelet' (a pod's
   * container named by kubelet's log link: no Docker on the node), or 'cgroup'
   * (only the id was seen in a cgroup path: runtime without a watched daemon,
   * or the daemon has not told us yet).
   */
  source: 'docker' | 'cgroup' | 'kubelet';
}

/** What owns one end of a connection. */
export type Owner =
  | { kind: 'container'; container: ContainerInfo; pid: number; comm: string }
  | {
      kind: 'process';
      /** 0 when only the cgroup was known (softirq context). */
      pid: number;
      comm: string;
      /** Basename of /proc/<pid>/exe, '' if unreadable. */
      exe: string;
      /** Command line, truncated, '' if unreadable. */
      cmdline: string;
      /** Arguments as started (argv[0] included), a bounded few; absent or [] when unreadable. */
      argv?: readonly string[];
      /** The agent's own process (or one of its threads). */
      self?: boolean;
      /** systemd unit from the cgroup path (`nginx.service`, `session-3.scope`), or null. */
      unit: string | null;
    }
  | { kind: 'unknown'; pid: number; comm: string; cgroupId: number };

/** Docker's userland proxy, which relays a published port to its container: its own hop is not an edge of the map. */
export function isDockerProxy(owner: Owner): boolean {
  return owner.kind === 'process' && (owner.comm === 'docker-proxy' || owner.exe === 'docker-proxy');
}

/** What a connection end needs for the owner lookup; the fields of a ConnEvent. */
export interface OwnerQuery {
  pid: number;
  cgroupId: number;
  netns: number;
  comm?: string;
}

/** A container port published on the host, found by host address and port. */
export interface PublishedMatch {
  container: ContainerInfo;
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

/**
 * An address inside a container network on this host that no container holds: a client still calls a container
 * that was removed (or an address typed by hand), and its calls go nowhere. Drawn as an outside server with this.
 */
export interface VacantAddress {
  /** The Docker network whose subnet holds the address. */
  network: string;
  /** The container that last held it, as far as this agent knows; null if none did. */
  lastHolder: string | null;
  /** When that container stopped or was removed (unix ms); null if unknown. */
  lastHeldUntil: number | null;
  /**
   * The project the address belongs to: the Compose project (or Kubernetes namespace) of the container that last held
   * it, else the one project of every container on its network; null if none. The node's group: a call from a project
   * to its own stale address stays inside the project (for the map's boxes and `check`).
   */
  group: string | null;
}

/** Who owns an IP address as seen from this host. */
export type AddressOwner =
  | { kind: 'container'; container: ContainerInfo; network: ContainerNetwork }
  /** One of this host's own addresses; `published` when the port is a container's published port. */
  | { kind: 'host'; published: PublishedMatch | null }
  /** Outside this host; `vacant` when the address is inside a container network here that no container holds. */
  | { kind: 'external'; vacant?: VacantAddress };

/** A change the resolver reports through its 'change' event. */
export interface ContainerChange {
  type: 'start' | 'stop' | 'rename' | 'update' | 'remove' | 'evict';
  container: ContainerInfo;
  /** Previous name for 'rename'. */
  oldName?: string;
  /** The container as it was known before the daemon told of it, named from its cgroup path alone (its first change). */
  provisional?: ContainerInfo;
}

export interface DockerStats {
  /** Daemon answering and event stream open. */
  up: boolean;
  /** Unix ms of the last connect or disconnect. */
  since: number;
  connects: number;
  reconnects: number;
  disconnects: number;
  lists: number;
  inspects: number;
  events: number;
  errors: number;
  lastError: string | null;
  running: number;
  stopped: number;
  evicted: number;
}

export interface ResolverStats {
  ownerLookups: number;
  ownerContainer: number;
  ownerProcess: number;
  ownerUnknown: number;
  /** Processes gone before /proc was read, named by the arguments the kernel kept at their exec. */
  ownerFromExec: number;
  /** Owner lookups with a cgroup id that no container and no cgroup path explained. */
  cgroupMisses: number;
  addressLookups: number;
  addressContainer: number;
  addressHost: number;
  addressExternal: number;
  cgroupScans: number;
  /** cgroups learnt as they were made (inotify), before any walk. */
  cgroupsLearnt: number;
  /** cgroup directories left unwatched (the watch cap was reached). */
  cgroupsUnwatched: number;
  docker: DockerStats | null;
}
