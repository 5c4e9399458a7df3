// Host process facts by pid (comm, exe, cmdline, cgroup, systemd unit), read
// from /proc once and cached with a bound. A cached pid is re-read when its
// entry is old or the caller's comm disagrees (the pid was reused).
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { containerRefFromProcCgroup, identityPath, parseProcCgroup, systemdUnitFromCgroupPath } from './cgroup.js';
import type { ContainerRef } from './types.js';

export interface ProcessInfo {
  pid: number;
  comm: string;
  /** Basename of /proc/<pid>/exe ('' for kernel threads or when unreadable). */
  exe: string;
  cmdline: string;
  /** The cgroup path that best names the process (v2 unless root). */
  cgroupPath: string | null;
  /** cgroup v2 path, or null. */
  cgroupV2Path: string | null;
  unit: string | null;
  container: ContainerRef | null;
  /** Network namespace inode, 0 if unreadable. */
  netns: number;
  readAt: number;
}

export interface ProcessCacheOptions {
  procRoot?: string;
  maxEntries?: number;
  ttlMs?: number;
  cmdlineMaxChars?: number;
}

function readOr(file: string): string | null {
  try { return fs.readFileSync(file, 'utf8'); } catch { return null; }
}

interface Entry {
  info: ProcessInfo;
  /** comm values seen for this pid: thread names differ from the process's comm. */
  comms: Set<string>;
}

export class ProcessCache {
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private readonly ttl: number;
  private readonly cmdMax: number;
  /** Insertion order = age: the first key is the oldest entry. */
  private cache = new Map<number, Entry>();
  reads = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.maxEntries = opts.maxEntries ?? DEFAULTS.processCacheEntries;
    this.ttl = opts.ttlMs ?? DEFAULTS.processCacheTtlMs;
    this.cmdMax = opts.cmdlineMaxChars ?? DEFAULTS.cmdlineMaxChars;
  }

  /** Facts about pid, or null if it has exited and was never seen. `comm` (from the event) detects pid reuse. */
  get(pid: number, comm?: string): ProcessInfo | null {
    if (pid <= 0) return null;
    const hit = this.cache.get(pid);
    const now = Date.now();
    if (hit && now - hit.info.readAt < this.ttl && (!comm || hit.comms.has(comm))) return hit.info;
    const fresh = this.read(pid, now);
    if (!fresh) return hit?.info ?? null; // exited: the last thing we knew is still the best answer
    const comms = new Set([fresh.comm]);
    if (comm) comms.add(comm); // a thread's name: accept it from now on without re-reading
    this.cache.delete(pid);
    this.cache.set(pid, { info: fresh, comms });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as number);
    return fresh;
  }

  get size(): number { return this.cache.size; }
  private read(pid: number, now: number): ProcessInfo | null {
    const dir = path.join(this.procRoot, String(pid));
    const comm = readOr(path.join(dir, 'comm'));
    if (comm === null) return null;
    this.reads++;
    let exe = '';
    try { exe = path.basename(fs.readlinkSync(path.join(dir, 'exe'))).replace(/ \(deleted\)$/, ''); } catch { /* kernel thread or gone */ }
    const rawCmd = readOr(path.join(dir, 'cmdline')) ?? '';
    const cmdline = rawCmd.replace(/\0+$/, '').replace(/\0/g, ' ').slice(0, this.cmdMax);
    const cgText = readOr(path.join(dir, 'cgroup'));
    const cg = cgText === null ? null : parseProcCgroup(cgText);
    const cgroupPath = cg ? identityPath(cg) : null;
    let netns = 0;
    try {
      const m = /\[(\d+)\]$/.exec(fs.readlinkSync(path.join(dir, 'ns/net')));
      if (m) netns = Number(m[1]);
    } catch { /* gone */ }
    return {
      pid,
      comm: comm.trim(),
      exe,
      cmdline,
      cgroupPath,
      cgroupV2Path: cg?.v2 ?? null,
      unit: cgroupPath ? systemdUnitFromCgroupPath(cgroupPath) : null,
      container: cg ? containerRefFromProcCgroup(cg) : null,
      netns,
      readAt: now,
    };
  }
}
