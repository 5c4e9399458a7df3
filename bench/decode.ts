// User-space decoding throughput: decodeBatch over a synthetic ring buffer batch.
import { decodeBatch, clockFrom } from '../src/events/decode.js';
import { EVENT_SIZE } from '../src/events/layout.js';
import type { ConnEvent } from '../src/events/types.js';
import { syntheticBatch, type SyntheticMix } from './lib/synthetic-events.js';

export interface DecodeBenchOptions {
  records: number;
  repeats: number;
  /** Records per decodeBatch call; 0 means all records in one call. */
  batchSizes: number[];
}

export interface DecodeRun {
  /** Records per decodeBatch call (the whole buffer when equal to `records`). */
  batch: number;
  /** Records per second of CPU time, one entry per timed pass. */
  rates: number[];
}

export interface DecodeBenchResult { records: number; mix: SyntheticMix; runs: DecodeRun[] }

export function runDecodeBench(o: DecodeBenchOptions): DecodeBenchResult {
  const { buf, mix } = syntheticBatch(o.records);
  const clock = clockFrom(3_600e9);

  // As the engine decodes: into a pool of reused event objects.
  const pool: ConnEvent[] = [];
  const pass = (batch: number): number => {
    let n = 0;
    for (let first = 0; first < o.records; first += batch) {
      const count = Math.min(batch, o.records - first);
      const { events, malformed } = decodeBatch(buf.subarray(first * EVENT_SIZE, (first + count) * EVENT_SIZE), count, clock, pool);
      if (malformed || events.length !== count) throw new Error(`decode bench: ${events.length} decoded, ${malformed} malformed of ${count}`);
      n += events.length;
    }
    return n;
  };

  const runs: DecodeRun[] = [];
  // Smallest batches first: one call over a million records leaves a heap grown to hold them all behind it.
  for (const size of [...o.batchSizes].sort((a, b) => (a || Infinity) - (b || Infinity))) {
    const batch = size === 0 ? o.records : Math.min(size, o.records);
    pass(batch); // warm-up pass: lets the JIT optimise before timing
    const rates: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      // CPU time of this process, not wall time: other work on the machine does not count against it.
      const c0 = process.cpuUsage();
      const n = pass(batch);
      const c = process.cpuUsage(c0);
      rates.push(n / ((c.user + c.system) / 1e6));
    }
    runs.push({ batch, rates });
  }
  return { records: o.records, mix, runs };
}
