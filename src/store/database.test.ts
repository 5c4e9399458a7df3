import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirs } from './database.js';

test('makeDirs makes each missing level, and fails at once where a level cannot be made (Node\'s recursive mkdir spins under /proc)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-makedirs-'));
  try {
    const deep = path.join(root, 'a', 'b', 'c');
    makeDirs(deep, 0o750);
    assert.ok(fs.statSync(deep).isDirectory());
    assert.equal(fs.statSync(deep).mode & 0o777, 0o750 & ~process.umask());
    makeDirs(deep, 0o750); // already there: nothing to do
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.throws(() => makeDirs('/proc/nonexistent/x', 0o750), /ENOENT|EACCES|EPERM/);
});
