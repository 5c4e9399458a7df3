import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMysql } from './mysql.js';
import { fuzz } from './testing.js';

function packet(cmd: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeUIntLE(body.length + 1, 0, 3);
  h[3] = 0;
  h[4] = cmd;
  return Buffer.concat([h, body]);
}

test('COM_QUERY and COM_STMT_PREPARE: normalised; COM_STMT_EXECUTE: statement id', () => {
  assert.deepEqual(describeMysql(packet(3, Buffer.from("SELECT name FROM t WHERE id = 5 AND s = 'x'"))), { method: 'SELECT', target: 'SELECT name FROM t WHERE id = ? AND s = ?' });
  assert.deepEqual(describeMysql(packet(0x16, Buffer.from('select ? + 1'))), { method: 'PREPARE', target: 'select ? + ?' });
  const ex = Buffer.alloc(9); ex.writeUInt32LE(7, 0);
  assert.deepEqual(describeMysql(packet(0x17, ex)), { method: 'EXECUTE', target: 'statement 7' });
  assert.deepEqual(describeMysql(packet(0x0e, Buffer.alloc(0))), { method: 'PING' });
});

test('payload only (the server read the header apart)', () => {
  assert.deepEqual(describeMysql(Buffer.concat([Buffer.from([3]), Buffer.from('select 7')])), { method: 'SELECT', target: 'select ?' });
});

test('not a command: null', () => {
  assert.equal(describeMysql(Buffer.from([5, 0, 0, 1, 0x99, 0x41, 0x41, 0x41, 0x41])), null);
  assert.equal(describeMysql(packet(0x99, Buffer.alloc(3))), null);
});

test('fuzz: random and truncated bytes never throw', () => {
  const { randomParsed } = fuzz(describeMysql, [packet(3, Buffer.from('select 1')), packet(0x17, Buffer.alloc(9))]);
  assert.ok(randomParsed < 30, `${randomParsed} random inputs parsed`);
});
