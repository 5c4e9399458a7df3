// Kubernetes names for containers no Docker daemon knows (containerd or CRI-O
// nodes): kubelet links every container's log as
// /var/log/containers/<pod>_<namespace>_<container>-<container id>.log, so the
// file names alone say which pod, namespace and container an id is. The same
// convention log shippers read; no API server and no CRI socket needed.
import fs from 'node:fs';
import type { KubernetesInfo } from './types.js';

const LINK = /^([a-z0-9][a-z0-9.-]*)_([a-z0-9][a-z0-9-]*)_([a-z0-9][a-z0-9-]*)-([0-9a-f]{64})\.log$/; // names kubelet validated (DNS labels): nothing else is taken

/** The pod, namespace and container a kubelet log link's name gives, or null for another name. */
export function parseLogLinkName(name: string): (KubernetesInfo & { id: string }) | null {
  const m = LINK.exec(name);
  return m ? { pod: m[1], namespace: m[2], container: m[3], id: m[4] } : null;
}

export class KubeletLogNames {
  private byId = new Map<string, KubernetesInfo>();
  private lastRead = -Infinity;
  /** Reads of the folder, and reads that failed (no folder: not a Kubernetes node, or not mounted). */
  readonly stats = { reads: 0, failures: 0 };

  /** `minReadMs`: a container not found reads the folder again at most this often. */
  constructor(private readonly dir: string, private readonly minReadMs = 1000, private readonly clock: () => number = Date.now) {}

  /** The pod of a container id, reading the folder again when it is not known yet (not more often than minReadMs). */
  lookup(id: string): KubernetesInfo | null {
    const hit = this.byId.get(id);
    if (hit) return hit;
    const now = this.clock();
    if (now - this.lastRead < this.minReadMs) return null;
    this.lastRead = now;
    this.read();
    return this.byId.get(id) ?? null;
  }

  private read(): void {
    this.stats.reads++;
    let names: string[];
    try { names = fs.readdirSync(this.dir); } catch { this.stats.failures++; return; }
    const next = new Map<string, KubernetesInfo>();
    for (const n of names) {
      const p = parseLogLinkName(n);
      if (p) next.set(p.id, { pod: p.pod, namespace: p.namespace, container: p.container });
    }
    this.byId = next; // links of deleted pods go with them
  }
}
