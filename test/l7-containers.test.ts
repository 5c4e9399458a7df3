// Requests (L7) inside Docker containers, end to end: a real dockerd, servers
// and clients in containers (the host's node in a tiny image), the real
// `dhrishti run`, and each known mix asserted on the edge between the Compose
// services. TLS inside a container is seen through uprobes put on the
// container's own node binary, reached through /proc/<pid>/root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDockerd, ensureTestImage, runContainer, createNetwork, composeLabels, nodeCommand, removeAll } from './support/dockerd.js';
import { getJson, startAgent, type RunningAgent } from './support/agent.js';
import { stopAll } from './support/children.js';
import { settleEdge, bucketsIn } from './support/l7-agent.js';
import { until } from './support/wait.js';
import { HTTP_SERVER, HTTP_CLIENT, PIPELINE_CLIENT, HTTPS_SERVER, HTTPS_CLIENT, H2C_SERVER, H2C_CLIENT } from './support/l7-scripts.js';
import type { AgentTelemetry } from '../src/agent/agent.js';
import type { NodeDetail } from '../src/graph/types.js';

const NET = 'dhl7';
const NODE = '/usr/bin/node';
const SOCKET_LINK = `/tmp/dhrishti-test-docker-l7-${process.pid}.sock`;
const containers = ['l7-api-1', 'l7-api-2', 'l7-secure-1', 'l7-grpc-1', 'l7-web-1'];
const edge = (client: string, server: string, port: number) => (e: { id: string }) => e.id === `svc:l7/${client}|svc:l7/${server}|${port}|tcp`;

let dockerd: TestDockerd;
let agent: RunningAgent;
let dir: string;

/** Server sockets the kernel left to their client on this host (src/kernel/l7/peer.c), so far. */
async function leftToClient(): Promise<number> {
  return (await getJson<AgentTelemetry>(`${agent.url}/api/v1/agent`)).body.l7.tallies?.leftToClient ?? 0;
}

/** Runs a client script inside the web container (a new process in it, as `docker exec` makes one). */
function inWeb(script: string, args: string[]): Promise<string> {
  return dockerd.cli(['exec', 'l7-web-1', NODE, '-e', script, '--', ...args], 60_000);
}

async function service(name: string, svc: string, script: string, args: string[] = []): Promise<void> {
  await runContainer(dockerd, { name, network: NET, labels: composeLabels('l7', svc, 1), command: [...nodeCommand(script), '--', ...args] });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-l7-ctr-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=l7-secure-1', '-days', '1',
    '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await createNetwork(dockerd, NET, { subnet: '172.31.251.0/24' });
  await service('l7-api-1', 'api', HTTP_SERVER, ['0.0.0.0', '8080']);
  await service('l7-secure-1', 'secure', HTTPS_SERVER, [fs.readFileSync(`${dir}/key.pem`, 'utf8'), fs.readFileSync(`${dir}/cert.pem`, 'utf8'), '0.0.0.0', '8443']);
  await service('l7-grpc-1', 'grpc', H2C_SERVER, ['0.0.0.0', '50051']);
  await service('l7-web-1', 'web', 'setInterval(() => {}, 1 << 30);');
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, SOCKET_LINK);
  // Started after the containers, so its first scan finds their node binaries (new processes wait for the next scan).
  agent = await startAgent(['--docker-socket', SOCKET_LINK, '--flush-interval', '1s', '--l7-sample-rate', '5000']);
  await until('the containers\' node binaries to be probed', async () => {
    const t = (await getJson<AgentTelemetry>(`${agent.url}/api/v1/agent`)).body;
    return (t.l7.tls?.files.filter((f) => f === NODE).length ?? 0) >= 2 ? t : undefined;
  }, 30_000);
});

