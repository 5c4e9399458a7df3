import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toDot, toMermaid } from './export.js';
import type { GraphSnapshot, GraphEdge } from './types.js';
import { block } from '../../test/support/fixtures.js';

const rates = { connections: 2, failures: 0, bytesSent: 0, bytesReceived: 0 };
const edge = (source: string, target: string, port: number, failed = 0): GraphEdge => ({
  id: `${source}|${target}|${port}|tcp`, source, target, port, protocol: 'tcp',
  connections: { opened: 3, active: 1, closed: 2, failed, failedBy: { refused: failed, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } },
  bytes: { sent: 1, received: 1 }, rtt: { meanUs: 1, p95Us: 1, samples: 1 }, retransmits: 0, duration: { meanMs: 1, p95Ms: 1, samples: 1 },
  firstSeen: 0, lastSeen: 0, rates: failed ? { '10s': { ...rates, failures: 0.4 }, '1m': { ...rates, failures: 0.1 } } : { '10s': rates, '1m': rates },
});
const quiet = { ...rates, connections: 0 };
const g: GraphSnapshot = {
  generatedAt: 0,
  nodes: [
    { id: 'svc:shop/web', kind: 'service', label: 'web', group: 'shop', instances: [{ id: 'a', name: 'a', pids: [], ips: [] }, { id: 'b', name: 'b', pids: [], ips: [] }], ips: [], firstSeen: 0, lastSeen: 0, active: 1 },
    { id: 'svc:shop/db', kind: 'service', label: 'db "main"', group: 'shop', instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 1 },
    { id: 'ext:203.0.113.9', kind: 'external', label: '203.0.113.9', group: null, instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 0 },
  ],
  edges: [
    edge('svc:shop/web', 'svc:shop/db', 5432), edge('svc:shop/web', 'ext:203.0.113.9', 443, 4),
    { ...edge('svc:shop/web', 'svc:shop/api', 8080), requests: [block('http1', 42, 1.26, 180)] },
    { ...edge('svc:shop/web', 'svc:shop/cache', 6379), rates: { '10s': quiet, '1m': quiet } },
    { ...edge('svc:shop/web', 'proc:docker-dns', 53), id: 'svc:shop/web|proc:docker-dns|53|dns', protocol: 'dns' },
  ],
};

