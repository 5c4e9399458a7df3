// The policy in a running agent: loaded at start, reloaded when the file
// changes or on SIGHUP (a bad file is refused and the policy in force stays),
// violations counted for /metrics, written to the timeline and sent to the
// alert webhook.
import { PolicyEngine, type Violation, type ViolationNews } from './engine.js';
import { loadPolicyFile, loadPolicyText, type LoadedPolicy } from './load.js';
import { FileError } from './yaml-source.js';
import { policyMetrics } from './metrics.js';
import { watchFiles } from './watch.js';
import type { AlertWebhook, Alert } from './webhook.js';
import { FiringAlerts, type FiringOptions } from './firing.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';
import { ownEdgeLabels, UNKNOWN_NODE } from '../export/labels.js';

/** A timeline event as the history store takes it. */
export interface TimelineEvent {
  time: number;
  type: 'policy_loaded' | 'policy_rejected' | 'policy_violation';
  edge?: { id: string; source: string; target: string; port: number; protocol: 'tcp' };
  detail?: Record<string, unknown>;
}

export interface TimelineSink { addEvents(events: TimelineEvent[]): void }

export interface PolicyStatus {
  file: string;
  sha256: string | null;
  loadedAt: number | null;
  rules: number;
  zones: number;
  reloads: number;
  refused: number;
  /** The last refused load, while the file is still bad. */
  lastError: { time: number; file: string; line: number; column: number; message: string; all: { file: string; line: number; column: number; message: string }[] } | null;
  warnings: string[];
}

export interface RuntimeOptions {
  timeline?: TimelineSink;
  webhook?: AlertWebhook;
  /** The web UI's address, for links in alerts. */
  uiUrl?: string;
  /** This agent's host name, a label on its alerts: the same violation on two hosts is two alerts. */
  host?: string;
  /** Reposting of firing alerts (tests shorten it). */
  firing?: FiringOptions;
  say?: (msg: string) => void;
  warn?: (msg: string) => void;
  /** Warnings computed against what runs now (selectors matching nothing): asked at each status, said at load (at start, after coverageGraceMs). */
  coverage?: (p: LoadedPolicy) => string[];
  coverageGraceMs?: number;
  reaffirmMs?: number;
  /** Injectable clock (tests); Date.now otherwise. */
  clock?: () => number;
}

export class PolicyRuntime {
  readonly engine: PolicyEngine;
  private reloads = 0;
  private refused = 0;
  private lastError: PolicyStatus['lastError'] = null;
  private coverageTimer: NodeJS.Timeout | null = null;
  private watcher: { stop(): void } | null = null;
  private reaffirm: NodeJS.Timeout | null = null;
  private readonly firing: FiringAlerts | null;
  private readonly onHup = () => this.reload('SIGHUP');
  private readonly say: (m: string) => void;
  private readonly warn: (m: string) => void;
  private readonly clock: () => number;

  /** An engine for another policy than the live one (a past one, for ?at=): the API gets it here, so it loads no policy code of its own. */
  engineFor(p: LoadedPolicy): PolicyEngine { return new PolicyEngine(p); }

  /** A policy text as the timeline kept it, compiled as a file would be. */
  compile(file: string, text: string, since: number): LoadedPolicy { return loadPolicyText(file, text, since); }

  constructor(readonly file: string, initial: LoadedPolicy, private readonly opts: RuntimeOptions = {}) {
    this.say = opts.say ?? ((m) => console.log(`dhrishti: ${m}`));
    this.warn = opts.warn ?? ((m) => console.error(`dhrishti: ${m}`));
    this.clock = opts.clock ?? Date.now;
    this.firing = opts.webhook ? new FiringAlerts(opts.webhook, { clock: this.clock, ...opts.firing }) : null;
    this.engine = new PolicyEngine(null);
    this.engine.onViolation((v, news, counts) => this.violation(v, news, counts));
    this.apply(initial, 'start');
  }

  /** Follows the file and SIGHUP; writes the policy in force to the timeline now and then. */
  start(): void {
    this.watcher = watchFiles([this.file], () => this.reload('file changed'));
    process.on('SIGHUP', this.onHup);
    const every = this.opts.reaffirmMs ?? POLICY_DEFAULTS.reaffirmMs;
    this.reaffirm = setInterval(() => { const p = this.engine.policy; if (p) this.record(p, 'in force'); }, every);
    this.reaffirm.unref();
    this.firing?.start();
  }

  stop(): void {
    this.watcher?.stop();
    process.off('SIGHUP', this.onHup);
    if (this.reaffirm) clearInterval(this.reaffirm);
    if (this.coverageTimer) clearTimeout(this.coverageTimer);
    this.firing?.stop();
    this.opts.webhook?.stop();
  }

  /** Reads the file again; a bad file is refused and the policy in force stays. True when a new policy is in force. */
  reload(why: string, now = this.clock()): boolean {
    let p: LoadedPolicy;
    try {
      p = loadPolicyFile(this.file, now);
    } catch (e) {
      const fe = e instanceof FileError ? e : new FileError(this.file, 1, 1, (e as Error).message);
      this.refused++;
      this.lastError = { time: now, file: fe.file, line: fe.line, column: fe.column, message: fe.problem, all: fe.all() };
      policyMetrics.reloads.inc({ file: 'policy', result: 'refused' });
      const since = this.engine.policy ? new Date(this.engine.policy.loadedAt).toISOString() : 'start';
      this.warn(`policy refused (${why}): ${fe.message}; the policy loaded at ${since} stays in force`);
      this.opts.timeline?.addEvents([{ time: now, type: 'policy_rejected', detail: { file: this.file, line: fe.line, column: fe.column, message: fe.problem } }]);
      return false;
    }
    this.lastError = null;
    if (p.sha256 === this.engine.policy?.sha256) {
      if (why === 'SIGHUP') this.say(`policy ${this.file} unchanged (${why})`);
      return false;
    }
    this.apply(p, why);
    return true;
  }

