// Edge metrics from synthetic graphs (unit test): top N + other, fold count,
// monotonic counters, Tempo's names, and the Prometheus text they become.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdgeMetrics, snapshotEdges, type EdgeSource } from './edge-metrics.js';
import type { EdgeReading } from '../graph/readings.js';
import { exposition } from './exposition.js';
import { FAILURE_REASONS, type GraphEdge, type GraphNode, type GraphSnapshot } from '../graph/types.js';
import { HISTOGRAM_BOUNDS } from '../config/defaults.js';
import type { Family, Snapshot } from './families.js';
import { resourceMetrics } from './otlp.js';
import { toTimeseries } from './remote-write.js';

function node(id: string, kind: GraphNode['kind'], label: string, group: string | null): GraphNode {
  return { id, kind, label, group, instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 0 };
}

function edge(source: string, target: string, port: number, n: number): GraphEdge {
  const failedBy = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as GraphEdge['connections']['failedBy'];
  failedBy.refused = n % 3;
  const rtt = new Array(HISTOGRAM_BOUNDS.rttUs.length + 1).fill(0);
  rtt[2] = n;
  const dur = new Array(HISTOGRAM_BOUNDS.durationMs.length + 1).fill(0);
  dur[1] = n;
  return {
    id: `${source}|${target}|${port}|tcp`, source, target, port, protocol: 'tcp',
    connections: { opened: n, active: 1, closed: n - 1, failed: n % 3, failedBy },
    bytes: { sent: n * 100, received: n * 1000 }, rtt: { meanUs: 200, p95Us: 200, samples: n }, retransmits: n % 5,
    duration: { meanMs: 10, p95Ms: 10, samples: n }, firstSeen: 1, lastSeen: 2,
    rates: { '10s': { connections: n, failures: 0, bytesSent: n * 10, bytesReceived: n * 100 }, '1m': { connections: n, failures: 0, bytesSent: n * 10, bytesReceived: n * 100 } },
    histograms: { rttUs: { bounds: HISTOGRAM_BOUNDS.rttUs, counts: rtt, sum: n * 200 }, durationMs: { bounds: HISTOGRAM_BOUNDS.durationMs, counts: dur, sum: n * 10 } },
  };
}

/** `count` edges between services of 100 nodes; edge i has traffic i+1 (so the busiest are the last ones). */
function synthetic(count: number): GraphSnapshot {
  const nodes: GraphNode[] = [];
  for (let i = 0; i < 100; i++) nodes.push(node(`svc:p${i % 7}/s${i}`, 'service', `s${i}`, `p${i % 7}`));
  const edges: GraphEdge[] = [];
  for (let i = 0; i < count; i++) edges.push(edge(nodes[i % 100].id, nodes[(i * 7 + 1 + Math.floor(i / 100)) % 100].id, 1000 + Math.floor(i / 100), i + 1));
  return { generatedAt: 0, nodes, edges };
}

const fam = (fs: Family[], name: string) => { const f = fs.find((x) => x.name === name); assert.ok(f, `family ${name}`); return f; };
const scalar = (fs: Family[], name: string) => { const f = fam(fs, name); assert.notEqual(f.type, 'histogram'); return f as Extract<Family, { type: 'counter' | 'gauge' }>; };

test('5,000 edges with N=500: exactly 500 labelled series plus other, and the fold count', () => {
  const m = new EdgeMetrics({ host: 'h1', topEdges: 500 });
  const g = synthetic(5000);
  const r = m.update(g);
  assert.equal(r.labelled, 500);
  assert.equal(r.folded, 4500);
  const opened = scalar(r.families, 'dhrishti_edge_connections_opened_total');
  assert.equal(opened.series.length, 501);
  const other = opened.series.filter((s) => s.labels.client === 'other');
  assert.equal(other.length, 1);
  assert.equal(other[0].labels.server, 'other');
  // the 500 busiest (highest n) are labelled; the other 4500 (n = 1..4500) are summed
  assert.equal(other[0].value, (4500 * 4501) / 2);
  const labelledMin = Math.min(...opened.series.filter((s) => s.labels.client !== 'other').map((s) => s.value));
  assert.equal(labelledMin, 4501);
  assert.equal(scalar(r.families, 'dhrishti_export_edges_folded').series[0].value, 4500);
  for (const s of opened.series) {
    assert.deepEqual(Object.keys(s.labels).sort(), ['client', 'client_group', 'client_kind', 'host', 'protocol', 'server', 'server_group', 'server_kind', 'server_port']);
    assert.equal(s.labels.host, 'h1');
  }
  // every family has the same 501 rows (histograms too)
  const rtt = fam(r.families, 'dhrishti_edge_rtt_seconds');
  assert.equal(rtt.series.length, 501);
});

