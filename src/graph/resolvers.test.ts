// The graph's DNS side with a stand-in identity and name map: outside servers
// named by the name their client resolved, names listed on local nodes, and
// resolver edges built from per client -> resolver health.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveGraph } from './live-graph.js';
import { identity, ev, CONTAINERS, WEB, namedLate } from '../../test/support/fixtures.js';
import { containerNode } from './naming.js';
import type { Identity } from './placement.js';
import type { ContainerInfo } from '../identity/types.js';
import type { DnsHealth, DnsResolver } from '../dns/types.js';
import type { AddressNames } from './naming.js';
import { DNS_DEFAULTS, GRAPH_DEFAULTS } from '../config/defaults.js';

const T = 1_000_000;

/** A client-side connection from the web container (cgroup 100) to ip:port, open then closed. */
function connectOut(g: LiveGraph, ip: string, port: number, t: number, pid = 5) {
  const cookie = Math.floor(Math.random() * 1e9);
  const base = { cookie, saddr: '10.0.0.2', sport: 40000 + (cookie % 20000), daddr: ip, dport: port, cgroupId: 100, pid, comm: 'client', startTime: t };
  g.ingest([ev({ ...base, type: 'connect', time: t, established: false }), ev({ ...base, type: 'established', time: t + 1 })], t + 1);
  g.ingest([ev({ ...base, type: 'close', time: t + 5, established: true })], t + 5);
}

/** Names by address, per client pid (0: any client). */
function nameMap(entries: [string, number, string, string[]][]): AddressNames & { asked: { netns: number; address: string; pid?: number }[] } {
  const asked: { netns: number; address: string; pid?: number }[] = [];
  return {
    asked,
    nameFor(netns, address, client) {
      asked.push({ netns, address, pid: client?.pid });
      const hit = entries.find(([a, pid]) => a === address && (pid === 0 || pid === client?.pid));
      return hit ? { name: hit[2], cnames: hit[3] } : null;
    },
  };
}

const resolver = (address: string, dockerEmbedded = false): DnsResolver => ({ address, port: 53, family: 4, dockerEmbedded });

function health(p: Partial<DnsHealth> & { comm?: string; cgroupId?: number; resolver: DnsResolver }): DnsHealth {
  const buckets = new Array(DNS_DEFAULTS.latencyBucketsMs.length + 1).fill(0);
  const h: DnsHealth = {
    clientKey: `${p.cgroupId ?? 100}/1/${p.comm ?? 'client'}`,
    client: { pid: 5, comm: p.comm ?? 'client', cgroupId: p.cgroupId ?? 100, netns: 1, address: '10.0.0.2' },
    firstSeen: T, lastSeen: T, queries: 0, queriesPerSec: 0, answered: 0, noerror: 0, nxdomain: 0, servfail: 0, refused: 0,
    otherErrors: 0, timeouts: 0, searchExpansions: 0, failures: 0,
    latency: { count: 0, p50Ms: null, p95Ms: null, maxMs: null, sumMs: 0, buckets }, failingNames: [],
    ...p,
  };
  h.failures = h.nxdomain + h.servfail + h.refused + h.otherErrors + h.timeouts;
  h.answered = h.queries - h.timeouts;
  h.noerror = h.answered - h.nxdomain - h.servfail - h.refused - h.otherErrors;
  return h;
}

test('an outside server is named by the name its client resolved, its address kept as detail; one never resolved keeps its address', () => {
  const g = new LiveGraph(identity);
  const names = nameMap([['203.0.113.9', 0, 'payments.partner.example', ['pay.edge.cdn.example']]]);
  g.setNames(names);
  connectOut(g, '203.0.113.9', 443, T);
  connectOut(g, '203.0.113.10', 443, T + 10);
  const s = g.snapshot({}, T + 100);
  const named = s.nodes.find((n) => n.id === 'ext:payments.partner.example');
  assert.ok(named, s.nodes.map((n) => n.id).join(' '));
  assert.equal(named.kind, 'external');
  assert.equal(named.label, 'payments.partner.example');
  assert.deepEqual(named.ips, ['203.0.113.9']);
  assert.deepEqual(named.dns, { names: ['payments.partner.example'], cnames: ['pay.edge.cdn.example'], domain: 'partner.example' });
  assert.ok(s.edges.some((e) => e.id === 'svc:shop/web|ext:payments.partner.example|443|tcp'));
  const bare = s.nodes.find((n) => n.id === 'ext:203.0.113.10');
  assert.ok(bare && bare.label === '203.0.113.10' && !bare.dns, 'never resolved: its address');
  assert.deepEqual(names.asked[0], { netns: 1, address: '203.0.113.9', pid: 5 }, 'asked in the client\'s namespace, for the client');
});

