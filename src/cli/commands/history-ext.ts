// Joins the history store to `dhrishti run`: --data-dir, --retention, --no-history,
// and the store's routes on the API.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runExtensions } from './run.js';
import { HistoryStore } from '../../store/history-store.js';
import { historyRoutes } from '../../api/history-routes.js';
import { defaultDataDir, databaseFile } from '../../store/paths.js';
import { parseRetention, formatRetention, formatDuration, type Tier } from '../../store/retention.js';
import { parseDuration } from '../../api/params.js';
import { DEFAULTS, HISTORY_DEFAULTS } from '../../config/defaults.js';
import { runContext } from '../run-context.js';

interface HistoryCliOptions {
  history: boolean;
  dataDir?: string;
  retention?: Tier[];
  flushInterval?: number;
}

const cli = <T>(parse: (v: string) => T) => (v: string): T => {
  try { return parse(v); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};

runExtensions.push({
  options(cmd: Command) {
    cmd
      .addOption(new Option('--data-dir <path>', `folder of the history database (default ${DEFAULTS.dataDirRoot} as root, else ~/${DEFAULTS.dataDirUser})`).env('DHRISHTI_DATA_DIR'))
      .option('--retention <tiers>', `history kept, as resolution:keep per tier, finest first (default ${HISTORY_DEFAULTS.retention})`, cli(parseRetention))
      .option('--no-history', 'keep no history (live map only)')
      // Tests flush every second instead of every finest bucket.
      .addOption(new Option('--flush-interval <duration>', 'how often history is written').hideHelp().argParser(cli((v) => parseDuration(v, '--flush-interval'))));
  },
  async start(agent, raw) {
    const opts = raw as unknown as HistoryCliOptions;
    if (!opts.history) return { plugins: [], describe: ['history off (--no-history)'], stop() {} };
    const file = databaseFile(opts.dataDir ?? defaultDataDir());
    const tiers = opts.retention ?? parseRetention(HISTORY_DEFAULTS.retention);
    const r0 = tiers[0].resolutionMs;
    if (opts.flushInterval !== undefined && (opts.flushInterval > r0 || r0 % opts.flushInterval !== 0)) {
      throw new Error(`--flush-interval must divide the finest retention resolution (${formatDuration(r0)})`);
    }
    // Problems with the file (corrupt, read-only, in use, disk full) do not stop the agent: the store
    // says what it does about them in its health (/api/v1/agent, /metrics, the UI) and on stderr.
    const store = new HistoryStore({ file, tiers, flushIntervalMs: opts.flushInterval, mapIdleMs: (raw as { idle?: number }).idle });
    agent.historyHealth = () => store.health();
    store.attach(agent.graph, agent.identity);
    store.start();
    const h = store.health();
    const head = `history in ${file} (retention ${formatRetention(tiers)}, written every ${formatDuration(store.flushIntervalMs)})`;
    if (h.state === 'read_only' || h.state === 'unavailable') console.error(`dhrishti: warning: history ${h.state.replace('_', '-')}: ${h.reason}`);
    runContext.history = store;
    return {
      plugins: [historyRoutes(store)],
      describe: [h.state === 'ok' || h.state === 'recovered' ? head : `${head}: ${h.state.replace('_', '-')}`],
      stop: () => store.close(),
    };
  },
});
