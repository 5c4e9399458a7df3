// Where the history database lives: system-wide for root, per user otherwise.
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS, HISTORY_DEFAULTS } from '../config/defaults.js';

/** /var/lib/dhrishti as root, else ~/.local/share/dhrishti (or $XDG_DATA_HOME/dhrishti). */
export function defaultDataDir(uid = process.getuid?.() ?? -1, env: NodeJS.ProcessEnv = process.env): string {
  if (uid === 0) return DEFAULTS.dataDirRoot;
  if (env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)) return path.join(env.XDG_DATA_HOME, 'dhrishti');
  return path.join(os.homedir(), DEFAULTS.dataDirUser);
}

export function databaseFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), HISTORY_DEFAULTS.fileName);
}
