// Pure parsing of cgroup paths: which container (Docker, containerd/Kubernetes,
// CRI-O, Podman) or which systemd unit a cgroup path belongs to.
import type { ContainerRef, Runtime } from './types.js';

const HEX64 = '([0-9a-f]{64})';

/** Segment patterns that name a container by themselves, innermost first wins. */
const SCOPE_PATTERNS: [RegExp, Runtime][] = [
  [new RegExp(`^docker-${HEX64}\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-${HEX64}\\.scope$`), 'containerd'],
  [new RegExp(`^crio-${HEX64}(?:\\.scope)?$`), 'crio'],
  [new RegExp(`^libpod-${HEX64}(?:\\.scope)?$`), 'podman'],
];
const BARE_ID = new RegExp(`^${HEX64}$`);
/** Runtime helpers beside a container (conmon); they are not the container. */
const HELPER = /^(?:crio-conmon-|libpod-conmon-)/;
const POD_SYSTEMD = /^kubepods(?:-besteffort|-burstable|-guaranteed)?-pod([0-9a-f_]{32,36})\.slice$/;
const POD_CGROUPFS = /^pod([0-9a-f-]{32,36})$/;

function segments(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function podUidIn(segs: string[]): string | null {
  for (const s of segs) {
    const m = POD_SYSTEMD.exec(s) ?? POD_CGROUPFS.exec(s);
    if (m) return m[1].replace(/_/g, '-');
  }
  return null;
}

/**
 * Every container named along a cgroup path, innermost first (docker-in-docker
 * gives two). Helper cgroups (conmon) are skipped.
 */
export function containerRefsFromCgroupPath(path: string): ContainerRef[] {
  const segs = segments(path);
  const out: ContainerRef[] = [];
  let podUid: string | null | undefined;
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i];
    if (HELPER.test(seg)) continue;
    let runtime: Runtime | null = null;
    let id = '';
    for (const [re, rt] of SCOPE_PATTERNS) {
      const m = re.exec(seg);
      if (m) { runtime = rt; id = m[1]; break; }
    }
    if (!runtime) {
      const m = BARE_ID.exec(seg);
      if (!m) continue;
      id = m[1];
      const parents = segs.slice(0, i);
      if (parents.some((p) => p.startsWith('kubepods'))) runtime = 'kubernetes';
      else if (parents[parents.length - 1] === 'docker') runtime = 'docker';
      // ctr/nerdctl with cgroupfs put containers under /<namespace>/<id>.
      else runtime = 'containerd';
    }
    if (podUid === undefined) podUid = podUidIn(segs.slice(0, i));
    out.push({ runtime, id, podUid });
  }
  return out;
}

/** The innermost container along a cgroup path, or null for a host cgroup. */
export function containerRefFromCgroupPath(path: string): ContainerRef | null {
  return containerRefsFromCgroupPath(path)[0] ?? null;
}

/**
 * The systemd unit a cgroup path belongs to: its innermost `.service` or
 * `.scope` segment (`/system.slice/nginx.service` -> `nginx.service`,
 * `/user.slice/user-1000.slice/session-3.scope` -> `session-3.scope`).
 */
export function systemdUnitFromCgroupPath(path: string): string | null {
  const segs = segments(path);
  for (let i = segs.length - 1; i >= 0; i--) {
    if (segs[i].endsWith('.service') || segs[i].endsWith('.scope')) return segs[i];
  }
  return null;
}

/** The uid of a systemd user slice along the path (`user-1000.slice`), or null. */
export function userFromCgroupPath(path: string): number | null {
  for (const s of segments(path)) {
    const m = /^user-(\d+)\.slice$/.exec(s);
    if (m) return Number(m[1]);
  }
  return null;
}

export interface ProcCgroup {
  /** cgroup v2 path (the `0::` line), or null on a pure v1 host. */
  v2: string | null;
  /** cgroup v1 paths by controller list (`memory`, `cpu,cpuacct`, `name=systemd`). */
  v1: Record<string, string>;
}

/** Parses the text of /proc/<pid>/cgroup. */
export function parseProcCgroup(text: string): ProcCgroup {
  const out: ProcCgroup = { v2: null, v1: {} };
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const controllers = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (line.slice(0, a) === '0' && controllers === '') out.v2 = path;
    else out.v1[controllers] = path;
  }
  return out;
}

/**
 * The path that best says who a process is: the v2 path unless it is the
 * root (hybrid hosts where the runtime only joined v1), then the systemd v1
 * path, then any non-root v1 path.
 */
export function identityPath(cg: ProcCgroup): string {
  if (cg.v2 && cg.v2 !== '/') return cg.v2;
  const sd = cg.v1['name=systemd'];
  if (sd && sd !== '/') return sd;
  for (const p of Object.values(cg.v1)) if (p !== '/') return p;
  return cg.v2 ?? '/';
}

/** The container of a process from all its cgroup paths (v2 first), or null. */
export function containerRefFromProcCgroup(cg: ProcCgroup): ContainerRef | null {
  if (cg.v2) {
    const r = containerRefFromCgroupPath(cg.v2);
    if (r) return r;
  }
  for (const p of Object.values(cg.v1)) {
    const r = containerRefFromCgroupPath(p);
    if (r) return r;
  }
  return null;
}