test('DOT groups by project, labels ports, requests, DNS queries and failures, escapes quotes', () => {
  const d = toDot(g);
  assert.match(d, /subgraph cluster_0 \{\n    label="shop";/);
  assert.match(d, /"svc:shop\/web" \[label="web \(x2\)", shape=box3d\];/);
  assert.match(d, /label="db \\"main\\""/);
  assert.match(d, /"svc:shop\/web" -> "ext:203.0.113.9" \[label=":443 2 conn\/s · 4 failed", color=red\];/);
  assert.match(d, /"svc:shop\/web" -> "svc:shop\/api" \[label=":8080 HTTP · 42\/s · 3% 5xx · p95 180 ms", color=orange\];/, 'requests as the map labels and colours them (3% 5xx: degraded under the default 5%)');
  assert.match(d, /"svc:shop\/web" -> "proc:docker-dns" \[label="DNS 2 q\/s", color=black\];/, 'DNS in queries, with no port');
});

test('a stopped or replaced instance is not counted as a replica', () => {
  const web = g.nodes[0];
  const replaced = { ...web, instances: [{ ...web.instances[0], state: 'stopped' as const }, { ...web.instances[1], state: 'running' as const }] };
  const h = { ...g, nodes: [replaced, ...g.nodes.slice(1)] };
  assert.match(toDot(h), /"svc:shop\/web" \[label="web", shape=box3d\];/);
  assert.match(toMermaid(h), /\["web"\]/);
});

test('an edge whose requests were quiet for a minute keeps its totals in a text export, and is coloured by their error share', () => {
  const none = { requests: 0, errors: 0, clientErrors: 0, serverErrors: 0, latency: { samples: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 } };
  const pg = block('postgres', 0.45, 0.09, 300, { count: 27, errors: 5, rates: { '10s': none, '1m': none } });
  const d = toDot({ ...g, edges: [{ ...edge('svc:shop/api', 'svc:shop/db', 5432), requests: [pg], rates: { '10s': quiet, '1m': quiet } }] });
  assert.match(d, /\[label=":5432 Postgres 27 req · 5 errors", color=red\];/, '5 of 27 failed: past the default 5%');
});

test('Mermaid is a flowchart with subgraphs and red failing links', () => {
  const m = toMermaid(g);
  assert.ok(m.startsWith('flowchart LR\n'));
  assert.match(m, /subgraph g\d\["shop"\]/);
  assert.match(m, /-->\|":5432 2 conn\/s"\|/);
  assert.match(m, /-->\|":6379 1 open"\|/, 'a pool that opens nothing new: its open connections');
  assert.match(m, /-->\|":8080 HTTP · 42\/s · 3% 5xx · p95 180 ms"\|/);
  assert.match(m, /linkStyle 0 stroke:#d33/);
  assert.match(m, /#34;main#34;/);
});

test('a quiet resolver edge keeps its totals and says why it failed (orange: not lately); a port other than 53 is named', () => {
  const dns = { ...edge('svc:shop/web', 'proc:dnsmasq', 5353), id: 'svc:shop/web|proc:dnsmasq|5353|dns', protocol: 'dns' as const, rates: { '10s': quiet, '1m': quiet } };
  dns.connections = { ...dns.connections, opened: 10, failed: 5 };
  dns.dns = {
    resolvers: [], queries: 10, answered: 10, noerror: 5, nxdomain: 3, servfail: 0, refused: 2, otherErrors: 0, timeouts: 0, failures: 5,
    queriesPerSec: 0, latency: { p50Ms: null, p95Ms: null, maxMs: null }, failingNames: [],
  };
  assert.match(toDot({ ...g, edges: [dns] }), /\[label="DNS :5353 10 q · 5 failed \(3 NXDOMAIN, 2 REFUSED\)", color=orange\];/);
});

test('connections that failed before the last minute are orange, counted in the label; red is for failures lately, as on the map', () => {
  const old = { ...edge('svc:shop/web', 'svc:shop/api', 8081, 1), rates: { '10s': rates, '1m': rates } };
  assert.match(toDot({ ...g, edges: [old] }), /\[label=":8081 2 conn\/s · 1 failed", color=orange\];/);
  assert.doesNotMatch(toMermaid({ ...g, edges: [old] }), /stroke:#d33/);
});

test('an edge with requests lately is coloured by them, as labelled: failures long past do not turn it red', () => {
  const healthy = block('http1', 3, 0.05, 4, { count: 36, errors: 3 }); // 3 of 36 failed once; none in the last minute
  const d = toDot({ ...g, edges: [{ ...edge('svc:shop/web', 'svc:shop/api', 8080), requests: [{ ...healthy, rates: { '10s': healthy.rates['10s'], '1m': { ...healthy.rates['1m'], errors: 0 } } }] }] });
  assert.match(d, /\[label=":8080 HTTP · 3\/s · p95 4.0 ms", color=black\];/);
});

test('a process node keeps its newest pids, gone or not: they are no replica count', () => {
  const curl = { id: 'proc:curl', kind: 'process' as const, label: 'curl', group: 'host', instances: Array.from({ length: 16 }, (_, i) => ({ id: `pid:${i}`, name: 'curl', pids: [i], ips: [] })), ips: [], firstSeen: 0, lastSeen: 0, active: 0 };
  assert.match(toDot({ ...g, nodes: [...g.nodes, curl] }), /"proc:curl" \[label="curl", shape=component\];/);
});

test('a vacant container address says which container it was, in DOT and Mermaid as on the map', () => {
  const vacant = { id: 'ext:172.18.0.9', kind: 'external' as const, label: '172.18.0.9', group: null, instances: [], ips: ['172.18.0.9'], firstSeen: 0, lastSeen: 0, active: 0,
    vacant: { network: 'shop_default', lastHolder: 'db-old', lastHeldUntil: 1, group: null } };
  const h = { ...g, nodes: [...g.nodes, vacant, { ...vacant, id: 'ext:172.18.0.10', label: '172.18.0.10', vacant: { ...vacant.vacant, lastHolder: null, lastHeldUntil: null } }] };
  assert.match(toDot(h), /"ext:172.18.0.9" \[label="172.18.0.9 \(was db-old\)", shape=cloud\];/);
  assert.match(toDot(h), /"ext:172.18.0.10" \[label="172.18.0.10 \(no container\)"/);
  assert.match(toMermaid(h), /\(\("172.18.0.9 \(was db-old\)"\)\)/);
});
