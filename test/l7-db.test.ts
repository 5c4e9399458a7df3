// Request capture (L7) of Redis, PostgreSQL and MySQL/MariaDB: real Debian
// servers and real clients (redis-cli, redis-benchmark, psql, pg, mysql2);
// known mixes asserted exactly per socket aggregate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { stopAll, start } from './support/children.js';
import { L7Log, byClass, inBuckets } from './support/l7.js';
import { startMariadb, startPostgres, startRedis, type DbServer } from './support/db.js';
import { getJson, type RunningAgent } from './support/agent.js';
import { startL7Agent, settleEdge, bucketsIn } from './support/l7-agent.js';
import type { GraphSnapshot, NodeDetail } from '../src/graph/types.js';

let log: L7Log;
let agent: RunningAgent;
const servers: DbServer[] = [];
before(async () => {
  log = new L7Log({ tls: false, samplesPerSec: 2000, sampleBurst: 2000 }).start();
  agent = await startL7Agent();
});
after(async () => {
  await stopAll();
  for (const s of servers) await s.stop();
  log?.stop();
  await agent?.stop();
});

const SLOW_BUCKET = 18; // [262, 524) ms

test('Redis: a pipelined mix through redis-cli --pipe, -ERR replies are errors', async () => {
  const r = await startRedis();
  servers.push(r);
  const lines: string[] = [];
  for (let i = 0; i < 500; i++) lines.push(`SET k${i} v${i}`);
  lines.push('SET s str');
  for (let i = 0; i < 50; i++) lines.push('LPUSH s x'); // WRONGTYPE error
  for (let i = 0; i < 100; i++) lines.push(`GET k${i}`);
  const proto = lines.map((l) => { const a = l.split(' '); return `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`; }).join('');
  // --pipe exits 1 when some replies were errors, as they are here
  const run = spawnSync('redis-cli', ['-p', String(r.port), '--pipe'], { input: proto });
  assert.match(run.stdout.toString(), /errors: 50, replies: 651/);
  // redis-cli --pipe ends with an ECHO of its own to know when every reply came.
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(r.port, role, 652);
    assert.deepEqual(byClass(t), { ok: 602, error: 50 }, role);
    assert.deepEqual([...t.protocols], ['redis']);
    assert.equal(t.unpaired, 0);
  }
  const e = await settleEdge(agent, r.port, 652);
  assert.deepEqual(e.byClass, { ok: 602, error: 50 }, 'on the edge: -ERR replies are errors');
  assert.equal(e.errors, 50);
  assert.deepEqual(e.protocols, ['redis']);
  // In a deep pipeline only the newest requests' bytes are kept (the socket's newest and the 8 before it),
  // so most failures here are sampled without a name; a failure on its own is sampled with the command
  // name, never its arguments.
  const pipelined = log.samples.filter((s) => s.protocol === 'redis' && s.statusClass === 'error'); // this server's: the first Redis test
  assert.ok(pipelined.some((s) => s.role === 'server'));
  assert.ok(pipelined.every((s) => s.code === 'WRONGTYPE' && s.status === 1), `each names its error's prefix: ${JSON.stringify(pipelined.slice(0, 2))}`);
  assert.ok(e.samples.some((s) => s.code === 'WRONGTYPE'), 'on the edge too');
  const before = log.samples.length;
  spawnSync('redis-cli', ['-p', String(r.port), 'lpush', 's', 'secret-value']);
  await log.settle(r.port, 'server', 653);
  const err = log.samples.slice(before).find((s) => s.protocol === 'redis' && s.statusClass === 'error' && s.role === 'server');
  assert.equal(err?.method, 'LPUSH');
  assert.equal(err?.target, null);
  assert.ok(!JSON.stringify(log.samples).includes('secret-value'));
});

