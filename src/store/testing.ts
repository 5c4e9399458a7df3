// Test fixtures for the store's tests: a stand-in identity (two Compose
// containers and host processes) and synthetic connection events for a real LiveGraph.
import type { Identity } from '../graph/live-graph.js';
import type { ConnEvent } from '../events/types.js';
import type { AddressOwner, ContainerInfo, Owner } from '../identity/types.js';

export function container(name: string, ip: string, cgroupId: number, compose: [string, string]): ContainerInfo {
  return {
    id: name.padEnd(64, '0'), shortId: name.slice(0, 12), name, image: `${compose[1]}:1`, labels: {}, compose: { project: compose[0], service: compose[1], number: 1 },
    kubernetes: null, networks: [{ name: 'n', networkId: 'x', ipv4: ip, ipv6: null, gateway: null, ipv6Gateway: null, aliases: [] }],
    ports: [], pid: 0, netns: 0, networkMode: 'n', cgroupId, cgroupPath: null, state: 'running', startedAt: 0, stoppedAt: null, exitCode: null, removed: false, runtime: 'docker', source: 'docker',
  };
}

export const WEB = container('web-1', '10.0.0.2', 100, ['shop', 'web']);
export const DB = container('db-1', '10.0.0.4', 102, ['shop', 'db']);
export const CACHE = container('cache-1', '10.0.0.5', 103, ['shop', 'cache']);
const ALL = [WEB, DB, CACHE];

export const identity: Identity = {
  resolveOwner(q): Owner {
    const c = ALL.find((x) => x.cgroupId === q.cgroupId);
    if (c) return { kind: 'container', container: c, pid: q.pid, comm: q.comm ?? '' };
    return { kind: 'process', pid: q.pid, comm: q.comm ?? '', exe: q.comm ?? '', cmdline: '', unit: null };
  },
  resolveAddress(ip): AddressOwner {
    const c = ALL.find((x) => x.networks.some((n) => n.ipv4 === ip));
    if (c) return { kind: 'container', container: c, network: c.networks[0] };
    return ip.startsWith('127.') ? { kind: 'host', published: null } : { kind: 'external' };
  },
};

/** Edge ids as the graph names them. */
export const WEB_DB = 'svc:shop/web|svc:shop/db|5432|tcp';
export const WEB_CACHE = 'svc:shop/web|svc:shop/cache|6379|tcp';

let cookie = 1;
let port = 40000;

function ev(p: Partial<ConnEvent>): ConnEvent {
  return {
    type: 'established', time: 0, cookie: 0, role: 'client', family: 4, saddr: '', sport: 0, daddr: '', dport: 0, pid: 1, comm: 'x',
    cgroupId: 1, netns: 1, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, startTime: 0, established: true,
    resetSent: false, resetReceived: false, midflight: false, oldState: 0, newState: 0, error: null, failure: null, ...p,
  };
}

type End = { ip: string; cg: number; port?: number };
export const web: End = { ip: '10.0.0.2', cg: 100 };
export const db: End = { ip: '10.0.0.4', cg: 102, port: 5432 };
export const cache: End = { ip: '10.0.0.5', cg: 103, port: 6379 };

/** One connection seen at both ends, from open (`t`) to close (`t + durMs`): client sends `sent`, server replies `received`. */
export function connection(client: End, server: End, t: number, o: { sent?: number; received?: number; rttUs?: number; durMs?: number } = {}) {
  const c = cookie++, s = cookie++, cport = port++;
  const sent = o.sent ?? 0, received = o.received ?? 0, dur = o.durMs ?? 50;
  const base = { startTime: t, saddr: client.ip, sport: cport, daddr: server.ip, dport: server.port!, cgroupId: client.cg, pid: 5, comm: 'client' };
  const sbase = { startTime: t, role: 'server' as const, saddr: server.ip, sport: server.port!, daddr: client.ip, dport: cport, cgroupId: server.cg, pid: 7, comm: 'server' };
  return {
    open: [
      ev({ ...base, time: t, type: 'connect', cookie: c, sport: 0, established: false }),
      ev({ ...base, time: t, type: 'established', cookie: c }),
      ev({ ...sbase, time: t, type: 'established', cookie: s }),
    ],
    close: [
      ev({ ...base, time: t + dur, type: 'close', cookie: c, bytesSent: sent, bytesReceived: received, srttUs: o.rttUs ?? 100 }),
      ev({ ...sbase, time: t + dur, type: 'close', cookie: s, bytesSent: received, bytesReceived: sent, srttUs: o.rttUs ?? 100 }),
    ],
  };
}

/** A connect refused by the server's host (seen only at the client). */
export function refused(client: End, server: End, t: number): ConnEvent[] {
  const c = cookie++;
  const base = { saddr: client.ip, daddr: server.ip, dport: server.port!, cgroupId: client.cg, pid: 5, comm: 'client', startTime: t, established: false };
  return [
    ev({ ...base, time: t, type: 'connect', cookie: c }),
    ev({ ...base, time: t, type: 'close', cookie: c, sport: port++, failure: 'refused', error: 'ECONNREFUSED' }),
  ];
}
