// User-space decoding throughput: decodeBatch over a synthetic ring buffer batch.
import { decodeBatch, clockFrom } from '../src/events/decode.js';
import { EVENT_SIZE } from '../src/events/layout.js';
import { syntheticBatch, type SyntheticMix } from './lib/synthetic-events.js';

export interface DecodeBenchOptions { records: number; repeats: number; batchRecords: number }

export interface DecodeBenchResult {
  records: number;
  mix: SyntheticMix;
  /** Records per second, one entry per timed pass. */
  wholeBatch: number[];
  /** Same bytes handed over in ring-buffer-sized slices of `batchRecords`. */
  sliced: number[];
}

export function runDecodeBench(o: DecodeBenchOptions): DecodeBenchResult {
  const { buf, mix } = syntheticBatch(o.records);
  const clock = clockFrom(3_600e9);

  const whole = (): number => {
    const { events, malformed } = decodeBatch(buf, o.records, clock);
    if (malformed || events.length !== o.records) throw new Error(`decode bench: ${events.length} decoded, ${malformed} malformed of ${o.records}`);
    return events.length;
  };
  const sliced = (): number => {
    let n = 0;
    for (let first = 0; first < o.records; first += o.batchRecords) {
      const count = Math.min(o.batchRecords, o.records - first);
      n += decodeBatch(buf.subarray(first * EVENT_SIZE, (first + count) * EVENT_SIZE), count, clock).events.length;
    }
    return n;
  };

  const time = (fn: () => number): number[] => {
    fn(); // warm-up pass: lets the JIT optimise before timing
    const rates: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      const t0 = process.hrtime.bigint();
      const n = fn();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      rates.push(n / s);
    }
    return rates;
  };

  // Sliced first: the one-batch run leaves a heap grown to hold a million live events behind it.
  const slicedRates = time(sliced);
  return { records: o.records, mix, wholeBatch: time(whole), sliced: slicedRates };
}
