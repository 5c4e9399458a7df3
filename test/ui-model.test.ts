// Unit tests for the web UI's pure logic: applying snapshots and deltas to the
// page's graph model, edge health/activity/labels, and the filters.
// (The UI's own tsconfig excludes it from the root build, so its tests live here.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphEdge, GraphNode } from '../src/graph/types.js';
import { GraphModel } from '../src/ui/src/model/graphModel.js';
import { edgeActivity, edgeHealth, edgeLabel, edgeWidth, healthBadge, nodeLabel } from '../src/ui/src/model/derive.js';
import { computeVisible, NO_FILTERS, type Filters } from '../src/ui/src/model/filters.js';
import { foldedId, GroupedGraph } from '../src/ui/src/model/grouping.js';
import type { StylesheetJson } from 'cytoscape';
import { buildStyle, FULL_LABELS, GROUP_FILL_OPACITY, groupFontAt, labelDetailAt } from '../src/ui/src/graph/style.js';
import { PALETTES } from '../src/ui/src/graph/palette.js';

const zero = { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 };

function node(id: string, kind: GraphNode['kind'], group: string | null, extra: Partial<GraphNode> = {}): GraphNode {
  return { id, kind, label: id.split(/[:/]/).pop()!, group, instances: [], ips: [], firstSeen: 1, lastSeen: 2, active: 0, ...extra };
}

function edge(source: string, target: string, port: number, extra: Partial<GraphEdge> = {}): GraphEdge {
  return {
    id: `${source}|${target}|${port}|tcp`, source, target, port, protocol: 'tcp',
    connections: { opened: 1, active: 0, closed: 1, failed: 0, failedBy: { refused: 0, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } },
    bytes: { sent: 10, received: 20 }, rtt: { meanUs: 100, p95Us: 200, samples: 1 }, retransmits: 0,
    duration: { meanMs: 1, p95Ms: 2, samples: 1 }, firstSeen: 1, lastSeen: 2,
    rates: { '10s': { ...zero }, '1m': { ...zero } },
    ...extra,
  };
}

const api = node('svc:shop/api', 'service', 'shop');
const db = node('svc:shop/db', 'service', 'shop');
const nginx = node('proc:nginx.service', 'process', 'host');
const ext = node('ext:203.0.113.9', 'external', null);
const apiDb = edge(api.id, db.id, 5432);
const nginxApi = edge(nginx.id, api.id, 8080);
const apiExt = edge(api.id, ext.id, 443);

