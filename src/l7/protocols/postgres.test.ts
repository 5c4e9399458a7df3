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

test('fuzz: random and truncated bytes never throw', () => {
  const { randomParsed } = fuzz(describePostgres, [msg('Q', z('select 1')), msg('P', Buffer.concat([z(''), z('select $1'), Buffer.from([0, 0])]))]);
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
