// A big map seen from afar, in a real browser: its edges are drawn as overview lines on their own
// canvas (graph/overview.ts), not by Cytoscape, and still behave as edges: shown, filtered, tapped.
// A map of 200 nodes and 1,000 edges cannot be made from real containers in a test's time, so the
// data comes from the render benchmark's synthetic API (same endpoints and shapes as the agent's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../src/config/defaults.js';
import { UI_BENCH } from '../bench/lib/constants.js';
import { startUiServer, type UiServer } from '../bench/lib/ui-server.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';

let server: UiServer;
let b: BrowserSession;

before(async () => {
  server = await startUiServer({
    uiDir: path.join(REPO_ROOT, 'src', 'ui', 'dist'), scenario: 'bench', nodes: UI_BENCH.nodes, edges: UI_BENCH.edges,
    changedEdgeShare: UI_BENCH.changedEdgeShare, deltaIntervalMs: UI_BENCH.deltaIntervalMs,
  });
  b = await launchBrowser({ viewport: UI_BENCH.viewport });
  await b.openUi(server.url, 60_000);
});

after(async () => {
  await b?.close();
  await server?.close();
});

/** An overview edge whose middle is clear of nodes and of other lines, in the page's pixels. */
async function clearMiddle(): Promise<{ id: string; x: number; y: number; colour: number[] } | null> {
  return b.page.evaluate(async () => {
    // the canvas as of the current state: a delta just applied is drawn at the next frame
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const h = window.__dhrishti!;
    const cy = h.cy as import('cytoscape').Core;
    const box = (document.querySelector('[data-testid=map-canvas]') as HTMLElement).getBoundingClientRect();
    const zoom = cy.zoom(), pan = cy.pan();
    const screen = (p: { x: number; y: number }) => ({ x: p.x * zoom + pan.x, y: p.y * zoom + pan.y });
    const nodes = cy.nodes().not('.group').map((n) => screen((n as import('cytoscape').NodeSingular).position()));
    const lines = h.overviewEdgeIds().map((id) => {
      const e = cy.getElementById(id);
      const edge = e as import('cytoscape').EdgeSingular;
      return { id, s: screen(edge.source().position()), t: screen(edge.target().position()) };
    });
    const dist = (px: number, py: number, l: (typeof lines)[number]) => {
      const dx = l.t.x - l.s.x, dy = l.t.y - l.s.y, len2 = dx * dx + dy * dy || 1;
      const u = Math.max(0, Math.min(1, ((px - l.s.x) * dx + (py - l.s.y) * dy) / len2));
      return Math.hypot(px - (l.s.x + u * dx), py - (l.s.y + u * dy));
    };
    const ctx = (document.querySelector('[data-testid=overview-layer]') as HTMLCanvasElement).getContext('2d')!;
    const dpr = window.devicePixelRatio || 1;
    for (const l of lines) {
      const x = (l.s.x + l.t.x) / 2, y = (l.s.y + l.t.y) / 2;
      if (x < 20 || y < 20 || x > box.width - 20 || y > box.height - 20) continue;
      if (nodes.some((n) => Math.hypot(n.x - x, n.y - y) < 25)) continue;
      if (lines.some((o) => o !== l && dist(x, y, o) < 10)) continue;
      // The most painted pixel within 6 px of the middle (no other line is within 10 px): a thin line far
      // out is anti-aliased over a pixel or two, and a dashed one may have a gap right at its middle.
      const r = Math.round(6 * dpr);
      const area = ctx.getImageData(Math.round(x * dpr) - r, Math.round(y * dpr) - r, 2 * r + 1, 2 * r + 1).data;
      let best = 0;
      for (let i = 3; i < area.length; i += 4) if (area[i] > area[best + 3]) best = i - 3;
      return { id: l.id, x: box.left + x, y: box.top + y, colour: [...area.slice(best, best + 4)] };
    }
    return null;
  });
}

