// `dhrishti trace --l7`: one line per request, with the peer, as the real CLI prints it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { node, start, stopAll } from './support/children.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import { HTTP_SERVER, HTTP_CLIENT } from './support/l7-scripts.js';
import { until } from './support/wait.js';

after(stopAll);

test('trace --l7 --json prints each request with method, path without query, status, latency and peer', async () => {
  const trace = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--l7', '--json', '--no-l7-tls', '--duration', '60']);
  await until('trace to start', async () => (trace.stderr.some((l) => /tracing requests/.test(l)) ? true : undefined), 60_000);
  const s = node(HTTP_SERVER);
  const port = Number((await s.waitFor(/^port (\d+)/))[1]);
  const c = node(HTTP_CLIENT, [String(port), JSON.stringify([['GET', '/ok?secret=1', 3], ['GET', '/500', 2]])]);
  await c.waitFor(/^done/, 20_000);
  const mine = () => trace.lines.map((l) => JSON.parse(l)).filter((r) => r.pid === s.pid);
  const lines = await until('the server side requests', async () => (mine().length >= 5 ? mine() : undefined), 15_000);
  assert.deepEqual(lines.map((r) => `${r.method} ${r.target} ${r.status}`), ['GET /ok 200', 'GET /ok 200', 'GET /ok 200', 'GET /500 500', 'GET /500 500']);
  assert.ok(lines.every((r) => r.role === 'server' && r.protocol === 'http1' && r.latencyMs >= 0 && /^127\.0\.0\.1:\d+$/.test(r.peer)));
  assert.ok(!trace.lines.some((l) => l.includes('secret=1')), 'query strings never printed');
  await trace.stop();
});

test('trace --l7 names the peer of a connection older than the trace from its first request', async () => {
  const s = node(HTTP_SERVER);
  const port = Number((await s.waitFor(/^port (\d+)/))[1]);
  // Eight requests over 1.2 s: some fall between two of the trace's reads of the kernel's connections.
  const spread = Array.from({ length: 8 }, () => [['GET', '/500', 1], ['PAUSE', '', 150]]).flat();
  const c = node(HTTP_CLIENT, [String(port), JSON.stringify([['GET', '/ok', 1], ['WAIT', '', 0], ...spread])]);
  await c.waitFor(/^waiting/, 20_000); // its keep-alive connection is open before the trace starts
  const trace = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--l7', '--json', '--no-l7-tls', '--duration', '60']);
  await until('trace to start', async () => (trace.stderr.some((l) => /tracing requests/.test(l)) ? true : undefined), 60_000);
  const asked = Date.now();
  c.send('go');
  await c.waitFor(/^done/, 20_000);
  const mine = () => trace.lines.map((l) => JSON.parse(l)).filter((r) => r.pid === s.pid);
  const lines = await until('the server side requests', async () => (mine().length >= 8 ? mine() : undefined), 15_000);
  assert.deepEqual(lines.map((r) => `${r.method} ${r.target} ${r.status} ${r.peer === null ? '-' : r.peer.replace(/:\d+$/, '')}`), Array(8).fill('GET /500 500 127.0.0.1'));
  assert.ok(Date.now() - asked < 15_000);
  await trace.stop();
});

test('trace refuses options it would ignore: --dns with --port, --types or --l7; an empty --types; --no-l7-samples (trace prints samples)', async () => {
  for (const [args, message] of [
    [['--dns', '--port', '53'], /--dns cannot be combined with --port/],
    [['--dns', '--types', 'close'], /--dns cannot be combined with --types/],
    [['--dns', '--l7'], /--dns cannot be combined with --l7/],
    [['--types', ''], /--types is empty; choose from connect/],
    [['--l7', '--no-l7-samples'], /unknown option '--no-l7-samples'/],
  ] as const) {
    const c = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', ...args]);
    assert.equal(await c.exited, 2, args.join(' '));
    assert.match(c.stderr.join('\n'), message, args.join(' '));
  }
  const gone = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--pid', '4194303', '--duration', '1']);
  assert.equal(await gone.exited, 0);
  assert.match(gone.stderr.join('\n'), /warning: no process 4194303 runs now/);
});
