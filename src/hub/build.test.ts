import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressBook, buildGraph, EdgeTable, ratesBetween, reportFrom } from './build.js';
import { COUNTERS, DNS_SERIES, SEP } from './queries.js';
import { EDGE_LABELS } from '../export/labels.js';

const e = (l: Record<string, string>) => EDGE_LABELS.map((k) => l[k] ?? '').join(SEP);
const WEB = { client: 'web', client_group: 'shop', client_kind: 'service', host: 'h1' };
const DNS_EDGE = e({ ...WEB, server: 'Docker DNS', server_group: 'host', server_kind: 'process', server_port: '53', protocol: 'dns' });
const TCP_EDGE = e({ ...WEB, server: 'api', server_group: 'shop', server_kind: 'service', server_port: '8080', protocol: 'tcp' });

test('a resolver edge from the agents\' DNS series: queries as connections, failures by kind, answered, p95, its own id and protocol', () => {
  const t = new EdgeTable();
  t.addEdges([
    { metric: { __name__: DNS_SERIES.queries, e: DNS_EDGE }, value: 10 },
    { metric: { __name__: DNS_SERIES.failures, e: DNS_EDGE, kind: 'NXDOMAIN' }, value: 3 },
    { metric: { __name__: DNS_SERIES.failures, e: DNS_EDGE, kind: 'timeout' }, value: 1 },
    { metric: { __name__: DNS_SERIES.failures, e: DNS_EDGE, kind: 'SERVFAIL' }, value: 0 },
    { metric: { __name__: DNS_SERIES.p95, e: DNS_EDGE }, value: 0.0123 },
    { metric: { __name__: COUNTERS.opened, e: TCP_EDGE }, value: 7 },
  ]);
  const { graph } = buildGraph(t.edges.values(), new AddressBook([]), 1000);
  const dns = graph.edges.find((x) => x.protocol === 'dns')!;
  assert.equal(dns.id, 'svc:shop/web|proc:Docker DNS@h1|53|dns');
  assert.deepEqual([dns.connections.opened, dns.connections.failed, dns.bytes.sent], [10, 4, 0]);
  assert.deepEqual({ ...dns.dns, latency: undefined }, {
    resolvers: [], queries: 10, answered: 9, noerror: 6, nxdomain: 3, servfail: 0, refused: 0, otherErrors: 0, timeouts: 1, failures: 4,
    queriesPerSec: 0, latency: undefined, failingNames: [],
  });
  assert.equal(dns.dns!.latency.p95Ms, 12.3);
  const tcp = graph.edges.find((x) => x.protocol === 'tcp')!;
  assert.equal(tcp.id, 'svc:shop/web|svc:shop/api|8080|tcp');
  assert.equal(tcp.dns, undefined, 'a TCP edge has no DNS block');
  assert.equal(graph.nodes.find((n) => n.id === dns.target)?.label, 'Docker DNS');
});

test('a resolver edge\'s rates: queries and failed queries per second, every failure kind summed', () => {
  const at = (t: number, q: number, nx: number, to: number) => reportFrom(t, [
    { metric: { __name__: DNS_SERIES.queries, e: DNS_EDGE }, value: q },
    { metric: { __name__: DNS_SERIES.failures, e: DNS_EDGE, kind: 'NXDOMAIN' }, value: nx },
    { metric: { __name__: DNS_SERIES.failures, e: DNS_EDGE, kind: 'timeout' }, value: to },
  ]);
  const r = ratesBetween(at(10_000, 30, 6, 2), at(0, 10, 1, 1)).get(DNS_EDGE)!;
  assert.deepEqual([r.connections, r.failures], [2, 0.6]);
});

test('a server that one host\'s clients know by a DNS name joins the host that owns an address behind it (dhrishti_name_info)', () => {
  const book = new AddressBook([
    { metric: { __name__: 'dhrishti_listen_info', host: 'h2', ip: '10.0.0.2', port: '8080', name: 'api', group: 'shop', kind: 'service' }, value: 1 },
    { metric: { __name__: 'dhrishti_name_info', host: 'h1', dns_name: 'api.internal', ip: '10.0.0.9' }, value: 1 },
    { metric: { __name__: 'dhrishti_name_info', host: 'h1', dns_name: 'api.internal', ip: '10.0.0.2' }, value: 1 },
    { metric: { host: 'h1', dns_name: 'other.example', ip: '10.0.0.2' }, value: 1 }, // a range answer has no __name__
  ]);
  const t = new EdgeTable();
  const byName = e({ ...WEB, server: 'api.internal', server_group: '', server_kind: 'external', server_port: '8080', protocol: 'tcp' });
  const byIp = e({ ...WEB, server: '10.0.0.2', server_group: '', server_kind: 'external', server_port: '8080', protocol: 'tcp' });
  t.addEdges([{ metric: { __name__: COUNTERS.opened, e: byName }, value: 5 }, { metric: { __name__: COUNTERS.opened, e: byIp }, value: 12 }]);
  const { graph } = buildGraph(t.edges.values(), book, 1000);
  assert.deepEqual(graph.edges.map((x) => [x.id, x.connections.opened]), [['svc:shop/web|svc:shop/api|8080|tcp', 17]], 'both views on one joined edge');
  assert.ok(!graph.nodes.some((n) => n.id.startsWith('ext:')), 'no outside node left');
  assert.equal(book.server('10.0.0.2', 8080)?.name, 'api', 'a name row never stands for the address\'s owner');
  assert.equal(book.named('h1', 'other.example', 8080)?.name, 'api', 'a name row read from a range answer (no __name__)');
});