test('Redis: a short pipeline\'s failures are each sampled with their own command, not only the newest\'s', async () => {
  const r = await startRedis();
  servers.push(r);
  const c = await RawRedis.open(r.port);
  // one write: SET, then three failures (WRONGTYPE, ERR not an integer, WRONGTYPE), then the newest, which succeeds
  await c.send(resp('SET', 'p', 'str') + resp('LPUSH', 'p', 'secret-arg') + resp('INCR', 'p') + resp('HGET', 'p', 'f') + resp('GET', 'p'), /\$3\r\nstr\r\n/);
  await c.close();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(r.port, role, 5);
    assert.deepEqual(byClass(t), { ok: 2, error: 3 }, role);
    const failed = log.samplesOf(r.port, role).filter((s) => s.statusClass === 'error');
    assert.deepEqual(failed.map((s) => `${s.method} ${s.code}`).sort(), ['HGET WRONGTYPE', 'INCR ERR', 'LPUSH WRONGTYPE'], role);
  }
  assert.ok(!JSON.stringify(log.samples).includes('secret-arg'), 'a command\'s name, never its arguments');
});

test('Redis: replies nested deeper than a few levels (XREAD, redis-cli\'s COMMAND DOCS) are followed to their end', async () => {
  const r = await startRedis();
  servers.push(r);
  const lines = [...Array.from({ length: 10 }, (_, i) => `XADD s * f${i} v${i}`), ...Array.from({ length: 10 }, () => 'XREAD COUNT 10 STREAMS s 0'), ...Array.from({ length: 10 }, () => 'PING')];
  // Not a terminal: redis-cli reads the commands from stdin, after its own COMMAND DOCS (a reply of maps in maps).
  const run = spawnSync('redis-cli', ['-p', String(r.port)], { input: lines.join('\n') + '\n' });
  assert.equal(run.stdout.toString().split('\n').filter((l) => l === 'PONG').length, 10, run.stderr.toString());
  const t = await log.settle(r.port, 'server', 31);
  assert.deepEqual(byClass(t), { ok: 31 }, 'COMMAND DOCS, 10 XADD, 10 XREAD (stream, entries, fields: five levels), 10 PING');
  assert.equal(t.unpaired, 0);

  // Replies with more values than one pass walks: ended by the client's next request, or by the close.
  const long = log.engine.l7!.tallies().longReplies;
  const items = Array(20_000).fill('x').join(' '); // 7 bytes a value: a 64 KB write holds more than one pass walks
  const big = spawnSync('redis-cli', ['-p', String(r.port)], { input: `RPUSH big ${items}\nLRANGE big 0 -1\nLRANGE big 0 -1\nPING\n` });
  assert.match(big.stdout.toString(), /PONG/);
  execFileSync('redis-cli', ['-p', String(r.port), 'LRANGE', 'big', '0', '-1'], { stdio: 'ignore' }); // its own connection, closed after
  const t2 = await log.settle(r.port, 'server', 31 + 6);
  assert.deepEqual(byClass(t2), { ok: 37 }, 'COMMAND DOCS, RPUSH, 2 LRANGE, PING; then LRANGE alone');
  assert.equal(t2.unpaired, 0);
  assert.ok(log.engine.l7!.tallies().longReplies - long >= 3, 'the long replies (3 x LRANGE of 20,000, past the 8,192 values one pass walks) were counted as such');
});

test('Redis: redis-benchmark with 16-deep pipelines', async () => {
  const r = await startRedis();
  servers.push(r);
  execFileSync('redis-benchmark', ['-p', String(r.port), '-n', '2000', '-P', '16', '-c', '2', '-t', 'set,get', '-q'], { stdio: 'ignore' });
  const t = await log.settle(r.port, 'server', 4000);
  // 2000 SET + 2000 GET, plus the CONFIG GETs redis-benchmark sends first; it may close a
  // connection with a pipeline still unanswered, which counts as unpaired, not as a reply.
  assert.ok(Math.abs(t.requests[6] - 4000) <= 80, `ok ${t.requests[6]} within 2% of 4000`);
  assert.equal(t.requests[7], 0);
  assert.ok(t.unpaired <= 32, `unpaired ${t.unpaired}`);
  const e = await settleEdge(agent, r.port, 4000);
  assert.ok(Math.abs(e.byClass.ok - 4000) <= 80, `on the edge: ok ${e.byClass.ok} within 2% of 4000`);
  assert.equal(e.errors, 0);
});

