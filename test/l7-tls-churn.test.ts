// TLS uprobes under container churn: many short-lived containers of one image
// are one target (the image's node binary, one inode in every container), and
// once none of them runs its uprobes are detached and its fds returned. A
// review saw every container counted as a new file (32 targets, then none),
// the uprobes never removed (161 -> 600 fds) and shutdown take 39 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDockerd, ensureTestImage, runContainer, createNetwork, nodeCommand, removeAll, TEST_IMAGE } from './support/dockerd.js';
import { getJson, startAgent, type RunningAgent } from './support/agent.js';
import { settleEdge } from './support/l7-agent.js';
import { sleep, until } from './support/wait.js';
import { HTTPS_SERVER, HTTPS_CLIENT } from './support/l7-scripts.js';
import type { AgentTelemetry } from '../src/agent/agent.js';

const NET = 'dhtlschurn';
const NODE = '/usr/bin/node';
const CHURN = 20;
const LIFE_MS = 12_000;
const SOCKET_LINK = `/tmp/dhrishti-test-docker-tls-churn-${process.pid}.sock`;
const LABEL = 'dhrishti.test=tls-churn';

let dockerd: TestDockerd;
let agent: RunningAgent;
let stopped = false;
let dir: string;

type Tls = NonNullable<AgentTelemetry['l7']['tls']>;
const tls = async (): Promise<Tls> => (await getJson<AgentTelemetry>(`${agent.url}/api/v1/agent`)).body.l7.tls!;
/** Targets on a file at /usr/bin/node: the host's (this test runner) and the image's. */
const nodeTargets = (t: Tls) => t.files.filter((f) => f === NODE).length;
const agentFds = () => fs.readdirSync(`/proc/${agent.child.pid}/fd`).length;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-tls-churn-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=tls-after', '-days', '1',
    '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await createNetwork(dockerd, NET, { subnet: '172.31.246.0/24' });
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, SOCKET_LINK);
  agent = await startAgent(['--docker-socket', SOCKET_LINK, '--flush-interval', '1s', '--l7-sample-rate', '5000']);
  await until('the host\'s node (this test runner) to be probed', async () => ((nodeTargets(await tls())) >= 1 ? true : undefined), 30_000);
});

after(async () => {
  if (agent?.child.stderr.length) console.log('agent stderr:\n' + agent.child.stderr.join('\n'));
  if (!stopped) await agent?.stop();
  if (dockerd) {
    const left = (await dockerd.cli(['ps', '-aq', '--filter', `label=${LABEL}`]).catch(() => '')).split('\n').filter(Boolean);
    await removeAll(dockerd, [...left, 'tls-after-srv'], [NET]);
    await dockerd.stop();
  }
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

test(`${CHURN} short-lived containers of one image are one TLS target, detached after they exit; a container started after still has its TLS requests counted`, async (t) => {
  const fdsBefore = agentFds();
  const before = await tls();
  // Containers one after another, each alive 12 s: the agent's scans (every 10 s) meet several at a time.
  let most = 0;
  const watch = setInterval(() => { tls().then((t) => { most = Math.max(most, nodeTargets(t)); }, () => {}); }, 500);
  try {
    for (let i = 0; i < CHURN; i++) {
      await dockerd.cli(['run', '-d', '--rm', '--label', LABEL, '--network', NET, TEST_IMAGE,
        ...nodeCommand(`setTimeout(() => {}, ${LIFE_MS});`)]);
      await sleep(300);
    }
    await until('the churned containers to exit', async () => ((await dockerd.cli(['ps', '-q', '--filter', `label=${LABEL}`])) === '' ? true : undefined), 60_000);
  } finally {
    clearInterval(watch);
  }
  const during = await tls();
  t.diagnostic(`during the churn: at most ${most} node targets, ${during.attached} in all, ${agentFds()} fds (${fdsBefore} before)`);
  assert.ok(most <= 2, `one target for the image's node however many containers ran it: at most ${most} node targets (host + image)`);
  assert.equal(most, 2, 'the image\'s node was probed while the containers ran');
  assert.equal(during.skippedTotal, 0, 'nothing over the limit');
  // The next scan finds no process mapping the image's node: its uprobes go.
  const gone = await until('the image\'s target to be detached', async () => {
    const t = await tls();
    return nodeTargets(t) === 1 && t.detachedTotal > before.detachedTotal ? t : undefined;
  }, 30_000);
  assert.equal(gone.attached, before.attached, `targets back to the start: ${JSON.stringify(gone.files)} vs ${JSON.stringify(before.files)}`);
  const metrics = await (await fetch(`${agent.url}/metrics`)).text();
  const total = (event: string) => Number(new RegExp(`^dhrishti_l7_tls_targets_total\\{event="${event}"(?:,host="[^"]*")?\\} (\\d+)`, 'm').exec(metrics)?.[1]);
  assert.ok(total('attached') >= before.attachedTotal + 1 && total('detached') >= 1 && total('skipped') === 0, `counted in /metrics: ${metrics.split('\n').filter((l) => l.startsWith('dhrishti_l7_tls')).join('; ')}`);
  const fdsAfter = agentFds();
  t.diagnostic(`after: ${gone.attached} targets, ${gone.detachedTotal} detached in all, ${fdsAfter} fds`);
  assert.ok(fdsAfter <= fdsBefore + 4, `fds back near the start: ${fdsBefore} -> ${fdsAfter}`);

  // A container started after the churn: its node is probed again and its HTTPS requests are counted on the edge.
  await runContainer(dockerd, {
    name: 'tls-after-srv', network: NET,
    command: [...nodeCommand(HTTPS_SERVER), '--', fs.readFileSync(`${dir}/key.pem`, 'utf8'), fs.readFileSync(`${dir}/cert.pem`, 'utf8'), '0.0.0.0', '8443'],
  });
  await until('the new container\'s node to be probed', async () => (nodeTargets(await tls()) === 2 ? true : undefined), 30_000);
  // The client, another new container of the image: the uprobes on the image's node cover it from its first request.
  const out = await dockerd.cli(['run', '--rm', '--network', NET, TEST_IMAGE, NODE, '-e', HTTPS_CLIENT, '--',
    '8443', JSON.stringify([['GET', '/ok', 6], ['GET', '/404', 2]]), 'tls-after-srv'], 60_000);
  assert.match(out, /done/);
  const e = await settleEdge(agent, 8443, 8);
  assert.deepEqual(e.byClass, { '2xx': 6, '4xx': 2 }, 'the HTTPS requests on the edge');
  assert.equal(e.tls, true, 'seen through the TLS uprobes');
  assert.equal(e.unpaired, 0);
  // Few uprobes left to close: a graceful stop is quick (the review saw 38-40 s after the churn).
  const t0 = Date.now();
  await agent.stop();
  stopped = true;
  const stopMs = Date.now() - t0;
  t.diagnostic(`graceful stop: ${stopMs} ms`);
  assert.ok(stopMs < 5000, `stopped in ${stopMs} ms`);
});
