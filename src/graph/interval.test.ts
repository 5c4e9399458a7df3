// The interval log's request samples: bounded, failed ones kept over slow ones when there are too many.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntervalLog } from './interval.js';
import type { RequestSample } from './types.js';

const edge = { id: 'a|b|80|tcp', source: 'a', target: 'b', port: 80, protocol: 'tcp' as const };
const sample = (time: number, failed: boolean): RequestSample => ({
  time, protocol: 'http1', method: 'GET', target: '/', status: failed ? 500 : 200, statusClass: failed ? '5xx' : '2xx', latencyMs: failed ? 1 : 900,
  pid: 1, process: 'c', side: 'client', tls: false, reasons: [failed ? 'failed' : 'slow'],
});

test('request samples: up to the cap in order; past it a failed one takes a slow one\'s place, and what is left out is counted', () => {
  const log = new IntervalLog(10, 3);
  for (let t = 0; t < 3; t++) log.requestSample(edge, sample(t, false)); // three slow ones fill it
  log.requestSample(edge, sample(3, false)); // another slow one: left out
  log.requestSample(edge, sample(4, true)); // a failed one: takes a slow one's place
  log.requestSample(edge, sample(5, true));
  log.requestSample(edge, sample(6, true));
  log.requestSample(edge, sample(7, true)); // no slow one left to take: left out
  const iv = log.drain(100, new Map(), () => undefined);
  assert.deepEqual(iv.requestSamples.map((r) => r.sample.time).sort((a, b) => a - b), [4, 5, 6]);
  assert.equal(iv.unsampledRequests, 5, 'three slow ones replaced, one slow and one failed never kept');
  const next = log.drain(200, new Map(), () => undefined);
  assert.deepEqual([next.requestSamples.length, next.unsampledRequests], [0, 0], 'a drain starts the next interval empty');
});
