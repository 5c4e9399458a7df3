// Prometheus remote-write push (`--remote-write URL`) for hosts Prometheus
// cannot scrape: the families as remote-write 1.0 time series (protobuf, by
// protobufjs), snappy-compressed (snappy, native, on libuv's threads).
//
// Cost: an agent with 2,000 labelled edges pushes ~38,000 series every 15 s.
// Building and encoding a message object per series each push (what a generic
// client does) took ~0.8 s of CPU per 20,000 series. Here each series is
// encoded by protobufjs once, as a one-series WriteRequest with a sample in it,
// and kept: a push copies those bytes and overwrites the sample's value and
// timestamp where they sit. Concatenated one-series WriteRequests are one
// WriteRequest (a repeated field may come in any number of pieces).
import protobuf from 'protobufjs';
import { compress } from 'snappy';
import { EXPORT_DEFAULTS } from '../config/defaults.js';
import { fetchFailure } from '../net/fetch-failure.js';
import type { Family, Labels, Snapshot } from './families.js';
import type { PushStats } from './push-stats.js';
import { checkRemoteWriteUrl } from './push-urls.js';

export interface RemoteWriteOptions {
  url: string;
  intervalMs?: number;
  headers?: Record<string, string>;
  /** Labels a scrape would have added (job, instance), so queries work the same. */
  labels?: Labels;
}

/** The remote-write 1.0 messages a sender fills (prometheus/prompb remote.proto and types.proto). */
const PROMPB = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: { fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } } },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
});
export const WriteRequest = PROMPB.lookupType('prometheus.WriteRequest');
const Label = PROMPB.lookupType('prometheus.Label');
const Sample = PROMPB.lookupType('prometheus.Sample');
/** Field tags: WriteRequest.timeseries and TimeSeries.labels are field 1, TimeSeries.samples field 2, all length-delimited. */
const TAG_1 = (1 << 3) | 2, TAG_2 = (2 << 3) | 2;

export interface Timeseries { labels: { __name__: string; [k: string]: string }; samples: { value: number; timestamp: number }[] }

/** One row of the families as remote-write sees it: a series' labels, its name, at most one added label (le, quantile), its value. */
type RowFn = (labels: Labels, name: string, extraName: string, extraValue: string, value: number) => void;

/** The rows of one series of a family. */
function seriesRows<F extends Family>(f: F, s: F['series'][number], fn: RowFn): void {
  if (f.type === 'histogram') {
    const h = s as Extract<Family, { type: 'histogram' }>['series'][number];
    let acc = 0;
    for (let i = 0; i < f.bounds.length; i++) { acc += h.counts[i]; fn(h.labels, `${f.name}_bucket`, 'le', String(f.bounds[i]), acc); }
    fn(h.labels, `${f.name}_bucket`, 'le', '+Inf', h.count);
    fn(h.labels, `${f.name}_sum`, '', '', h.sum);
    fn(h.labels, `${f.name}_count`, '', '', h.count);
  } else if (f.type === 'summary') {
    const m = s as Extract<Family, { type: 'summary' }>['series'][number];
    for (const [q, v] of m.quantiles ?? []) fn(m.labels, f.name, 'quantile', String(q), v);
    fn(m.labels, `${f.name}_sum`, '', '', m.sum);
    fn(m.labels, `${f.name}_count`, '', '', m.count);
  } else {
    const c = s as Extract<Family, { type: 'counter' | 'gauge' }>['series'][number];
    fn(c.labels, f.name, '', '', c.value);
  }
}

function forEachRow(families: Family[], fn: RowFn): void {
  for (const f of families) for (const s of f.series) seriesRows(f, s, fn);
}

/** The label set of one series, sorted by name as the spec asks; empty values are no label, as in the text format. */
function labelList(labels: Labels, name: string, extraName: string, extraValue: string, extra: Labels): { name: string; value: string }[] {
  const all: Labels = { ...extra, ...labels, __name__: name };
  if (extraName) all[extraName] = extraValue;
  return Object.keys(all).filter((k) => all[k] !== '').sort().map((k) => ({ name: k, value: all[k] }));
}