test('Redis: pub/sub pushes are not replies, and do not flip or mis-pair anything', async () => {
  const r = await startRedis();
  servers.push(r);
  const sub = start('redis-cli', ['-p', String(r.port), 'subscribe', 'news']);
  await sub.waitFor(/news/);
  for (let i = 0; i < 5; i++) execFileSync('redis-cli', ['-p', String(r.port), 'publish', 'news', `m${i}`]);
  await sub.waitFor(/m4/);
  const t = await log.settle(r.port, 'client', 6);
  assert.deepEqual(byClass(t), { ok: 6 }, 'SUBSCRIBE and the five PUBLISH');
  assert.equal(t.unpaired, 0);
  await sub.stop();
});

/** RESP2 request bytes of one command. */
const resp = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;

/** A raw Redis connection: writes bytes as given (a pipeline in one write), reads until a pattern is seen. */
class RawRedis {
  private buf = '';
  private waiters: (() => void)[] = [];
  private constructor(private readonly s: net.Socket) {
    s.on('data', (b) => { this.buf += b.toString('latin1'); for (const w of this.waiters.splice(0)) w(); });
  }
  static open(port: number): Promise<RawRedis> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawRedis(s)));
      s.once('error', reject);
    });
  }
  /** Sends, then waits for `count` matches of `re` (global) in what arrives; returns those bytes and drops them. */
  async send(bytes: string, re: RegExp, count = 1, ms = 5000): Promise<string> {
    this.s.write(Buffer.from(bytes, 'latin1'));
    const end = Date.now() + ms;
    for (;;) {
      const n = this.buf.match(new RegExp(re.source, 'g'))?.length ?? 0;
      if (n >= count) { const got = this.buf; this.buf = ''; return got; }
      if (Date.now() > end) throw new Error(`waited for ${count} x ${re} and got ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }
  close(): Promise<void> { return new Promise((r) => this.s.end(r)); }
}

test('Redis: a connection whose first command has 150 elements is recognised (review G: 100 or more were never counted)', async () => {
  const r = await startRedis();
  servers.push(r);
  const c = await RawRedis.open(r.port);
  await c.send(resp('RPUSH', 'biglist', ...Array.from({ length: 148 }, (_, i) => `v${i}`)), /:148\r\n/); // *150
  await c.send(Array.from({ length: 10 }, (_, i) => resp('SET', `k${i}`, 'x')).join('') + resp('INCR', 'biglist'), /(\+OK|-WRONGTYPE[^\r]*)\r\n/, 11);
  await c.close();
  const e = await settleEdge(agent, r.port, 12);
  assert.deepEqual([e.count, e.byClass.ok, e.errors], [12, 11, 1]);
});

test('Redis: SUBSCRIBE then UNSUBSCRIBE on one connection, the commands after are counted (review B: 1 of 7)', async () => {
  const r = await startRedis();
  servers.push(r);
  const c = await RawRedis.open(r.port);
  await c.send(resp('SUBSCRIBE', 'ch'), /subscribe\r\n\$2\r\nch\r\n:1\r\n/);
  await c.send(resp('UNSUBSCRIBE', 'ch'), /unsubscribe\r\n\$2\r\nch\r\n:0\r\n/);
  for (let i = 0; i < 3; i++) await c.send(resp('PING'), /\+PONG\r\n/);
  for (let i = 0; i < 2; i++) await c.send(resp('SET', 'x', String(i)), /\+OK\r\n/);
  await c.close();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(r.port, role, 7);
    assert.deepEqual(byClass(t), { ok: 7 }, `${role}: SUBSCRIBE, UNSUBSCRIBE, 3 PING, 2 SET`);
    assert.equal(t.unpaired, 0, role);
  }
  const e = await settleEdge(agent, r.port, 7);
  assert.deepEqual(e.byClass, { ok: 7 }, 'on the edge');
  assert.equal(e.count, 7);
  assert.equal(e.unpaired, 0);
});

test('Redis: a subscriber\'s 20 published messages pair with nothing; its SUBSCRIBE, UNSUBSCRIBE and PING count, and the publisher\'s 20 PUBLISH', async () => {
  const r = await startRedis();
  servers.push(r);
  const sub = await RawRedis.open(r.port);
  await sub.send(resp('SUBSCRIBE', 'news'), /:1\r\n/);
  execFileSync('redis-cli', ['-p', String(r.port), '-r', '20', 'publish', 'news', 'hello'], { stdio: 'ignore' }); // one connection, 20 PUBLISH
  await sub.send('', /\$7\r\nmessage\r\n\$4\r\nnews\r\n\$5\r\nhello\r\n/, 20);
  await sub.send(resp('UNSUBSCRIBE', 'news'), /:0\r\n/);
  await sub.send(resp('PING'), /\+PONG\r\n/);
  await sub.close();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(r.port, role, 23);
    assert.deepEqual(byClass(t), { ok: 23 }, `${role}: 20 PUBLISH; SUBSCRIBE, UNSUBSCRIBE, PING`);
    assert.equal(t.unpaired, 0, `${role}: the pushed messages are no unanswered replies`);
  }
  const pub = await settleEdge(agent, r.port, 20, (x) => x.source === 'proc:redis-cli');
  assert.deepEqual([pub.count, pub.byClass, pub.unpaired], [20, { ok: 20 }, 0], 'the publisher\'s edge');
  const subscriber = await settleEdge(agent, r.port, 3, (x) => x.source !== 'proc:redis-cli');
  assert.deepEqual([subscriber.count, subscriber.byClass, subscriber.unpaired], [3, { ok: 3 }, 0], `the subscriber's edge ${JSON.stringify(subscriber.edges)}`);
});

test('Redis: a pipelined PSUBSCRIBE of several patterns, PING in subscribe mode, PUNSUBSCRIBE of all, then plain commands', async () => {
  const r = await startRedis();
  servers.push(r);
  const c = await RawRedis.open(r.port);
  // 3 confirmations, a "pong" array, 1 more confirmation: 3 requests
  await c.send(resp('PSUBSCRIBE', 'a.*', 'b.*', 'c.*') + resp('PING') + resp('psubscribe', 'd.*'), /psubscribe\r\n/, 4);
  execFileSync('redis-cli', ['-p', String(r.port), '-r', '5', 'publish', 'b.1', 'x'], { stdio: 'ignore' });
  await c.send('', /pmessage\r\n/, 5);
  // PUNSUBSCRIBE of all: 4 confirmations for one request; then out of subscribe mode, an array reply whose
  // first element reads "message" is a reply like any other.
  await c.send(resp('PUNSUBSCRIBE') + resp('PING') + resp('RPUSH', 'l', 'message', 'ch', 'x'), /\+PONG\r\n:3\r\n$/, 1);
  await c.send(resp('LRANGE', 'l', '0', '-1'), /\$1\r\nx\r\n/);
  await c.close();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(r.port, role, 12);
    assert.deepEqual(byClass(t), { ok: 12 }, `${role}: PSUBSCRIBE, PING, PSUBSCRIBE, 5 PUBLISH, PUNSUBSCRIBE, PING, RPUSH, LRANGE`);
    assert.equal(t.unpaired, 0, role);
  }
  const e = await settleEdge(agent, r.port, 7, (x) => x.source !== 'proc:redis-cli');
  assert.deepEqual([e.count, e.byClass, e.unpaired], [7, { ok: 7 }, 0], 'the subscriber\'s edge');
});

