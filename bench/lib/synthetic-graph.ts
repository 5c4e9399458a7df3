// A made-up service map that changes over time, in the API's own shapes (src/graph/types.ts).
// For the UI render benchmark and UI development only; never used by the agent.
import type {
  EdgeDetail, FailureReason, FailureSample, GraphDelta, GraphEdge, GraphNode, GraphSnapshot, NodeDetail, NodeKind, Rates, RemoteClient,
} from '../../src/graph/types.js';
import { FAILURE_REASONS } from '../../src/graph/types.js';

/** Small deterministic PRNG (mulberry32), so every run draws the same map. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  /** 'bench': nodes/edges as given; 'demo': a small, realistic-looking shop for screenshots. */
  scenario: 'bench' | 'demo';
  nodes: number;
  edges: number;
  changedEdgeShare: number;
  seed?: number;
}

const PROJECTS = ['shop', 'payments', 'search', 'auth', 'analytics', 'media', 'billing', 'ops'];
const ROLES = ['api', 'web', 'worker', 'db', 'cache', 'queue', 'gateway', 'scheduler', 'indexer', 'proxy', 'auth', 'events', 'store', 'notify', 'reports'];
const PORT_OF: Record<string, number> = { db: 5432, cache: 6379, queue: 5672, web: 80, gateway: 443, api: 8080, store: 9000, indexer: 9200, events: 9092, proxy: 3128 };
const HOST_PROCS = ['sshd.service', 'nginx.service', 'node_exporter.service', 'containerd.service', 'chronyd.service', 'cron.service', 'dockerd', 'prometheus.service', 'postgresql.service', 'redis-server.service'];

function zeroRates(): Rates { return { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 }; }

export class SyntheticGraph {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();
  private readonly rnd: () => number;
  private readonly portOf = new Map<string, number>();
  private readonly failures = new Map<string, FailureSample[]>();
  private seq = 0;
  readonly startedAt = Date.now();

  constructor(private readonly o: SyntheticOptions) {
    this.rnd = prng(o.seed ?? 42);
    if (o.scenario === 'demo') this.buildDemo(); else this.buildBench();
  }

  snapshot(): GraphSnapshot {
    return { generatedAt: Date.now(), nodes: [...this.nodes.values()], edges: [...this.edges.values()] };
  }

  /** One step of change: a share of the edges get new numbers; now and then an edge comes or goes. */
  step(): GraphDelta {
    const now = Date.now();
    const ids = [...this.edges.keys()];
    const changed = new Map<string, GraphEdge>();
    const n = ids.length ? Math.max(1, Math.round(ids.length * this.o.changedEdgeShare)) : 0;
    for (let i = 0; i < n; i++) {
      const id = ids[Math.floor(this.rnd() * ids.length)];
      const e = this.edges.get(id)!;
      const next = this.bump(e, now);
      this.edges.set(id, next);
      changed.set(id, next);
    }
    const delta: GraphDelta = { generatedAt: now, nodes: [], edges: [], removedNodes: [], removedEdges: [] };
    this.seq++;
    if (this.o.scenario === 'bench' && this.seq % 4 === 0) {
      const e = this.randomEdge(now);
      if (e && !this.edges.has(e.id)) { this.edges.set(e.id, e); changed.set(e.id, e); }
    }
    if (this.o.scenario === 'bench' && this.seq % 6 === 3 && ids.length > 10) {
      const id = ids[Math.floor(this.rnd() * ids.length)];
      if (!changed.has(id)) { this.edges.delete(id); delta.removedEdges.push(id); }
    }
    delta.edges = [...changed.values()];
    // the nodes at the ends of changed edges have new lastSeen / active
    const touched = new Set<string>();
    for (const e of delta.edges) { touched.add(e.source); touched.add(e.target); }
    for (const id of touched) {
      const node = this.nodes.get(id);
      if (node) { const nn = { ...node, lastSeen: now }; this.nodes.set(id, nn); delta.nodes.push(nn); }
    }
    return delta;
  }

  /** Adds a new node with one edge to an existing one (to exercise incremental layout). */
  addNode(now = Date.now()): GraphDelta {
    const id = `ext:198.18.${Math.floor(this.rnd() * 250)}.${Math.floor(this.rnd() * 250)}`;
    const node = this.makeNode(id, 'external', id.slice(4), null, now);
    this.nodes.set(id, node);
    const sources = [...this.nodes.values()].filter((n) => n.kind === 'service' || n.kind === 'container');
    const src = sources[Math.floor(this.rnd() * sources.length)];
    const e = this.makeEdge(src.id, id, 443, now);
    this.edges.set(e.id, e);
    return { generatedAt: now, nodes: [node], edges: [e], removedNodes: [], removedEdges: [] };
  }

