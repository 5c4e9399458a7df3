// Pure logic of the live graph, with a stand-in identity (unit test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveGraph, type Identity } from './live-graph.js';
import type { ConnEvent } from '../events/types.js';
import type { AddressOwner, ContainerInfo, Owner } from '../identity/types.js';

function container(name: string, ip: string, cgroupId: number, compose?: [string, string], ports: ContainerInfo['ports'] = []): ContainerInfo {
  return {
    id: name.padEnd(64, '0'), shortId: name, name, image: 'img', labels: {}, compose: compose ? { project: compose[0], service: compose[1], number: 1 } : null,
    kubernetes: null, networks: [{ name: 'n', networkId: 'x', ipv4: ip, ipv6: null, gateway: null, ipv6Gateway: null, aliases: [] }],
    ports, pid: 0, netns: 0, networkMode: 'n', cgroupId, cgroupPath: null, state: 'running', startedAt: 0, stoppedAt: null, exitCode: null, removed: false, runtime: 'docker', source: 'docker',
  };
}
const web1 = container('web-1', '10.0.0.2', 100, ['shop', 'web']);
const web2 = container('web-2', '10.0.0.3', 101, ['shop', 'web']);
const db = container('db', '10.0.0.4', 102, ['shop', 'db'], [{ hostIp: '0.0.0.0', hostPort: 15432, containerPort: 5432, protocol: 'tcp' }]);
const all = [web1, web2, db];

const identity: Identity = {
  resolveOwner(q): Owner {
    const c = all.find((x) => x.cgroupId === q.cgroupId);
    if (c) return { kind: 'container', container: c, pid: q.pid, comm: q.comm ?? '' };
    return { kind: 'process', pid: q.pid, comm: q.comm ?? '', exe: q.comm ?? '', cmdline: '', unit: null };
  },
  resolveAddress(ip, port): AddressOwner {
    const c = all.find((x) => x.networks.some((n) => n.ipv4 === ip));
    if (c) return { kind: 'container', container: c, network: c.networks[0] };
    if (ip.startsWith('127.') || ip === '192.168.1.1') {
      const p = all.find((x) => x.ports.some((pp) => pp.hostPort === port));
      return { kind: 'host', published: p && port ? { container: p, containerPort: p.ports[0].containerPort, hostIp: '0.0.0.0', hostPort: port } : null };
    }
    return { kind: 'external' };
  },
};

let cookie = 1;
function ev(p: Partial<ConnEvent>): ConnEvent {
  return {
    type: 'established', time: 1000, cookie: cookie++, role: 'client', family: 4, saddr: '', sport: 0, daddr: '', dport: 0, pid: 1, comm: 'x',
    cgroupId: 1, netns: 1, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, startTime: 1000, established: true,
    resetSent: false, resetReceived: false, midflight: false, oldState: 0, newState: 0, error: null, failure: null, ...p,
  };
}

/** Both ends of one local connection: client events then server events, then closes. */
function pair(client: { ip: string; port: number; cg: number; pid: number }, server: { ip: string; port: number; cg: number }, bytes: number, t = 1000) {
  const c = cookie++, s = cookie++;
  const base = { time: t, startTime: t };
  return {
    open: [
      ev({ ...base, type: 'connect', cookie: c, role: 'client', saddr: client.ip, sport: 0, daddr: server.ip, dport: server.port, cgroupId: client.cg, pid: client.pid, established: false }),
      ev({ ...base, type: 'established', cookie: c, role: 'client', saddr: client.ip, sport: client.port, daddr: server.ip, dport: server.port, cgroupId: client.cg, pid: client.pid }),
      ev({ ...base, type: 'established', cookie: s, role: 'server', saddr: server.ip, sport: server.port, daddr: client.ip, dport: client.port, cgroupId: server.cg, pid: 0 }),
    ],
    close: [
      ev({ time: t + 50, startTime: t, type: 'close', cookie: c, role: 'client', saddr: client.ip, sport: client.port, daddr: server.ip, dport: server.port, cgroupId: client.cg, pid: client.pid, bytesSent: bytes, bytesReceived: 10, srttUs: 50 }),
      ev({ time: t + 50, startTime: t, type: 'close', cookie: s, role: 'server', saddr: server.ip, sport: server.port, daddr: client.ip, dport: client.port, cgroupId: server.cg, pid: 77, bytesReceived: bytes, bytesSent: 10, srttUs: 40 }),
    ],
  };
}

