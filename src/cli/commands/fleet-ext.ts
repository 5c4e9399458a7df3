// Joins the fleet export to `dhrishti run`: edge metrics on /metrics, and the
// OTLP and remote-write pushers (--hostname, --top-edges, --otlp-endpoint, --remote-write).
import { InvalidArgumentError, Option, type Command } from 'commander';
import client from 'prom-client';
import { runExtensions } from './run.js';
import { metricsExtensions } from '../../api/metrics.js';
import { FleetExporter, HEARTBEAT } from '../../export/exporter.js';
import { expositionChunks } from '../../export/exposition.js';
import type { OtlpPusher } from '../../export/otlp.js';
import type { RemoteWritePusher } from '../../export/remote-write.js';
import { checkRemoteWriteUrl, otlpMetricsUrl } from '../../export/push-urls.js';
import { PushStats } from '../../export/push-stats.js';
import { SelfFamilies } from '../../export/self-families.js';
import type { Snapshot } from '../../export/families.js';
import { parseDuration } from '../../api/params.js';
import { EXPORT_DEFAULTS } from '../../config/defaults.js';
import { productVersion } from '../../config/version.js';
import type { Agent } from '../../agent/agent.js';
import { positiveInt } from '../options.js';

interface FleetCliOptions {
  hostname?: string;
  topEdges?: number;
  otlpEndpoint?: string;
  otlpInterval?: number;
  remoteWrite?: string;
  remoteWriteInterval?: number;
}

const cli = <T>(parse: (v: string) => T) => (v: string): T => {
  try { return parse(v); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};

function hostname(v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(v)) throw new Error(`--hostname takes a host name (letters, digits, dot, dash, underscore), got "${v}"`);
  return v;
}

/** Where the agent's events reach the exporter: the same scoped batches the graph gets. */
export function exportSource(agent: Agent) {
  const scope = agent.scope;
  return {
    graph: agent.graph,
    identity: agent.identity,
    scope,
    onEvents: (fn: (e: Parameters<Parameters<Agent['engine']['onEvents']>[0]>[0]) => void) =>
      agent.engine.onEvents((events) => fn(scope ? events.filter((e) => scope.owns(e.cgroupId, e.netns)) : events)),
  };
}

let exporter: FleetExporter | null = null;
/** The agent's own series, for the pushers (set with the registry). */
let selfFamilies: SelfFamilies | null = null;

/** What a push sends: the edge families, and the agent's own series as a scrape of /metrics has them. */
async function pushed(ex: FleetExporter): Promise<Snapshot> {
  const snap = ex.snapshot();
  if (!selfFamilies) return snap;
  // The heartbeat last (the exporter puts it last of its own): a push sent in pieces has every number in once it is,
  // the agent's DNS series included, which the hub reads with its edges.
  const own = await selfFamilies.families();
  const beat = snap.families.filter((f) => f.name === HEARTBEAT);
  return { ...snap, families: [...snap.families.filter((f) => f.name !== HEARTBEAT), ...own, ...beat] };
}
const pushers: { otlp?: OtlpPusher; rw?: RemoteWritePusher } = {};
const pushStats = { otlp: new PushStats('otlp'), rw: new PushStats('remote_write') };
/**
 * The pushers' modules, imported only when their flag is given: the OpenTelemetry SDK, protobufjs and snappy are
 * memory an agent that does not push would carry. Imported before `run` starts anything, so a failure stops it there.
 */
const pushModules: { otlp?: typeof import('../../export/otlp.js'); rw?: typeof import('../../export/remote-write.js') } = {};
async function importPushers(cmd: Command): Promise<void> {
  const o = cmd.opts<FleetCliOptions>();
  // checked here, not by the options' parsers: commander would repeat the raw value, password and all, in its message
  try {
    if (o.otlpEndpoint) otlpMetricsUrl(o.otlpEndpoint);
    if (o.remoteWrite) checkRemoteWriteUrl(o.remoteWrite);
  } catch (e) {
    cmd.error(`error: ${(e as Error).message}`, { exitCode: 2 });
  }
  if (o.otlpEndpoint) pushModules.otlp = await import('../../export/otlp.js');
  if (o.remoteWrite) pushModules.rw = await import('../../export/remote-write.js');
}

