// Finds the files that hold OpenSSL's SSL_read/SSL_write (libssl, and
// executables that export them, like node) in running processes, and puts
// the TLS uprobes on each file once (one file: tls-file-key.ts, so the
// containers of one image share one target). Processes in containers are
// reached through /proc/<pid>/root. A file no live process maps any more has
// its uprobes detached and is forgotten, so container churn frees the budget
// and the fds. Bounded in files probed and processes read per scan.
import fs from 'node:fs';
import type { Handle, NativeLoader } from '../native/index.js';
import { L7_DEFAULTS } from '../config/defaults.js';
import { tlsFileKey } from './tls-file-key.js';

/** Program, symbol, return probe; the first one decides whether a file has OpenSSL at all. */
const PROBES: [string, string, boolean][] = [
  ['dh_ssl_write', 'SSL_write', false],
  ['dh_ssl_ret', 'SSL_write', true],
  ['dh_ssl_read', 'SSL_read', false],
  ['dh_ssl_ret', 'SSL_read', true],
  ['dh_ssl_write_ex', 'SSL_write_ex', false],
  ['dh_ssl_ret', 'SSL_write_ex', true],
  ['dh_ssl_read_ex', 'SSL_read_ex', false],
  ['dh_ssl_ret', 'SSL_read_ex', true],
];

export interface TlsTargetStats {
  /** Files with the uprobes on now, and their paths as first seen. */
  attached: number;
  files: string[];
  /** Files looked at, mapped by a live process, that export no SSL_write. */
  withoutOpenssl: number;
  /** Files mapped by a live process but not looked at: the limit is reached (tried again when a target is detached). */
  skipped: number;
  /** Probed files where a required probe failed to attach. */
  failed: number;
  processesScanned: number;
  /** Running totals: targets attached, detached (no live process maps them any more), and found over the limit. */
  attachedTotal: number;
  detachedTotal: number;
  skippedTotal: number;
}

export interface TlsTargetOptions { maxTargets?: number; scanIntervalMs?: number; maxProcessesPerScan?: number; procRoot?: string }

type FileState = 'new' | 'probed' | 'plain' | 'skipped';

/** One file (one inode, wherever it is mapped) and the live processes seen mapping it. */
interface TlsFile {
  state: FileState;
  /** Path inside the processes' root, as first seen. */
  path: string;
  users: Set<number>;
  /** The host's libraries, probed at start for short-lived clients: never detached. */
  pinned: boolean;
  links: number[];
  failed: boolean;
}

export class TlsTargets {
  /** Processes read, and the keys of the files each maps. */
  private seenPids = new Map<number, string[]>();
  private files = new Map<string, TlsFile>();
  private timer: NodeJS.Timeout | null = null;
  private counts = { processesScanned: 0, attachedTotal: 0, detachedTotal: 0, skippedTotal: 0 };
  private readonly max: number;
  private readonly proc: string;

  constructor(private native: NativeLoader, private handle: Handle, private opts: TlsTargetOptions = {}) {
    this.max = opts.maxTargets ?? L7_DEFAULTS.tlsMaxTargets;
    this.proc = opts.procRoot ?? '/proc';
  }

  get stats(): TlsTargetStats {
    const all = [...this.files.values()];
    const probed = all.filter((f) => f.state === 'probed');
    return {
      attached: probed.length,
      files: probed.map((f) => f.path),
      withoutOpenssl: all.filter((f) => f.state === 'plain').length,
      skipped: all.filter((f) => f.state === 'skipped').length,
      failed: probed.filter((f) => f.failed).length,
      ...this.counts,
    };
  }