  nodeDetail(id: string): NodeDetail | null {
    const n = this.nodes.get(id);
    if (!n) return null;
    const edges = [...this.edges.values()];
    return {
      ...n,
      incoming: edges.filter((e) => e.target === id).map((e) => e.id),
      outgoing: edges.filter((e) => e.source === id).map((e) => e.id),
      recentFailures: edges.filter((e) => e.source === id || e.target === id).flatMap((e) => this.failures.get(e.id) ?? []).slice(0, 20),
    };
  }

  edgeDetail(id: string): EdgeDetail | null {
    const e = this.edges.get(id);
    if (!e) return null;
    const now = Date.now();
    const r = e.rates['10s'];
    const wobble = (v: number, i: number) => Math.max(0, v * (0.6 + 0.4 * Math.sin(i / 5 + e.port) + 0.3 * this.rnd()));
    const series = Array.from({ length: 60 }, (_, i) => ({
      time: now - (59 - i) * 1000,
      connections: wobble(r.connections, i),
      failures: r.failures > 0 && i % 7 < 3 ? wobble(r.failures, i) : 0,
      bytesSent: wobble(r.bytesSent, i),
      bytesReceived: wobble(r.bytesReceived, i + 3),
    }));
    return { ...e, series, recentFailures: this.failures.get(id) ?? [] };
  }

  clients(): RemoteClient[] {
    const out: RemoteClient[] = [];
    for (const n of this.nodes.values()) {
      if (n.kind !== 'client') continue;
      const edges = [...this.edges.values()].filter((e) => e.source === n.id);
      out.push({
        ip: n.ips[0],
        connections: edges.reduce((a, e) => a + e.connections.opened, 0),
        active: edges.reduce((a, e) => a + e.connections.active, 0),
        failed: edges.reduce((a, e) => a + e.connections.failed, 0),
        bytesSent: edges.reduce((a, e) => a + e.bytes.sent, 0),
        bytesReceived: edges.reduce((a, e) => a + e.bytes.received, 0),
        firstSeen: n.firstSeen,
        lastSeen: n.lastSeen,
        targets: edges.map((e) => ({ node: e.target, port: e.port, connections: e.connections.opened })),
      });
    }
    return out;
  }

  // ---- building ----

  private makeNode(id: string, kind: NodeKind, label: string, group: string | null, now: number, replicas = 1): GraphNode {
    const ip = () => `172.${18 + Math.floor(this.rnd() * 6)}.0.${2 + Math.floor(this.rnd() * 250)}`;
    const image = kind === 'service' || kind === 'container' ? `${group ?? 'library'}/${label.replace(/-\d+$/, '')}:1.${Math.floor(this.rnd() * 9)}` : undefined;
    const instances = kind === 'external' || kind === 'client'
      ? []
      : Array.from({ length: replicas }, (_, i) => {
        const pid = 1000 + Math.floor(this.rnd() * 60000);
        return {
          id: kind === 'process' ? `pid:${pid}` : Math.floor(this.rnd() * 0xffffffff).toString(16).padStart(12, '0'),
          name: kind === 'service' ? `${group}-${label}-${i + 1}` : label,
          pids: [pid],
          ips: kind === 'process' ? [] : [ip()],
          image,
          state: 'running' as const,
          startedAt: now - 3600_000,
        };
      });
    const ips = kind === 'external' || kind === 'client' ? [label] : instances.flatMap((i) => i.ips);
    return {
      id, kind, label, group, image,
      labels: kind === 'service' ? { 'com.docker.compose.project': group ?? '', 'com.docker.compose.service': label, 'org.opencontainers.image.version': '1.4.2' } : undefined,
      instances, ips, firstSeen: now - 3600_000, lastSeen: now, active: 0,
    };
  }

