// `dhrishti image` and the deploy line: the agent built into a local image (no
// registry), started by deploy/docker-run.sh with its capabilities (not
// --privileged) in a real dockerd, attaches its probes and serves edge metrics,
// behind the token its DHRISHTI_TOKEN_FILE names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestDockerd } from './support/dockerd.js';
import { freePort, getJson } from './support/agent.js';
import { until } from './support/wait.js';
import { REPO_ROOT } from '../src/config/defaults.js';

const run = promisify(execFile);
const SOCKET_LINK = `/tmp/dhrishti-test-docker-image-${process.pid}.sock`;

test('dhrishti image with no daemon on its socket says so at once, before staging the image', async () => {
  const r = await run(path.join(REPO_ROOT, 'dhrishti'), ['image', '--docker-socket', `/tmp/dhrishti-no-daemon-${process.pid}.sock`]).then(() => null, (e: { code: number; stdout: string; stderr: string }) => e);
  assert.equal(r?.code, 1);
  assert.match(r!.stderr, /no Docker daemon answers on .*no-daemon.*start dockerd, or name its socket with --docker-socket/);
  assert.doesNotMatch(r!.stderr + r!.stdout, /importing/, 'nothing staged');
});

test('dhrishti image, then deploy/docker-run.sh: probes attached with capabilities only, edges on /metrics, its token file used', async () => {
  const d = await TestDockerd.start();
  const tokenFile = `/tmp/dhrishti-test-image-token-${process.pid}`;
  const token = 'image-test-token-0123456789abcdef';
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });
  const auth = { authorization: `Bearer ${token}` };
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.symlinkSync(d.socketPath, SOCKET_LINK);
  await d.cli(['rm', '-f', 'dhrishti']).catch(() => '');
  try {
    const built = await run(path.join(REPO_ROOT, 'dhrishti'), ['image', '--docker-socket', SOCKET_LINK, '--tag', 'dhrishti:local'], { timeout: 300_000 });
    assert.match(built.stdout, /built dhrishti:local/);
    const port = await freePort();
    await run('sh', [path.join(REPO_ROOT, 'deploy', 'docker-run.sh'), '--port', String(port), '--no-history'], {
      env: { ...process.env, DOCKER_HOST: `unix://${SOCKET_LINK}`, DOCKER_SOCKET: SOCKET_LINK, DHRISHTI_TOKEN_FILE: tokenFile }, timeout: 60_000,
    });
    const inspect = JSON.parse(await d.cli(['inspect', 'dhrishti']))[0] as { HostConfig: { Privileged: boolean; CapAdd: string[] }; Config: { Env: string[]; Cmd: string[] } };
    assert.equal(inspect.HostConfig.Privileged, false);
    assert.ok(!JSON.stringify(inspect).includes(token), 'the token is in no argument and no variable docker inspect shows');
    const url = `http://127.0.0.1:${port}`;
    const agent = await until('the agent in the container to answer', async () => {
      try { return (await getJson<{ probes: { ok: boolean; section: string }[] }>(`${url}/api/v1/agent`, auth)).body; } catch { return undefined; }
    }, 60_000).catch(async (e) => { throw new Error(`${(e as Error).message}; container log:\n${await d.cli(['logs', 'dhrishti']).catch(() => '')}`); });
    const failed = agent.probes.filter((p) => !p.ok).map((p) => p.section);
    assert.deepEqual(failed, [], 'every probe attaches with the capabilities of docker-run.sh');
    // Some traffic on this host, then the agent in the container reports it as edges.
    for (let i = 0; i < 3; i++) await fetch(`${url}/api/v1/health`);
    assert.equal((await fetch(`${url}/api/v1/graph`)).status, 401, 'the token from the file is required');
    const metrics = await until('edge series', async () => {
      const t = await (await fetch(`${url}/metrics`, { headers: auth })).text();
      return /^dhrishti_edge_connections_opened_total\{/m.test(t) ? t : undefined;
    }, 30_000);
    assert.match(metrics, /^dhrishti_agent_report_timestamp_seconds\{host="[^"]+",version="0\.1\.0"\}/m);
    assert.match(metrics, /^traces_service_graph_request_total\{/m);
  } finally {
    await d.cli(['rm', '-f', 'dhrishti']).catch(() => '');
    await d.stop();
    fs.rmSync(SOCKET_LINK, { force: true });
    fs.rmSync(tokenFile, { force: true });
  }
});
