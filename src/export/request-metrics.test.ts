// Request (L7) families from synthetic graphs (unit test): exact buckets at the
// L7 bounds, status classes, top N + other, Tempo's request rule, and the text,
// OTLP and remote-write shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdgeMetrics } from './edge-metrics.js';
import { exposition } from './exposition.js';
import { EXPORTED_TO_TEMPO, L7_TO_EXPORTED } from './request-metrics.js';
import { FAILURE_REASONS, REQUEST_STATUS_CLASSES, type GraphEdge, type GraphNode, type GraphSnapshot, type RequestProtocol, type RequestStatusClass } from '../graph/types.js';
import { HISTOGRAM_BOUNDS } from '../config/defaults.js';
import { LATENCY_BUCKETS, bucketToUs, latencySummary } from '../graph/latency.js';
import type { Family, HistogramFamily, Snapshot } from './families.js';
import { resourceMetrics } from './otlp.js';
import { toTimeseries } from './remote-write.js';

const node = (id: string, label: string, group: string | null, kind: GraphNode['kind'] = 'service'): GraphNode =>
  ({ id, kind, label, group, instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 0 });

const zeroRates = { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 };

/** An edge with `opened` connections (duration bucket 4: 16-65 ms) and, per protocol, requests by class with latency in one L7 bucket. */
function edge(source: string, target: string, port: number, opened: number, requests: { protocol: RequestProtocol; status: Partial<Record<RequestStatusClass, number>>; bucket: number; unpaired?: number }[] = []): GraphEdge {
  const failedBy = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as GraphEdge['connections']['failedBy'];
  failedBy.refused = 1;
  const dur = new Array(HISTOGRAM_BOUNDS.durationMs.length + 1).fill(0);
  dur[4] = opened;
  const e: GraphEdge = {
    id: `${source}|${target}|${port}|tcp`, source, target, port, protocol: 'tcp',
    connections: { opened, active: 0, closed: opened, failed: 1, failedBy },
    bytes: { sent: opened * 100, received: opened * 100 }, rtt: { meanUs: 0, p95Us: 0, samples: 0 }, retransmits: 0,
    duration: { meanMs: 20, p95Ms: 20, samples: opened }, firstSeen: 1, lastSeen: 2, rates: { '10s': zeroRates, '1m': zeroRates },
    histograms: { rttUs: { bounds: HISTOGRAM_BOUNDS.rttUs, counts: new Array(HISTOGRAM_BOUNDS.rttUs.length + 1).fill(0), sum: 0 }, durationMs: { bounds: HISTOGRAM_BOUNDS.durationMs, counts: dur, sum: opened * 20 } },
  };
  if (requests.length) {
    e.requests = [];
    e.histograms!.requests = [];
    for (const r of requests) {
      const status = Object.fromEntries(REQUEST_STATUS_CLASSES.map((c) => [c, r.status[c] ?? 0])) as Record<RequestStatusClass, number>;
      const count = Object.values(status).reduce((a, b) => a + b, 0);
      const buckets = new Array(LATENCY_BUCKETS).fill(0);
      buckets[r.bucket] = count;
      const errors = status['5xx'] + status.error;
      e.requests.push({ protocol: r.protocol, grpc: false, tls: false, count, status, errors, clientErrors: status['4xx'], unpaired: r.unpaired ?? 0, latency: latencySummary(buckets, count * 1.5 * 2 ** r.bucket * 1000), rates: { '10s': { requests: 0, errors: 0, clientErrors: 0, serverErrors: 0, latency: latencySummary([], 0) }, '1m': { requests: 0, errors: 0, clientErrors: 0, serverErrors: 0, latency: latencySummary([], 0) } } });
      e.histograms!.requests.push({ protocol: r.protocol, buckets, latencySumNs: count * 1.5 * 2 ** r.bucket * 1000 });
    }
  }
  return e;
}

