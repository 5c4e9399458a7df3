// Sockets and the processes that hold them, from /proc: at start-up, the TCP
// connections and listeners that predate the agent, in every network
// namespace; later, the holders of a socket asked for (udp-servers.ts).
//
// A host with tens of thousands of sockets has as many /proc fd links to read.
// The walk reads /proc in small synchronous slices and yields between them, so
// the probes' ring buffer keeps draining, and it keeps little: the sockets
// first (one pass over each namespace's /proc/net/tcp{,6}), then only the fd
// links that name one of them. Promise-per-file reads would cost several times
// the CPU and leave a heap peak behind.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcNetTcp, isEstablished, isListening, type ProcSocket } from './procnet.js';
import { cgroup2Root, cgroupIdOf } from '../identity/cgroups.js';
import { printable } from '../events/text.js';

export interface ExistingSocket extends ProcSocket {
  netns: number;
  pid: number;
  comm: string;
  cgroupId: number;
  listening: boolean;
}

/** Work done between yields to the event loop. */
const SLICE_MS = 4;
/** fd links read at once. */
const READS_IN_FLIGHT = 32;

function inodeOfLink(link: string): number {
  // "net:[4026531840]" / "socket:[12345]"
  const a = link.indexOf('[');
  return a < 0 ? 0 : Number(link.slice(a + 1, -1)) || 0;
}

function readlinkOr(p: string): string {
  try { return fs.readlinkSync(p); } catch { return ''; }
}

const wanted = (state: number) => isEstablished({ state }) || isListening({ state });

/** Runs `step` over items in slices of about SLICE_MS, yielding in between. */
async function sliced<T>(items: T[], step: (x: T) => void): Promise<void> {
  let t = performance.now();
  for (const x of items) {
    step(x);
    if (performance.now() - t > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      t = performance.now();
    }
  }
}

const listPids = (procRoot: string) => fs.readdirSync(procRoot).filter((d) => d.charCodeAt(0) <= 0x39).map(Number).filter((n) => n > 0);

/**
 * Reads every fd link of every process, a few at once (the thread pool runs them in parallel), and hands each
 * socket's inode with its process to `seen`, until `seen` returns true or the links run out. Unreadable ones are skipped.
 */
function walkSocketFds(procRoot: string, pids: number[], seen: (pid: number, inode: number) => boolean): Promise<void> {
  return new Promise((resolve) => {
    let p = 0, fds: string[] = [], k = 0, dir = '', inFlight = 0, stop = false;
    const next = (): boolean => {
      while (k >= fds.length) {
        if (p >= pids.length || stop) return false;
        dir = path.join(procRoot, String(pids[p++]), 'fd');
        try { fds = fs.readdirSync(dir); } catch { fds = []; }
        k = 0;
      }
      if (stop) return false;
      const pid = pids[p - 1];
      inFlight++;
      fs.readlink(`${dir}/${fds[k++]}`, (err, link) => {
        inFlight--;
        if (!err && link.startsWith('socket:[') && !stop) stop = seen(pid, inodeOfLink(link));
        if (!next() && inFlight === 0) resolve();
      });
      return true;
    };
    let started = 0;
    while (started < READS_IN_FLIGHT && next()) started++;
    if (!started) resolve();
  });
}

/** A process holding an fd of each socket inode asked for (the first whose link was read); inodes no process holds are left out. */
export async function socketOwners(inodes: ReadonlySet<number>, procRoot = '/proc', pids = listPids(procRoot)): Promise<Map<number, number>> {
  const owners = new Map<number, number>();
  if (inodes.size) {
    await walkSocketFds(procRoot, pids, (pid, inode) => {
      if (inodes.has(inode) && !owners.has(inode)) owners.set(inode, pid);
      return owners.size === inodes.size;
    });
  }
  return owners;
}

/** Every process holding an fd of one of these socket inodes (a server, its forked workers, systemd for a socket it activated). */
export async function socketHolders(inodes: ReadonlySet<number>, procRoot = '/proc'): Promise<number[]> {
  const holders = new Set<number>();
  if (inodes.size) await walkSocketFds(procRoot, listPids(procRoot), (pid, inode) => { if (inodes.has(inode)) holders.add(pid); return false; });
  return [...holders];
}

export async function scanExisting(procRoot = '/proc'): Promise<ExistingSocket[]> {
  const pids = listPids(procRoot);
  // One process per network namespace is enough to read its sockets.
  const nsRep = new Map<number, number>();
  await sliced(pids, (pid) => {
    const ns = inodeOfLink(readlinkOr(path.join(procRoot, String(pid), 'ns/net')));
    if (ns && !nsRep.has(ns)) nsRep.set(ns, pid);
  });
  const out: ExistingSocket[] = [];
  const byInode = new Map<number, ExistingSocket>();
  for (const [netns, rep] of nsRep) {
    const base = path.join(procRoot, String(rep), 'net');
    for (const [file, family] of [['tcp', 4], ['tcp6', 6]] as const) {
      let data: Buffer;
      try { data = fs.readFileSync(path.join(base, file)); } catch { continue; }
      for (const s of parseProcNetTcp(data, family, wanted)) {
        const e = s as ExistingSocket;
        e.netns = netns; e.pid = 0; e.comm = ''; e.cgroupId = 0; e.listening = isListening(s);
        out.push(e);
        if (s.inode) byInode.set(s.inode, e);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  if (!out.length) return out;
  // Owners: the first process holding each socket's fd.
  const root = cgroup2Root(procRoot);
  const facts = new Map<number, { comm: string; cgroupId: number }>();
  const owners = await socketOwners(new Set(byInode.keys()), procRoot, pids);
  for (const [inode, pid] of owners) {
    const s = byInode.get(inode)!;
    let f = facts.get(pid);
    if (!f) {
      let comm = '';
      try { comm = printable(fs.readFileSync(path.join(procRoot, String(pid), 'comm'), 'utf8').replace(/\n$/, '')); } catch { /* gone */ }
      f = { comm, cgroupId: cgroupIdOf(pid, root, procRoot) };
      facts.set(pid, f);
    }
    s.pid = pid; s.comm = f.comm; s.cgroupId = f.cgroupId;
  }
  return out;
}
