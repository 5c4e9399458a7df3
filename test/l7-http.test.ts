// Request capture (L7) of HTTP/1 against the real kernel with real Node
// servers and clients: known mixes asserted exactly, per socket aggregate
// (the engine) and on the edge, as the real `dhrishti run` serves it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { node, start, stopAll } from './support/children.js';
import { L7Log, byClass, inBuckets } from './support/l7.js';
import { HTTP_SERVER, HTTP_CLIENT, PIPELINE_CLIENT, NOISE, LATE_READER, VERB_LINES, ONE_SHOT_CLIENT } from './support/l7-scripts.js';
import { getJson, type RunningAgent } from './support/agent.js';
import { startL7Agent, settleEdge, bucketsIn } from './support/l7-agent.js';
import { until } from './support/wait.js';
import type { GraphSnapshot, NodeDetail, StreamMessage } from '../src/graph/types.js';
import WebSocket from 'ws';

let log: L7Log;
let agent: RunningAgent;
before(async () => {
  log = new L7Log({ tls: false, samplesPerSec: 2000, sampleBurst: 2000 }).start();
  agent = await startL7Agent(['--no-l7-tls']);
});
after(async () => { await stopAll(); log?.stop(); await agent?.stop(); });

async function server(): Promise<number> {
  const s = node(HTTP_SERVER);
  return Number((await s.waitFor(/^port (\d+)/))[1]);
}

async function client(port: number, plan: [string, string, number, number?, number?][]): Promise<void> {
  const c = node(HTTP_CLIENT, [String(port), JSON.stringify(plan)]);
  await c.waitFor(/^done/, 30_000);
}

// Bucket i holds [2^i, 2^(i+1)) us: 400 ms is bucket 18 (262-524 ms).
const SLOW_BUCKET = 18;