test('one address with several names: each client\'s edge uses the name that client resolved', () => {
  const g = new LiveGraph(identity);
  g.setNames(nameMap([['203.0.113.9', 5, 'api.partner.example', []], ['203.0.113.9', 6, 'www.partner.example', ['api.partner.example']]]));
  connectOut(g, '203.0.113.9', 443, T, 5);
  connectOut(g, '203.0.113.9', 443, T + 10, 6);
  const ids = g.snapshot({}, T + 100).edges.map((e) => e.id).sort();
  assert.deepEqual(ids, ['svc:shop/web|ext:api.partner.example|443|tcp', 'svc:shop/web|ext:www.partner.example|443|tcp']);
  assert.deepEqual(g.nodeDetail('ext:www.partner.example')!.dns!.cnames, ['api.partner.example']);
});

test('a container resolved by name (Docker\'s embedded DNS) stays its own node and lists the name', () => {
  const g = new LiveGraph(identity);
  g.setNames(nameMap([['10.0.0.4', 0, 'db', []]]));
  connectOut(g, '10.0.0.4', 5432, T);
  const s = g.snapshot({}, T + 100);
  assert.ok(!s.nodes.some((n) => n.kind === 'external'), 'no external node for a container');
  assert.deepEqual(s.nodes.find((n) => n.id === 'svc:shop/db')!.dns, { names: ['db'], cnames: [], domain: null });
  assert.ok(s.edges.some((e) => e.id === 'svc:shop/web|svc:shop/db|5432|tcp'));
});

test('resolver edges: counts move by what changed, failures turn the edge red, failing names listed; an NXDOMAIN taken back is taken off', () => {
  const g = new LiveGraph(identity);
  const embedded = resolver('127.0.0.11', true);
  const b = new Array(DNS_DEFAULTS.latencyBucketsMs.length + 1).fill(0);
  b[2] = 7;
  g.updateDns([health({
    resolver: embedded, queries: 10, nxdomain: 2, timeouts: 1, lastSeen: T + 900.5632, // DNS times are fractional
    latency: { count: 9, p50Ms: 0.7, p95Ms: 0.95, maxMs: 1, sumMs: 6.3, buckets: b },
    failingNames: [{ name: 'dbb', count: 2, reason: 'NXDOMAIN', lastSeen: T + 800 }, { name: 'slow.example', count: 1, reason: 'timeout', lastSeen: T + 900 }],
  })], T + 1000);
  const id = 'svc:shop/web|proc:docker-dns|53|dns';
  let e = g.edgeDetail(id, T + 1000)!;
  assert.ok(e, g.snapshot({}, T + 1000).edges.map((x) => x.id).join(' '));
  assert.equal(e.protocol, 'dns');
  assert.ok(Number.isInteger(e.lastSeen), `whole ms: ${e.lastSeen}`);
  assert.deepEqual([e.connections.opened, e.connections.closed, e.connections.failed], [10, 9, 3]);
  assert.deepEqual([e.dns!.queries, e.dns!.nxdomain, e.dns!.timeouts, e.dns!.failures, e.dns!.noerror], [10, 2, 1, 3, 7]);
  assert.deepEqual(e.dns!.resolvers, [{ address: '127.0.0.11', port: 53, dockerEmbedded: true }]);
  assert.equal(e.dns!.latency.p95Ms, 0.95);
  assert.deepEqual(e.dns!.failingNames.map((f) => [f.name, f.reason, f.count]), [['dbb', 'NXDOMAIN', 2], ['slow.example', 'timeout', 1]]);
  const next = g.edgeDetail(id, T + 2000)!; // rates read complete seconds
  assert.ok(next.rates['10s'].failures > 0 && next.rates['10s'].connections > 0, 'failing now: the map draws it red');
  assert.equal(g.snapshot({}, T + 1000).nodes.find((n) => n.id === 'proc:docker-dns')!.label, 'Docker DNS');

  // Five more queries, one more NXDOMAIN; then the search-list rule takes one NXDOMAIN back.
  g.updateDns([health({ resolver: embedded, queries: 15, nxdomain: 3, timeouts: 1, lastSeen: T + 1900, failingNames: [{ name: 'dbb', count: 3, reason: 'NXDOMAIN', lastSeen: T + 1900 }] })], T + 2000);
  e = g.edgeDetail(id, T + 2000)!;
  assert.deepEqual([e.connections.opened, e.connections.failed, e.dns!.nxdomain], [15, 4, 3]);
  g.updateDns([health({ resolver: embedded, queries: 15, nxdomain: 2, timeouts: 1, searchExpansions: 1, lastSeen: T + 2500 })], T + 3000);
  e = g.edgeDetail(id, T + 3000)!;
  assert.deepEqual([e.connections.opened, e.connections.failed, e.dns!.nxdomain, e.dns!.failures], [15, 3, 2, 3]);

  // The same numbers again: nothing moves.
  const v = g.currentVersion;
  g.updateDns([health({ resolver: embedded, queries: 15, nxdomain: 2, timeouts: 1, lastSeen: T + 2500 })], T + 4000);
  assert.equal(g.currentVersion, v);
});