  private makeEdge(source: string, target: string, port: number, now: number): GraphEdge {
    const kind = this.rnd();
    const flowing = kind < 0.55;
    const open = !flowing && kind < 0.75;
    const failing = this.rnd() < 0.03;
    const conn = flowing ? Math.round(this.rnd() ** 4 * 120 * 10) / 10 + 0.1 : 0;
    const bytes = flowing ? Math.round(this.rnd() ** 4 * 2e6) : 0;
    const r10: Rates = { connections: conn, failures: failing ? Math.round(this.rnd() * 30) / 10 + 0.1 : 0, bytesSent: bytes * 0.2, bytesReceived: bytes * 0.8 };
    const opened = Math.round(conn * 3600 + this.rnd() * 100);
    const failedBy = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>;
    if (failing) failedBy[FAILURE_REASONS[Math.floor(this.rnd() * 3)]] = Math.round(this.rnd() * 50) + 1;
    const failed = Object.values(failedBy).reduce((a, b) => a + b, 0);
    const id = `${source}|${target}|${port}|tcp`;
    if (failing) this.failures.set(id, this.failureSamples(source, target, port, now, failedBy));
    const rttSlow = this.rnd() < 0.03;
    return {
      id, source, target, port, protocol: 'tcp',
      connections: { opened, active: open || flowing ? Math.floor(this.rnd() * 8) + (open ? 1 : 0) : 0, closed: opened, failed, failedBy },
      bytes: { sent: opened * 900, received: opened * 4200 },
      rtt: { meanUs: rttSlow ? 180_000 : 80 + this.rnd() * 900, p95Us: rttSlow ? 320_000 : 200 + this.rnd() * 3000, samples: opened + 1 },
      retransmits: this.rnd() < 0.04 ? Math.round(this.rnd() * 40) + 1 : 0,
      duration: { meanMs: 2 + this.rnd() * 40, p95Ms: 20 + this.rnd() * 200, samples: opened },
      firstSeen: now - 3600_000,
      lastSeen: flowing || open ? now : now - 120_000,
      rates: { '10s': r10, '1m': { ...r10, failures: failing ? r10.failures + 0.05 : 0 } },
    };
  }

  private failureSamples(source: string, target: string, port: number, now: number, by: Record<FailureReason, number>): FailureSample[] {
    const reasons = FAILURE_REASONS.filter((r) => by[r] > 0);
    const comm = (this.nodes.get(source)?.label ?? 'client').split(/[.:]/)[0].slice(0, 15);
    const errs: Record<FailureReason, string> = { refused: 'ECONNREFUSED', timeout: 'ETIMEDOUT', reset: 'ECONNRESET', unreachable: 'EHOSTUNREACH', aborted: 'ECONNABORTED' };
    return Array.from({ length: 5 }, (_, i) => {
      const reason = reasons[i % reasons.length];
      return {
        time: now - i * 7000 - Math.floor(this.rnd() * 3000),
        reason, error: errs[reason],
        clientPid: 2000 + Math.floor(this.rnd() * 30000), clientComm: comm,
        clientAddr: `${this.nodes.get(source)?.ips[0] ?? '10.0.0.1'}:${40000 + Math.floor(this.rnd() * 20000)}`,
        serverAddr: `${this.nodes.get(target)?.ips[0] ?? '10.0.0.2'}:${port}`,
      };
    });
  }

  private bump(e: GraphEdge, now: number): GraphEdge {
    const f = 0.6 + this.rnd() * 0.8;
    const r = e.rates['10s'];
    const start = r.connections === 0 && this.rnd() < 0.3;
    const conn = start ? 0.5 + this.rnd() * 5 : Math.round(r.connections * f * 10) / 10;
    const r10: Rates = {
      connections: conn,
      failures: r.failures > 0 ? Math.max(0, Math.round(r.failures * f * 10) / 10) : 0,
      bytesSent: start ? 2000 + this.rnd() * 20000 : r.bytesSent * f,
      bytesReceived: start ? 8000 + this.rnd() * 80000 : r.bytesReceived * f,
    };
    const added = Math.round(conn * 0.5);
    return {
      ...e,
      connections: { ...e.connections, opened: e.connections.opened + added, closed: e.connections.closed + added, active: Math.max(0, e.connections.active + Math.round((this.rnd() - 0.5) * 2)) },
      bytes: { sent: e.bytes.sent + r10.bytesSent * 0.5, received: e.bytes.received + r10.bytesReceived * 0.5 },
      retransmits: e.retransmits + (this.rnd() < 0.02 ? 1 : 0),
      lastSeen: now,
      rates: { '10s': r10, '1m': { ...e.rates['1m'], connections: (e.rates['1m'].connections * 5 + conn) / 6 } },
    };
  }

