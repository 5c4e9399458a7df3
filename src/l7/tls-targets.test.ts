// TLS targets' bookkeeping over a /proc made of files: one target per inode
// whatever the process's root, detached when no live process maps it, and a
// file over the limit probed once a place frees. The loader here only records
// (pure logic); test/l7-tls-churn.test.ts runs the real kernel and containers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TlsTargets } from './tls-targets.js';
import type { Handle, NativeLoader } from '../native/index.js';

let dir: string;
let proc: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-tls-targets-'));
  proc = path.join(dir, 'proc');
  // Two roots holding one inode (as two containers of one image do), and a third file elsewhere.
  for (const r of ['a', 'b', 'c']) fs.mkdirSync(path.join(dir, r, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a', 'bin', 'app'), 'app with SSL_write');
  fs.linkSync(path.join(dir, 'a', 'bin', 'app'), path.join(dir, 'b', 'bin', 'app'));
  fs.writeFileSync(path.join(dir, 'c', 'bin', 'other'), 'other with SSL_write');
  fs.mkdirSync(proc);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function spawnFake(pid: number, root: string, exe: string): void {
  const p = path.join(proc, String(pid));
  fs.mkdirSync(p);
  fs.symlinkSync(exe, path.join(p, 'exe'));
  fs.symlinkSync(path.join(dir, root), path.join(p, 'root'));
  fs.writeFileSync(path.join(p, 'maps'), '');
}
const exitFake = (pid: number) => fs.rmSync(path.join(proc, String(pid)), { recursive: true });

function recordingLoader() {
  let next = 0;
  const attached: string[] = [];
  const detached: number[][] = [];
  const native = {
    attachUprobe: (_h: Handle, _prog: string, file: string) => { attached.push(file); return { ok: true, link: next++ }; },
    detachLinks: (_h: Handle, links: number[]) => { detached.push(links); return links.length; },
  } as unknown as NativeLoader;
  return { native, attached, detached };
}

test('one inode seen through two roots is one target; detached once neither process lives, its 8 links together', () => {
  const { native, attached, detached } = recordingLoader();
  const t = new TlsTargets(native, {} as Handle, { procRoot: proc });
  spawnFake(10, 'a', '/bin/app');
  spawnFake(11, 'b', '/bin/app');
  assert.equal(t.scan(), 1);
  assert.equal(attached.length, 8, 'the 8 probes once, not once per root');
  assert.deepEqual([t.stats.attached, t.stats.files], [1, ['/bin/app']]);
  exitFake(10);
  t.scan();
  assert.equal(detached.length, 0, 'still mapped by 11');
  exitFake(11);
  t.scan();
  assert.deepEqual(detached, [[0, 1, 2, 3, 4, 5, 6, 7]]);
  assert.deepEqual([t.stats.attached, t.stats.attachedTotal, t.stats.detachedTotal], [0, 1, 1]);
  spawnFake(12, 'b', '/bin/app');
  assert.equal(t.scan(), 1, 'forgotten, so probed again when a process maps it again');
  exitFake(12);
  t.scan();
});

test('a file over the limit is skipped, then probed when a target is detached', () => {
  const { native, attached } = recordingLoader();
  const t = new TlsTargets(native, {} as Handle, { procRoot: proc, maxTargets: 1 });
  spawnFake(20, 'a', '/bin/app');
  t.scan();
  spawnFake(21, 'c', '/bin/other');
  t.scan();
  assert.deepEqual([t.stats.attached, t.stats.skipped, t.stats.skippedTotal], [1, 1, 1]);
  exitFake(20);
  assert.equal(t.scan(), 1);
  assert.deepEqual([t.stats.files, t.stats.skipped, t.stats.detachedTotal], [['/bin/other'], 0, 1]);
  assert.ok(attached.slice(-8).every((f) => f.endsWith('/21/root/bin/other')), 'attached through the live process\'s root');
  exitFake(21);
  t.scan();
  assert.equal(t.stats.attached, 0);
});
