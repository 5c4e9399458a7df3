// The side panel's failed-connection list never contradicts the counts above it (src/ui/src/panel/failure-wording.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureCounts, failuresWording, sampledNote } from '../src/ui/src/panel/failure-wording.js';
import { block } from './support/fixtures.js';
import type { GraphEdge } from '../src/graph/types.js';

const edge = (failed: number, o: Partial<GraphEdge> = {}): GraphEdge => ({ id: 'a|b|80|tcp', source: 'a', target: 'b', connections: { failed }, ...o }) as unknown as GraphEdge;

test('replayed: 10 failed and reset, no sample kept, says so instead of "No failures in that time"', () => {
  const w = failuresWording('moment', failureCounts([edge(10)]), 'Requests, above');
  assert.equal(w.title, 'Failed connections in the replayed moment');
  assert.equal(w.empty, '10 failed connections in that time; none sampled (samples are rate-limited).');
  assert.equal(sampledNote(3, { failed: 10, requestErrors: 0 }), '3 sampled of the 10 failed connections (samples are rate-limited).');
  assert.equal(sampledNote(10, { failed: 10, requestErrors: 0 }), null);
});

test('live: an edge failing on HTTP 500s has no failed connections, and its list does not say "No failures"', () => {
  const e = edge(0, { requests: [block('http1', 10, 1, 20)] }); // 60 errors a minute
  const w = failuresWording('recent', failureCounts([e]), 'Recent failed and slow requests, above');
  assert.equal(w.title, 'Recent failed connections');
  assert.equal(w.empty, 'No failed connections recently. The 60 request errors are failed requests, not connections: see Recent failed and slow requests, above.');
  assert.doesNotMatch(w.title + w.empty, /No failures/);
  assert.equal(failuresWording('range', { failed: 0, requestErrors: 0 }, '').empty, 'No failed connections in that time.');
});

test('a node: failed connections of all its edges, request errors of its inbound ones; resolver edges count neither', () => {
  const inbound = edge(2, { requests: [block('http1', 1, 1, 20)] });
  const outbound = edge(3, { source: 'b', target: 'c', requests: [block('http1', 1, 1, 20)] });
  const dns = edge(7, { source: 'b', target: 'dns', dns: {} as GraphEdge['dns'] });
  assert.deepEqual(failureCounts([inbound, outbound, dns], 'b'), { failed: 5, requestErrors: 60 });
});
