// Both ends of a connection on this host (src/kernel/l7/peer.c): the kernel
// parses the client's socket and leaves the server's, whose count user space
// would drop anyway. Real Node and MariaDB servers and clients; a Python client
// that sends with sendfile(2) stands for a client whose socket cannot see its
// requests, whose server must go on parsing. The product's edges stay exact
// with this on: test/l7-http.test.ts and test/l7-db.test.ts assert them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { node, start, stopAll } from './support/children.js';
import { L7Log, byClass } from './support/l7.js';
import { HTTP_SERVER, HTTP_CLIENT, SENDFILE_CLIENT, H2C_SERVER, H2C_CLIENT } from './support/l7-scripts.js';
import { startMariadb, startPostgres, startRedis, type DbServer } from './support/db.js';

let log: L7Log;
const servers: DbServer[] = [];
// A tiny l7_skip LRU: a verdict kept there would be forgotten at once among many sockets (see the last test).
before(() => { log = new L7Log({ tls: false, bothEnds: false, skipEntries: 4 }).start(); });
after(async () => {
  await stopAll();
  for (const s of servers) await s.stop();
  log?.stop();
});

const leftToClient = () => log.engine.l7!.tallies().leftToClient;

async function httpServer(): Promise<number> {
  const s = node(HTTP_SERVER);
  return Number((await s.waitFor(/^port (\d+)/))[1]);
}

test('HTTP keep-alive, both ends here: the client counts every request, the server socket stops at its first request at the latest', async () => {
  const left = leftToClient();
  const port = await httpServer();
  for (let i = 0; i < 3; i++) { // three connections, one after the other
    const c = node(HTTP_CLIENT, [String(port), JSON.stringify([['GET', '/ok', 20], ['GET', '/404', 4], ['GET', '/500', 2]])]);
    await c.waitFor(/^done/, 30_000);
  }
  const client = await log.settle(port, 'client', 78);
  assert.deepEqual(byClass(client), { '2xx': 60, '4xx': 12, '5xx': 6 });
  assert.equal(client.unpaired, 0);
  assert.equal(client.sockets, 3);
  const server = log.totals(port, 'server');
  assert.ok(server.count <= 3, `the server sockets counted ${server.count} requests; at most one each before leaving the rest to the client`);
  assert.ok(leftToClient() - left >= 3, 'each server socket counted as left to its client');
});

test('IPv6 loopback, and an IPv4 client of a dual-stack listener (IPv4-mapped on the server side): left to the client too', async () => {
  const s = node(HTTP_SERVER, ['::', '0']);
  const port = Number((await s.waitFor(/^port (\d+)/))[1]);
  for (const host of ['::1', '127.0.0.1']) {
    const c = node(HTTP_CLIENT, [String(port), JSON.stringify([['GET', '/ok', 15], ['GET', '/500', 5]]), host]);
    await c.waitFor(/^done/, 30_000);
  }
  const client = await log.settle(port, 'client', 40);
  assert.deepEqual(byClass(client), { '2xx': 30, '5xx': 10 });
  assert.equal(client.sockets, 2);
  const server = log.totals(port, 'server');
  assert.ok(server.count <= 2, `the server sockets counted ${server.count} requests; at most one each before leaving the rest to the client`);
});

test('MySQL, whose server speaks first: its socket is classified before its client is known, and still leaves the queries to it', async () => {
  const left = leftToClient();
  const m = await startMariadb();
  servers.push(m);
  const c = await mysql.createConnection({ host: '127.0.0.1', port: m.port, user: 'root' });
  for (let i = 0; i < 30; i++) await c.query('select 1');
  for (let i = 0; i < 5; i++) await c.query('select * from nope').catch(() => {});
  await c.end();
  const client = await log.settle(m.port, 'client', 35);
  assert.deepEqual(byClass(client), { ok: 30, error: 5 });
  assert.equal(client.unpaired, 0);
  // Its first response is its first chance (the handshake spends none of its tries), and its client has sent a query by then.
  const server = log.totals(m.port, 'server');
  assert.equal(server.count, 1, `the server counted ${server.count} queries before leaving them to its client`);
  assert.equal(server.sockets, 1);
  assert.ok(leftToClient() - left >= 1);
});

test('HTTP/2 (h2c), whose server speaks SETTINGS first and answers interleaved streams: left to the client too', async () => {
  const left = leftToClient();
  const s = node(H2C_SERVER);
  const port = Number((await s.waitFor(/^port (\d+)/))[1]);
  const c = node(H2C_CLIENT, [String(port), JSON.stringify([['/pkg.Svc/Ok', 30], ['/pkg.Svc/Fail', 8], ['/nope', 4]]), '6']);
  await c.waitFor(/^done/, 20_000);
  const client = await log.settle(port, 'client', 42);
  assert.deepEqual(byClass(client), { ok: 30, error: 8, '4xx': 4 });
  assert.equal(client.unpaired, 0);
  const server = log.totals(port, 'server');
  assert.ok(server.count <= 6, `the server socket counted ${server.count} calls; at most its first window of streams before leaving the rest to the client`);
  assert.ok(leftToClient() - left >= 1);
});