test('Redis: RESP3 (HELLO 3) subscribe confirmations are > pushes that answer SUBSCRIBE; messages are not replies', async () => {
  const r = await startRedis();
  servers.push(r);
  const c = await RawRedis.open(r.port);
  await c.send(resp('HELLO', '3'), /proto/);
  await c.send(resp('SUBSCRIBE', 'n1', 'n2'), /:2\r\n/);
  execFileSync('redis-cli', ['-p', String(r.port), '-r', '4', 'publish', 'n2', 'x'], { stdio: 'ignore' });
  await c.send('', />3\r\n\$7\r\nmessage\r\n/, 4);
  await c.send(resp('PING') + resp('GET', 'nope') + resp('UNSUBSCRIBE'), /:0\r\n/);
  await c.send(resp('PING'), /\+PONG\r\n/);
  await c.close();
  const t = await log.settle(r.port, 'client', 10);
  assert.deepEqual(byClass(t), { ok: 10 }, 'HELLO, SUBSCRIBE, 4 PUBLISH, PING, GET, UNSUBSCRIBE, PING');
  assert.equal(t.unpaired, 0);
});

test('PostgreSQL: simple and extended queries, errors, and a 400 ms query', async () => {
  const p = await startPostgres();
  servers.push(p);
  const c = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  for (let i = 0; i < 30; i++) await c.query('select 1');                       // simple Query
  for (let i = 0; i < 20; i++) await c.query('select $1::int + 1 as x', [i]);   // Parse/Bind/Describe/Execute/Sync
  for (let i = 0; i < 5; i++) await c.query('select * from nope').catch(() => {});
  for (let i = 0; i < 3; i++) await c.query('select $1::int / 0', [1]).catch(() => {});
  for (let i = 0; i < 2; i++) await c.query('select pg_sleep(0.4)');
  await c.end();
  // psql: SSLRequest answered 'N', then the startup message, then its commands.
  execFileSync('psql', ['-h', '127.0.0.1', '-p', String(p.port), '-U', 'postgres', '-X', '-q', '-c', 'select 1', '-c', 'select 2', '-c', 'select 3'], { stdio: 'ignore' });
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(p.port, role, 63);
    assert.deepEqual(byClass(t), { ok: 55, error: 8 }, role);
    assert.equal(inBuckets(t, SLOW_BUCKET, role === 'server' ? SLOW_BUCKET : SLOW_BUCKET + 1), 2, `${role}: the two pg_sleep(0.4)`);
    assert.equal(t.unpaired, 0);
    assert.equal(t.sockets, 2);
  }
  const e = await settleEdge(agent, p.port, 63);
  assert.deepEqual(e.byClass, { ok: 55, error: 8 }, `on the edges (pg from node, psql): ${JSON.stringify({ ...e, samples: e.samples.length })}`);
  assert.equal(bucketsIn(e, SLOW_BUCKET, SLOW_BUCKET + 1), 2, 'the two pg_sleep(0.4) in the edge\'s histogram');
  assert.deepEqual(e.protocols, ['postgres']);
  assert.ok(e.samples.some((s) => s.statusClass === 'error' && s.target === 'select * from nope'), 'the failed statement, normalised, on the edge');
  assert.ok(e.samples.some((s) => s.reasons.includes('slow') && s.latencyMs >= 399 && /pg_sleep/.test(s.target ?? '')), 'the slow statement on the edge');
  const server = (await getJson<NodeDetail>(`${agent.url}/api/v1/nodes/${encodeURIComponent(e.edges[0].split('|')[1])}`)).body;
  const red = server.inboundRequests?.find((x) => x.protocol === 'postgres');
  assert.ok(red && red.count >= 63 && red.errors >= 8, `inbound RED of the postgres node: ${JSON.stringify(red)}`);
  const failed = log.samples.filter((s) => s.protocol === 'postgres' && s.role === 'server' && s.statusClass === 'error');
  assert.ok(failed.some((s) => s.target === 'select * from nope'));
  assert.ok(failed.some((s) => s.target === 'select $1::int / ?'), 'extended query sampled from its Parse message');
  // each failure names its SQLSTATE: undefined_table, division_by_zero
  assert.ok(failed.filter((s) => s.target === 'select * from nope').every((s) => s.code === '42P01'), JSON.stringify(failed.slice(0, 3)));
  assert.ok(failed.filter((s) => s.target === 'select $1::int / ?').every((s) => s.code === '22012'), JSON.stringify(failed.slice(0, 3)));
  assert.ok(e.samples.some((s) => s.statusClass === 'error' && s.code === '42P01' && s.status === 1), 'on the edge too, its status still 1');
});

