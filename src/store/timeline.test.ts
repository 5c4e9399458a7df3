// The timeline's counts (HistoryQueries.timeline): exact failed connections and failed requests per bucket,
// whatever the per-flush cap on failure samples left in the events table. A real SQLite file, a real
// LiveGraph fed synthetic events, a fake clock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WEB_DB, WEB_CACHE, writeFailureScenario } from './testing.js';

const S = 1000, M = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-timeline-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the timeline counts every failed connection and failed request per bucket, not the failure samples kept', () => {
  // Bucket 1: 40 failed connections, 10 samples kept (all web -> db's); bucket 2: 25 HTTP 500s.
  const store = writeFailureScenario(path.join(dir, 'history.db'), T0, '10s:1h,1m:1d');

  const q = store.queries;
  const samples = q.events({ from: T0, to: T0 + M, limit: 100, types: ['failure'] })!.events;
  assert.equal(samples.length, 10, 'the cap per flush: 10 samples of the 40');
  assert.ok(samples.every((e) => e.edge === WEB_DB), 'web -> cache kept no sample');
  const range = q.graphRange(T0, T0 + 10 * S);
  assert.equal(range.edges.find((e) => e.id === WEB_CACHE)!.connections.failed, 10);

  const timeline = q.timeline(q.seriesGrid(T0, T0 + M, 10 * S, 1000));
  assert.deepEqual(timeline, [
    { t: T0, failures: 40, failedBy: { refused: 30, reset: 10 }, requestErrors: 0 },
    { t: T0 + 10 * S, failures: 0, failedBy: {}, requestErrors: 25 },
  ]);
  // The same counts as the edges' series (what /api/v1/timeseries gives).
  const series = (edge: string, metric: 'failures' | 'request_errors') =>
    q.timeseries(q.seriesEdges({ edge })!, metric, q.seriesGrid(T0, T0 + M, 10 * S, 1000)).points.slice(0, 2).map((p) => p.v);
  assert.deepEqual(series(WEB_DB, 'failures').map((v, i) => v! + series(WEB_CACHE, 'failures')[i]!), [40, 0]);
  assert.deepEqual(series(WEB_DB, 'request_errors'), [0, 25]);
  // A coarser grid sums the buckets it covers.
  assert.deepEqual(q.timeline({ tier: 0, step: M, from: T0, to: T0 + M }), [{ t: T0, failures: 40, failedBy: { refused: 30, reset: 10 }, requestErrors: 25 }]);
  // A project's timeline: its edges' (every edge here has an end in shop), and another project's: none of them.
  assert.deepEqual(q.timeline(q.seriesGrid(T0, T0 + M, 10 * S, 1000), 'shop'), timeline);
  assert.deepEqual(q.timeline(q.seriesGrid(T0, T0 + M, 10 * S, 1000), 'billing'), []);
  // and its events: a project's nodes' and edges' (every one here), and the agent's own, which concern every project
  // (events of no node or edge, the agent's runs and its count of unsampled failures, concern every project)
  const events = (group?: string) => q.events({ from: T0, to: T0 + M, limit: 100, group })!.events;
  assert.deepEqual(events('shop'), events());
  assert.deepEqual(events('billing'), events().filter((e) => !e.node && !e.edge));
  assert.ok(events().some((e) => e.edge) && events('billing').length > 0);
  store.close();
});
