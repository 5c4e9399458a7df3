// Verdicts: first matching rule wins, what each selector matches, attempted
// violations; the engine's violation news; and the decorator on a real
// LiveGraph (verdicts in snapshots and deltas, every edge again after a policy change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicyText } from './load.js';
import { PolicyEngine, type Violation, type ViolationNews } from './engine.js';
import { decorateGraph, follow } from './graph-view.js';
import type { GraphEdge, GraphNode } from '../graph/types.js';
import type { NodeLike } from './model.js';
import { LiveGraph } from '../graph/live-graph.js';
import { identity, connection, refused, web, db, cache, WEB_DB, WEB_CACHE } from '../store/testing.js';

const svc = (project: string, service: string, labels: Record<string, string> = {}, image = `${service}:1`, names = [`${project}-${service}-1`]): NodeLike => ({
  id: `svc:${project}/${service}`, kind: 'service', label: service, group: project, image,
  labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': service, ...labels },
  instances: names.map((name) => ({ id: name, name, pids: [1], ips: [], image })), ips: [],
});
const proc = (name: string, comm = name): NodeLike => ({ id: `proc:${name}`, kind: 'process', label: name, group: 'host', instances: [{ id: 'pid:9', name: comm, pids: [9], ips: [] }], ips: [] });
const ext = (ip: string): NodeLike => ({ id: `ext:${ip}`, kind: 'external', label: ip, group: null, instances: [], ips: [ip] });
const edge = (a: NodeLike, b: NodeLike, port: number, opened = 1, failed = 0) => ({ id: `${a.id}|${b.id}|${port}|tcp`, source: a.id, target: b.id, port, protocol: 'tcp', connections: { opened, failed } });

function judge(policy: string, nodes: NodeLike[], a: NodeLike, b: NodeLike, port: number, opened = 1, failed = 0) {
  const e = new PolicyEngine(loadPolicyText('p.yaml', policy));
  for (const n of nodes) e.noteNode(n);
  return e.verdict(edge(a, b, port, opened, failed));
}

const EX = `zones:
  web-clients: {process: curl}
  files: {process: "python3*"}
  tenant-a: {label: {tenant: a}}
  tenant-b: {compose_project: shop-b}
  partner: {cidr: 203.0.113.0/24}
rules:
  - name: no-curl-to-files
    deny: {from: web-clients, to: files}
  - name: tenant-a-stays-home
    allow-only: {from: tenant-a, to: [tenant-a, partner]}
`;

test("the issue's example: deny, allow-only inside and outside, CIDR, unmatched", () => {
  const curl = proc('curl'), py = proc('python3.11', 'python3'), worker = svc('shop-a', 'worker', { tenant: 'a' }), apiA = svc('shop-a', 'api', { tenant: 'a' });
  const dbB = svc('shop-b', 'db'), partner = ext('203.0.113.7'), other = ext('198.51.100.1');
  const all = [curl, py, worker, apiA, dbB, partner, other];
  assert.deepEqual(judge(EX, all, curl, py, 8000), { verdict: 'violation', rule: 'no-curl-to-files', attempted: false });
  assert.deepEqual(judge(EX, all, worker, dbB, 5432), { verdict: 'violation', rule: 'tenant-a-stays-home', attempted: false });
  assert.deepEqual(judge(EX, all, worker, apiA, 8080), { verdict: 'allowed', rule: 'tenant-a-stays-home' });
  assert.deepEqual(judge(EX, all, worker, partner, 443), { verdict: 'allowed', rule: 'tenant-a-stays-home' });
  assert.deepEqual(judge(EX, all, worker, other, 443), { verdict: 'violation', rule: 'tenant-a-stays-home', attempted: false });
  assert.deepEqual(judge(EX, all, dbB, worker, 80), { verdict: 'unmatched' });
  assert.deepEqual(judge(EX, all, py, curl, 80), { verdict: 'unmatched' }, 'deny is one way');
  assert.deepEqual(judge(EX, all, worker, dbB, 5432, 0, 3), { verdict: 'violation', rule: 'tenant-a-stays-home', attempted: true }, 'failed attempts only: attempted');
});

test('a project calling its own stale address (a vacant container address) stays in the project; a stranger\'s is outside', () => {
  const policy = `zones:
  shop: {compose_project: shop}
rules:
  - name: shop-stays-home
    allow-only: {from: shop, to: [shop]}
`;
  const api = svc('shop', 'api');
  const vacant = (group: string | null): NodeLike => ({ ...ext('172.31.240.10'), group, vacant: { network: 'shopnet', lastHolder: 'shop-db-1', lastHeldUntil: 1, group } });
  const judged = (target: NodeLike) => judge(policy, [api, target], api, target, 7000, 0, 5);
  assert.deepEqual(judged(vacant('shop')), { verdict: 'allowed', rule: 'shop-stays-home' });
  assert.deepEqual(judged(vacant('other')), { verdict: 'violation', rule: 'shop-stays-home', attempted: true });
  assert.deepEqual(judged(ext('172.31.240.10')), { verdict: 'violation', rule: 'shop-stays-home', attempted: true });
});

