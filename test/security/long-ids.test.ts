// Long node and edge ids, end to end: real containers with long Compose project and service
// names (and one pair whose ids are over 2 KB) seen by the real `dhrishti run`; their detail
// through the API, and the UI's side panel in a real browser, which must not say "Could not load".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestDockerd, ensureTestImage, runContainer, createNetwork, composeLabels, nodeCommand, removeAll } from '../support/dockerd.js';
import { startAgent, waitForGraph, type RunningAgent } from '../support/agent.js';
import { launchBrowser, type BrowserSession } from '../support/browser.js';
import { rawRequest } from '../support/http.js';

const NET = 'dhlong';
const LINK = `/tmp/dhrishti-long-docker-${process.pid}.sock`;
// Realistic long Compose names (a project per environment and region, a service per component).
const PROJECT = 'customer-analytics-platform-staging-eu-west-1-blue-green-deployment';
const SERVER = 'recommendation-engine-feature-store-materializer-api-gateway';
const CLIENT = 'checkout-frontend-server-side-rendering-edge-worker-pool';
// And ids over 2 KB: a generated project and service name of about 1 KB each.
const words = (seed: string, n: number) => Array.from({ length: 200 }, (_, i) => `${seed}${i}`).join('-').slice(0, n);
const HUGE_PROJECT = words('tenant', 1030);
const HUGE_CLIENT = words('svc', 1030);

const SERVER_ID = `svc:${PROJECT}/${SERVER}`;
const CLIENT_ID = `svc:${PROJECT}/${CLIENT}`;
const HUGE_ID = `svc:${HUGE_PROJECT}/${HUGE_CLIENT}`;
const EDGE = `${CLIENT_ID}|${SERVER_ID}|8080|tcp`;
const HUGE_EDGE = `${HUGE_ID}|${SERVER_ID}|8080|tcp`;

const HTTP = `require('http').createServer((q, s) => s.end('ok')).listen(8080);`;
const CALLER = `setInterval(() => require('http').get({ host: 'long-server-1', port: 8080, agent: false }, (r) => r.resume()).on('error', () => {}), 300);`;

let dockerd: TestDockerd;
let agent: RunningAgent;
let b: BrowserSession;
const names = ['long-server-1', 'long-client-1', 'huge-client-1'];

before(async () => {
  assert.ok(HUGE_ID.length > 2048 && HUGE_EDGE.length > 2048, `ids of ${HUGE_ID.length} and ${HUGE_EDGE.length} characters`);
  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await createNetwork(dockerd, NET, { subnet: '172.31.247.0/24' });
  await runContainer(dockerd, { name: 'long-server-1', network: NET, labels: composeLabels(PROJECT, SERVER, 1), command: nodeCommand(HTTP) });
  await runContainer(dockerd, { name: 'long-client-1', network: NET, labels: composeLabels(PROJECT, CLIENT, 1), command: nodeCommand(CALLER) });
  await runContainer(dockerd, { name: 'huge-client-1', network: NET, labels: composeLabels(HUGE_PROJECT, HUGE_CLIENT, 1), command: nodeCommand(CALLER) });
  fs.rmSync(LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, LINK);
  agent = await startAgent(['--no-history', '--docker-socket', LINK]);
  await waitForGraph(`${agent.url}/api/v1/graph`, (g) => [EDGE, HUGE_EDGE].every((id) => g.edges.some((e) => e.id === id)), 'the long-named edges', 30000);
});

after(async () => {
  await b?.close();
  await agent?.stop();
  if (dockerd) { await removeAll(dockerd, names, [NET]); await dockerd.stop(); }
  fs.rmSync(LINK, { force: true });
});

test('the API serves nodes and edges with long ids, up to and beyond 2 KB', async () => {
  for (const [kind, id] of [['nodes', SERVER_ID], ['nodes', CLIENT_ID], ['nodes', HUGE_ID], ['edges', EDGE], ['edges', HUGE_EDGE]] as const) {
    const r = await rawRequest(agent.url, `/api/v1/${kind}/${encodeURIComponent(id)}`);
    assert.equal(r.status, 200, `${kind} id of ${id.length} characters: ${r.body.slice(0, 200)}`);
    assert.equal(JSON.parse(r.body).id, id);
    assert.equal((await rawRequest(agent.url, `/api/v1/${kind}/${encodeURIComponent(id)}`, { method: 'HEAD' })).status, 200);
  }
  // Unknown ids of any size the HTTP parser takes are a plain 404 for that id, never "no route".
  for (const n of [101, 2048, 5000]) {
    const id = `svc:${'a'.repeat(n)}`;
    const r = await rawRequest(agent.url, `/api/v1/nodes/${encodeURIComponent(id)}`);
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).message, /^no node svc:a/);
  }
  // Beyond what HTTP takes at all (16 KB of request line and headers): a JSON 431, and the agent goes on.
  const huge = await rawRequest(agent.url, `/api/v1/nodes/${'b'.repeat(20000)}`);
  assert.equal(huge.status, 431);
  assert.equal(JSON.parse(huge.body).error, 'request_header_fields_too_large');
  assert.equal((await rawRequest(agent.url, '/api/v1/health')).status, 200);
});

test('the UI side panel loads nodes and edges with long ids (no "Could not load")', async () => {
  b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  const details: { url: string; status: number }[] = [];
  b.page.on('response', (r) => { if (/\/api\/v1\/(nodes|edges)\//.test(r.url())) details.push({ url: r.url(), status: r.status() }); });
  await b.openUi(agent.url);
  await b.waitFor(`[${JSON.stringify(EDGE)}, ${JSON.stringify(HUGE_EDGE)}].every((id) => window.__dhrishti.edgeIds().includes(id))`, 15000, 'long-named edges drawn');
  for (const [kind, id] of [['node', SERVER_ID], ['node', HUGE_ID], ['edge', EDGE], ['edge', HUGE_EDGE]] as const) {
    details.length = 0;
    await b.page.evaluate((x) => window.__dhrishti!.tap(x), id);
    const panel = b.page.locator(`[data-testid="${kind}-panel"]`);
    await panel.waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await panel.getAttribute(`data-${kind}-id`), id);
    // Wait for the panel's own detail request to come back, then read what it shows.
    await b.waitFor(`document.querySelector('[data-testid="${kind}-panel"] [data-testid="recent-failures"], [data-testid="${kind}-panel"] .panel-section p.muted')?.textContent !== 'Loading…'`, 10000, 'the detail');
    const deadline = Date.now() + 10000;
    while (!details.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(details.length > 0, `${kind} ${id.length} characters: the panel asked for its detail`);
    assert.ok(details.every((d) => d.status === 200), `${kind} detail: ${JSON.stringify(details.map((d) => d.status))}`);
    const text = await b.page.getByTestId('side-panel').innerText();
    assert.doesNotMatch(text, /Could not load|no route|is gone/i, `${kind} panel for an id of ${id.length} characters`);
    await b.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden', timeout: 5000 });
  }
  assert.deepEqual(b.errors, [], 'no console errors');
});
