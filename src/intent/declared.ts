// Declared edges: what compose files say will talk. A service declares it
// calls another by depends_on, by links, or by naming it in an environment
// value (DB_HOST=db, postgres://db:5432/x, redis://cache, kafka:9092,...).
// A declaration between services that share no network cannot be a direct
// connection: it is kept apart as unreachable.
import type { ComposeProject, ComposeService, Position } from './compose.js';

export type Via = 'depends_on' | 'links' | 'environment';

export interface DeclaredEdge {
  /** Node ids on the map. */
  client: string;
  server: string;
  via: Via[];
  /** Ports named in URLs or host:port values. */
  ports: number[];
  evidence: { via: Via; text: string; at: Position }[];
  /** The two services share a network. */
  reachable: boolean;
}

export interface ExternalHost {
  client: string;
  host: string;
  port: number | null;
  at: Position;
}

export interface Declarations {
  edges: DeclaredEdge[];
  /** Host names in environment values that are not services: declared dependencies outside the compose files. */
  external: ExternalHost[];
  /** Services by node id. */
  services: Map<string, ComposeService & { project: string }>;
}

const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s]*@)?([^/\s?#]+)/gi;
const HOST_PORT_RE = /^([A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/;

/** Host (and port) mentions in one value: URL authorities (comma lists too), and bare host or host:port words. */
export function hostsIn(value: string): { host: string; port: number | null; url: boolean }[] {
  const out: { host: string; port: number | null; url: boolean }[] = [];
  let rest = value;
  for (const m of value.matchAll(URL_RE)) {
    for (const part of m[1].split(',')) {
      if (part.startsWith('[')) continue; // IPv6 literal: not a service name
      const hp = HOST_PORT_RE.exec(part);
      if (hp) out.push({ host: hp[1].toLowerCase(), port: hp[2] ? Number(hp[2]) : null, url: true });
    }
    rest = rest.replace(m[0], ' ');
  }
  for (const word of rest.split(/[\s,;]+/)) {
    const hp = HOST_PORT_RE.exec(word);
    if (hp) out.push({ host: hp[1].toLowerCase(), port: hp[2] ? Number(hp[2]) : null, url: false });
  }
  return out;
}

export function declaredEdges(projects: ComposeProject[]): Declarations {
  const services = new Map<string, ComposeService & { project: string }>();
  for (const p of projects) for (const s of p.services.values()) services.set(s.node, { ...s, project: p.project });
  const edges = new Map<string, DeclaredEdge>();
  const external: ExternalHost[] = [];
  const add = (client: ComposeService, server: ComposeService, via: Via, text: string, at: Position, port: number | null) => {
    if (client.node === server.node) return;
    const k = `${client.node}|${server.node}`;
    let e = edges.get(k);
    if (!e) {
      e = { client: client.node, server: server.node, via: [], ports: [], evidence: [], reachable: shareNetwork(client, server) };
      edges.set(k, e);
    }
    if (!e.via.includes(via)) e.via.push(via);
    if (port !== null && !e.ports.includes(port)) e.ports.push(port);
    e.evidence.push({ via, text, at });
  };
  for (const p of projects) {
    // Names resolve within the project's own services (links add per-client aliases).
    const byName = new Map<string, ComposeService>();
    for (const s of p.services.values()) for (const h of s.hostnames) if (!byName.has(h.toLowerCase())) byName.set(h.toLowerCase(), s);
    for (const s of p.services.values()) {
      for (const d of s.dependsOn) add(s, p.services.get(d.service)!, 'depends_on', `depends_on: ${d.service}`, d.at, null);
      const linked = new Map<string, ComposeService>();
      for (const l of s.links) {
        const target = p.services.get(l.service)!;
        linked.set(l.alias.toLowerCase(), target);
        add(s, target, 'links', `links: ${l.service}${l.alias !== l.service ? `:${l.alias}` : ''}`, l.at, null);
      }
      for (const env of s.environment) {
        for (const h of hostsIn(env.value)) {
          const target = linked.get(h.host) ?? byName.get(h.host);
          // The value itself may hold credentials: only the name it mentions is shown.
          if (target) add(s, target, 'environment', `${env.key} names ${h.host}${h.port ? `:${h.port}` : ''}`, env.at, h.port);
          else if (h.url && h.host !== 'localhost' && !/^\d+(\.\d+){3}$/.test(h.host)) external.push({ client: s.node, host: h.host, port: h.port, at: env.at });
        }
      }
    }
  }
  return { edges: [...edges.values()], external, services };
}

export function shareNetwork(a: ComposeService, b: ComposeService): boolean {
  if (a.networkMode === 'host' && b.networkMode === 'host') return true; // both in the host's namespace
  return a.networks.some((n) => b.networks.includes(n));
}
