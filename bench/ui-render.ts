// Web UI render benchmark: the built UI in headless chromium, fed by a synthetic
// API (200 nodes, 1000 edges, a delta every 500 ms changing ~5% of the edges and now
// and then adding or removing one). Measures, in the page, how long each update takes
// from the WebSocket message to the frame after it (parse + apply + Cytoscape draw).
//
//   node dist/bench/ui-render.js                 measure and print p50/p95/max
//   node dist/bench/ui-render.js --serve         keep serving the synthetic API + UI for development
//   node dist/bench/ui-render.js --screenshots /tmp   also save screenshots of the map and panels
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, UI_BENCH } from '../src/config/defaults.js';
import { launchBrowser, type BrowserSession } from '../test/support/browser.js';
import { startUiServer, type UiServer } from './lib/ui-server.js';
import { fixed, int, table } from './lib/report.js';

interface Options {
  updates: number;
  nodes: number;
  edges: number;
  intervalMs: number;
  serve: boolean;
  scenario: 'bench' | 'demo';
  port: number;
  token?: string;
  screenshots?: string;
}

const UI_DIR = path.join(REPO_ROOT, 'src', 'ui', 'dist');

function positive(name: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got "${v}"`);
    return n;
  };
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

async function serve(o: Options): Promise<void> {
  const server = await startUiServer({ uiDir: UI_DIR, scenario: o.scenario, nodes: o.nodes, edges: o.edges, changedEdgeShare: UI_BENCH.changedEdgeShare, deltaIntervalMs: o.intervalMs, port: o.port, token: o.token });
  console.log(`synthetic Dhrishti API + UI on ${server.url}${o.token ? `?token=${o.token}` : ''} (${server.graph.nodes.size} nodes, ${server.graph.edges.size} edges; Ctrl-C stops)`);
  const stop = async () => { await server.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}

async function screenshots(b: BrowserSession, server: UiServer, dir: string): Promise<string[]> {
  const page = b.page;
  const files: string[] = [];
  const shot = async (name: string) => { const f = path.join(dir, `dhrishti-${name}.png`); await page.screenshot({ path: f }); files.push(f); };
  await page.waitForTimeout(600);
  await shot('map');
  // closer: the busiest node at 1.5x, to check labels and arrows
  await page.evaluate(() => {
    const cy = window.__dhrishti!.cy as { nodes(): { not(s: string): { sort(f: (a: { degree(): number }, b: { degree(): number }) => number): { [i: number]: unknown } } }; zoom(o: unknown): void; center(e: unknown): void };
    const busiest = cy.nodes().not('.group').sort((a, b) => b.degree() - a.degree())[0];
    cy.zoom({ level: 1.5 } as unknown);
    cy.center(busiest);
  });
  await page.waitForTimeout(400);
  await shot('map-zoomed');
  await page.getByTestId('zoom-fit').click();
  // a failing edge, opened the way a click would
  const failing = [...server.graph.edges.values()].find((e) => e.rates['1m'].failures > 0);
  if (failing) {
    await page.evaluate((id) => window.__dhrishti!.tap(id), failing.id);
    await page.getByTestId('edge-panel').waitFor();
    await page.waitForTimeout(2500);
    await shot('edge-panel');
  }
  const node = [...server.graph.nodes.values()].find((n) => n.kind === 'service' && n.instances.length > 1);
  if (node) {
    await page.evaluate((id) => window.__dhrishti!.tap(id), node.id);
    await page.getByTestId('node-panel').waitFor();
    await page.waitForTimeout(800);
    await shot('node-panel');
  }
  await page.keyboard.press('Escape');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(600);
  await shot('map-dark');
  if (failing) {
    await page.evaluate((id) => window.__dhrishti!.tap(id), failing.id);
    await page.waitForTimeout(2500);
    await shot('edge-panel-dark');
    await page.keyboard.press('Escape');
  }
  await page.getByTestId('tab-table').click();
  await page.waitForTimeout(600);
  await shot('table-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByTestId('tab-clients').click();
  await page.waitForTimeout(800);
  await shot('clients');
  await page.getByTestId('tab-map').click();
  return files;
}

async function measure(o: Options): Promise<void> {
  const server = await startUiServer({ uiDir: UI_DIR, scenario: o.scenario, nodes: o.nodes, edges: o.edges, changedEdgeShare: UI_BENCH.changedEdgeShare, deltaIntervalMs: o.intervalMs });
  let b: BrowserSession | null = null;
  try {
    b = await launchBrowser({ viewport: UI_BENCH.viewport });
    await b.page.addInitScript(() => {
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      w.__longTasks = [];
      try {
        new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration }); })
          .observe({ type: 'longtask', buffered: true });
      } catch { /* long task timing unsupported */ }
    });
    const t0 = Date.now();
    await b.openUi(server.url, 60_000);
    const firstDrawMs = Date.now() - t0;
    await b.page.waitForTimeout(3000); // let the first drawing settle (Cytoscape builds its caches lazily)
    const readyAt = await b.page.evaluate(() => performance.now());
    const firstDeltaIndex = await b.page.evaluate(() => window.__dhrishti!.timings().length);
    const run0 = { cpu: b.cpuMs(), t: Date.now() };
    console.log(`== Web UI render: ${server.graph.nodes.size} nodes, ${server.graph.edges.size} edges, a delta every ${o.intervalMs} ms changing ${fixed(UI_BENCH.changedEdgeShare * 100, 0)}% of the edges ==`);
    console.log(`first drawing (page load, snapshot, full layout) in ${int(firstDrawMs)} ms; measuring ${o.updates} updates...`);

    await b.waitFor(
      `window.__dhrishti.timings().slice(${firstDeltaIndex}).filter((t) => t.kind === 'delta').length >= ${o.updates}`,
      o.updates * o.intervalMs * 3 + 20_000,
      `${o.updates} updates`,
    );
    const runCpu = b.cpuMs() - run0.cpu;
    const runSecs = (Date.now() - run0.t) / 1000;
    // then the CPU the page burns with nothing arriving (the moving dots, Cytoscape's frame loop)
    server.pause(true);
    await b.page.waitForTimeout(1500);
    const idle0 = { cpu: b.cpuMs(), t: Date.now() };
    await b.page.waitForTimeout(4000);
    const idleCpuPerSec = (b.cpuMs() - idle0.cpu) / ((Date.now() - idle0.t) / 1000);
    server.pause(false);
    const result = await b.page.evaluate(({ from, since }) => {
      const h = window.__dhrishti!;
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      return {
        snapshot: h.timings().find((t) => t.kind === 'snapshot') ?? null,
        deltas: h.timings().slice(from).filter((t) => t.kind === 'delta'),
        longTasks: w.__longTasks.filter((t) => t.start >= since),
        edges: h.edgeIds().length,
        nodes: h.nodeIds().length,
        layoutRuns: h.layoutRuns(),
      };
    }, { from: firstDeltaIndex, since: readyAt });
    const d = result.deltas.slice(0, o.updates);
    const frame = d.map((t) => t.frameMs);
    const apply = d.map((t) => t.applyMs);
    const elems = d.map((t) => t.elements);
    const p95 = percentile(frame, 95);
    console.log(table(['per update (ms)', 'p50', 'p95', 'max'], [
      ['message to next frame', fixed(percentile(frame, 50), 1), fixed(p95, 1), fixed(Math.max(...frame), 1)],
      ['parse + apply (sync)', fixed(percentile(apply, 50), 1), fixed(percentile(apply, 95), 1), fixed(Math.max(...apply), 1)],
      ['elements changed', int(percentile(elems, 50)), int(percentile(elems, 95)), int(Math.max(...elems))],
    ]));
    if (result.snapshot) console.log(`snapshot: ${result.snapshot.elements} elements added in ${fixed(result.snapshot.applyMs, 0)} ms; the full layout runs after that (page ready after ${int(firstDrawMs)} ms, above)`);
    const got = Math.max(1, d.length);
    const cpuPerUpdate = (runCpu - idleCpuPerSec * runSecs) / got;
    console.log(`chromium CPU, all its processes: ${fixed(runCpu / runSecs / 10, 1)}% of a core while updating, ${fixed(idleCpuPerSec / 10, 1)}% with no updates (moving dots, frame loop): about ${fixed(cpuPerUpdate, 0)} ms per update`);
    console.log(`machine load average: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs (other work on the machine inflates the times above)`);
    const lt = result.longTasks.map((t) => t.duration);
    console.log(`long tasks (> 50 ms) while measuring: ${lt.length}${lt.length ? ` (max ${fixed(Math.max(...lt), 0)} ms)` : ''}`);
    console.log(`drawn at the end: ${result.nodes} nodes, ${result.edges} edges (server: ${server.graph.nodes.size} / ${server.graph.edges.size}); layout runs: ${result.layoutRuns}`);
    console.log(`target: p95 < ${UI_BENCH.targetP95Ms} ms per update: ${p95 < UI_BENCH.targetP95Ms ? 'met' : 'NOT met'}`);
    if (b.errors.length) console.log(`page errors: ${b.errors.join(' | ')}`);
    if (o.screenshots) {
      const files = await screenshots(b, server, o.screenshots);
      console.log(`screenshots: ${files.join(', ')}`);
    }
  } finally {
    await b?.close();
    await server.close();
  }
}

const program = new Command()
  .name('ui-render')
  .description('Web UI render benchmark against a synthetic API (or --serve it for development)')
  .option('--updates <n>', 'deltas to measure', positive('--updates', 10_000), UI_BENCH.updates)
  .option('--nodes <n>', 'synthetic nodes', positive('--nodes', 5000), UI_BENCH.nodes)
  .option('--edges <n>', 'synthetic edges', positive('--edges', 20_000), UI_BENCH.edges)
  .option('--interval-ms <n>', 'ms between deltas', positive('--interval-ms', 60_000), UI_BENCH.deltaIntervalMs)
  .option('--scenario <name>', "'bench' (nodes/edges as given) or 'demo' (a small shop)", (v: string) => {
    if (v !== 'bench' && v !== 'demo') throw new InvalidArgumentError(`--scenario must be bench or demo, got "${v}"`);
    return v;
  }, 'bench')
  .option('--serve', 'serve the synthetic API and the UI until stopped, instead of measuring', false)
  .option('--port <n>', 'port for --serve', positive('--port', 65535), 7979)
  .option('--token <t>', 'with --serve: require this token, like an agent bound to a non-loopback address')
  .option('--screenshots <dir>', 'after measuring, save screenshots there')
  .showHelpAfterError()
  .exitOverride();

try {
  program.parse(process.argv);
  const o = program.opts<Options>();
  if (o.serve) await serve(o); else await measure(o);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  console.error(`ui-render: ${(e as Error).message}`);
  process.exit(1);
}
