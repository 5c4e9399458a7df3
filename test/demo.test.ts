// `dhrishti demo up|down` against a real dockerd, watched by the real agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDockerd } from './support/dockerd.js';
import { startAgent, waitForGraph, type RunningAgent } from './support/agent.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import { DEMO_PROJECT, DEAD_ENDPOINT } from '../src/demo/topology.js';

const LINK = `/tmp/dhrishti-demo-docker-${process.pid}.sock`;
let dockerd: TestDockerd;
let agent: RunningAgent;
const cli = (...args: string[]) => execFileSync(path.join(REPO_ROOT, 'dhrishti'), [...args, '--docker-socket', LINK], { encoding: 'utf8', timeout: 180_000 });

before(async () => {
  dockerd = await TestDockerd.start();
  fs.rmSync(LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, LINK);
  agent = await startAgent(['--docker-socket', LINK]);
});

after(async () => {
  try { cli('demo', 'down'); } catch { /* reported by the test */ }
  await agent?.stop();
  await dockerd?.stop();
  fs.rmSync(LINK, { force: true });
});

test('demo up starts a system whose map has the expected services and a failing edge; demo down removes it', async () => {
  const out = cli('demo', 'up');
  assert.match(out, /demo is up/);
  const has = (g: { edges: { source: string; target: string; port: number; connections: { failed: number } }[] }, s: string, t: string, p: number) =>
    g.edges.some((e) => e.source === `svc:${DEMO_PROJECT}/${s}` && e.target === (t.startsWith('ext:') ? t : `svc:${DEMO_PROJECT}/${t}`) && e.port === p);
  const g = await waitForGraph(`${agent.url}/api/v1/graph?group=${DEMO_PROJECT}`, (x) =>
    has(x, 'loadgen', 'gateway', 8080) && has(x, 'gateway', 'catalog', 8080) && has(x, 'gateway', 'orders', 8080)
    && has(x, 'catalog', 'store', 6380) && has(x, 'orders', 'store', 6380)
    && x.edges.some((e) => e.target === `ext:${DEAD_ENDPOINT}` && e.connections.failed > 0), 'the demo map', 40000);
  const catalog = g.nodes.find((n) => n.id === `svc:${DEMO_PROJECT}/catalog`)!;
  assert.equal(catalog.instances.length, 2, 'catalog runs two replicas');
  const dead = g.edges.find((e) => e.target === `ext:${DEAD_ENDPOINT}`)!;
  assert.equal(dead.source, `svc:${DEMO_PROJECT}/orders`);
  assert.equal(dead.connections.opened, 0);

  const down = cli('demo', 'down');
  assert.match(down, /removed 6 demo containers/);
  assert.equal(execFileSync('docker', ['-H', `unix://${LINK}`, 'ps', '-aq'], { encoding: 'utf8' }).trim(), '');
});
