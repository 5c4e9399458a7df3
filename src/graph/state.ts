// The map's state: nodes, edges with their running numbers, remote clients,
// and a version counter that every change bumps (deltas read changes since a
// version; removals leave tombstones).
import type { FailureSample, GraphEdge, GraphNode, Instance, RemoteClient } from './types.js';
import { registeredDomain, type NodeRef } from './naming.js';
import { RateWindow } from './window.js';
import { Distribution } from './stats.js';
import { IntervalCounts, IntervalLog } from './interval.js';
import { FAILURE_REASONS } from './types.js';
import type { EdgeRequestState } from './request-totals.js';
import { GRAPH_DEFAULTS, HISTOGRAM_BOUNDS } from '../config/defaults.js';

export interface EdgeState {
  e: GraphEdge;
  window: RateWindow;
  rtt: Distribution;
  duration: Distribution;
  failures: FailureSample[];
  /** Version of its last change. */
  v: number;
  /** Since the history store last drained the map. */
  counts: IntervalCounts;
  /** Its requests (L7), once any were counted (request-totals.ts). */
  requests?: EdgeRequestState;
  /** The id of the client instance last noted in e.clientInstances (most connections come from the same one). */
  lastClientInstance?: string;
}

/** sentSeen: the lastSeen the node's version last moved for (GraphState.seen). */
export interface NodeState { n: GraphNode; v: number; sentSeen?: number }

const TOMBSTONES = 10_000;

export class GraphState {
  readonly nodes = new Map<string, NodeState>();
  readonly edges = new Map<string, EdgeState>();
  readonly clients = new Map<string, RemoteClient>();
  readonly tombstones: { id: string; kind: 'node' | 'edge'; v: number }[] = [];
  version = 0;
  /** Outside nodes (external servers, remote clients) on the map, for their cap. */
  externalCount = 0;
  /** Set while a reader (the history store) drains intervals. */
  log: IntervalLog | null = null;

  bump(): number { return ++this.version; }

  /** The edge between two nodes on a port, created if new. */
  edge(id: string, source: string, target: string, port: number, now: number, protocol: GraphEdge['protocol'] = 'tcp'): EdgeState {
    let s = this.edges.get(id);
    if (s) return s;
    s = {
      e: {
        id, source, target, port, protocol,
        connections: { opened: 0, active: 0, closed: 0, failed: 0, failedBy: Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as GraphEdge['connections']['failedBy'] },
        bytes: { sent: 0, received: 0 }, rtt: { meanUs: 0, p95Us: 0, samples: 0 }, retransmits: 0,
        duration: { meanMs: 0, p95Ms: 0, samples: 0 }, firstSeen: now, lastSeen: now,
        rates: { '10s': zeroRates(), '1m': zeroRates() },
      },
      window: new RateWindow(), rtt: new Distribution(256, HISTOGRAM_BOUNDS.rttUs), duration: new Distribution(256, HISTOGRAM_BOUNDS.durationMs), failures: [], v: 0, counts: new IntervalCounts(),
    };
    this.edges.set(id, s);
    this.log?.edgeAdded(id);
    return s;
  }

  dropEdge(id: string): void {
    const s = this.edges.get(id);
    if (!s) return;
    this.edges.delete(id);
    this.log?.edgeDropped(s.e, s.counts);
    this.tombstones.push({ id, kind: 'edge', v: this.bump() });
    this.trimTombstones();
  }