  /** A plausible new edge: mostly inside one project; across projects to gateways and APIs; out to externals. */
  private randomEdge(now: number): GraphEdge | null {
    const all = [...this.nodes.values()];
    const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(this.rnd() * xs.length)];
    const entry = all.filter((n) => n.kind === 'service' && /^(gateway|api|web|proxy)/.test(n.label));
    for (let tries = 0; tries < 30; tries++) {
      const roll = this.rnd();
      let s: GraphNode | undefined;
      let t: GraphNode | undefined;
      if (roll < 0.06) {
        s = pick(all.filter((n) => n.kind === 'client'));
        t = this.rnd() < 0.5 ? pick(entry) : pick(all.filter((n) => n.kind === 'process'));
      } else if (roll < 0.14) {
        s = pick(all.filter((n) => n.kind === 'process'));
        t = pick(all.filter((n) => n.kind === 'process' || (n.kind === 'service' && this.rnd() < 0.2)));
      } else {
        s = pick(all.filter((n) => n.kind === 'service' || n.kind === 'container'));
        if (!s) continue;
        const r = this.rnd();
        if (r < 0.9) t = pick(all.filter((n) => n.group === s!.group && n.id !== s!.id && n.kind !== 'client'));
        else if (r < 0.95) t = pick(entry.filter((n) => n.group !== s!.group));
        else if (r < 0.99) t = pick(all.filter((n) => n.kind === 'external'));
        else t = pick(all.filter((n) => n.kind === 'process'));
      }
      if (!s || !t || t.id === s.id) continue;
      const port = this.portOf.get(t.id) || 8080;
      const e = this.makeEdge(s.id, t.id, port, now);
      if (!this.edges.has(e.id)) return e;
    }
    return null;
  }

  private add(n: GraphNode, port: number): void {
    this.nodes.set(n.id, n);
    this.portOf.set(n.id, port);
  }

  private buildBench(): void {
    const now = Date.now();
    const { nodes: total, edges } = this.o;
    const ext = Math.round(total * 0.1), cli = Math.round(total * 0.05), proc = Math.round(total * 0.1), ctr = Math.round(total * 0.15);
    const svc = total - ext - cli - proc - ctr;
    for (let i = 0; i < svc; i++) {
      const group = PROJECTS[i % PROJECTS.length];
      const role = ROLES[Math.floor(i / PROJECTS.length) % ROLES.length];
      const label = i < PROJECTS.length * ROLES.length ? role : `${role}-${Math.floor(i / (PROJECTS.length * ROLES.length)) + 1}`;
      this.add(this.makeNode(`svc:${group}/${label}`, 'service', label, group, now, 1 + Math.floor(this.rnd() * 3)), PORT_OF[role] ?? 8000 + (i % 100));
    }
    for (let i = 0; i < ctr; i++) {
      const group = PROJECTS[(i * 3) % PROJECTS.length];
      const label = `${ROLES[i % ROLES.length]}-tmp-${i}`;
      this.add(this.makeNode(`ctr:${group}-${label}`, 'container', label, group, now), 7000 + i);
    }
    for (let i = 0; i < proc; i++) {
      const label = i < HOST_PROCS.length ? HOST_PROCS[i] : `${HOST_PROCS[i % HOST_PROCS.length].replace('.service', '')}-${i}.service`;
      this.add(this.makeNode(`proc:${label}`, 'process', label, 'host', now), [22, 80, 9100, 0, 123, 0, 2375, 9090, 5432, 6379][i % 10] || 8000 + i);
    }
    for (let i = 0; i < ext; i++) {
      const ip = `203.0.113.${10 + i}`;
      this.add(this.makeNode(`ext:${ip}`, 'external', ip, null, now), [443, 443, 53, 5432, 443][i % 5]);
    }
    for (let i = 0; i < cli; i++) {
      const ip = `198.51.100.${20 + i}`;
      this.add(this.makeNode(`client:${ip}`, 'client', ip, null, now), 0);
    }
    let guard = 0;
    while (this.edges.size < edges && guard++ < edges * 20) {
      const e = this.randomEdge(now);
      if (e) this.edges.set(e.id, e);
    }
    this.refreshActive();
  }

  private buildDemo(): void {
    const now = Date.now();
    const svc = (group: string, label: string, port: number, replicas = 1) => this.add(this.makeNode(`svc:${group}/${label}`, 'service', label, group, now, replicas), port);
    svc('shop', 'web', 80, 2); svc('shop', 'api', 8080, 3); svc('shop', 'db', 5432); svc('shop', 'cache', 6379); svc('shop', 'worker', 0, 2); svc('shop', 'queue', 5672);
    svc('payments', 'gateway', 443); svc('payments', 'ledger', 8081); svc('payments', 'db', 5432);
    this.add(this.makeNode('ctr:adminer-1', 'container', 'adminer-1', 'shop', now), 8088);
    this.add(this.makeNode('proc:nginx.service', 'process', 'nginx.service', 'host', now), 443);
    this.add(this.makeNode('proc:node_exporter.service', 'process', 'node_exporter.service', 'host', now), 9100);
    this.add(this.makeNode('proc:prometheus.service', 'process', 'prometheus.service', 'host', now), 9090);
    this.add(this.makeNode('ext:203.0.113.10', 'external', '203.0.113.10', null, now), 443);
    this.add(this.makeNode('ext:203.0.113.53', 'external', '203.0.113.53', null, now), 53);
    this.add(this.makeNode('client:198.51.100.7', 'client', '198.51.100.7', null, now), 0);
    this.add(this.makeNode('client:198.51.100.23', 'client', '198.51.100.23', null, now), 0);
    const link = (s: string, t: string, port: number, shape: 'flow' | 'open' | 'idle' | 'fail' | 'slow') => {
      const e = this.makeEdge(s, t, port, now);
      const r = shape === 'flow' || shape === 'fail' || shape === 'slow'
        ? { connections: 2 + Math.round(this.rnd() * 40), failures: shape === 'fail' ? 1.4 : 0, bytesSent: 3000 + this.rnd() * 50000, bytesReceived: 20000 + this.rnd() * 400000 }
        : zeroRates();
      const failedBy = { ...e.connections.failedBy };
      if (shape === 'fail') failedBy.refused = 37;
      const edge: GraphEdge = {
        ...e,
        rates: { '10s': r, '1m': { ...r } },
        connections: { ...e.connections, active: shape === 'idle' ? 0 : Math.max(1, e.connections.active), failed: shape === 'fail' ? 37 : 0, failedBy },
        retransmits: shape === 'slow' ? 14 : 0,
        rtt: shape === 'slow' ? { meanUs: 150_000, p95Us: 310_000, samples: 800 } : e.rtt,
      };
      if (shape === 'fail') this.failures.set(edge.id, this.failureSamples(s, t, port, now, failedBy));
      else this.failures.delete(edge.id);
      this.edges.set(edge.id, edge);
    };
    link('client:198.51.100.7', 'proc:nginx.service', 443, 'flow');
    link('client:198.51.100.23', 'proc:nginx.service', 443, 'flow');
    link('proc:nginx.service', 'svc:shop/web', 80, 'flow');
    link('svc:shop/web', 'svc:shop/api', 8080, 'flow');
    link('svc:shop/api', 'svc:shop/db', 5432, 'open');
    link('svc:shop/api', 'svc:shop/cache', 6379, 'flow');
    link('svc:shop/api', 'svc:shop/queue', 5672, 'open');
    link('svc:shop/worker', 'svc:shop/queue', 5672, 'flow');
    link('svc:shop/worker', 'svc:shop/db', 5432, 'slow');
    link('svc:shop/api', 'svc:payments/gateway', 443, 'fail');
    link('svc:payments/gateway', 'svc:payments/ledger', 8081, 'flow');
    link('svc:payments/ledger', 'svc:payments/db', 5432, 'open');
    link('svc:payments/gateway', 'ext:203.0.113.10', 443, 'flow');
    link('svc:shop/api', 'ext:203.0.113.53', 53, 'idle');
    link('ctr:adminer-1', 'svc:shop/db', 5432, 'idle');
    link('proc:prometheus.service', 'proc:node_exporter.service', 9100, 'flow');
    link('proc:prometheus.service', 'svc:shop/api', 8080, 'flow');
    this.refreshActive();
  }

  private refreshActive(): void {
    for (const n of this.nodes.values()) n.active = 0;
    for (const e of this.edges.values()) {
      const s = this.nodes.get(e.source), t = this.nodes.get(e.target);
      if (s) s.active += e.connections.active;
      if (t) t.active += e.connections.active;
    }
  }
}