test('PostgreSQL over TLS: SSLRequest answered S, then the plaintext through libpq\'s OpenSSL uprobes', async () => {
  const tlsLog = new L7Log({ samplesPerSec: 2000, sampleBurst: 2000 }).start();
  try {
    const p = await startPostgres(true);
    servers.push(p);
    execFileSync('psql', [`host=127.0.0.1 port=${p.port} user=postgres dbname=postgres sslmode=require`, '-X', '-q',
      '-c', 'select 1', '-c', 'select 2', '-c', 'select * from nope', '-c', 'select 3'], { stdio: 'ignore' });
    for (const role of ['server', 'client'] as const) {
      const t = await tlsLog.settle(p.port, role, 4);
      assert.deepEqual(byClass(t), { ok: 3, error: 1 }, role);
      assert.equal(t.tls, true, `${role}: seen through TLS`);
      assert.deepEqual([...t.protocols], ['postgres']);
      assert.equal(t.unpaired, 0);
    }
    const e = await settleEdge(agent, p.port, 4);
    assert.deepEqual(e.byClass, { ok: 3, error: 1 }, 'on the edge');
    assert.equal(e.tls, true, 'flagged as seen through TLS');
  } finally {
    tlsLog.stop();
  }
});

test('PostgreSQL: a startup the server refuses is one failed request with its SQLSTATE; a startup that succeeds, or that the client abandons, is none', async () => {
  const p = await startPostgres(false, [
    'host all scram_user 127.0.0.1/32 scram-sha-256',
    'host all md5_user 127.0.0.1/32 md5',
    'host all blocked 127.0.0.1/32 reject',
  ]);
  servers.push(p);
  const psql = (conninfo: string, args: string[], password?: string) => {
    const env = { ...process.env };
    delete env.PGPASSWORD;
    if (password) env.PGPASSWORD = password;
    // -w: never prompt; psql sends an SSLRequest first (answered 'N' here), then the startup message
    return spawnSync('psql', [`host=127.0.0.1 port=${p.port} ${conninfo}`, '-X', '-q', '-w', ...args], { env });
  };
  const pgClient = async (user: string, password: string, query?: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port: p.port, user, password, database: 'postgres' });
    try {
      await c.connect();
      if (query) await c.query(query);
      await c.end();
      return null;
    } catch (e) {
      await c.end().catch(() => {});
      return (e as { code?: string }).code ?? String(e);
    }
  };
  // one request: a simple Query holding all four statements
  const setup = psql('user=postgres dbname=postgres', ['-c', "set password_encryption = 'md5'; create role md5_user login password 'right'; " +
    "set password_encryption = 'scram-sha-256'; create role scram_user login password 'right'; create role blocked login"]);
  assert.equal(setup.status, 0, setup.stderr.toString());
  // refused: 5 x a database that does not exist (3D000), 2 x a wrong SCRAM password and 2 x a wrong md5 one (28P01),
  // 1 x rejected by pg_hba.conf (28000)
  for (let i = 0; i < 5; i++) {
    const r = psql('user=postgres dbname=tenant_b', ['-c', 'select 1']);
    assert.match(r.stderr.toString(), /database "tenant_b" does not exist/);
  }
  for (let i = 0; i < 2; i++) assert.match(psql('user=scram_user dbname=postgres', ['-c', 'select 1'], 'wrong').stderr.toString(), /password authentication failed/);
  for (let i = 0; i < 2; i++) assert.equal(await pgClient('md5_user', 'wrong'), '28P01');
  assert.match(psql('user=blocked dbname=postgres', ['-c', 'select 1']).stderr.toString(), /rejects connection/);
  // abandoned by the client: the server asks for a password, psql -w has none and closes
  assert.match(psql('user=scram_user dbname=postgres', ['-c', 'select 1']).stderr.toString(), /no password supplied/);
  // succeeded: only their queries are requests (2 + 1)
  assert.equal(psql('user=scram_user dbname=postgres', ['-c', 'select 1', '-c', 'select 2'], 'right').status, 0);
  assert.equal(await pgClient('md5_user', 'right', 'select 1'), null);

  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(p.port, role, 14);
    assert.deepEqual(byClass(t), { ok: 4, error: 10 }, role);
    assert.equal(t.unpaired, 0, `${role}: nothing unpaired (the abandoned startup is no request)`);
    const startups = log.samples.filter((s) => s.protocol === 'postgres' && s.role === role && s.method === 'STARTUP');
    assert.ok(startups.every((s) => s.statusClass === 'error' && s.status === 1), `${role}: only refused startups are samples`);
    const by = (code: string) => startups.filter((s) => s.code === code);
    assert.equal(by('3D000').length, 5, `${role}: ${JSON.stringify(startups.slice(0, 3))}`);
    assert.ok(by('3D000').every((s) => s.target === 'db=tenant_b user=postgres'), JSON.stringify(by('3D000')[0]));
    assert.deepEqual(by('28P01').map((s) => s.target).sort(), ['db=postgres user=md5_user', 'db=postgres user=md5_user', 'db=postgres user=scram_user', 'db=postgres user=scram_user']);
    assert.deepEqual(by('28000').map((s) => s.target), ['db=postgres user=blocked']);
  }
  const e = await settleEdge(agent, p.port, 14);
  assert.deepEqual(e.byClass, { ok: 4, error: 10 }, 'on the edges (psql, pg from node)');
  assert.equal(e.errors, 10);
  assert.equal(e.unpaired, 0);
  assert.ok(e.samples.some((s) => s.method === 'STARTUP' && s.target === 'db=tenant_b user=postgres' && s.code === '3D000' && s.status === 1 && s.statusClass === 'error'),
    `the wrong database on the edge: ${JSON.stringify(e.samples.slice(0, 3))}`);
  assert.ok(e.samples.some((s) => s.method === 'STARTUP' && s.code === '28P01'), 'the wrong password on the edge');
  // The connections stay as they were counted before: pg writes Terminate after the server's close and meets a reset.
  const g = (await getJson<GraphSnapshot>(`${agent.url}/api/v1/graph`)).body;
  const conns = g.edges.filter((x) => x.port === p.port).map((x) => x.connections);
  assert.equal(conns.reduce((n, c) => n + c.failedBy.reset, 0), 2, JSON.stringify(conns));
});