const NODES = [node('svc:shop/web', 'web', 'shop'), node('svc:shop/api', 'api', 'shop'), node('svc:shop/db', 'db', 'shop')];
const fam = (fs: Family[], name: string) => { const f = fs.find((x) => x.name === name); assert.ok(f, `family ${name}`); return f; };
const series = (fs: Family[], name: string) => fam(fs, name).series as { labels: Record<string, string>; value?: number; counts?: ArrayLike<number>; sum?: number; count?: number }[];

test('exported request bounds are L7 bounds, and Tempo\'s are exported ones: every bucket folds exactly', () => {
  const l7Bounds = Array.from({ length: LATENCY_BUCKETS - 1 }, (_, i) => bucketToUs(i));
  for (const b of HISTOGRAM_BOUNDS.requestLatencyUs) assert.ok(l7Bounds.includes(b), `${b} µs is an L7 bound`);
  for (const b of l7Bounds) if (b >= 1024 && b <= 8_388_608) assert.ok((HISTOGRAM_BOUNDS.requestLatencyUs as readonly number[]).includes(b), `${b} µs (1 ms to 8.39 s) is exported`);
  for (const ms of HISTOGRAM_BOUNDS.durationMs) assert.ok((HISTOGRAM_BOUNDS.requestLatencyUs as readonly number[]).includes(Math.round(ms * 1000)), `${ms} ms is an exported bound`);
  assert.deepEqual(Array.from(L7_TO_EXPORTED.slice(0, 5)), [0, 0, 0, 0, 1]); // < 16 µs in the first bucket; [16, 32) µs in le=32 µs
  assert.equal(L7_TO_EXPORTED[22], HISTOGRAM_BOUNDS.requestLatencyUs.length - 1); // [4.19, 8.39) s: the last bound
  assert.equal(L7_TO_EXPORTED[23], HISTOGRAM_BOUNDS.requestLatencyUs.length); // open-ended: +Inf
  assert.equal(EXPORTED_TO_TEMPO[0], 0);
  assert.equal(EXPORTED_TO_TEMPO[HISTOGRAM_BOUNDS.requestLatencyUs.length], HISTOGRAM_BOUNDS.durationMs.length);
});

