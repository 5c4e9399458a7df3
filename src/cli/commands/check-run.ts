// What `dhrishti check` does (check.ts registers it): read the policy and
// compose files, get the map, judge every edge, print and pick the exit code.
import { loadPolicyFile, type LoadedPolicy } from '../../policy/load.js';
import { problemLines } from '../../policy/yaml-source.js';
import { loadComposeFile, type ComposeProject } from '../../intent/compose.js';
import { intentDiff, type IntentDiff } from '../../intent/diff.js';
import { PolicyEngine } from '../../policy/engine.js';
import { attemptsOf } from '../../graph/edge-facts.js';
import { selectorGaps, someNames, type SelectorGap } from '../../policy/coverage.js';
import type { NodeLike } from '../../policy/model.js';
import { parseDuration } from '../../api/params.js';
import type { GraphEdge, GraphNode, GraphSnapshot, PolicyVerdict } from '../../graph/types.js';
import { fetchFailure } from '../../net/fetch-failure.js';
import { API_DEFAULTS, HISTORY_DEFAULTS } from '../../config/defaults.js';
import { clientToken } from '../token.js';

/** The options of `dhrishti check` (registered in check.ts). */
export interface CheckOptions {
  /** Absent: only the compose diff (--compose). */
  policy?: string;
  compose?: string[];
  since?: string;
  url: string;
  token?: string;
  tokenFile?: string;
  dataDir?: string;
  retention?: string;
  format: 'table' | 'json';
  strict?: boolean;
  all?: boolean;
}

export interface CheckRow {
  verdict: PolicyVerdict['verdict'];
  rule: string | null;
  attempted: boolean;
  edge: string;
  client: string;
  server: string;
  port: number;
  /** Connections seen opening (one already open when the agent started is not: see beforeStart). */
  connections: number;
  /** Open now (live map); over a history range, the most open at once. */
  open: number;
  /** Connections made before the agent started (found open at its start-up, never seen opening), open or closed since; live map only, else null. */
  beforeStart: number | null;
  attempts: number;
  firstSeen: number;
  lastSeen: number;
  /** The client instances that made the edge's connections, else (a history that stored none for the edge) the client node's newest. */
  processes: string[];
  /** processes are the client node's newest, not the edge's own. */
  processesOfNode: boolean;
}

export class CheckFailed extends Error {}

export async function check(opts: CheckOptions): Promise<number> {
  let policy: LoadedPolicy | null = null;
  const projects: ComposeProject[] = [];
  try {
    if (opts.policy) policy = loadPolicyFile(opts.policy);
    for (const f of opts.compose ?? []) projects.push(loadComposeFile(f));
  } catch (e) {
    // every problem, one a line: fixing a file one error a run is slow
    throw new CheckFailed(`invalid file: ${problemLines(e).join('\n  ')}`);
  }
  const sinceMs = opts.since === undefined ? undefined : parseDuration(opts.since, '--since');
  const { graph, source, running = [], live = false } = opts.dataDir ? await fromHistoryFile(opts.dataDir, sinceMs ?? 3_600_000, opts.retention) : await fromAgent(opts, sinceMs);

  if (policy) {
    for (const w of policy.warnings) console.error(`warning: ${w}`);
    for (const l of coverageLines(selectorGaps(policy, graph.nodes, running), source, live)) console.error(l);
  }
  const rows = policy ? judge(policy, graph, live) : [];
  const diff = projects.length ? intentDiff(projects, graph) : null;
  const violations = rows.filter((r) => r.verdict === 'violation');
  const counts = { allowed: 0, violation: 0, unmatched: 0 };
  for (const r of rows) counts[r.verdict]++;

  if (opts.format === 'json') {
    process.stdout.write(JSON.stringify({ source, policy: policy ? { file: policy.file, sha256: policy.sha256 } : null, counts, edges: opts.all ? rows : violations, intent: diff }, null, 2) + '\n');
  } else {
    if (policy) {
      printTable(opts.all ? rows : violations, live, opts.all);
      console.log(`\n${rows.length} edge${rows.length === 1 ? '' : 's'} from ${source}: ${counts.violation} violation${counts.violation === 1 ? '' : 's'}`
        + ` (${violations.filter((v) => v.attempted).length} attempted only), ${counts.allowed} allowed, ${counts.unmatched} unmatched`);
    } else console.log(`${graph.edges.length} edge${graph.edges.length === 1 ? '' : 's'} from ${source}`);
    if (diff) printIntent(diff);
  }
  const intentBad = !!diff && (diff.undeclared.length > 0 || diff.crossings.length > 0 || diff.stale.length > 0);
  return violations.length || (opts.strict && intentBad) ? 1 : 0;
}

