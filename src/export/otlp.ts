// OTLP push (`--otlp-endpoint`): the same families, handed to the OpenTelemetry
// SDK as a MetricProducer (the SDK's own way to bridge metrics it did not
// record) and sent by its OTLP/HTTP exporter. Names stay the Prometheus ones
// without `_total` and with UCUM units, so a collector writing to Prometheus
// gives back the names /metrics has.
import { AggregationTemporality, DataPointType, MeterProvider, PeriodicExportingMetricReader, type CollectionResult, type MetricData, type MetricProducer, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportResultCode, millisToHrTime, type ExportResult } from '@opentelemetry/core';
import { ValueType } from '@opentelemetry/api';
import { EXPORT_DEFAULTS } from '../config/defaults.js';
import { otlpName, type Family, type Snapshot } from './families.js';
import type { PushStats } from './push-stats.js';
import { otlpMetricsUrl } from './push-urls.js';

function metricData(f: Family, start: [number, number], end: [number, number]): MetricData {
  const descriptor = { name: otlpName(f), description: f.help, unit: f.unit, valueType: ValueType.DOUBLE };
  const point = <T>(attributes: Record<string, string>, value: T) => ({ startTime: start, endTime: end, attributes, value });
  if (f.type === 'summary') { // OTLP's summary carries quantiles the SDK cannot build: a histogram without bounds holds sum and count
    return {
      descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
      dataPoints: f.series.map((s) => point(s.labels, { buckets: { boundaries: [], counts: [s.count] }, sum: s.sum, count: s.count })),
    };
  }
  if (f.type === 'histogram') {
    return {
      descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
      dataPoints: f.series.map((s) => point(s.labels, { buckets: { boundaries: [...f.bounds], counts: Array.from(s.counts) }, sum: s.sum, count: s.count })),
    };
  }
  if (f.type === 'counter') {
    return {
      descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true,
      dataPoints: f.series.map((s) => point(s.labels, s.value)),
    };
  }
  return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: f.series.map((s) => point(s.labels, s.value)) };
}

const resourceOf = (host: string, version: string) => resourceFromAttributes({ 'service.name': 'dhrishti', 'service.version': version, 'host.name': host });

export function resourceMetrics(snap: Snapshot, host: string, version: string): ResourceMetrics {
  const start = millisToHrTime(snap.startTime), end = millisToHrTime(snap.time);
  return {
    resource: resourceOf(host, version),
    scopeMetrics: [{ scope: { name: 'dhrishti', version }, metrics: snap.families.map((f) => metricData(f, start, end)) }],
  };
}

class FamilyProducer implements MetricProducer {
  constructor(private readonly snapshot: () => Snapshot | Promise<Snapshot>, private readonly host: string, private readonly version: string) {}
  async collect(): Promise<CollectionResult> {
    return { resourceMetrics: resourceMetrics(await this.snapshot(), this.host, this.version), errors: [] };
  }
}

/** Counts what the SDK's exporter reports back, so a failing collector is visible on /metrics and in the log. */
class CountingExporter implements PushMetricExporter {
  constructor(private readonly inner: PushMetricExporter, private readonly stats: PushStats) {}
  export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
    const t0 = performance.now();
    this.inner.export(metrics, (r) => {
      this.stats.record(r.code === ExportResultCode.SUCCESS, performance.now() - t0, r.error?.message);
      done(r);
    });
  }
  forceFlush(): Promise<void> { return this.inner.forceFlush(); }
  shutdown(): Promise<void> { return this.inner.shutdown(); }
  selectAggregationTemporality(t: Parameters<NonNullable<PushMetricExporter['selectAggregationTemporality']>>[0]) {
    return this.inner.selectAggregationTemporality?.(t) ?? AggregationTemporality.CUMULATIVE;
  }
}

export interface OtlpOptions {
  endpoint: string;
  intervalMs?: number;
  host: string;
  version: string;
  headers?: Record<string, string>;
}

export class OtlpPusher {
  private readonly provider: MeterProvider;
  private readonly reader: PeriodicExportingMetricReader;

  constructor(snapshot: () => Snapshot | Promise<Snapshot>, readonly stats: PushStats, o: OtlpOptions) {
    const interval = o.intervalMs ?? EXPORT_DEFAULTS.otlpIntervalMs;
    const e = otlpMetricsUrl(o.endpoint);
    const exporter = new OTLPMetricExporter({ url: e.url, headers: { ...e.headers, ...o.headers }, timeoutMillis: Math.min(EXPORT_DEFAULTS.pushTimeoutMs, interval) });
    this.reader = new PeriodicExportingMetricReader({
      exporter: new CountingExporter(exporter, stats),
      exportIntervalMillis: interval,
      exportTimeoutMillis: Math.min(EXPORT_DEFAULTS.pushTimeoutMs, interval),
      metricProducers: [new FamilyProducer(snapshot, o.host, o.version)],
    });
    // The reader sends producers' metrics under the provider's resource.
    this.provider = new MeterProvider({ resource: resourceOf(o.host, o.version), readers: [this.reader] });
  }

  /** Pushes now (the periodic push goes on). */
  flush(): Promise<void> { return this.reader.forceFlush(); }

  async stop(): Promise<void> {
    try { await this.provider.shutdown(); } catch { /* collector gone: nothing more to send */ }
  }
}