test('requests by app_protocol and status_class, the duration histogram at the L7 bounds, unpaired; resolver and L4-only edges write none', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 10 });
  const g: GraphSnapshot = {
    generatedAt: 0, nodes: NODES,
    edges: [
      edge('svc:shop/web', 'svc:shop/api', 8080, 3, [{ protocol: 'http1', status: { '2xx': 40, '4xx': 3, '5xx': 2 }, bucket: 9, unpaired: 1 }]), // [512, 1024) µs
      edge('svc:shop/api', 'svc:shop/db', 5432, 1, [{ protocol: 'postgres', status: { ok: 7, error: 1 }, bucket: 2 }]), // [4, 8) µs: folds into le=16 µs
      edge('svc:shop/web', 'svc:shop/db', 9000, 2),
    ],
  };
  const r = m.update(g);
  const total = series(r.families, 'dhrishti_edge_requests_total');
  const v = (server: string, proto: string, cls: string) => total.find((s) => s.labels.server === server && s.labels.app_protocol === proto && s.labels.status_class === cls)?.value;
  assert.equal(v('api', 'http1', '2xx'), 40);
  assert.equal(v('api', 'http1', '4xx'), 3);
  assert.equal(v('api', 'http1', '5xx'), 2);
  assert.equal(v('db', 'postgres', 'ok'), 7);
  assert.equal(v('db', 'postgres', 'error'), 1);
  assert.equal(total.length, 5, 'classes with no request write no row; the L4-only edge none');
  const api = total.find((s) => s.labels.server === 'api')!.labels;
  assert.equal(api.server_port, '8080');
  assert.equal(api.protocol, 'tcp');
  assert.equal(api.host, 'h');
  const hist = fam(r.families, 'dhrishti_edge_request_duration_seconds') as HistogramFamily;
  assert.deepEqual(hist.bounds, HISTOGRAM_BOUNDS.requestLatencyUs.map((us) => us / 1e6));
  const h = hist.series.find((s) => s.labels.app_protocol === 'http1')!;
  const idx = HISTOGRAM_BOUNDS.requestLatencyUs.indexOf(1024);
  assert.equal(h.count, 45);
  assert.equal(h.counts[idx], 45);
  assert.equal(h.sum, (45 * 1.5 * 512) / 1e6);
  assert.equal(h.labels.status_class, undefined);
  assert.equal(hist.series.find((s) => s.labels.app_protocol === 'postgres')!.counts[0], 8);
  assert.deepEqual(series(r.families, 'dhrishti_edge_requests_unpaired_total').map((s) => [s.labels.app_protocol, s.value]), [['http1', 1]]);

  const text = exposition(r.families);
  assert.match(text, /^# TYPE dhrishti_edge_requests_total counter$/m);
  assert.match(text, /^dhrishti_edge_requests_total\{client="web",client_group="shop",client_kind="service",server="api",server_group="shop",server_kind="service",server_port="8080",protocol="tcp",host="h",app_protocol="http1",status_class="2xx"\} 40$/m);
  assert.match(text, /^dhrishti_edge_request_duration_seconds_bucket\{[^}]*app_protocol="http1",le="0.000256"\} 0$/m);
  assert.match(text, /^dhrishti_edge_request_duration_seconds_bucket\{[^}]*app_protocol="http1",le="0.001024"\} 45$/m);
  assert.match(text, /^dhrishti_edge_request_duration_seconds_bucket\{[^}]*app_protocol="http1",le="\+Inf"\} 45$/m);
  assert.match(text, /^dhrishti_edge_request_duration_seconds_count\{[^}]*app_protocol="postgres"\} 8$/m);

  // Moving on: only what moved is added, and a rendering of the same numbers is the same text.
  g.edges[0] = edge('svc:shop/web', 'svc:shop/api', 8080, 3, [{ protocol: 'http1', status: { '2xx': 50, '4xx': 3, '5xx': 2 }, bucket: 9, unpaired: 1 }]);
  const r2 = m.update(g);
  assert.equal(series(r2.families, 'dhrishti_edge_requests_total').find((s) => s.labels.status_class === '2xx')!.value, 50);
  assert.equal(exposition(r2.families), exposition(m.update(g).families));
});

test('Tempo: an edge with requests counts requests, failed requests and their latency; one without counts connections', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 10 });
  const r = m.update({
    generatedAt: 0, nodes: NODES,
    edges: [
      edge('svc:shop/web', 'svc:shop/api', 8080, 3, [{ protocol: 'http1', status: { '2xx': 40, '4xx': 3, '5xx': 2 }, bucket: 9 }]),
      edge('svc:shop/web', 'svc:shop/api', 9090, 2), // same pair, no requests: its 2 connections and 1 refused attempt
      edge('svc:shop/api', 'svc:shop/db', 5432, 4),
    ],
  });
  const pair = (name: string, server: string) => series(r.families, name).find((s) => s.labels.client === 'shop/web' && s.labels.server === server || s.labels.client === 'shop/api' && s.labels.server === server)!;
  assert.equal(pair('traces_service_graph_request_total', 'shop/api').value, 45 + 2 + 1, 'a refused attempt is a call too: failed is a part of the total');
  assert.equal(pair('traces_service_graph_request_failed_total', 'shop/api').value, 2 + 1, '5xx, and the refused connection of the L4-only edge');
  assert.equal(pair('traces_service_graph_request_total', 'shop/db').value, 4 + 1);
  const h = fam(r.families, 'traces_service_graph_request_server_seconds') as HistogramFamily;
  const s = h.series.find((x) => x.labels.server === 'shop/api')!;
  assert.equal(s.count, 47);
  // requests in [512, 1024) µs land under le=1.024 ms (index 1); the connections (16-65 ms) under le=65.536 ms (index 4)
  assert.equal(s.counts[1], 45);
  assert.equal(s.counts[4], 2);
  assert.ok(Math.abs(s.sum - ((45 * 1.5 * 512) / 1e6 + (2 * 20) / 1e3)) < 1e-9);
});