/** One sample per series at the snapshot's time, as plain objects (for tests and inspection). */
export function toTimeseries(snap: Snapshot, extra: Labels = {}): Timeseries[] {
  const out: Timeseries[] = [];
  forEachRow(snap.families, (labels, name, en, ev, value) => {
    const l = Object.fromEntries(labelList(labels, name, en, ev, extra).map((x) => [x.name, x.value])) as Timeseries['labels'];
    out.push({ labels: l, samples: [{ value, timestamp: snap.time }] });
  });
  return out;
}

/**
 * The rows of one series (a counter's one row; a histogram's buckets, sum and count), each a one-series
 * WriteRequest, back to back; `values[i]` is where row i's sample value sits, its timestamp right after.
 */
interface Block { bytes: Uint8Array; values: number[] }

const varint = (n: number) => protobuf.Writer.create().int64(n).finish();

/** Encodes snapshots into WriteRequest bodies, keeping each series' bytes for the next push. */
export class RemoteWriteEncoder {
  /** Per label object (one per edge, kept while it lives), per family. */
  private readonly cache = new WeakMap<Labels, Map<string, Block>>();
  /** Encoded Label messages by name and value: most pairs (host, job, kinds, groups) repeat across series. */
  private readonly labelMsgs = new Map<string, Uint8Array>();
  /** Series in the last encode. */
  series = 0;
  private readonly bodies: Buffer[] = [];

  constructor(private readonly extra: Labels = {}, private readonly batch: number = EXPORT_DEFAULTS.remoteWriteBatch) {}

  private labelMsg(name: string, value: string): Uint8Array {
    const k = `${name}\u0000${value}`;
    let b = this.labelMsgs.get(k);
    if (!b) {
      if (this.labelMsgs.size >= 100_000) this.labelMsgs.clear(); // bounded whatever the churn of names
      b = Label.encode({ name, value }).finish();
      this.labelMsgs.set(k, b);
    }
    return b;
  }

  private block(f: Family, series: Family['series'][number], rows: number, tsLen: number): Block {
    const labels = series.labels;
    let m = this.cache.get(labels);
    if (!m) { m = new Map(); this.cache.set(labels, m); }
    let b = m.get(f.name);
    if (!b || b.values.length !== rows || b.bytes.length - b.values[rows - 1] - 9 !== tsLen) {
      // A placeholder value, and a timestamp of the push's varint length: both are overwritten every push.
      const sample = Sample.encode({ value: 1, timestamp: 2 ** (7 * (tsLen - 1)) }).finish();
      const common = { ...this.extra, ...labels };
      const parts: Uint8Array[] = [], values: number[] = [];
      let at = 0;
      seriesRows(f, series, (_l, name, en, ev) => {
        // One TimeSeries (its labels sorted by name, then its sample) as one WriteRequest entry.
        const all: Labels = { ...common, __name__: name };
        if (en) all[en] = ev;
        const ts = protobuf.Writer.create();
        for (const k of Object.keys(all).sort()) if (all[k] !== '') ts.uint32(TAG_1).bytes(this.labelMsg(k, all[k]));
        ts.uint32(TAG_2).bytes(sample);
        const one = protobuf.Writer.create().uint32(TAG_1).bytes(ts.finish()).finish();
        // ...| 0x09 <8 bytes double> | 0x10 <varint timestamp>: the Sample's two fields end the entry.
        const tsAt = one.length - tsLen;
        if (one[tsAt - 1] !== 0x10 || one[tsAt - 10] !== 0x09) throw new Error('remote-write: unexpected encoding of a sample');
        values.push(at + tsAt - 9);
        parts.push(one);
        at += one.length;
      });
      b = { bytes: Buffer.concat(parts), values };
      m.set(f.name, b);
    }
    return b;
  }

