// History in the browser: the real agent records two loopback connections one after
// the other; the page's time picker and replay scrubber redraw the map as it was.
import { until, sleep } from './support/wait.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { node, stopAll, type Child } from './support/children.js';
import { RESETTER, SERVER } from './support/scripts.js';
import { startAgent, getJson, type RunningAgent } from './support/agent.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import type { GraphSnapshot } from '../src/graph/types.js';

const SHOTS = path.join(REPO_ROOT, 'test-output');
const STEP = 10_000; // the store's finest resolution, the scrubber's step
/** Connects to argv host:port every 200 ms, sends a byte and closes. */
const LOOP = `
const net = require('net');
const [host, port] = process.argv.slice(1);
setInterval(() => { const c = net.connect(Number(port), host, () => c.end('x')); c.on('data', () => {}); c.on('error', () => {}); }, 200);
console.log('looping');
`;

let agent: RunningAgent;
let b: BrowserSession;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  agent = await startAgent(['--no-docker', '--flush-interval', '1s']);
});

after(async () => {
  await b?.close();
  await stopAll();
  await agent?.stop();
});



async function pair(script = SERVER): Promise<{ server: Child; client: Child; port: number }> {
  const server = node(script, ['127.0.0.1', '16']);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const client = node(LOOP, ['127.0.0.1', String(port)]);
  await client.waitFor(/^looping/);
  return { server, client, port };
}

