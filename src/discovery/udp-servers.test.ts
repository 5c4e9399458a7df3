import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UdpServers } from './udp-servers.js';

const HEAD = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
const line = (sl: number, local: string, inode: number) => `  ${sl}: ${local} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 0\n`;

/** A /proc with net/udp{,6} and processes whose fds name sockets (dangling links read as their text, as /proc's do). */
function fakeProc(udp: string, udp6: string, fds: Record<number, number[]>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-udp-'));
  fs.mkdirSync(path.join(root, 'self/net'), { recursive: true });
  fs.writeFileSync(path.join(root, 'self/net/udp'), HEAD + udp);
  fs.writeFileSync(path.join(root, 'self/net/udp6'), HEAD + udp6);
  for (const [pid, inodes] of Object.entries(fds)) {
    fs.mkdirSync(path.join(root, pid, 'fd'), { recursive: true });
    inodes.forEach((ino, i) => fs.symlinkSync(`socket:[${ino}]`, path.join(root, pid, 'fd', String(i + 3))));
  }
  return root;
}

test('the process serving UDP on an address and port: its own socket first, then one bound to every address; null when none', async () => {
  // 127.0.0.53:53 -> inode 111 held by pid 20; 0.0.0.0:53 -> inode 222 held by pid 30; [::]:5353 -> inode 333 held by pid 40
  const v6any = '00000000000000000000000000000000:14E9';
  const root = fakeProc(line(0, '3500007F:0035', 111) + line(1, '00000000:0035', 222), line(0, v6any, 333), { 10: [999], 20: [111], 30: [222], 40: [333] });
  try {
    const u = new UdpServers(60_000, root);
    const ask = () => [u.pidOf('127.0.0.53', 53), u.pidOf('127.0.0.1', 53), u.pidOf('::1', 5353), u.pidOf('127.0.0.1', 5353), u.pidOf('127.0.0.9', 54)];
    assert.deepEqual(ask(), [undefined, undefined, undefined, undefined, undefined], 'looked up off the caller\'s path');
    await u.settled();
    assert.deepEqual(ask(), [20, 30, 40, 40, null], 'own address; IPv4 wildcard; IPv6 wildcard; dual-stack for IPv4; nothing there');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('among a socket\'s holders the server is not systemd (socket activation) and is the lowest pid (forked workers)', async () => {
  const root = fakeProc(line(0, '3500007F:0035', 111) + line(1, '0100007F:0035', 222), '', { 1: [111, 222], 50: [111], 60: [222], 61: [222] });
  try {
    const u = new UdpServers(60_000, root);
    u.pidOf('127.0.0.53', 53); u.pidOf('127.0.0.1', 53);
    await u.settled();
    assert.deepEqual([u.pidOf('127.0.0.53', 53), u.pidOf('127.0.0.1', 53)], [50, 60]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a loopback address asked from another network namespace is not the host\'s', async () => {
  const root = fakeProc(line(0, '0100007F:0035', 111), '', { 20: [111] });
  try {
    fs.mkdirSync(path.join(root, 'self/ns'));
    fs.symlinkSync('net:[4026531840]', path.join(root, 'self/ns/net'));
    const u = new UdpServers(60_000, root);
    assert.equal(u.pidOf('127.0.0.1', 53, 4026532999), null, 'a container\'s own 127.0.0.1');
    u.pidOf('127.0.0.1', 53, 4026531840);
    await u.settled();
    assert.equal(u.pidOf('127.0.0.1', 53, 4026531840), 20, 'from the host');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('an answer is kept for its time, then looked up again (the old one given meanwhile); one miss of a server is a restart; an unreadable /proc is no answer, not a throw', async () => {
  const root = fakeProc(line(0, '3500007F:0035', 111), '', { 20: [111] });
  try {
    const u = new UdpServers(1000, root);
    u.pidOf('127.0.0.53', 53, 0, 0);
    await u.settled();
    fs.rmSync(path.join(root, '20'), { recursive: true });
    fs.mkdirSync(path.join(root, '21/fd'), { recursive: true });
    fs.symlinkSync('socket:[111]', path.join(root, '21/fd/3'));
    assert.equal(u.pidOf('127.0.0.53', 53, 0, 0), 20, 'still fresh');
    assert.equal(u.pidOf('127.0.0.53', 53, 0, Date.now() + 5000), 20, 'stale: given while asked again');
    await u.settled();
    assert.equal(u.pidOf('127.0.0.53', 53), 21, 'the restarted server');
    fs.writeFileSync(path.join(root, 'self/net/udp'), HEAD); // stopped
    assert.equal(u.pidOf('127.0.0.53', 53, 0, Date.now() + 5000), 21);
    await u.settled();
    assert.equal(u.pidOf('127.0.0.53', 53, 0, Date.now() + 10_000), 21, 'one miss: kept (a restart), asked again soon');
    await u.settled();
    assert.equal(u.pidOf('127.0.0.53', 53, 0, Date.now() + 20_000), null, 'two: gone');
    const none = new UdpServers(1000, path.join(root, 'missing'));
    none.pidOf('127.0.0.53', 53);
    await none.settled();
    assert.equal(none.pidOf('127.0.0.53', 53), null);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