describe('GraphModel', () => {
  it('reports everything as added on the first snapshot', () => {
    const m = new GraphModel();
    const c = m.applySnapshot({ generatedAt: 1, nodes: [api, db], edges: [apiDb] });
    assert.equal(c.initial, true);
    assert.deepEqual(c.addedNodes, [api.id, db.id]);
    assert.deepEqual(c.addedEdges, [apiDb.id]);
    assert.deepEqual(m.edgesOf(api.id).map((e) => e.id), [apiDb.id]);
  });

  it('names a node by its label, or group/label when another node has the same label (two tenants\' db): lists and titles say which', () => {
    const m = new GraphModel();
    const dbA = node('svc:tenant-a/db', 'service', 'tenant-a'), dbB = node('svc:tenant-b/db', 'service', 'tenant-b');
    const appB = node('svc:tenant-b/app', 'service', 'tenant-b');
    m.applySnapshot({ generatedAt: 1, nodes: [dbA, appB], edges: [edge(appB.id, dbA.id, 5432)] });
    assert.deepEqual([m.nameOf(dbA.id), m.nameOf(appB.id)], ['db', 'app'], 'one db: its label');
    m.applyDelta({ generatedAt: 2, nodes: [dbB], edges: [edge(appB.id, dbB.id, 5432)], removedNodes: [], removedEdges: [] });
    assert.deepEqual([m.nameOf(dbA.id), m.nameOf(dbB.id), m.nameOf(appB.id)], ['tenant-a/db', 'tenant-b/db', 'app']);
    assert.equal(m.nameOf('svc:gone'), 'svc:gone');
    // a vacant address named by DNS beside the service of that name: which db, and which container it was
    const stale = { ...node('ext:db', 'external', 'tenant-b'), vacant: { network: 'b_default', lastHolder: 'tenant-b-db-1', lastHeldUntil: 1, group: 'tenant-b' } };
    m.applyDelta({ generatedAt: 3, nodes: [stale], edges: [edge(appB.id, stale.id, 5432)], removedNodes: [], removedEdges: [] });
    assert.equal(m.nameOf(stale.id), 'tenant-b/db (was tenant-b-db-1)');
  });

  it('applies a delta as exactly the changes it carries', () => {
    const m = new GraphModel();
    m.applySnapshot({ generatedAt: 1, nodes: [api, db, nginx], edges: [apiDb, nginxApi] });
    const changed = { ...apiDb, lastSeen: 9 };
    const c = m.applyDelta({ generatedAt: 2, nodes: [ext], edges: [changed, apiExt], removedNodes: [], removedEdges: [nginxApi.id] });
    assert.equal(c.initial, false);
    assert.deepEqual(c.addedNodes, [ext.id]);
    assert.deepEqual(c.changedEdges, [apiDb.id]);
    assert.deepEqual(c.addedEdges, [apiExt.id]);
    assert.deepEqual(c.removedEdges, [nginxApi.id]);
    assert.equal(m.edges.get(apiDb.id)!.lastSeen, 9);
    assert.deepEqual(m.edgesOf(nginx.id), []);
  });

  it('removes a node\'s edges with it even when the delta does not list them', () => {
    const m = new GraphModel();
    m.applySnapshot({ generatedAt: 1, nodes: [api, db], edges: [apiDb] });
    const c = m.applyDelta({ generatedAt: 2, nodes: [], edges: [], removedNodes: [db.id], removedEdges: [] });
    assert.deepEqual(c.removedNodes, [db.id]);
    assert.deepEqual(c.removedEdges, [apiDb.id]);
    assert.equal(m.edges.size, 0);
  });

  it('treats a later snapshot (after a reconnect) as a diff', () => {
    const m = new GraphModel();
    m.applySnapshot({ generatedAt: 1, nodes: [api, db, nginx], edges: [apiDb, nginxApi] });
    const c = m.applySnapshot({ generatedAt: 5, nodes: [api, db, ext], edges: [apiDb, apiExt] });
    assert.equal(c.initial, false);
    assert.deepEqual(c.removedNodes, [nginx.id]);
    assert.deepEqual(c.removedEdges, [nginxApi.id]);
    assert.deepEqual(c.addedNodes, [ext.id]);
    assert.deepEqual(c.addedEdges, [apiExt.id]);
    assert.deepEqual(c.changedEdges, [apiDb.id]);
  });

  it('ignores a delta for ids it never saw removed', () => {
    const m = new GraphModel();
    m.applySnapshot({ generatedAt: 1, nodes: [api], edges: [] });
    const c = m.applyDelta({ generatedAt: 2, nodes: [], edges: [], removedNodes: ['nope'], removedEdges: ['nope|x|1|tcp'] });
    assert.deepEqual(c.removedNodes, []);
    assert.deepEqual(c.removedEdges, []);
  });

  it('marks retransmits only when the total grows while watched, and forgets after the window', () => {
    const m = new GraphModel(60_000, 3);
    m.applySnapshot({ generatedAt: 1, nodes: [api, db], edges: [{ ...apiDb, retransmits: 50 }] }, 1000);
    assert.equal(m.retransmitting.has(apiDb.id), false, 'an old total is only a baseline');
    m.applyDelta({ generatedAt: 2, nodes: [], edges: [{ ...apiDb, retransmits: 51 }], removedNodes: [], removedEdges: [] }, 2000);
    assert.equal(m.retransmitting.has(apiDb.id), false, 'one retransmit is below the threshold');
    m.applyDelta({ generatedAt: 3, nodes: [], edges: [{ ...apiDb, retransmits: 54 }], removedNodes: [], removedEdges: [] }, 3000);
    assert.equal(m.retransmitting.has(apiDb.id), true);
    assert.equal(m.healthOf(apiDb.id), 'warn');
    assert.deepEqual(m.expireRetransmitMarks(30_000), []);
    assert.deepEqual(m.expireRetransmitMarks(70_000), [apiDb.id]);
    assert.equal(m.healthOf(apiDb.id), 'ok');
  });

  it('reads replayed retransmits as each bucket\'s own count, and starts afresh back live', () => {
    const m = new GraphModel(60_000, 3);
    const frame = (t: number, retransmits: number) =>
      m.applySnapshot({ generatedAt: t, nodes: [api, db], edges: [{ ...apiDb, retransmits }] }, 5000 + t, 'interval');
    m.applySnapshot({ generatedAt: 1, nodes: [api, db], edges: [{ ...apiDb, retransmits: 40 }] }, 1000); // live: a total
    // replay: 5 in the first bucket, 5 in the next (a running-total reading would see no growth), then 0, then 1
    frame(10_000, 5);
    assert.equal(m.healthOf(apiDb.id), 'warn', 'a bucket with 5 retransmits');
    frame(20_000, 5);
    assert.equal(m.healthOf(apiDb.id), 'warn', 'the same count in the next bucket is 5 more, not none');
    frame(30_000, 0);
    assert.equal(m.healthOf(apiDb.id), 'ok', 'a quiet bucket');
    frame(40_000, 1);
    assert.equal(m.healthOf(apiDb.id), 'ok', 'one retransmit is below the threshold');
    frame(50_000, 4);
    assert.deepEqual(m.expireRetransmitMarks(10_000_000), [], 'a replayed moment does not age with the clock');
    assert.equal(m.healthOf(apiDb.id), 'warn');
    // back live: the total (40) is only a baseline again, not a jump from the bucket's 4
    m.applySnapshot({ generatedAt: 9, nodes: [api, db], edges: [{ ...apiDb, retransmits: 41 }] }, 20_000, 'running');
    assert.equal(m.healthOf(apiDb.id), 'ok', 'live again: no amber from comparing a total with a bucket');
    m.applyDelta({ generatedAt: 10, nodes: [], edges: [{ ...apiDb, retransmits: 45 }], removedNodes: [], removedEdges: [] }, 21_000);
    assert.equal(m.healthOf(apiDb.id), 'warn', 'live growth is judged as before');
  });

  it('clears the marks when the counting changes without a new graph', () => {
    const m = new GraphModel(60_000, 3);
    m.applySnapshot({ generatedAt: 1, nodes: [api, db], edges: [{ ...apiDb, retransmits: 9 }] }, 1000, 'interval');
    assert.equal(m.healthOf(apiDb.id), 'warn');
    assert.deepEqual(m.useCounting('running'), [apiDb.id]);
    assert.equal(m.healthOf(apiDb.id), 'ok');
  });
});

