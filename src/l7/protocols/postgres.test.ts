import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePostgres } from './postgres.js';
import { fuzz } from './testing.js';

function msg(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([h, body]);
}
const z = (s: string) => Buffer.from(s + '\0');

test('simple query: normalised statement', () => {
  assert.deepEqual(describePostgres(msg('Q', z("select * from t where a = 'x' and b = 7"))), { method: 'SELECT', target: 'select * from t where a = ? and b = ?' });
});

test('extended query: Parse carries the statement, Bind the prepared name', () => {
  assert.deepEqual(describePostgres(msg('P', Buffer.concat([z('s1'), z('update t set a = $1 where id = 3'), Buffer.from([0, 0])]))), { method: 'UPDATE', target: 'update t set a = $1 where id = ?' });
  assert.deepEqual(describePostgres(msg('B', Buffer.concat([z(''), z('s1'), Buffer.from([0, 0, 0, 0, 0, 0])]))), { method: 'EXECUTE', target: 's1' });
});

function startup(...pairs: string[]): Buffer {
  const body = Buffer.concat([...pairs.map(z), Buffer.from([0])]);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(body.length + 8, 0);
  h.writeUInt32BE(196608, 4);
  return Buffer.concat([h, body]);
}

test('startup message (sampled when the server refused it): database and user, nothing else', () => {
  const m = startup('user', 'postgres', 'database', 'tenant_b', 'application_name', 'psql', 'options', '-c secret=1', 'client_encoding', 'UTF8');
  assert.deepEqual(describePostgres(m), { method: 'STARTUP', target: 'db=tenant_b user=postgres' });
  assert.deepEqual(describePostgres(startup('user', 'app')), { method: 'STARTUP', target: 'db=app user=app' }, 'no database: the server takes the user\'s name');
  assert.deepEqual(describePostgres(startup('user', 'app', 'database', '')), { method: 'STARTUP', target: 'db=app user=app' });
  // kept bytes cut inside the parameters: what is whole is shown, the rest is '?'
  const cut = startup('user', 'app', 'application_name', 'x', 'database', 'orders');
  assert.deepEqual(describePostgres(cut.subarray(0, cut.indexOf('orders'))), { method: 'STARTUP', target: 'db=? user=app' });
  assert.deepEqual(describePostgres(cut.subarray(0, 10)), { method: 'STARTUP', target: 'db=? user=?' });
  assert.deepEqual(describePostgres(startup('user', 'a\nb', 'database', 'x'.repeat(64))), { method: 'STARTUP', target: 'db=? user=?' }, 'control characters, or longer than a name can be');
  const ssl = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]); // an SSLRequest is not a startup
  assert.equal(describePostgres(ssl), null);
});

test('fuzz: random and truncated bytes never throw', () => {
  const { randomParsed } = fuzz(describePostgres, [msg('Q', z('select 1')), msg('P', Buffer.concat([z(''), z('select $1'), Buffer.from([0, 0])])),
    startup('user', 'postgres', 'database', 'tenant_b')]);
  assert.ok(randomParsed < 100, `${randomParsed} random inputs parsed`);
});

test('an error status packed by the kernel gives its SQLSTATE back; other statuses give none', async () => {
  const { sqlstateOf } = await import('./postgres.js');
  const pack = (code: string) => [...code].reduce((v, c) => v * 64 + '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.indexOf(c), 0) + 0x80000000;
  assert.equal(sqlstateOf(pack('42P01')), '42P01');
  assert.equal(sqlstateOf(pack('22012')), '22012');
  assert.equal(sqlstateOf(pack('XX000')), 'XX000');
  assert.equal(sqlstateOf(1), null);
  assert.equal(sqlstateOf(0), null);
  assert.equal(sqlstateOf(0x80000000 + 63 * 64 ** 4), null, 'a character outside [0-9A-Z]');
});
