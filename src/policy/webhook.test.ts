// The alert webhook against a real local HTTP receiver: Alertmanager's alert
// shape, retries with backoff after failures (counted), no retry of a refused
// body, a bounded queue, and send() never waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertWebhook } from './webhook.js';
import { alertOf } from './runtime.js';
import type { Violation } from './engine.js';

const V: Violation = {
  rule: 'tenant-a-stays-home', edge: 'svc:a/w|svc:b/db|5432|tcp', client: 'svc:a/w', server: 'svc:b/db', port: 5432, protocol: 'tcp',
  firstSeen: Date.UTC(2026, 0, 1), lastSeen: Date.UTC(2026, 0, 1), connections: 0, attempts: 2, attempted: true,
  processes: { client: ['a-w-1 (pid 7)'], server: ['b-db-1 (pid 8)'] },
};

async function receiver(answer: (n: number) => number) {
  const bodies: unknown[][] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const code = answer(n++);
      if (code === 200) bodies.push(JSON.parse(body));
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/alerts`, bodies, tries: () => n, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 10)); }
};

test('alerts arrive in Alertmanager\'s shape; failures are retried with backoff and counted', async () => {
  const r = await receiver((n) => (n < 2 ? 503 : 200));
  const w = new AlertWebhook(r.url, { backoffMinMs: 20, backoffMaxMs: 100, warn: () => {} });
  try {
    const t0 = performance.now();
    w.send(alertOf(V, 'new', 'http://127.0.0.1:7979/'));
    assert.ok(performance.now() - t0 < 5, 'send() returns at once');
    await until(() => w.stats.sent === 1);
    assert.equal(r.tries(), 3);
    assert.equal(w.stats.failures, 2);
    assert.deepEqual(r.bodies.length, 1);
    const [a] = r.bodies[0] as { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; generatorURL: string }[];
    assert.deepEqual(a.labels, { alertname: 'DhrishtiPolicyViolation', rule: 'tenant-a-stays-home', client: 'svc:a/w', server: 'svc:b/db', port: '5432', severity: 'critical' });
    assert.equal(a.startsAt, '2026-01-01T00:00:00.000Z');
    assert.equal(a.annotations.attempted, 'true');
    assert.match(a.annotations.description, /attempted 2 time\(s\).*a-w-1 \(pid 7\)/);
    assert.equal(a.generatorURL, 'http://127.0.0.1:7979/');
  } finally {
    w.stop();
    await r.close();
  }
});

test('a receiver that keeps failing: given up after the retries, counted as dropped; a 400 is not retried', async () => {
  const bad = await receiver(() => 500);
  const w = new AlertWebhook(bad.url, { backoffMinMs: 5, backoffMaxMs: 10, retries: 2, warn: () => {} });
  const refusing = await receiver(() => 400);
  const w2 = new AlertWebhook(refusing.url, { warn: () => {} });
  try {
    w.send(alertOf(V, 'new'));
    await until(() => w.stats.dropped === 1);
    assert.equal(bad.tries(), 3, 'first try and two retries');
    w2.send(alertOf(V, 'new'));
    await until(() => w2.stats.dropped === 1);
    assert.equal(refusing.tries(), 1);
  } finally {
    w.stop(); w2.stop();
    await bad.close(); await refusing.close();
  }
});

test('nobody listening: the queue is bounded and the overflow counted', async () => {
  const r = await receiver(() => 200);
  await r.close(); // the port is closed now: connection refused
  const w = new AlertWebhook(r.url, { backoffMinMs: 60_000, queue: 3, warn: () => {} });
  try {
    for (let i = 0; i < 5; i++) w.send(alertOf(V, 'new'));
    await until(() => w.stats.failures >= 1);
    assert.equal(w.stats.dropped, 2);
    assert.equal(w.stats.queued, 3);
  } finally {
    w.stop();
  }
  assert.throws(() => new AlertWebhook('ftp://x/'), /http\(s\) URL/);
  assert.throws(() => new AlertWebhook('not a url'));
});