test('MySQL: COM_QUERY, COM_STMT_PREPARE/EXECUTE, ERR packets and a 400 ms query', async () => {
  const m = await startMariadb();
  servers.push(m);
  const c = await mysql.createConnection({ host: '127.0.0.1', port: m.port, user: 'root' });
  for (let i = 0; i < 20; i++) await c.query('select 1');
  for (let i = 0; i < 4; i++) await c.query('select * from nope').catch(() => {});
  for (let i = 0; i < 10; i++) await c.execute('select ? + 1 as x', [i]); // one PREPARE, ten EXECUTE
  for (let i = 0; i < 3; i++) await c.execute('select * from nope where id = ?', [1]).catch(() => {}); // PREPARE fails
  for (let i = 0; i < 2; i++) await c.query('select sleep(0.4)');
  await c.end();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(m.port, role, 40);
    assert.deepEqual(byClass(t), { ok: 33, error: 7 }, role);
    // the server's own view is exact; a loaded machine may delay the client's wake-up past 524 ms
    assert.equal(inBuckets(t, SLOW_BUCKET, role === 'server' ? SLOW_BUCKET : SLOW_BUCKET + 1), 2, `${role}: the two sleep(0.4)`);
    assert.equal(t.unpaired, 0);
    assert.equal(t.protocols.has('mysql'), true);
  }
  const e = await settleEdge(agent, m.port, 40);
  assert.deepEqual(e.byClass, { ok: 33, error: 7 }, 'on the edge');
  assert.equal(bucketsIn(e, SLOW_BUCKET, SLOW_BUCKET + 1), 2);
  assert.ok(e.samples.some((s) => s.statusClass === 'error' && s.status === 1046), 'the ERR number on the edge\'s sample');
  const failed = log.samples.filter((s) => s.protocol === 'mysql' && s.role === 'client' && s.statusClass === 'error');
  assert.ok(failed.some((s) => s.method === 'SELECT' && s.target === 'select * from nope' && s.status === 1046), `ERR code kept (1046: no database selected): ${JSON.stringify(failed)}`);
});