test('zoomed out, a big map draws its edges as overview lines, and a tap on one opens it', async () => {
  const start = await b.page.evaluate(() => ({ detail: window.__dhrishti!.detail(), zoom: window.__dhrishti!.viewport().zoom }));
  assert.ok(start.zoom < 0.45, `the whole map fits far out (zoom ${start.zoom})`);
  assert.equal(start.detail.overview, true, 'overview lines at this zoom');
  assert.equal(start.detail.arrows, false);

  const drawn = await b.page.evaluate(async () => {
    // read in the frame after the last draw: a delta applied since (one every few hundred ms) is drawn at the next frame
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const h = window.__dhrishti!;
    const cy = h.cy as import('cytoscape').Core;
    return { lines: h.overviewEdgeIds().length, edges: h.edgeIds().length, shown: h.visibleEdgeIds().length, byCytoscape: cy.edges().filter((e) => e.visible()).length };
  });
  assert.ok(drawn.lines > 0.95 * drawn.edges, `nearly every edge is an overview line (${drawn.lines} of ${drawn.edges})`);
  assert.equal(drawn.shown, drawn.edges, 'every edge still counts as shown');
  assert.ok(drawn.byCytoscape < 0.05 * drawn.edges, `Cytoscape itself draws only loops then (${drawn.byCytoscape})`);

  const mid = await clearMiddle();
  assert.ok(mid, 'some edge has a middle clear of nodes and other edges');
  assert.ok(mid.colour[3] > 0, `the line is painted on the overview canvas around its middle (rgba ${mid.colour})`);

  await b.page.mouse.click(mid.x, mid.y);
  await b.waitFor(`document.querySelector('[data-testid=edge-panel]')?.dataset.edgeId === ${JSON.stringify(mid.id)}`, 5000, 'the tapped overview line opens its edge');
  const picked = await b.page.evaluate((id) => {
    const h = window.__dhrishti!;
    const e = (h.cy as import('cytoscape').Core).getElementById(id);
    return { byCytoscape: e.visible(), line: h.overviewEdgeIds().includes(id) };
  }, mid.id);
  assert.equal(picked.byCytoscape, true, 'the picked edge is drawn by Cytoscape (curved, with its arrow)');
  assert.equal(picked.line, false, 'and not also as a line');
  await b.page.keyboard.press('Escape');
  assert.deepEqual(b.errors, [], 'no console errors');
});

test('filters hide overview lines; zooming in hands the edges back to Cytoscape', async () => {
  const group = await b.page.evaluate(() => {
    const cy = window.__dhrishti!.cy as import('cytoscape').Core;
    return cy.nodes('.group').first().id().slice('group::'.length);
  });
  await b.page.getByTestId('filter-group').selectOption(group);
  // choosing a project may frame it: look from afar again
  await b.page.waitForTimeout(800);
  await b.waitFor(() => !window.__dhrishti!.framing(), 5000, 'the framing to end');
  await b.page.evaluate(() => { const cy = window.__dhrishti!.cy as import('cytoscape').Core; cy.zoom({ level: 0.3, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } }); });
  await b.waitFor(() => {
    const h = window.__dhrishti!;
    const cy = h.cy as import('cytoscape').Core;
    const lines = h.overviewEdgeIds();
    return h.detail().overview && lines.length > 0 && lines.length < h.edgeIds().length / 2 && lines.every((id) => !cy.getElementById(id).hasClass('hidden'));
  }, 5000, 'only the chosen project\'s edges drawn as lines');
  await b.page.getByTestId('filter-group').selectOption('');
  await b.waitFor(() => window.__dhrishti!.overviewEdgeIds().length > 0.95 * window.__dhrishti!.edgeIds().length, 5000, 'all lines back');

  // choosing a project frames the map 250 ms later, animated: a zoom before that ends would be undone
  await b.waitFor(() => !window.__dhrishti!.framing(), 5000, 'the framing to end');
  await b.page.evaluate(() => { const cy = window.__dhrishti!.cy as import('cytoscape').Core; cy.zoom({ level: 1, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } }); });
  await b.waitFor(() => window.__dhrishti!.detail().overview === false && window.__dhrishti!.overviewEdgeIds().length === 0, 5000, 'no overview close up');
  const close = await b.page.evaluate(() => {
    const h = window.__dhrishti!;
    const cy = h.cy as import('cytoscape').Core;
    const layer = document.querySelector('[data-testid=overview-layer]') as HTMLCanvasElement;
    return { byCytoscape: cy.edges().filter((e) => e.visible()).length, edges: h.edgeIds().length, layer: getComputedStyle(layer).display, arrows: h.detail().arrows };
  });
  assert.equal(close.byCytoscape, close.edges, 'Cytoscape draws every edge again');
  assert.equal(close.layer, 'none', 'the overview canvas is out of the way');
  assert.equal(close.arrows, true);
  assert.deepEqual(b.errors, [], 'no console errors');
});
