// The one set of fixtures for tests of pure logic (graph, store, API): a
// stand-in identity (Compose containers, host processes, a published port)
// and synthetic connection events. Integration tests use the real parts.
import type { Identity } from '../../src/graph/live-graph.js';
import type { ConnEvent, CounterUpdate } from '../../src/events/types.js';
import type { L7Delta } from '../../src/l7/types.js';
import { nonzeroOf } from '../../src/events/decode.js';
import type { AddressOwner, ContainerInfo, Owner } from '../../src/identity/types.js';
import type { EdgeRequests, LatencySummary } from '../../src/graph/types.js';

export function container(name: string, ip: string, cgroupId: number, compose: [string, string] | null, ports: ContainerInfo['ports'] = []): ContainerInfo {
  return {
    id: name.padEnd(64, '0'), shortId: name.slice(0, 12), name, image: compose ? `${compose[1]}:1` : 'img', labels: {},
    compose: compose ? { project: compose[0], service: compose[1], number: 1 } : null,
    kubernetes: null, networks: [{ name: 'n', networkId: 'x', ipv4: ip, ipv6: null, gateway: null, ipv6Gateway: null, aliases: [] }],
    ports, pid: 0, netns: 0, networkMode: 'n', cgroupId, cgroupPath: null, state: 'running', startedAt: 0, stoppedAt: null, exitCode: null, removed: false, runtime: 'docker', source: 'docker',
  };
}

export const WEB = container('web-1', '10.0.0.2', 100, ['shop', 'web']);
export const WEB2 = container('web-2', '10.0.0.3', 101, ['shop', 'web']);
/** Publishes 15432 on the host for its 5432. */
export const DB = container('db-1', '10.0.0.4', 102, ['shop', 'db'], [{ hostIp: '0.0.0.0', hostPort: 15432, containerPort: 5432, protocol: 'tcp' }]);
export const CACHE = container('cache-1', '10.0.0.5', 103, ['shop', 'cache']);
export const CONTAINERS = [WEB, WEB2, DB, CACHE];

/** Containers by cgroup id and address; anything else is a host process (named by comm) on loopback or 192.168.1.1, else outside. */
export const identity: Identity = {
  resolveOwner(q): Owner {
    const c = CONTAINERS.find((x) => x.cgroupId === q.cgroupId);
    if (c) return { kind: 'container', container: c, pid: q.pid, comm: q.comm ?? '' };
    return { kind: 'process', pid: q.pid, comm: q.comm ?? '', exe: q.comm ?? '', cmdline: '', unit: null };
  },
  resolveAddress(ip, port): AddressOwner {
    const c = CONTAINERS.find((x) => x.networks.some((n) => n.ipv4 === ip));
    if (c) return { kind: 'container', container: c, network: c.networks[0] };
    if (ip.startsWith('127.') || ip === '192.168.1.1') {
      const p = port ? CONTAINERS.find((x) => x.ports.some((pp) => pp.hostPort === port)) : undefined;
      return { kind: 'host', published: p ? { container: p, containerPort: p.ports[0].containerPort, hostIp: '0.0.0.0', hostPort: port! } : null };
    }
    return { kind: 'external' };
  },
};

/**
 * The fixtures' identity, except that container `c` is known by its cgroup id alone (as the resolver names it before
 * Docker answers: `ctr:<short id>`), and its address is nobody's, until `name()`.
 */
export function namedLate(c: ContainerInfo): Identity & { name(): void } {
  const unnamed: ContainerInfo = { ...c, name: c.shortId, compose: null, networks: [], image: '', source: 'cgroup' };
  let named = false, version = 0;
  return {
    get version() { return version; },
    name() { named = true; version++; },
    resolveOwner(q) {
      const o = identity.resolveOwner(q);
      return !named && o.kind === 'container' && o.container === c ? { ...o, container: unnamed } : o;
    },
    resolveAddress(ip, port) {
      const a = identity.resolveAddress(ip, port);
      return !named && a.kind === 'container' && a.container === c ? { kind: 'external' } : a;
    },
  };
}

/** Edge ids as the graph names them. */
export const WEB_DB = 'svc:shop/web|svc:shop/db|5432|tcp';
export const WEB_CACHE = 'svc:shop/web|svc:shop/cache|6379|tcp';

let cookie = 1;
let port = 40000;
export const nextCookie = () => cookie++;

/** An event with everything defaulted (an established client socket at t=1000 with a fresh cookie). */
export function ev(p: Partial<ConnEvent>): ConnEvent {
  return {
    type: 'established', time: 1000, cookie: cookie++, role: 'client', family: 4, saddr: '', sport: 0, daddr: '', dport: 0, pid: 1, comm: 'x',
    cgroupId: 1, netns: 1, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, startTime: 1000, established: true,
    resetSent: false, resetReceived: false, resetUnread: false, midflight: false, l7: false, requests: null, oldState: 0, newState: 0, error: null, failure: null, ...p,
  };
}

