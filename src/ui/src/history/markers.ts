// The replay track's markers, one per bucket: failed connections and request errors from the history's exact
// per-bucket counts (/api/v1/timeline), topology changes from the timeline events. Pure logic.
import type { Timeline } from '../../../graph/types.js';
import type { HistoryEvent } from './api.js';
import { REPLAY_STEP_MS } from './range.js';


export type MarkerKind = 'failures' | 'requests' | 'agent' | 'topology';

export interface Marker {
  t: number;
  /** The worst thing in the bucket: its colour. */
  kind: MarkerKind;
  failures: number;
  requestErrors: number;
  topology: number;
  /** The agent's own starts and stops in the bucket: around them the map shows what it recorded, not all that ran. */
  agent: string[];
  text: string;
}

export const TOPOLOGY = ['edge_appeared', 'edge_vanished', 'node_appeared', 'node_vanished'];
/** The agent's runs: while it was down nothing was recorded, which the map cannot show by itself. */
export const AGENT_RUNS = ['agent_started', 'agent_stopped'];

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * One marker per bucket, saying all it holds (markers of one bucket would sit on each other, the top one's
 * title hiding the others'). `timeline`: the exact counts; without it (a hub, an older agent) the failure
 * events stand in, counted by their `count` where they carry one (a hub's: a count per step) and otherwise
 * named as what they are, samples, as the agent keeps at most a few per flush.
 */
export function markersFrom(events: HistoryEvent[], timeline: Timeline | null, step = REPLAY_STEP_MS): Marker[] {
  const byT = new Map<number, Marker & { failedBy: Partial<Record<string, number>>; sampled: boolean }>();
  const at = (time: number, s: number) => {
    const t = Math.floor(time / s) * s;
    let m = byT.get(t);
    if (!m) byT.set(t, (m = { t, kind: 'topology', failures: 0, requestErrors: 0, topology: 0, agent: [], text: '', failedBy: {}, sampled: false }));
    return m;
  };
  for (const b of timeline?.buckets ?? []) {
    const m = at(b.t, timeline!.step);
    m.failures += b.failures;
    m.requestErrors += b.requestErrors;
    for (const [r, n] of Object.entries(b.failedBy)) m.failedBy[r] = (m.failedBy[r] ?? 0) + (n ?? 0);
  }
  for (const e of events) {
    if (TOPOLOGY.includes(e.type)) { at(e.time, step).topology++; continue; }
    if (AGENT_RUNS.includes(e.type)) {
      at(e.time, step).agent.push(e.type === 'agent_started' ? 'the agent started' : e.detail.unclean ? 'the agent was killed (its last write; no stop recorded)' : 'the agent stopped');
      continue;
    }
    if (e.type !== 'failure' || timeline) continue;
    const m = at(e.time, step), n = typeof e.detail.count === 'number' ? e.detail.count : 1;
    if (typeof e.detail.count !== 'number') m.sampled = true;
    m.failures += n;
    const r = typeof e.detail.reason === 'string' ? e.detail.reason : 'unknown';
    m.failedBy[r] = (m.failedBy[r] ?? 0) + n;
  }
  const coarse = timeline && timeline.step !== step ? ` in ${timeline.step >= 60_000 ? `${timeline.step / 60_000} min` : `${timeline.step / 1000} s`}` : '';
  const out = [...byT.values()].sort((a, b) => a.t - b.t);
  return out.map(({ failedBy, sampled, ...m }) => {
    const parts: string[] = [];
    if (m.failures) {
      const reasons = Object.entries(failedBy).filter(([, n]) => n).map(([r, n]) => `${n!.toLocaleString('en-US')} ${r}`);
      const by = reasons.length > 1 ? ` (${reasons.join(', ')})` : reasons.length ? ` (${reasons[0].replace(/^[\d,]+ /, '')})` : '';
      parts.push(sampled ? `${plural(m.failures, 'failed connection sample')}${by} (samples are rate-limited: there may have been more)` : `${plural(m.failures, 'failed connection')}${by}${coarse}`);
    }
    if (m.requestErrors) parts.push(`${plural(m.requestErrors, 'request error')}${coarse}`);
    if (m.topology) parts.push(plural(m.topology, 'topology change'));
    parts.push(...m.agent);
    const kind: MarkerKind = m.failures ? 'failures' : m.requestErrors ? 'requests' : m.agent.length ? 'agent' : 'topology';
    return { ...m, kind, text: parts.join('; ') };
  });
}