test('MySQL: a 20,000-row result set read by mysql2 in 64 KB reads, then more queries: each paired, the error counted once (review R 1)', async () => {
  const m = await startMariadb();
  servers.push(m);
  const c = await mysql.createConnection({ host: '127.0.0.1', port: m.port, user: 'root', database: 'mysql' }); // (a sequence table needs a database)
  const [rows] = await c.query('select seq from seq_1_to_20000') as [unknown[], unknown];
  assert.equal(rows.length, 20000);
  for (const q of ['select 2', 'select nope', 'select 3', 'select 4', 'select 5']) await c.query(q).catch(() => {});
  await c.end();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(m.port, role, 6);
    // before: the rows overran the parser's steps, the framing slipped, and the 5 queries after were failed at the close
    assert.deepEqual(byClass(t), { ok: 5, error: 1 }, role);
    assert.equal(t.unpaired, 0, role);
  }
  const failed = log.samples.filter((s) => s.protocol === 'mysql' && s.role === 'client' && s.statusClass === 'error');
  assert.ok(failed.some((s) => s.target === 'select nope' && s.status === 1054), `its own ERR (1054: unknown column): ${JSON.stringify(failed)}`);
});

test('PostgreSQL: result sets of thousands of rows read by node-postgres are counted, with the queries around them (review R 2)', async () => {
  const p = await startPostgres();
  servers.push(p);
  const c = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  for (const q of ['select 1', 'select generate_series(1,5000)', 'select 2', "select repeat('x',10) from generate_series(1,3000)", 'select 1/0', 'select 3']) {
    await c.query(q).catch(() => {});
  }
  await c.end();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(p.port, role, 6);
    assert.deepEqual(byClass(t), { ok: 5, error: 1 }, role);
    assert.equal(t.unpaired, 0, role);
  }
});

