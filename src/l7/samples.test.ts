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

test('a cut name is marked cut only where the request was: a path before its query, a short statement followed by the next', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('GET /search?q=abcdefghijklm')), { method: 'GET', target: '/search' }, 'the path ended at the "?"');
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('GET /a;jsessionid=0123456789')), { method: 'GET', target: '/a' });
  // Postgres: a whole Q ('SELECT 1') and the start of the next message
  const pg = Buffer.concat([b('Q'), Buffer.from([0, 0, 0, 13]), b('SELECT 1\0'), b('Q'), Buffer.from([0, 0, 0, 40]), b('SEL')]);
  assert.equal(describeCut(L7Proto.POSTGRES, pg)?.target?.endsWith('…'), false, JSON.stringify(describeCut(L7Proto.POSTGRES, pg)));
  // MySQL: a whole COM_QUERY, then the next packet's header
  const my = Buffer.concat([Buffer.from([9, 0, 0, 0, 3]), b('SELECT 1'), Buffer.from([20, 0, 0, 0, 3]), b('SEL')]);
  assert.equal(describeCut(L7Proto.MYSQL, my)?.target?.endsWith('…'), false, JSON.stringify(describeCut(L7Proto.MYSQL, my)));
  const myCut = Buffer.concat([Buffer.from([60, 0, 0, 0, 3]), b('SELECT name FROM accounts')]);
  assert.ok(describeCut(L7Proto.MYSQL, myCut)?.target?.endsWith('…'));
});

test('a cut absolute-form target whose authority never ends keeps only its scheme: credentials before an unseen "@" never leave', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('GET http://svcuser:hunter2x')), { method: 'GET', target: 'http://…' });
  assert.deepEqual(describeCut(L7Proto.HTTP1, b('GET http://u:p@h.example/abc')), { method: 'GET', target: 'http://h.example/abc…' });
});
