// Command-line flags of the request (L7) capture, shared by `run` and `trace`.
import { type Command, InvalidArgumentError } from 'commander';
import { L7_DEFAULTS } from '../config/defaults.js';
import type { L7Options } from '../l7/collector.js';
import { positiveInt, positiveNumber } from './options.js';

export interface L7Flags {
  l7?: boolean;
  l7Samples?: boolean;
  l7PrefixBytes?: number;
  l7SampleRate?: number;
  l7SlowMs?: number;
  l7Sockets?: number;
  l7Tls?: boolean;
}

function prefixBytes(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 256) throw new InvalidArgumentError(`--l7-prefix-bytes must be a whole number from 0 to 256, got "${v}"`);
  return n;
}

export function addL7Options(cmd: Command, trace = false): Command {
  // trace prints samples (every request is one): turning them off there would print nothing.
  if (!trace) {
    cmd.option('--no-l7', 'do not capture requests (HTTP, HTTP/2, gRPC, PostgreSQL, MySQL, Redis)')
      .option('--no-l7-samples', 'keep no samples of failed or slow requests (aggregates only)');
  }
  return cmd
    .option('--no-l7-tls', 'do not put uprobes on OpenSSL to see TLS plaintext')
    .option('--l7-prefix-bytes <n>', `request bytes kept per sample, 0-256 (default ${L7_DEFAULTS.prefixBytes})`, prefixBytes)
    .option('--l7-sample-rate <n>', `samples per second at most, in the kernel (default ${trace ? L7_DEFAULTS.traceSamplesPerSec : L7_DEFAULTS.samplesPerSec})`, positiveNumber('--l7-sample-rate', L7_DEFAULTS.maxSamplesPerSec))
    .option('--l7-slow-ms <ms>', `a request this slow is sampled (default ${L7_DEFAULTS.slowMs})`, positiveNumber('--l7-slow-ms', L7_DEFAULTS.maxSlowMs))
    .option('--l7-sockets <n>', `sockets whose requests the kernel aggregates at once (default ${L7_DEFAULTS.socketEntries})`, positiveInt('--l7-sockets', 1 << 20));
}

/** Engine options from the flags; false when request capture is off. */
export function l7OptionsFrom(f: L7Flags, sampleAll = false): L7Options | false {
  if (f.l7 === false) return false;
  return {
    samples: f.l7Samples !== false,
    tls: f.l7Tls !== false,
    prefixBytes: f.l7PrefixBytes,
    samplesPerSec: f.l7SampleRate,
    slowMs: f.l7SlowMs,
    socketEntries: f.l7Sockets,
    sampleAll,
    bothEnds: sampleAll, // trace lists each end's view of a request, as tcplife lists each socket
  };
}
