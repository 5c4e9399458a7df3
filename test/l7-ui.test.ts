// Requests (L7) in the web UI, in a real browser (Debian's Chromium) against the
// real `dhrishti run`: an HTTP server answering some requests 500 and some
// after 400 ms, under a steady client. The edge's label and colour, its panel
// (status breakdown, latency histogram, failed and slow requests), the table's
// request columns, the user's thresholds and "Failing only".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { node, stopAll } from './support/children.js';
import { getJson, type RunningAgent } from './support/agent.js';
import { startL7Agent } from './support/l7-agent.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';
import { until } from './support/wait.js';
import { HTTP_SERVER } from './support/l7-scripts.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import type { GraphSnapshot } from '../src/graph/types.js';

const SHOTS = path.join(REPO_ROOT, 'test-output');
/** Keep-alive client: every 100 ms one request; every 10th is /slow (400 ms), and the 5th of each ten /500 (10%). Runs until stopped. */
const STEADY_CLIENT = `
const http = require('http');
const port = Number(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let i = 0;
const next = () => {
  i++;
  const path = i % 10 === 0 ? '/slow' : i % 5 === 0 ? '/500' : '/ok';
  http.get({ host: '127.0.0.1', port, path, agent }, (r) => { r.resume(); r.on('end', () => setTimeout(next, 100)); }).on('error', () => setTimeout(next, 500));
};
next();
`;

/** A TCP connection that carries no requests (an echo of "ping" lines): its row's request cells show '–'. */
const RAW_TCP = `
const net = require('net');
const s = net.createServer((c) => c.on('data', (d) => c.write(d))).listen(0, '127.0.0.1', () => {
  const c = net.connect(s.address().port, '127.0.0.1', () => setInterval(() => c.write('ping\\n'), 200));
  c.on('data', () => {});
});
`;

let agent: RunningAgent;
let b: BrowserSession;
let edgeId = '';
const LABEL = /^HTTP · [\d.]+\/s · (\d+)% 5xx · p95 (\d+) ms$/;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  agent = await startL7Agent(['--no-l7-tls']);
  const s = node(HTTP_SERVER);
  const port = Number((await s.waitFor(/^port (\d+)/))[1]);
  node(STEADY_CLIENT, [String(port)]);
  node(RAW_TCP);
  edgeId = await until('the edge to carry 500s and slow requests', async () => {
    const g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
    const e = g.edges.find((x) => x.port === port && x.requests?.[0]);
    const r = e?.requests?.[0];
    return r && r.status['5xx'] >= 2 && r.rates['1m'].latency.p95Ms >= 262 ? e!.id : undefined;
  }, 30_000);
  b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  await b.openUi(agent.url);
});

after(async () => {
  await b?.close();
  await stopAll();
  await agent?.stop();
});

const label = () => b.page.evaluate(`window.__dhrishti.cy.getElementById(${JSON.stringify(edgeId)}).data('label')`) as Promise<string | undefined>;

