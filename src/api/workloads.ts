// GET /api/v1/workloads: what the agent knows runs now, whether or not it is on
// the map: running containers (from Docker) and processes holding a listening
// socket. A workload with no connection since the agent started (or none for
// the map's idle time) is not on the map; `dhrishti check` reads this to tell a
// selector matching such a workload from one matching nothing (a typo).
import type { ContainerInfo, Owner, OwnerQuery } from '../identity/types.js';
import { containerNode, ownerNode, type NodeRef } from '../graph/naming.js';
import type { NodeLike } from '../policy/model.js';

export type Workload = NodeLike;

export interface WorkloadSources {
  containers(): ContainerInfo[];
  listening(): { port: number; netns: number; pid: number; comm: string; cgroupId: number }[];
  resolveOwner(q: OwnerQuery): Owner;
}

/** Most workloads listed: a host with more containers and listeners than this is listed in part. */
export const MAX_WORKLOADS = 5000;

/** One entry per running container (replicas of a service each their own: their names differ), and one per listening host process node. */
export function knownWorkloads(src: WorkloadSources): Workload[] {
  const out = new Map<string, Workload>();
  const add = (key: string, r: NodeRef) => {
    if (out.size >= MAX_WORKLOADS || out.has(key)) return;
    out.set(key, { id: r.id, kind: r.kind, label: r.label, group: r.group, image: r.image, labels: r.labels, instances: r.instance ? [r.instance] : [], ips: r.instance?.ips ?? [] });
  };
  for (const c of src.containers()) if (c.state === 'running' && !c.removed) add(`ctr:${c.id}`, containerNode(c));
  const seen = new Set<number>();
  for (const l of src.listening()) {
    if (!l.pid || seen.has(l.pid)) continue;
    seen.add(l.pid);
    const o = src.resolveOwner({ pid: l.pid, cgroupId: l.cgroupId, netns: l.netns, comm: l.comm });
    if (o.kind === 'container') add(`ctr:${o.container.id}`, containerNode(o.container));
    else if (o.kind === 'process') { const r = ownerNode(o); add(r.id, r); }
  }
  return [...out.values()];
}
