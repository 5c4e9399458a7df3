import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeCut, http1MethodOf } from './samples.js';
import { L7Proto, L7H1Method } from '../events/l7-layout.js';

test('an HTTP/1 sample without its own text is named by the kernel\'s method code', () => {
  assert.equal(http1MethodOf(L7Proto.HTTP1, L7H1Method.DELETE), 'DELETE');
  assert.equal(http1MethodOf(L7Proto.HTTP1, L7H1Method.OPTIONS), 'OPTIONS');
  assert.equal(http1MethodOf(L7Proto.HTTP1, 0), null, 'not known');
  assert.equal(http1MethodOf(L7Proto.HTTP1, 15), null, 'a code no method has');
  assert.equal(http1MethodOf(L7Proto.REDIS, L7H1Method.GET), null, 'only HTTP/1 has them');
});

test('a pipelined request\'s cut first bytes: a target cut there ends with an ellipsis, a whole one does not', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('DELETE /api/v1/items/12345')), { method: 'DELETE', target: '/api/v1/items/12345…' });
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('GET /short?q=1 HTTP/1.1\r\nHo')), { method: 'GET', target: '/short' }, 'the query string still goes');
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('PUT /a HTT')), { method: 'PUT', target: '/a' });
  assert.equal(describeCut(L7Proto.HTTP1, b('GET ')), null, 'no target at all');
  assert.deepEqual(describeCut(L7Proto.REDIS, b('*3\r\n$3\r\nSET\r\n$5\r\nkey')), { method: 'SET' });
  const q = Buffer.concat([b('Q'), Buffer.from([0, 0, 0, 60]), b('SELECT * FROM acco')]);
  const d = describeCut(L7Proto.POSTGRES, q);
  assert.ok(d?.target?.endsWith('…'), JSON.stringify(d));
});
