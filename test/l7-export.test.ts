// Requests on /metrics from a real `dhrishti run` and real HTTP traffic: the
// edge's request counters by status class and its duration histogram (exact
// buckets), and Tempo's service-graph series counting requests, not the one
// keep-alive connection that carried them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { node, start, stopAll } from './support/children.js';
import { HTTP_SERVER, HTTP_CLIENT } from './support/l7-scripts.js';
import type { RunningAgent } from './support/agent.js';
import { startL7Agent, settleEdge } from './support/l7-agent.js';
import { until } from './support/wait.js';

let agent: RunningAgent;
let dir = '';
before(async () => {
  agent = await startL7Agent(['--no-l7-tls', '--hostname', 'l7x']);
  // The server runs as its own executable name (a hard link to node), so Tempo's client/server pair is its alone.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-l7x-'));
  try { fs.linkSync(process.execPath, path.join(dir, 'l7srv')); } catch { fs.copyFileSync(process.execPath, path.join(dir, 'l7srv')); fs.chmodSync(path.join(dir, 'l7srv'), 0o755); }
});
after(async () => { await stopAll(); await agent?.stop(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

/** The value of the one row of `name` whose labels include `want`; undefined if none. */
function row(text: string, name: string, want: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

// Bucket i holds [2^i, 2^(i+1)) µs: the 400 ms requests are in [262144, 524288) µs, exported under le=1.048576 s.
test('/metrics: exact request counts, status classes and duration buckets of the edge; Tempo counts its requests', async () => {
  const srv = start(path.join(dir, 'l7srv'), ['-e', HTTP_SERVER]);
  const port = Number((await srv.waitFor(/^port (\d+)/))[1]);
  const c = node(HTTP_CLIENT, [String(port), JSON.stringify([['GET', '/ok', 50], ['GET', '/404', 10], ['GET', '/500', 5], ['GET', '/slow', 3]])]);
  await c.waitFor(/^done/, 30_000);
  const e = await settleEdge(agent, port, 68);
  assert.equal(e.count, 68, `the map holds the requests: ${JSON.stringify(e.byClass)}`);
  const edge = { server: 'l7srv', server_port: String(port), host: 'l7x', app_protocol: 'http1' };
  const text = await until('the requests on /metrics', async () => {
    const t = await (await fetch(`${agent.url}/metrics`)).text();
    return row(t, 'dhrishti_edge_request_duration_seconds_count', edge) === 68 ? t : undefined;
  }, 15_000);
  assert.equal(row(text, 'dhrishti_edge_requests_total', { ...edge, status_class: '2xx' }), 53);
  assert.equal(row(text, 'dhrishti_edge_requests_total', { ...edge, status_class: '4xx' }), 10);
  assert.equal(row(text, 'dhrishti_edge_requests_total', { ...edge, status_class: '5xx' }), 5);
  assert.equal(row(text, 'dhrishti_edge_requests_total', { ...edge, status_class: '3xx' }), undefined, 'no row for a class with no request');
  assert.match(text, /^# TYPE dhrishti_edge_request_duration_seconds histogram$/m);
  assert.equal(row(text, 'dhrishti_edge_request_duration_seconds_bucket', { ...edge, le: '0.262144' }), 65, 'all but the slow three under 262 ms');
  assert.equal(row(text, 'dhrishti_edge_request_duration_seconds_bucket', { ...edge, le: '1.048576' }), 68, 'the slow three in the bucket up to 1.05 s');
  assert.equal(row(text, 'dhrishti_edge_request_duration_seconds_bucket', { ...edge, le: '+Inf' }), 68);
  const sum = row(text, 'dhrishti_edge_request_duration_seconds_sum', edge)!;
  assert.ok(sum >= 1.2 && sum < 2, `sum of latencies in seconds (3 × 400 ms and 65 fast ones): ${sum}`);
  assert.equal(row(text, 'dhrishti_edge_requests_unpaired_total', edge), undefined);
  // One keep-alive connection carried them: Tempo's pair says 68 requests, 5 failed, and their latency.
  const pair = { client: 'node', server: 'l7srv', connection_type: '', host: 'l7x' };
  assert.equal(row(text, 'dhrishti_edge_connections_opened_total', { server: 'l7srv', server_port: String(port) }), 1);
  const tempo = { server: 'l7srv', host: 'l7x' };
  assert.equal(row(text, 'traces_service_graph_request_total', tempo), 68, `pair ${JSON.stringify(pair)}`);
  assert.equal(row(text, 'traces_service_graph_request_failed_total', tempo), 5);
  for (const h of ['traces_service_graph_request_server_seconds', 'traces_service_graph_request_client_seconds']) {
    assert.equal(row(text, `${h}_bucket`, { ...tempo, le: '0.262144' }), 65, h);
    assert.equal(row(text, `${h}_bucket`, { ...tempo, le: '1.048576' }), 68, h);
    assert.equal(row(text, `${h}_count`, tempo), 68, h);
  }
  assert.ok(text.includes('client="node"') && /traces_service_graph_request_total\{client="node",server="l7srv"/.test(text), 'Tempo labels client and server by executable');
});

/** GET with this Accept-Encoding (fetch would decompress on its own): the Content-Encoding and the body as sent. */
function getRaw(url: string, acceptEncoding: string | null): Promise<{ encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: acceptEncoding === null ? {} : { 'Accept-Encoding': acceptEncoding } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(parts) }));
    }).on('error', reject);
  });
}

