// How connections end, on the map of the real agent (`dhrishti run`): a load
// generator that stops with responses in flight closes with data unread, and
// the kernel resets its server for it (sk_rst_reason TCP_ABORT_ON_CLOSE). That
// is the client's choice, not a failure: a clean load test stays clean. A
// server that resets its clients (linger 0) still fails.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { node, start, stopAll } from './support/children.js';
import { RESETTER, WAITER, LATE_ANSWER, PY_ASK_AND_LEAVE } from './support/scripts.js';
import { HTTP_SERVER } from './support/l7-scripts.js';
import { startAgent, waitForGraph, type RunningAgent } from './support/agent.js';
import type { GraphEdge } from '../src/graph/types.js';

let agent: RunningAgent | undefined;
after(async () => { await agent?.stop(); await stopAll(); });

test('wrk stopping resets its connections and clients leaving before the answer get a late write refused: no failure on either edge; a server that resets its clients fails', async () => {
  agent = await startAgent(['--no-docker', '--no-history']);
  const http = node(HTTP_SERVER);
  const port = Number((await http.waitFor(/^port (\d+)/))[1]);
  const resetter = node(RESETTER, ['127.0.0.1']);
  const rport = Number((await resetter.waitFor(/^port (\d+)/))[1]);

  const out = execFileSync('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${port}/ok`], { encoding: 'utf8' });
  const made = Number(/(\d+) requests in/.exec(out)![1]);
  for (let i = 0; i < 3; i++) await node(WAITER, ['127.0.0.1', String(rport)]).waitFor(/^error ECONNRESET/);
  // Clients that ask and leave (FIN) before a late answer: the server's write is refused (EPIPE), nobody failed.
  const late = node(LATE_ANSWER, ['127.0.0.1']);
  const lport = Number((await late.waitFor(/^port (\d+)/))[1]);
  for (let i = 0; i < 3; i++) await start('python3', ['-c', PY_ASK_AND_LEAVE, '127.0.0.1', String(lport)]).waitFor(/^closed/);
  for (let i = 0; i < 3; i++) await late.waitFor(/^error (EPIPE|ECONNRESET)/);

  const isLoad = (e: GraphEdge) => e.port === port && e.source.startsWith('proc:wrk');
  const isReset = (e: GraphEdge) => e.port === rport;
  const g = await waitForGraph(`${agent.url}/api/v1/graph`, (s) =>
    s.edges.some((e) => isLoad(e) && e.connections.closed >= 8 && (e.requests?.[0]?.count ?? 0) >= made) &&
    s.edges.some((e) => isReset(e) && e.connections.failed >= 3) &&
    s.edges.some((e) => e.port === lport && e.connections.closed >= 3), 'the wrk edge with its 8 connections closed, the resetter edge with 3 failures, the late edge closed', 20_000);
  const load = g.edges.find(isLoad)!;
  assert.equal(load.connections.failed, 0, `wrk's edge: ${JSON.stringify(load.connections)}`);
  assert.equal(load.requests![0].status['2xx'], made);
  const leftEarly = g.edges.find((e) => e.port === lport)!;
  assert.equal(leftEarly.connections.failed, 0, `clients that left before the answer: ${JSON.stringify(leftEarly.connections)}`);
  const reset = g.edges.find(isReset)!;
  assert.equal(reset.connections.failedBy.reset, reset.connections.failed, 'the linger-0 resets are failures');
});