after(async () => {
  if (agent?.child.stderr.length) console.log('agent stderr:\n' + agent.child.stderr.join('\n'));
  await stopAll();
  await agent?.stop();
  if (dockerd) { await removeAll(dockerd, containers, [NET]); await dockerd.stop(); }
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('HTTP/1 between containers: a keep-alive mix and a pipeline, exactly, on the service edge, with the 400 ms path in its bucket', async () => {
  const left = await leftToClient();
  const out = await inWeb(HTTP_CLIENT, ['8080', JSON.stringify([['GET', '/ok?id=7', 40], ['GET', '/404', 6], ['GET', '/500', 4], ['GET', '/slow', 2], ['POST', '/upload', 3, 200_000]]), 'l7-api-1']);
  assert.match(out, /done/);
  assert.match(await inWeb(PIPELINE_CLIENT, ['8080', '50', 'l7-api-1']), /done 50/);
  const e = await settleEdge(agent, 8080, 105, edge('web', 'api', 8080));
  assert.equal(e.edges.length, 1, `the web -> api edge: ${e.edges}`);
  assert.deepEqual(e.byClass, { '2xx': 95, '4xx': 6, '5xx': 4 });
  assert.equal(e.unpaired, 0);
  assert.equal(bucketsIn(e, 18, 19), 2, 'the two slow requests near 400 ms');
  const s500 = e.samples.filter((s) => s.target === '/500');
  assert.equal(s500.length, 4);
  assert.ok(s500.every((s) => s.process === 'node' && s.method === 'GET' && s.status === 500));
  const api = (await getJson<NodeDetail>(`${agent.url}/api/v1/nodes/${encodeURIComponent('svc:l7/api')}`)).body;
  assert.equal(api.inboundRequests?.[0].count, 105, 'inbound RED of the api service');
  assert.equal(api.inboundRequests?.[0].errors, 4);
  // Both ends are on this host, in two network namespaces: each server socket left the counting to its client's.
  assert.ok(await leftToClient() - left >= 2, `server sockets left to their client: ${await leftToClient() - left}`);
});

test('two replicas of a service, one failing: each failed request\'s sample names the replica that answered it', async () => {
  // A second api replica that answers every request 503, on the same port (a bad deploy of one replica).
  await runContainer(dockerd, { name: 'l7-api-2', network: NET, labels: composeLabels('l7', 'api', 2),
    command: nodeCommand("require('http').createServer((q, r) => { r.statusCode = 503; r.end('down'); }).listen(8080, '0.0.0.0');") });
  await until('the second replica to listen', async () => (/down/.test(await inWeb(`require('http').get('http://l7-api-2:8080/', (r) => { r.on('data', (d) => process.stdout.write(d)); }).on('error', () => {});`, []).catch(() => '')) ? true : undefined), 20_000);
  assert.match(await inWeb(HTTP_CLIENT, ['8080', JSON.stringify([['GET', '/ok', 6]]), 'l7-api-2']), /done/);
  assert.match(await inWeb(HTTP_CLIENT, ['8080', JSON.stringify([['GET', '/500', 3]]), 'l7-api-1']), /done/);
  const samples = await until('both replicas\' failures sampled', async () => {
    const e = await settleEdge(agent, 8080, 0, edge('web', 'api', 8080), 0);
    const s = e.samples.filter((x) => x.status === 503 || (x.status === 500 && x.target === '/500'));
    return s.filter((x) => x.status === 503).length >= 6 && s.filter((x) => x.status === 500).length >= 3 ? s : undefined;
  }, 20_000);
  const by = (status: number) => [...new Set(samples.filter((x) => x.status === status).map((x) => x.server))];
  assert.deepEqual(by(503), ['l7-api-2'], 'every 503 was answered by the bad replica');
  assert.deepEqual(by(500), ['l7-api-1'], 'every 500 by the first');
});

test('TLS inside containers: Node https client and server, plaintext through the containers\' own node (uprobes via /proc/<pid>/root)', async () => {
  assert.match(await inWeb(HTTPS_CLIENT, ['8443', JSON.stringify([['GET', '/ok', 12], ['GET', '/404', 3], ['GET', '/500', 2], ['GET', '/slow', 1]]), 'l7-secure-1']), /done/);
  const e = await settleEdge(agent, 8443, 18, edge('web', 'secure', 8443));
  assert.deepEqual(e.byClass, { '2xx': 13, '4xx': 3, '5xx': 2 });
  assert.equal(e.tls, true, 'seen through the TLS uprobes');
  assert.equal(bucketsIn(e, 18, 19), 1);
  assert.ok(e.samples.some((s) => s.tls && s.status === 500 && s.target === '/500'));
});

test('h2c / gRPC between containers: interleaved streams, grpc-status errors, the slow calls in their bucket', async () => {
  const left = await leftToClient();
  assert.match(await inWeb(H2C_CLIENT, ['50051', JSON.stringify([['/pkg.Svc/Ok', 20], ['/pkg.Svc/Fail', 6], ['/nope', 2], ['/pkg.Svc/Slow', 2]]), '5', 'l7-grpc-1']), /done/);
  const e = await settleEdge(agent, 50051, 30, edge('web', 'grpc', 50051));
  assert.deepEqual(e.byClass, { ok: 22, error: 6, '4xx': 2 });
  assert.equal(e.grpc, true);
  assert.equal(e.errors, 6);
  assert.equal(bucketsIn(e, 18, 19), 2);
  assert.ok(await leftToClient() - left >= 1, 'the gRPC server socket left the counting to its client');
});
