import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRedis } from './redis.js';
import { fuzz } from './testing.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('only the command name is kept', () => {
  assert.deepEqual(describeRedis(b('*3\r\n$3\r\nset\r\n$6\r\nsecret\r\n$5\r\nvalue\r\n')), { method: 'SET' });
  assert.deepEqual(describeRedis(b('*2\r\n$4\r\nAUTH\r\n$8\r\npassword\r\n')), { method: 'AUTH' });
  assert.deepEqual(describeRedis(b('PING\r\n')), { method: 'PING' });
  assert.deepEqual(describeRedis(b('*1\r\n$4\r\nPI')), null, 'name cut by the prefix');
});

test('fuzz: random and truncated bytes never throw; random bytes rarely look like a command', () => {
  const { randomParsed } = fuzz(describeRedis, [b('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'), b('*1\r\n$4\r\nPING\r\n')]);
  assert.ok(randomParsed < 30, `${randomParsed} random inputs parsed`); // an inline command is any word
});
