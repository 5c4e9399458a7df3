// Node descriptors and their versions (unit, on a real SQLite file at the current schema).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dimensions, type NodeDesc } from './dimensions.js';
import { SCHEMA_VERSION } from './schema.js';
import { databaseAtVersion } from './testing.js';
import Database from 'better-sqlite3';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-dims-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const curl = (pid: number, command = 'curl -s http://127.0.0.1:18081/'): NodeDesc => ({
  id: 'proc:curl', kind: 'process', label: 'curl', group: 'host', ips: [],
  instances: [{ id: `pid:${pid}`, name: 'curl', pids: [pid], ips: [], command }],
});

test('a host program run again and again under new pids is one version; a different command is a new one', () => {
  const db = databaseAtVersion(path.join(dir, 'h.db'), SCHEMA_VERSION);
  const dims = new Dimensions(db);
  const versions = () => (db.prepare('SELECT count(*) AS n FROM node_versions').get() as { n: number }).n;
  for (let i = 0; i < 50; i++) dims.node(curl(1000 + i), 10_000 * (i + 1)); // review F: a loop's curl, a new pid each 10 s
  assert.equal(versions(), 1, 'one program, not 50 versions');
  dims.node(curl(2000, 'curl -s http://127.0.0.1:18082/'), 600_000);
  assert.equal(versions(), 2, 'another command is another version');
  db.close();
});

test('an outside server\'s vacant address is stored with its node and read back after a reopen', () => {
  const file = path.join(dir, 'v.db');
  let db = databaseAtVersion(file, SCHEMA_VERSION);
  const vacant = { network: 'tenant-a_default', lastHolder: 'db-old', lastHeldUntil: 1234, group: 'tenant-a' };
  const ref = new Dimensions(db).node({ id: 'ext:172.18.0.9', kind: 'external', label: '172.18.0.9', group: null, ips: ['172.18.0.9'], instances: [], vacant }, 10_000);
  db.close();
  db = new Database(file);
  assert.deepEqual(new Dimensions(db).nodesByRef([ref]).get(ref)!.vacant, vacant);
  db.close();
});