test('both local ends of a connection make one edge, replicas one service node', () => {
  const g = new LiveGraph(identity);
  const a = pair({ ip: '10.0.0.2', port: 40000, cg: 100, pid: 5 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 1000);
  const b = pair({ ip: '10.0.0.3', port: 40001, cg: 101, pid: 6 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 2000);
  g.ingest([...a.open, ...b.open], 1000);
  let snap = g.snapshot({}, 1001);
  assert.deepEqual(snap.edges.map((e) => e.id), ['svc:shop/web|svc:shop/db|5432|tcp']);
  assert.equal(snap.edges[0].connections.active, 2);
  assert.equal(snap.nodes.find((n) => n.id === 'svc:shop/web')!.instances.length, 2);
  g.ingest([...a.close, ...b.close], 1100);
  snap = g.snapshot({}, 1101);
  const e = snap.edges[0];
  assert.equal(e.connections.opened, 2);
  assert.equal(e.connections.active, 0);
  assert.equal(e.connections.closed, 2);
  assert.equal(e.connections.failed, 0);
  assert.equal(e.bytes.sent, 3000, 'client->server bytes counted once, not twice');
  assert.equal(e.bytes.received, 20);
  assert.equal(e.duration.meanMs, 50);
  assert.equal(e.rtt.samples, 2);
});

test('a refused connect to a host port fails on an edge to the host, with a sample', () => {
  const g = new LiveGraph(identity);
  const c = cookie++;
  g.ingest([
    ev({ type: 'connect', cookie: c, saddr: '10.0.0.2', daddr: '127.0.0.1', dport: 9, cgroupId: 100, pid: 5, established: false }),
    ev({ type: 'close', cookie: c, saddr: '10.0.0.2', sport: 40010, daddr: '127.0.0.1', dport: 9, cgroupId: 100, pid: 5, established: false, failure: 'refused', error: 'ECONNREFUSED' }),
  ], 1000);
  const snap = g.snapshot({}, 1000);
  assert.equal(snap.edges.length, 1);
  const e = snap.edges[0];
  assert.equal(e.target, 'proc:host');
  assert.equal(e.port, 9);
  assert.equal(e.connections.opened, 0);
  assert.equal(e.connections.failedBy.refused, 1);
  const d = g.edgeDetail(e.id, 1000)!;
  assert.equal(d.recentFailures[0].reason, 'refused');
  assert.equal(d.recentFailures[0].clientPid, 5);
});

test('a remote client and an external server appear, and the clients list counts the remote one', () => {
  const g = new LiveGraph(identity);
  g.ingest([
    ev({ type: 'established', role: 'server', saddr: '10.0.0.4', sport: 5432, daddr: '198.51.100.7', dport: 50000, cgroupId: 102 }),
    ev({ type: 'established', role: 'client', saddr: '10.0.0.2', sport: 41000, daddr: '203.0.113.9', dport: 443, cgroupId: 100 }),
  ], 1000);
  const snap = g.snapshot({}, 1000);
  assert.deepEqual(snap.edges.map((e) => e.id).sort(), ['client:198.51.100.7|svc:shop/db|5432|tcp', 'svc:shop/web|ext:203.0.113.9|443|tcp']);
  assert.equal(g.remoteClients()[0].ip, '198.51.100.7');
  assert.equal(g.snapshot({ include: new Set() }, 1000).edges.length, 0, 'include= narrows to containers');
  assert.equal(g.snapshot({ group: 'other' }, 1000).edges.length, 0);
});

test('docker-proxy on a published port is replaced by the container behind it', () => {
  const g = new LiveGraph(identity);
  const proxy = { kind: 'process', pid: 9, comm: 'docker-proxy', exe: 'docker-proxy', cmdline: '', unit: null } as const;
  const id2: Identity = { ...identity, resolveOwner: (q) => (q.cgroupId === 9 ? proxy : identity.resolveOwner(q)) };
  const g2 = new LiveGraph(id2);
  const a = pair({ ip: '127.0.0.1', port: 42000, cg: 1, pid: 5 }, { ip: '127.0.0.1', port: 15432, cg: 9 }, 100);
  const hop = pair({ ip: '10.0.0.1', port: 43000, cg: 9, pid: 9 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 100);
  g2.ingest([...a.open, ...hop.open, ...a.close, ...hop.close], 1000);
  const snap = g2.snapshot({}, 1000);
  assert.deepEqual(snap.edges.map((e) => e.id), ['proc:x|svc:shop/db|5432|tcp']);
  void g;
});

test('idle edges leave the live view and the delta says so; deltas carry only changes', () => {
  const g = new LiveGraph(identity, { idleMs: 1000 });
  const a = pair({ ip: '10.0.0.2', port: 40000, cg: 100, pid: 5 }, { ip: '10.0.0.4', port: 5432, cg: 102 }, 1000);
  g.ingest([...a.open, ...a.close], 1000);
  const v0 = g.changesSince(0, {}, 1000);
  assert.equal(v0.delta.edges.length, 1);
  const quiet = g.changesSince(v0.version, {}, 200_000);
  assert.equal(quiet.delta.edges.length, 0);
  assert.equal(quiet.delta.nodes.length, 0);
  g.tick(200_000);
  const after = g.changesSince(v0.version, {}, 200_000);
  assert.deepEqual(after.delta.removedEdges, ['svc:shop/web|svc:shop/db|5432|tcp']);
  assert.equal(g.snapshot({}, 200_000).edges.length, 0);
  assert.equal(g.counters.expiredEdges, 1);
});

test('beyond the cap, outside endpoints collapse into one node, counted', () => {
  const g = new LiveGraph(identity, { maxExternalNodes: 2 });
  for (let i = 1; i <= 5; i++) g.ingest([ev({ role: 'client', saddr: '10.0.0.2', sport: 41000 + i, daddr: `203.0.113.${i}`, dport: 443, cgroupId: 100 })], 1000);
  const ids = g.snapshot({}, 1000).nodes.map((n) => n.id).filter((id) => id.startsWith('ext:')).sort();
  assert.deepEqual(ids, ['ext:203.0.113.1', 'ext:203.0.113.2', 'ext:other']);
  assert.equal(g.counters.collapsedEndpoints, 3);
});

test('a client port reused towards two servers pairs each server with its own client (discovery order)', () => {
  const g = new LiveGraph(identity);
  const existing = (p: Partial<ConnEvent>) => ev({ type: 'existing', cookie: 0, startTime: null, midflight: true, ...p });
  g.ingest([
    // two client sockets on the same local port: one to db, one to an outside server
    existing({ role: 'client', saddr: '10.0.0.2', sport: 40500, daddr: '10.0.0.4', dport: 5432, cgroupId: 100 }),
    existing({ role: 'client', saddr: '10.0.0.2', sport: 40500, daddr: '203.0.113.5', dport: 5432, cgroupId: 100 }),
    // then the server ends, as discovery reports them after the clients
    existing({ role: 'server', saddr: '10.0.0.4', sport: 5432, daddr: '10.0.0.2', dport: 40500, cgroupId: 102 }),
  ], 1000);
  g.tick(5000);
  const snap = g.snapshot({}, 5000);
  assert.deepEqual(snap.edges.map((e) => `${e.id}=${e.connections.active}`).sort(), [
    'svc:shop/web|ext:203.0.113.5|5432|tcp=1',
    'svc:shop/web|svc:shop/db|5432|tcp=1',
  ]);
});