/**
 * Selectors matching no node of the map: a warning when they match nothing the agent knows runs (a typo, or a
 * workload not started), a note when they match a running workload that is only not on the map (no connection yet).
 */
export function coverageLines(gaps: SelectorGap[], source: string, live: boolean): string[] {
  return gaps.map((g) => {
    if (!g.running.length) return `warning: ${g.what} matches nothing in ${source}`;
    const who = `${someNames(g.running)} ${g.running.length === 1 ? 'is' : 'are'} running`;
    return `note: ${g.what} matches no node in ${source} yet: ${who} but ${live
      ? 'made no connection the agent saw (none since it started, or none lately)'
      : 'made no connection in that time'}`;
  });
}

/** Connections of a live edge made before the agent started: open ones are active but never opened, and stay in closed when they end. */
export function madeBeforeStart(c: GraphEdge['connections']): number {
  return Math.max(0, c.active + c.closed - c.opened);
}

/**
 * Every edge of the map with its verdict under the policy (resolver edges are DNS health, not traffic it rules on).
 * `live`: the map is the agent's live map, whose counts run from its start (a history map's are its range's).
 */
export function judge(policy: LoadedPolicy, g: Pick<GraphSnapshot, 'nodes' | 'edges'>, live = false): CheckRow[] {
  const engine = new PolicyEngine(policy);
  const nodes = new Map<string, GraphNode>(g.nodes.map((n) => [n.id, n]));
  for (const n of g.nodes) engine.noteNode(n);
  const who = (id: string) => nodes.get(id)?.instances.slice(-4).map((i) => (i.pids.length ? `${i.name}(${i.pids.at(-1)})` : i.name)) ?? [];
  return g.edges.filter((e) => e.protocol !== 'dns').map((e: GraphEdge) => {
    const v = engine.verdict(e) ?? { verdict: 'unmatched' as const };
    return {
      verdict: v.verdict, rule: v.rule ?? null, attempted: !!v.attempted, edge: e.id, client: e.source, server: e.target, port: e.port,
      connections: e.connections.opened, open: e.connections.active, beforeStart: live ? madeBeforeStart(e.connections) : null, attempts: attemptsOf(e.connections), firstSeen: e.firstSeen, lastSeen: e.lastSeen,
      processes: e.clientInstances?.length ? e.clientInstances.slice(-4) : who(e.source),
      processesOfNode: !e.clientInstances?.length && who(e.source).length > 0,
    };
  }).sort((a, b) => order(a.verdict) - order(b.verdict) || b.lastSeen - a.lastSeen);
}

const order = (v: CheckRow['verdict']) => (v === 'violation' ? 0 : v === 'unmatched' ? 1 : 2);

interface CheckMap {
  graph: GraphSnapshot;
  source: string;
  /** Workloads the agent knows run now, on the map or not (an agent too old to tell, or none asked: empty). */
  running?: NodeLike[];
  /** The agent's live map (counts since its start). */
  live?: boolean;
}

async function fromAgent(opts: CheckOptions, sinceMs: number | undefined): Promise<CheckMap> {
  let base: URL;
  try { base = new URL('/api/v1/graph', opts.url); } catch { throw new CheckFailed(`--url is not a URL: ${opts.url}`); }
  if (sinceMs !== undefined) base.searchParams.set('from', `-${Math.round(sinceMs / 1000)}s`);
  const token = clientToken(opts, 'dhrishti check');
  let res: Response;
  try {
    res = await fetch(base, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(API_DEFAULTS.clientTimeoutMs) });
  } catch (e) {
    throw new CheckFailed(`no agent answering at ${opts.url}: ${fetchFailure(e, base.href, API_DEFAULTS.clientTimeoutMs)}; start one with: dhrishti run, or read a stopped agent's history with --data-dir`);
  }
  const body = await res.json().catch(() => null) as (GraphSnapshot & { message?: string }) | null;
  if (!res.ok || !body || !Array.isArray(body.edges)) throw new CheckFailed(`the agent answered ${res.status}: ${body?.message ?? res.statusText}`);
  // What runs but is not on the map (no connection yet): an agent without the route (older, or a hub) answers 404, and then nothing is known.
  const w = await fetch(new URL('/api/v1/workloads', opts.url), { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(API_DEFAULTS.clientTimeoutMs) })
    .then(async (r) => (r.ok ? await r.json() as { workloads?: NodeLike[] } : null)).catch(() => null);
  const running = Array.isArray(w?.workloads) ? w.workloads : [];
  return { graph: body, running, live: sinceMs === undefined, source: sinceMs !== undefined ? `the agent's history (last ${opts.since})` : `the live map at ${opts.url}` };
}

