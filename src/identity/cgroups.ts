// cgroup ids and paths on this host: cgroup v2 id -> path by walking the
// cgroup v2 tree (cached, rescanned lazily on a miss at most once per
// interval), and pid -> cgroup paths from /proc/<pid>/cgroup. New cgroups
// near the top of the tree (where Docker puts containers) are learnt the
// moment they are made (inotify): a container that runs for a few
// milliseconds is gone, its cgroup directory with it, before its events
// are read, and a walk then can no longer find it.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { parseProcCgroup, type ProcCgroup } from './cgroup.js';

/** Mount point of the cgroup v2 hierarchy (unified, or hybrid's /sys/fs/cgroup/unified), from mountinfo; null if none. */
export function cgroup2Root(procRoot = '/proc'): string | null {
  let text = '';
  try { text = fs.readFileSync(path.join(procRoot, 'self/mountinfo'), 'utf8'); } catch { return null; }
  for (const line of text.split('\n')) {
    const parts = line.split(' - ');
    if (parts.length === 2 && parts[1].startsWith('cgroup2 ')) return line.split(' ')[4];
  }
  return null;
}

/** cgroup v2 id of a process: the inode of its cgroup v2 directory (0 if unknown). */
export function cgroupIdOf(pid: number, root: string | null, procRoot = '/proc'): number {
  if (!root) return 0;
  let text = '';
  try { text = fs.readFileSync(path.join(procRoot, String(pid), 'cgroup'), 'utf8'); } catch { return 0; }
  const v2 = parseProcCgroup(text).v2;
  if (v2 === null) return 0;
  try { return fs.statSync(path.join(root, v2)).ino; } catch { return 0; }
}

/** Where runtimes put containers, one level down: watched before any other child of the root. */
const CONTAINER_PARENTS = /^(docker|system\.slice|machine\.slice|kubepods.*|containerd|podman|libpod.*|lxc\.payload.*)$/;

/** How long a cgroup id that a walk of the tree did not find is not looked for again. */
const MISSING_MS = 30_000;

export interface CgroupIndexOptions {
  /** cgroup v2 mount point; found in /proc/self/mountinfo when not given. */
  root?: string | null;
  procRoot?: string;
  rescanIntervalMs?: number;
  /** Paths kept at most (ids of removed cgroups are kept for late events until then). */
  maxEntries?: number;
  /** Directories watched at most. */
  maxWatched?: number;
}

export class CgroupIndex {
  readonly root: string | null;
  private readonly procRoot: string;
  private readonly interval: number;
  private readonly maxEntries: number;
  private readonly maxWatched: number;
  private byId = new Map<number, string>();
  private missing = new Map<number, number>();
  /** Watched directories (relative paths): the root and its children. */
  private watchers = new Map<string, fs.FSWatcher>();
  private learntCount = 0;
  private unwatchedCount = 0;
  private lastScan = -Infinity;
  private scanCount = 0;

  constructor(opts: CgroupIndexOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.root = opts.root !== undefined ? opts.root : cgroup2Root(this.procRoot);
    this.interval = opts.rescanIntervalMs ?? DEFAULTS.cgroupRescanIntervalMs;
    this.maxEntries = opts.maxEntries ?? 65536;
    this.maxWatched = opts.maxWatched ?? DEFAULTS.cgroupWatchMax;
  }

  get scans(): number { return this.scanCount; }
  /** cgroups learnt from inotify as they were made. */
  get learnt(): number { return this.learntCount; }
  /** Directories not watched because the cap was reached: cgroups made in them are found by walks only, and one that is already gone stays unnamed. */
  get unwatched(): number { return this.unwatchedCount; }
  get size(): number { return this.byId.size; }

