// `dhrishti hub --prometheus URL`: one map for many hosts, built from every
// agent's series in Prometheus, served with the same API and web UI as an agent.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { startApi } from '../../api/server.js';
import { listeningToken } from '../token.js';
import { parseDuration } from '../../api/params.js';
import { DEFAULTS, HUB_DEFAULTS } from '../../config/defaults.js';
import { port } from '../options.js';
import { onShutdown } from '../lifecycle.js';
import { HubSource } from '../../hub/source.js';
import { hubHistoryRoutes } from '../../hub/history.js';
import { hubRegistry } from '../../hub/metrics.js';
import { checkPrometheusUrl } from '../../hub/promql.js';
import type { Endpoint } from '../../net/endpoint.js';

interface HubCliOptions {
  prometheus: string;
  host: string;
  port: number;
  token?: string;
  tokenFile?: string;
  refresh?: number;
  queryTimeout?: number;
  staleAfter?: number;
}

const cli = <T>(parse: (v: string) => T) => (v: string): T => {
  try { return parse(v); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};

export function registerHub(program: Command): void {
  program
    .command('hub')
    .description('one map for many hosts, from the agents\' metrics in Prometheus (or Thanos, Mimir, VictoriaMetrics)')
    .addOption(new Option('--prometheus <url>', 'Prometheus HTTP API base URL, e.g. http://prometheus:9090 (user:password@ in it is sent as Basic auth and never logged; give such a URL in DHRISHTI_PROMETHEUS, not on the command line, which ps shows)').env('DHRISHTI_PROMETHEUS').makeOptionMandatory())
    .option('--host <address>', 'address the hub listens on', DEFAULTS.apiHost)
    .option('--port <port>', 'hub port', port, HUB_DEFAULTS.port)
    .option('--token-file <path>', 'file holding the API token (required off loopback; or DHRISHTI_TOKEN)')
    .option('--token <token>', 'API token on the command line (visible in ps: prefer --token-file)')
    .option('--refresh <duration>', `live map refreshed this often (default ${HUB_DEFAULTS.refreshMs / 1000}s)`, cli((v) => parseDuration(v, '--refresh')))
    .option('--query-timeout <duration>', `a PromQL request slower than this fails (default ${HUB_DEFAULTS.queryTimeoutMs / 1000}s)`, cli((v) => parseDuration(v, '--query-timeout')))
    .option('--stale-after <duration>', `an agent silent for this long is shown stale (default ${HUB_DEFAULTS.staleAfterMs / 1000}s)`, cli((v) => parseDuration(v, '--stale-after')))
    .action((o: HubCliOptions) => hub(o));
}

async function hub(o: HubCliOptions): Promise<void> {
  const say = (s: string) => console.log(`dhrishti hub: ${s}`);
  // checked here, not by the option's parser: commander would repeat the raw value, password and all, in its message
  let prometheus: Endpoint;
  try { prometheus = checkPrometheusUrl(o.prometheus); } catch (e) { console.error(`dhrishti hub: ${(e as Error).message}`); process.exit(2); }
  const token = listeningToken(o, o.host, 'dhrishti hub');
  const source = new HubSource({ prometheus: prometheus.url, headers: prometheus.headers, refreshMs: o.refresh, timeoutMs: o.queryTimeout, staleAfterMs: o.staleAfter });
  await source.start();
  onShutdown(() => say('stopped')); // stoppers run last first: this one ends
  onShutdown(() => source.stop());
  const s = source.hubStatus;
  if (s.state === 'ok') {
    const agents = source.telemetry().agents;
    say(`Prometheus at ${prometheus.url} answers (${s.queryMs} ms): ${agents.length} agents, ${agents.filter((a) => a.state === 'up').length} up`);
  } else {
    // the reason was just said, by the refresh that failed
    say(`warning: no map until Prometheus answers; retrying every ${(o.refresh ?? HUB_DEFAULTS.refreshMs) / 1000}s (the API answers 503 until then)`);
  }
  const registry = hubRegistry(source);
  try {
    const { app, url } = await startApi({ graph: source.graph, telemetry: () => source.telemetry(), status: () => source.status(), metrics: () => registry, health: () => source.health() },
      { host: o.host, port: o.port, token, remedies: { token: 'pass --token-file <path> or set DHRISHTI_TOKEN' } }, [hubHistoryRoutes(source, o.staleAfter)]);
    onShutdown(() => app.close());
    onShutdown(() => say('stopping: closing the API'));
    say(`API on ${url}/api/v1 ${token ? '(token required)' : ''}`.trim());
    say(`web UI on ${url}/`);
  } catch (e) {
    console.error(`dhrishti hub: ${(e as Error).message}`);
    source.stop();
    process.exit(1);
  }
}
