// The database layout, versioned with PRAGMA user_version: each migration takes
// the file from version i to i+1 inside one transaction.
import type { Database } from 'better-sqlite3';
import type { FailureReason } from '../graph/types.js';
import { REQUEST_MAX_COLUMN, REQUESTS_SCHEMA } from './requests.js';

/**
 * Units: samples.t and samples.res in unix seconds; nodes/edges first_seen,
 * last_seen, samples.last_seen (schema 6) and events.t in unix ms; rtt in microseconds; dur_mean in tenths of
 * a millisecond (the live graph's precision). One samples row = one edge in one
 * bucket of one resolution. Rows stay small: nodes and edges are integers into
 * the dimension tables, failures by reason live in their own sparse table, and
 * the means carry no sample counts: they are weighted by `closed` (the live graph
 * takes one RTT and one duration sample per closing connection).
 */
const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  label TEXT NOT NULL,
  grp TEXT,
  image TEXT,
  labels TEXT,
  instances TEXT,
  ips TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE edges (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  source INTEGER NOT NULL,
  target INTEGER NOT NULL,
  port INTEGER NOT NULL,
  protocol TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX edges_source ON edges(source);
CREATE INDEX edges_target ON edges(target);
CREATE TABLE samples (
  res INTEGER NOT NULL,
  t INTEGER NOT NULL,
  edge INTEGER NOT NULL,
  opened INTEGER NOT NULL,
  closed INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  bytes_sent INTEGER NOT NULL,
  bytes_received INTEGER NOT NULL,
  retransmits INTEGER NOT NULL,
  active INTEGER NOT NULL,
  rtt_mean INTEGER NOT NULL,
  rtt_p95 INTEGER NOT NULL,
  dur_mean INTEGER NOT NULL,
  PRIMARY KEY (res, t, edge)
) WITHOUT ROWID;
CREATE TABLE failures (
  res INTEGER NOT NULL,
  t INTEGER NOT NULL,
  edge INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (res, t, edge, reason)
) WITHOUT ROWID;
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  t INTEGER NOT NULL,
  type TEXT NOT NULL,
  node INTEGER,
  edge INTEGER,
  detail TEXT
);
CREATE INDEX events_t ON events(t);
`;

/** failures.reason codes: fixed here, whatever order the graph lists reasons in. */
export const REASON_CODES: Record<FailureReason, number> = { refused: 1, timeout: 2, reset: 3, unreachable: 4, aborted: 5 };
export const REASON_BY_CODE = new Map(Object.entries(REASON_CODES).map(([r, c]) => [c, r as FailureReason]));

/**
 * A resolver edge (edges.protocol = 'dns') stores its queries in the same rows:
 * opened = queries sent, closed = answered, failed = failed queries, rtt_mean and
 * rtt_p95 = answer latency in microseconds (weighted by answered, like RTTs by
 * closed); its failures rows count failed queries by kind, with these codes.
 */
export const DNS_FAILURE_CODES = { nxdomain: 11, servfail: 12, refused: 13, timeouts: 14, otherErrors: 15 } as const;
export type DnsFailureKind = keyof typeof DNS_FAILURE_CODES;
export const DNS_FAILURE_BY_CODE = new Map(Object.entries(DNS_FAILURE_CODES).map(([k, c]) => [c as number, k as DnsFailureKind]));

/** V3: nodes.dns holds a node's DNS names (NodeDns as JSON), so a past map shows the names of its day. */
const V3_NODE_NAMES = 'ALTER TABLE nodes ADD COLUMN dns TEXT;';

/**
 * V6: samples.last_seen, the edge's last activity (its lastSeen on the live map when the row's interval
 * was drained; roll-ups keep the maximum), so a past map's lastSeen is exact, not its last bucket's end.
 * Rows from before read 0: their bucket's end stands in (queries.ts).
 */
export const SAMPLE_LAST_SEEN_COLUMN = 'last_seen';
const V6_SAMPLE_LAST_SEEN = `ALTER TABLE samples ADD COLUMN ${SAMPLE_LAST_SEEN_COLUMN} INTEGER NOT NULL DEFAULT 0;`;

/**
 * V7: node_versions, what a node was (image, instances, ips) from time t (ms, the write) until its next version,
 * so a past map names the containers and processes of its moment, not today's. nodes keeps the latest, as before.
 * Existing nodes get one version, their latest, from their first_seen: what they showed before.
 */
const V7_NODE_VERSIONS = `
CREATE TABLE node_versions (
  node INTEGER NOT NULL,
  t INTEGER NOT NULL,
  image TEXT,
  instances TEXT,
  ips TEXT,
  PRIMARY KEY (node, t)
) WITHOUT ROWID;
INSERT INTO node_versions (node, t, image, instances, ips) SELECT id, first_seen, image, instances, ips FROM nodes;
`;

/**
 * V8: edge_versions, the client instances that made an edge's connections (GraphEdge.clientInstances, a JSON list)
 * from time t (ms) until its next version, so a past map says which container or process of a service made a call.
 * Edges stored before it have none: a past map names no instances for their times.
 */
const V8_EDGE_VERSIONS = `
CREATE TABLE edge_versions (
  edge INTEGER NOT NULL,
  t INTEGER NOT NULL,
  clients TEXT NOT NULL,
  PRIMARY KEY (edge, t)
) WITHOUT ROWID;
`;

/** V9: nodes.vacant, an outside server's address that is a vacant one in a container network here (VacantAddress as JSON). */
const V9_NODE_VACANT = 'ALTER TABLE nodes ADD COLUMN vacant TEXT;';

/** MIGRATIONS[i] moves a database from version i to i+1. Append; never edit a released one. */
export const MIGRATIONS: ((db: Database) => void)[] = [
  (db) => db.exec(V1),
  // 2: requests (L7) per edge, protocol and bucket (requests.ts).
  (db) => db.exec(REQUESTS_SCHEMA),
  // 3: DNS names per node.
  (db) => db.exec(V3_NODE_NAMES),
  // 4: the agent's starts and stops found without a scan of all events (HistoryQueries.recordedMs).
  (db) => db.exec('CREATE INDEX events_type_t ON events(type, t);'),
  // 5: a bound on each row's slowest request (requests.ts REQUEST_MAX_COLUMN); older rows read 0, no bound.
  (db) => db.exec(`ALTER TABLE requests ADD COLUMN ${REQUEST_MAX_COLUMN} INTEGER NOT NULL DEFAULT 0;`),
  // 6: each row's last activity, exact (ms); older rows read 0, their bucket's end stands in.
  (db) => db.exec(V6_SAMPLE_LAST_SEEN),
  // 7: each node's image, instances and addresses over time.
  (db) => db.exec(V7_NODE_VERSIONS),
  // 8: the client instances of each edge over time.
  (db) => db.exec(V8_EDGE_VERSIONS),
  // 9: whether an outside server's address is a vacant container address, and who held it last.
  (db) => db.exec(V9_NODE_VACANT),
  // 10: an edge's events found by seeking it, not by scanning a range's events of every edge (a past edge detail).
  (db) => db.exec('CREATE INDEX events_edge_t ON events(edge, t);'),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new Error(`the history database has schema version ${from}, newer than this Dhrishti knows (${SCHEMA_VERSION}); use a newer Dhrishti or another --data-dir`);
  }
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      MIGRATIONS[v](db);
      db.pragma(`user_version = ${v + 1}`); // a pragma takes no bound parameters; v is our own integer
    })();
  }
  return { from, to: SCHEMA_VERSION };
}