test('keep-alive mix: counts, status classes and the slow path in its latency bucket, both sides', async () => {
  const port = await server();
  await client(port, [['GET', '/ok?user=1', 50], ['GET', '/404', 10], ['GET', '/500', 5], ['GET', '/slow', 3], ['GET', '/ok', 12]]);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 80);
    assert.deepEqual(byClass(t), { '2xx': 65, '4xx': 10, '5xx': 5 }, role);
    assert.equal(t.sockets, 1, `${role}: one keep-alive connection`);
    assert.deepEqual([...t.protocols], ['http1']);
    assert.equal(inBuckets(t, SLOW_BUCKET, SLOW_BUCKET), 3, `${role}: the three slow requests, and only them, near 400 ms`);
    assert.equal(inBuckets(t, SLOW_BUCKET + 1, 23), 0);
    assert.equal(t.unpaired, 0);
  }
  const slow = log.samples.filter((s) => s.target === '/slow' && s.role === 'server');
  assert.equal(slow.length, 3, 'slow requests sampled');
  assert.ok(slow.every((s) => s.method === 'GET' && s.latencyMs >= 399 && s.reasons.includes('slow')));
  const failed = log.samples.filter((s) => s.target === '/500' && s.role === 'server');
  assert.equal(failed.length, 5, 'failed requests sampled');
  assert.ok(failed.every((s) => s.status === 500 && s.statusClass === '5xx'));
  assert.ok(!log.samples.some((s) => s.target?.includes('?')), 'no query string kept');

  // The product: one edge into the port, its requests block, histogram and samples.
  const e = await settleEdge(agent, port, 80);
  assert.equal(e.edges.length, 1, `one edge: ${e.edges}`);
  assert.deepEqual(e.byClass, { '2xx': 65, '4xx': 10, '5xx': 5 });
  assert.equal(e.errors, 5);
  assert.equal(e.clientErrors, 10);
  assert.equal(e.unpaired, 0);
  assert.deepEqual(e.protocols, ['http1']);
  assert.equal(bucketsIn(e, SLOW_BUCKET, SLOW_BUCKET), 3, 'the three slow requests in the edge\'s histogram');
  assert.equal(bucketsIn(e, SLOW_BUCKET + 1, 23), 0);
  const r = e.blocks[0];
  // the kernel's bound on the slowest request ends the [262, 524) ms bucket: p99 is read at the 400 ms requests, not past them
  assert.ok(r.latency.p99Ms >= 399 && r.latency.p99Ms <= 420, `p99 at the 400 ms requests: ${r.latency.p99Ms}`);
  assert.ok(r.latency.p50Ms < 262, `p50 below it: ${r.latency.p50Ms}`);
  assert.ok(r.rates['1m'].requests > 0 && r.rates['1m'].errors > 0);
  const s500 = e.samples.filter((x) => x.target === '/500');
  const sSlow = e.samples.filter((x) => x.target === '/slow');
  assert.equal(s500.length, 5, `each 500 listed once on the edge (one side's sample): ${JSON.stringify(e.samples)}`);
  assert.ok(s500.every((x) => x.method === 'GET' && x.status === 500 && x.statusClass === '5xx' && x.process === 'node' && x.pid > 0 && x.reasons.includes('failed')));
  assert.equal(sSlow.length, 3);
  assert.ok(sSlow.every((x) => x.latencyMs >= 399 && x.reasons.includes('slow')));
  assert.ok(!JSON.stringify(e.samples).includes('user=1'), 'no query string on the edge');

  // History: the same numbers, exactly, in the finest tier (written every second here).
  const id = e.edges[0];
  const series = await until('the history to hold the requests', async () => {
    const s = (await getJson<{ points: { t: number; v: number | null }[] }>(`${agent.url}/api/v1/timeseries?edge=${encodeURIComponent(id)}&metric=requests&from=-5m`)).body;
    return s.points.reduce((n, p) => n + (p.v ?? 0), 0) >= 80 ? s : undefined;
  }, 15_000);
  assert.equal(series.points.reduce((n, p) => n + (p.v ?? 0), 0), 80);
  const errs = (await getJson<{ points: { v: number | null }[] }>(`${agent.url}/api/v1/timeseries?edge=${encodeURIComponent(id)}&metric=request_errors&from=-5m`)).body;
  assert.equal(errs.points.reduce((n, p) => n + (p.v ?? 0), 0), 5);
  const p99 = (await getJson<{ points: { v: number | null }[] }>(`${agent.url}/api/v1/timeseries?edge=${encodeURIComponent(id)}&metric=request_p99&from=-5m`)).body;
  assert.ok(p99.points.some((p) => p.v !== null && p.v >= 262), 'the slow requests\' bucket in the stored p99');
  const range = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph?from=-5m`)).body.edges.find((x) => x.id === id)!;
  assert.deepEqual(Object.fromEntries(Object.entries(range.requests![0].status).filter(([, n]) => n)), { '2xx': 65, '4xx': 10, '5xx': 5 });
  // at= a moment with requests: the bucket's own numbers
  const busy = series.points.find((p) => (p.v ?? 0) > 0)!;
  const at = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph?at=${busy.t + 1}`)).body.edges.find((x) => x.id === id)!;
  assert.equal(at.requests![0].count, busy.v);
  // inbound RED of the server's node includes this edge
  const srv = (await getJson<NodeDetail>(`${agent.url}/api/v1/nodes/${encodeURIComponent(id.split('|')[1])}`)).body;
  assert.ok((srv.inboundRequests?.find((x) => x.protocol === 'http1')?.count ?? 0) >= 80);
});

