// `npm run bench:policy`: verdicts for 5,000 edges under 200 rules. Times the
// re-evaluation of every edge after a policy change (all nodes placed in their
// zones again, every edge judged again), the cost of a new edge (between known
// nodes, and with two nodes never seen), and the file's reading; the baseline
// in the same run judges each edge without the per-node zone cache.
import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { loadPolicyText, type LoadedPolicy } from '../src/policy/load.js';
import { PolicyEngine } from '../src/policy/engine.js';
import type { NodeLike } from '../src/policy/model.js';
import type { GraphEdge } from '../src/graph/types.js';
import { positiveInt } from '../src/cli/options.js';
import { POLICY_BENCH } from '../src/config/defaults.js';
import { prng } from './lib/synthetic-graph.js';
import { fixed, int, median, table } from './lib/report.js';

const program = new Command()
  .name('policy-bench')
  .option('--edges <n>', 'edges on the map', positiveInt('--edges'), POLICY_BENCH.edges)
  .option('--nodes <n>', 'nodes on the map', positiveInt('--nodes'), POLICY_BENCH.nodes)
  .option('--rules <n>', 'rules in the policy', positiveInt('--rules'), POLICY_BENCH.rules)
  .option('--zones <n>', 'zones in the policy', positiveInt('--zones'), POLICY_BENCH.zones)
  .option('--repeats <n>', 'timed repeats (median reported)', positiveInt('--repeats', 1000), POLICY_BENCH.repeats)
  .exitOverride();

const PROJECTS = ['shop', 'payments', 'search', 'auth', 'analytics', 'media', 'billing', 'ops', 'tenant-a', 'tenant-b'];
const ROLES = ['api', 'web', 'worker', 'db', 'cache', 'queue', 'gateway', 'scheduler', 'indexer', 'proxy'];
const IMAGES = ['postgres:15', 'redis:7', 'nginx:1.25', 'ghcr.io/acme/api:2.1', 'ghcr.io/acme/worker:2.1', 'rabbitmq:3', 'node:20'];
const PROCS = ['sshd', 'nginx', 'node_exporter', 'containerd', 'curl', 'python3.11', 'postgres', 'cron'];

function makeNodes(n: number, rnd: () => number): NodeLike[] {
  const out: NodeLike[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.75) {
      const project = `${PROJECTS[i % PROJECTS.length]}${Math.floor(i / 100)}`, role = ROLES[Math.floor(rnd() * ROLES.length)];
      const image = IMAGES[Math.floor(rnd() * IMAGES.length)];
      out.push({
        id: `svc:${project}/${role}-${i}`, kind: 'service', label: `${role}-${i}`, group: project, image,
        labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': `${role}-${i}`, tenant: String.fromCharCode(97 + (i % 8)), tier: role },
        instances: [{ id: `c${i}`, name: `${project}-${role}-${i}-1`, pids: [1000 + i], ips: [`172.20.${i >> 8}.${i & 255}`], image }], ips: [`172.20.${i >> 8}.${i & 255}`],
      });
    } else if (r < 0.85) {
      const p = PROCS[i % PROCS.length];
      out.push({ id: `proc:${p}-${i}`, kind: 'process', label: `${p}-${i}`, group: 'host', instances: [{ id: `pid:${i}`, name: p, pids: [i], ips: [] }], ips: [] });
    } else {
      const ip = `${rnd() < 0.5 ? '203.0.113' : '198.51.100'}.${i & 255}`;
      out.push({ id: `ext:${ip}#${i}`, kind: 'external', label: ip, group: null, instances: [], ips: [ip] });
    }
  }
  return out;
}

