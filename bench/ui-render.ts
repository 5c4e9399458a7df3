// Web UI render benchmark: the built UI in headless chromium, fed by a synthetic API
// (a delta every 500 ms changing ~5% of the edges and now and then adding or removing one).
// Measures, in the page, how long each update takes from the WebSocket message to the frame
// after it (parse + apply + Cytoscape draw), and how long the first drawing takes in a browser
// that has finished its own start-up. Cases:
// 200 nodes / 1000 edges; 1000 / 5000 as a user gets it (projects folded); the same with
// every project unfolded; and that drawn by the WebGL renderer (here: SwiftShader, on the CPU).
//
//   node dist/bench/ui-render.js                 measure every case and print p50/p95/max
//   node dist/bench/ui-render.js --nodes 500 --edges 2500   one case of that size
//   node dist/bench/ui-render.js --serve         keep serving the synthetic API + UI for development
//   node dist/bench/ui-render.js --screenshots /tmp   also save screenshots of the map and panels
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../src/config/defaults.js';
import { UI_BENCH } from './lib/constants.js';
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
  webgl: boolean;
  uiDir: string;
  cases?: string;
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
  const server = await startUiServer({ uiDir: o.uiDir, scenario: o.scenario, nodes: o.nodes, edges: o.edges, changedEdgeShare: UI_BENCH.changedEdgeShare, deltaIntervalMs: o.intervalMs, port: o.port, token: o.token });
  console.log(`synthetic Dhrishti API + UI on ${server.url}${o.token ? `?token=${o.token}` : ''} (${server.graph.nodes.size} nodes, ${server.graph.edges.size} edges; Ctrl-C stops)`);
  const stop = async () => { await server.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}