test('the edge label says protocol, rate, 5xx share and p95; the edge is drawn failing', async () => {
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(edgeId)})`, 15_000, 'the edge drawn');
  const text = await until<string>('a request label', async () => { const l = await label(); return l && LABEL.test(l) ? l : undefined; }, 15_000);
  const [, errPct, p95] = text.match(LABEL)!;
  // 1 in 10 answers 500; early on the label's one-minute window holds a few dozen requests, so 7-11%
  assert.ok(Number(errPct) >= 5 && Number(errPct) <= 20, `about 10% 5xx: ${text}`);
  assert.ok(Number(p95) >= 262 && Number(p95) <= 524, `p95 in the 400 ms bucket: ${text}`);
  await b.waitFor(`window.__dhrishti.edgeClasses(${JSON.stringify(edgeId)}).includes('failing')`, 10_000, 'failing colour (10% >= the default 5%)');
  assert.deepEqual(b.errors, [], 'no console errors');
});

test('the edge panel shows the status breakdown, a latency histogram and the failed and slow requests', async () => {
  await b.page.evaluate((id) => window.__dhrishti!.tap(id), edgeId);
  const section = b.page.getByTestId('edge-requests');
  await section.waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await b.page.getByTestId('request-protocol').first().innerText(), /^HTTP$/);
  const breakdown = await b.page.getByTestId('status-breakdown').first().innerText();
  assert.match(breakdown, /^since first seen:/);
  assert.match(breakdown, /2xx \d/);
  assert.match(breakdown, /5xx \d/);
  await b.page.getByTestId('latency-histogram').first().waitFor({ timeout: 10_000 });
  const slowBars = await b.page.locator('[data-testid="latency-histogram"] g[data-bucket="18"]').getAttribute('data-count');
  assert.ok(Number(slowBars) >= 1, `requests in the 262-524 ms bar: ${slowBars}`);
  const rows = b.page.getByTestId('request-sample');
  await rows.first().waitFor({ timeout: 10_000 });
  const samples = await rows.evaluateAll((trs) => trs.map((tr) => ({ status: tr.getAttribute('data-status'), reasons: tr.getAttribute('data-reasons'), text: tr.textContent ?? '' })));
  assert.ok(samples.some((s) => s.status === '500' && /GET \/500/.test(s.text) && /node/.test(s.text)), `a 500 listed: ${JSON.stringify(samples.slice(0, 4))}`);
  assert.ok(samples.some((s) => s.reasons?.includes('slow') && /GET \/slow/.test(s.text) && /4\d\d(\.\d)? ms/.test(s.text)), 'a slow request listed with its latency');
  // An edge failing on 500s has no failed connections: its list says so and points at the requests, never "No failures".
  const failures = b.page.getByTestId('edge-failures');
  assert.equal(await failures.locator('h3').textContent(), 'Recent failed connections');
  assert.match(await failures.innerText(), /No failed connections recently\. The [\d,]+ request errors are failed requests, not connections: see Recent failed and slow requests, above\./);
  await b.screenshot(path.join(SHOTS, 'l7-edge-panel.png'));
  await b.page.keyboard.press('Escape');
});

test('the table has request columns, sortable; thresholds change the colour; "Failing only" still catches request errors', async () => {
  await b.page.getByTestId('tab-table').click();
  const row = b.page.locator(`[data-testid="edge-row"][data-edge-id="${edgeId}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.getByTestId('cell-req-rate').innerText(), /\/s$/);
  assert.match(await row.getByTestId('cell-req-errors').innerText(), /^\d+%$/);
  assert.match(await row.getByTestId('cell-req-p95').innerText(), /ms$/);
  // With the side panel open on a 1440 px window, no cell is cut short ("7.8 …"): the table scrolls instead.
  await row.click();
  await b.page.getByTestId('side-panel').waitFor({ timeout: 5000 });
  const cut = await row.evaluate((tr) => [...tr.querySelectorAll('td')].filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.textContent));
  assert.deepEqual(cut, [], 'cells whose text is cut short');
  await b.page.getByTestId('sort-reqErrors').click();
  assert.equal(await b.page.getByTestId('edge-row').first().getAttribute('data-edge-id'), edgeId, 'the failing requests sort first');
  // Ascending, rows with no requests ('–') still come last: the least failing edge with requests leads.
  await b.page.getByTestId('sort-reqErrors').click();
  const cells = await b.page.getByTestId('cell-req-errors').allInnerTexts();
  const dash = cells.indexOf('–');
  assert.ok(dash > 0, `ascending, a row with requests first and the echo's '–' after: ${cells}`);
  assert.deepEqual(cells.slice(dash).filter((c) => c !== '–'), [], `'–' only at the end: ${cells}`);
  await b.page.getByTestId('tab-map').click();

  await b.page.getByTestId('thresholds-toggle').click();
  await b.page.getByTestId('threshold-errorFailPct').fill('90');
  await b.page.getByTestId('threshold-latencyFailMs').fill('5000');
  // a value the colours cannot take is said, not silently put back; the field can be cleared to type anew
  await b.page.getByTestId('threshold-latencyWarnMs').fill('-5');
  await b.page.getByTestId('threshold-latencyWarnMs-error').waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await b.page.getByTestId('threshold-latencyWarnMs').inputValue(), '-5', 'kept as typed');
  await b.page.getByTestId('threshold-latencyWarnMs').fill('');
  assert.equal(await b.page.getByTestId('threshold-latencyWarnMs').inputValue(), '', 'cleared');
  await b.page.getByTestId('threshold-latencyWarnMs').fill('500');
  assert.equal(await b.page.getByTestId('threshold-latencyWarnMs-error').count(), 0);
  await b.waitFor(`!window.__dhrishti.edgeClasses(${JSON.stringify(edgeId)}).includes('failing')`, 10_000, 'no longer red under the raised thresholds');
  assert.ok((await b.edgeClasses(edgeId)).includes('warn'), 'amber: errors above the amber threshold');
  await b.page.getByTestId('filter-failing').click();
  await b.waitFor(`window.__dhrishti.visibleEdgeIds().includes(${JSON.stringify(edgeId)})`, 5000, 'still shown by Failing only');
  await b.page.getByTestId('filter-failing').click();
  await b.page.getByTestId('thresholds-toggle').click(); // a click elsewhere closed it
  await b.page.getByTestId('thresholds-reset').click();
  await b.waitFor(`window.__dhrishti.edgeClasses(${JSON.stringify(edgeId)}).includes('failing')`, 10_000, 'red again with the defaults');
  assert.deepEqual(b.errors, [], 'no console errors');
});
