// Host process facts by pid (comm, exe, cmdline, cgroup, systemd unit), read
// from /proc once per process and cached with a bound. Pid reuse is caught by
// the process start time (/proc/<pid>/stat field 22): a cached entry is checked
// against it at most every ttlMs, with one small read, never per event. (The
// comm of an event is no check: a process's threads carry their own names.)
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { containerRefFromProcCgroup, identityPath, parseProcCgroup, systemdUnitFromCgroupPath } from './cgroup.js';
import type { ContainerRef } from './types.js';
import { printable } from '../events/text.js';

export interface ProcessInfo {
  pid: number;
  comm: string;
  /** Basename of /proc/<pid>/exe ('' for kernel threads or when unreadable). */
  exe: string;
  cmdline: string;
  /** Arguments as the process was started (argv[0] included); at most CMDLINE_READ_BYTES of them, [] if unreadable. */
  argv: string[];
  /** Thread group (process) id: differs from pid when a thread's id was asked about. */
  tgid: number;
  /** The cgroup path that best names the process (v2 unless root). */
  cgroupPath: string | null;
  /** cgroup v2 path, or null. */
  cgroupV2Path: string | null;
  unit: string | null;
  container: ContainerRef | null;
  /** Network namespace inode, 0 if unreadable. */
  netns: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22); 0 if unreadable. */
  startTicks: number;
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

/** Most of /proc/<pid>/cmdline read: a process may start with megabytes of arguments; names need the first few. */
export const CMDLINE_READ_BYTES = 4096;
const ARGV_MAX = 64;

/** The first `max` bytes of a file, or null. */
function readHead(file: string, max: number): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(max);
    const n = fs.readSync(fd, buf, 0, max, 0);
    return buf.toString('utf8', 0, n);
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

interface Entry {
  info: ProcessInfo;
  /** When the start time was last checked. */
  checkedAt: number;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised comm, which may hold spaces), or 0. */
export function startTicksOf(stat: string | null): number {
  if (!stat) return 0;
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[19]) || 0; // fields 3.. follow the comm: field 22 is the 20th of them
}

export class ProcessCache {
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private readonly ttl: number;
  private readonly cmdMax: number;
  /** Insertion order = age: the first key is the oldest entry. */
  private cache = new Map<number, Entry>();
  /** Full reads of a process's facts, and start-time checks of cached ones. */
  reads = 0;
  checks = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.maxEntries = opts.maxEntries ?? DEFAULTS.processCacheEntries;
    this.ttl = opts.ttlMs ?? DEFAULTS.processCacheTtlMs;
    this.cmdMax = opts.cmdlineMaxChars ?? DEFAULTS.cmdlineMaxChars;
  }

  /** Facts about pid, or null if it has exited and was never seen. (`comm`, an event's thread name, is accepted for compatibility and not used.) */
  get(pid: number, _comm?: string): ProcessInfo | null {
    if (pid <= 0) return null;
    const hit = this.cache.get(pid);
    const now = Date.now();
    if (hit) {
      if (now - hit.checkedAt < this.ttl) return hit.info;
      const stat = readOr(path.join(this.procRoot, String(pid), 'stat'));
      this.checks++;
      if (stat === null) { hit.checkedAt = now; return hit.info; } // exited: the last thing we knew is still the best answer
      const ticks = startTicksOf(stat);
      if (ticks === hit.info.startTicks) {
        // Still running: made the newest entry, so that short-lived processes, not a long-lived server, are the
        // ones the bound drops (a server dropped and gone by its last connection's close would lose its name).
        hit.checkedAt = now;
        this.cache.delete(pid);
        this.cache.set(pid, hit);
        return hit.info;
      }
    }
    const fresh = this.read(pid, now);
    if (!fresh) return hit?.info ?? null;
    this.cache.delete(pid);
    this.cache.set(pid, { info: fresh, checkedAt: now });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as number);
    return fresh;
  }

  /**
   * Whether pid still names a running process: the one cached, when it is (pid reuse is caught by its start time),
   * else any; undefined when /proc cannot say. One small read; for a sweep every so often, not per event.
   */
  running(pid: number): boolean | undefined {
    if (pid <= 0) return false;
    let stat: string;
    try {
      stat = fs.readFileSync(path.join(this.procRoot, String(pid), 'stat'), 'utf8');
    } catch (e) {
      // Only "no such process" says it exited: a /proc that cannot be read (no host pid namespace, no permission) says nothing.
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ESRCH' ? false : undefined;
    }
    const known = this.cache.get(pid)?.info.startTicks;
    return !known || startTicksOf(stat) === known;
  }

  get size(): number { return this.cache.size; }
  private read(pid: number, now: number): ProcessInfo | null {
    const dir = path.join(this.procRoot, String(pid));
    const comm = readOr(path.join(dir, 'comm'));
    if (comm === null) return null;
    this.reads++;
    const startTicks = startTicksOf(readOr(path.join(dir, 'stat')));
    let exe = '';
    try { exe = path.basename(fs.readlinkSync(path.join(dir, 'exe'))).replace(/ \(deleted\)$/, ''); } catch { /* kernel thread or gone */ }
    const rawCmd = readHead(path.join(dir, 'cmdline'), CMDLINE_READ_BYTES) ?? '';
    const cmdline = rawCmd.replace(/\0+$/, '').replace(/\0/g, ' ').slice(0, this.cmdMax);
    const argv = rawCmd ? rawCmd.replace(/\0$/, '').split('\0').slice(0, ARGV_MAX) : [];
    const tgid = Number(/^Tgid:\s*(\d+)/m.exec(readOr(path.join(dir, 'status')) ?? '')?.[1]) || pid;
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
      comm: printable(comm.replace(/\n$/, '')),
      exe,
      cmdline,
      argv,
      tgid,
      cgroupPath,
      cgroupV2Path: cg?.v2 ?? null,
      unit: cgroupPath ? systemdUnitFromCgroupPath(cgroupPath) : null,
      container: cg ? containerRefFromProcCgroup(cg) : null,
      netns,
      startTicks,
      readAt: now,
    };
  }
}
