import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProcessCache } from './process.js';

function fakeProc(root: string, pid: number, comm: string, cgroup: string, exe = '/usr/sbin/nginx', startTicks = 1000): void {
  const dir = path.join(root, String(pid));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'ns'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
  fs.writeFileSync(path.join(dir, 'cmdline'), `${exe}\0-g\0daemon off;\0`);
  fs.writeFileSync(path.join(dir, 'cgroup'), cgroup);
  fs.symlinkSync(exe, path.join(dir, 'exe'));
  fs.symlinkSync('net:[4026531840]', path.join(dir, 'ns/net'));
  // Field 22 is the start time; the comm in parentheses may hold spaces.
  const fields = ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 1)), String(startTicks), '0', '0'];
  fs.writeFileSync(path.join(dir, 'stat'), `${pid} (${comm} x) ${fields.join(' ')}\n`);
}

test('host process facts: comm, exe, cmdline, unit, netns; read once per process; pid reuse caught by start time', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fakeProc(proc, 10, 'nginx', '0::/system.slice/nginx.service\n');
    const cache = new ProcessCache({ procRoot: proc, cmdlineMaxChars: 12, ttlMs: 0 });
    const p = cache.get(10)!;
    assert.equal(p.comm, 'nginx');
    assert.equal(p.exe, 'nginx');
    assert.equal(p.cmdline, '/usr/sbin/ng');
    assert.equal(p.unit, 'nginx.service');
    assert.equal(p.container, null);
    assert.equal(p.netns, 4026531840);
    assert.equal(p.startTicks, 1000);
    for (let i = 0; i < 5; i++) assert.equal(cache.get(10, `worker-${i}`), p, 'cached, whatever the thread name');
    assert.equal(cache.reads, 1, 'one full read');
    assert.equal(cache.checks, 5, 'start time checked (ttl 0: every time)');

    fakeProc(proc, 10, 'redis-server', '0::/system.slice/redis.service\n', '/usr/bin/redis-server', 2000);
    assert.equal(cache.get(10)!.unit, 'redis.service', 'another start time: the pid was reused');
    assert.equal(cache.reads, 2);

    fs.rmSync(path.join(proc, '10'), { recursive: true });
    assert.equal(cache.get(10)?.unit, 'redis.service', 'exited: last known facts');
    assert.equal(cache.get(11), null);
    assert.equal(cache.get(0), null);
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});

test('within the ttl a cached pid costs no read at all', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fakeProc(proc, 12, 'java', '0::/\n');
    const cache = new ProcessCache({ procRoot: proc, ttlMs: 60_000 });
    for (let i = 0; i < 100; i++) cache.get(12, i % 2 ? 'java' : 'C2 CompilerThre');
    assert.deepEqual([cache.reads, cache.checks], [1, 0]);
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});

test('running: a pid that exited, or that names another process now (its start time), is not', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fakeProc(proc, 20, 'postgres', '0::/\n');
    const cache = new ProcessCache({ procRoot: proc });
    assert.equal(cache.running(20), true, 'never asked about: any process at the pid');
    cache.get(20);
    assert.equal(cache.running(20), true);
    fakeProc(proc, 20, 'bash', '0::/\n', '/bin/bash', 3000);
    assert.equal(cache.running(20), false, 'the pid was reused');
    fs.rmSync(path.join(proc, '20'), { recursive: true });
    assert.equal(cache.running(20), false, 'exited');
    assert.equal(cache.running(0), false);
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

test('arguments as started, bounded; the thread group id', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fakeProc(proc, 20, 'node', '0::/\n', '/usr/bin/node');
    fs.writeFileSync(path.join(proc, '20', 'cmdline'), 'node\0/srv/api.js\0--port\x0019001\0');
    fs.writeFileSync(path.join(proc, '20', 'status'), 'Name:\tnode\nTgid:\t7\nPid:\t20\n');
    fakeProc(proc, 21, 'node', '0::/\n', '/usr/bin/node');
    fs.writeFileSync(path.join(proc, '21', 'cmdline'), `node\0-e\0${'x'.repeat(1 << 20)}\0`);
    fakeProc(proc, 22, 'zombie', '0::/\n');
    fs.writeFileSync(path.join(proc, '22', 'cmdline'), '');
    const cache = new ProcessCache({ procRoot: proc });
    assert.deepEqual(cache.get(20)!.argv, ['node', '/srv/api.js', '--port', '19001']);
    assert.equal(cache.get(20)!.tgid, 7);
    const big = cache.get(21)!;
    assert.deepEqual(big.argv.slice(0, 2), ['node', '-e']);
    assert.ok(big.argv.join('').length < 4096, 'a megabyte of arguments read as its first few kilobytes');
    assert.equal(big.tgid, 21, 'no status: its own pid');
    assert.deepEqual(cache.get(22)!.argv, []);
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});

test('a process still running when checked is kept over newer short-lived ones: its facts (and name) outlive the bound', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    for (let pid = 1; pid <= 5; pid++) fakeProc(proc, pid, `p${pid}`, '0::/\n');
    const cache = new ProcessCache({ procRoot: proc, maxEntries: 3, ttlMs: 0 });
    cache.get(1); cache.get(2); cache.get(3);
    cache.get(1); // checked: still the same process
    cache.get(4); // drops 2, the oldest not checked since
    fs.rmSync(path.join(proc, '1'), { recursive: true });
    assert.equal(cache.get(1)?.comm, 'p1', 'gone, still known');
    assert.equal(cache.get(2)?.comm, 'p2', 'reread: still running');
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});

test('a command name read from /proc is printable text, as the kernel\'s copy decodes: no escape or newline reaches a terminal or a DOT line', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fakeProc(proc, 12, 'rv\x1b[7mX\nY', '0::/user.slice\n');
    assert.equal(new ProcessCache({ procRoot: proc }).get(12)!.comm, 'rv?[7mX?Y');
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});