async function screenshots(b: BrowserSession, server: UiServer, dir: string, c: Case): Promise<string[]> {
  const page = b.page;
  const files: string[] = [];
  const slug = `${c.nodes}x${c.edges}${c.unfoldAll ? '-unfolded' : ''}${c.query?.includes('webgl') ? '-webgl' : ''}`;
  const shot = async (name: string) => { const f = path.join(dir, `dhrishti-${slug}-${name}.png`); await page.screenshot({ path: f }); files.push(f); };
  await page.waitForTimeout(600);
  await shot('map');
  const folded = await page.evaluate(() => window.__dhrishti!.folded());
  if (folded.length) {
    // open the first project, as a tap on it would; the view frames it
    const runs = await page.evaluate(() => window.__dhrishti!.layoutRuns());
    const group = folded.find((g) => !g.startsWith('*')) ?? folded[0];
    await page.evaluate((g) => window.__dhrishti!.unfold(g), group);
    await b.waitFor(`window.__dhrishti.layoutRuns() > ${runs}`, 60_000, 'the unfolded project laid out');
    await page.waitForTimeout(1200);
    await shot(`unfolded-${group}`);
  }
  // closer: the busiest node (not a folded box) at 1.5x, to check labels, arrows and dots
  await page.evaluate(() => {
    const cy = window.__dhrishti!.cy as { nodes(): { not(s: string): { sort(f: (a: { degree(): number }, b: { degree(): number }) => number): { [i: number]: unknown } } }; zoom(o: unknown): void; center(e: unknown): void };
    const busiest = cy.nodes().not('.group, .folded').sort((a, b) => b.degree() - a.degree())[0];
    cy.zoom({ level: 1.5 } as unknown);
    cy.center(busiest);
  });
  await page.waitForTimeout(800);
  await shot('zoomed');
  await page.getByTestId('zoom-fit').click();
  if (c.nodes !== UI_BENCH.nodes) return files;
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

/** One measured case: a map size, and how it is shown. */
interface Case {
  /** Short name for --cases. */
  key: string;
  name: string;
  nodes: number;
  edges: number;
  /** Added to the page URL (e.g. forcing a renderer). */
  query?: string;
  /** Unfold every project after the first drawing and measure with all 1000 nodes drawn. */
  unfoldAll?: boolean;
  /** Extra chromium flags. */
  args?: string[];
  targetP95Ms: number;
  targetFirstDrawMs?: number;
}

interface CaseResult {
  c: Case;
  firstDrawMs: number;
  /** How long the browser took to go quiet after its launch, before the page was opened. */
  settledMs: number;
  layout: { ms: number; where: string; nodes: number } | null;
  unfoldMs: number | null;
  renderer: string;
  drawnNodes: number;
  drawnEdges: number;
  p50: number; p95: number; max: number;
  applyP95: number;
  elements: number;
  cpuPerUpdate: number;
  busyCpuPct: number;
  idleCpuPct: number;
  longTasks: number;
  longMax: number;
  errors: string[];
}

/** The standard cases: the issue's two sizes as users get them, then the big map unfolded, and on WebGL. */
function standardCases(o: Options): Case[] {
  return [
    { key: 'small', name: `${UI_BENCH.nodes}/${UI_BENCH.edges}`, nodes: UI_BENCH.nodes, edges: UI_BENCH.edges, targetP95Ms: UI_BENCH.targetP95Ms },
    { key: 'large', name: `${LARGE.nodes}/${LARGE.edges} (folded: the default)`, nodes: LARGE.nodes, edges: LARGE.edges, targetP95Ms: LARGE.targetP95Ms, targetFirstDrawMs: LARGE.targetFirstDrawMs },
    { key: 'unfolded', name: `${LARGE.nodes}/${LARGE.edges} all unfolded`, nodes: LARGE.nodes, edges: LARGE.edges, unfoldAll: true, targetP95Ms: LARGE.targetP95Ms },
    ...(o.webgl ? [{ key: 'webgl', name: `${LARGE.nodes}/${LARGE.edges} unfolded, WebGL`, nodes: LARGE.nodes, edges: LARGE.edges, unfoldAll: true, query: '?renderer=webgl', args: ['--enable-unsafe-swiftshader'], targetP95Ms: LARGE.targetP95Ms }] : []),
  ].filter((c) => !o.cases || o.cases.split(',').includes(c.key));
}

/** The big map of the issue: 1,000 nodes, 5,000 edges, "usable": a delta's frame and the first drawing. */
const LARGE = { nodes: 1000, edges: 5000, targetP95Ms: 100, targetFirstDrawMs: 3000 } as const;

/**
 * Chromium's own start-up (renderers for its built-in pages, their scripts compiled on worker threads)
 * runs for 2-3 s after launch. Measured at once, it took 1.5 s of the large map's first drawing on 2
 * cores (3.5-3.8 s, against 2.0-2.2 s 3 s later). A user opens the map in a browser that is already
 * running, so each case first waits until chromium is quiet: at most `quietCpuMs` over `windowMs`.
 */
const SETTLE = { windowMs: 500, quietCpuMs: 30, maxMs: 15_000 } as const;

/** Waits until the browser's processes are quiet (or SETTLE.maxMs passed); returns how long that took. */
async function settle(b: BrowserSession): Promise<number> {
  const t0 = Date.now();
  let cpu = b.cpuMs();
  while (Date.now() - t0 < SETTLE.maxMs) {
    await b.page.waitForTimeout(SETTLE.windowMs);
    const now = b.cpuMs();
    if (now - cpu <= SETTLE.quietCpuMs) break;
    cpu = now;
  }
  return Date.now() - t0;
}

async function measureCase(c: Case, o: Options): Promise<CaseResult> {
  const server = await startUiServer({ uiDir: o.uiDir, scenario: o.scenario, nodes: c.nodes, edges: c.edges, changedEdgeShare: UI_BENCH.changedEdgeShare, deltaIntervalMs: o.intervalMs });
  let b: BrowserSession | null = null;
  try {
    b = await launchBrowser({ viewport: UI_BENCH.viewport, args: c.args });
    await b.page.addInitScript(() => {
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      w.__longTasks = [];
      try {
        new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration }); })
          .observe({ type: 'longtask', buffered: true });
      } catch { /* long task timing unsupported */ }
    });
    const settledMs = await settle(b);
    const t0 = Date.now();
    await b.openUi(server.url + (c.query ?? ''), 120_000);
    const firstDrawMs = Date.now() - t0;
    let unfoldMs: number | null = null;
    if (c.unfoldAll) {
      const u0 = Date.now();
      await b.page.evaluate(() => { (document.querySelector('[data-testid=unfold-all]') as HTMLButtonElement | null)?.click(); });
      await b.waitFor(() => (window.__dhrishti!.lastLayout()?.nodes ?? 0) > 100 && window.__dhrishti!.folded().length === 0, 180_000, 'the unfolded map laid out');
      unfoldMs = Date.now() - u0;
    }
    await b.page.waitForTimeout(3000); // let the drawing settle (Cytoscape builds its caches lazily)
    const readyAt = await b.page.evaluate(() => performance.now());
    const firstDeltaIndex = await b.page.evaluate(() => window.__dhrishti!.timings().length);
    const run0 = { cpu: b.cpuMs(), t: Date.now() };
    await b.waitFor(
      `window.__dhrishti.timings().slice(${firstDeltaIndex}).filter((t) => t.kind === 'delta').length >= ${o.updates}`,
      o.updates * o.intervalMs * 4 + 30_000,
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
    const r = await b.page.evaluate(({ from, since }) => {
      const h = window.__dhrishti!;
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      return {
        deltas: h.timings().slice(from).filter((t) => t.kind === 'delta'),
        longTasks: w.__longTasks.filter((t) => t.start >= since),
        drawnNodes: (h.cy as { nodes(): unknown[] }).nodes().length,
        drawnEdges: (h.cy as { edges(): unknown[] }).edges().length,
        // (optional: an older build given with --ui-dir has neither)
        layout: h.firstLayout?.() ?? null,
        renderer: h.renderer?.() ?? 'canvas',
      };
    }, { from: firstDeltaIndex, since: readyAt });
    const d = r.deltas.slice(0, o.updates);
    const frame = d.map((t) => t.frameMs);
    const lt = r.longTasks.map((t) => t.duration);
    const out: CaseResult = {
      c, firstDrawMs, settledMs, unfoldMs, layout: r.layout, renderer: r.renderer, drawnNodes: r.drawnNodes, drawnEdges: r.drawnEdges,
      p50: percentile(frame, 50), p95: percentile(frame, 95), max: Math.max(...frame),
      applyP95: percentile(d.map((t) => t.applyMs), 95),
      elements: percentile(d.map((t) => t.elements), 50),
      cpuPerUpdate: (runCpu - idleCpuPerSec * runSecs) / Math.max(1, d.length),
      busyCpuPct: runCpu / runSecs / 10,
      idleCpuPct: idleCpuPerSec / 10,
      longTasks: lt.length, longMax: lt.length ? Math.max(...lt) : 0,
      errors: [...b.errors],
    };
    if (o.screenshots) {
      const files = await screenshots(b, server, o.screenshots, c);
      console.log(`screenshots (${c.name}): ${files.join(', ')}`);
    }
    return out;
  } finally {
    await b?.close();
    await server.close();
  }
}