test('MySQL: LOAD DATA LOCAL is one request that ends with the server\'s OK or ERR after the file, not with its request for the file (review R 4)', async () => {
  const m = await startMariadb();
  servers.push(m);
  const { Readable } = await import('node:stream');
  const c = await mysql.createConnection({ host: '127.0.0.1', port: m.port, user: 'root', infileStreamFactory: (f: string) => Readable.from([Buffer.from(f === 'bad' ? '1\n2\n3\n' : '5\n6\n')]) } as mysql.ConnectionOptions);
  await c.query('create database li');
  await c.query('use li');
  await c.query('create table lt (id int)');
  await c.query("create trigger trg before insert on lt for each row if new.id = 2 then signal sqlstate '45000' set message_text = 'no'; end if");
  await assert.rejects(c.query("load data local infile 'bad' into table lt"), /no/);
  await c.query("load data local infile 'good' into table lt");
  await c.end();
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(m.port, role, 6);
    assert.deepEqual(byClass(t), { ok: 5, error: 1 }, role); // before: the failed load counted ok
  }
  const failed = log.samples.filter((s) => s.protocol === 'mysql' && s.role === 'client' && s.statusClass === 'error');
  assert.ok(failed.some((s) => /^load data local infile/.test(s.target ?? '') && s.status === 1644), `the load's own ERR (1644: a SIGNAL): ${JSON.stringify(failed)}`);
});

test('MySQL: a connection on the compressed protocol (mysql --compress) is not parsed, rather than misread (review R 5)', async () => {
  const m = await startMariadb();
  servers.push(m);
  const before = log.engine.l7!.losses();
  spawnSync('mysql', ['-h', '127.0.0.1', '-P', String(m.port), '-u', 'root', '--compress', '-e', 'select 1; select 2; select 3; select nope']);
  // a plain connection after it is counted as usual
  spawnSync('mysql', ['-h', '127.0.0.1', '-P', String(m.port), '-u', 'root', '-e', 'select 1; select nope']);
  for (const role of ['server', 'client'] as const) {
    const t = await log.settle(m.port, role, 2);
    // before: the compressed one's packets misread (with the review's 2 and 4 statements: 2 requests, both ok, for 6 with 2 errors)
    assert.deepEqual(byClass(t), { ok: 1, error: 1 }, `${role}: the plain connection's select 1 and select nope only`);
  }
  assert.equal(log.engine.l7!.losses().desync - before.desync, 0, 'no framing was broken');
});