test('a name joins only when every owned address behind it is on another host and names the same node', () => {
  const row = (host: string, ip: string, name: string) => ({ metric: { __name__: 'dhrishti_listen_info', host, ip, port: '8080', name, group: 'shop', kind: 'service' }, value: 1 });
  const named = (name: string, ...ips: string[]) => ips.map((ip) => ({ metric: { __name__: 'dhrishti_name_info', host: 'h1', dns_name: name, ip }, value: 1 }));
  const book = new AddressBook([
    row('h2', '10.0.0.2', 'api'), row('h3', '10.0.0.3', 'api'), row('h3', '10.0.0.4', 'billing'), row('h1', '10.0.0.1', 'api'),
    ...named('replicas', '10.0.0.2', '10.0.0.3', '10.0.0.99'), // one service on two hosts (and an address nobody owns)
    ...named('mixed', '10.0.0.2', '10.0.0.4'), // two services
    ...named('partly-mine', '10.0.0.2', '10.0.0.1'), // one of them this host's own
  ]);
  assert.equal(book.named('h1', 'replicas', 8080)?.name, 'api', 'the service\'s replicas are one node');
  assert.equal(book.named('h1', 'mixed', 8080), null, 'no pick between two services');
  assert.equal(book.named('h1', 'partly-mine', 8080), null, 'partly this host\'s own: stays outside');
  assert.equal(book.named('h2', 'replicas', 8080), null, 'names are per host');
});

test('a resolver edge over a range (?from=&to=): tagged increases fill its queries, failures by kind and the p95', () => {
  const t = new EdgeTable();
  t.addTagged([
    { metric: { __m: 'opened', e: DNS_EDGE }, value: 8 },
    { metric: { __m: 'failed', e: DNS_EDGE, kind: 'NXDOMAIN' }, value: 2 },
    { metric: { __m: 'failed', e: DNS_EDGE, kind: 'timeout' }, value: 1 },
    { metric: { __m: 'dnsP95', e: DNS_EDGE }, value: 0.004 },
    { metric: { __m: 'dnsP95', e: TCP_EDGE }, value: 9 }, // never on a TCP edge
    { metric: { __m: 'failed', e: TCP_EDGE, reason: 'refused' }, value: 5 },
  ]);
  const { graph } = buildGraph(t.edges.values(), new AddressBook([]), 1000);
  const dns = graph.edges.find((x) => x.protocol === 'dns')!;
  assert.deepEqual([dns.connections.opened, dns.connections.failed, dns.dns!.nxdomain, dns.dns!.timeouts, dns.dns!.answered, dns.dns!.latency.p95Ms], [8, 3, 2, 1, 7, 4]);
  const tcp = graph.edges.find((x) => x.protocol === 'tcp')!;
  assert.deepEqual([tcp.connections.failed, tcp.connections.failedBy.refused, tcp.dns], [5, 5, undefined]);
});

test('a node\'s listening ports come from its agents\' listen rows: a published port by its container port, with the host binding', () => {
  const row = (host: string, ip: string, port: string, name: string, kind: string, container_port = '') =>
    ({ metric: { __name__: 'dhrishti_listen_info', host, ip, port, name, group: kind === 'process' ? 'host' : 'shop', kind, ...(container_port ? { container_port, published: 'docker' } : {}) }, value: 1 });
  const book = new AddressBook([
    row('h1', '172.18.0.2', '5432', 'db', 'service'), row('h2', '172.19.0.5', '5432', 'db', 'service'), // replicas on two hosts
    row('h1', '10.0.0.1', '15432', 'db', 'service', '5432'), row('h1', '10.0.0.1', '22', 'sshd', 'process'),
  ]);
  assert.deepEqual(book.listeningOf('svc:shop/db'), [{ port: 5432, published: ['10.0.0.1:15432'] }]);
  assert.deepEqual(book.listeningOf('proc:sshd@h1'), [{ port: 22, published: [] }]);
  assert.deepEqual(book.listeningOf('proc:sshd@h2'), []);
});