describe('edge looks', () => {
  it('is red when failing, amber when slow, else ok', () => {
    assert.equal(edgeHealth(edge('a', 'b', 1, { rates: { '10s': { ...zero }, '1m': { ...zero, failures: 0.2 } } }), false), 'failing');
    assert.equal(edgeHealth(edge('a', 'b', 1, { rtt: { meanUs: 1, p95Us: 900_000, samples: 3 } }), false), 'warn');
    assert.equal(edgeHealth(edge('a', 'b', 1), true), 'warn');
    assert.equal(edgeHealth(edge('a', 'b', 1), false), 'ok');
  });

  it('does not call an edge healthy when its failures are only older than a minute', () => {
    const refusedOnly = edge('a', 'b', 1, { connections: { opened: 0, active: 0, closed: 0, failed: 3, failedBy: { refused: 3, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } } });
    assert.deepEqual(healthBadge('ok', refusedOnly, false), { text: 'Never connected', tone: 'warn', title: 'All 3 attempts failed; none in the last minute' });
    const resetOnce = edge('a', 'b', 1, { connections: { opened: 4, active: 0, closed: 4, failed: 1, failedBy: { refused: 0, timeout: 0, reset: 1, unreachable: 0, aborted: 0 } } });
    assert.equal(healthBadge('ok', resetOnce, false).text, 'No failures lately');
    assert.equal(healthBadge('ok', edge('a', 'b', 1), false).text, 'Healthy');
    assert.equal(healthBadge('failing', refusedOnly, false).text, 'Failing');
    assert.equal(healthBadge('ok', refusedOnly, true).text, 'Healthy', 'a past view: its counts and rates cover the same time');
  });

  it('is flowing with traffic in the last 10 s, open with held connections, else idle', () => {
    assert.equal(edgeActivity(edge('a', 'b', 1, { rates: { '10s': { ...zero, bytesSent: 5 }, '1m': { ...zero } } })), 'flowing');
    assert.equal(edgeActivity(edge('a', 'b', 1, { connections: { ...apiDb.connections, active: 2 } })), 'open');
    assert.equal(edgeActivity(edge('a', 'b', 1)), 'idle');
  });

  it('labels the port with the rate that matters', () => {
    assert.equal(edgeLabel(edge('a', 'b', 5432, { rates: { '10s': { ...zero, connections: 12 }, '1m': { ...zero } } })), ':5432 · 12/s');
    assert.equal(edgeLabel(edge('a', 'b', 443, { rates: { '10s': { ...zero, connections: 3, failures: 1.5 }, '1m': { ...zero } } })), ':443 · 1.5 fail/s');
    assert.equal(edgeLabel(edge('a', 'b', 80)), ':80');
  });

  it('grows wider with traffic, within bounds', () => {
    const idle = edgeWidth(edge('a', 'b', 1));
    const busy = edgeWidth(edge('a', 'b', 1, { rates: { '10s': { ...zero, connections: 500 }, '1m': { ...zero } } }));
    const huge = edgeWidth(edge('a', 'b', 1, { rates: { '10s': { ...zero, connections: 1e9, bytesSent: 1e12 }, '1m': { ...zero } } }));
    assert.ok(idle < busy && busy <= huge && huge <= 6.5, `${idle} ${busy} ${huge}`);
  });

  it('counts running replicas in a service label', () => {
    const inst = (state: 'running' | 'stopped') => ({ id: state + Math.random(), name: 'x', pids: [], ips: [], state });
    assert.equal(nodeLabel(node('svc:a/api', 'service', 'a', { instances: [inst('running'), inst('running'), inst('stopped')] })), 'api ×2');
    assert.equal(nodeLabel(node('svc:a/api', 'service', 'a', { instances: [inst('running')] })), 'api');
  });

  it('names the container a vacant address last belonged to', () => {
    const ext = (vacant: GraphNode['vacant']) => nodeLabel({ ...node('ext:172.18.0.9', 'external', null), label: '172.18.0.9', vacant });
    assert.equal(ext({ network: 'shop_default', lastHolder: 'db-old', lastHeldUntil: 1, group: null }), '172.18.0.9 (was db-old)');
    assert.equal(ext({ network: 'shop_default', lastHolder: null, lastHeldUntil: null, group: null }), '172.18.0.9 (no container)');
    assert.equal(ext(undefined), '172.18.0.9');
  });
});