async function fromHistoryFile(dir: string, sinceMs: number, retention?: string): Promise<CheckMap> {
  const { HistoryStore } = await import('../../store/history-store.js');
  const { databaseFile } = await import('../../store/paths.js');
  const { parseRetention } = await import('../../store/retention.js');
  const file = databaseFile(dir);
  let store;
  try {
    store = new HistoryStore({ file, tiers: parseRetention(retention ?? HISTORY_DEFAULTS.retention), reader: true });
  } catch (e) {
    throw new CheckFailed(`${(e as Error).message}${/in use/.test((e as Error).message) ? '; while the agent runs, check through it (--url)' : ''}`);
  }
  try {
    const now = Date.now();
    return { graph: store.queries.graphRange(now - sinceMs, now), source: `${file} (last ${Math.round(sinceMs / 60_000)} min)` };
  } finally {
    store.close();
  }
}

function printTable(rows: CheckRow[], live: boolean, all?: boolean): void {
  if (!rows.length) { console.log(all ? 'no edges' : 'no violations'); return; }
  console.log(tableText(rows, live));
}

/**
 * The table's text. CONNECTED counts connections seen opening; those made before the agent started (found open at its
 * start-up) are added as "+N before start", with a footnote; OPEN is open now (live), or the most open at once (history).
 */
export function tableText(rows: CheckRow[], live: boolean): string {
  const t = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  // The instances that made the edge's connections, else the client node's newest (marked *).
  const head = ['VERDICT', 'RULE', 'CLIENT', 'SERVER', 'PORT', 'CONNECTED', live ? 'OPEN' : 'OPEN (MOST)', 'ATTEMPTS', 'FIRST SEEN', 'LAST SEEN', 'CLIENT INSTANCES'];
  const body = rows.map((r) => [
    r.verdict === 'violation' && r.attempted ? 'violation (attempted)' : r.verdict, r.rule ?? '-', r.client, r.server, String(r.port),
    r.beforeStart ? `${r.connections} +${r.beforeStart} before start` : String(r.connections), String(r.open), String(r.attempts), t(r.firstSeen), t(r.lastSeen), r.processes.length ? `${r.processes.join(', ')}${r.processesOfNode ? ' *' : ''}` : '-',
  ]);
  const early = rows.filter((r) => r.beforeStart).length;
  return columns([head, ...body]) + (early
    ? `\n\n+N before start: connections made before the agent started, found open at its start-up (not seen opening); they got through.`
    : '') + (rows.some((r) => r.processesOfNode)
    ? `\n\n*: the client node's newest instances, not necessarily this edge's (the history stored none for the edge in this span).`
    : '');
}

function printIntent(d: IntentDiff): void {
  console.log(`\ncompose: ${d.compose.map((c) => `${c.file} (project ${c.project})`).join(', ')}`);
  const section = (title: string, rows: string[][]) => {
    console.log(`\n${title}: ${rows.length}`);
    if (rows.length) console.log(columns(rows.map((r) => ['  ' + r[0], ...r.slice(1)])));
  };
  section('observed but not declared', d.undeclared.map((u) => [u.client, '->', `${u.server}:${u.port}`, `${u.connections} connected, ${u.failed} failed`, u.peer === 'outside' ? '(other end outside the compose files)' : '']));
  if (d.stale.length) section('calls to a gone container\'s address (a client still pointed at it)', d.stale.map((u) => [u.client, '->', `${u.server}:${u.port}`, `${u.connections} connected, ${u.failed} failed`, u.lastHolder ? `(was ${u.lastHolder}, on ${u.network})` : `(no container on ${u.network})`]));
  section('declared but not observed', d.unused.map((u) => [u.client, '->', u.server, u.evidence.map((e) => `${e.text} (${e.at.file}:${e.at.line})`).join('; ')]));
  section('crossings between networks', d.crossings.map((c) => [c.client, '->', `${c.server}:${c.port}`, c.reason]));
  if (d.unreachable.length) section('declared between services sharing no network', d.unreachable.map((u) => [u.client, '->', u.server, u.evidence[0]?.text ?? '']));
  if (d.absent.length) section('declared services not on the map (not running, or not talking)', d.absent.map((id) => [id]));
}

function columns(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd()).join('\n');
}