test('a client container Docker has not named yet (known by its cgroup only) gets its resolver edge on its own node once named, or after a grace', () => {
  // cgroup 300: a short-lived container; the daemon's inspect lands after its queries were counted.
  const named: ContainerInfo = { ...CONTAINERS[0], id: 'f'.repeat(64), shortId: 'f'.repeat(12), name: 'one-shot', compose: null, cgroupId: 300 };
  const synthetic: ContainerInfo = { ...named, name: named.shortId, source: 'cgroup' };
  let inspected = false;
  const id: Identity = {
    resolveOwner: (q) => (q.cgroupId === 300 ? { kind: 'container', container: inspected ? named : synthetic, pid: q.pid, comm: q.comm ?? '' } : identity.resolveOwner(q)),
    resolveAddress: identity.resolveAddress,
  };
  const g = new LiveGraph(id);
  const embedded = resolver('127.0.0.11', true);
  const h = (queries: number, at: number) => ({ ...health({ cgroupId: 300, comm: 'getent', resolver: embedded, queries, lastSeen: at }), clientKey: g.dnsClientKey(health({ cgroupId: 300, comm: 'getent', resolver: embedded }).client) });
  const first = h(2, T);
  g.updateDns([first], T + 500);
  assert.ok(!g.snapshot({}, T + 500).edges.some((e) => e.protocol === 'dns'), 'not drawn on a node named by its id');
  inspected = true;
  g.updateDns([{ ...first }], T + 1500);
  const e = g.snapshot({}, T + 1500).edges.find((x) => x.protocol === 'dns')!;
  assert.equal(e.id, 'ctr:one-shot|proc:docker-dns|53|dns');
  assert.equal(e.dns!.queries, 2);
  // Never named: drawn by its id after the grace, its queries not lost.
  inspected = false;
  const g2 = new LiveGraph(id);
  const other = { ...first, clientKey: g2.dnsClientKey(first.client) };
  g2.updateDns([other], T + 1000);
  assert.equal(g2.snapshot({}, T + 1000).edges.filter((x) => x.protocol === 'dns').length, 0);
  g2.updateDns([other], T + 1000 + GRAPH_DEFAULTS.dnsClientNameGraceMs - 1);
  assert.equal(g2.snapshot({}, T + 1000 + GRAPH_DEFAULTS.dnsClientNameGraceMs - 1).edges.filter((x) => x.protocol === 'dns').length, 0, 'the grace runs from when the map first heard of the pair');
  g2.updateDns([other], T + 1000 + GRAPH_DEFAULTS.dnsClientNameGraceMs);
  assert.deepEqual(g2.snapshot({}, T + 1000 + GRAPH_DEFAULTS.dnsClientNameGraceMs).edges.filter((x) => x.protocol === 'dns').map((x) => [x.id, x.dns!.queries]),
    [[`ctr:${'f'.repeat(12)}|proc:docker-dns|53|dns`, 2]]);
});