describe('filters', () => {
  const m = new GraphModel();
  const failing = { ...apiExt, rates: { '10s': { ...zero, failures: 1 }, '1m': { ...zero, failures: 1 } } };
  m.applySnapshot({ generatedAt: 1, nodes: [api, db, nginx, ext, node('svc:pay/gw', 'service', 'pay')], edges: [apiDb, nginxApi, failing] });
  const vis = (f: Partial<Filters>) => {
    const v = computeVisible(m.nodes, m.edges, { ...NO_FILTERS, ...f }, (id) => m.healthOf(id));
    return { nodes: [...v.nodes].sort(), edges: [...v.edges].sort() };
  };

  it('shows everything by default, including nodes without edges', () => {
    const v = vis({});
    assert.equal(v.nodes.length, 5);
    assert.equal(v.edges.length, 3);
  });

  it('keeps a project\'s outside peers as context', () => {
    const v = vis({ group: 'shop' });
    assert.deepEqual(v.nodes, [ext.id, nginx.id, api.id, db.id].sort());
    assert.equal(v.edges.length, 3);
  });

  it('hides host processes and external servers with their edges', () => {
    const v = vis({ showHost: false, showExternal: false });
    assert.deepEqual(v.nodes, [api.id, db.id, 'svc:pay/gw'].sort());
    assert.deepEqual(v.edges, [apiDb.id]);
  });

  it('shows only failing edges and their ends', () => {
    const v = vis({ failingOnly: true });
    assert.deepEqual(v.edges, [failing.id]);
    assert.deepEqual(v.nodes, [ext.id, api.id].sort());
  });

  it('"failing only" keeps an edge that never connected once its failures are older than a minute (review S 6)', () => {
    const m2 = new GraphModel();
    const dead = { ...edge(api.id, db.id, 9999), connections: { opened: 0, active: 0, closed: 0, failed: 1, failedBy: { refused: 1, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } } };
    const recovered = { ...edge(nginx.id, api.id, 8080), connections: { opened: 5, active: 0, closed: 5, failed: 1, failedBy: { refused: 1, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } } };
    m2.applySnapshot({ generatedAt: 1, nodes: [api, db, nginx], edges: [dead, recovered] });
    const v = computeVisible(m2.nodes, m2.edges, { ...NO_FILTERS, failingOnly: true }, (id) => m2.healthOf(id));
    assert.deepEqual([...v.edges], [dead.id], 'the never-connected edge stays; one whose old failure was followed by connections does not');
  });

  it('searches names, addresses and ports', () => {
    assert.deepEqual(vis({ search: 'nginx' }).edges, [nginxApi.id]);
    assert.deepEqual(vis({ search: ':5432' }).edges, [apiDb.id]);
    assert.deepEqual(vis({ search: '203.0.113' }).nodes, [ext.id, api.id].sort());
    assert.deepEqual(vis({ search: 'no such thing' }).nodes, []);
  });
});

