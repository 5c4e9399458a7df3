// The agent's fleet metrics: edges (top N + other), Tempo's service graph,
// listeners and addresses, and a heartbeat the hub uses for staleness. Built
// from the live graph's public snapshot at most once a second, whoever asks
// (a Prometheus scrape, the OTLP or remote-write pushers).
import os from 'node:os';
import fs from 'node:fs';
import type { GraphDelta, GraphEdge, GraphNode, GraphSnapshot } from '../graph/types.js';
import type { ConnEvent } from '../events/types.js';
import type { ContainerInfo } from '../identity/types.js';
import { EXPORT_DEFAULTS } from '../config/defaults.js';
import type { Family, Snapshot } from './families.js';
import { EdgeMetrics, type EdgeBlock } from './edge-metrics.js';
import { ListenTable, type ListenIdentity } from './listen.js';

/** What the exporter needs from the running agent. */
export interface ExportSource {
  graph: {
    snapshot(f: { histograms: boolean }): GraphSnapshot;
    changesSince(since: number, f: { histograms: boolean }): { delta: GraphDelta; version: number };
    readonly currentVersion: number;
  };
  identity: ListenIdentity;
  /** Subscribes to the event batches the graph gets (after scoping). */
  onEvents(fn: (events: ConnEvent[]) => void): void;
  /** Null when the agent sees the whole host. */
  scope: { ownsContainer(c: ContainerInfo): boolean; owns(cgroupId: number, netns: number): boolean } | null;
}

export interface ExporterOptions {
  host?: string;
  topEdges?: number;
  blocks?: EdgeBlock[];
  version?: string;
}

/** A full read of the graph this often; changes only in between. */
const FULL_READ_MS = 60_000;
const ZERO = { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 };
const QUIET: GraphEdge['rates'] = { '10s': ZERO, '1m': ZERO };

function hostNetns(): number {
  try { return Number(/\[(\d+)\]/.exec(fs.readlinkSync('/proc/1/ns/net'))?.[1] ?? 0); } catch { return 0; }
}

export class FleetExporter {
  readonly host: string;
  readonly startTime = Date.now();
  private readonly edges: EdgeMetrics;
  private readonly listen: ListenTable;
  private cached: Snapshot | null = null;
  /** The graph as last read: changes are read in between full reads (an idle edge is not copied again each scrape). */
  private readonly nodes = new Map<string, GraphNode>();
  private readonly edgeCopies = new Map<string, GraphEdge>();
  private version = 0;
  private fullAt = 0;
  /** Time spent building snapshots, for the exporter's own cost. */
  buildMs = 0;
  builds = 0;
  last = { labelled: 0, folded: 0 };

  constructor(private readonly src: ExportSource, private readonly opts: ExporterOptions = {}) {
    this.host = opts.host || os.hostname();
    this.edges = new EdgeMetrics({ host: this.host, topEdges: opts.topEdges, blocks: opts.blocks });
    const scope = src.scope;
    this.listen = new ListenTable(src.identity, {
      host: this.host,
      includeHost: !scope || scope.owns(0, hostNetns()),
      ownsContainer: scope ? (c) => scope.ownsContainer(c) : undefined,
    });
    src.onEvents((events) => this.listen.ingest(events));
  }

  private readGraph(now: number): GraphSnapshot {
    if (now - this.fullAt >= FULL_READ_MS || this.fullAt === 0) {
      this.version = this.src.graph.currentVersion;
      const g = this.src.graph.snapshot({ histograms: true });
      this.fullAt = now;
      this.nodes.clear(); this.edgeCopies.clear();
      for (const n of g.nodes) this.nodes.set(n.id, n);
      for (const e of g.edges) this.edgeCopies.set(e.id, e);
      return g;
    }
    const { delta, version } = this.src.graph.changesSince(this.version, { histograms: true });
    this.version = version;
    for (const id of delta.removedNodes) this.nodes.delete(id);
    for (const id of delta.removedEdges) this.edgeCopies.delete(id);
    for (const n of delta.nodes) this.nodes.set(n.id, n);
    const fresh = new Set<string>();
    for (const e of delta.edges) { this.edgeCopies.set(e.id, e); fresh.add(e.id); }
    // Edges not in the delta were quiet for a minute: their rates are zero by now.
    for (const e of this.edgeCopies.values()) if (!fresh.has(e.id)) e.rates = QUIET;
    return { generatedAt: now, nodes: [...this.nodes.values()], edges: [...this.edgeCopies.values()] };
  }

  /** The current families; rebuilt when the last build is older than minRefreshMs. */
  snapshot(now = Date.now()): Snapshot {
    if (this.cached && now - this.cached.time < EXPORT_DEFAULTS.minRefreshMs) return this.cached;
    const t0 = performance.now();
    const r = this.edges.update(this.readGraph(now));
    const families: Family[] = [
      {
        type: 'gauge', name: 'dhrishti_agent_report_timestamp_seconds', help: 'When this agent last built its metrics (unix seconds): how stale a host is, for the hub', unit: 's',
        series: [{ labels: { host: this.host, version: this.opts.version ?? '' }, value: now / 1000 }],
      },
      ...r.families,
      ...this.listen.families(),
    ];
    this.last = { labelled: r.labelled, folded: r.folded };
    this.buildMs += performance.now() - t0;
    this.builds++;
    this.cached = { families, time: now, startTime: this.startTime };
    return this.cached;
  }
}
