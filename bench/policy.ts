// `npm run bench:policy`: verdicts for 5,000 edges under 200 rules. Times the
// re-evaluation of every edge after a policy change (all nodes placed in their
// zones again, every edge judged again), and the cost of a new edge as the
// follower meets it (between known nodes; and with both nodes new, so both are
// placed in their zones first), each over many runs (median and p95). The
// baselines in the same run: the same engine with zones found by testing every
// selector of every zone (no zone index), and judging each edge with no
// per-node cache at all.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Command, CommanderError } from 'commander';
import { loadPolicyText, type LoadedPolicy } from '../src/policy/load.js';
import { CompiledPolicy } from '../src/policy/compile.js';
import { PolicyEngine } from '../src/policy/engine.js';
import type { NodeLike } from '../src/policy/model.js';
import type { GraphEdge } from '../src/graph/types.js';
import { positiveInt } from '../src/cli/options.js';
import { POLICY_BENCH } from './lib/constants.js';
import { prng } from './lib/synthetic-graph.js';
import { EDGE_TRAFFIC, waitForEdges } from './lib/edge-traffic.js';
import { node, stopAll } from '../test/support/children.js';
import { startAgent } from '../test/support/agent.js';
import { fixed, int, median, quantile, table } from './lib/report.js';

const program = new Command()
  .name('policy-bench')
  .option('--edges <n>', 'edges on the map', positiveInt('--edges'), POLICY_BENCH.edges)
  .option('--nodes <n>', 'nodes on the map', positiveInt('--nodes'), POLICY_BENCH.nodes)
  .option('--rules <n>', 'rules in the policy', positiveInt('--rules'), POLICY_BENCH.rules)
  .option('--zones <n>', 'zones in the policy', positiveInt('--zones'), POLICY_BENCH.zones)
  .option('--repeats <n>', 'timed repeats of the re-evaluation (median reported)', positiveInt('--repeats', 1000), POLICY_BENCH.repeats)
  .option('--skip-agent', 'leave out the reloads timed inside a real `dhrishti run`')
  .option('--runs <n>', 'timed runs of each new-edge measure (median and p95 reported)', positiveInt('--runs', 1000), POLICY_BENCH.runs)
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

/** CPU time in ms (this process's user + system; other processes competing for the cores do not inflate it as they do wall time). */
function cpuMs(fn: () => void): number { const c = process.cpuUsage(); fn(); const u = process.cpuUsage(c); return (u.user + u.system) / 1000; }

// Young-generation collections on demand, to keep the bench's own allocations out of the engine's figures.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (o: { type: 'minor' | 'major'; execution?: 'sync' }) => void;
/** Two scavenges: what survives both (all live young objects) is in the old generation. */
const promote = () => { gc({ type: 'minor', execution: 'sync' }); gc({ type: 'minor', execution: 'sync' }); };

/**
 * CPU ms of `fn`, starting with an empty young generation (the bench's own allocations promoted beforehand, untimed)
 * and ending with the scavenges that promote what `fn` allocated and keeps: the work pays for its own garbage
 * collection, the bench's does not.
 */
function measured(fn: () => void): number {
  promote();
  return cpuMs(() => { fn(); promote(); });
}

/** CPU ms of each of `repeats` calls. */
function timed(fn: () => void, repeats: number): number[] {
  const xs: number[] = [];
  for (let i = 0; i < repeats; i++) xs.push(measured(fn));
  return xs;
}

/**
 * CPU us per edge of each run (measured): `setup(run)` (not timed) returns the run's work over `count` edges. The
 * first WARM_UP runs are not counted: until then the JIT is still compiling and the heap still growing to its
 * working size, each growth a full collection whose concurrent marking lands in some run's CPU time.
 */
const WARM_UP = 10;
function perEdge(runs: number, count: number, setup: (run: number) => () => void): number[] {
  const xs: number[] = [];
  for (let r = 0; r < runs + WARM_UP; r++) {
    const ms = measured(setup(r));
    if (r >= WARM_UP) xs.push((ms * 1000) / count);
  }
  return xs;
}

/**
 * The same policy change inside the product: `dhrishti run --policy` with `edges` real edges (one listening port each),
 * the file rewritten `repeats` times between two policies; each reload logs how long judging every edge again took.
 */
