// Finding (and if needed mounting) tracefs, where plain tracepoints are named.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { DEFAULTS } from '../config/defaults.js';

export function findTracefs(candidates: readonly string[] = DEFAULTS.tracefsPaths): string | null {
  return candidates.find((p) => fs.existsSync(`${p}/events`)) ?? null;
}

/** Mounts tracefs at its usual place when nothing is mounted; returns the path or null. */
export function ensureTracefs(): string | null {
  const found = findTracefs();
  if (found) return found;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', DEFAULTS.tracefsPaths[0]], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return findTracefs();
}
