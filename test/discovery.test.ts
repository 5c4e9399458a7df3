// Start-up with many connections already open, the real agent (`dhrishti run`)
// discovering them: each is counted once, on its own edge, even while other
// connections reuse their client ports (issue #8: 2 of 10k counted twice, on a
// phantom `proc:node -> proc:host` edge).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { node, start, stopAll } from './support/children.js';
import { SINK, PY_MANY_CLIENTS, PY_PORT_REUSER } from './support/scripts.js';
import { startAgent, getJson, type RunningAgent } from './support/agent.js';
import type { GraphSnapshot } from '../src/graph/types.js';

const N = 10_000;
let agent: RunningAgent | undefined;
after(async () => { await agent?.stop(); await stopAll(); });

test(`${N} connections that predate the agent are each counted once, while their client ports are reused`, async () => {
  const a = node(SINK.replace("console.log('got ' + total);", ''), ['127.0.0.1']);
  const portA = Number((await a.waitFor(/^port (\d+)/))[1]);
  const b = node(SINK.replace("console.log('got ' + total);", ''), ['127.0.0.1']);
  const portB = Number((await b.waitFor(/^port (\d+)/))[1]);
  const clients = start('python3', ['-c', PY_MANY_CLIENTS, String(portA), String(N)]);
  const ports = (await clients.waitFor(/^ports (.+)$/, 60000))[1];
  await clients.waitFor(new RegExp(`^open ${N}$`), 60000);

  // While the agent discovers them, other connections come and go from the same client ports, towards B.
  agent = await startAgent(['--no-docker', '--no-history']);
  const reuser = start('python3', ['-c', PY_PORT_REUSER, ports, String(portB), '10']);
  const onA = (g: GraphSnapshot) => g.edges.filter((e) => e.port === portA);
  let g: GraphSnapshot | null = null;
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
    if (onA(g).reduce((n, e) => n + e.connections.active, 0) >= N) break;
  }
  await reuser.waitFor(/^cycles (\d+)/, 30000);
  await new Promise((r) => setTimeout(r, 1500)); // the last reuses settle
  g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
  const py = g.edges.find((e) => e.port === portA)?.source ?? '';
  assert.match(py, /^proc:python3/);
  assert.deepEqual(onA(g).map((e) => `${e.id}=${e.connections.active}`), [`${py}|proc:node|${portA}|tcp=${N}`], 'one edge, every connection once');
  assert.ok(g.edges.some((e) => e.port === portB && e.source === py), 'the reusing connections have their own edge');
  const halves = g.edges.filter((e) => (e.port === portA || e.port === portB) && (e.source === 'proc:host' || e.target === 'proc:host'));
  assert.deepEqual(halves.map((e) => `${e.id}: ${JSON.stringify(e.connections)}`), [], 'no half-paired connection placed by address');
});
