// Docker faults under the real `dhrishti run` with a private test dockerd: the daemon killed
// (kill -9) and restarted, and the socket missing at start then appearing. The agent must stay
// up, say what it sees, and name containers started afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startAgent, getJson, waitForGraph, type RunningAgent } from '../support/agent.js';
import { stopAll } from '../support/children.js';
import { TestDockerd, ensureTestImage, createNetwork, runContainer, containerFacts, removeAll, nodeCommand, httpServerScript } from '../support/dockerd.js';
import { until } from '../support/wait.js';
import type { AgentTelemetry } from '../../src/agent/agent.js';
import type { NodeDetail } from '../../src/graph/types.js';

const NET = 'dhrishti-faults';
const SUBNET = '172.31.247.0/24';
after(() => stopAll());

/** Runs the clean-ups in reverse, each once, ignoring failures: every test ends its own dockerd (and frees the machine's dockerd lock). */
async function cleanUp(fs: (() => Promise<void> | void)[]): Promise<void> {
  for (const f of fs.splice(0).reverse()) { try { await f(); } catch { /* best effort */ } }
}

const docker = async (a: RunningAgent) => (await getJson<AgentTelemetry>(`${a.url}/api/v1/agent`)).body.docker;
const untilDocker = (a: RunningAgent, up: boolean, ms = 30000) =>
  until(`the agent to see Docker ${up ? 'up' : 'down'}`, async () => ((await docker(a))?.up === up ? true : undefined), ms);

/** One request on a connection of its own (fetch would reuse a kept-alive one, placed when it opened). */
function hit(ip: string): Promise<string> {
  return new Promise((resolve) => {
    const r = http.get({ host: ip, port: 8080, agent: false, timeout: 1000 }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); });
    r.on('timeout', () => r.destroy());
    r.on('error', () => resolve(''));
  });
}

/** An HTTP server container on the test network; resolves to its address. */
async function server(d: TestDockerd, name: string): Promise<string> {
  await runContainer(d, { name, network: NET, command: nodeCommand(httpServerScript(8080, name)) });
  const ip = (await containerFacts(d, name)).ip;
  await until(`${name} to answer`, async () => ((await hit(ip)) === name ? true : undefined), 20000);
  return ip;
}

/** Opens connections to the container from the host until the live map shows an edge to it, named after it. */
async function named(a: RunningAgent, ip: string, name: string): Promise<void> {
  let stop = false;
  const talk = (async () => { while (!stop) { await hit(ip); await new Promise((r) => setTimeout(r, 200)); } })();
  try {
    await waitForGraph(`${a.url}/api/v1/graph`, (g) => g.edges.some((e) => e.target === `ctr:${name}` && e.port === 8080), `an edge to ctr:${name}`, 20000);
  } finally {
    stop = true;
    await talk;
  }
}

/** Stack traces or uncaught errors on the agent's stderr. */
const crashes = (a: RunningAgent) => a.child.stderr.filter((l) => /^\s+at |Uncaught|TypeError|ReferenceError|unhandled/i.test(l));

test('dockerd killed (kill -9) and restarted: the agent stays up, keeps the names it knew, catches up, and names containers started after', async (t) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  const link = path.join(os.tmpdir(), `dhrishti-faults-docker-${process.pid}.sock`);
  fs.rmSync(link, { force: true });
  let d = await TestDockerd.start();
  cleanup.push(async () => { await removeAll(d, ['before-kill', 'after-restart'], [NET]); await d.stop(); fs.rmSync(link, { force: true }); });
  try {
    await ensureTestImage(d);
    await createNetwork(d, NET, { subnet: SUBNET });
    const ip1 = await server(d, 'before-kill');
    // A link outside dockerd's folder: cleaning up after dockerd kills processes naming that folder.
    fs.symlinkSync(d.socketPath, link);
    const a = await startAgent(['--docker-socket', link, '--no-history']);
    cleanup.push(() => a.stop());
    await untilDocker(a, true);
    await named(a, ip1, 'before-kill');

    process.kill(d.pid, 'SIGKILL');
    const killed = performance.now();
    await untilDocker(a, false);
    t.diagnostic(`the agent saw Docker down ${(performance.now() - killed).toFixed(0)} ms after kill -9`);
    // Kept while the daemon is away: the live map and the names it knew.
    const during = await getJson<NodeDetail>(`${a.url}/api/v1/nodes/${encodeURIComponent('ctr:before-kill')}`);
    assert.equal(during.status, 200);
    assert.equal(during.body.kind, 'container');
    assert.equal(during.body.instances[0]?.name, 'before-kill');

    await d.stop({ keepDir: true }); // containerd and the shims go too: the old container dies with them
    d = await TestDockerd.start({ dir: d.dir });
    const restarted = performance.now();
    await untilDocker(a, true);
    t.diagnostic(`the agent followed the restarted daemon ${(performance.now() - restarted).toFixed(0)} ms after it answered`);
    // Caught up on reconnect: the container that died with the daemon is known as stopped.
    await until('before-kill to be known as stopped', async () => {
      const n = await getJson<NodeDetail>(`${a.url}/api/v1/nodes/${encodeURIComponent('ctr:before-kill')}`);
      return n.status === 200 && n.body.instances.every((i) => i.state === 'stopped') ? true : undefined;
    }, 20000);

    const ip2 = await server(d, 'after-restart');
    await named(a, ip2, 'after-restart');
    const running = (await d.cli(['ps', '-q'])).split('\n').filter(Boolean).length;
    await until('the agent to count the running containers', async () => ((await docker(a))?.containers === running ? true : undefined), 10000);
    assert.equal(a.child.proc.exitCode, null, 'the agent is still running');
    assert.equal((await getJson<{ status: string }>(`${a.url}/api/v1/health`)).body.status, 'ok');
    assert.deepEqual(crashes(a), []);
  } finally {
    await cleanUp(cleanup);
  }
});

test('the Docker socket missing at start, then appearing: the agent runs without it, says so, then follows the daemon and names its containers', async (t) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-sock-'));
  const sock = path.join(sockDir, 'docker.sock');
  cleanup.push(() => fs.rmSync(sockDir, { recursive: true, force: true }));
  const a = await startAgent(['--docker-socket', sock, '--no-history']);
  cleanup.push(() => a.stop());
  try {
    assert.ok(a.child.lines.some((l) => l.includes(`Docker not reachable at ${sock}`)), a.child.lines.join('\n'));
    assert.equal((await docker(a))?.up, false);
    const d = await TestDockerd.start();
    cleanup.push(async () => { await removeAll(d, ['appeared'], [NET]); await d.stop(); });
    await ensureTestImage(d);
    await createNetwork(d, NET, { subnet: SUBNET });
    const ip = await server(d, 'appeared'); // started before the agent can see the daemon
    assert.equal((await docker(a))?.up, false, 'still no socket where the agent looks');
    // Without Docker the container is still a container, named from its cgroup (its short id).
    const shortId = (await containerFacts(d, 'appeared')).id.slice(0, 12);
    await named(a, ip, shortId);
    fs.symlinkSync(d.socketPath, sock); // the socket appears
    const appeared = performance.now();
    await untilDocker(a, true, 20000);
    t.diagnostic(`the agent followed Docker ${(performance.now() - appeared).toFixed(0)} ms after the socket appeared`);
    assert.equal((await docker(a))?.containers, 1);
    await named(a, ip, 'appeared');
    assert.equal(a.child.proc.exitCode, null);
    assert.deepEqual(crashes(a), []);
  } finally {
    await cleanUp(cleanup);
  }
});