test('a resolver on this host is named by its process even when the first query timed out (the pair is told of only after the DNS timeout, as the lookup of its process begins)', () => {
  const id: Identity = {
    ...identity,
    resolveOwner: (q) => (q.pid === 77 ? { kind: 'process', pid: 77, comm: 'python3', exe: 'python3', cmdline: '', unit: null } : identity.resolveOwner(q)),
  };
  const g = new LiveGraph(id);
  let pid: number | null | undefined; // the UDP socket's holder, looked up off the event path: not known at first
  g.setHostUdpServers(() => pid);
  const first = health({ cgroupId: 0, comm: 'dig', resolver: resolver('127.0.0.1'), queries: 1, timeouts: 1, firstSeen: T, lastSeen: T });
  const h = { ...first, clientKey: g.dnsClientKey(first.client) };
  const told = T + DNS_DEFAULTS.queryTimeoutMs + 500;
  g.updateDns([h], told);
  assert.equal(g.snapshot({}, told).edges.filter((x) => x.protocol === 'dns').length, 0, 'waits for the lookup: not the anonymous host resolver');
  pid = 77;
  g.updateDns([h], told + 100);
  assert.deepEqual(g.snapshot({}, told + 100).edges.filter((x) => x.protocol === 'dns').map((x) => [x.id, x.dns!.queries, x.dns!.timeouts]), [['proc:dig|proc:python3|53|dns', 1, 1]]);
});

test('a resolver on a host address that a container also publishes (0.0.0.0:53/udp): the process holding the socket answers, the container only through docker-proxy', () => {
  const dnsCtr: ContainerInfo = { ...CONTAINERS[1], ports: [{ hostIp: '0.0.0.0', hostPort: 53, containerPort: 5353, protocol: 'udp' }] };
  const proc = (pid: number, comm: string) => ({ kind: 'process' as const, pid, comm, exe: comm, cmdline: '', unit: null });
  const id: Identity = {
    resolveOwner: (q) => (q.pid === 77 ? proc(77, 'systemd-resolve') : q.pid === 88 ? proc(88, 'docker-proxy') : identity.resolveOwner(q)),
    resolveAddress: (ip, port) => (ip.startsWith('127.') ? { kind: 'host', published: port === 53 ? { container: dnsCtr, containerPort: 5353, hostIp: '0.0.0.0', hostPort: 53 } : null } : identity.resolveAddress(ip, port)),
  };
  const edgesWith = (holder: number) => {
    const g = new LiveGraph(id);
    g.setHostUdpServers(() => holder);
    const first = health({ cgroupId: 0, comm: 'dig', resolver: resolver('127.0.0.53'), queries: 2 });
    g.updateDns([{ ...first, clientKey: g.dnsClientKey(first.client) }], T + 100);
    return g.snapshot({}, T + 100).edges.filter((x) => x.protocol === 'dns').map((x) => x.id);
  };
  assert.deepEqual(edgesWith(77), ['proc:dig|proc:systemd-resolve|53|dns'], 'no userland proxy: the host\'s resolver holds 127.0.0.53:53');
  assert.deepEqual(edgesWith(88), [`proc:dig|${containerNode(dnsCtr).id}|5353|dns`], 'docker-proxy holds it: the container, on its own port');
});

test('dockerd asking upstream for the embedded DNS is drawn from the Docker DNS node; an upstream resolver outside is an external node', () => {
  const g = new LiveGraph(identity);
  g.updateDns([health({ comm: 'dockerd', cgroupId: 7, resolver: resolver('198.51.100.53'), queries: 4, servfail: 1 })], T);
  const e = g.snapshot({}, T).edges.find((x) => x.protocol === 'dns')!;
  assert.equal(e.id, 'proc:docker-dns|ext:198.51.100.53|53|dns');
  assert.equal(e.dns!.servfail, 1);
  assert.ok(g.snapshot({ protocol: 'tcp' }, T).edges.length === 0, 'the protocol filter leaves resolver edges out');
});

