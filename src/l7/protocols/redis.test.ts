import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRedis, redisErrorOf } from './redis.js';
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

test('a Redis error prefix packed by the kernel (six letters, 5 bits each) reads back, Redis\'s long prefixes whole', () => {
  const pack = (p: string) => [...p.slice(0, 6)].reduce((v, c, k) => v + (c.charCodeAt(0) - 64) * 2 ** (25 - 5 * k), 0x80000000 + (p.length > 6 ? 0x40000000 : 0));
  assert.equal(redisErrorOf(pack('ERR')), 'ERR');
  assert.equal(redisErrorOf(pack('WRONGTYPE')), 'WRONGTYPE');
  assert.equal(redisErrorOf(pack('NOAUTH')), 'NOAUTH', 'six letters and no more');
  assert.equal(redisErrorOf(pack('NOSCRIPT')), 'NOSCRIPT');
  assert.equal(redisErrorOf(pack('BUSYKEY')), 'BUSYKEY');
  assert.equal(redisErrorOf(pack('BUSYGROUP')), 'BUSYGROUP');
  assert.equal(redisErrorOf(pack('MYMODULEERR')), 'MYMODU…');
  assert.equal(redisErrorOf(1), null, 'an error with no prefix');
  assert.equal(redisErrorOf(0x80000000), null);
  assert.equal(redisErrorOf(0x80000000 + 31 * 2 ** 25), null, 'not a letter');
  assert.equal(redisErrorOf(2 ** 32), null);
});
