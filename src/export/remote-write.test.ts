// The remote-write encoder (unit test): what it sends decodes, with protobufjs
// and snappy, to exactly the series the families hold, push after push (kept
// bytes, new numbers), sorted labels, and batches that each stand alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compressSync, uncompressSync } from 'snappy';
import { RemoteWriteEncoder, WriteRequest, toTimeseries } from './remote-write.js';
import type { Family, Snapshot } from './families.js';

interface Decoded { timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number | { toNumber(): number } }[] }[] }

function decode(bodies: Buffer[]): { labels: Record<string, string>; names: string[]; value: number; timestamp: number }[] {
  return bodies.flatMap((b) => {
    const wr = WriteRequest.decode(uncompressSync(compressSync(b)) as Buffer) as unknown as Decoded;
    return wr.timeseries.map((t) => ({
      labels: Object.fromEntries(t.labels.map((l) => [l.name, l.value])),
      names: t.labels.map((l) => l.name),
      value: t.samples[0].value,
      timestamp: typeof t.samples[0].timestamp === 'number' ? t.samples[0].timestamp : t.samples[0].timestamp.toNumber(),
    }));
  });
}

const edge = { client: 'web', client_group: 'shop', server: 'api', server_group: '', server_port: '8080', host: 'h' };
function families(n: number): Family[] {
  return [
    { type: 'counter', name: 'dhrishti_edge_connections_opened_total', help: '', unit: '', series: [{ labels: edge, value: n }] },
    { type: 'histogram', name: 'dhrishti_edge_rtt_seconds', help: '', unit: 's', bounds: [0.001, 0.01], series: [{ labels: edge, counts: [n, 1, 2], sum: n / 10, count: n + 3 }] },
    { type: 'summary', name: 'dhrishti_edge_connection_duration_seconds', help: '', unit: 's', series: [{ labels: edge, sum: 1.5, count: n, quantiles: [[0.95, n / 100]] }] },
  ];
}

test('remote-write: kept series bytes with new values decode to the families, labels sorted, empty ones left out', () => {
  const enc = new RemoteWriteEncoder({ job: 'dhrishti', instance: 'h' });
  for (const [n, time] of [[7, 1_700_000_000_000], [9.5, 1_700_000_015_000], [2 ** 40, 1_700_000_030_123]]) {
    const snap: Snapshot = { families: families(n), time, startTime: 0 };
    const got = decode(enc.encode(snap).map((b) => Buffer.from(b)));
    const want = toTimeseries(snap, { job: 'dhrishti', instance: 'h' });
    assert.equal(got.length, 1 + 5 + 3);
    assert.equal(enc.series, got.length);
    assert.deepEqual(got.map((g) => g.labels), want.map((w) => w.labels));
    assert.deepEqual(got.map((g) => g.value), want.map((w) => w.samples[0].value));
    assert.ok(got.every((g) => g.timestamp === time));
    for (const g of got) assert.deepEqual(g.names, [...g.names].sort(), 'label names sorted');
    assert.ok(got.every((g) => !('server_group' in g.labels)), 'an empty value is no label');
  }
  const last = decode(enc.encode({ families: families(3), time: 1_700_000_045_000, startTime: 0 }));
  assert.deepEqual(last.filter((g) => g.labels.__name__ === 'dhrishti_edge_rtt_seconds_bucket').map((g) => [g.labels.le, g.value]), [['0.001', 3], ['0.01', 4], ['+Inf', 6]]);
  assert.equal(last.find((g) => g.labels.quantile === '0.95')!.value, 0.03);
});

test('remote-write: batches are whole WriteRequests', () => {
  const series = Array.from({ length: 25 }, (_, i) => ({ labels: { ...edge, server_port: String(i) }, value: i }));
  const snap: Snapshot = { families: [{ type: 'gauge', name: 'g', help: '', unit: '', series }], time: 1_700_000_000_000, startTime: 0 };
  const bodies = new RemoteWriteEncoder({}, 10).encode(snap);
  assert.equal(bodies.length, 3);
  assert.deepEqual(bodies.map((b) => decode([b]).length), [10, 10, 5]);
  assert.deepEqual(decode(bodies).map((g) => g.value), series.map((s) => s.value));
});