test('/metrics gzip: one member that reads whole, scrape after scrape; sent plain when gzip is refused or not asked for', async () => {
  const url = `${agent.url}/metrics`;
  let last = '';
  for (let i = 0; i < 3; i++) {
    const g = await getRaw(url, 'gzip');
    assert.equal(g.encoding, 'gzip');
    // A reader of the first gzip member only (curl --compressed) must see it all: one member, its trailer's length the text's.
    const text = zlib.gunzipSync(g.body);
    last = text.toString();
    assert.equal(text.length, g.body.readUInt32LE(g.body.length - 4));
    assert.equal(zlib.inflateRawSync(g.body.subarray(10, g.body.length - 8)).length, text.length);
    assert.match(text.toString(), /^# TYPE dhrishti_edge_requests_total counter$/m);
    assert.match(text.toString(), /^dhrishti_agent_report_timestamp_seconds\{/m);
    await new Promise((r) => setTimeout(r, 1100)); // past the export's rebuild interval
  }
  // Our running totals are declared counters (Prometheus' rate() needs it); prom-client's own process
  // families (dhrishti_nodejs_active_*_total) are gauges of its making. Their names carry one prefix, not two.
  assert.match(last, /^dhrishti_process_cpu_user_seconds_total\{host="[^"]+"\} /m);
  assert.doesNotMatch(last, /dhrishti_process_process_/);
  const totals = [...last.matchAll(/^# TYPE (\S+_total) (\S+)$/gm)].filter((m) => !m[1].startsWith('dhrishti_nodejs_'));
  assert.ok(totals.length >= 20, `${totals.length} _total families`);
  assert.deepEqual(totals.filter((m) => m[2] !== 'counter').map((m) => `${m[1]} ${m[2]}`), []);
  // The plain body (written as bytes, not one string) holds the same families as the compressed one.
  const families = (t: string) => [...new Set(t.split('\n').filter((l) => l.startsWith('# TYPE ')))].sort();
  for (const ae of ['gzip;q=0', 'identity', null]) {
    const p = await getRaw(url, ae);
    assert.equal(p.encoding, undefined, `Accept-Encoding ${ae}`);
    assert.match(p.body.toString(), /^# TYPE dhrishti_edge_requests_total counter$/m);
    assert.deepEqual(families(p.body.toString()), families(last));
  }
});
