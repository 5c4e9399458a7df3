// A service calling its own replicas draws a loop: in a real browser, the loop's label must stand clear of its node
// (Cytoscape's default loop hugs the node and put the label on it). The demo scenario of the render benchmark's
// synthetic API stands in for an agent: the drawing, not the data, is under test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../src/config/defaults.js';
import { startUiServer, type UiServer } from '../bench/lib/ui-server.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';

let server: UiServer;
let b: BrowserSession;
let loopId = '';
let nodeId = '';

before(async () => {
  server = await startUiServer({ uiDir: path.join(REPO_ROOT, 'src', 'ui', 'dist'), scenario: 'demo', nodes: 0, edges: 0, changedEdgeShare: 0, deltaIntervalMs: 500 });
  const g = server.graph;
  const svc = [...g.nodes.values()].find((n) => n.kind === 'service')!;
  const any = [...g.edges.values()].find((e) => e.protocol === 'tcp')!;
  nodeId = svc.id;
  loopId = `${svc.id}|${svc.id}|7000|tcp`;
  g.edges.set(loopId, { ...structuredClone(any), id: loopId, source: svc.id, target: svc.id, port: 7000 });
  server.pause(true);
  b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  await b.openUi(server.url);
});

after(async () => {
  await b?.close();
  await server?.close();
});

test('a self-loop and its label are drawn clear of the node they leave and enter', async () => {
  await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(loopId)})`, 10000, 'the loop drawn');
  for (let i = 0; i < 2; i++) await b.page.getByTestId('zoom-in').click(); // labels show when near enough
  await new Promise((r) => setTimeout(r, 800));
  const boxes = await b.page.evaluate(([edge, node]) => {
    const cy = window.__dhrishti!.cy as import('cytoscape').Core;
    const e = cy.getElementById(edge), n = cy.getElementById(node);
    return {
      label: e.renderedBoundingBox({ includeEdges: false, includeLabels: true, includeMainLabels: true, includeSourceLabels: false, includeTargetLabels: false, includeOverlays: false, includeUnderlays: false }),
      node: n.renderedBoundingBox({ includeLabels: false, includeOverlays: false, includeUnderlays: false }),
      text: e.data('label') as string,
    };
  }, [loopId, nodeId]);
  assert.ok(boxes.text && boxes.label.w > 0, `the loop has a label: ${JSON.stringify(boxes)}`);
  const apart = boxes.label.y2 <= boxes.node.y1 || boxes.label.y1 >= boxes.node.y2 || boxes.label.x2 <= boxes.node.x1 || boxes.label.x1 >= boxes.node.x2;
  assert.ok(apart, `the loop's label ${JSON.stringify(boxes.label)} overlaps its node ${JSON.stringify(boxes.node)}`);
});