test('top N: a folded edge\'s requests go into other, and its counter never goes down when it gets its labels', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 1 });
  const busy = (n: number) => edge('svc:shop/web', 'svc:shop/api', 80, n, [{ protocol: 'http1', status: { '2xx': 10 }, bucket: 9 }]);
  const quiet = (n: number, req: number) => edge('svc:shop/api', 'svc:shop/db', 6379, n, [{ protocol: 'redis', status: { ok: req }, bucket: 5 }]);
  let r = m.update({ generatedAt: 0, nodes: NODES, edges: [busy(100), quiet(1, 30)] }, 1000);
  const other = (rr: typeof r) => series(rr.families, 'dhrishti_edge_requests_total').find((s) => s.labels.client === 'other' && s.labels.app_protocol === 'redis');
  assert.equal(other(r)?.value, 30);
  assert.equal(other(r)!.labels.status_class, 'ok');
  assert.equal((fam(r.families, 'dhrishti_edge_request_duration_seconds') as HistogramFamily).series.find((s) => s.labels.client === 'other')!.count, 30);
  // the quiet edge becomes the busiest: labelled, from its whole count; other keeps what it had
  r = m.update({ generatedAt: 0, nodes: NODES, edges: [busy(100), quiet(100_000, 35)] }, 2000);
  const db = series(r.families, 'dhrishti_edge_requests_total').find((s) => s.labels.server === 'db');
  assert.equal(db?.value, 35);
  assert.equal(other(r)?.value, 30);
  const tempo = series(r.families, 'traces_service_graph_request_total');
  assert.equal(tempo.find((s) => s.labels.server === 'shop/db')!.value, 5, 'Tempo\'s pair gets what moved since it was labelled');
  assert.equal(tempo.find((s) => s.labels.server === 'other')!.value, 30);
});

test('OTLP and remote-write carry the request families under the same names', () => {
  const m = new EdgeMetrics({ host: 'h', topEdges: 10 });
  const r = m.update({ generatedAt: 0, nodes: NODES, edges: [edge('svc:shop/web', 'svc:shop/api', 8080, 3, [{ protocol: 'http2', status: { ok: 4, error: 1 }, bucket: 12 }])] });
  const snap: Snapshot = { families: r.families, time: 5000, startTime: 1000 };
  const metrics = resourceMetrics(snap, 'h', '0.1.0').scopeMetrics[0].metrics;
  const req = metrics.find((x) => x.descriptor.name === 'dhrishti_edge_requests')!;
  assert.ok(req, 'monotonic sum without _total');
  assert.deepEqual(req.dataPoints.map((p) => [p.attributes.status_class, p.value]).sort(), [['error', 1], ['ok', 4]]);
  const dur = metrics.find((x) => x.descriptor.name === 'dhrishti_edge_request_duration_seconds')!;
  assert.equal(dur.descriptor.unit, 's');
  assert.equal((dur.dataPoints[0].value as { count: number }).count, 5);
  const ts = toTimeseries(snap, { job: 'dhrishti' });
  assert.equal(ts.filter((t) => t.labels.__name__ === 'dhrishti_edge_request_duration_seconds_bucket').length, HISTOGRAM_BOUNDS.requestLatencyUs.length + 1);
  assert.equal(ts.find((t) => t.labels.__name__ === 'dhrishti_edge_requests_total' && t.labels.status_class === 'ok')!.samples[0].value, 4);
  assert.equal(ts.find((t) => t.labels.__name__ === 'traces_service_graph_request_total')!.samples[0].value, 5);
});
