// The agent's fleet metrics: edges (top N + other), Tempo's service graph,
// listeners and addresses, and a heartbeat the hub uses for staleness. Built
// from the live graph, read in place (no snapshot copies), at most once a
// second whoever asks (a Prometheus scrape, the OTLP or remote-write pushers).
import fs from 'node:fs';
import type { EdgeReading } from '../graph/readings.js';
import type { ConnEvent } from '../events/types.js';
import type { ContainerInfo } from '../identity/types.js';
import { EXPORT_DEFAULTS } from '../config/defaults.js';
import type { Family, Labels, Snapshot } from './families.js';
import { EdgeMetrics, type EdgeBlock } from './edge-metrics.js';
import { agentHostName } from './labels.js';
import { ListenTable, NameTable, type ListenIdentity } from './listen.js';

/** What the exporter needs from the running agent. */
export interface ExportSource {
  graph: { forEachEdge(fn: (r: EdgeReading) => void, now?: number): void };
  identity: ListenIdentity;
  /** Subscribes to the event batches the graph gets (after scoping). */
  onEvents(fn: (events: ConnEvent[]) => void): void;
  /** Null when the agent sees the whole host. */
  scope: { ownsContainer(c: ContainerInfo): boolean; owns(cgroupId: number, netns: number): boolean } | null;
}

/** The heartbeat family: when the agent last built its metrics; last of every push, so the hub reads a whole one. */
export const HEARTBEAT = 'dhrishti_agent_report_timestamp_seconds';

export interface ExporterOptions {
  host?: string;
  topEdges?: number;
  blocks?: EdgeBlock[];
  version?: string;
}

function hostNetns(): number {
  try { return Number(/\[(\d+)\]/.exec(fs.readlinkSync('/proc/1/ns/net'))?.[1] ?? 0); } catch { return 0; }
}

export class FleetExporter {
  readonly host: string;
  readonly startTime = Date.now();
  private readonly edges: EdgeMetrics;
  private readonly listen: ListenTable;
  private readonly names: NameTable;
  private cached: Snapshot | null = null;
  /** Time spent building snapshots, for the exporter's own cost. */
  buildMs = 0;
  builds = 0;
  last = { labelled: 0, folded: 0 };
  /** One object while the agent runs: the exposition keeps a label set's text and chunk by object. */
  private readonly heartbeatLabels: Labels;

  constructor(private readonly src: ExportSource, opts: ExporterOptions = {}) {
    this.host = agentHostName(opts.host);
    this.edges = new EdgeMetrics({ host: this.host, topEdges: opts.topEdges, blocks: opts.blocks });
    this.heartbeatLabels = { host: this.host, version: opts.version ?? '' };
    const scope = src.scope;
    this.listen = new ListenTable(src.identity, {
      host: this.host,
      includeHost: !scope || scope.owns(0, hostNetns()),
      ownsContainer: scope ? (c) => scope.ownsContainer(c) : undefined,
    });
    src.onEvents((events) => this.listen.ingest(events));
    this.names = new NameTable(this.host);
  }

  /** The current families; rebuilt when the last build is older than minRefreshMs. */
  snapshot(now = Date.now()): Snapshot {
    if (this.cached && now - this.cached.time < EXPORT_DEFAULTS.minRefreshMs) return this.cached;
    const t0 = performance.now();
    const r = this.edges.update((fn) => this.src.graph.forEachEdge((x) => { if (x.edge.protocol === 'tcp') this.names.note(x.target); fn(x); }, now), now);
    const families: Family[] = [
      ...r.families,
      ...this.listen.families(),
      ...this.names.families(),
      // Last: a push sent in pieces has all of its numbers in once the heartbeat is (the hub asks for an agent's edges when it moves).
      {
        type: 'gauge', name: HEARTBEAT, help: 'When this agent last built its metrics (unix seconds): how stale a host is, for the hub', unit: 's',
        series: [{ labels: this.heartbeatLabels, value: now / 1000 }],
      },
    ];
    this.last = { labelled: r.labelled, folded: r.folded };
    this.buildMs += performance.now() - t0;
    this.builds++;
    this.cached = { families, time: now, startTime: this.startTime };
    return this.cached;
  }
}