describe('GroupedGraph (folded projects)', () => {
  const web = node('svc:shop/web', 'service', 'shop');
  const pay = node('svc:pay/gw', 'service', 'pay');
  const webApi = edge(web.id, api.id, 8080, { rates: { '10s': { ...zero, connections: 2 }, '1m': { ...zero } } });
  const apiPay = edge(api.id, pay.id, 443, { rates: { '10s': { ...zero, connections: 3 }, '1m': { ...zero } } });
  const webPay = edge(web.id, pay.id, 443, { rates: { '10s': { ...zero, connections: 4 }, '1m': { ...zero } } });
  const snapshot = { generatedAt: 1, nodes: [api, db, web, pay, ext], edges: [apiDb, webApi, apiPay, webPay, apiExt] };
  const shop = foldedId('shop');
  const sorted = (xs: string[]) => [...xs].sort();

  it('draws the model as it is while nothing is folded', () => {
    const m = new GraphModel();
    const g = new GroupedGraph(m);
    const c = g.apply(m.applySnapshot(snapshot));
    assert.deepEqual(sorted(c.addedNodes), sorted(snapshot.nodes.map((n) => n.id)));
    assert.deepEqual(sorted(c.addedEdges), sorted(snapshot.edges.map((e) => e.id)));
    assert.equal(g.drawnEdgeOf(apiDb.id), apiDb.id);
  });

  it('folds a big map\'s projects at first sight: one node each, inner edges hidden, edges out merged', () => {
    const m = new GraphModel();
    const g = new GroupedGraph(m);
    m.applySnapshot(snapshot);
    assert.equal(g.foldIfBig({ aboveNodes: 100, aboveEdges: 100, minMembers: 2 }), false, 'small: nothing folded');
    assert.equal(g.foldIfBig({ aboveNodes: 3, aboveEdges: 100, minMembers: 2 }), true);
    assert.deepEqual(g.foldedGroups(), ['shop'], 'pay has one node only');
    const all = { initial: true, addedNodes: [...m.nodes.keys()], changedNodes: [], removedNodes: [], addedEdges: [...m.edges.keys()], changedEdges: [], removedEdges: [] };
    const c = g.apply(all);
    assert.deepEqual(sorted(c.addedNodes), sorted([shop, pay.id, ext.id]));
    const toPay = `link::${shop}|${pay.id}`, toExt = `link::${shop}|${ext.id}`;
    assert.deepEqual(sorted(c.addedEdges), sorted([toPay, toExt]));
    assert.equal(g.drawnEdgeOf(apiDb.id), null, 'inside the folded project');
    assert.equal(g.drawnNodeOf(api.id), shop);
    const merged = g.edge(toPay)!;
    assert.deepEqual(sorted(merged.members!), sorted([apiPay.id, webPay.id]));
    assert.equal(merged.edge.rates['10s'].connections, 7, 'rates summed');
    assert.equal(merged.edge.port, 443, 'the shared port');
    assert.deepEqual(g.folds(shop), { id: shop, group: 'shop', members: 3, inner: 2 });
    const vis = g.visible(computeVisible(m.nodes, m.edges, { ...NO_FILTERS, search: 'web' }, () => 'ok'));
    assert.ok(vis.nodes.has(shop) && vis.edges.has(toPay) && !vis.edges.has(toExt), 'a match inside shows its folded project');
  });

  it('unfolds and folds again, reporting exactly the drawn elements that go and come', () => {
    const m = new GraphModel();
    const g = new GroupedGraph(m);
    g.apply(m.applySnapshot(snapshot));
    const f = g.fold('shop');
    assert.deepEqual(sorted(f.removedNodes), sorted([api.id, db.id, web.id]));
    assert.deepEqual(sorted(f.removedEdges), sorted([apiDb.id, webApi.id, apiPay.id, webPay.id, apiExt.id]));
    assert.deepEqual(f.addedNodes, [shop]);
    assert.deepEqual(sorted(f.addedEdges), sorted([`link::${shop}|${pay.id}`, `link::${shop}|${ext.id}`]));
    assert.equal(g.fold('shop').addedNodes.length, 0, 'folding twice does nothing');
    const u = g.unfold('shop');
    assert.deepEqual(u.removedNodes, [shop]);
    assert.deepEqual(sorted(u.addedNodes), sorted([api.id, db.id, web.id]));
    assert.deepEqual(sorted(u.addedEdges), sorted(snapshot.edges.map((e) => e.id)));
    assert.deepEqual(sorted(u.removedEdges), sorted([`link::${shop}|${pay.id}`, `link::${shop}|${ext.id}`]));
  });

  it('keeps merged edges up to date from deltas: changed, worst health, gone with their last member', () => {
    const m = new GraphModel();
    const g = new GroupedGraph(m);
    g.apply(m.applySnapshot(snapshot));
    g.fold('shop');
    const toPay = `link::${shop}|${pay.id}`;
    const failing = { ...apiPay, rates: { '10s': { ...zero, connections: 1, failures: 2 }, '1m': { ...zero, failures: 1 } } };
    let c = g.apply(m.applyDelta({ generatedAt: 2, nodes: [], edges: [failing], removedNodes: [], removedEdges: [] }));
    assert.deepEqual(c.changedEdges, [toPay]);
    assert.equal(g.healthOf(toPay), 'failing', 'as bad as its worst member');
    assert.equal(g.edge(toPay)!.edge.rates['10s'].connections, 5);
    c = g.apply(m.applyDelta({ generatedAt: 3, nodes: [], edges: [{ ...apiDb, rates: { '10s': { ...zero, failures: 1 }, '1m': { ...zero } } }], removedNodes: [], removedEdges: [] }));
    assert.deepEqual([...c.changedEdges, ...c.addedEdges, ...c.removedEdges], [], 'an inner edge draws nothing');
    assert.equal(g.innerHealth('shop'), 'failing', 'but the folded node knows it fails inside');
    c = g.apply(m.applyDelta({ generatedAt: 4, nodes: [], edges: [], removedNodes: [], removedEdges: [apiPay.id] }));
    assert.deepEqual(c.changedEdges, [toPay]);
    c = g.apply(m.applyDelta({ generatedAt: 5, nodes: [], edges: [], removedNodes: [], removedEdges: [webPay.id] }));
    assert.deepEqual(c.removedEdges, [toPay]);
    assert.equal(g.edge(toPay), null);
  });

  it('folds the external servers and the remote clients of a big map into one node each', () => {
    const m = new GraphModel();
    const g = new GroupedGraph(m);
    const ext2 = node('ext:203.0.113.10', 'external', null);
    const cli1 = node('client:198.51.100.1', 'client', null);
    const cli2 = node('client:198.51.100.2', 'client', null);
    const edges = [edge(api.id, ext.id, 443), edge(api.id, ext2.id, 443), edge(cli1.id, web.id, 80), edge(cli2.id, web.id, 80)];
    m.applySnapshot({ generatedAt: 1, nodes: [api, db, web, ext, ext2, cli1, cli2], edges });
    g.foldIfBig({ aboveNodes: 3, aboveEdges: 100, minMembers: 2 });
    assert.deepEqual(g.foldedGroups(), ['*clients', '*external', 'shop']);
    const all = { initial: true, addedNodes: [...m.nodes.keys()], changedNodes: [], removedNodes: [], addedEdges: [...m.edges.keys()], changedEdges: [], removedEdges: [] };
    const c = g.apply(all);
    assert.deepEqual(sorted(c.addedNodes), sorted([shop, foldedId('*external'), foldedId('*clients')]));
    assert.equal(g.drawnNodeOf(ext2.id), foldedId('*external'));
    assert.deepEqual(sorted(c.addedEdges), sorted([`link::${shop}|${foldedId('*external')}`, `link::${foldedId('*clients')}|${shop}`]));
    assert.equal(g.edge(`link::${shop}|${foldedId('*external')}`)!.members!.length, 2);
    // unfolded, they are nodes of no project again
    const u = g.unfold('*external');
    assert.deepEqual(sorted(u.addedNodes), sorted([ext.id, ext2.id]));
  });

  it('puts a new node of a folded project inside it, also when its edge came first', () => {
    const m = new GraphModel();
    const g = new GroupedGraph(m);
    g.apply(m.applySnapshot(snapshot));
    g.fold('shop');
    const late = node('svc:shop/late', 'service', 'shop');
    const latePay = edge(late.id, pay.id, 443);
    let c = g.apply(m.applyDelta({ generatedAt: 2, nodes: [], edges: [latePay], removedNodes: [], removedEdges: [] }));
    assert.deepEqual(c.addedEdges, [latePay.id], 'drawn as itself while its source is unknown');
    c = g.apply(m.applyDelta({ generatedAt: 3, nodes: [late], edges: [], removedNodes: [], removedEdges: [] }));
    assert.deepEqual(c.changedNodes, [shop]);
    assert.deepEqual(c.addedNodes, []);
    assert.deepEqual(c.removedEdges, [latePay.id]);
    assert.deepEqual(c.changedEdges, [`link::${shop}|${pay.id}`]);
    assert.equal(g.folds(shop)!.members, 4);
    c = g.apply(m.applyDelta({ generatedAt: 4, nodes: [], edges: [], removedNodes: [api.id, db.id, web.id, late.id], removedEdges: [] }));
    assert.deepEqual(c.removedNodes, [shop], 'an empty folded project goes');
    assert.deepEqual(c.removedEdges.sort(), [`link::${shop}|${ext.id}`, `link::${shop}|${pay.id}`].sort());
  });
});