test('first matching rule wins; ports and protocols narrow what a rule looks at', () => {
  const a = svc('p', 'a', { zone: 'a' }), b = svc('p', 'b', { zone: 'b' });
  const policy = `zones:
  a: {label: {zone: a}}
  b: {label: {zone: b}}
rules:
  - name: a-b-metrics
    allow: {from: a, to: b, ports: ["9000-9100"]}
  - name: a-b-never
    deny: {from: a, to: b}
  - name: a-only-b-db
    allow-only: {from: a, to: b, ports: 5432, protocols: [udp]}
  - name: b-only-a
    allow-only: {from: b, to: a, ports: 80}
`;
  assert.deepEqual(judge(policy, [a, b], a, b, 9090), { verdict: 'allowed', rule: 'a-b-metrics' });
  assert.deepEqual(judge(policy, [a, b], a, b, 5432), { verdict: 'violation', rule: 'a-b-never', attempted: false }, 'the earlier deny wins');
  assert.deepEqual(judge(policy, [a, b], b, a, 80), { verdict: 'allowed', rule: 'b-only-a' });
  assert.deepEqual(judge(policy, [a, b], b, b, 80), { verdict: 'violation', rule: 'b-only-a', attempted: false }, 'allow-only: anything else from b on port 80');
  assert.deepEqual(judge(policy, [a, b], b, a, 81), { verdict: 'unmatched' }, 'other ports are not the rule\'s business');
  assert.deepEqual(judge(policy, [a, b], a, a, 5432), { verdict: 'unmatched' }, 'a udp-only rule never matches tcp');
});

test('selectors: images and names with slashes, process globs, several keys at once, lists of selectors, built-in zones', () => {
  const pg = svc('x', 'pg', {}, 'docker.io/library/postgres:15', ['legacy/pg-1']);
  const web = svc('shop-a', 'web', { team: 'ops' });
  const nginx = proc('nginx'), host = proc('host'), out = ext('::ffff:203.0.113.9'), v6 = ext('2001:db8::5');
  const policy = `zones:
  pg: {image: "*postgres*", name: "legacy/*"}
  ops-in-shops: [{compose_project: "shop-*", label: {team: "*"}}, {process: "ngin?"}]
  net: {cidr: ["203.0.113.0/24", "2001:db8::/32"]}
rules:
  - name: pg-no-out
    deny: {from: pg, to: [external, host]}
  - name: ops-to-pg
    allow: {from: ops-in-shops, to: pg}
  - name: any-to-net
    deny: {from: any, to: net}
`;
  const all = [pg, web, nginx, host, out, v6];
  assert.equal(judge(policy, all, pg, host, 22)?.rule, 'pg-no-out');
  assert.equal(judge(policy, all, pg, out, 22)?.rule, 'pg-no-out');
  assert.equal(judge(policy, all, web, pg, 5432)?.verdict, 'allowed');
  assert.equal(judge(policy, all, nginx, pg, 5432)?.verdict, 'allowed');
  assert.equal(judge(policy, all, web, out, 443)?.rule, 'any-to-net', 'an IPv4-mapped address matches the IPv4 range');
  assert.equal(judge(policy, all, nginx, v6, 443)?.rule, 'any-to-net');
  assert.deepEqual(judge(policy, all, host, web, 80), { verdict: 'unmatched' });
});

test('violations: new, counted, attempted then connected, recurring after a quiet period, cleared by a policy that allows them', () => {
  const a = svc('shop-a', 'worker', { tenant: 'a' }), b = svc('shop-b', 'db');
  const e = new PolicyEngine(loadPolicyText('p.yaml', EX), { quietMs: 60_000 });
  const heard: [ViolationNews | null, Violation, { connections: number; attempts: number }][] = [];
  e.onViolation((v, news, counts) => heard.push([news, { ...v }, counts]));
  e.noteNode(a); e.noteNode(b);
  const T = 1_000_000;
  const base = { ...edge(a, b, 5432), firstSeen: T };
  e.noteEdge({ ...base, connections: { opened: 0, failed: 2 }, lastSeen: T }, T);
  e.noteEdge({ ...base, connections: { opened: 0, failed: 3 }, lastSeen: T + 1000 }, T + 1000);
  e.noteEdge({ ...base, connections: { opened: 2, failed: 3 }, lastSeen: T + 2000 }, T + 2000);
  e.noteEdge({ ...base, connections: { opened: 2, failed: 3 }, lastSeen: T + 2000 }, T + 3000); // nothing new
  e.noteEdge({ ...base, connections: { opened: 3, failed: 3 }, lastSeen: T + 90_000 }, T + 90_000);
  assert.deepEqual(heard.map(([n, , c]) => [n, c.connections, c.attempts]), [['new', 0, 2], [null, 0, 1], ['connected', 2, 0], ['recurred', 1, 0]]);
  const [v] = e.violationList();
  assert.equal(v.attempted, false);
  assert.equal(v.firstSeen, T);
  assert.equal(v.lastSeen, T + 90_000);
  assert.deepEqual([v.connections, v.attempts], [3, 3]);
  assert.deepEqual(v.processes.client, ['shop-a-worker-1 (pid 1)'], 'without the edge\'s word: the client node\'s newest');
  assert.equal(heard[0][1].attempted, true, 'first heard as attempted');
  // The map says which instances made the edge's connections: those, not the node's newest (a review: the fixed replica was named).
  e.noteEdge({ ...base, connections: { opened: 3, failed: 3 }, lastSeen: T + 90_000, clientInstances: ['shop-a-worker-2'] }, T + 91_000);
  assert.deepEqual(e.violationList()[0].processes.client, ['shop-a-worker-2']);

  const allowed = EX.replace('to: [tenant-a, partner]', 'to: [tenant-a, partner, tenant-b]');
  e.setPolicy(loadPolicyText('p.yaml', allowed));
  assert.deepEqual(e.violationList(), []);
  assert.deepEqual(e.verdicts().map((x) => x.policy), [{ verdict: 'allowed', rule: 'tenant-a-stays-home' }]);
  e.setPolicy(loadPolicyText('p.yaml', EX), T + 100_000);
  assert.equal(heard.at(-1)![0], 'new', 'the stricter policy again: a new violation');
});

