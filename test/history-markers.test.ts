// The replay track's markers (src/ui/src/history/markers.ts), and the custom range's ends (range.ts): counts from the history's exact per-bucket
// counts, not from the failure samples; request errors on the track; samples named as samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markersFrom } from '../src/ui/src/history/markers.js';
import { fromLocalInput, toLocalInput } from '../src/ui/src/history/range.js';
import type { Timeline } from '../src/graph/types.js';
import type { HistoryEvent } from '../src/ui/src/history/api.js';

const T = Date.UTC(2026, 0, 1, 7, 2, 0);
const S = 1000;
const sample = (t: number, reason: string): HistoryEvent => ({ time: t, type: 'failure', node: null, edge: 'a|b|80|tcp', detail: { reason, error: 'ECONNREFUSED' } });
const topo = (t: number): HistoryEvent => ({ time: t, type: 'edge_appeared', node: null, edge: 'a|b|80|tcp', detail: {} });
const tl = (buckets: Timeline['buckets'], step = 10 * S): Timeline => ({ step, from: T - 60 * S, to: T + 60 * S, buckets });

test('a bucket of 30 failed connections reads 30 (20 refused, 10 reset), not the 10 samples kept', () => {
  const samples = [...Array.from({ length: 7 }, (_, i) => sample(T + i, 'refused')), ...Array.from({ length: 3 }, (_, i) => sample(T + 100 + i, 'reset'))];
  const m = markersFrom([...samples, topo(T + 5 * S), topo(T + 5 * S), topo(T + 6 * S)], tl([{ t: T, failures: 30, failedBy: { refused: 20, reset: 10 }, requestErrors: 0 }]));
  assert.equal(m.length, 1, 'one marker per bucket: its failures and topology changes together');
  assert.equal(m[0].text, '30 failed connections (20 refused, 10 reset); 3 topology changes');
  assert.deepEqual([m[0].kind, m[0].failures, m[0].topology], ['failures', 30, 3]);
});

test('a loop refused 150 times gives the counts timeseries gives (16/50/50/34), whatever the samples', () => {
  const counts = [16, 50, 50, 34];
  const buckets = counts.map((n, i) => ({ t: T + i * 10 * S, failures: n, failedBy: { refused: n }, requestErrors: 0 }));
  const samples = [11, 9, 10, 10].flatMap((n, i) => Array.from({ length: n }, (_, k) => sample(T + i * 10 * S + k, 'refused')));
  const m = markersFrom(samples, tl(buckets));
  assert.deepEqual(m.map((x) => x.failures), counts);
  assert.deepEqual(m.map((x) => x.text), counts.map((n) => `${n} failed connections (refused)`));
});

test('request errors reach the track, labelled as such, beside the topology changes of their bucket', () => {
  const m = markersFrom([topo(T + 1), topo(T + 2), topo(T + 3)], tl([{ t: T, failures: 0, failedBy: {}, requestErrors: 25 }]));
  assert.equal(m.length, 1);
  assert.equal(m[0].text, '25 request errors; 3 topology changes');
  assert.equal(m[0].kind, 'requests');
  assert.equal(markersFrom([], tl([{ t: T, failures: 1, failedBy: { reset: 1 }, requestErrors: 1 }]))[0].text, '1 failed connection (reset); 1 request error');
});

test('a coarse timeline says its bucket; without a timeline, samples are called samples and a hub\'s counts are used', () => {
  assert.equal(markersFrom([], tl([{ t: T, failures: 1200, failedBy: { timeout: 1200 }, requestErrors: 0 }], 60 * S))[0].text, '1,200 failed connections (timeout) in 1 min');
  const sampled = markersFrom([sample(T, 'refused'), sample(T + 1, 'refused')], null);
  assert.equal(sampled[0].text, '2 failed connection samples (refused) (samples are rate-limited: there may have been more)');
  const hub = markersFrom([{ ...sample(T, 'refused'), detail: { reason: 'refused', count: 20 } }, { ...sample(T + 1, 'reset'), detail: { reason: 'reset', count: 10 } }], null);
  assert.equal(hub[0].text, '30 failed connections (20 refused, 10 reset)');
  assert.deepEqual(markersFrom([topo(T)], null).map((x) => [x.kind, x.text]), [['topology', '1 topology change']]);
});

test('the agent\'s own stops and starts are on the track, a kill named as such, so a gap reads as unrecorded, not quiet', () => {
  const run = (t: number, type: string, detail: Record<string, unknown> = {}): HistoryEvent => ({ time: t, type, node: null, edge: null, detail });
  const m = markersFrom([run(T + S, 'agent_stopped', { unclean: true }), run(T + 40 * S, 'agent_started'), topo(T + 41 * S), run(T + 70 * S, 'agent_stopped')], tl([]));
  assert.deepEqual(m.map((x) => [x.t - T, x.kind, x.text]), [
    [0, 'agent', 'the agent was killed (its last write; no stop recorded)'],
    [40 * S, 'agent', '1 topology change; the agent started'],
    [70 * S, 'agent', 'the agent stopped'],
  ]);
  const worse = markersFrom([run(T + S, 'agent_started')], tl([{ t: T, failures: 2, failedBy: { refused: 2 }, requestErrors: 0 }]));
  assert.deepEqual([worse[0].kind, worse[0].text], ['failures', '2 failed connections (refused); the agent started']);
});

test('a custom range end keeps its seconds: 07:02:37 is not read as 07:02', () => {
  const t = T + 37 * S;
  const v = toLocalInput(t);
  assert.match(v, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:37$/);
  assert.equal(fromLocalInput(v), t);
});