  /**
   * WriteRequest bodies (uncompressed) of about `batch` series each, every sample at the snapshot's time.
   * They are valid until the next call, which writes over them.
   */
  encode(snap: Snapshot): Buffer[] {
    const ts = varint(snap.time), tsLen = ts.length;
    const blocks: Block[] = [];
    const values: number[] = [];
    for (const f of snap.families) {
      if (f.type === 'histogram') {
        const n = f.bounds.length + 3;
        for (const s of f.series) {
          blocks.push(this.block(f, s, n, tsLen));
          let acc = 0;
          for (let i = 0; i < f.bounds.length; i++) { acc += s.counts[i]; values.push(acc); }
          values.push(s.count, s.sum, s.count);
        }
      } else if (f.type === 'summary') {
        for (const s of f.series) {
          const q = s.quantiles ?? [];
          blocks.push(this.block(f, s, q.length + 2, tsLen));
          for (const [, v] of q) values.push(v);
          values.push(s.sum, s.count);
        }
      } else {
        for (const s of f.series) { blocks.push(this.block(f, s, 1, tsLen)); values.push(s.value); }
      }
    }
    this.series = values.length;
    const out: Buffer[] = [];
    let v = 0;
    for (let i = 0; i < blocks.length;) {
      // A body ends at a whole series, once it holds `batch` rows or more.
      let size = 0, rows = 0, j = i;
      for (; j < blocks.length && (rows < this.batch || j === i); j++) { size += blocks[j].bytes.length; rows += blocks[j].values.length; }
      // The same memory push after push (tens of MB a minute of new buffers keep the collector busy).
      let buf = this.bodies[out.length];
      if (!buf || buf.length < size) buf = this.bodies[out.length] = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
      buf = buf.subarray(0, size);
      let at = 0;
      for (; i < j; i++) {
        const b = blocks[i];
        buf.set(b.bytes, at);
        for (const off of b.values) {
          buf.writeDoubleLE(values[v++], at + off);
          for (let k = 0, p = at + off + 9; k < tsLen; k++) buf[p + k] = ts[k];
        }
        at += b.bytes.length;
      }
      out.push(buf);
    }
    return out;
  }
}

/** Sends one compressed WriteRequest; resolves to an error message, or null when the receiver took it. */
async function send(url: string, body: Uint8Array, headers: Record<string, string> | undefined, timeoutMs: number): Promise<string | null> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'User-Agent': 'dhrishti', ...headers },
      body: body as unknown as BodyInit,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return res.ok ? null : `HTTP ${res.status} ${res.statusText}${text ? `: ${text.trim().slice(0, 200)}` : ''}`;
  } catch (e) {
    return fetchFailure(e, url, timeoutMs);
  }
}

/** Encodes, compresses and sends a snapshot in batches; resolves to the first error, or null. */
export async function writeSnapshot(url: string, enc: RemoteWriteEncoder, snap: Snapshot, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<string | null> {
  for (const body of enc.encode(snap)) {
    const err = await send(url, await compress(body), opts.headers, opts.timeoutMs ?? EXPORT_DEFAULTS.pushTimeoutMs);
    if (err) return err;
  }
  return null;
}

export class RemoteWritePusher {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly encoder: RemoteWriteEncoder;

  constructor(private readonly snapshot: () => Snapshot | Promise<Snapshot>, readonly stats: PushStats, private readonly o: RemoteWriteOptions) {
    const e = checkRemoteWriteUrl(o.url);
    this.url = e.url;
    this.headers = { ...e.headers, ...o.headers };
    this.encoder = new RemoteWriteEncoder(o.labels);
  }

  start(): void {
    this.timer = setInterval(() => void this.push(), this.o.intervalMs ?? EXPORT_DEFAULTS.remoteWriteIntervalMs);
    this.timer.unref();
    void this.push();
  }

  /** One push; skipped while the previous one is still going (a slow receiver never piles up requests). */
  async push(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const t0 = performance.now();
    try {
      const err = await writeSnapshot(this.url, this.encoder, await this.snapshot(), { headers: this.headers });
      this.stats.record(err === null, performance.now() - t0, err ?? undefined);
    } catch (e) {
      this.stats.record(false, performance.now() - t0, (e as Error).message);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
