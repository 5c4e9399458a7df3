// The timeline's counts (HistoryQueries.timeline): exact failed connections and failed requests per bucket,
// whatever the per-flush cap on failure samples left in the events table. A real SQLite file, a real
// LiveGraph fed synthetic events, a fake clock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LiveGraph } from '../graph/live-graph.js';
import { HistoryStore } from './history-store.js';
import { parseRetention } from './retention.js';
import { nonzeroOf } from '../events/decode.js';
import type { L7Delta } from '../l7/types.js';
import type { ConnEvent } from '../events/types.js';
import { identity, connection, refused, web, db, cache, WEB_DB, WEB_CACHE } from './testing.js';

const S = 1000, M = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-timeline-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A connect the server's end answered with a reset (seen at the client). */
const reset = (t: number): ConnEvent[] => refused(web, db, t).map((e) => (e.failure ? { ...e, failure: 'reset', error: 'ECONNRESET' } : e));

function http500s(cookie: number, n: number): L7Delta {
  const status = [0, 0, 0, 0, 0, n, 0, 0], buckets = new Array(24).fill(0);
  buckets[9] = n;
  return { cookie, pid: 1, protocol: 'http1', role: 'client', roleInferred: false, tls: false, closed: false, requests: Uint32Array.from(status),
    buckets: Uint32Array.from(buckets), latencySumNs: n * 700e3, latencyMaxUs: 0, unpaired: 0, nonzero: nonzeroOf(status, buckets) };
}

test('the timeline counts every failed connection and failed request per bucket, not the failure samples kept', () => {
  const clock = { now: T0 };
  const graph = new LiveGraph(identity, { idleMs: 10 * M });
  const store = new HistoryStore({ file: path.join(dir, 'history.db'), tiers: parseRetention('10s:1h,1m:1d'), clock: () => clock.now, warn: (m) => assert.fail(m) });
  store.attach(graph);
  const ingest = (events: ConnEvent[], t: number) => { clock.now = t; graph.ingest(events, t); };
  const flush = (t: number) => { clock.now = t; graph.tick(t); store.flush(t); };

  // Bucket 1: web -> db 20 refused and 10 reset, then web -> cache 10 refused; one flush keeps 10 samples, all web -> db's.
  for (let i = 0; i < 20; i++) ingest(refused(web, db, T0 + 1 * S + i), T0 + 1 * S + i);
  for (let i = 0; i < 10; i++) ingest(reset(T0 + 2 * S + i), T0 + 2 * S + i);
  for (let i = 0; i < 10; i++) ingest(refused(web, cache, T0 + 3 * S + i), T0 + 3 * S + i);
  flush(T0 + 10 * S + 5);
  // Bucket 2: 25 HTTP 500s on a web -> db connection, no failed connection.
  const c = connection(web, db, T0 + 11 * S);
  ingest(c.open, T0 + 11 * S);
  clock.now = T0 + 12 * S;
  graph.requests([http500s(c.cookies.client, 25)], T0 + 12 * S);
  flush(T0 + 20 * S + 5);
  flush(T0 + 30 * S + 5);

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
  store.close();
});