  /** Probes the host's libssl now (short-lived clients use it), and scans processes soon after:
   *  attaching to a large binary takes a while, so the first scan does not hold up the start. */
  start(): void {
    for (const lib of L7_DEFAULTS.tlsHostLibraries) {
      const f = this.files.get(this.track(lib, lib, null) ?? '');
      if (f) { f.pinned = true; this.probeFile(f, lib, this.probedCount() >= this.max); }
    }
    this.timer = setInterval(() => this.scan(), this.opts.scanIntervalMs ?? L7_DEFAULTS.tlsScanIntervalMs);
    this.timer.unref();
    setImmediate(() => { if (this.timer) this.scan(); });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads processes not seen before, detaches files no live process maps, then probes the files waiting
   *  (new, or skipped while the limit was reached); returns how many files were newly probed. */
  scan(): number {
    let pids: number[];
    try {
      pids = fs.readdirSync(this.proc).filter((d) => /^\d+$/.test(d)).map(Number);
    } catch {
      return 0;
    }
    const live = new Set(pids);
    for (const [pid, keys] of this.seenPids) {
      if (live.has(pid)) continue;
      this.seenPids.delete(pid);
      for (const k of keys) this.files.get(k)?.users.delete(pid);
    }
    let read = 0;
    for (const pid of pids) {
      if (this.seenPids.has(pid) || pid === process.pid) continue;
      if (read++ >= (this.opts.maxProcessesPerScan ?? L7_DEFAULTS.tlsScanMaxProcesses)) break;
      const keys: string[] = [];
      for (const path of this.candidates(pid)) {
        const key = this.track(`${this.proc}/${pid}/root${path}`, path, pid);
        if (key) keys.push(key);
      }
      this.seenPids.set(pid, keys);
      this.counts.processesScanned++;
    }
    this.release();
    let probed = this.probedCount(), added = 0;
    for (const f of this.files.values()) {
      if (f.state !== 'new' && f.state !== 'skipped') continue;
      const via = this.reach(f);
      if (!via) continue;
      const n = this.probeFile(f, via, probed >= this.max);
      probed += n;
      added += n;
    }
    return added;
  }

  /** Paths (inside the process's root) of its executable and of any libssl it maps. */
  private candidates(pid: number): string[] {
    const out = new Set<string>();
    try {
      out.add(fs.readlinkSync(`${this.proc}/${pid}/exe`).replace(/ \(deleted\)$/, ''));
    } catch { /* kernel thread, or gone */ }
    try {
      for (const line of fs.readFileSync(`${this.proc}/${pid}/maps`, 'latin1').split('\n')) {
        const i = line.indexOf('/');
        if (i < 0) continue;
        const path = line.slice(i);
        if (L7_DEFAULTS.tlsLibraryPattern.test(path)) out.add(path);
      }
    } catch { /* gone */ }
    return [...out];
  }

  /** Records that `pid` (null: the agent, for the host's libraries) maps the file at `viaRoot`; returns the file's key. */
  private track(viaRoot: string, path: string, pid: number | null): string | null {
    let key: string;
    try {
      const st = fs.statSync(viaRoot, { bigint: true });
      if (!st.isFile()) return null;
      key = tlsFileKey(st);
    } catch {
      return null;
    }
    let f = this.files.get(key);
    if (!f) {
      f = { state: 'new', path, users: new Set(), pinned: false, links: [], failed: false };
      this.files.set(key, f);
    }
    if (pid !== null) f.users.add(pid);
    return key;
  }

  /** A path to the file through a live user's root (the host's own path for the pinned libraries). */
  private reach(f: TlsFile): string | null {
    if (f.pinned) return f.path;
    for (const pid of f.users) return `${this.proc}/${pid}/root${f.path}`;
    return null;
  }

  /** Forgets the files no live process maps; the probed ones' uprobes are closed together (one RCU wait, not one each). */
  private release(): void {
    const links: number[] = [];
    for (const [key, f] of this.files) {
      if (f.users.size || f.pinned) continue;
      if (f.state === 'probed') { links.push(...f.links); this.counts.detachedTotal++; }
      this.files.delete(key);
    }
    try {
      if (links.length) this.native.detachLinks(this.handle, links);
    } catch { /* the loader is closing: its close detaches every link */ }
  }

  private probedCount(): number {
    let n = 0;
    for (const f of this.files.values()) if (f.state === 'probed') n++;
    return n;
  }

  /** Puts the uprobes on one file unless the limit is reached; returns 1 if it is now probed. */
  private probeFile(f: TlsFile, via: string, full: boolean): number {
    if (full) {
      if (f.state !== 'skipped') this.counts.skippedTotal++;
      f.state = 'skipped';
      return 0;
    }
    const [first, ...rest] = PROBES;
    const r = this.native.attachUprobe(this.handle, first[0], via, first[1], first[2]);
    if (!r.ok) {
      f.state = 'plain';
      return 0;
    }
    f.links = [r.link!];
    let ok = true;
    for (const [prog, sym, ret] of rest) {
      const x = this.native.attachUprobe(this.handle, prog, via, sym, ret);
      if (x.ok) f.links.push(x.link!);
      else if (!sym.endsWith('_ex')) ok = false;
    }
    f.failed = !ok;
    f.state = 'probed';
    this.counts.attachedTotal++;
    return 1;
  }
}
