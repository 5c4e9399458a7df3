import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CgroupIndex } from './cgroups.js';

const ID = 'c'.repeat(64);

test('cgroup id -> path: walks the tree, rescans on a miss at most once per interval', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-cgroot-'));
  try {
    fs.mkdirSync(path.join(root, 'system.slice/nginx.service'), { recursive: true });
    const idx = new CgroupIndex({ root, procRoot: root, rescanIntervalMs: 200 });
    idx.scan();
    const nginx = fs.statSync(path.join(root, 'system.slice/nginx.service')).ino;
    assert.equal(idx.pathOf(nginx), '/system.slice/nginx.service');
    assert.equal(idx.pathOf(fs.statSync(root).ino), '/');

    fs.mkdirSync(path.join(root, 'docker', ID), { recursive: true });
    const fresh = fs.statSync(path.join(root, 'docker', ID)).ino;
    const scans = idx.scans;
    assert.equal(idx.pathOf(fresh), null, 'too soon after the last walk');
    assert.equal(idx.pathOf(123456789), null);
    assert.equal(idx.scans, scans, 'misses within the interval do not walk');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(idx.pathOf(fresh), `/docker/${ID}`);
    assert.equal(idx.scans, scans + 1);

    // a removed cgroup's id still names it (late events)
    fs.rmdirSync(path.join(root, 'system.slice/nginx.service'));
    idx.scan();
    assert.equal(idx.pathOf(nginx), '/system.slice/nginx.service');
    assert.equal(idx.idOf('/gone'), 0);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a cgroup made (and removed) between walks is still named: learnt from inotify the moment it is made', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-cgroot-'));
  const idx = new CgroupIndex({ root, procRoot: root, rescanIntervalMs: 60_000 });
  try {
    fs.mkdirSync(path.join(root, 'docker'));
    idx.scan();
    idx.watch();
    fs.mkdirSync(path.join(root, 'docker', ID));
    const id = fs.statSync(path.join(root, 'docker', ID)).ino;
    const learnt = async () => { for (let i = 0; i < 100 && idx.learnt < 1; i++) await new Promise((r) => setTimeout(r, 10)); };
    await learnt();
    fs.rmdirSync(path.join(root, 'docker', ID));
    assert.equal(idx.pathOf(id), `/docker/${ID}`, 'named without a walk, after it is gone');
    // a parent made later (dockerd's first container) is watched too
    fs.mkdirSync(path.join(root, 'system.slice'));
    for (let i = 0; i < 100 && idx.learnt < 2; i++) await new Promise((r) => setTimeout(r, 10));
    fs.mkdirSync(path.join(root, 'system.slice', `docker-${ID}.scope`));
    const scoped = fs.statSync(path.join(root, 'system.slice', `docker-${ID}.scope`)).ino;
    for (let i = 0; i < 100 && idx.learnt < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(idx.pathOf(scoped), `/system.slice/docker-${ID}.scope`);
    assert.equal(idx.scans, 1, 'no walk was needed');
  } finally {
    idx.unwatch();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a host with more top-level cgroups than the watch cap: container parents are watched first, the rest counted', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-cgroot-'));
  const idx = new CgroupIndex({ root, procRoot: root, rescanIntervalMs: 60_000, maxWatched: 4 });
  try {
    for (let i = 0; i < 10; i++) fs.mkdirSync(path.join(root, `leftover-${i}`));
    fs.mkdirSync(path.join(root, 'docker'));
    idx.scan();
    idx.watch();
    assert.equal(idx.unwatched, 8, 'root + docker + 2 leftovers watched, 8 counted');
    fs.mkdirSync(path.join(root, 'docker', ID));
    const id = fs.statSync(path.join(root, 'docker', ID)).ino;
    for (let i = 0; i < 100 && idx.learnt < 1; i++) await new Promise((r) => setTimeout(r, 10));
    fs.rmdirSync(path.join(root, 'docker', ID));
    assert.equal(idx.pathOf(id), `/docker/${ID}`, 'docker was watched despite readdir order');
  } finally {
    idx.unwatch();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('no cgroup v2 mount: every lookup is a quiet miss', () => {
  const idx = new CgroupIndex({ root: null });
  assert.equal(idx.pathOf(42), null);
  assert.equal(idx.idOf('/docker'), 0);
});

test('pid -> cgroup paths from /proc/<pid>/cgroup', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-proc-'));
  try {
    fs.mkdirSync(path.join(proc, '77'));
    fs.writeFileSync(path.join(proc, '77/cgroup'), `4:memory:/docker/${ID}\n0::/docker/${ID}\n`);
    const idx = new CgroupIndex({ root: null, procRoot: proc });
    assert.equal(idx.pidCgroup(77)?.v2, `/docker/${ID}`);
    assert.equal(idx.pidCgroup(78), null);
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});
