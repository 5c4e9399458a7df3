import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateWindow, WINDOW_SECONDS } from './window.js';
import { RequestWindow } from './request-window.js';
import { LATENCY_BUCKETS } from './latency.js';

const NONE = new Float64Array(LATENCY_BUCKETS);

test('rates read complete seconds: counts flushed once a second read the same whenever the window is read', () => {
  // 20 requests and 2,000 bytes a second, flushed at .300 of each second, for two minutes
  const req = new RequestWindow(), tcp = new RateWindow();
  const reads: number[][] = [];
  for (let s = 1000; s < 1120; s++) {
    req.add(s * 1000 + 300, 20, 2, 0, 0, 0, NONE);
    tcp.add(s * 1000 + 300, 0, 0, 2000, 0);
    if (s >= 1070) for (const at of [100, 299, 301, 999]) {
      const t = s * 1000 + at;
      reads.push([req.sums(t, 10).requests / 10, req.sums(t, 60).requests / 60, req.sums(t, 10).errors / 10, tcp.rates(t, 10).bytesSent, tcp.rates(t, WINDOW_SECONDS).bytesSent]);
    }
  }
  for (const r of reads) assert.deepEqual(r, [20, 20, 2, 2000, 2000], 'before or after the second\'s flush, the 10 s and 1 min rates are exact');
});

test('a second with nothing, then one burst: the rate shows it once its second is complete, for 10 s, then it is gone', () => {
  const w = new RateWindow();
  w.add(50_500, 10, 1, 0, 0);
  assert.equal(w.rates(50_900, 10).connections, 0, 'the current second is not complete');
  assert.equal(w.series(50_900).at(-1)!.connections, 10, 'the per-second series still ends at the current second');
  assert.equal(w.rates(51_000, 10).connections, 1);
  assert.equal(w.rates(60_999, 10).connections, 1);
  assert.equal(w.rates(61_000, 10).connections, 0);
  assert.equal(w.rates(61_000, 60).connections, 10 / 60);
  assert.equal(w.rates(111_000, 60).connections, 0, 'past the minute');
});
