import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromClient, PromError } from './promql.js';

test('a Prometheus URL on a port fetch blocks says so, instead of "bad port"', async () => {
  // port 9 (discard) is on the Fetch standard's list: refused before any connection, so nothing needs to listen
  const c = new PromClient('http://127.0.0.1:9', { timeoutMs: 2000 });
  await assert.rejects(c.instant('up'), (e: PromError) => {
    assert.equal(e.kind, 'down');
    assert.match(e.message, /refuses port 9 \(a port the Fetch standard blocks\); use another port/);
    return true;
  });
});
