// Start-up discovery: TCP connections and listeners that predate the agent,
// in every network namespace, with the process that owns each socket.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcNetTcp, isEstablished, isListening, type ProcSocket } from './procnet.js';
import { v6Text } from '../events/address.js';
import { cgroup2Root, cgroupIdOf } from '../identity/cgroups.js';

export interface ExistingSocket extends ProcSocket {
  netns: number;
  pid: number;
  comm: string;
  cgroupId: number;
  listening: boolean;
}

function readOr(file: string, fallback = ''): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return fallback; }
}

function inodeOfLink(link: string): number {
  const m = /\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : 0;
}

/** Runs fn over items, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * Walks /proc without blocking the event loop for long (a host with tens of
 * thousands of sockets takes seconds), so the probes' ring buffer keeps draining.
 */
export async function scanExisting(procRoot = '/proc'): Promise<ExistingSocket[]> {
  const fsp = fs.promises;
  const pids = (await fsp.readdir(procRoot)).filter((d) => /^\d+$/.test(d)).map(Number);
  const nsRep = new Map<number, number>(); // netns inode -> one pid inside it
  const owner = new Map<number, number>(); // socket inode -> pid
  await eachLimited(pids, 16, async (pid) => {
    const dir = path.join(procRoot, String(pid));
    try {
      const ns = inodeOfLink(await fsp.readlink(path.join(dir, 'ns/net')));
      if (ns && !nsRep.has(ns)) nsRep.set(ns, pid);
    } catch { return; }
    let fds: string[];
    try { fds = await fsp.readdir(path.join(dir, 'fd')); } catch { return; }
    for (let i = 0; i < fds.length; i += 256) {
      const links = await Promise.all(fds.slice(i, i + 256).map((fd) => fsp.readlink(path.join(dir, 'fd', fd)).catch(() => '')));
      for (const link of links) {
        if (!link.startsWith('socket:[')) continue;
        const ino = inodeOfLink(link);
        if (!owner.has(ino)) owner.set(ino, pid);
      }
    }
  });
  const root = cgroup2Root(procRoot);
  const out: ExistingSocket[] = [];
  const facts = new Map<number, { comm: string; cgroupId: number }>();
  const factsOf = (pid: number) => {
    let f = facts.get(pid);
    if (!f) {
      f = { comm: readOr(path.join(procRoot, String(pid), 'comm')).trim(), cgroupId: cgroupIdOf(pid, root, procRoot) };
      facts.set(pid, f);
    }
    return f;
  };
  for (const [netns, rep] of nsRep) {
    const base = path.join(procRoot, String(rep), 'net');
    const socks = [
      ...parseProcNetTcp(await fsp.readFile(path.join(base, 'tcp'), 'utf8').catch(() => ''), 4, v6Text),
      ...parseProcNetTcp(await fsp.readFile(path.join(base, 'tcp6'), 'utf8').catch(() => ''), 6, v6Text),
    ];
    for (const s of socks) {
      if (!isEstablished(s) && !isListening(s)) continue;
      const pid = owner.get(s.inode) ?? 0;
      const f = pid ? factsOf(pid) : { comm: '', cgroupId: 0 };
      out.push({ ...s, netns, pid, comm: f.comm, cgroupId: f.cgroupId, listening: isListening(s) });
    }
  }
  return out;
}