function makeEdges(nodes: NodeLike[], n: number, rnd: () => number, portBase = 1): GraphEdge[] {
  const out: GraphEdge[] = [];
  const ids = new Set<string>();
  while (out.length < n) {
    const a = nodes[Math.floor(rnd() * nodes.length)], b = nodes[Math.floor(rnd() * nodes.length)];
    const port = portBase + Math.floor(rnd() * 10_000);
    const id = `${a.id}|${b.id}|${port}|tcp`;
    if (a === b || ids.has(id)) continue;
    ids.add(id);
    const failed = rnd() < 0.1 ? 1 + Math.floor(rnd() * 5) : 0;
    out.push({
      id, source: a.id, target: b.id, port, protocol: 'tcp',
      connections: { opened: failed && rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 100), active: 0, closed: 0, failed, failedBy: { refused: failed, timeout: 0, reset: 0, unreachable: 0, aborted: 0 } },
      bytes: { sent: 0, received: 0 }, rtt: { meanUs: 0, p95Us: 0, samples: 0 }, retransmits: 0, duration: { meanMs: 0, p95Ms: 0, samples: 0 },
      firstSeen: 1, lastSeen: 2, rates: { '10s': { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 }, '1m': { connections: 0, failures: 0, bytesSent: 0, bytesReceived: 0 } },
    });
  }
  return out;
}

/** A policy of `zones` zones (every selector kind) and `rules` rules (deny, allow, allow-only; some with ports). */
function makePolicy(zones: number, rules: number, rnd: () => number, variant: number): string {
  const z: string[] = [];
  for (let i = 0; i < zones; i++) {
    const k = i % 7;
    const p = PROJECTS[i % PROJECTS.length];
    const sel = [
      `{compose_project: "${p}${i % 5}*"}`,
      `{label: {tenant: "${String.fromCharCode(97 + (i % 8))}", tier: "${ROLES[i % ROLES.length]}"}}`,
      `{image: "${IMAGES[i % IMAGES.length].split(':')[0]}*"}`,
      `{process: "${PROCS[i % PROCS.length]}*"}`,
      `{cidr: [${i % 2 ? '203.0.113.0/25' : '198.51.100.128/25'}]}`,
      `[{name: "${p}*-${ROLES[(i + variant) % ROLES.length]}-*"}, {compose_service: "${ROLES[i % ROLES.length]}-1*"}]`,
      `{kind: service, label: {tier: "${ROLES[(i + 3) % ROLES.length]}"}}`,
    ][k];
    z.push(`  z${i}: ${sel}`);
  }
  const r: string[] = [];
  const pick = () => `z${Math.floor(rnd() * zones)}`;
  for (let i = 0; i < rules; i++) {
    const action = ['deny', 'allow', 'allow-only'][(i + variant) % 3];
    const ports = i % 4 === 0 ? `, ports: [${1 + (i * 37) % 9000}, "${2000 + i}-${2500 + i}"]` : '';
    r.push(`  - name: r${i}\n    ${action}: {from: [${pick()}, ${pick()}], to: [${pick()}, ${pick()}, ${pick()}]${ports}}`);
  }
  return `zones:\n${z.join('\n')}\nrules:\n${r.join('\n')}\n`;
}

/** Median CPU time in ms (this process's user + system; other processes competing for the cores do not inflate it as they do wall time). */
function timed(fn: () => void, repeats: number): number {
  const xs: number[] = [];
  for (let i = 0; i < repeats; i++) { const c = process.cpuUsage(); fn(); const u = process.cpuUsage(c); xs.push((u.user + u.system) / 1000); }
  return median(xs);
}

function cpuMs<T>(fn: () => T): number { const c = process.cpuUsage(); fn(); const u = process.cpuUsage(c); return (u.user + u.system) / 1000; }

