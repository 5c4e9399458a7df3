import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launcherFlags } from './launcher.js';

// The container image and the benches run node with these: they must be read from ./dhrishti, and node must take them.
test('launcherFlags reads the V8 flags of ./dhrishti, and node accepts each of them', () => {
  const flags = launcherFlags();
  assert.ok(flags.length > 0, 'no flags found on the launcher\'s exec line');
  for (const f of flags) assert.match(f, /^--[a-z-]+(=\S+)?$/);
  const seen = JSON.parse(execFileSync(process.execPath, [...flags, '-e', 'console.log(JSON.stringify(process.execArgv))'], { encoding: 'utf8' })) as string[];
  assert.deepEqual(seen.slice(0, flags.length), flags);
});