runExtensions.push({
  options(cmd: Command) {
    cmd
      .option('--hostname <name>', 'this host\'s name on edge metrics (label host; default the machine\'s host name)', cli(hostname))
      .option('--top-edges <n>', `edges exported with their own labels, busiest first; the rest are summed as "other" (default ${EXPORT_DEFAULTS.topEdges})`, positiveInt('--top-edges', 100_000))
      .addOption(new Option('--otlp-endpoint <url>', 'push the same metrics over OTLP/HTTP to this collector (e.g. http://collector:4318; user:password@ in it is sent as Basic auth: give such a URL in DHRISHTI_OTLP_ENDPOINT, which ps does not show)').env('DHRISHTI_OTLP_ENDPOINT'))
      .option('--otlp-interval <duration>', `how often to push over OTLP (default ${EXPORT_DEFAULTS.otlpIntervalMs / 1000}s)`, cli((v) => parseDuration(v, '--otlp-interval')))
      .addOption(new Option('--remote-write <url>', 'push the same metrics with Prometheus remote-write to this URL (e.g. http://prometheus:9090/api/v1/write; user:password@ in it is sent as Basic auth: give such a URL in DHRISHTI_REMOTE_WRITE, which ps does not show)').env('DHRISHTI_REMOTE_WRITE'))
      .option('--remote-write-interval <duration>', `how often to push with remote-write (default ${EXPORT_DEFAULTS.remoteWriteIntervalMs / 1000}s)`, cli((v) => parseDuration(v, '--remote-write-interval')))
      .hook('preAction', (c) => importPushers(c));
  },
  prepare(agent, raw) {
    const o = raw as unknown as FleetCliOptions;
    const version = productVersion();
    const ex = new FleetExporter(exportSource(agent), { host: o.hostname, topEdges: o.topEdges, version });
    exporter = ex;
    metricsExtensions.push((reg) => {
      // The agent's own series (lost events, CPU, policy, ...) carry the same host as its edge rows, so a query or
      // alert by host finds both. prom-client adds it to its series only; the appended edge rows have it already.
      reg.setDefaultLabels({ host: ex.host });
      selfFamilies = new SelfFamilies(reg);
      reg.appendChunks(() => expositionChunks(ex.snapshot().families));
      new client.Counter({
        name: 'dhrishti_export_build_seconds_total', help: 'Main-thread time spent building the edge metrics from the graph', registers: [reg],
        collect() { this.reset(); this.inc(ex.buildMs / 1000); },
      });
      new client.Counter({
        name: 'dhrishti_export_write_seconds_total', help: 'Main-thread time spent on the edge rows of /metrics: building them when due, writing their text, starting their compression', registers: [reg],
        collect() { this.reset(); this.inc(reg.appendedMs / 1000); },
      });
      const active = [pushers.otlp ? pushStats.otlp : null, pushers.rw ? pushStats.rw : null].filter((s): s is PushStats => s !== null);
      if (!active.length) return;
      new client.Counter({
        name: 'dhrishti_export_pushes_total', help: 'Pushes to OTLP or remote-write receivers, by outcome', labelNames: ['exporter', 'outcome'], registers: [reg],
        collect() {
          this.reset();
          for (const s of active) { this.inc({ exporter: s.exporter, outcome: 'ok' }, s.pushes - s.failures); this.inc({ exporter: s.exporter, outcome: 'failed' }, s.failures); }
        },
      });
    });
  },
  async start(_agent, raw) {
    const o = raw as unknown as FleetCliOptions;
    const ex = exporter!;
    const describe = [`edge metrics on /metrics as host "${ex.host}" (top ${o.topEdges ?? EXPORT_DEFAULTS.topEdges} edges, the rest as "other")`];
    if (o.otlpEndpoint && pushModules.otlp) {
      pushers.otlp = new pushModules.otlp.OtlpPusher(() => pushed(ex), pushStats.otlp, { endpoint: o.otlpEndpoint, intervalMs: o.otlpInterval, host: ex.host, version: productVersion() });
    }
    if (o.remoteWrite && pushModules.rw) {
      pushers.rw = new pushModules.rw.RemoteWritePusher(() => pushed(ex), pushStats.rw, { url: o.remoteWrite, intervalMs: o.remoteWriteInterval, labels: { job: 'dhrishti', instance: ex.host } });
    }
    if (pushers.otlp) describe.push(`pushing OTLP to ${otlpMetricsUrl(o.otlpEndpoint!).url} every ${(o.otlpInterval ?? EXPORT_DEFAULTS.otlpIntervalMs) / 1000}s`);
    if (pushers.rw) { pushers.rw.start(); describe.push(`pushing remote-write to ${checkRemoteWriteUrl(o.remoteWrite!).url} every ${(o.remoteWriteInterval ?? EXPORT_DEFAULTS.remoteWriteIntervalMs) / 1000}s`); }
    return {
      plugins: [],
      describe,
      async stop() { pushers.rw?.stop(); await pushers.otlp?.stop(); },
    };
  },
});
