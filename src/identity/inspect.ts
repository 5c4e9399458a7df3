// Turns Docker's container inspect JSON into a ContainerInfo. The host facts
// (netns inode, cgroup id) come from a probe so this stays testable.
import { canonicalIp } from './addresses.js';
import { containerRefFromCgroupPath } from './cgroup.js';
import type { ComposeInfo, ContainerInfo, ContainerNetwork, KubernetesInfo, PublishedPort } from './types.js';

/** The part of `GET /containers/<id>/json` we read; every field may be missing. */
export interface InspectJson {
  Id: string;
  Name?: string;
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null } | null;
  State?: { Running?: boolean; Pid?: number; ExitCode?: number; StartedAt?: string; FinishedAt?: string } | null;
  HostConfig?: { NetworkMode?: string; CgroupParent?: string } | null;
  NetworkSettings?: {
    Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
    Networks?: Record<string, {
      NetworkID?: string; IPAddress?: string; GlobalIPv6Address?: string; Gateway?: string;
      IPv6Gateway?: string; IPPrefixLen?: number; GlobalIPv6PrefixLen?: number; Aliases?: string[] | null;
    }> | null;
  } | null;
}

export interface HostProbe {
  /** Network namespace inode of pid, 0 if unreadable. */
  netnsOf(pid: number): number;
  /** cgroup v2 path and id of pid, { id: 0, path: null } if unknown. */
  cgroupOfPid(pid: number): { id: number; path: string | null };
  /** cgroup v2 id of a path, 0 if it does not exist. */
  cgroupIdOfPath(path: string): number;
}

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const COMPOSE_NUMBER = 'com.docker.compose.container-number';
const K8S_POD = 'io.kubernetes.pod.name';
const K8S_NAMESPACE = 'io.kubernetes.pod.namespace';
const K8S_CONTAINER = 'io.kubernetes.container.name';

/** Unix ms of a Docker time, null for Go's zero time or garbage. */
export function dockerTime(text: string | undefined): number | null {
  if (!text) return null;
  const t = Date.parse(text);
  return Number.isFinite(t) && t > 0 ? t : null;
}

export function composeOf(labels: Record<string, string>): ComposeInfo | null {
  const project = labels[COMPOSE_PROJECT];
  const service = labels[COMPOSE_SERVICE];
  if (!project || !service) return null;
  const n = Number(labels[COMPOSE_NUMBER]);
  return { project, service, number: Number.isInteger(n) && n > 0 ? n : null };
}

export function kubernetesOf(labels: Record<string, string>): KubernetesInfo | null {
  const pod = labels[K8S_POD];
  if (!pod) return null;
  return { pod, namespace: labels[K8S_NAMESPACE] ?? '', container: labels[K8S_CONTAINER] ?? '' };
}

function ip(text: string | undefined): string | null {
  return text ? canonicalIp(text) : null;
}

export function portsOf(ports: NonNullable<InspectJson['NetworkSettings']>['Ports']): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [portText, proto = 'tcp'] = key.split('/');
    const containerPort = Number(portText);
    if (!Number.isInteger(containerPort) || !bindings) continue;
    const protocol = proto === 'udp' || proto === 'sctp' ? proto : 'tcp';
    for (const b of bindings) {
      const hostPort = Number(b.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      out.push({ hostIp: ip(b.HostIp) ?? '0.0.0.0', hostPort, containerPort, protocol });
    }
  }
  return out;
}

/** A prefix length the daemon gave, if it is one (0 is Docker's "none"). */
function prefix<K extends string>(key: K, n: unknown, max: number): Partial<Record<K, number>> {
  return Number.isInteger(n) && (n as number) > 0 && (n as number) <= max ? { [key]: n as number } as Record<K, number> : {};
}

export function networksOf(nets: NonNullable<InspectJson['NetworkSettings']>['Networks']): ContainerNetwork[] {
  return Object.entries(nets ?? {}).map(([name, n]) => ({
    name,
    networkId: n.NetworkID ?? '',
    ipv4: ip(n.IPAddress),
    ipv6: ip(n.GlobalIPv6Address),
    gateway: ip(n.Gateway),
    ipv6Gateway: ip(n.IPv6Gateway),
    ...prefix('ipv4PrefixLen', n.IPPrefixLen, 32),
    ...prefix('ipv6PrefixLen', n.GlobalIPv6PrefixLen, 128),
    aliases: Array.isArray(n.Aliases) ? n.Aliases.filter((a) => typeof a === 'string') : [],
  }));
}

/** Where Docker puts a container's cgroup when the process is already gone. */
function guessCgroupPaths(id: string, parent: string): string[] {
  const p = parent || '';
  if (p.endsWith('.slice')) return [`/${p.replace(/^\//, '')}/docker-${id}.scope`]; // systemd driver, custom slice
  return [`${p ? `/${p.replace(/^\/|\/$/g, '')}` : '/docker'}/${id}`, `/system.slice/docker-${id}.scope`];
}

export function containerFromInspect(j: InspectJson, probe: HostProbe): ContainerInfo {
  const labels = j.Config?.Labels ?? {};
  const running = j.State?.Running === true;
  const pid = running ? j.State?.Pid ?? 0 : 0;
  const networkMode = j.HostConfig?.NetworkMode ?? '';
  let cgroup = pid ? probe.cgroupOfPid(pid) : { id: 0, path: null as string | null };
  // the pid's cgroup must be this container's (the pid may have been reused already)
  if (cgroup.path && containerRefFromCgroupPath(cgroup.path)?.id !== j.Id) cgroup = { id: 0, path: null };
  if (!cgroup.id) {
    for (const guess of guessCgroupPaths(j.Id, j.HostConfig?.CgroupParent ?? '')) {
      const id = probe.cgroupIdOfPath(guess);
      if (id) { cgroup = { id, path: guess }; break; }
    }
  }
  const stoppedAt = running ? null : dockerTime(j.State?.FinishedAt);
  return {
    id: j.Id,
    shortId: j.Id.slice(0, 12),
    name: (j.Name ?? '').replace(/^\//, '') || j.Id.slice(0, 12),
    image: j.Config?.Image || j.Image || '',
    labels,
    compose: composeOf(labels),
    kubernetes: kubernetesOf(labels),
    networks: networksOf(j.NetworkSettings?.Networks),
    ports: running ? portsOf(j.NetworkSettings?.Ports) : [],
    pid,
    netns: pid ? probe.netnsOf(pid) : 0,
    networkMode,
    cgroupId: cgroup.id,
    cgroupPath: cgroup.path,
    state: running ? 'running' : 'stopped',
    startedAt: dockerTime(j.State?.StartedAt),
    stoppedAt: running ? null : stoppedAt ?? Date.now(),
    exitCode: running ? null : j.State?.ExitCode ?? null,
    removed: false,
    runtime: 'docker',
    source: 'docker',
  };
}
