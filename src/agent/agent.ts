// The running agent: kernel events -> identity -> live graph, plus self-telemetry.
import fs from 'node:fs';
import { ProbeEngine, type EngineOptions } from '../collector/engine.js';
import { IdentityResolver, type ResolverOptions } from '../identity/resolver.js';
import { LiveGraph, type GraphOptions } from '../graph/live-graph.js';
import { containerNode } from '../graph/naming.js';
import type { ContainerChange } from '../identity/types.js';
import type { AttachResult } from '../native/index.js';
import type { AgentStatus, HistoryHealth } from '../graph/types.js';
import { BPF_STATS_ENABLED_PATH, DNS_DEFAULTS, GRAPH_DEFAULTS } from '../config/defaults.js';
import { UdpServers } from '../discovery/udp-servers.js';
import { CpuMeter, EventRate } from './telemetry.js';
import type { L7Stats } from '../l7/collector.js';
import type { RequestCounters } from '../graph/request-ledger.js';
import { Scope, scopedIdentity, type ScopeOptions } from './scope.js';
import { DnsCollector, type DnsCollectorOptions } from '../dns/collector.js';
import type { DnsCollectorStats } from '../dns/types.js';
import { sharesNetns } from '../identity/container-store.js';

export interface AgentOptions {
  engine?: EngineOptions;
  identity?: ResolverOptions;
  graph?: GraphOptions;
  /** Report only sockets of these cgroups or network namespaces. */
  scope?: ScopeOptions;
  /** DNS capture (names for outside servers, resolver edges): options, or false to leave it out. */
  dns?: DnsCollectorOptions | false;
}

export interface AgentTelemetry extends AgentStatus {
  events: number;
  /** Sockets whose close the kernel reported (each local connection is two). */
  closes: number;
  lost: { ringbufFull: number; connMapFull: number; malformed: number; probeSkipped: number; total: number };
  cpuPercent: number;
  rssBytes: number;
  probes: AttachResult[];
  docker: { up: boolean; containers: number } | null;
  graph: { nodes: number; edges: number; openConnections: number; pendingConnections: number; expiredEdges: number; collapsedEndpoints: number; proxiedConnections: number };
  trackedSockets: number;
  /** Sockets start-up discovery found, and how long it took (ms); null until done. */
  discovery: { sockets: number; scanMs: number; ms: number } | null;
  /** The history store's health; null when history is off. */
  history: HistoryHealth | null;
  /** Request capture (L7): whether it runs, and everything it lost or left out. */
  l7: L7Telemetry;
  /** DNS capture: what it saw, lost and keeps; null when it is off. */
  dns: DnsCollectorStats | null;
  /**
   * Time the agent's programs ran in the kernel, and their runs, per program, since they were loaded. The kernel
   * counts them only while kernel.bpf_stats_enabled is 1 (`sysctl -w kernel.bpf_stats_enabled=1`; it costs two clock
   * reads per run): `counting` says whether it does now.
   */
  kernelTime: { counting: boolean; programs: Record<string, { ns: number; runs: number }> };
}

export interface L7Telemetry extends Partial<L7Stats> {
  enabled: boolean;
  /** Why it is off (turned off, or the kernel refused its programs); null when on. */
  unavailable: string | null;
  /** Requests put on the map, and those whose socket the map never knew (lost). */
  graph: RequestCounters;
}

/** Whether the kernel counts BPF programs' run time now (kernel.bpf_stats_enabled, or a process holding BPF_ENABLE_STATS). */
export function bpfStatsCounting(): boolean {
  try { return fs.readFileSync(BPF_STATS_ENABLED_PATH, 'utf8').trim() !== '0'; } catch { return false; }
}

export class Agent {
  readonly engine: ProbeEngine;
  readonly identity: IdentityResolver;
  readonly graph: LiveGraph;
  readonly scope: Scope | null;
  /** DNS capture, unless turned off; isAvailable() says whether the kernel side runs. */
  readonly dns: DnsCollector | null;
  private timers: NodeJS.Timeout[] = [];
  private readonly startedAt = Date.now();
  private readonly rate = new EventRate();
  private readonly cpu = new CpuMeter();
  private eventsPerSec = 0;
  probes: AttachResult[] = [];
  /** Set by the history store when one runs (src/cli/commands/history-ext.ts). */
  historyHealth: (() => HistoryHealth) | null = null;

  constructor(opts: AgentOptions = {}) {
    this.engine = new ProbeEngine({ connectEvents: false, foldHandshakes: true, ...opts.engine });
    this.identity = new IdentityResolver({ selfPid: process.pid, ...opts.identity });
    this.scope = opts.scope ? new Scope(opts.scope) : null;
    this.graph = new LiveGraph(this.scope ? scopedIdentity(this.identity, this.scope) : this.identity, opts.graph);
    // DNS health is kept per map node, as the client was when it asked.
    this.dns = opts.dns === false ? null : new DnsCollector({ clientKey: (c) => this.graph.dnsClientKey(c), ...opts.dns });
    if (this.dns) this.engine.use(this.dns);
  }