test('a server that closes or resets a connection with the request unanswered fails it; a client that gives up leaves it unpaired, sampled if it waited past the slow threshold', async () => {
  const port = await server();
  const t0 = Date.now();
  // Given up on: two after 100 ms (under the 200 ms slow threshold), one after 500 ms (a client's timeout).
  const c = node(ONE_SHOT_CLIENT, [String(port), JSON.stringify([['/hangup', 4], ['/reset', 3], ['/slow', 2, 100], ['/sleep?ms=1500', 1, 500], ['/ok', 5]])]);
  await c.waitFor(/^done/, 30_000);
  for (const role of ['client', 'server'] as const) {
    const t = await log.settle(port, role, 12);
    assert.deepEqual(byClass(t), { '2xx': 5, error: 7 }, role);
    assert.equal(t.unpaired, 3, `${role}: the three the client gave up on`);
    const gaveUp = log.samples.filter((s) => s.role === role && s.time >= t0 && s.reasons.includes('abandoned'));
    assert.deepEqual(gaveUp.map((s) => `${s.method} ${s.target} ${s.statusClass} ${s.reasons.join(',')}`), ['GET /sleep other slow,abandoned'], `${role}: only the one past the slow threshold`);
    assert.ok(gaveUp[0].latencyMs >= 490 && gaveUp[0].latencyMs < 700, `${role}: timed to the client's close: ${gaveUp[0].latencyMs}`);
    const cut = log.samples.filter((s) => s.role === role && s.time >= t0 && s.reasons.includes('no-response'));
    assert.deepEqual(cut.map((s) => `${s.method} ${s.target} ${s.statusClass} ${s.status}`).sort(),
      [...Array(4).fill('GET /hangup error 0'), ...Array(3).fill('GET /reset error 0')], role);
    assert.ok(cut.every((s) => s.reasons.includes('failed') && s.latencyMs >= 15 && s.latencyMs < 1000), `${role}: timed to the close, about 20 ms`);
  }
  // On the map: errors of the edge (its health), the three abandoned ones still "without a response", not errors
  const e = await settleEdge(agent, port, 12);
  assert.deepEqual(e.byClass, { '2xx': 5, error: 7 });
  assert.equal(e.errors, 7);
  assert.equal(e.unpaired, 3);
  assert.deepEqual(e.samples.filter((x) => x.reasons.includes('abandoned')).map((x) => [x.target, x.side]), [['/sleep', 'client']], 'the client\'s view of the one it gave up on');
  const listed = e.samples.filter((x) => x.reasons.includes('no-response'));
  assert.equal(listed.length, 7, JSON.stringify(e.samples));
  assert.ok(listed.every((x) => x.status === 0 && x.statusClass === 'error' && x.method === 'GET'));
});

