// Compose intent end to end: a real compose file brought up by docker-compose
// on a real dockerd, the real agent with --compose and --policy; the diff shows
// the environment URL's edge as declared and observed, the depends_on never
// used as declared-but-unused, and an undeclared call; the web UI's policy mode
// (real Chromium) draws the violation and the ghost edge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TestDockerd, ensureTestImage, nodeCommand, removeAll, TEST_IMAGE } from './support/dockerd.js';
import { startAgent, getJson, type RunningAgent } from './support/agent.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';
import { until } from './support/wait.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import type { IntentDiff } from '../src/intent/diff.js';

const run = promisify(execFile);
const PROJECT = 'dhintent';
const LINK = `/tmp/dhrishti-intent-docker-${process.pid}.sock`;
const SHOTS = path.join(REPO_ROOT, 'test-output');

const LISTEN = (port: number) => `require('net').createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); }).listen(${port});`;
const WEB = `require('net').createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); }).listen(3000);
setInterval(() => require('http').get(process.env.API_URL, { agent: false }, (r) => r.resume()).on('error', () => {}), 300);`;
const API = `require('http').createServer((q, s) => s.end('ok')).listen(8080);
const u = new URL(process.env.DATABASE_URL);
setInterval(() => { const c = require('net').connect(Number(u.port), u.hostname, () => c.end('q')); c.on('error', () => {}); }, 300);
setInterval(() => { const c = require('net').connect(3000, 'web', () => c.end('?')); c.on('error', () => {}); }, 400);`;

const compose = () => `# the shop as declared: web calls the api by URL; the api needs db (URL) and cache (depends_on, never used)
services:
  web:
    image: ${TEST_IMAGE}
    command: ${JSON.stringify(nodeCommand(WEB))}
    environment:
      API_URL: http://api:8080/
    networks: [front]
  api:
    image: ${TEST_IMAGE}
    command: ${JSON.stringify(nodeCommand(API))}
    environment:
      DATABASE_URL: postgres://app:secret@db:5432/app
    depends_on: [db, cache]
    networks: [front, back]
  db:
    image: ${TEST_IMAGE}
    command: ${JSON.stringify(nodeCommand(LISTEN(5432)))}
    networks: [back]
  cache:
    image: ${TEST_IMAGE}
    command: ${JSON.stringify(nodeCommand(LISTEN(6379)))}
    networks: [back]
networks:
  front: {}
  back: {}
`;

const POLICY = `zones:
  api: {compose_service: api}
  web: {compose_service: web}
  back: [{compose_service: db}, {compose_service: cache}]
rules:
  - name: web-is-a-client-only
    deny: {from: any, to: web}
  - name: api-to-back
    allow: {from: api, to: back}
`;

let dockerd: TestDockerd;
let agent: RunningAgent;
let dir: string;
let composeFile: string;
let policyFile: string;
let b: BrowserSession | undefined;
const API_WEB = `svc:${PROJECT}/api|svc:${PROJECT}/web|3000|tcp`;

async function dockerCompose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker-compose', ['-f', composeFile, '-p', PROJECT, ...args], { env: { ...process.env, DOCKER_HOST: `unix://${dockerd.socketPath}` }, timeout: 180_000 });
  return stdout;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-intent-test-'));
  fs.mkdirSync(path.join(dir, PROJECT));
  composeFile = path.join(dir, PROJECT, 'docker-compose.yml'); // the folder names the project, as compose does
  fs.writeFileSync(composeFile, compose());
  policyFile = path.join(dir, 'policy.yaml');
  fs.writeFileSync(policyFile, POLICY);
  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await dockerCompose('up', '-d');
  fs.rmSync(LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, LINK);
  agent = await startAgent(['--docker-socket', LINK, '--compose', composeFile, '--policy', policyFile]);
});