test('a connection that got through and was then reset counts once, as a connection; one open since before the agent is no attempt', () => {
  const a = svc('shop-a', 'worker', { tenant: 'a' }), b = svc('shop-b', 'db');
  const e = new PolicyEngine(loadPolicyText('p.yaml', EX));
  const heard: { connections: number; attempts: number }[] = [];
  e.onViolation((_v, _n, counts) => heard.push(counts));
  e.noteNode(a); e.noteNode(b);
  const failedBy = { refused: 1, timeout: 0, reset: 2, unreachable: 0, aborted: 0 };
  e.noteEdge({ ...edge(a, b, 5432), connections: { opened: 2, failed: 3, failedBy } }, 1000);
  const [v] = e.violationList();
  assert.deepEqual([v.connections, v.attempts, v.attempted], [2, 1, false], '2 got through (then reset), 1 refused');
  assert.deepEqual(heard, [{ connections: 2, attempts: 1 }], 'three connections in all, each counted once');
  const held = { ...edge(a, b, 6379), connections: { opened: 0, failed: 0, active: 1 } };
  e.noteEdge(held, 1000);
  assert.equal(e.violationList().find((x) => x.port === 6379)?.attempted, false, 'open since before the agent: it got through');
  assert.equal(e.verdict(held)?.attempted, false);
});

test('the decorator puts verdicts on a real LiveGraph\'s snapshots, deltas and details, and resends every edge after a policy change', () => {
  const graph = new LiveGraph(identity);
  const T = Date.now();
  const policy = (to: string) => loadPolicyText('p.yaml', `zones:\n  web: {compose_service: web}\n  ok: {compose_service: ${to}}\nrules:\n  - name: web-only\n    allow-only: {from: web, to: ok}\n`);
  const engine = new PolicyEngine(policy('db'));
  const feed = decorateGraph(graph, engine);
  const f = follow(feed, engine, 60_000);
  try {
    const c1 = connection(web, db, T), c2 = connection(web, cache, T);
    graph.ingest([...c1.open, ...c2.open], T);
    graph.ingest(refused(web, db, T + 1), T + 1);
    const s = graph.snapshot({}, T + 2);
    const by = (es: GraphEdge[]) => Object.fromEntries(es.map((e) => [e.id, e.policy]));
    assert.deepEqual(by(s.edges), {
      [WEB_DB]: { verdict: 'allowed', rule: 'web-only' },
      [WEB_CACHE]: { verdict: 'violation', rule: 'web-only', attempted: false },
    });
    assert.deepEqual(graph.edgeDetail(WEB_CACHE, T + 2)?.policy, { verdict: 'violation', rule: 'web-only', attempted: false });
    f.poll(T + 3);
    assert.equal(engine.violationList().length, 1);

    let v = graph.currentVersion;
    const quiet = graph.changesSince(v, {}, T + 120_000);
    assert.equal(quiet.delta.edges.length, 0, 'nothing changed, nothing sent');
    v = quiet.version;
    engine.setPolicy(policy('cache'));
    assert.ok(graph.currentVersion > v, 'a policy change moves the version readers see');
    const after = graph.changesSince(v, {}, T + 120_000);
    assert.deepEqual(by(after.delta.edges), {
      [WEB_DB]: { verdict: 'violation', rule: 'web-only', attempted: false },
      [WEB_CACHE]: { verdict: 'allowed', rule: 'web-only' },
    }, 'every edge again, with its new verdict');
    assert.equal(graph.changesSince(after.version, {}, T + 120_000).delta.edges.length, 0, 'and only once');
    graph.ingest(c1.close, T + 120_001);
    const later = graph.changesSince(after.version, {}, T + 120_002);
    assert.deepEqual(later.delta.edges.map((e) => [e.id, e.policy?.verdict]), [[WEB_DB, 'violation']], 'ordinary deltas go on from the right version');
  } finally {
    f.stop();
  }
});

export type { GraphNode };
