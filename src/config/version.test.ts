// `dhrishti --version` names the commit it was built from (review F: two builds of 0.1.0 could not be told apart).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './defaults.js';

test('--version gives the version and the commit of the build', (t) => {
  let head: string;
  try { head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(); } catch { return t.skip('not a git checkout'); }
  const out = execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist/src/cli/main.js'), '--version'], { encoding: 'utf8' }).trim();
  assert.match(out, new RegExp(`^\\d+\\.\\d+\\.\\d+ \\(commit ${head}(\\+changes)?\\)$`));
});
