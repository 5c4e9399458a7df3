// `dhrishti graph`: the map from a running agent, now or from its history, as JSON, DOT or Mermaid.
import type { Command } from 'commander';
import { agentUrl, oneOf } from '../options.js';
import { clientToken } from '../token.js';
import { toDot, toMermaid } from '../../graph/export.js';
import type { GraphSnapshot } from '../../graph/types.js';
import { fetchFailure } from '../../net/fetch-failure.js';
import { API_DEFAULTS, DEFAULTS } from '../../config/defaults.js';

const FORMATS = ['json', 'dot', 'mermaid'] as const;

/** The groups the same map has without --group, for a --group that matched nothing (a typo, most often). */
async function groupsHint(filtered: URL, token: string | undefined, group: string): Promise<string> {
  const u = new URL(filtered);
  u.searchParams.delete('group');
  try {
    const res = await fetch(u, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(API_DEFAULTS.clientTimeoutMs) });
    const g = (await res.json()) as GraphSnapshot;
    const groups = [...new Set(g.nodes.map((n) => n.group).filter((x): x is string => !!x))].sort();
    if (groups.includes(group)) return ' with those filters';
    return groups.length ? `; groups on that map: ${groups.slice(0, 20).join(', ')}${groups.length > 20 ? ', …' : ''}` : '; that map has no groups';
  } catch {
    return '';
  }
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('print the service map from a running agent: now, at a past moment (--at), or summed over a range (--from, --to)')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, oneOf('--format', FORMATS), 'json')
    .option('--url <url>', 'agent address', agentUrl, `http://${DEFAULTS.apiHost}:${DEFAULTS.apiPort}`)
    .option('--token-file <path>', 'file holding the agent\'s API token (or DHRISHTI_TOKEN)')
    .option('--token <token>', 'API token on the command line (visible in ps: prefer --token-file)')
    .option('--window <duration>', 'only edges seen within this long, e.g. 5m')
    .option('--group <name>', 'only this Compose project or Kubernetes namespace')
    .option('--include <kinds>', 'kinds besides containers: external,host,clients (\'\' for containers only; default all)')
    .option('--at <time>', 'the map at a past moment, from the agent\'s history: -5m, an ISO time or epoch ms')
    .option('--from <time>', 'the map summed over a past range from this time (history), e.g. -1h')
    .option('--to <time>', 'with --from: the range\'s end (default now)')
    .action(async (opts: { format: (typeof FORMATS)[number]; url: string; token?: string; tokenFile?: string; window?: string; group?: string; include?: string; at?: string; from?: string; to?: string }) => {
      let base: URL;
      try { base = new URL('/api/v1/graph', opts.url); } catch { console.error(`dhrishti graph: --url is not a URL: ${opts.url}`); process.exit(2); }
      for (const k of ['group', 'window', 'at', 'from', 'to'] as const) if (opts[k] === '') { console.error(`dhrishti graph: --${k} needs a value`); process.exit(2); }
      const usage = opts.at !== undefined && opts.from !== undefined ? '--at is a moment and --from a range: give one'
        : opts.to !== undefined && opts.from === undefined ? '--to needs --from'
          : opts.window !== undefined && (opts.at !== undefined || opts.from !== undefined) ? '--window is for the live map; a past map is --at or --from' : null;
      if (usage) { console.error(`dhrishti graph: ${usage}`); process.exit(2); }
      // An empty --include is kept: it means containers only, as include= does in the API.
      for (const k of ['window', 'group', 'include', 'at', 'from', 'to'] as const) if (opts[k] !== undefined) base.searchParams.set(k, opts[k]!);
      const token = clientToken(opts, 'dhrishti graph');
      let res: Response;
      try {
        res = await fetch(base, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(API_DEFAULTS.clientTimeoutMs) });
      } catch (e) {
        console.error(`dhrishti graph: no agent answering at ${opts.url}: ${fetchFailure(e, base.href, API_DEFAULTS.clientTimeoutMs)}; start one with: dhrishti run, or name a running one with --url (its --host and --port)`);
        process.exit(1);
      }
      const body = await res.json().catch(() => null) as (GraphSnapshot & { message?: string; recordedMs?: number }) | null;
      if (!res.ok || !body) {
        console.error(`dhrishti graph: the agent answered ${res.status}: ${body?.message ?? res.statusText}`);
        process.exit(1);
      }
      if (body.recordedMs === 0) console.error('dhrishti graph: nothing was recorded in that time (the agent was not running): an empty map there says nothing');
      if (opts.group !== undefined && !body.nodes.length) console.error(`dhrishti graph: no node in group "${opts.group}"${await groupsHint(base, token, opts.group)}`);
      process.stdout.write(opts.format === 'json' ? JSON.stringify(body, null, 2) + '\n' : opts.format === 'dot' ? toDot(body) : toMermaid(body));
    });
}