test('resolver (dns) edges are not connection series, nor counted as edges', () => {
  const g = synthetic(3);
  const dns = edge(g.nodes[0].id, g.nodes[1].id, 53, 40);
  g.edges.push({ ...dns, id: `${dns.source}|${dns.target}|53|dns`, protocol: 'dns' });
  const r = new EdgeMetrics({ host: 'h1', topEdges: 500 }).update(g);
  assert.equal(r.labelled, 3);
  assert.ok(scalar(r.families, 'dhrishti_edge_connections_opened_total').series.every((s) => s.labels.server_port !== '53'));
  assert.equal(scalar(r.families, 'dhrishti_export_edges').series[0].value, 3);
});

test('counters stay monotonic when an edge moves between labelled and other', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 1 });
  const g = synthetic(2); // edge 0: n=1, edge 1: n=2 (busier, labelled)
  let r = m.update(g);
  const val = (r0: typeof r, client: string) => scalar(r0.families, 'dhrishti_edge_connections_opened_total').series.find((s) => (client === 'other') === (s.labels.client === 'other'))!.value;
  assert.equal(val(r, 'x'), 2);
  assert.equal(val(r, 'other'), 1);
  // edge 0 becomes far busier: it takes the label, edge 1 folds; other must not go down
  const e0 = edge(g.edges[0].source, g.edges[0].target, g.edges[0].port, 50);
  r = m.update({ ...g, edges: [e0, g.edges[1]] });
  assert.equal(val(r, 'x'), 50);
  assert.ok(val(r, 'other') >= 1, 'other never goes down');
  // the graph corrects a count downwards (a connection moved edges): no decrease exported
  const fewer = edge(g.edges[0].source, g.edges[0].target, g.edges[0].port, 40);
  r = m.update({ ...g, edges: [fewer, g.edges[1]] });
  assert.equal(val(r, 'x'), 50);
});

test('Tempo service-graph series: exact names, client/server/connection_type labels, values from the edges', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 10 });
  const nodes = [node('svc:shop/web', 'service', 'web', 'shop'), node('svc:shop/api', 'service', 'api', 'shop'), node('ext:203.0.113.9', 'external', '203.0.113.9', null)];
  const r = m.update({ generatedAt: 0, nodes, edges: [edge('svc:shop/web', 'svc:shop/api', 80, 6), edge('svc:shop/web', 'svc:shop/api', 81, 4), edge('svc:shop/api', 'ext:203.0.113.9', 443, 3)] });
  const total = scalar(r.families, 'traces_service_graph_request_total');
  const webApi = total.series.find((s) => s.labels.client === 'shop/web' && s.labels.server === 'shop/api')!;
  assert.equal(webApi.value, 10 + (6 % 3 + 4 % 3), 'two ports of one pair are one Tempo series; refused attempts are calls too');
  assert.equal(webApi.labels.connection_type, '');
  assert.equal(total.series.find((s) => s.labels.server === '203.0.113.9')!.labels.connection_type, 'virtual_node');
  assert.equal(scalar(r.families, 'traces_service_graph_request_failed_total').series.find((s) => s.labels.client === 'shop/web')!.value, 6 % 3 + 4 % 3);
  for (const name of ['traces_service_graph_request_server_seconds', 'traces_service_graph_request_client_seconds']) {
    const h = fam(r.families, name);
    assert.equal(h.type, 'histogram');
    const s = h.series.find((x) => x.labels.client === 'shop/web')!;
    assert.equal((s as { count: number }).count, 10);
  }
});

test('Tempo: failed is a part of the total, for an edge whose every attempt was refused and for one whose connections were reset', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 10 });
  const nodes = [node('svc:shop/web', 'service', 'web', 'shop'), node('svc:shop/api', 'service', 'api', 'shop'), node('svc:shop/db', 'service', 'db', 'shop')];
  const dead = edge('svc:shop/web', 'svc:shop/api', 80, 0);
  dead.connections = { ...dead.connections, opened: 0, closed: 0, active: 0, failed: 5, failedBy: { ...dead.connections.failedBy, refused: 5 } };
  const reset = edge('svc:shop/web', 'svc:shop/db', 5432, 0);
  reset.connections = { ...reset.connections, opened: 4, closed: 4, active: 0, failed: 2, failedBy: { ...reset.connections.failedBy, refused: 0, reset: 2 } };
  const r = m.update({ generatedAt: 0, nodes, edges: [dead, reset] });
  const v = (name: string, server: string) => scalar(r.families, name).series.find((s) => s.labels.server === server)!.value;
  assert.deepEqual([v('traces_service_graph_request_total', 'shop/api'), v('traces_service_graph_request_failed_total', 'shop/api')], [5, 5], 'a dead endpoint: 5 calls, 5 failed (not 0 calls)');
  assert.deepEqual([v('traces_service_graph_request_total', 'shop/db'), v('traces_service_graph_request_failed_total', 'shop/db')], [4, 2], 'a reset connection is one of the opened: counted once');
});

