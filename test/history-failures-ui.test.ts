// The replay track's markers and the side panel's failed connections, in the browser, against a real agent
// serving a history written beforehand (a real store on a real file, fed synthetic events): one flush with 40
// failed connections of which the store keeps 10 samples, all on one edge; then 25 HTTP 500s and no failed connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent, getJson, type RunningAgent } from './support/agent.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';
import { WEB_DB, WEB_CACHE } from './support/fixtures.js';
import { writeFailureScenario } from '../src/store/testing.js';
import { HISTORY_DEFAULTS } from '../src/config/defaults.js';

const S = 1000;
const T = Math.floor((Date.now() - 120 * S) / (10 * S)) * 10 * S; // two minutes ago, on a 10 s bucket
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-failures-ui-'));
let agent: RunningAgent;
let b: BrowserSession;

/** Writes the history: bucket T, 30 failed to db (20 refused, 10 reset) then 10 refused to cache; bucket T+10 s, 25 HTTP 500s to db. */
function seed(): void {
  writeFailureScenario(path.join(dir, 'history.db'), T, HISTORY_DEFAULTS.retention).close();
}

before(async () => {
  seed();
  agent = await startAgent(['--no-docker', '--data-dir', dir, '--flush-interval', '1s']);
});

after(async () => {
  await b?.close();
  await agent?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const marker = (t: number) => b.page.locator(`[data-testid=replay-marker][data-t="${t}"]`);

test('markers count every failed connection and request error; the panel never says "No failures" beside failed counts', async () => {
  // What the API says of the seeded bucket: 10 samples kept, 40 failed.
  const samples = (await getJson<{ events: unknown[] }>(`${agent.url}/api/v1/events?from=${T}&to=${T + 10 * S}&type=failure`)).body.events;
  assert.equal(samples.length, 10);
  // The timeline of a project: its edges' counts (all of them are shop's here), another's none; a bad group is refused.
  const timeline = async (extra = '') => (await getJson<{ buckets: { t: number; failures: number }[] }>(`${agent.url}/api/v1/timeline?from=${T}&to=${T + 60 * S}${extra}`));
  const all = (await timeline()).body.buckets;
  assert.deepEqual(all.map((x) => [x.t, x.failures]), [[T, 40], [T + 10 * S, 0]]);
  assert.deepEqual((await timeline('&group=shop')).body.buckets, all);
  assert.deepEqual((await timeline('&group=billing')).body.buckets, []);
  assert.equal((await timeline('&group=')).status, 400);
  const events = async (group: string) => (await getJson<{ events: { type: string; node: string | null; edge: string | null }[] }>(`${agent.url}/api/v1/events?from=${T}&to=${T + 60 * S}&group=${group}`)).body.events;
  assert.ok((await events('shop')).some((e) => e.type === 'failure'));
  assert.deepEqual((await events('billing')).filter((e) => e.node || e.edge), [], 'another project\'s events: only those of no node or edge (the agent\'s own)');

  b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  await b.openUi(agent.url);
  await b.page.selectOption('[data-testid=time-picker]', '15m');
  await marker(T).waitFor({ state: 'attached', timeout: 10_000 });
  const title = await marker(T).getAttribute('title');
  assert.match(title!, /: 40 failed connections \(30 refused, 10 reset\)/, title!);
  assert.equal(await marker(T).getAttribute('data-failures'), '40');
  await marker(T + 10 * S).waitFor({ state: 'attached', timeout: 5_000 });
  assert.match((await marker(T + 10 * S).getAttribute('title'))!, /: 25 request errors/);
  assert.equal(await marker(T + 10 * S).getAttribute('data-kind'), 'requests');

  // The moment: web -> cache failed 10 times and kept no sample (web -> db's took the flush's 10).
  await b.scrubTo(T);
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(WEB_CACHE)})`, 10_000, 'web -> cache drawn');
  await b.page.evaluate((id) => window.__dhrishti!.tap(id), WEB_CACHE);
  const past = b.page.getByTestId('past-failures');
  await b.waitFor(`document.querySelector('[data-testid=past-failures] p')?.textContent.includes('failed connections in that time')`, 10_000, 'the moment\'s failures');
  assert.equal(await past.locator('h3').textContent(), 'Failed connections in the replayed moment');
  assert.equal(await past.locator('p').first().textContent(), '10 failed connections in that time; none sampled (samples are rate-limited).');
  // web -> db kept its 10 samples of 30: listed, and said to be 10 of 30.
  await b.page.evaluate((id) => window.__dhrishti!.tap(id), WEB_DB);
  await b.waitFor(`document.querySelectorAll('[data-testid=past-failures] [data-testid=failure-row]').length === 10`, 10_000, "web -> db's samples");
  assert.equal(await b.page.getByTestId('past-failures-sampled').textContent(), '10 sampled of the 30 failed connections (samples are rate-limited).');

  // The next moment: 25 HTTP 500s, no failed connection.
  await b.scrubTo(T + 10 * S);
  await b.waitFor(`document.querySelector('[data-testid=past-failures] p')?.textContent.startsWith('No failed connections')`, 10_000, 'the 500s moment');
  assert.equal(await past.locator('p').first().textContent(),
    'No failed connections in that time. The 25 request errors are failed requests, not connections: see Requests, above.');
  // ...whose latency histogram and sampled requests are the moment's, from the history.
  await b.waitFor(`document.querySelectorAll('[data-testid=edge-request-samples] [data-testid=request-samples] tbody tr').length === 3`, 10_000, 'the moment\'s 3 sampled 500s');
  assert.equal(await b.page.locator('[data-testid=edge-request-samples] h3').textContent(), 'Failed and slow requests, in the replayed moment');
  assert.match((await b.page.locator('[data-testid=edge-request-samples] tbody tr').first().textContent())!, /GET \/checkout.*500/);
  assert.match((await b.page.getByTestId('latency-histogram').textContent())!, /^HTTP latency, in the replayed moment.*: 25 requests/);
  // The server's node: its inbound requests then, 25 of them failed.
  await b.page.evaluate(() => window.__dhrishti!.tap('svc:shop/db'));
  const inbound = b.page.getByTestId('node-inbound-requests');
  await inbound.waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await inbound.locator('h3').textContent(), 'Inbound requests, in the replayed moment');
  assert.match((await inbound.getByTestId('inbound-request-block').textContent())!, /5xx\D*25/);
  assert.equal(await inbound.locator('[data-testid=request-samples] tbody tr').count(), 3);

  // After the seeding run stopped (T+30 s), before this agent started: the edges seen just before stay drawn, so the
  // map says nothing was recorded then (it read as a quiet map), and the track marks the stop.
  await b.page.keyboard.press('Escape');
  assert.match((await marker(T + 30 * S).getAttribute('title'))!, /: the agent stopped$/);
  assert.equal(await marker(T + 30 * S).getAttribute('data-kind'), 'agent');
  await b.scrubTo(T + 40 * S);
  await b.page.getByTestId('map-unrecorded').waitFor({ state: 'visible', timeout: 10_000 });
  assert.ok((await b.drawn()).edges.length > 0, 'the edges seen shortly before are drawn');
  await b.scrubTo(T + 10 * S);
  await b.page.getByTestId('map-unrecorded').waitFor({ state: 'hidden', timeout: 10_000 });

  // A range before anything was recorded: the empty map says so, not the live "No connections seen yet".
  await b.page.selectOption('[data-testid=time-picker]', 'custom');
  const local = (t: number) => new Date(t - new Date(t).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await b.page.fill('[data-testid=time-from]', local(T - 40 * 60 * S));
  await b.page.fill('[data-testid=time-to]', local(T - 20 * 60 * S));
  await b.page.getByTestId('map-empty').waitFor({ state: 'visible', timeout: 10_000 });
  assert.match((await b.page.getByTestId('map-empty').textContent())!, /^Nothing was recorded then/);
  assert.deepEqual(b.errors, []);
});