  async start(): Promise<AttachResult[]> {
    await this.identity.start();
    this.identity.on('change', (c: ContainerChange) => {
      // A container on the map under its id alone (Docker answered late) is the named node from now on.
      if (c.provisional) {
        const addresses = c.container.networks.flatMap((n) => [n.ipv4, n.ipv6]).filter((a): a is string => !!a);
        this.graph.mergeNode(containerNode(c.provisional).id, containerNode(c.container), Date.now(), c.container.startedAt ? { addresses, since: c.container.startedAt } : undefined);
      }
      const ref = containerNode(c.container);
      if (c.type === 'rename' && c.oldName !== undefined) {
        const before = containerNode({ ...c.container, name: c.oldName }).id; // the same for a compose or Kubernetes service
        if (before !== ref.id) this.graph.containerRenamed(before, c.container.id, c.container.name);
      }
      this.graph.refreshContainer(ref);
      // Its namespace inode may be reused: the names its processes resolved go with it.
      if (c.type === 'stop' && c.container.netns && !sharesNetns(c.container.networkMode)) this.dns?.forgetNamespace(c.container.netns);
    });
    this.engine.onEvents((events) => this.graph.ingest(this.scope ? this.scope.filter(events) : events));
    this.engine.onCounters((updates, time) => this.graph.count(updates, time));
    this.graph.discovering = true;
    this.probes = this.engine.start();
    this.identity.execFacts = (pid) => this.engine.execFacts(pid);
    if (!this.engine.l7) this.graph.requestsOff();
    this.engine.l7?.onDeltas((deltas) => this.graph.requests(deltas));
    this.engine.l7?.onSamples((samples) => this.graph.requestSamples(samples));
    void this.engine.ready.finally(() => { this.graph.discovering = false; });
    this.timers.push(setInterval(() => this.graph.tick(), GRAPH_DEFAULTS.tickMs));
    const dns = this.dns?.isAvailable() ? this.dns : null;
    if (dns) {
      this.graph.setNames(dns);
      const udp = new UdpServers(DNS_DEFAULTS.hostResolverLookupMs);
      this.graph.setHostUdpServers((ip, port, netns) => udp.pidOf(ip, port, netns));
      this.timers.push(setInterval(() => this.syncDns(dns), GRAPH_DEFAULTS.dnsSyncMs));
    }
    this.timers.push(setInterval(() => { this.eventsPerSec = this.rate.update(this.engine.stats().events); }, 1000));
    for (const t of this.timers) t.unref();
    return this.probes;
  }

  /** Resolver edges from the DNS health of clients in scope. */
  private syncDns(dns: DnsCollector): void {
    const health = dns.resolverEdges();
    this.graph.updateDns(this.scope ? health.filter((h) => this.scope!.owns(h.client.cgroupId, h.client.netns)) : health);
  }

  status(): AgentStatus {
    const s = this.engine.stats();
    return {
      eventsPerSec: Math.round(this.eventsPerSec * 10) / 10,
      lostEvents: s.lost.total,
      identityMisses: this.identity.stats().cgroupMisses,
      uptimeSec: Math.round((Date.now() - this.startedAt) / 1000),
    };
  }

  telemetry(): AgentTelemetry {
    const s = this.engine.stats();
    const id = this.identity.stats();
    const size = this.graph.size();
    const c = this.graph.counters;
    return {
      ...this.status(),
      events: s.events,
      closes: s.closes,
      lost: s.lost,
      cpuPercent: Math.round(this.cpu.sample() * 10) / 10,
      rssBytes: process.memoryUsage().rss,
      probes: s.probes,
      docker: id.docker ? { up: id.docker.up, containers: id.docker.running } : null,
      graph: { nodes: size.nodes, edges: size.edges, openConnections: size.open, pendingConnections: c.pending, expiredEdges: c.expiredEdges, collapsedEndpoints: c.collapsedEndpoints, proxiedConnections: c.proxiedConnections },
      trackedSockets: s.trackedConnections,
      discovery: s.discovery,
      history: this.historyHealth?.() ?? null,
      l7: this.l7Telemetry(),
      dns: this.dns ? this.dns.stats() : null,
      kernelTime: { counting: bpfStatsCounting(), programs: this.engine.probeRunTime() },
    };
  }

  l7Telemetry(): L7Telemetry {
    const l7 = this.engine.l7;
    const graph = { ...this.graph.requestCounters };
    if (!l7) return { enabled: false, unavailable: this.engine.l7Unavailable ?? 'not started', graph };
    return { enabled: true, unavailable: null, ...l7.stats(), graph };
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.engine.stop();
    this.identity.stop();
  }
}