/** One connection, one command at a time: argv port, then count PINGs and count failing INCRs; prints "done". */
const RESP_CLIENT = `
const net = require('net');
const [port, n] = process.argv.slice(1).map(Number);
const cmd = (...a) => '*' + a.length + '\\r\\n' + a.map((x) => '$' + Buffer.byteLength(x) + '\\r\\n' + x + '\\r\\n').join('');
const plan = [cmd('SET', 's', 'str'), ...Array(n).fill(cmd('PING')), ...Array(n).fill(cmd('INCR', 's'))];
const sock = net.connect(port, '127.0.0.1', () => next());
let i = 0;
function next() { if (i === plan.length) { sock.end(); console.log('done'); return; } sock.write(plan[i++]); }
sock.on('data', () => next());
`;

test('Redis and PostgreSQL (simple and extended queries): their server sockets are left to the client too', async () => {
  const r = await startRedis();
  servers.push(r);
  const c = node(RESP_CLIENT, [String(r.port), '20']);
  await c.waitFor(/^done/, 30_000);
  const rc = await log.settle(r.port, 'client', 41);
  assert.deepEqual(byClass(rc), { ok: 21, error: 20 });
  assert.ok(log.totals(r.port, 'server').count <= 1, 'redis server socket');

  const p = await startPostgres();
  servers.push(p);
  const pc = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'postgres', database: 'postgres' });
  await pc.connect();
  for (let i = 0; i < 20; i++) await pc.query('select 1');
  for (let i = 0; i < 20; i++) await pc.query('select $1::int + 1 as x', [i]);
  await pc.end();
  const ps = await log.settle(p.port, 'client', 40);
  assert.deepEqual(byClass(ps), { ok: 40 });
  assert.ok(log.totals(p.port, 'server').count <= 1, `postgres server socket: ${log.totals(p.port, 'server').count}`);
});

test('a local client that cannot see its own requests (sendfile): the server socket goes on parsing, exactly', async () => {
  const port = await httpServer();
  const c = start('python3', ['-c', SENDFILE_CLIENT, String(port), '40']);
  await c.waitFor(/^done/, 30_000);
  const server = await log.settle(port, 'server', 40);
  assert.deepEqual(byClass(server), { '2xx': 40 });
  assert.equal(server.sockets, 1);
  assert.equal(server.unpaired, 0);
  // The client socket was classified (at its first response) and remembered, so the guard that it has sent a request is what kept the server parsing.
  const client = log.totals(port, 'client');
  assert.equal(client.sockets, 1);
  assert.equal(client.count, 0, 'the client saw responses only');
  assert.equal(client.unpaired, 40);
});

/** Sockets that carry no known protocol: a server on port 0 (prints "port N") and `n` clients writing random bytes every 5 ms for `ms`; prints "done". */
const NOISY_SOCKETS = `
const net = require('net');
const crypto = require('crypto');
const [n, ms] = process.argv.slice(1).map(Number);
const srv = net.createServer((s) => { s.on('data', () => s.write(crypto.randomBytes(100))); s.on('error', () => {}); });
srv.listen(0, '127.0.0.1', () => {
  console.log('port ' + srv.address().port);
  const until = Date.now() + ms;
  let left = n;
  for (let i = 0; i < n; i++) {
    const c = net.connect(srv.address().port, '127.0.0.1', async () => {
      while (Date.now() < until) { c.write(crypto.randomBytes(100)); await new Promise((r) => setTimeout(r, 5)); }
      c.end();
      if (--left === 0) { srv.close(); console.log('done'); }
    });
    c.on('data', () => {});
    c.on('error', () => {});
  }
});
`;

test('a server socket left to its client is counted once, however many sockets around it are not parsed (its verdict is its own, not in the shared LRU)', async () => {
  const port = await httpServer();
  const noise = node(NOISY_SOCKETS, ['16', '3000']);
  await noise.waitFor(/^port/);
  const left = leftToClient();
  const c = node(HTTP_CLIENT, [String(port), JSON.stringify([['GET', '/ok', 40]])]);
  await c.waitFor(/^done/, 30_000);
  await noise.waitFor(/^done/, 30_000);
  const client = await log.settle(port, 'client', 40);
  assert.deepEqual(byClass(client), { '2xx': 40 });
  assert.equal(log.totals(port, 'server').count, 0);
  // 32 sockets were judged not L7 meanwhile, with room for 4 verdicts in the LRU: one kept there would be
  // forgotten between requests and the server socket judged, and counted, again at each.
  assert.equal(leftToClient() - left, 1, 'the server socket counted once as left to its client');
});
