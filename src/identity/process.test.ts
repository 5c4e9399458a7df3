import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProcessCache } from './process.js';

function fakeProc(root: string, pid: number, comm: string, cgroup: string, exe = '/usr/sbin/nginx'): void {
  const dir = path.join(root, String(pid));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'ns'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
  fs.writeFileSync(path.join(dir, 'cmdline'), `${exe}\0-g\0daemon off;\0`);
  fs.writeFileSync(path.join(dir, 'cgroup'), cgroup);
  fs.symlinkSync(exe, path.join(dir, 'exe'));
  fs.symlinkSync('net:[4026531840]', path.join(dir, 'ns/net'));
}

test('host process facts: comm, exe, cmdline, unit, netns; cached; pid reuse noticed by comm', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fakeProc(proc, 10, 'nginx', '0::/system.slice/nginx.service\n');
    const cache = new ProcessCache({ procRoot: proc, cmdlineMaxChars: 12 });
    const p = cache.get(10, 'nginx')!;
    assert.equal(p.comm, 'nginx');
    assert.equal(p.exe, 'nginx');
    assert.equal(p.cmdline, '/usr/sbin/ng');
    assert.equal(p.unit, 'nginx.service');
    assert.equal(p.container, null);
    assert.equal(p.netns, 4026531840);
    assert.equal(cache.get(10, 'nginx'), p, 'cached');
    assert.equal(cache.reads, 1);

    fakeProc(proc, 10, 'redis-server', '0::/system.slice/redis.service\n', '/usr/bin/redis-server');
    const q = cache.get(10, 'redis-server')!;
    assert.equal(q.unit, 'redis.service', 'a different comm means the pid was reused');
    assert.equal(cache.reads, 2);
    cache.get(10, 'worker-thread');
    cache.get(10, 'worker-thread');
    assert.equal(cache.reads, 3, 'a thread name is learnt after one re-read');

    fs.rmSync(path.join(proc, '10'), { recursive: true });
    assert.equal(cache.get(10, 'other')?.unit, 'redis.service', 'exited: last known facts');
    assert.equal(cache.get(11), null);
    assert.equal(cache.get(0), null);
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});

test('the cache is bounded, oldest dropped', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    for (let pid = 1; pid <= 5; pid++) fakeProc(proc, pid, `p${pid}`, '0::/\n');
    const cache = new ProcessCache({ procRoot: proc, maxEntries: 3 });
    for (let pid = 1; pid <= 5; pid++) cache.get(pid);
    assert.equal(cache.size, 3);
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});
