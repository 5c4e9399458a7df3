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
  /** Warm-up of a no-agent turn (one comes before, between and after the observers): it follows the last turn's load at once and has no JIT to warm. */
  baselineWarmupSeconds: 3,
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
  /** Pairs of runs, and seconds per run, with capture switched off and on in one agent (lib/capture-switch.ts). */
  switchPairs: 8,
  switchSeconds: 2,
  targets: {
    /** Throughput with `dhrishti run` (L7 on) over no observer. */
    ratio: 0.95,
    /** The agent's CPU per 10k requests per second, as a fraction of one core. */
    cpuPer10k: 0.05,
    rssGrowthMb: 20,
  },
} as const;

/** bench/ui-render.ts: the synthetic map the web UI draws, how it changes, and the target. */
export const UI_BENCH = {
  nodes: 200,
  edges: 1000,
  /** A delta this often, changing this share of the edges' numbers. */
  deltaIntervalMs: 500,
  changedEdgeShare: 0.05,
  /** Deltas measured after the first drawing. */
  updates: 40,
  targetP95Ms: 50,
  viewport: { width: 1440, height: 900 },
} as const;

/** bench/policy.ts: verdicts for this many edges under this many rules, and the targets. */
export const POLICY_BENCH = {
  edges: 5000,
  nodes: 1000,
  rules: 200,
  zones: 100,
  repeats: 21,
  /** Timed runs of the new-edge measures (each on a fresh engine and, for new nodes, fresh nodes), after one warm-up. */
  runs: 41,
  targets: { reevaluateMs: 20, perNewEdgeUs: 10 },
} as const;

/** bench/fleet.ts: the scrape and hub benchmarks' load, and the targets printed beside the results. */
export const FLEET_BENCH = {
  /** Real edges on a real agent (one per listening port), all exported with their own labels. */
  scrapeEdges: 2000,
  /** Every this-many-th edge (of the scraped agent and the push) carries HTTP requests, so the request families' cost is measured. */
  httpEvery: 4,
  scrapeRuns: 20,
  /** Interval of the real Prometheus that scrapes the bench agent (its scrape_duration_seconds is the scrape time). */
  promScrapeIntervalSec: 3,
  /** The busy scrape run: every edge gets a new connection this often (its rows move between two scrapes). */
  busySweepMs: 2000,
  /**
   * The busy run's timed scrapes wait (at most this long) for the agent's first full collection after
   * start-up: that one sets the heap's room for a long-running agent (about 2 minutes in, here), and
   * scrapes timed before it measure a young agent's easier heap.
   */
  settleMaxMs: 300_000,
  /** Remote-write pushes of the scrape's edge count, timed in the bench process. */
  pushRuns: 10,
  /** Prometheus' usual interval, for the agent's share of a core spent on exporting. */
  scrapeIntervalSec: 15,
  /** Synthetic fleet written through remote-write: hosts, logical edges, share of them crossing hosts. */
  hosts: 20,
  edges: 5000,
  crossHostShare: 0.5,
  hubRuns: 10,
  /** Reports of every host written before the hub is measured, one per reportEverySec. */
  historyReports: 6,
  reportEverySec: 15,
  /** The live hub: its refresh, how long it is loaded with requests, and the pause between one client's requests. */
  hubRefreshSec: 5,
  hubLoadSec: 60,
  hubRequestGapMs: 100,
  targets: { scrapeMs: 100, exportCorePercent: 1, hubP95Ms: 1000 },
} as const;
