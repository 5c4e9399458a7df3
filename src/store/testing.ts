// The store's tests use the project's one set of fixtures (test/support/fixtures.ts).
export * from '../../test/support/fixtures.js';

import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';

/** A history file as a release of schema `version` left it (migrations 1..version, no later), open for the test to fill. */
export function databaseAtVersion(file: string, version: number): Database.Database {
  const db = new Database(file);
  for (let v = 0; v < version; v++) MIGRATIONS[v](db);
  db.pragma(`user_version = ${version}`); // a pragma takes no bound parameters; version is the test's own integer
  return db;
}

import { LiveGraph } from '../graph/live-graph.js';
import { HistoryStore } from './history-store.js';
import { parseRetention } from './retention.js';
import { nonzeroOf } from '../events/decode.js';
import type { L7Delta } from '../l7/types.js';
import type { ConnEvent } from '../events/types.js';
import { identity, connection, refused, web, db, cache } from '../../test/support/fixtures.js';

/** A connect the server's end answered with a reset (seen at the client). */
export const resetConnect = (t: number): ConnEvent[] => refused(web, db, t).map((e) => (e.failure ? { ...e, failure: 'reset', error: 'ECONNRESET' } : e));

/** n HTTP 500s, each ~700 µs, on a client socket. */
export function http500s(cookie: number, n: number): L7Delta {
  const status = [0, 0, 0, 0, 0, n, 0, 0], buckets = new Array(24).fill(0);
  buckets[9] = n;
  return { cookie, pid: 1, protocol: 'http1', role: 'client', roleInferred: false, tls: false, closed: false, requests: Uint32Array.from(status),
    buckets: Uint32Array.from(buckets), latencySumNs: n * 700e3, latencyMaxUs: 0, unpaired: 0, nonzero: nonzeroOf(status, buckets) };
}

/**
 * A history with failures the samples cannot all hold, written by a real store on `file` (left open for the caller):
 * bucket t0, web -> db 20 refused and 10 reset, then web -> cache 10 refused (one flush keeps 10 samples, all
 * web -> db's); bucket t0 + 10 s, 25 HTTP 500s on a web -> db connection, 3 of them sampled (GET /checkout), and
 * no failed connection.
 */
export function writeFailureScenario(file: string, t0: number, retention: string): HistoryStore {
  const S = 1000;
  const clock = { now: t0 };
  const graph = new LiveGraph(identity, { idleMs: 10 * 60 * S });
  const store = new HistoryStore({ file, tiers: parseRetention(retention), clock: () => clock.now, warn: (m) => { throw new Error(m); } });
  store.attach(graph);
  const ingest = (events: ConnEvent[], t: number) => { clock.now = t; graph.ingest(events, t); };
  const flush = (t: number) => { clock.now = t; graph.tick(t); store.flush(t); };
  for (let i = 0; i < 20; i++) ingest(refused(web, db, t0 + 1 * S + i), t0 + 1 * S + i);
  for (let i = 0; i < 10; i++) ingest(resetConnect(t0 + 2 * S + i), t0 + 2 * S + i);
  for (let i = 0; i < 10; i++) ingest(refused(web, cache, t0 + 3 * S + i), t0 + 3 * S + i);
  flush(t0 + 10 * S + 5);
  const c = connection(web, db, t0 + 11 * S);
  ingest(c.open, t0 + 11 * S);
  clock.now = t0 + 12 * S;
  graph.requests([http500s(c.cookies.client, 25)], t0 + 12 * S);
  graph.requestSamples([0, 1, 2].map((i) => ({
    time: t0 + 12 * S + i, cookie: c.cookies.client, pid: 5, comm: 'web', protocol: 'http1' as const, role: 'client' as const, status: 500,
    statusClass: '5xx' as const, latencyMs: 0.7, method: 'GET', target: '/checkout', tls: false, reasons: ['failed' as const],
  })), t0 + 12 * S);
  flush(t0 + 20 * S + 5);
  flush(t0 + 30 * S + 5);
  return store;
}