async function measure(o: Options): Promise<void> {
  const single = o.nodes !== UI_BENCH.nodes || o.edges !== UI_BENCH.edges;
  const cases = single ? [{ key: 'custom', name: `${o.nodes}/${o.edges}`, nodes: o.nodes, edges: o.edges, targetP95Ms: o.nodes > UI_BENCH.nodes ? LARGE.targetP95Ms : UI_BENCH.targetP95Ms }] : standardCases(o);
  console.log(`== Web UI render: synthetic API, a delta every ${o.intervalMs} ms changing ${fixed(UI_BENCH.changedEdgeShare * 100, 0)}% of the edges; ${o.updates} deltas measured per case ==`);
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await measureCase(c, o);
    results.push(r);
    const lay = r.layout ? `${int(r.layout.ms)} ms (${r.layout.where}, ${r.layout.nodes} drawn nodes)` : '-';
    console.log(`\n-- ${c.name}: ${r.renderer} renderer; drawn ${r.drawnNodes} nodes, ${r.drawnEdges} edges; first drawing ${int(r.firstDrawMs)} ms (page load, snapshot, layout ${lay}; opened once chromium was quiet, ${int(r.settledMs)} ms after its launch)${r.unfoldMs !== null ? `; unfolding all and laying out ${int(r.unfoldMs)} ms` : ''}`);
    console.log(table(['per update (ms)', 'p50', 'p95', 'max'], [
      ['message to next frame', fixed(r.p50, 1), fixed(r.p95, 1), fixed(r.max, 1)],
    ]));
    console.log(`parse + apply (sync) p95 ${fixed(r.applyP95, 1)} ms; model elements changed per update ${int(r.elements)}; chromium CPU ${fixed(r.busyCpuPct, 1)}% of a core while updating (about ${fixed(r.cpuPerUpdate, 0)} ms per update), ${fixed(r.idleCpuPct, 1)}% with no updates; long tasks (> 50 ms) ${r.longTasks}${r.longTasks ? ` (max ${fixed(r.longMax, 0)} ms)` : ''}`);
    if (r.errors.length) console.log(`page errors: ${r.errors.join(' | ')}`);
  }
  console.log(`\n== Summary (machine load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs: other work inflates every figure) ==`);
  console.log(table(['case', 'renderer', 'first draw ms', 'p50 ms', 'p95 ms', 'target p95', 'met'], results.map((r) => [
    r.c.name, r.renderer, int(r.firstDrawMs) + (r.c.targetFirstDrawMs ? ` (< ${int(r.c.targetFirstDrawMs)})` : ''),
    fixed(r.p50, 1), fixed(r.p95, 1), `< ${r.c.targetP95Ms}`,
    r.p95 < r.c.targetP95Ms && (!r.c.targetFirstDrawMs || r.firstDrawMs < r.c.targetFirstDrawMs) ? 'yes' : 'NO',
  ])));
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
  .option('--cases <list>', 'only these cases: small, large, unfolded, webgl (comma-separated)')
  .option('--ui-dir <dir>', 'the built UI to measure (e.g. another build, for a comparison)', UI_DIR)
  .option('--no-webgl', 'leave out the case drawn with the WebGL renderer (software WebGL here: slow)')
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
