// The agent's own series as families for the pushers: the same rows a scrape of /metrics gives (unit test, a real prom-client registry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { SelfFamilies } from './self-families.js';
import { toTimeseries } from './remote-write.js';

/** Rows of the text exposition, `name{labels} value`, comments left out, sorted. */
function textRows(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).sort();
}

test('counters, gauges, histograms and summaries of the registry push as the rows /metrics shows, with its default labels', async () => {
  const reg = new client.Registry();
  reg.setDefaultLabels({ host: 'h1' });
  new client.Counter({ name: 'dhrishti_lost_events_total', help: 'x', labelNames: ['reason'], registers: [reg] }).inc({ reason: 'ringbuf_full' }, 3);
  new client.Gauge({ name: 'dhrishti_docker_up', help: 'x', registers: [reg] }).set(1);
  const h = new client.Histogram({ name: 'dhrishti_flush_seconds', help: 'x', buckets: [0.01, 0.1, 1], registers: [reg] });
  for (const v of [0.005, 0.05, 0.05, 0.5, 5]) h.observe(v);
  const s = new client.Summary({ name: 'dhrishti_lag_seconds', help: 'x', percentiles: [0.5, 0.99], registers: [reg] });
  for (const v of [1, 2, 3]) s.observe(v);

  const self = new SelfFamilies(reg);
  const fams = await self.families();
  const rows = toTimeseries({ families: fams, time: 1000, startTime: 0 }).map((t) => {
    const { __name__, ...l } = t.labels;
    const ls = Object.keys(l).sort().map((k) => `${k}="${l[k]}"`).join(',');
    return `${__name__}{${ls}} ${t.samples[0].value}`;
  }).sort();
  const text = textRows(await reg.metrics()).map((r) => r.replace(/^(\w+) /, '$1{} ').replace(/\{([^}]*)\}/, (_m, ls: string) => {
    const pairs = ls ? ls.split(/,(?=\w+=)/).sort() : [];
    return `{${pairs.join(',')}}`;
  }));
  assert.deepEqual(rows, text);
  const hist = fams.find((f) => f.name === 'dhrishti_flush_seconds')!;
  assert.equal(hist.type, 'histogram');
  assert.deepEqual(hist.type === 'histogram' && Array.from(hist.series[0].counts), [1, 2, 1, 1], 'per bucket, the last above every bound');

  const again = await self.families();
  assert.equal(again[0].series[0].labels, fams[0].series[0].labels, 'the same label object from push to push');
});