  private apply(p: LoadedPolicy, why: string): void {
    const t0 = performance.now();
    const r = this.engine.setPolicy(p, p.loadedAt);
    const ms = performance.now() - t0;
    this.reloads++;
    policyMetrics.reloads.inc({ file: 'policy', result: 'ok' });
    policyMetrics.evaluation.observe(ms / 1000);
    this.say(`policy ${this.file} ${why === 'start' ? 'loaded' : `reloaded (${why})`}: ${plural(p.spec.zones.length, 'zone')}, ${plural(p.spec.rules.length, 'rule')}; ${plural(r.violations, 'violation')} on the map now (${plural(r.edges, 'edge')} judged in ${ms.toFixed(2)} ms)`);
    for (const w of p.warnings) this.warn(`warning: ${w}`);
    // What matches nothing is said against the map as it is: at start it is still filling, so later.
    if (this.coverageTimer) clearTimeout(this.coverageTimer);
    const sayCoverage = () => { this.coverageTimer = null; if (this.engine.policy === p) for (const w of this.coverage(p)) this.warn(`warning: ${w}`); };
    if (why === 'start') { this.coverageTimer = setTimeout(sayCoverage, this.opts.coverageGraceMs ?? POLICY_DEFAULTS.coverageGraceMs); this.coverageTimer.unref(); } else sayCoverage();
    this.record(p, why);
  }

  private coverage(p: LoadedPolicy): string[] { return this.opts.coverage?.(p) ?? []; }

  private record(p: LoadedPolicy, why: string): void {
    this.opts.timeline?.addEvents([{ time: this.clock(), type: 'policy_loaded', detail: { file: p.file, sha256: p.sha256, reason: why, rules: p.spec.rules.length, zones: p.spec.zones.length, text: p.text } }]);
  }

  private violation(v: Violation, news: ViolationNews | null, counts: { connections: number; attempts: number }): void {
    if (counts.connections + counts.attempts > 0) {
      const labels = { rule: v.rule, ...ownEdgeLabels(v, this.engine.nodeOf(v.client) ?? UNKNOWN_NODE, this.engine.nodeOf(v.server) ?? UNKNOWN_NODE) };
      policyMetrics.violations.inc(labels, counts.connections + counts.attempts);
      // Also at 0: the attempted series then exists beside every violations series, so violations - attempted pairs up.
      policyMetrics.attempted.inc(labels, counts.attempts);
    }
    // Its alert fires while new connections or attempts come (reposted, see FiringAlerts), and ends when they stop.
    if (this.firing && (news || counts.connections + counts.attempts > 0)) {
      this.firing.note(`${v.rule}\u0001${v.edge}`, alertOf(v, news === 'recurred' ? 'recurred' : 'new', this.opts.uiUrl, this.opts.host), news !== null);
    }
    if (!news) return;
    const now = this.clock();
    this.opts.timeline?.addEvents([{
      time: now, type: 'policy_violation',
      edge: { id: v.edge, source: v.client, target: v.server, port: v.port, protocol: 'tcp' },
      detail: { rule: v.rule, news, attempted: v.attempted, connections: v.connections, attempts: v.attempts, client: v.client, server: v.server, port: v.port },
    }]);
    if (news === 'connected') this.warn(`policy: ${v.client} -> ${v.server}:${v.port} got through after failed attempts (rule ${v.rule})`);
    else this.warn(`policy violation (${news}): ${v.client} -> ${v.server}:${v.port} breaks rule ${v.rule}${v.attempted ? ' (attempted, not connected)' : ''}`);
  }

  status(): PolicyStatus {
    const p = this.engine.policy;
    return {
      file: this.file, sha256: p?.sha256 ?? null, loadedAt: p?.loadedAt ?? null, rules: p?.spec.rules.length ?? 0, zones: p?.spec.zones.length ?? 0,
      reloads: this.reloads, refused: this.refused, lastError: this.lastError,
      warnings: p ? [...p.warnings, ...this.coverage(p)] : [],
    };
  }
}

export function alertOf(v: Violation, news: 'new' | 'recurred', uiUrl?: string, host?: string): Alert {
  const how = v.attempted ? `attempted ${v.attempts} time(s), refused or failed so far` : `${v.connections} connection(s) got through`;
  return {
    labels: { alertname: 'DhrishtiPolicyViolation', rule: v.rule, client: v.client, server: v.server, port: String(v.port), severity: 'critical', ...(host ? { host } : {}) },
    annotations: {
      summary: `${v.client} -> ${v.server}:${v.port} breaks policy rule ${v.rule}`,
      description: `${news === 'recurred' ? 'Again after a quiet period: ' : ''}${how}. Client: ${v.processes.client.join(', ') || v.client}. Server: ${v.processes.server.join(', ') || v.server}.`,
      attempted: String(v.attempted),
      first_seen: new Date(v.firstSeen).toISOString(),
      edge: v.edge,
    },
    startsAt: new Date(v.firstSeen).toISOString(),
    ...(uiUrl ? { generatorURL: uiUrl } : {}),
  };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
