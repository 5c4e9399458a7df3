// Policy mode: on or off (remembered), and what the agent says about its
// policy and compose intent, polled while the mode is on. Verdicts per edge
// come live with the graph (GraphEdge.policy); these add the violations list,
// zones, and the intent diff (undeclared and declared-but-unused edges).
import { ApiError, getJson } from '../api/client.js';
import type { PolicyVerdict } from '../../../graph/types.js';
import { UI } from '../config.js';

export interface Violation {
  rule: string; edge: string; client: string; server: string; port: number;
  firstSeen: number; lastSeen: number; connections: number; attempts: number; attempted: boolean;
  processes: { client: string[]; server: string[] };
}
export interface Zone { name: string; builtin: boolean; members: string[] }
export interface PolicyInfo {
  file: string; sha256: string | null; loadedAt: number | null;
  lastError: { file: string; line: number; column: number; message: string } | null;
  warnings: string[];
  counts: Record<PolicyVerdict['verdict'], number>;
  zones: Zone[];
  violations: Violation[];
}
export interface DeclaredEdge { client: string; server: string; via: string[]; evidence: { text: string; at: { file: string; line: number } }[] }
export interface IntentInfo {
  undeclared: { edge: string; client: string; server: string; port: number; peer: string }[];
  unused: DeclaredEdge[];
  crossings: { edge: string; reason: string }[];
}

const KEY = 'dhrishti.policyMode';
const POLL_MS = 2000;

/** The time the map shows: live, a replayed moment, or a picked range (epoch ms). */
export type PolicySpan = null | { at: number } | { from: number; to: number };

/** The API's query for a span: the policy's verdicts and the intent diff over the same time as the map. */
export function spanQuery(span: PolicySpan, atWindowMs: number): { policy: string; intent: string } {
  if (!span) return { policy: '', intent: '' };
  if ('at' in span) return { policy: `&at=${span.at}`, intent: `?from=${span.at - atWindowMs}&to=${span.at}` };
  return { policy: `&from=${span.from}&to=${span.to}`, intent: `?from=${span.from}&to=${span.to}` };
}

export class PolicyState {
  on = false;
  policy: PolicyInfo | null = null;
  intent: IntentInfo | null = null;
  /** Why there is nothing to show (no --policy / --compose, or the agent could not be asked). */
  note: string | null = null;
  version = 0;
  /** What the answers are about (the map's time when they were asked). */
  span: PolicySpan = null;
  private readonly listeners = new Set<() => void>();
  private timer: number | undefined;
  private abort: AbortController | null = null;

  constructor() {
    try { this.on = window.localStorage.getItem(KEY) === 'on'; } catch { /* private mode */ }
    if (this.on) this.poll();
  }

  setOn(on: boolean): void {
    if (on === this.on) return;
    this.on = on;
    try { window.localStorage.setItem(KEY, on ? 'on' : 'off'); } catch { /* private mode */ }
    if (on) this.poll(); else { window.clearTimeout(this.timer); this.abort?.abort(); }
    this.changed();
  }

  /** Follows the map into the past and back: the panel then lists that time's violations, not the live ones. */
  setSpan(span: PolicySpan): void {
    if (JSON.stringify(span) === JSON.stringify(this.span)) return;
    this.span = span;
    this.policy = null;
    this.intent = null;
    if (this.on) this.poll(); else this.changed();
  }

  subscribe = (fn: () => void): (() => void) => { this.listeners.add(fn); return () => this.listeners.delete(fn); };
  snapshot = (): number => this.version;

  private changed(): void { this.version++; for (const l of this.listeners) l(); }

  private async poll(): Promise<void> {
    window.clearTimeout(this.timer);
    this.abort?.abort();
    const ac = new AbortController();
    this.abort = ac;
    const notes: string[] = [];
    const get = async <T>(path: string, missing: string): Promise<T | null> => {
      try { return await getJson<T>(path, ac.signal); } catch (e) {
        if (ac.signal.aborted) return null;
        notes.push(e instanceof ApiError && e.status === 404 ? missing : `could not read ${path}: ${(e as Error).message}`);
        return null;
      }
    };
    const span = this.span, qs = spanQuery(span, UI.atWindowMs);
    const [policy, intent] = await Promise.all([
      get<PolicyInfo & { inForceSince?: number }>(`/policy?verdict=violation${qs.policy}`, span ? 'No policy was in force then, or the history no longer holds it.' : 'No policy: start the agent with --policy FILE.'),
      get<IntentInfo>(`/intent${qs.intent}`, 'No compose files: start the agent with --compose FILE to see undeclared and unused edges.'),
    ]);
    if (ac.signal.aborted || !this.on) return;
    // A past answer says when its policy came into force, and has no edit errors or warnings of its own.
    this.policy = policy && span ? { ...policy, loadedAt: policy.inForceSince ?? null, lastError: null, warnings: [] } : policy;
    this.intent = intent;
    this.note = notes.length ? notes.join(' ') : null;
    this.changed();
    if (!span) this.timer = window.setTimeout(() => void this.poll(), POLL_MS); // the past does not change
  }

  destroy(): void { window.clearTimeout(this.timer); this.abort?.abort(); this.listeners.clear(); }
}

/** One per page. */
export const policyState = new PolicyState();
