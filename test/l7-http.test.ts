// Request capture (L7) of HTTP/1 against the real kernel with real Node
// servers and clients: known mixes asserted exactly, per socket aggregate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { node, stopAll } from './support/children.js';
import { L7Log, byClass, inBuckets } from './support/l7.js';
import { HTTP_SERVER, HTTP_CLIENT, PIPELINE_CLIENT, NOISE } from './support/l7-scripts.js';

let log: L7Log;
before(() => { log = new L7Log({ tls: false, samplesPerSec: 2000, sampleBurst: 2000 }).start(); });
after(async () => { await stopAll(); log?.stop(); });

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
});

test('pipelining: 100 requests in one write are 100 requests, paired in order', async () => {
  const port = await server();
  const c = node(PIPELINE_CLIENT, [String(port), '100']);
  await c.waitFor(/^done 100/, 20_000);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 100);
    assert.deepEqual(byClass(t), { '2xx': 100 }, role);
    assert.equal(t.unpaired, 0);
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
});

test('responses split across reads: 1 MB bodies and chunked bodies whose chunks look like responses', async () => {
  const port = await server();
  await client(port, [['GET', '/big', 6], ['GET', '/chunked', 4], ['GET', '/404', 2], ['GET', '/chunked', 2]]);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(port, role, 14);
    assert.deepEqual(byClass(t), { '2xx': 12, '4xx': 2 }, role);
    assert.equal(t.unpaired, 0);
  }
});

test('many connections, one after another (fds reused): each counted on its own socket', async () => {
  const port = await server();
  for (let i = 0; i < 5; i++) await client(port, [['GET', '/ok', 3], ['GET', '/500', 1]]);
  const t = await log.settle(port, 'server', 20);
  assert.deepEqual(byClass(t), { '2xx': 15, '5xx': 5 });
  assert.equal(t.sockets, 5);
});

test('port 80 carrying random bytes stays unclassified, even when an HTTP request line comes later', async () => {
  const host = `127.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}.80`;
  const c = node(NOISE, [host, '80']);
  await c.waitFor(/^done/, 10_000);
  await new Promise((r) => setTimeout(r, 600));
  for (const role of ['server', 'client'] as const) assert.equal(log.totals(80, role).sockets, 0, role);
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