export function counters(p: Partial<CounterUpdate> & { cookie: number }): CounterUpdate {
  return { bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, pid: 0, ...p };
}

export type End = { ip: string; cg: number; port?: number; pid?: number };
export const web: End = { ip: '10.0.0.2', cg: 100 };
export const db: End = { ip: '10.0.0.4', cg: 102, port: 5432 };
export const cache: End = { ip: '10.0.0.5', cg: 103, port: 6379 };

/**
 * One connection seen at both ends, from open (`t`) to close (`t + durMs`):
 * the client sends `sent`, the server replies `received`. `l7`: the kernel
 * parsed requests on both its sockets (their closes say so).
 */
export function connection(client: End, server: End, t: number, o: { sent?: number; received?: number; rttUs?: number; durMs?: number; clientPort?: number; l7?: boolean } = {}) {
  const c = cookie++, s = cookie++, cport = o.clientPort ?? port++;
  const sent = o.sent ?? 0, received = o.received ?? 0, dur = o.durMs ?? 50;
  const base = { startTime: t, saddr: client.ip, sport: cport, daddr: server.ip, dport: server.port!, cgroupId: client.cg, pid: client.pid ?? 5, comm: 'client' };
  const sbase = { startTime: t, role: 'server' as const, saddr: server.ip, sport: server.port!, daddr: client.ip, dport: cport, cgroupId: server.cg, pid: 7, comm: 'server' };
  return {
    cookies: { client: c, server: s },
    open: [
      ev({ ...base, time: t, type: 'connect', cookie: c, sport: 0, established: false }),
      ev({ ...base, time: t, type: 'established', cookie: c }),
      ev({ ...sbase, time: t, type: 'established', cookie: s }),
    ],
    close: [
      ev({ ...base, time: t + dur, type: 'close', cookie: c, bytesSent: sent, bytesReceived: received, srttUs: o.rttUs ?? 100, l7: o.l7 ?? false }),
      ev({ ...sbase, time: t + dur, type: 'close', cookie: s, bytesSent: received, bytesReceived: sent, srttUs: o.rttUs ?? 100, l7: o.l7 ?? false }),
    ],
  };
}

/** A connect refused by the server's host (seen only at the client). */
export function refused(client: End, server: End, t: number): ConnEvent[] {
  const c = cookie++;
  const base = { saddr: client.ip, daddr: server.ip, dport: server.port!, cgroupId: client.cg, pid: client.pid ?? 5, comm: 'client', startTime: t, established: false };
  return [
    ev({ ...base, time: t, type: 'connect', cookie: c }),
    ev({ ...base, time: t, type: 'close', cookie: c, sport: port++, failure: 'refused', error: 'ECONNREFUSED' }),
  ];
}

const lat = (p95Ms: number, samples = 100): LatencySummary => ({ samples, meanMs: p95Ms / 3, p50Ms: p95Ms / 4, p95Ms, p99Ms: p95Ms * 1.2 });

/** A protocol's requests on an edge: perSec a second (errPerSec of them 5xx) in both windows, p95 as given. */
export function block(protocol: EdgeRequests['protocol'], perSec: number, errPerSec: number, p95Ms: number, o: Partial<EdgeRequests> = {}): EdgeRequests {
  const w = { requests: perSec, errors: errPerSec, clientErrors: 0, serverErrors: protocol === 'http1' || protocol === 'http2' ? errPerSec : 0, latency: lat(p95Ms) };
  return {
    protocol, grpc: false, tls: false, count: perSec * 60, errors: errPerSec * 60, clientErrors: 0, unpaired: 0, latency: lat(p95Ms),
    status: { other: 0, '1xx': 0, '2xx': (perSec - errPerSec) * 60, '3xx': 0, '4xx': 0, '5xx': errPerSec * 60, ok: 0, error: 0 },
    rates: { '10s': { ...w }, '1m': { ...w } }, ...o,
  };
}

/** A delta: `status` as {class index: n}, every request in latency bucket `bucket`. */
export function l7Delta(cookie: number, role: 'client' | 'server', status: Record<number, number>, o: { bucket?: number; protocol?: L7Delta['protocol']; closed?: boolean; unpaired?: number; tls?: boolean; maxUs?: number } = {}): L7Delta {
  const requests = new Uint32Array(8), buckets = new Uint32Array(24);
  let n = 0;
  for (const [k, v] of Object.entries(status)) { requests[Number(k)] = v; n += v; }
  buckets[o.bucket ?? 10] = n;
  const mid = 2 ** (o.bucket ?? 10) * 1.5 * 1000;
  return { cookie, pid: 1, protocol: o.protocol ?? 'http1', role, roleInferred: false, tls: o.tls ?? false, closed: o.closed ?? false, requests, buckets, latencySumNs: n * mid, latencyMaxUs: o.maxUs ?? 0, unpaired: o.unpaired ?? 0, nonzero: nonzeroOf(requests, buckets) };
}
