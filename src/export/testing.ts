// A synthetic fleet for tests and benchmarks: hosts whose services call each
// other across hosts, as each host's agent would report them (the client's view
// on one host, the server's on another), with their listen/address info.
// Written to a real Prometheus through the product's own remote-write path.
import { FAILURE_REASONS, REQUEST_STATUS_CLASSES, type GraphEdge, type GraphNode, type GraphSnapshot, type RequestStatusClass } from '../graph/types.js';
import { LATENCY_BUCKETS, latencySummary } from '../graph/latency.js';
import { HISTOGRAM_BOUNDS } from '../config/defaults.js';
import { EdgeMetrics } from './edge-metrics.js';
import type { Family, Snapshot } from './families.js';
import { RemoteWriteEncoder, writeSnapshot } from './remote-write.js';

export interface FleetEdge {
  /** Client host index and service, server host index and service. */
  from: [number, string];
  to: [number, string];
  port: number;
  opened: number;
  failed?: number;
  bytes?: number;
  /** HTTP/1 requests on the edge (2xx, one in ten a 5xx; all in the 0.5-1 ms bucket); none by default. */
  requests?: number;
}

export const hostName = (i: number) => `host-${i}`;
/** Each service gets one address, 10.<host>.x.y, unique per (host, service), in order of first use. */
function addressPlan(): (host: number, service: string) => string {
  const seen = new Map<string, string>();
  const next = new Map<number, number>();
  return (host, service) => {
    const k = `${host}/${service}`;
    let ip = seen.get(k);
    if (!ip) {
      const n = (next.get(host) ?? 0) + 1;
      next.set(host, n);
      ip = `10.${host}.${n >> 8}.${n & 0xff}`;
      seen.set(k, ip);
    }
    return ip;
  };
}

function node(id: string, kind: GraphNode['kind'], label: string, group: string | null): GraphNode {
  return { id, kind, label, group, instances: [], ips: [], firstSeen: 1, lastSeen: 1, active: 0 };
}

/** The duration bucket a 50 ms connection falls in. */
const DUR_50MS = HISTOGRAM_BOUNDS.durationMs.findIndex((b) => b >= 50);

function edge(source: string, target: string, port: number, e: FleetEdge): GraphEdge {
  const failedBy = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as GraphEdge['connections']['failedBy'];
  failedBy.refused = e.failed ?? 0;
  const rtt = new Array(HISTOGRAM_BOUNDS.rttUs.length + 1).fill(0);
  rtt[3] = e.opened;
  const dur = new Array(HISTOGRAM_BOUNDS.durationMs.length + 1).fill(0);
  dur[DUR_50MS] = e.opened;
  const bytes = e.bytes ?? e.opened * 1000;
  const out: GraphEdge = {
    id: `${source}|${target}|${port}|tcp`, source, target, port, protocol: 'tcp',
    connections: { opened: e.opened, active: 0, closed: e.opened, failed: e.failed ?? 0, failedBy },
    bytes: { sent: bytes, received: bytes * 2 }, rtt: { meanUs: 400, p95Us: 400, samples: e.opened }, retransmits: 0,
    duration: { meanMs: 50, p95Ms: 50, samples: e.opened }, firstSeen: 1, lastSeen: 1,
    rates: { '10s': { connections: e.opened, failures: 0, bytesSent: bytes, bytesReceived: bytes }, '1m': { connections: e.opened, failures: 0, bytesSent: bytes, bytesReceived: bytes } },
    histograms: { rttUs: { bounds: HISTOGRAM_BOUNDS.rttUs, counts: rtt, sum: e.opened * 400 }, durationMs: { bounds: HISTOGRAM_BOUNDS.durationMs, counts: dur, sum: e.opened * 50 } },
  };
  if (e.requests) {
    const n = e.requests, failed = Math.floor(n / 10);
    const status = Object.fromEntries(REQUEST_STATUS_CLASSES.map((c) => [c, 0])) as Record<RequestStatusClass, number>;
    status['2xx'] = n - failed; status['5xx'] = failed;
    const buckets = new Array(LATENCY_BUCKETS).fill(0);
    buckets[9] = n; // [512, 1024) µs
    const latencySumNs = n * 700_000;
    const none = { requests: 0, errors: 0, clientErrors: 0, serverErrors: 0, latency: latencySummary([], 0) };
    out.requests = [{ protocol: 'http1', grpc: false, tls: false, count: n, status, errors: failed, clientErrors: 0, unpaired: 0, latency: latencySummary(buckets, latencySumNs), rates: { '10s': none, '1m': none } }];
    out.histograms!.requests = [{ protocol: 'http1', buckets, latencySumNs }];
  }
  return out;
}