  /** The node a reference names, created if new, its facts (image, instances, addresses) merged in. */
  touchNode(ref: NodeRef, now: number): NodeState {
    let s = this.nodes.get(ref.id);
    if (!s) {
      const outside = ref.kind === 'external' || ref.kind === 'client';
      s = { n: { id: ref.id, kind: ref.kind, label: ref.label, group: ref.group, instances: [], ips: outside ? [ref.address ?? ref.label] : [], firstSeen: now, lastSeen: now, active: 0 }, v: 0 };
      if (outside) this.externalCount++;
      this.nodes.set(ref.id, s);
      this.log?.nodeAdded(ref.id);
    }
    const n = s.n;
    n.lastSeen = now;
    s.sentSeen = now; // its version moves below
    if (ref.image) n.image = ref.image;
    if (ref.labels) n.labels = ref.labels;
    if (ref.address && !n.ips.includes(ref.address) && n.ips.length < MAX_NODE_ADDRESSES) n.ips.push(ref.address);
    if (ref.dns) addName(n, ref.dns);
    if (ref.vacant) n.vacant = ref.vacant;
    const inst = ref.instance;
    if (inst) {
      // Loops, not findIndex/every: this runs twice per connection placed, and each callback is an allocation.
      let i = n.instances.length - 1;
      while (i >= 0 && n.instances[i].id !== inst.id) i--;
      if (i < 0) {
        n.instances.push(inst);
        // Host processes come and go (one per curl); keep the most recent few.
        if (n.kind === 'process' && n.instances.length > 16) n.instances.shift();
      } else if (n.instances[i] !== inst) {
        const old = n.instances[i];
        const pids = includesAll(old.pids, inst.pids) ? old.pids : [...new Set([...old.pids, ...inst.pids])].slice(-16);
        n.instances[i] = sameFacts(old, inst) && pids === old.pids ? old : { ...inst, pids };
      }
      for (let k = 0; k < inst.ips.length; k++) if (!n.ips.includes(inst.ips[k])) n.ips.push(inst.ips[k]);
    }
    s.v = this.bump();
    return s;
  }

  /**
   * Traffic on an edge of the node, on a connection placed earlier: it is seen now. Only placing a connection did
   * that, so a server busy on keep-alive connections read "last seen 3m ago" and left ?window= maps. Its version
   * moves at most every nodeSeenStepMs, not at every flush (a delta would carry every busy node each time).
   */
  seen(id: string, now: number): void {
    const s = this.nodes.get(id);
    if (!s || now <= s.n.lastSeen) return;
    s.n.lastSeen = now;
    if (now - (s.sentSeen ?? 0) >= GRAPH_DEFAULTS.nodeSeenStepMs) { s.sentSeen = now; s.v = this.bump(); }
  }

  dropNode(id: string): void {
    const s = this.nodes.get(id);
    if (!s) return;
    this.nodes.delete(id);
    if (s.n.kind === 'external' || s.n.kind === 'client') this.externalCount--;
    this.log?.nodeDropped(s.n);
    this.tombstones.push({ id, kind: 'node', v: this.bump() });
    this.trimTombstones();
  }

  private trimTombstones(): void {
    // Only streams far behind need old ones (they get a snapshot instead).
    if (this.tombstones.length > TOMBSTONES * 2) this.tombstones.splice(0, this.tombstones.length - TOMBSTONES);
  }
}

/** A node's addresses kept (a name behind a CDN answers with many). */
const MAX_NODE_ADDRESSES = 64;
/** Names kept per node. */
const MAX_NODE_NAMES = 8;

function addName(n: GraphNode, d: { name: string; cnames: string[] }): void {
  if (!n.dns) { n.dns = { names: [d.name], cnames: d.cnames, domain: registeredDomain(d.name) }; return; }
  if (!n.dns.names.includes(d.name) && n.dns.names.length < MAX_NODE_NAMES) n.dns.names.push(d.name);
  // The chain of the node's own name is the detail; another name's chain does not replace it.
  if (d.name === n.dns.names[0] && !sameList(d.cnames, n.dns.cnames)) n.dns.cnames = d.cnames;
}

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameFacts(a: Instance, b: Instance): boolean {
  return a.name === b.name && a.command === b.command && a.image === b.image && a.state === b.state && a.startedAt === b.startedAt && a.stoppedAt === b.stoppedAt
    && sameList(a.ips, b.ips);
}

function includesAll(have: number[], want: number[]): boolean {
  for (let k = 0; k < want.length; k++) if (!have.includes(want[k])) return false;
  return true;
}

function zeroRates() { return { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0, retransmits: 0 }; }
