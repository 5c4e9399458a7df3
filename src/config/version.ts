// Which Dhrishti this is: package.json's version, and the commit it was built from (scripts/build.sh writes
// dist/build-info.json), so two builds of one version can be told apart.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './defaults.js';

const readJson = <T>(file: string): T | null => {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as T; } catch { return null; }
};

/** package.json's version ('' when it cannot be read). */
export function productVersion(): string {
  return readJson<{ version: string }>(path.join(REPO_ROOT, 'package.json'))?.version ?? '';
}

/** The commit the build was made from, with "+changes" when its sources differed from it; null when not known. */
export function buildCommit(): string | null {
  const c = readJson<{ commit?: unknown }>(path.join(REPO_ROOT, 'dist', 'build-info.json'))?.commit;
  return typeof c === 'string' && /^[0-9a-f]{7,40}(\+changes)?$/.test(c) ? c : null;
}

/** `0.1.0 (commit 0123456789ab)`, or the version alone. */
export function versionText(): string {
  const c = buildCommit();
  return c ? `${productVersion()} (commit ${c})` : productVersion();
}
