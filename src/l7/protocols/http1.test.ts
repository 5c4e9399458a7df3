import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHttp1 } from './http1.js';
import { fuzz } from './testing.js';

const req = (s: string) => Buffer.from(s, 'latin1');

test('method and path, query string and fragment dropped', () => {
  assert.deepEqual(describeHttp1(req('GET /api/users/7?token=secret HTTP/1.1\r\nHost: x\r\n\r\n')), { method: 'GET', target: '/api/users/7' });
  assert.deepEqual(describeHttp1(req('POST /a#frag HTTP/1.0\r\n')), { method: 'POST', target: '/a' });
  assert.deepEqual(describeHttp1(req('DELETE /x/y')), { method: 'DELETE', target: '/x/y' }, 'a request line cut by the prefix');
});

test('path parameters are dropped like a query: ;jsessionid= carries a session', () => {
  assert.deepEqual(describeHttp1(req('GET /err;jsessionid=SECRET HTTP/1.1\r\n')), { method: 'GET', target: '/err' });
  assert.deepEqual(describeHttp1(req('GET /a;v=1/b;x=y/c?q=1 HTTP/1.1\r\n')), { method: 'GET', target: '/a/b/c' });
  assert.deepEqual(describeHttp1(req('GET http://admin:hunter2@internal.example/err?x=1 HTTP/1.1\r\n')), { method: 'GET', target: 'http://internal.example/err' }, 'a proxy request\'s credentials go');
});

test('not a request line: null', () => {
  assert.equal(describeHttp1(req('HTTP/1.1 200 OK\r\n')), null);
  assert.equal(describeHttp1(req('FOO /x HTTP/1.1\r\n')), null);
  assert.equal(describeHttp1(req('GET /\x01x HTTP/1.1\r\n')), null);
});

test('long paths are cut to 200 characters', () => {
  const d = describeHttp1(req(`GET /${'a'.repeat(500)} HTTP/1.1\r\n`))!;
  assert.equal(d.target!.length, 200);
});

test('fuzz: random and truncated bytes never throw; garbage does not parse', () => {
  const { randomParsed } = fuzz(describeHttp1, [req('GET /api/v1/items?q=1 HTTP/1.1\r\nHost: a\r\n\r\n'), req('PUT /x HTTP/1.1\r\n\r\n')]);
  assert.equal(randomParsed, 0);
});
