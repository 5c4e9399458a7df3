// Retention tiers ("10s:24h,1m:7d"): each tier keeps rows of one resolution for
// a while; the finest is written by the flush, coarser ones are rolled up from it.
import { parseDuration } from '../config/duration.js';

export interface Tier {
  /** Bucket length in ms (whole seconds). */
  resolutionMs: number;
  /** Rows older than this are deleted. */
  keepMs: number;
}

const MAX_TIERS = 6;

/** Parses and checks a retention spec; throws Error with a message fit for the command line. */
export function parseRetention(spec: string): Tier[] {
  const parts = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length) throw new Error(`retention must list tiers as resolution:keep, e.g. "10s:24h,1m:7d"; got "${spec}"`);
  if (parts.length > MAX_TIERS) throw new Error(`retention takes at most ${MAX_TIERS} tiers, got ${parts.length}`);
  const tiers = parts.map((p) => {
    const m = /^([^:]+):([^:]+)$/.exec(p);
    if (!m) throw new Error(`retention tier "${p}" must be resolution:keep, e.g. 10s:24h`);
    const resolutionMs = parseDuration(m[1], 'retention resolution');
    const keepMs = parseDuration(m[2], 'retention keep');
    if (resolutionMs % 1000 !== 0) throw new Error(`retention resolution must be whole seconds, got "${m[1]}"`);
    if (keepMs < resolutionMs) throw new Error(`retention tier "${p}" keeps less than one bucket`);
    return { resolutionMs, keepMs };
  });
  for (let i = 1; i < tiers.length; i++) {
    const [a, b] = [tiers[i - 1], tiers[i]];
    if (b.resolutionMs <= a.resolutionMs || b.resolutionMs % a.resolutionMs !== 0) {
      throw new Error(`retention tiers must go from fine to coarse, each resolution a multiple of the one before; "${parts[i]}" does not follow "${parts[i - 1]}"`);
    }
    if (b.keepMs < a.keepMs) throw new Error(`retention tier "${parts[i]}" keeps less than the finer "${parts[i - 1]}"`);
  }
  return tiers;
}

export function formatDuration(ms: number): string {
  for (const [u, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

export function formatRetention(tiers: Tier[]): string {
  return tiers.map((t) => `${formatDuration(t.resolutionMs)}:${formatDuration(t.keepMs)}`).join(',');
}