  /** cgroup v2 path (relative to the mount, e.g. `/docker/<id>`) of a cgroup id, or null. */
  pathOf(id: number): string | null {
    const hit = this.byId.get(id);
    if (hit !== undefined) return hit;
    if (!this.root || id === 0) return null;
    const now = performance.now();
    // An id a walk did not find (a cgroup already removed) does not make the next one walk again for a while.
    const missed = this.missing.get(id);
    if (missed !== undefined && now - missed < MISSING_MS) return null;
    if (now - this.lastScan < this.interval) return null;
    this.scan();
    const p = this.byId.get(id);
    if (p !== undefined) return p;
    if (this.missing.size >= 4096) this.missing.clear();
    this.missing.set(id, now);
    return null;
  }

  /** cgroup v2 id of a path (stat of its directory; 0 if gone), remembered for pathOf. */
  idOf(cgroupPath: string): number {
    if (!this.root) return 0;
    try {
      const ino = fs.statSync(path.join(this.root, cgroupPath)).ino;
      this.remember(ino, cgroupPath);
      return ino;
    } catch {
      return 0;
    }
  }

  /** Walks the whole cgroup v2 tree. */
  scan(): void {
    this.lastScan = performance.now();
    this.scanCount++;
    if (!this.root) return;
    if (this.byId.size > this.maxEntries) this.byId.clear();
    const walk = (dir: string, rel: string): void => {
      let ino: number;
      try { ino = fs.statSync(dir).ino; } catch { return; }
      this.byId.set(ino, rel);
      let entries: fs.Dirent[];
      try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        if (e.isDirectory()) walk(path.join(dir, e.name), rel === '/' ? `/${e.name}` : `${rel}/${e.name}`);
      }
    };
    walk(this.root, '/');
  }

  /**
   * Learns cgroups as they are made, in the root and the directories one
   * level down (/docker/<id>, /system.slice/docker-<id>.scope); deeper ones
   * (Kubernetes pods) are still found by walks. No-op where inotify cannot watch.
   */
  watch(): void {
    if (!this.root || this.watchers.size) return;
    this.watchDir('/');
    let entries: fs.Dirent[] = [];
    try { entries = fs.readdirSync(this.root, { withFileTypes: true }); } catch { /* walks still work */ }
    // Container parents first: a host with many other top-level cgroups must not use up the cap before them.
    const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    for (const name of dirs) if (CONTAINER_PARENTS.test(name)) this.watchDir(`/${name}`);
    for (const name of dirs) if (!CONTAINER_PARENTS.test(name)) this.watchDir(`/${name}`);
  }

  unwatch(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private watchDir(rel: string): void {
    if (!this.root || this.watchers.has(rel)) return;
    if (this.watchers.size >= this.maxWatched) { this.unwatchedCount++; return; }
    try {
      const w = fs.watch(path.join(this.root, rel), { persistent: false }, (_event, name) => { if (name) this.made(rel, String(name)); });
      w.on('error', () => { w.close(); this.watchers.delete(rel); });
      this.watchers.set(rel, w);
    } catch { /* not watchable (removed meanwhile, or no inotify): walks still find what is in it */ }
  }

  /** A name appeared or went in a watched directory: remembers it if it is a cgroup that exists. */
  private made(parent: string, name: string): void {
    const rel = parent === '/' ? `/${name}` : `${parent}/${name}`;
    let st: fs.Stats;
    try { st = fs.statSync(path.join(this.root!, rel)); } catch { return; } // removed (or an inotify rename of a file)
    if (!st.isDirectory()) return;
    if (this.byId.get(st.ino) !== rel) { this.remember(st.ino, rel); this.learntCount++; }
    if (parent === '/') this.watchDir(rel);
  }

  /** Parsed /proc/<pid>/cgroup, or null if the process is gone. */
  pidCgroup(pid: number): ProcCgroup | null {
    let text: string;
    try { text = fs.readFileSync(path.join(this.procRoot, String(pid), 'cgroup'), 'utf8'); } catch { return null; }
    return parseProcCgroup(text);
  }

  private remember(id: number, cgroupPath: string): void {
    if (this.byId.size > this.maxEntries) this.byId.clear();
    this.byId.set(id, cgroupPath);
  }
}
