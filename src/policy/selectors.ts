// Selectors compiled once per policy into predicates over a node's facts: globs
// become regular expressions, CIDRs parsed ranges. A node's facts are read once
// per node change, not per rule.
import picomatch from 'picomatch';
import ipaddr from 'ipaddr.js';
import type { NodeLike, Selector } from './model.js';

/** What selectors look at, read once from a node. */
export interface NodeFacts {
  kind: NodeLike['kind'];
  composeProject: string | null;
  composeService: string | null;
  namespace: string | null;
  labels: Record<string, string>;
  /** Container names (instances, and the node's label for a lone container). */
  names: string[];
  images: string[];
  /** Host process names: systemd unit or executable (the label) and command names. */
  processes: string[];
  /** The address of an outside end (external server or remote client). */
  address: ipaddr.IPv4 | ipaddr.IPv6 | null;
}

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const K8S_NAMESPACE = 'io.kubernetes.pod.namespace';

export function nodeFacts(n: NodeLike): NodeFacts {
  const labels = n.labels ?? {};
  const isContainer = n.kind === 'service' || n.kind === 'container';
  const outside = n.kind === 'external' || n.kind === 'client';
  const names = isContainer ? n.instances.map((i) => i.name) : [];
  if (n.kind === 'container' && !names.includes(n.label)) names.push(n.label);
  const images = isContainer ? [...new Set([n.image, ...n.instances.map((i) => i.image)].filter((x): x is string => !!x))] : [];
  const processes = n.kind === 'process' ? [...new Set([n.label, ...n.instances.map((i) => i.name)].filter(Boolean))] : [];
  // A service node is a Compose service or a Kubernetes workload; without labels (history, cgroup-only naming) its group says which.
  const k8s = labels[K8S_NAMESPACE] !== undefined;
  const composeSvc = n.kind === 'service' && !k8s;
  return {
    kind: n.kind,
    composeProject: labels[COMPOSE_PROJECT] ?? (composeSvc ? n.group : null),
    composeService: labels[COMPOSE_SERVICE] ?? (composeSvc ? n.label : null),
    namespace: labels[K8S_NAMESPACE] ?? null,
    labels,
    names,
    images,
    processes,
    address: outside ? parseAddress(n.ips[0] ?? n.label) : null,
  };
}

function parseAddress(s: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(s)) return null;
  const a = ipaddr.parse(s);
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
}

/**
 * `*` matches any characters, `/` included (images and names are not paths).
 * Most patterns are a literal, a prefix or a suffix: those skip the regular expression.
 */
const SEP = '\u0001';
const SPECIAL = /[*?[\]{}()!+@\\]/;
export function glob(pattern: string): (s: string) => boolean {
  if (!SPECIAL.test(pattern)) return (s) => s === pattern;
  if (pattern === '*') return () => true;
  const inner = pattern.slice(1, -1);
  if (pattern.endsWith('*') && !SPECIAL.test(pattern.slice(0, -1))) { const p = pattern.slice(0, -1); return (s) => s.startsWith(p); }
  if (pattern.startsWith('*') && !SPECIAL.test(pattern.slice(1))) { const p = pattern.slice(1); return (s) => s.endsWith(p); }
  if (pattern.startsWith('*') && pattern.endsWith('*') && !SPECIAL.test(inner)) return (s) => s.includes(inner);
  if (!SPECIAL.test(pattern.replace(/[*?]/g, ''))) {
    // Only * and ?: one plain regular expression (picomatch's guards against path segments are not wanted here).
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
    return (s) => re.test(s);
  }
  const re = picomatch.makeRe(pattern.replaceAll('/', SEP), { dot: true, noextglob: true });
  return pattern.includes('/') ? (s) => re.test(s.replaceAll('/', SEP)) : (s) => re.test(s.includes('/') ? s.replaceAll('/', SEP) : s);
}

/** Checks a CIDR as written; null when fine, else what is wrong. */
export function cidrProblem(c: string): string | null {
  try {
    ipaddr.parseCIDR(c);
    return null;
  } catch {
    return ipaddr.isValid(c) ? `"${c}" needs a prefix length, e.g. ${c}/${c.includes(':') ? 128 : 32}` : `"${c}" is not a CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)`;
  }
}

export type NodePredicate = (f: NodeFacts) => boolean;

export function compileSelector(s: Selector): NodePredicate {
  const tests: NodePredicate[] = [];
  const one = (pattern: string | undefined, get: (f: NodeFacts) => string | null) => {
    if (pattern === undefined) return;
    const m = glob(pattern);
    tests.push((f) => { const v = get(f); return v !== null && m(v); });
  };
  const any = (pattern: string | undefined, get: (f: NodeFacts) => string[]) => {
    if (pattern === undefined) return;
    const m = glob(pattern);
    tests.push((f) => { const xs = get(f); for (let i = 0; i < xs.length; i++) if (m(xs[i])) return true; return false; });
  };
  one(s.compose_project, (f) => f.composeProject);
  one(s.compose_service, (f) => f.composeService);
  one(s.namespace, (f) => f.namespace);
  any(s.name, (f) => f.names);
  any(s.image, (f) => f.images);
  any(s.process, (f) => f.processes);
  if (s.kind) { const k = s.kind; tests.push((f) => f.kind === k); }
  for (const [k, v] of Object.entries(s.label ?? {})) {
    const m = glob(v);
    tests.push((f) => f.labels[k] !== undefined && m(f.labels[k]));
  }
  if (s.cidr) {
    const ranges = s.cidr.map((c) => ipaddr.parseCIDR(c));
    tests.push((f) => {
      const a = f.address;
      return !!a && ranges.some(([net, bits]) => net.kind() === a.kind() && a.match(net as never, bits));
    });
  }
  if (tests.length === 1) return tests[0];
  return (f) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](f)) return false;
    return true;
  };
}