describe('map stylesheet: level of detail', () => {
  it('project titles read 12-16 px on screen from the closest zoom (3) out to 1/7', () => {
    for (let zoom = 3; zoom >= 1 / 7; zoom *= 0.93) {
      const px = groupFontAt(zoom) * zoom;
      assert.ok(px >= 12 && px <= 16, `zoom ${zoom.toFixed(3)}: ${px.toFixed(1)} px`);
    }
  });
  /** The edge properties the stylesheet gives to `selector`, merged in order (later rules win, as in Cytoscape). */
  const edgeRule = (sheet: StylesheetJson, selector: string) =>
    Object.assign({}, ...(sheet as { selector: string; style: Record<string, unknown> }[]).filter((r) => r.selector === selector).map((r) => r.style));

  it('a big map zoomed out draws straight haystack edges without arrows; a small one, loops and chosen edges stay curved', () => {
    const far = buildStyle(PALETTES.light, labelDetailAt(0.3, 200, 1000));
    assert.equal(edgeRule(far, 'edge')['curve-style'], 'haystack');
    assert.equal(edgeRule(far, 'edge')['target-arrow-shape'], 'none');
    for (const sel of ['edge:loop', 'edge:selected', 'edge.near']) assert.equal(edgeRule(far, sel)['curve-style'], 'bezier', sel);
    const near = buildStyle(PALETTES.light, labelDetailAt(1, 200, 1000));
    assert.equal(edgeRule(near, 'edge')['curve-style'], 'bezier');
    assert.equal(edgeRule(near, 'edge')['target-arrow-shape'], 'triangle');
    const small = buildStyle(PALETTES.light, labelDetailAt(0.3, 20, 40));
    assert.equal(edgeRule(small, 'edge')['curve-style'], 'bezier');
  });

  it('from the same zoom, a big map leaves its edges to the overview layer: hidden in Cytoscape but for picks and loops, project boxes unfilled', () => {
    const nodeRule = (sheet: StylesheetJson, selector: string) => edgeRule(sheet, selector);
    const far = labelDetailAt(0.3, 200, 1000);
    assert.equal(far.overview, true);
    const sheet = buildStyle(PALETTES.light, far);
    assert.equal(edgeRule(sheet, 'edge').visibility, 'hidden');
    assert.equal(edgeRule(sheet, 'edge:selected, edge.near, edge:loop').visibility, 'visible');
    assert.equal(nodeRule(sheet, 'node.group')['background-opacity'], 0, 'the overview layer fills them, under its lines');
    for (const lod of [labelDetailAt(1, 200, 1000), labelDetailAt(0.3, 20, 40), FULL_LABELS]) {
      assert.equal(lod.overview, false);
      const s = buildStyle(PALETTES.light, lod);
      assert.equal(edgeRule(s, 'edge').visibility, 'visible');
      assert.equal(nodeRule(s, 'node.group')['background-opacity'], GROUP_FILL_OPACITY);
    }
  });
});
