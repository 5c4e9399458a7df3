// What one flush writes to the timeline of the request samples the graph kept: failed first, edge by edge in turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flushEvents } from './events.js';
import type { Sample } from './sampler.js';
import type { RequestSample } from '../graph/types.js';

const edge = (id: string) => ({ id, source: 's', target: id, port: 80, protocol: 'tcp' as const });
const sample = (time: number, failed: boolean): RequestSample => ({
  time, protocol: 'http1', method: 'GET', target: `/${time}`, status: failed ? 500 : 200, statusClass: failed ? '5xx' : '2xx', latencyMs: 1,
  pid: 1, process: 'c', side: 'client', tls: false, reasons: [failed ? 'failed' : 'slow'],
});

test('request samples: failed before slow, one edge at a time, so a noisy edge cannot take every place; the rest counted', () => {
  const noisy = edge('noisy'), quiet = edge('quiet');
  const s: Sample = {
    rows: [], nodes: new Map(), topology: [], failures: [], unsampledFailures: 0, unsampledRequests: 2,
    requestSamples: [
      ...Array.from({ length: 10 }, (_, i) => ({ edge: noisy, sample: sample(i, false) })),
      ...[10, 11, 12].map((t) => ({ edge: noisy, sample: sample(t, true) })),
      { edge: quiet, sample: sample(20, false) },
    ],
  };
  const out = flushEvents(s, { events: [], dropped: 0 }, 1000, { failures: 10, requests: 5, topology: 10, container: 10 });
  const kept = out.filter((e) => e.type === 'request_sample');
  assert.deepEqual(kept.map((e) => `${e.edge!.id} ${e.time}`), ['noisy 10', 'quiet 20', 'noisy 11', 'noisy 12', 'noisy 0']);
  assert.equal(kept[0].detail!.target, '/10');
  assert.equal('time' in kept[0].detail!, false, 'the time is the event\'s own');
  assert.deepEqual(out.find((e) => e.type === 'suppressed')!.detail, { failures: 0, topology: 0, container: 0, requests: 14 - 5 + 2 });
});
