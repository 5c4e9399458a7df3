// Prometheus /metrics: the agent's own health (every loss visible to a scraper)
// and, through metricsExtensions, whatever else joins (the fleet's edge metrics).
import client from 'prom-client';
import { counterFromTotals as counter } from './prom.js';
import { joinChunks, type ExpositionChunk } from '../export/exposition.js';
import { GzipChunks } from './gzip-chunks.js';
import type { Agent } from '../agent/agent.js';
import { registerHistoryMetrics } from './history-metrics.js';
import { policyMetricList } from '../policy/metrics.js';
import { registerL7Metrics } from './l7-metrics.js';
import { registerDnsMetrics } from './dns-metrics.js';
import { collectProcessMetrics } from './process-metrics.js';

/** prom-client's registry, plus rows written outside it (the fleet's edge families, too many rows for prom-client's formatter). */
export class AgentRegistry extends client.Registry {
  private readonly chunks: (() => ExpositionChunk[])[] = [];
  private readonly members = new GzipChunks();
  /** Main-thread time on the appended rows (ms): their families built when due, their rows written, compression started. */
  appendedMs = 0;

  appendChunks(fn: () => ExpositionChunk[]): void { this.chunks.push(fn); }

  private appended(): ExpositionChunk[] { return this.chunks.flatMap((f) => f()); }

  /** The text as one string (prom-client's interface); /metrics itself sends plain() or gzipped(). */
  override async metrics(): Promise<string> {
    return (await this.plain()).toString('utf8');
  }

  /**
   * The same text as bytes, for a client that takes no compression (curl without --compressed). Never one
   * JS string of every row: on a busy host that string is ~10 MB in V8's old generation, and after the full
   * collection that frees it V8 leaves the heap so little room that it marks the whole heap at nearly every
   * scrape from then on (busy-scrape p95 ~130 ms instead of ~70).
   */
  async plain(): Promise<Buffer> {
    const own = await super.metrics();
    return this.timed(() => joinChunks(this.appended(), Buffer.from(own)));
  }

  /** The same text, gzip-compressed; rows unchanged since the last call are not compressed again. */
  async gzipped(): Promise<Buffer> {
    const own = await super.metrics();
    return this.timed(() => this.members.body(own, this.appended())); // writes every row it needs before its first await
  }

  /** Runs fn and counts its main-thread time in appendedMs. */
  private timed<T>(fn: () => T): T {
    const t0 = performance.now();
    try { return fn(); } finally { this.appendedMs += performance.now() - t0; }
  }
}

/** Features that add series to /metrics register here without the API knowing them (like runExtensions). */
export const metricsExtensions: ((reg: AgentRegistry, agent: Agent) => void)[] = [];

export function agentRegistry(agent: Agent): client.Registry {
  const reg = new AgentRegistry();
  collectProcessMetrics(reg, 'dhrishti_');
  counter(reg, 'dhrishti_events_total', 'Connection events received from the kernel', [], () => [[{}, agent.engine.stats().events]]);
  counter(reg, 'dhrishti_lost_events_total', 'Events or sockets the agent could not record, by reason', ['reason'], () => {
    const l = agent.engine.stats().lost;
    return [[{ reason: 'ringbuf_full' }, l.ringbufFull], [{ reason: 'conn_map_full' }, l.connMapFull], [{ reason: 'malformed' }, l.malformed],
      [{ reason: 'probe_skipped' }, l.probeSkipped]];
  });
  counter(reg, 'dhrishti_tcp_loss_probes_total', 'TCP tail loss probes sent on this host: left out of every edge\'s retransmits, since most only beat a delayed ACK',
    [], () => [[{}, agent.engine.stats().tcpLossProbes]]);
  counter(reg, 'dhrishti_probe_runs_skipped_total', 'Kernel program runs skipped because the program was already running on that CPU (recursion misses): events not seen', ['program'],
    () => Object.entries(agent.engine.stats().skippedRuns).map(([program, n]) => [{ program }, n]));
  // The kernel counts programs' time only while kernel.bpf_stats_enabled is 1: these stand still otherwise.
  counter(reg, 'dhrishti_probe_run_seconds_total', 'Time the agent\'s kernel programs ran, per program (counted only while kernel.bpf_stats_enabled is 1)', ['program'],
    () => Object.entries(agent.engine.probeRunTime()).map(([program, t]) => [{ program }, t.ns / 1e9]));
  counter(reg, 'dhrishti_probe_runs_total', 'Runs of the agent\'s kernel programs, per program (counted only while kernel.bpf_stats_enabled is 1)', ['program'],
    () => Object.entries(agent.engine.probeRunTime()).map(([program, t]) => [{ program }, t.runs]));
  counter(reg, 'dhrishti_identity_misses_total', 'Owner lookups whose cgroup no container or process explained', [], () => [[{}, agent.identity.stats().cgroupMisses]]);
  counter(reg, 'dhrishti_identity_cgroup_dirs_unwatched_total', 'cgroup directories not watched for new cgroups (cap reached): a short-lived container made in one may stay unnamed', [], () => [[{}, agent.identity.stats().cgroupsUnwatched]]);
  new client.Gauge({
    name: 'dhrishti_graph_size', help: 'Live graph size', labelNames: ['what'], registers: [reg],
    collect() {
      const s = agent.graph.size();
      this.set({ what: 'nodes' }, s.nodes);
      this.set({ what: 'edges' }, s.edges);
      this.set({ what: 'open_connections' }, s.open);
    },
  });
  counter(reg, 'dhrishti_graph_dropped_total', 'What the bounded graph dropped or collapsed', ['what'], () => {
    const c = agent.graph.counters;
    return [[{ what: 'expired_edges' }, c.expiredEdges], [{ what: 'expired_nodes' }, c.expiredNodes], [{ what: 'collapsed_endpoints' }, c.collapsedEndpoints]];
  });
  if (agent.identity.stats().docker) {
    // Absent with Docker disabled (--no-docker): 0 here means a socket it should follow and cannot (a wrong mount).
    new client.Gauge({
      name: 'dhrishti_docker_up', help: '1 while the agent follows Docker\'s events, 0 while it cannot reach the socket (containers are then named from cgroups only)', registers: [reg],
      collect() { this.set(agent.identity.stats().docker?.up ? 1 : 0); },
    });
    new client.Gauge({
      name: 'dhrishti_docker_containers', help: 'Containers the agent knows from Docker, by state (running; stopped ones kept for late events)', labelNames: ['state'], registers: [reg],
      collect() {
        const d = agent.identity.stats().docker;
        this.set({ state: 'running' }, d?.running ?? 0);
        this.set({ state: 'stopped' }, d?.stopped ?? 0);
      },
    });
  }
  registerHistoryMetrics(reg, () => agent.historyHealth?.() ?? null);
  registerL7Metrics(reg, () => agent.l7Telemetry());
  if (agent.dns) registerDnsMetrics(reg, agent.dns, agent.graph);
  for (const m of policyMetricList()) reg.registerMetric(m);
  if (agent.scope) {
    const scope = agent.scope;
    counter(reg, 'dhrishti_scope_dropped_events_total', 'Events about sockets outside the agent\'s scope (--scope-cgroup, --scope-netns), not reported', [], () => [[{}, scope.dropped]]);
  }
  for (const ext of metricsExtensions) ext(reg, agent);
  return reg;
}
