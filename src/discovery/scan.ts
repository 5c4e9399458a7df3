// Start-up discovery: TCP connections and listeners that predate the agent,
// in every network namespace, with the process that owns each socket.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcNetTcp, isEstablished, isListening, type ProcSocket } from './procnet.js';
import { ipv6 } from '../events/decode.js';

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

function v6(b: Buffer): [string, 4 | 6] {
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? [`${b[12]}.${b[13]}.${b[14]}.${b[15]}`, 4] : [ipv6(b, 0), 6];
}

/** Mount point of the cgroup v2 hierarchy (unified, or hybrid's /sys/fs/cgroup/unified). */
export function cgroup2Root(procRoot = '/proc'): string | null {
  for (const line of readOr(path.join(procRoot, 'self/mountinfo')).split('\n')) {
    const parts = line.split(' - ');
    if (parts.length === 2 && parts[1].startsWith('cgroup2 ')) return line.split(' ')[4];
  }
  return null;
}

/** cgroup v2 id of a process: the inode of its cgroup directory. */
export function cgroupIdOf(pid: number, root: string | null, procRoot = '/proc'): number {
  if (!root) return 0;
  const line = readOr(path.join(procRoot, String(pid), 'cgroup')).split('\n').find((l) => l.startsWith('0::'));
  if (!line) return 0;
  try { return fs.statSync(path.join(root, line.slice(3))).ino; } catch { return 0; }
}

export function scanExisting(procRoot = '/proc'): ExistingSocket[] {
  const pids = fs.readdirSync(procRoot).filter((d) => /^\d+$/.test(d)).map(Number);
  const nsRep = new Map<number, number>(); // netns inode -> one pid inside it
  const owner = new Map<number, number>(); // socket inode -> pid
  for (const pid of pids) {
    let ns: number;
    try { ns = inodeOfLink(fs.readlinkSync(path.join(procRoot, String(pid), 'ns/net'))); } catch { continue; }
    if (ns && !nsRep.has(ns)) nsRep.set(ns, pid);
    let fds: string[];
    try { fds = fs.readdirSync(path.join(procRoot, String(pid), 'fd')); } catch { continue; }
    for (const fd of fds) {
      let link: string;
      try { link = fs.readlinkSync(path.join(procRoot, String(pid), 'fd', fd)); } catch { continue; }
      if (link.startsWith('socket:[') && !owner.has(inodeOfLink(link))) owner.set(inodeOfLink(link), pid);
    }
  }
  const root = cgroup2Root(procRoot);
  const out: ExistingSocket[] = [];
  for (const [netns, rep] of nsRep) {
    const base = path.join(procRoot, String(rep), 'net');
    const socks = [
      ...parseProcNetTcp(readOr(path.join(base, 'tcp')), 4, v6),
      ...parseProcNetTcp(readOr(path.join(base, 'tcp6')), 6, v6),
    ];
    for (const s of socks) {
      if (!isEstablished(s) && !isListening(s)) continue;
      const pid = owner.get(s.inode) ?? 0;
      out.push({
        ...s,
        netns,
        pid,
        comm: pid ? readOr(path.join(procRoot, String(pid), 'comm')).trim() : '',
        cgroupId: pid ? cgroupIdOf(pid, root, procRoot) : 0,
        listening: isListening(s),
      });
    }
  }
  return out;
}