test('pipelining: 100 requests in one write are 100 requests, paired in order (and the WebSocket delta carries them)', async () => {
  const port = await server();
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/api/v1/stream`);
  const messages: StreamMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as StreamMessage));
  await new Promise((r) => ws.once('open', r));
  const c = node(PIPELINE_CLIENT, [String(port), '100']);
  await c.waitFor(/^done 100/, 20_000);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 100);
    assert.deepEqual(byClass(t), { '2xx': 100 }, role);
    assert.equal(t.unpaired, 0);
  }
  const e = await settleEdge(agent, port, 100);
  assert.deepEqual(e.byClass, { '2xx': 100 }, 'on the edge');
  assert.equal(e.unpaired, 0);
  const seen = await until('a stream delta with the edge\'s requests', async () => messages.find((m) => m.type === 'delta' && m.delta.edges.some((x) => x.port === port && x.requests?.[0]?.count === 100)), 10_000);
  assert.equal(seen.type, 'delta');
  ws.close();
});

test('pipelined requests of one write: each failure\'s sample names its request, not only the newest', async () => {
  const port = await server();
  // two DELETEs in one slot (same write, same method): each named by its own path
  const plan = [['GET', '/500'], ['DELETE', '/500'], ['DELETE', '/404'], ['PUT', '/404'], ['OPTIONS', '/500'], ['GET', '/ok']];
  const c = node(PIPELINE_CLIENT, [String(port), String(plan.length), '127.0.0.1', JSON.stringify(plan)]);
  await c.waitFor(/^done 6/, 20_000);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 6);
    assert.deepEqual(byClass(t), { '2xx': 1, '4xx': 2, '5xx': 3 }, role);
    const failed = log.samplesOf(port, role).filter((s) => s.reasons.includes('failed'));
    // the socket's text is its newest request's (GET /ok): the ones before it are named by their first bytes, kept by request number
    assert.deepEqual(failed.map((s) => `${s.method} ${s.target} ${s.status}`).sort(),
      ['DELETE /404 404', 'DELETE /500 500', 'GET /500 500', 'OPTIONS /500 500', 'PUT /404 404'], role);
  }
  const e = await settleEdge(agent, port, 6);
  assert.deepEqual(e.samples.map((x) => `${x.method} ${x.target}`).sort(), ['DELETE /404', 'DELETE /500', 'GET /500', 'OPTIONS /500', 'PUT /404'], JSON.stringify(e.samples));

  // deeper than the 8 names: the oldest keep their method, from their slot
  const port2 = await server();
  const deep = [...Array(12).fill(['DELETE', '/500']), ['GET', '/ok']];
  await node(PIPELINE_CLIENT, [String(port2), String(deep.length), '127.0.0.1', JSON.stringify(deep)]).waitFor(/^done 13/, 20_000);
  for (const role of ['server', 'client'] as const) {
    await log.settle(port2, role, 13);
    const failed = log.samplesOf(port2, role).filter((s) => s.reasons.includes('failed'));
    assert.deepEqual(failed.map((s) => `${s.method} ${s.target}`).sort(), [...Array(8).fill('DELETE /500'), ...Array(4).fill('DELETE null')], role);
  }
});

test('samples are rate-limited in the kernel, and the ones over the rate are counted', async () => {
  const limited = new L7Log({ tls: false, samplesPerSec: 5, sampleBurst: 5 }).start();
  try {
    const before = limited.engine.l7!.losses().samplesOverRate;
    const t0 = Date.now();
    const port = await server();
    await client(port, [['GET', '/500', 60]]);
    await limited.settle(port, 'server', 60);
    const seconds = (Date.now() - t0) / 1000;
    // the bucket is the whole host's: other failures on the machine may take some of it
    const mine = limited.samples.filter((s) => s.target === '/500');
    assert.ok(mine.length >= 1, 'some failures sampled');
    assert.ok(limited.samples.length <= 5 + 5 * seconds + 2, `${limited.samples.length} samples in ${seconds.toFixed(1)} s at 5/s, burst 5`);
    assert.ok(limited.engine.l7!.losses().samplesOverRate - before >= 100, 'the rest counted as over the rate');
  } finally {
    limited.stop();
  }
});

test('requests larger than the prefix: big bodies and big headers, then small requests on the same connection', async () => {
  const port = await server();
  await client(port, [['POST', '/upload', 5, 300_000, 0], ['GET', '/ok', 5, 0, 3000], ['PUT', '/upload', 4, 70_000, 600], ['GET', '/404', 6]]);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 20);
    assert.deepEqual(byClass(t), { '2xx': 14, '4xx': 6 }, role);
    assert.equal(t.unpaired, 0);
  }
  const e = await settleEdge(agent, port, 20);
  assert.deepEqual(e.byClass, { '2xx': 14, '4xx': 6 }, 'on the edge');
  assert.equal(e.unpaired, 0);
});

test('responses split across reads: 1 MB bodies and chunked bodies whose chunks look like responses', async () => {
  const port = await server();
  await client(port, [['GET', '/big', 6], ['GET', '/chunked', 4], ['GET', '/404', 2], ['GET', '/chunked', 2]]);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 14);
    assert.deepEqual(byClass(t), { '2xx': 12, '4xx': 2 }, role);
    assert.equal(t.unpaired, 0);
  }
  const e = await settleEdge(agent, port, 14);
  assert.deepEqual(e.byClass, { '2xx': 12, '4xx': 2 }, 'on the edge');
});

test('many connections, one after another (fds reused): each counted on its own socket', async () => {
  const port = await server();
  for (let i = 0; i < 5; i++) await client(port, [['GET', '/ok', 3], ['GET', '/500', 1]]);
  const t = await log.settle(port, 'server', 20);
  assert.deepEqual(byClass(t), { '2xx': 15, '5xx': 5 });
  assert.equal(t.sockets, 5);
  const e = await settleEdge(agent, port, 20);
  assert.deepEqual(e.byClass, { '2xx': 15, '5xx': 5 }, 'five connections, each counted once, all on the edge (their last counts come after their close)');
  // Each close says the parser took its socket: the graph keeps a closed socket findable for its last count only then.
  for (const role of ['server', 'client'] as const) {
    assert.deepEqual(await until(`five ${role} closes`, async () => { const m = log.closeMarks(port, role); return m.l7 + m.plain >= 5 ? m : undefined; }), { l7: 5, plain: 0 }, role);
  }
});

test('a drain handed on in passes of 3 ring slots: every close with its counts whole, every request counted once', async () => {
  // Two-slot records (a close with its counts) straddle most pass boundaries here; the engine must not split one.
  const small = new L7Log({ tls: false }, { batchSlots: 3 }).start();
  try {
    const port = await server();
    await Promise.all(Array.from({ length: 10 }, () => client(port, [['GET', '/ok', 3], ['GET', '/500', 1]])));
    for (const role of ['server', 'client'] as const) {
      const t = await small.settle(port, role, 40);
      assert.deepEqual(byClass(t), { '2xx': 30, '5xx': 10 }, role);
      assert.equal(t.sockets, 10, role);
      assert.deepEqual(await until(`ten ${role} closes`, async () => { const m = small.closeMarks(port, role); return m.l7 + m.plain >= 10 ? m : undefined; }), { l7: 10, plain: 0 }, role);
    }
    assert.equal(small.engine.stats().lost.malformed, 0, 'no record cut in two');
  } finally { small.stop(); }
});

test('a slow request bounds the percentiles of its own second only, not those of later seconds on the same connection', async () => {
  const port = await server();
  // One keep-alive connection: 1,000 ms, then, in a later 10 s history bucket, 600 ms three times: both in the log2 bucket [524, 1049) ms.
  await client(port, [['GET', '/sleep?ms=1000', 1], ['PAUSE', '', 10_500], ['GET', '/sleep?ms=600', 3]]);
  const id = (await settleEdge(agent, port, 4)).edges[0];
  const series = (metric: string) => getJson<{ points: { t: number; v: number | null }[] }>(`${agent.url}/api/v1/timeseries?edge=${encodeURIComponent(id)}&metric=${metric}&from=-2m`);
  await until('the four requests in the history', async () => ((await series('requests')).body.points.reduce((n, p) => n + (p.v ?? 0), 0) >= 4 ? true : undefined), 20_000);
  const p99 = (await series('request_p99')).body.points.map((p) => p.v).filter((v): v is number => v !== null && v > 0);
  assert.ok(p99.some((v) => v >= 990), `the slow request's second: ${p99}`);
  // With the connection's slowest of all time as the bound, each later second read about 676 ms (the sum's spread up to 1,000).
  for (const v of p99.filter((x) => x < 990)) assert.ok(v >= 595 && v <= 620, `a 600 ms second reads ${v} ms: ${p99}`);
});

