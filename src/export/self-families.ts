// The agent's own series (prom-client's registry: lost events, CPU, Docker,
// policy, ...) as families, so that a pushed agent (remote-write, OTLP) sends
// what a scrape of its /metrics finds, not only the edge rows: the shipped
// alerts on losses and policy read these.
import type { Registry } from 'prom-client';
import type { Family, HistogramSeries, Labels, ScalarSeries, SummarySeries } from './families.js';

type Value = { value: number; labels: Record<string, string | number | undefined>; metricName?: string };

/** Families of a registry's metrics, their label objects kept from call to call (the remote-write encoder caches by them). */
export class SelfFamilies {
  private readonly labelObjects = new Map<string, Labels>();

  constructor(private readonly reg: Registry) {}

  async families(): Promise<Family[]> {
    const out: Family[] = [];
    for (const m of await this.reg.getMetricsAsJSON()) {
      const values = m.values as Value[];
      const base = { name: m.name, help: m.help, unit: '1' };
      switch (String(m.type)) {
        case 'counter': out.push({ ...base, type: 'counter', series: values.map((v) => this.scalar(m.name, v)) }); break;
        case 'gauge': out.push({ ...base, type: 'gauge', series: values.map((v) => this.scalar(m.name, v)) }); break;
        case 'histogram': out.push(this.histogram(base, values)); break;
        case 'summary': out.push({ ...base, type: 'summary', series: this.summaries(m.name, values) }); break;
      }
    }
    return out;
  }

  /** The same label object for the same metric and labels (minus `omit`) every call. */
  private labels(metric: string, raw: Value['labels'], omit = ''): Labels {
    const l: Labels = {};
    for (const k of Object.keys(raw).sort()) if (k !== omit && raw[k] !== undefined) l[k] = String(raw[k]);
    const key = `${metric}\u0000${JSON.stringify(l)}`;
    let kept = this.labelObjects.get(key);
    if (!kept) {
      if (this.labelObjects.size >= 10_000) this.labelObjects.clear(); // bounded whatever the churn of label values
      this.labelObjects.set(key, (kept = l));
    }
    return kept;
  }

  private scalar(metric: string, v: Value): ScalarSeries { return { labels: this.labels(metric, v.labels), value: v.value }; }

  /** prom-client's cumulative `_bucket{le}` rows, `_sum` and `_count`, back into per-bucket counts. */
  private histogram(base: { name: string; help: string; unit: string }, values: Value[]): Family {
    const bounds = [...new Set(values.filter((v) => v.metricName?.endsWith('_bucket') && v.labels.le !== '+Inf').map((v) => Number(v.labels.le)))].sort((a, b) => a - b);
    const bySeries = new Map<Labels, { cumulative: number[]; sum: number; count: number }>();
    const entry = (v: Value) => {
      const l = this.labels(base.name, v.labels, 'le');
      let e = bySeries.get(l);
      if (!e) bySeries.set(l, (e = { cumulative: new Array(bounds.length).fill(0), sum: 0, count: 0 }));
      return e;
    };
    for (const v of values) {
      const e = entry(v);
      if (v.metricName?.endsWith('_sum')) e.sum = v.value;
      else if (v.metricName?.endsWith('_count')) e.count = v.value;
      else if (v.labels.le !== '+Inf') e.cumulative[bounds.indexOf(Number(v.labels.le))] = v.value;
    }
    const series: HistogramSeries[] = [...bySeries].map(([labels, e]) => ({
      labels, sum: e.sum, count: e.count, counts: e.cumulative.map((c, i) => c - (i ? e.cumulative[i - 1] : 0)).concat(e.count - (e.cumulative.at(-1) ?? 0)),
    }));
    return { ...base, type: 'histogram', bounds, series };
  }

  private summaries(metric: string, values: Value[]): SummarySeries[] {
    const bySeries = new Map<Labels, SummarySeries>();
    for (const v of values) {
      const l = this.labels(metric, v.labels, 'quantile');
      let s = bySeries.get(l);
      if (!s) bySeries.set(l, (s = { labels: l, sum: 0, count: 0, quantiles: [] }));
      if (v.metricName?.endsWith('_sum')) s.sum = v.value;
      else if (v.metricName?.endsWith('_count')) s.count = v.value;
      else s.quantiles!.push([Number(v.labels.quantile), v.value]);
    }
    return [...bySeries.values()];
  }
}