/** The id of the recorded edge to `port` (from the history, so only after a flush). */
function recordedEdge(port: number, from: number): Promise<string> {
  return until(`the edge to port ${port} in the history`, async () => {
    const g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph?from=${from}&to=now&include=external,host`)).body;
    return g.edges.find((e) => e.port === port)?.id;
  });
}

/** Where each drawn node is (model coordinates). */
function positions(): Promise<Record<string, { x: number; y: number }>> {
  return b.page.evaluate(() => Object.fromEntries(window.__dhrishti!.nodeIds().map((id) => [id, window.__dhrishti!.position(id)!])));
}

/** Nodes drawn in both keep their place exactly (the layout is not redone by a switch). */
function samePlaces(before: Record<string, { x: number; y: number }>, after: Record<string, { x: number; y: number }>, when: string): void {
  const common = Object.keys(before).filter((id) => id in after);
  assert.ok(common.length > 0, `some nodes drawn in both (${when})`);
  for (const id of common) assert.deepEqual(after[id], before[id], `${id} stays where it was (${when})`);
}

test('the time picker and the replay scrubber show the map as it was', async () => {
  const began = Date.now();
  // Edge A for a few seconds, then gone; its server resets every connection (failures for the timeline).
  const a = await pair(RESETTER);
  const aStart = Date.now();
  await sleep(4000);
  await a.client.stop();
  await a.server.stop();
  const aStop = Date.now();
  const edgeA = await recordedEdge(a.port, began - 1000);
  // A moment when A was busy; B starts only in a later bucket (and after a flush).
  const tA = Math.floor((aStart + 2000) / STEP) * STEP;
  const atA = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph?at=${tA}&include=external,host`)).body;
  assert.ok(atA.edges.some((e) => e.id === edgeA), `the API has A at ${tA}: ${JSON.stringify(atA.edges.map((e) => e.id))}`);
  const wait = Math.max(tA + STEP + 500, aStop + 1500) - Date.now();
  if (wait > 0) await sleep(wait);

  const bPair = await pair();
  const edgeB = await recordedEdge(bPair.port, began - 1000);
  assert.notEqual(edgeA, edgeB);

  b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  await b.openUi(agent.url);
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(edgeB)})`, 15_000, 'B on the live map');
  await b.page.waitForTimeout(1000); // new nodes are settled 300 ms after they come
  const live = await positions();
  await b.clearOfPanels('the live map');

  await b.page.selectOption('[data-testid=time-picker]', '15m');
  await b.page.locator('[data-testid=replay-bar]').waitFor({ timeout: 10_000 });
  // the whole range summed: both
  await b.waitFor(`[${JSON.stringify(edgeA)}, ${JSON.stringify(edgeB)}].every((id) => window.__dhrishti.edgeIds().includes(id))`, 10_000, 'A and B in the range');
  await b.page.waitForTimeout(1000);
  samePlaces(live, await positions(), 'the history range');
  await b.clearOfPanels('the history range');
  assert.match(await b.page.getByTestId('legend-flowing').innerText(), /had traffic$/, 'the legend speaks of that time');
  await b.waitFor(`document.querySelectorAll('[data-testid=replay-marker]').length > 0`, 10_000, 'topology markers on the track');
  // the agent of this test has recorded a minute or so of the 15: its rates are over that, and the bar says so
  assert.match(await b.page.getByTestId('replay-time').innerText(), /\(summed; (\d+m )?\d+s recorded, rates over that\)/);

  const scrubber = b.page.locator('[data-testid=replay-scrubber]');
  const min = Number(await scrubber.getAttribute('min'));
  const max = Number(await scrubber.getAttribute('max'));
  assert.ok(min <= tA && tA < max, `tA ${tA} inside [${min}, ${max}]`);

  await b.scrubTo(tA);
  await b.waitFor(`document.querySelector('[data-testid=replay-time]').dataset.t === '${tA}'`, 5_000, 'the replay time');
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(edgeA)}) && !window.__dhrishti.edgeIds().includes(${JSON.stringify(edgeB)})`,
    10_000, `only A drawn at ${new Date(tA).toISOString()}`);
  // the chosen edge's charts over the range: A's connections add up to some
  await b.page.evaluate((id) => window.__dhrishti!.tap(id), edgeA);
  await b.waitFor(`document.querySelector('[data-testid=history-connections] svg') !== null`, 10_000, 'range charts in the side panel');
  // a range chart's headline is the range's total, not its last bucket called "now" (A stopped long before the range's end)
  const series = (await getJson<{ points: { v: number | null }[] }>(
    `${agent.url}/api/v1/timeseries?edge=${encodeURIComponent(edgeA)}&metric=connections&from=${began - 60_000}&to=${Date.now()}`)).body;
  const aTotal = series.points.reduce((n, p) => n + (p.v ?? 0), 0);
  assert.ok(aTotal >= 10, `A's connections in history: ${aTotal}`);
  assert.equal(await b.page.locator('[data-testid=history-connections] .spark-value').innerText(), `${aTotal.toLocaleString('en-US')} total`);
  // its numbers are the replayed moment's, and the live last-minute charts give way to the range's
  assert.equal(await b.page.getByTestId('edge-stats-caption').innerText(), 'In the replayed moment');
  assert.equal(await b.page.getByTestId('edge-series').count(), 0, 'no live series while showing the past');
  assert.equal(await b.page.getByTestId('edge-activity').innerText(), 'had traffic', 'no live wording in the past');
  // its failed connections in that moment come from the timeline, not the live panel's recent ones
  assert.equal(await b.page.getByTestId('edge-failures').count(), 0, 'no live failures while showing the past');
  await b.waitFor(`document.querySelectorAll('[data-testid=past-failures] [data-testid=failure-row][data-reason=reset]').length > 0`, 10_000, "A's resets in the replayed moment");
  assert.equal(await b.page.locator('[data-testid=past-failures] h3').textContent(), 'Failed connections in the replayed moment');
  assert.equal(await b.page.locator('[data-testid=stat-active] .stat-label').innerText(), 'open at its end', 'a moment: open at its bucket\'s end, not a peak');
  assert.match(await b.page.getByTestId('replay-time').innerText(), /^\S+ – \S+$/, 'the moment is named as its bucket');
  await b.screenshot(path.join(SHOTS, 'ui-replay.png'));
  // its node: the moment's numbers, none of the live-only parts (inbound requests, recent failures), its edges' failures then
  await b.page.locator('.panel-ends button').first().click();
  await b.page.getByTestId('node-panel').waitFor({ timeout: 5_000 });
  assert.equal(await b.page.getByTestId('node-stats-caption').innerText(), 'In the replayed moment');
  assert.equal(await b.page.getByTestId('node-failures').count(), 0, 'no live failures while showing the past');
  assert.equal(await b.page.getByTestId('node-inbound-requests').count(), 0);
  await b.waitFor(`document.querySelectorAll('[data-testid=past-failures] [data-testid=failure-row][data-reason=reset]').length > 0`, 10_000, "the node's resets in the replayed moment");
  await b.page.keyboard.press('Escape');
  // the table of the replayed moment does not speak of now either
  await b.page.click('[data-testid=tab-table]');
  assert.match(await b.page.getByTestId('edge-table').locator('.table-caption').innerText(), /with traffic in that time$/);
  await b.page.click('[data-testid=tab-map]');

  await b.scrubTo(max);
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(edgeB)})`, 10_000, 'B drawn at the end of the range');
  assert.equal(await b.page.locator('[data-testid=replay-time]').getAttribute('data-t'), String(max));

  // play at 60x from the start: the time moves on by itself
  await b.page.selectOption('[data-testid=replay-speed]', '60');
  await b.scrubTo(min);
  await b.page.click('[data-testid=replay-play]');
  await b.waitFor(`Number(document.querySelector('[data-testid=replay-time]').dataset.t) >= ${min + 3 * STEP}`, 10_000, 'the replay to advance');
  await b.page.click('[data-testid=replay-play]');

  // back to live: the stream draws again, every node where it was before the history was shown
  await b.page.selectOption('[data-testid=time-picker]', 'live');
  await b.waitFor(`!document.querySelector('[data-testid=replay-bar]') && window.__dhrishti.edgeIds().includes(${JSON.stringify(edgeB)})`, 10_000, 'the live map');
  await b.page.waitForTimeout(1000);
  const back = await positions();
  samePlaces(live, back, 'live again');
  for (const id of Object.keys(live)) assert.ok(id in back || !(await b.drawn()).nodes.includes(id), `${id} is drawn again`);
  await b.clearOfPanels('live again');
  assert.match(await b.page.getByTestId('legend-flowing').innerText(), /traffic now$/);
  assert.deepEqual(b.errors, []);
  await bPair.client.stop();
  await bPair.server.stop();
});
