// `dhrishti check`: judges a map against a policy (and compose files), for CI
// pipelines and cron. The map comes from a running agent (live, or its history
// with --since) or from a history file on disk (--data-dir, agent stopped).
// Exit: 0 clean, 1 violations (with --strict also undeclared edges and network
// crossings), 2 the check itself could not run.
import type { Command } from 'commander';
import { agentUrl, oneOf } from '../options.js';
import { DEFAULTS, HISTORY_DEFAULTS } from '../../config/defaults.js';
import type { CheckOptions } from './check-run.js'; // a type only: the module itself loads with the command

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check the map against an isolation policy and/or compose files; exit 1 on any violation')
    .option('--policy <file>', 'policy file (YAML); needed unless --compose is given')
    .option('--compose <file>', 'compose file to compare with what was observed (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--since <duration>', 'judge everything seen in this long (from the agent\'s history), e.g. 1h; default: the live map (with --data-dir: 1h)')
    .option('--url <url>', 'agent address', agentUrl, `http://${DEFAULTS.apiHost}:${DEFAULTS.apiPort}`)
    .option('--token-file <path>', 'file holding the agent\'s API token (or DHRISHTI_TOKEN)')
    .option('--token <token>', 'API token on the command line (visible in ps: prefer --token-file)')
    .option('--data-dir <path>', 'read the history file in this folder instead of asking an agent (the agent must be stopped)')
    .option('--retention <tiers>', `retention the history was written with (with --data-dir; default ${HISTORY_DEFAULTS.retention})`)
    .option('--format <format>', 'table or json', oneOf('--format', ['table', 'json'] as const), 'table')
    .option('--strict', 'also exit 1 on undeclared edges and network crossings (with --compose)')
    .option('--all', 'list every edge, not only violations')
    .action(async (opts: CheckOptions, cmd: Command) => {
      if (!opts.policy && !opts.compose?.length) cmd.error('error: give --policy <file>, --compose <file>, or both', { exitCode: 2 });
      try {
        const { check } = await import('./check-run.js'); // the policy and compose code loads with the command, not with every start
        process.exitCode = await check(opts);
      } catch (e) {
        console.error(`dhrishti check: ${(e as Error).message}`);
        process.exitCode = 2;
      }
    });
}
