// Unit tests of the web UI's request logic (pure): the edge label, how error
// rate and latency colour an edge under the user's thresholds, and "Failing only".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeRequests, GraphEdge, GraphNode } from '../src/graph/types.js';
import { block } from './support/fixtures.js';
import { edgeHealth, edgeLabel } from '../src/ui/src/model/derive.js';
import { requestHealth, requestLabel, requestText, DEFAULT_THRESHOLDS } from '../src/ui/src/model/requests.js';
import { computeVisible, NO_FILTERS } from '../src/ui/src/model/filters.js';

function edge(requests?: EdgeRequests[], failures = 0): GraphEdge {
  const r = { connections: 0.1, failures, bytesSent: 10, bytesReceived: 10, retransmits: 0 };
  return {
    id: 'proc:a|proc:b|80|tcp', source: 'proc:a', target: 'proc:b', port: 80, protocol: 'tcp',
    connections: { opened: 1, active: 1, closed: 0, failed: 0, failedBy: { refused: 0, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } },
    bytes: { sent: 1, received: 1 }, rtt: { meanUs: 0, p95Us: 0, samples: 0 }, retransmits: 0, duration: { meanMs: 0, p95Ms: 0, samples: 0 },
    firstSeen: 1, lastSeen: 2, rates: { '10s': r, '1m': { ...r } }, ...(requests ? { requests } : {}),
  };
}

test('the label names protocol, rate, error share and p95', () => {
  assert.equal(requestLabel(edge([block('http1', 42, 1.26, 180)])), 'HTTP · 42/s · 3% 5xx · p95 180 ms');
  assert.equal(edgeLabel(edge([block('http1', 42, 0, 180)])), 'HTTP · 42/s · p95 180 ms');
  const cut = block('http1', 42, 1.26, 180);
  cut.status.error = 6; // requests the server's end closed on count with its errors...
  assert.equal(requestLabel(edge([cut])), 'HTTP · 42/s · 3% 5xx · p95 180 ms', '...but none in the last minute: its errors now are 5xx');
  cut.rates['1m'].serverErrors = 1; // ...and now some of the minute's errors got no response: not all are 5xx
  assert.equal(requestLabel(edge([cut])), 'HTTP · 42/s · 3% failed · p95 180 ms');
  assert.equal(edgeLabel(edge([block('postgres', 120, 1.2, 3)])), 'Postgres · 120/s · 1% err · p95 3.0 ms');
  assert.equal(edgeLabel(edge([block('http2', 10, 0.5, 12, { grpc: true })])), 'gRPC · 10/s · 5% err · p95 12 ms');
  assert.match(edgeLabel(edge([block('http1', 5, 1, 20)], 0.5)), / · 0\.5 fail\/s$/, 'TCP failures and request errors both shown');
  assert.equal(edgeLabel(edge()), ':80 · 0.1/s', 'no requests: the connection label');
  const quiet = block('redis', 0, 0, 1);
  assert.equal(requestLabel(edge([quiet])), null, 'no requests lately: no request label');
});

test('error rate and latency colour an edge by the thresholds; failed connections stay red', () => {
  const t = DEFAULT_THRESHOLDS;
  assert.equal(requestHealth(edge([block('http1', 100, 0, 10)]), t), null);
  assert.equal(requestHealth(edge([block('http1', 100, 1, 10)]), t), 'warn', '1% errors: above the amber threshold (any)');
  assert.equal(requestHealth(edge([block('http1', 100, 6, 10)]), t), 'failing', '6% errors: red');
  assert.equal(requestHealth(edge([block('http1', 100, 0, 600)]), t), 'warn', 'slow: amber');
  assert.equal(requestHealth(edge([block('http1', 100, 0, 2500)]), t), 'failing', 'very slow: red');
  assert.equal(edgeHealth(edge([block('http1', 100, 6, 10)]), false, { ...t, errorFailPct: 10 }), 'warn', 'a higher red threshold');
  assert.equal(edgeHealth(edge([block('http1', 100, 0, 10)], 1), false, t), 'failing', 'failed connections');
  assert.equal(edgeHealth(edge([block('http1', 100, 0, 600)]), false, { ...t, latencyWarnMs: 1000 }), 'ok');
});

test('"Failing only" keeps edges with request errors even below the red threshold', () => {
  const n = (id: string): GraphNode => ({ id, kind: 'process', label: id, group: 'host', instances: [], ips: [], firstSeen: 1, lastSeen: 2, active: 0 });
  const nodes = new Map([['proc:a', n('proc:a')], ['proc:b', n('proc:b')]]);
  const withErrors = edge([block('http1', 100, 1, 10)]);
  const healthy = { ...edge([block('http1', 100, 0, 10)]), id: 'proc:a|proc:b|81|tcp', port: 81 };
  const edges = new Map([[withErrors.id, withErrors], [healthy.id, healthy]]);
  const vis = computeVisible(nodes, edges, { ...NO_FILTERS, failingOnly: true }, () => 'warn');
  assert.deepEqual([...vis.edges], [withErrors.id]);
});

test('a sampled request reads as one line: a SQL statement alone (its verb is the method), HTTP as method and path', () => {
  assert.equal(requestText('SELECT', 'SELECT * FROM no_such_table'), 'SELECT * FROM no_such_table', 'not "SELECT SELECT …"');
  assert.equal(requestText('SELECT', 'select 1'), 'select 1');
  assert.equal(requestText('GET', '/orders'), 'GET /orders');
  assert.equal(requestText('GET', '/GET x'), 'GET /GET x');
  assert.equal(requestText('HGETALL', undefined), 'HGETALL');
  assert.equal(requestText(undefined, undefined), '?');
});
