// What the API serves, as an interface: the agent's live graph today, another
// source (a hub merging several agents) tomorrow. The Agent class satisfies it as is.
import type { Registry } from 'prom-client';
import type { GraphFilter } from '../graph/live-graph.js';
import type { AgentStatus, EdgeDetail, GraphDelta, GraphSnapshot, NodeDetail, RemoteClient } from '../graph/types.js';

/** The live map as the routes and the stream read it. */
export interface GraphView {
  /** Grows with every change; changesSince() takes it back. */
  readonly currentVersion: number;
  snapshot(f?: GraphFilter): GraphSnapshot;
  changesSince(version: number, f?: GraphFilter): { delta: GraphDelta; version: number };
  /** A hub reads details from Prometheus: it may answer later. */
  nodeDetail(id: string): NodeDetail | null | Promise<NodeDetail | null>;
  edgeDetail(id: string): EdgeDetail | null | Promise<EdgeDetail | null>;
  /** The snapshot as JSON, when the source keeps it made (a hub's map changes once per refresh); null: serialize snapshot(). */
  snapshotJson?(f?: GraphFilter): string | null;
  remoteClients(): RemoteClient[];
  /** remoteClients() lists at most this many; connections from further clients are only counted. */
  readonly clientLimit?: number;
  readonly counters?: { readonly foldedClientConnections?: number };
}

export interface ApiSource {
  readonly graph: GraphView;
  /** The short status sent with every stream message. */
  status(): AgentStatus;
  /** Self-telemetry for /api/v1/agent. */
  telemetry(): object;
  /** Its own /metrics registry, if it has one (else the one given to startApi). */
  metrics?(): Registry;
  /** Whether it can serve its map now (a hub whose Prometheus is down cannot); absent: always. */
  health?(): { ok: boolean; message: string | null };
}