after(async () => {
  if (agent?.child.stderr.length) console.log('agent stderr:\n' + agent.child.stderr.join('\n'));
  await b?.close();
  await agent?.stop();
  if (dockerd) {
    try { await dockerCompose('down', '--timeout', '1'); } catch { await removeAll(dockerd, ['web', 'api', 'db', 'cache'].map((s) => `${PROJECT}_${s}_1`), [`${PROJECT}_front`, `${PROJECT}_back`]); }
    await dockerd.stop();
  }
  fs.rmSync(LINK, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the diff: the environment URLs are declared and observed, the unused depends_on and an undeclared call show', async () => {
  const d = await until('the observed edges in the intent diff', async () => {
    const body = (await getJson<IntentDiff>(`${agent.url}/api/v1/intent`)).body;
    const seen = (c: string, s: string) => body.declared.find((x) => x.client === `svc:${PROJECT}/${c}` && x.server === `svc:${PROJECT}/${s}`)?.observed;
    return seen('web', 'api') && seen('api', 'db') && body.undeclared.some((u) => u.edge === API_WEB) ? body : undefined;
  }, 30_000);
  const declared = Object.fromEntries(d.declared.map((x) => [`${x.client} -> ${x.server}`, { via: [...x.via].sort(), observed: x.observed }]));
  assert.deepEqual(declared, {
    [`svc:${PROJECT}/web -> svc:${PROJECT}/api`]: { via: ['environment'], observed: true },
    [`svc:${PROJECT}/api -> svc:${PROJECT}/db`]: { via: ['depends_on', 'environment'], observed: true },
    [`svc:${PROJECT}/api -> svc:${PROJECT}/cache`]: { via: ['depends_on'], observed: false },
  });
  assert.deepEqual(d.unused.map((u) => `${u.client} -> ${u.server}`), [`svc:${PROJECT}/api -> svc:${PROJECT}/cache`], 'the depends_on never used');
  const env = d.declared.find((x) => x.server === `svc:${PROJECT}/api`)!.evidence[0];
  assert.equal(env.text, 'API_URL names api:8080');
  assert.deepEqual([env.at.line, env.at.column], [7, 16]);
  assert.deepEqual(d.undeclared.filter((u) => u.peer === 'compose').map((u) => u.edge), [API_WEB]);
  assert.deepEqual(d.crossings, []);
  assert.deepEqual(d.absent, [`svc:${PROJECT}/cache`]);
});

test('dhrishti check with --compose prints the diff; --strict fails on the undeclared call', async () => {
  const dhrishti = (...args: string[]) => run(path.join(REPO_ROOT, 'dhrishti'), ['check', '--compose', composeFile, '--url', agent.url, ...args])
    .then((r) => ({ code: 0, stdout: r.stdout }), (e) => ({ code: (e as { code: number }).code, stdout: (e as { stdout: string }).stdout }));
  const check = (...args: string[]) => dhrishti('--policy', policyFile, ...args);
  // The compose files alone: the diff, no policy table; --strict fails on the undeclared call.
  const composeOnly = await dhrishti();
  assert.equal(composeOnly.code, 0, composeOnly.stdout);
  assert.match(composeOnly.stdout, /observed but not declared: 1\n +svc:dhintent\/api +-> +svc:dhintent\/web:3000/);
  assert.doesNotMatch(composeOnly.stdout, /VERDICT/);
  assert.equal((await dhrishti('--strict')).code, 1);
  const plain = await check();
  assert.equal(plain.code, 1, 'the policy violation (api calls web) fails the check');
  assert.match(plain.stdout, /violation +web-is-a-client-only +svc:dhintent\/api +svc:dhintent\/web +3000/);
  assert.match(plain.stdout, /declared but not observed: 1\n +svc:dhintent\/api +-> +svc:dhintent\/cache +depends_on: cache \(.*docker-compose\.yml:14\)/);
  assert.match(plain.stdout, /observed but not declared: 1\n +svc:dhintent\/api +-> +svc:dhintent\/web:3000/);
  assert.match(plain.stdout, /declared services not on the map \(not running, or not talking\): 1\n +svc:dhintent\/cache/, 'as /api/v1/intent lists it');
});

test('the UI in policy mode draws the violation, the undeclared edge, the ghost edge and the zones', async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  await b.openUi(agent.url);
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(API_WEB)})`, 15000, 'the api -> web edge drawn');
  await b.page.click('[data-testid=policy-toggle]', { timeout: 15000 });
  await b.waitFor(`window.__dhrishtiPolicy.violationEdges().includes(${JSON.stringify(API_WEB)})`, 10000, 'the violation marked');
  await b.waitFor(`window.__dhrishtiPolicy.ghostEdges().includes('svc:${PROJECT}/api|svc:${PROJECT}/cache')`, 10000, 'the ghost edge drawn');
  await b.clearOfPanels('policy mode: its panel over the map is kept clear too'); // a review saw nodes under the legend
  // Read through waitFor (it has a timeout; a bare evaluate waits as long as the page is busy).
  const hook = await b.waitFor<{ ghosts: string[]; undeclared: string[]; zones: string[] }>('({ ghosts: window.__dhrishtiPolicy.ghostNodes(), undeclared: window.__dhrishtiPolicy.undeclaredEdges(), zones: window.__dhrishtiPolicy.zones() })', 10000, 'the policy layer');
  assert.deepEqual(hook.ghosts, [`svc:${PROJECT}/cache`], 'cache never showed up: a ghost node');
  assert.ok(hook.undeclared.includes(API_WEB));
  assert.deepEqual(hook.zones.sort(), ['api', 'back', 'web']);
  const classes = await b.waitFor<string[]>(`window.__dhrishti.edgeClasses(${JSON.stringify(API_WEB)})`, 10000, 'the edge classes');
  assert.ok(classes.includes('pol-violation') && classes.includes('pol-undeclared'), classes.join(' '));
  const style = await b.waitFor<{ line: string; colour: string }>(`(() => { const e = window.__dhrishti.cy.getElementById(${JSON.stringify(API_WEB)}); return { line: e.style('line-style'), colour: e.style('line-color') }; })()`, 10000, 'the edge style');
  assert.equal(style.line, 'dashed');
  assert.match(style.colour, /rgb\(2(17|55), ?(45|90), ?(45|90)\)/, 'red');
  const row = b.page.locator(`[data-testid=policy-violation][data-edge="${API_WEB}"]`);
  await row.waitFor({ timeout: 10000 });
  assert.match(await row.innerText({ timeout: 10000 }), /web-is-a-client-only[\s\S]*first .* last .*connected/);
  assert.match(await b.page.locator('[data-testid=policy-unused]').first().innerText({ timeout: 10000 }), /dhintent\/api → dhintent\/cache \(depends_on: cache, docker-compose\.yml:14\)/);
  await b.screenshot(path.join(SHOTS, 'policy-mode.png'));
  // In the past the panel lists that time's violations (it listed the live ones over any range: a review).
  const asked: string[] = [];
  b.page.on('request', (r) => { if (/\/api\/v1\/(policy|intent)/.test(r.url())) asked.push(r.url()); });
  await b.page.selectOption('[data-testid=time-picker]', '15m');
  for (let i = 0; i < 100 && !asked.some((u) => u.includes('from=')); i++) await new Promise((r) => setTimeout(r, 100));
  await b.page.locator(`[data-testid=policy-violation][data-edge="${API_WEB}"]`).waitFor({ timeout: 15000 });
  assert.ok(asked.some((u) => /\/policy\?verdict=violation&from=\d+&to=\d+/.test(u)), asked.join(' '));
  assert.ok(asked.some((u) => /\/intent\?from=\d+&to=\d+/.test(u)), asked.join(' '));
  assert.match(await row.innerText({ timeout: 10000 }), /web-is-a-client-only/, 'the range holds the violation');
  asked.length = 0;
  await b.page.selectOption('[data-testid=time-picker]', 'live');
  for (let i = 0; i < 100 && !asked.length; i++) await new Promise((r) => setTimeout(r, 100));
  await b.page.locator(`[data-testid=policy-violation][data-edge="${API_WEB}"]`).waitFor({ timeout: 15000 });
  assert.ok(asked.some((u) => /\/policy\?verdict=violation$/.test(u)), `live again: ${asked.join(' ')}`);
  assert.deepEqual(b.errors, [], 'no console errors');
});