test('Prometheus text: counters typed as counters, histograms with cumulative buckets', async () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 3 });
  const r = m.update(synthetic(5));
  const text = exposition(r.families);
  assert.match(text, /^# TYPE dhrishti_edge_connections_opened_total counter$/m);
  assert.match(text, /^# TYPE dhrishti_edge_connections_active gauge$/m);
  assert.match(text, /^# TYPE traces_service_graph_request_server_seconds histogram$/m);
  const line = text.split('\n').find((l) => l.startsWith('dhrishti_edge_rtt_seconds_bucket{') && l.includes('le="+Inf"') && l.includes('client="other"'))!;
  assert.ok(line, text.slice(0, 2000));
  assert.match(line, / 3$/); // edges n=1,2 folded: 3 samples
  assert.match(text, /^dhrishti_edge_rtt_seconds_bucket\{client="other",.*,le="0.0002"\} 0$/m);
  assert.match(text, /^dhrishti_edge_rtt_seconds_bucket\{client="other",.*,le="0.001"\} 3$/m);
  assert.match(text, /^# TYPE dhrishti_edge_connection_duration_seconds summary$/m);
  assert.ok(!/client_group=""/.test(text), 'empty labels are left out');
  assert.match(text, /^dhrishti_edge_rtt_seconds_count\{client="other",[^}]*\} 3$/m);
  assert.match(text, /^# HELP dhrishti_edge_connections_opened_total TCP connections/m);
});

test('OTLP and remote-write shapes of the same families', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 3 });
  const r = m.update(synthetic(5));
  const snap: Snapshot = { families: r.families, time: 5000, startTime: 1000 };
  const rm = resourceMetrics(snap, 'h', '0.1.0');
  const metrics = rm.scopeMetrics[0].metrics;
  const opened = metrics.find((x) => x.descriptor.name === 'dhrishti_edge_connections_opened')!;
  assert.ok(opened, 'monotonic sums drop _total in OTLP');
  assert.equal(opened.dataPoints.length, 4);
  const ts = toTimeseries(snap, { job: 'dhrishti' });
  const bucket = ts.filter((t) => t.labels.__name__ === 'dhrishti_edge_rtt_seconds_bucket');
  assert.equal(bucket.length, 4 * (HISTOGRAM_BOUNDS.rttUs.length + 1));
  assert.ok(ts.every((t) => t.labels.job === 'dhrishti' && t.samples[0].timestamp === 5000));
});

test('an edge whose graph version stands is not read again, and a version that moves brings its news', () => {
  const g = synthetic(3);
  const versions = [5, 6, 7];
  const read = snapshotEdges(g);
  // The live graph's readings carry a version that moves on every change; a snapshot's carry 0 (always read).
  const source: EdgeSource = (fn) => { let i = 0; read((r) => fn({ ...r, version: versions[i++] } as EdgeReading)); };
  const m = new EdgeMetrics({ host: 'h', topEdges: 10 });
  const opened = () => scalar(m.update(source).families, 'dhrishti_edge_connections_opened_total').series.map((s) => s.value).sort((a, b) => a - b);
  assert.deepEqual(opened(), [1, 2, 3]);
  g.edges[0].connections.opened += 10; // numbers the exporter must not read while the version stands (the graph never does this)
  assert.deepEqual(opened(), [1, 2, 3], 'version unchanged: not read');
  versions[0] = 8;
  assert.deepEqual(opened(), [2, 3, 11], 'version moved: read');
  assert.deepEqual(opened(), [2, 3, 11], 'and counted once');
  versions.fill(0);
  g.edges[1].connections.opened += 1;
  assert.deepEqual(opened(), [3, 3, 11].sort((a, b) => a - b), 'version 0 (a snapshot): always read');
});

test('durations in seconds are whole microseconds: sums of fractional milliseconds and p95s come out as short decimals (written without String())', () => {
  const g = synthetic(3);
  g.edges.forEach((e, i) => {
    e.duration.p95Ms = 17.959716796875;
    e.histograms!.durationMs!.sum = 0.1 + 0.2 + i * 1.0000000001;
  });
  const text = exposition(new EdgeMetrics({ host: 'h' }).update(g, 1000).families);
  const rows = text.split('\n').filter((l) => /^(dhrishti_edge_connection_duration_seconds|traces_service_graph_request_(server|client)_seconds_sum)/.test(l));
  assert.ok(rows.length >= 9, rows.join('\n'));
  for (const r of rows) assert.match(r, / -?\d+(\.\d{1,6})?$/, r);
  assert.ok(rows.some((r) => r.endsWith(' 0.01796')), 'the p95 to the microsecond');
});
