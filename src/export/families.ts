// The exporters' one neutral model: metric families with labelled series, built
// once per refresh and written out as Prometheus text, OTLP or remote-write.
/** A series' labels. Give the same object from refresh to refresh: the exposition keeps a series' text and chunk by this object. */
export type Labels = Record<string, string>;

export interface ScalarSeries { labels: Labels; value: number }

/** Per-bucket (not cumulative) counts, as GraphEdge.histograms holds them; bounds in the family's unit. */
export interface HistogramSeries { labels: Labels; counts: ArrayLike<number>; sum: number; count: number }

interface FamilyBase {
  /** Prometheus name, with `_total` for counters and the unit suffix (`_bytes`, `_seconds`). */
  name: string;
  help: string;
  /** UCUM unit for OTLP (`By`, `s`, `{connection}`, `1`). */
  unit: string;
}
export interface CounterFamily extends FamilyBase { type: 'counter'; series: ScalarSeries[] }
export interface GaugeFamily extends FamilyBase { type: 'gauge'; series: ScalarSeries[] }
export interface HistogramFamily extends FamilyBase { type: 'histogram'; bounds: readonly number[]; series: HistogramSeries[] }
/** Sum and count (a mean), and optionally quantiles of recent samples as [quantile, value]: a few rows instead of a histogram's dozen. */
export interface SummarySeries { labels: Labels; sum: number; count: number; quantiles?: [number, number][] }
export interface SummaryFamily extends FamilyBase { type: 'summary'; series: SummarySeries[] }
export type Family = CounterFamily | GaugeFamily | HistogramFamily | SummaryFamily;

/**
 * Series objects an exporter keeps per row and updates in place, one slot per
 * family: families are rebuilt every refresh and read (written out, pushed)
 * before the next, so a refresh need not make tens of thousands of new objects
 * that live through a scrape (and so into the old generation).
 */
export type SeriesSlots = unknown[];

/** The scalar series in `slots[slot]`, made once with `labels`, its value set now. */
export function scalarIn(slots: SeriesSlots, slot: number, labels: Labels, value: number): ScalarSeries {
  const s = (slots[slot] ??= { labels, value }) as ScalarSeries;
  s.value = value;
  return s;
}

/** The histogram series in `slots[slot]`, made once with `labels` and its counts (a view of acc[from, to), which its owner keeps current), its sum and count set now. */
export function histogramIn(slots: SeriesSlots, slot: number, labels: Labels, acc: Float64Array, from: number, to: number, sum: number, count: number): HistogramSeries {
  const h = (slots[slot] ??= { labels, counts: acc.subarray(from, to), sum, count }) as HistogramSeries;
  h.sum = sum;
  h.count = count;
  return h;
}

/** Series of one family share their start: the exporter's start, for OTLP's cumulative points. */
export interface Snapshot { families: Family[]; time: number; startTime: number }

/** Name without the counter suffix, the way OTLP names a monotonic sum (a collector adds `_total` back). */
export function otlpName(f: Family): string {
  return f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -'_total'.length) : f.name;
}

/** Expands a histogram into Prometheus' cumulative `_bucket{le}`, `_sum` and `_count` rows. */
export function cumulativeRows(f: HistogramFamily, s: HistogramSeries): { suffix: string; labels: Labels; value: number }[] {
  const rows = [];
  let acc = 0;
  for (let i = 0; i < f.bounds.length; i++) {
    acc += s.counts[i];
    rows.push({ suffix: '_bucket', labels: { ...s.labels, le: String(f.bounds[i]) }, value: acc });
  }
  rows.push({ suffix: '_bucket', labels: { ...s.labels, le: '+Inf' }, value: s.count });
  rows.push({ suffix: '_sum', labels: s.labels, value: s.sum });
  rows.push({ suffix: '_count', labels: s.labels, value: s.count });
  return rows;
}
