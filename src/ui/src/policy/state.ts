// Policy mode: on or off (remembered), and what the agent says about its
// policy and compose intent, polled while the mode is on. Verdicts per edge
// come live with the graph (GraphEdge.policy); these add the violations list,
// zones, and the intent diff (undeclared and declared-but-unused edges).
import { ApiError, getJson } from '../api/client.js';
import type { PolicyVerdict } from '../../../graph/types.js';

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

export class PolicyState {
  on = false;
  policy: PolicyInfo | null = null;
  intent: IntentInfo | null = null;
  /** Why there is nothing to show (no --policy / --compose, or the agent could not be asked). */
  note: string | null = null;
  version = 0;
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
    const [policy, intent] = await Promise.all([
      get<PolicyInfo>('/policy?verdict=violation', 'No policy: start the agent with --policy FILE.'),
      get<IntentInfo>('/intent', 'No compose files: start the agent with --compose FILE to see undeclared and unused edges.'),
    ]);
    if (ac.signal.aborted || !this.on) return;
    this.policy = policy;
    this.intent = intent;
    this.note = notes.length ? notes.join(' ') : null;
    this.changed();
    this.timer = window.setTimeout(() => void this.poll(), POLL_MS);
  }

  destroy(): void { window.clearTimeout(this.timer); this.abort?.abort(); this.listeners.clear(); }
}

/** One per page. */
export const policyState = new PolicyState();