test('a request sent after 300 ms idle and read 300 ms later is timed from its send to its read at the client; the server answered at once', async () => {
  const port = await server();
  const c = start('python3', ['-c', LATE_READER, String(port)]);
  await c.waitFor(/^done/, 10_000);
  // Bucket 18 holds 262-524 ms; below bucket 14 (16 ms) is "at once".
  const client = await log.settle(port, 'client', 3), server_ = await log.settle(port, 'server', 3);
  assert.deepEqual(byClass(client), { '2xx': 3 });
  assert.deepEqual(byClass(server_), { '2xx': 3 });
  assert.equal(inBuckets(client, SLOW_BUCKET, SLOW_BUCKET), 3, `client: send (TCP's clock, not the idle connection's last time) to read: ${JSON.stringify(client.buckets)}`);
  assert.equal(inBuckets(server_, 0, 13), 3, `server: read to send: ${JSON.stringify(server_.buckets)}`);
});

test('port 80 carrying random bytes stays unclassified, even when an HTTP request line comes later', async () => {
  const host = `127.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}.80`;
  const c = node(NOISE, [host, '80']);
  await c.waitFor(/^done/, 10_000);
  await new Promise((r) => setTimeout(r, 600));
  for (const role of ['server', 'client'] as const) assert.equal(log.totals(80, role).sockets, 0, role);
  // Nor do their closes say the parser took them: no closing count will come.
  for (const role of ['server', 'client'] as const) {
    assert.deepEqual(await until(`the ${role} close`, async () => { const m = log.closeMarks(80, role); return m.l7 + m.plain >= 1 ? m : undefined; }), { l7: 0, plain: 1 }, role);
  }
});

test('a line protocol whose commands start like HTTP methods ("GET key") is not taken for HTTP', async () => {
  const host = `127.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}.81`;
  const c = node(VERB_LINES, [host, '16381']);
  await c.waitFor(/^done/, 10_000);
  for (const role of ['server', 'client'] as const) {
    assert.deepEqual(await until(`the ${role} close`, async () => { const m = log.closeMarks(16381, role); return m.l7 + m.plain >= 1 ? m : undefined; }), { l7: 0, plain: 1 }, role);
    assert.equal(log.totals(16381, role).sockets, 0, role);
  }
});

test('no record per request leaves the kernel: with samples off, requests are counted and nothing is sampled', async () => {
  const quiet = new L7Log({ tls: false, samples: false }).start();
  try {
    const port = await server();
    await client(port, [['GET', '/500', 20], ['GET', '/slow', 1]]);
    const t = await quiet.settle(port, 'server', 21);
    assert.deepEqual(byClass(t), { '2xx': 1, '5xx': 20 });
    assert.equal(quiet.samples.length, 0);
    assert.equal(quiet.engine.l7!.stats().samples.samples, 0);
  } finally {
    quiet.stop();
  }
});