async function agentReloads(edges: number, texts: string[], repeats: number): Promise<{ ms: number[]; judged: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-policy-bench-'));
  const file = path.join(dir, 'policy.yaml');
  fs.writeFileSync(file, texts[0]);
  try {
    const agent = await startAgent(['--no-history', '--no-docker', '--policy', file]);
    const load = node(EDGE_TRAFFIC, [String(edges), '1000000', 'quiet']);
    await load.waitFor(/^connected/, 180_000);
    const judged = /\((\d+) edges judged in ([\d.]+) ms\)/;
    const have = await waitForEdges(agent.url, edges);
    if (have < edges) throw new Error(`only ${have} of ${edges} edges on the map`);
    const ms: number[] = [];
    let n = 0;
    for (let i = 1; i <= repeats; i++) {
      const lines = agent.child.lines;
      let next = lines.length; // only lines after this write
      fs.writeFileSync(file, texts[i % 2]);
      const until = Date.now() + 20_000;
      let m: RegExpExecArray | null = null;
      while (!m && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        for (; !m && next < lines.length; next++) m = judged.exec(lines[next]);
      }
      if (!m) throw new Error(`reload ${i}: no "edges judged" line from the agent; its output: ${lines.slice(-5).join(' | ')}`);
      n = Number(m[1]);
      ms.push(Number(m[2]));
    }
    return { ms, judged: n };
  } finally {
    await stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  try { program.parse(); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
  const o = program.opts<{ edges: number; nodes: number; rules: number; zones: number; repeats: number; runs: number; skipAgent?: boolean }>();
  const rnd = prng(7);
  const nodes = makeNodes(o.nodes, rnd);
  const byNode = new Map(nodes.map((n) => [n.id, n]));
  const edges = makeEdges(nodes, o.edges, rnd);
  const texts = [makePolicy(o.zones, o.rules, prng(1), 0), makePolicy(o.zones, o.rules, prng(2), 1)];
  let loaded: LoadedPolicy[] = [];
  const loadMs = median(timed(() => { loaded = texts.map((t) => loadPolicyText('bench.yaml', t)); }, Math.min(o.repeats, 5))) / 2;
  /** The same policy, compiled afresh (no memo of zone sets from earlier runs); `scan`: zones by testing every selector. */
  const compiled = (scan: boolean): LoadedPolicy => ({ ...loaded[0], compiled: new CompiledPolicy(loaded[0].spec, { scan }) });

  const engine = new PolicyEngine(loaded[0]);
  for (const n of nodes) engine.noteNode(n);
  for (const e of edges) engine.noteEdge(e);
  const counts = (en: PolicyEngine) => { const c = { allowed: 0, violation: 0, unmatched: 0 }; for (const v of en.verdicts()) c[v.policy.verdict]++; return c; };
  const before = counts(engine);

  // After a change: the other policy, then back; each swap re-places every node and re-judges every edge.
  const change = (en: PolicyEngine, ps: LoadedPolicy[]) => { let k = 0; return timed(() => { en.setPolicy(ps[++k % 2]); }, o.repeats + WARM_UP).slice(WARM_UP); };
  const changeMs = change(engine, loaded);
  if (process.env.POLICY_BENCH_RUNS) console.log(changeMs.map((x) => x.toFixed(1)).join(' '));
  const after = counts(engine);
  const scanEngine = new PolicyEngine({ ...loaded[0], compiled: new CompiledPolicy(loaded[0].spec, { scan: true }) });
  for (const n of nodes) scanEngine.noteNode(n);
  for (const e of edges) scanEngine.noteEdge(e);
  const changeScanMs = change(scanEngine, loaded.map((l) => ({ ...l, compiled: new CompiledPolicy(l.spec, { scan: true }) })));
  if (JSON.stringify(counts(scanEngine)) !== JSON.stringify(after)) throw new Error('the zone index and the selector scan disagree');

  // New edges as the follower meets them: between known nodes (the usual case) ...
  const fresh = makeEdges(nodes, o.edges, prng(11), 20_000);
  const known = perEdge(o.runs, fresh.length, () => {
    const en = new PolicyEngine(loaded[0]);
    for (const n of nodes) en.noteNode(n);
    return () => { for (const e of fresh) en.noteEdge(e); };
  });
  // ... and edges whose two nodes are new too (new containers, new names): each run its own nodes, a fresh engine and policy.
  // A run's nodes are new to its engine (a fresh engine and a freshly compiled policy each run), drawn in turn from a few
  // sets made up front and promoted untimed (see perEdge), as a graph's nodes are by the time they number thousands:
  // making new ones per run would leave the old generation's marking and sweeping of the bench's garbage to be timed.
  const INPUT_SETS = 4;
  const runInput = (set: number) => {
    const ns = makeNodes(fresh.length * 2, prng(1000 + set)).map((n, i) => ({ ...n, id: `${n.id}~${set}.${i}`, instances: n.instances.map((x) => ({ ...x, name: `${x.name}-r${set}` })) }));
    return { ns, es: fresh.map((e, i) => ({ ...e, id: `new${i}`, source: ns[2 * i].id, target: ns[2 * i + 1].id })) };
  };
  const inputs = Array.from({ length: INPUT_SETS }, (_, k) => runInput(k));
  const bothNew = (scan: boolean) => perEdge(o.runs, fresh.length, (run) => {
    const { ns, es } = inputs[run % INPUT_SETS];
    const en = new PolicyEngine(compiled(scan));
    return () => { for (let i = 0; i < es.length; i++) { en.noteNode(ns[2 * i]); en.noteNode(ns[2 * i + 1]); en.noteEdge(es[i]); } };
  });
  const cold = bothNew(false), coldScan = bothNew(true);
  if (process.env.POLICY_BENCH_RUNS) console.log(cold.map((x) => x.toFixed(1)).join(' '));

  // Baseline: no per-node cache; both ends placed again for every edge.
  const base = median(timed(() => {
    const c = loaded[0].compiled;
    for (const e of edges) c.decide(c.place(byNode.get(e.source)!), c.place(byNode.get(e.target)!), e.port, e.protocol);
  }, Math.min(o.repeats, 5)));

  const inAgent = o.skipAgent ? null : await agentReloads(o.edges, texts, o.repeats);
  const t = POLICY_BENCH.targets;
  const ok = (v: number, target: number) => (v <= target ? 'yes' : 'NO');
  const row = (name: string, xs: number[], target?: number): string[] =>
    [name, fixed(median(xs), 2), fixed(quantile(xs, 0.95), 2), target ? `<= ${target}` : '', target ? ok(quantile(xs, 0.95), target) : ''];
  console.log(`policy bench: ${int(o.edges)} edges, ${int(o.nodes)} nodes, ${o.rules} rules, ${o.zones} zones; node ${process.version}; CPU time (load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.cpus().length} CPUs)`);
  console.log(`verdicts before: ${JSON.stringify(before)}; after the change: ${JSON.stringify(after)}`);
  console.log(`new-edge figures: ${o.runs} runs of ${int(fresh.length)} edges each (after ${WARM_UP} warm-up runs); "both nodes new": ${int(fresh.length * 2)} new nodes per run, each placed in its zones`);
  console.log(table(['measure', 'median', 'p95', 'target', 'met (p95)'], [
    row(`re-evaluation after a policy change (ms, ${o.repeats} repeats after ${WARM_UP})`, changeMs, t.reevaluateMs),
    ...(inAgent ? [row(`...the same inside \`dhrishti run\`: file rewritten, ${int(inAgent.judged)} real edges judged again (ms, ${inAgent.ms.length} reloads)`, inAgent.ms, t.reevaluateMs)] : []),
    row('new edge, known nodes (us/edge)', known, t.perNewEdgeUs),
    row('new edge, both nodes new (us/edge)', cold, t.perNewEdgeUs),
    null,
    row('baseline, zones by testing every selector: both nodes new (us/edge)', coldScan),
    ['  zone index speed-up on new nodes (baseline / index, medians)', `${fixed(median(coldScan) / median(cold), 1)}x`, '', '', ''],
    row('baseline, zones by testing every selector: re-evaluation (ms)', changeScanMs),
    row('baseline: every edge, both ends placed again, no cache (ms)', [base]),
    ['  cache speed-up (no-cache baseline / re-evaluation, medians)', `${fixed(base / median(changeMs), 1)}x`, '', '', ''],
    ['reading the policy file: parse, schema, compile (ms)', fixed(loadMs, 2), '', '', ''],
  ]));
}

main().catch((e) => { console.error(e); process.exit(1); });