/** Each host's graph (as its agent's map holds them) for these edges, and the address plan behind them. */
export function fleetGraphs(hosts: number, edges: FleetEdge[], project = 'fleet', time = Date.now()): { graphs: GraphSnapshot[]; services: Set<string>[]; serviceIp: (host: number, service: string) => string } {
  const serviceIp = addressPlan();
  const graphs = Array.from({ length: hosts }, (): GraphSnapshot => ({ generatedAt: time, nodes: [], edges: [] }));
  const services = Array.from({ length: hosts }, () => new Set<string>());
  const add = (g: GraphSnapshot, n: GraphNode) => { if (!g.nodes.some((x) => x.id === n.id)) g.nodes.push(n); };
  for (const e of edges) {
    const [ch, cs] = e.from, [sh, ss] = e.to;
    services[ch].add(cs); services[sh].add(ss);
    const cId = `svc:${project}/${cs}`, sId = `svc:${project}/${ss}`;
    if (ch === sh) {
      const g = graphs[ch];
      add(g, node(cId, 'service', cs, project)); add(g, node(sId, 'service', ss, project));
      g.edges.push(edge(cId, sId, e.port, e));
      continue;
    }
    const sIp = serviceIp(sh, ss), cIp = serviceIp(ch, cs);
    const gc = graphs[ch], gs = graphs[sh];
    add(gc, node(cId, 'service', cs, project)); add(gc, node(`ext:${sIp}`, 'external', sIp, null));
    gc.edges.push(edge(cId, `ext:${sIp}`, e.port, e));
    add(gs, node(`client:${cIp}`, 'client', cIp, null)); add(gs, node(sId, 'service', ss, project));
    gs.edges.push(edge(`client:${cIp}`, sId, e.port, { ...e, failed: 0 })); // the server never sees refused connections
  }
  return { graphs, services, serviceIp };
}

/** Each host's listen and address info for the plan. */
function infoFamilies(h: number, edges: FleetEdge[], project: string, services: Set<string>[], serviceIp: (host: number, service: string) => string): Family[] {
  const host = hostName(h);
  const ports = new Map<string, Set<number>>();
  for (const e of edges) if (e.to[0] === h) { const s = ports.get(e.to[1]) ?? new Set(); s.add(e.port); ports.set(e.to[1], s); }
  return [
    {
      type: 'gauge', name: 'dhrishti_listen_info', help: 'listen', unit: '1',
      series: [...ports].flatMap(([svc, ps]) => [...ps].map((p) => ({ labels: { host, ip: serviceIp(h, svc), port: String(p), name: svc, group: project, kind: 'service', published: '', container_port: '' }, value: 1 }))),
    },
    {
      type: 'gauge', name: 'dhrishti_address_info', help: 'address', unit: '1',
      series: [...services[h]].map((svc) => ({ labels: { host, ip: serviceIp(h, svc), name: svc, group: project, kind: 'service' }, value: 1 })),
    },
  ];
}

const heartbeat = (h: number, time: number): Family =>
  ({ type: 'gauge', name: 'dhrishti_agent_report_timestamp_seconds', help: 'hb', unit: 's', series: [{ labels: { host: hostName(h), version: 'test' }, value: time / 1000 }] });

/** What each host's agent reports for these edges: one snapshot of families per host. */
export function fleetSnapshots(hosts: number, edges: FleetEdge[], project = 'fleet', time = Date.now()): Snapshot[] {
  const { graphs, services, serviceIp } = fleetGraphs(hosts, edges, project, time);
  return graphs.map((g, h) => {
    const m = new EdgeMetrics({ host: hostName(h), topEdges: 1_000_000 });
    return { families: [...m.update(g).families, ...infoFamilies(h, edges, project, services, serviceIp), heartbeat(h, time)], time, startTime: time };
  });
}

/**
 * A fleet whose agents keep running: each write moves every edge's counters on and sends every
 * host's series at that time, as each agent's remote-write push would (its exporter and encoder kept).
 */
export class FleetWriter {
  private readonly graphs: GraphSnapshot[];
  private readonly metrics: EdgeMetrics[];
  private readonly encoders: RemoteWriteEncoder[];
  private readonly info: Family[][];

  constructor(readonly hosts: number, edges: FleetEdge[], project = 'fleet') {
    const f = fleetGraphs(hosts, edges, project);
    this.graphs = f.graphs;
    this.metrics = f.graphs.map((_, h) => new EdgeMetrics({ host: hostName(h), topEdges: 1_000_000 }));
    this.encoders = f.graphs.map((_, h) => new RemoteWriteEncoder({ job: 'dhrishti', instance: hostName(h) }, 20_000));
    this.info = f.graphs.map((_, h) => infoFamilies(h, edges, project, f.services, f.serviceIp));
  }

  /** Every edge of these hosts (all by default) gets `opened` more connections (bytes in proportion, as many closed), then each host writes at `time`; resolves to the series written. */
  async write(url: string, time: number, opened = 0, hosts?: number[]): Promise<number> {
    let n = 0;
    for (const h of hosts ?? this.graphs.keys()) {
      for (const e of this.graphs[h].edges) {
        e.connections.opened += opened; e.connections.closed += opened;
        e.bytes.sent += opened * 1000; e.bytes.received += opened * 2000;
        e.histograms!.rttUs.counts[3] += opened; e.histograms!.rttUs.sum += opened * 400;
        e.histograms!.durationMs.counts[DUR_50MS] += opened; e.histograms!.durationMs.sum += opened * 50;
      }
      const snap: Snapshot = { families: [...this.metrics[h].update(this.graphs[h], time).families, ...this.info[h], heartbeat(h, time)], time, startTime: time };
      const err = await writeSnapshot(url, this.encoders[h], snap, { timeoutMs: 60_000 });
      if (err) throw new Error(`remote-write refused: ${err}`);
      n += this.encoders[h].series;
    }
    return n;
  }
}

/** Writes each host's snapshot (as job "dhrishti", instance = host) through remote-write; throws on a refusal. */
export async function writeFleet(url: string, snaps: Snapshot[], batch = 20_000): Promise<number> {
  let n = 0;
  for (const [h, snap] of snaps.entries()) {
    const enc = new RemoteWriteEncoder({ job: 'dhrishti', instance: hostName(h) }, batch);
    const err = await writeSnapshot(url, enc, snap, { timeoutMs: 60_000 });
    if (err) throw new Error(`remote-write refused: ${err}`);
    n += enc.series;
  }
  return n;
}