async function main(): Promise<void> {
  try { program.parse(); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
  const o = program.opts<{ edges: number; nodes: number; rules: number; zones: number; repeats: number }>();
  const rnd = prng(7);
  const nodes = makeNodes(o.nodes, rnd);
  const byNode = new Map(nodes.map((n) => [n.id, n]));
  const edges = makeEdges(nodes, o.edges, rnd);
  const texts = [makePolicy(o.zones, o.rules, prng(1), 0), makePolicy(o.zones, o.rules, prng(2), 1)];
  let loaded: LoadedPolicy[] = [];
  const loadMs = timed(() => { loaded = texts.map((t) => loadPolicyText('bench.yaml', t)); }, Math.min(o.repeats, 5)) / 2;

  const engine = new PolicyEngine(loaded[0]);
  for (const n of nodes) engine.noteNode(n);
  for (const e of edges) engine.noteEdge(e);
  const counts = () => { const c = { allowed: 0, violation: 0, unmatched: 0 }; for (const v of engine.verdicts()) c[v.policy.verdict]++; return c; };
  const before = counts();

  // After a change: the other policy, then back; each swap re-places every node and re-judges every edge.
  let k = 0;
  const changeMs = timed(() => { engine.setPolicy(loaded[++k % 2]); }, o.repeats);
  const after = counts();

  // New edges between known nodes (the usual case), and new edges whose two nodes are new too.
  const fresh = makeEdges(nodes, o.edges, prng(11), 20_000);
  const perEdge: number[] = [];
  for (let r = 0; r < Math.max(3, Math.min(o.repeats, 9)); r++) {
    const e2 = new PolicyEngine(loaded[0]);
    for (const n of nodes) e2.noteNode(n);
    perEdge.push((cpuMs(() => { for (const e of fresh) e2.noteEdge(e); }) * 1000) / fresh.length);
  }
  const newNodes = makeNodes(o.edges * 2, prng(13)).map((n, i) => ({ ...n, id: `${n.id}~${i}` }));
  const coldEdges = fresh.map((e, i) => ({ ...e, id: `cold${i}`, source: newNodes[2 * i].id, target: newNodes[2 * i + 1].id }));
  const cold: number[] = [];
  for (let r = 0; r < 3; r++) {
    const e3 = new PolicyEngine(loaded[0]);
    const byId = new Map(newNodes.map((n) => [n.id, n]));
    cold.push((cpuMs(() => { for (const e of coldEdges) e3.verdict(e, (id) => byId.get(id)); }) * 1000) / coldEdges.length);
  }

  // Baseline: no zone cache; both ends placed again for every edge.
  const base = timed(() => {
    const c = loaded[0].compiled;
    for (const e of edges) c.decide(c.place(byNode.get(e.source)!), c.place(byNode.get(e.target)!), e.port, e.protocol);
  }, Math.min(o.repeats, 5));

  const t = POLICY_BENCH.targets;
  const ok = (v: number, target: number) => (v <= target ? 'yes' : 'NO');
  console.log(`policy bench: ${int(o.edges)} edges, ${int(o.nodes)} nodes, ${o.rules} rules, ${o.zones} zones; node ${process.version}; CPU time (load average ${os.loadavg()[0].toFixed(1)})`);
  console.log(`verdicts before: ${JSON.stringify(before)}; after the change: ${JSON.stringify(after)}`);
  console.log(table(['measure', 'median', 'target', 'met'], [
    ['re-evaluation after a policy change (ms)', fixed(changeMs, 2), `<= ${t.reevaluateMs}`, ok(changeMs, t.reevaluateMs)],
    ['new edge, known nodes (us/edge)', fixed(median(perEdge), 2), `<= ${t.perNewEdgeUs}`, ok(median(perEdge), t.perNewEdgeUs)],
    ['new edge, two new nodes (us/edge)', fixed(median(cold), 2), `<= ${t.perNewEdgeUs}`, ok(median(cold), t.perNewEdgeUs)],
    null,
    ['baseline: every edge without the zone cache (ms)', fixed(base, 2), '', ''],
    ['  cache speed-up (baseline / re-evaluation)', `${fixed(base / changeMs, 1)}x`, '', ''],
    ['reading the policy file: parse, schema, compile (ms)', fixed(loadMs, 2), '', ''],
  ]));
}

main().catch((e) => { console.error(e); process.exit(1); });