test('the history interval carries a resolver edge\'s queries, failures by kind, latency and failing names', () => {
  const g = new LiveGraph(identity);
  g.startIntervals();
  const b = new Array(DNS_DEFAULTS.latencyBucketsMs.length + 1).fill(0);
  b[3] = 4; // (1, 2] ms
  g.updateDns([health({
    resolver: resolver('198.51.100.53'), queries: 6, nxdomain: 1, refused: 1,
    latency: { count: 6, p50Ms: 1.5, p95Ms: 2, maxMs: 2, sumMs: 9, buckets: b },
    failingNames: [{ name: 'nope.example', count: 1, reason: 'NXDOMAIN', lastSeen: T }],
  })], T);
  const row = g.drainInterval(T + 10_000).edges.find((r) => r.edge.protocol === 'dns')!;
  assert.deepEqual([row.opened, row.closed, row.failed], [6, 6, 2]);
  assert.deepEqual(row.dns, { nxdomain: 1, servfail: 0, refused: 1, timeouts: 0, otherErrors: 0, failingNames: [{ name: 'nope.example', count: 1, reason: 'NXDOMAIN', lastSeen: T }] });
  assert.equal(row.rttMeanUs, 1500, 'mean answer latency in µs');
  assert.ok(row.rttP95Us > 1000 && row.rttP95Us <= 2000, `p95 ${row.rttP95Us}`);
  assert.equal(g.drainInterval(T + 20_000).edges.filter((r) => r.edge.protocol === 'dns').length, 0, 'nothing new: no row');
});

test('a resolver edge of a container named late folds into its named node\'s: its totals once, later queries counted from there', () => {
  const id = namedLate(WEB);
  const g = new LiveGraph(id);
  const docker = resolver('127.0.0.11', true);
  const grace = GRAPH_DEFAULTS.dnsClientNameGraceMs;
  const unnamed = health({ resolver: docker, clientKey: `ctr:${WEB.shortId}`, queries: 10, nxdomain: 2 });
  g.updateDns([unnamed], T);
  g.updateDns([unnamed], T + grace);
  const dnsEdges = () => g.snapshot({}, T + grace + 2000).edges.filter((e) => e.protocol === 'dns');
  assert.deepEqual(dnsEdges().map((e) => e.source), [`ctr:${WEB.shortId}`], 'drawn under the container id after the grace');
  id.name();
  g.mergeNode(`ctr:${WEB.shortId}`, containerNode(WEB), T + grace + 1000);
  let e = dnsEdges();
  assert.deepEqual(e.map((x) => [x.source, x.dns!.queries, x.dns!.nxdomain, x.connections.opened]), [['svc:shop/web', 10, 2, 10]]);
  assert.deepEqual(e[0].dns!.resolvers.map((r) => r.address), ['127.0.0.11'], 'its view of the pair came along');
  // The collector keeps the pair under the key it had; the next feed adds only what is new, on the named edge.
  g.updateDns([health({ resolver: docker, clientKey: `ctr:${WEB.shortId}`, queries: 15, nxdomain: 3, lastSeen: T + grace + 1500 })], T + grace + 2000);
  e = dnsEdges();
  assert.deepEqual(e.map((x) => [x.source, x.dns!.queries, x.dns!.nxdomain]), [['svc:shop/web', 15, 3]]);
  assert.ok(!g.snapshot({}, T + grace + 2000).nodes.some((n) => n.id === `ctr:${WEB.shortId}`));
});

test('Docker\'s DNS forwarding to 127.0.0.1 inside a container\'s own namespace, where nothing listens: that container, not the host\'s resolver', () => {
  const api = CONTAINERS[0];
  const id: Identity = { ...identity, resolveOwner: (q) => (q.netns === 4242 && !q.pid && !q.cgroupId ? { kind: 'container', container: api, pid: 0, comm: '' } : identity.resolveOwner(q)) };
  const g = new LiveGraph(id);
  g.setHostUdpServers(() => null); // from another namespace, a loopback address is not the host's (discovery/udp-servers.ts)
  const inApi = health({ comm: 'dockerd', cgroupId: 7, resolver: resolver('127.0.0.1'), queries: 4, timeouts: 4 });
  inApi.client = { ...inApi.client, netns: 4242 };
  const onHost = health({ comm: 'dig', cgroupId: 0, resolver: resolver('127.0.0.1'), queries: 1, timeouts: 1 });
  g.updateDns([{ ...inApi, clientKey: g.dnsClientKey(inApi.client) }, { ...onHost, clientKey: g.dnsClientKey(onHost.client) }], T);
  assert.deepEqual(g.snapshot({}, T).edges.filter((x) => x.protocol === 'dns').map((x) => x.id).sort(),
    [`proc:dig|proc:host-dns|53|dns`, `proc:docker-dns|${containerNode(api).id}|53|dns`].sort());
});
