// The benchmarks' load shapes, repetitions and targets (the product's own defaults are in src/config/defaults.ts).
import { launcherFlags } from '../../src/config/launcher.js';

/** `npm run bench` (bench/run.ts): load shape, repetitions and the targets printed beside the results. */
export const BENCH = {
  /** wrk threads, open connections and seconds per measured run. */
  wrkThreads: 1,
  wrkConnections: 32,
  wrkSeconds: 8,
  /**
   * Unmeasured wrk run before each condition, so caches and JIT are warm. 2 s was not enough: the
   * agent's JIT still optimized 37 functions during a 20-s measured run after it (16 after 10 s), and
   * in one pair of runs it measured 71 ms of CPU per 10k connections against 63 after 10 s (98 with none).
   */
  warmupSeconds: 10,
  /** Every condition runs this many times, in alternating order; medians and spreads are reported. */
  rounds: 5,
  /** CPUs (taskset lists) for the load generator and the server when pinned; the observers always float. */
  wrkCpu: '0',
  serverCpu: '1',
  /** Synthetic ring buffer records decoded per pass, and passes timed. */
  decodeRecords: 1_000_000,
  decodeRepeats: 5,
  /** Records per decodeBatch call in the smaller-batch variants (a full 4 MiB ring buffer holds 29k records). */
  decodeBatchRecords: [256, 4096],
  /** V8 flags the agent runs with: read from the ./dhrishti launcher, so the bench measures what ships. */
  agentNodeFlags: launcherFlags(),
  targets: {
    keepAliveRatio: 0.97,
    connPerRequestRatio: 0.95,
    /** The full agent's CPU per 10k new connections. */
    agentCpuMsPer10kConnections: 50,
    decodeRecordsPerSec: 2_000_000,
  },
} as const;

/** bench/history.ts: the synthetic load written through the history store, and the targets. */
export const HISTORY_BENCH = {
  edges: 1000,
  nodes: 200,
  hours: 24,
  /** Each query is timed this many times; the median is reported. */
  queryRuns: 9,
  targets: { databaseBytes: 500 * 1024 * 1024, queryMs: 100 },
} as const;

/** bench/l7.ts (`npm run bench:l7`): request capture's cost on the product, and the targets of issue #10. */
export const L7_BENCH = {
  rounds: 3,
  seconds: 8,
  /** Unmeasured load after an observer starts (its start-up, first scans and JIT warm-up are not the run's growth). */
  warmupSeconds: 4,
  /** redis-benchmark connections (one thread); pgbench clients (one thread). */
  redisClients: 32,
  pgClients: 8,
  targets: {
    /** Throughput with `dhrishti run` (L7 on) over no observer. */
    ratio: 0.95,
    /** The agent's CPU per 10k requests per second, as a fraction of one core. */
    cpuPer10k: 0.05,
    rssGrowthMb: 20,
  },
} as const;
