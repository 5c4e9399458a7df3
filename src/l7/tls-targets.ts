// Finds the files that hold OpenSSL's SSL_read/SSL_write (libssl, and
// executables that export them, like node) in running processes, and puts
// the TLS uprobes on each file once. Processes in containers are reached
// through /proc/<pid>/root. Bounded in files probed and processes read per scan.
import fs from 'node:fs';
import type { Handle, NativeLoader } from '../native/index.js';
import { L7_DEFAULTS } from '../config/defaults.js';

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
  /** Files with the uprobes on, and their paths as first seen. */
  attached: number;
  files: string[];
  /** Files looked at that export no SSL_write. */
  withoutOpenssl: number;
  /** Files that have OpenSSL but were not probed: the limit was reached, or attaching failed. */
  skipped: number;
  failed: number;
  processesScanned: number;
}

export interface TlsTargetOptions { maxTargets?: number; scanIntervalMs?: number; maxProcessesPerScan?: number; procRoot?: string }

export class TlsTargets {
  private seenPids = new Set<number>();
  private seenFiles = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  readonly stats: TlsTargetStats = { attached: 0, files: [], withoutOpenssl: 0, skipped: 0, failed: 0, processesScanned: 0 };
  private readonly max: number;
  private readonly proc: string;

  constructor(private native: NativeLoader, private handle: Handle, private opts: TlsTargetOptions = {}) {
    this.max = opts.maxTargets ?? L7_DEFAULTS.tlsMaxTargets;
    this.proc = opts.procRoot ?? '/proc';
  }

  /** Probes the host's libssl now (short-lived clients use it), and scans processes soon after:
   *  attaching to a large binary takes a while, so the first scan does not hold up the start. */
  start(): void {
    for (const lib of L7_DEFAULTS.tlsHostLibraries) if (fs.existsSync(lib)) this.probeFile(lib, lib);
    this.timer = setInterval(() => this.scan(), this.opts.scanIntervalMs ?? L7_DEFAULTS.tlsScanIntervalMs);
    this.timer.unref();
    setImmediate(() => { if (this.timer) this.scan(); });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Looks at processes not seen before; returns how many files were newly probed. */
  scan(): number {
    let pids: number[];
    try {
      pids = fs.readdirSync(this.proc).filter((d) => /^\d+$/.test(d)).map(Number);
    } catch {
      return 0;
    }
    const live = new Set(pids);
    for (const p of this.seenPids) if (!live.has(p)) this.seenPids.delete(p);
    let read = 0, added = 0;
    for (const pid of pids) {
      if (this.seenPids.has(pid) || pid === process.pid) continue;
      if (read++ >= (this.opts.maxProcessesPerScan ?? L7_DEFAULTS.tlsScanMaxProcesses)) break;
      this.seenPids.add(pid);
      this.stats.processesScanned++;
      for (const file of this.candidates(pid)) added += this.probe(pid, file);
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

  private probe(pid: number, path: string): number {
    return this.probeFile(`${this.proc}/${pid}/root${path}`, path);
  }

  /** Puts the uprobes on one file (by its path here), once per file; returns 1 if newly probed. */
  private probeFile(viaRoot: string, path: string): number {
    let id: string;
    try {
      const st = fs.statSync(viaRoot);
      if (!st.isFile()) return 0;
      id = `${st.dev}:${st.ino}`;
    } catch {
      return 0;
    }
    if (this.seenFiles.has(id)) return 0;
    this.seenFiles.add(id);
    if (this.stats.attached >= this.max) {
      this.stats.skipped++;
      return 0;
    }
    const [first, ...rest] = PROBES;
    const r = this.native.attachUprobe(this.handle, first[0], viaRoot, first[1], first[2]);
    if (!r.ok) {
      this.stats.withoutOpenssl++;
      return 0;
    }
    let ok = true;
    for (const [prog, sym, ret] of rest) {
      const x = this.native.attachUprobe(this.handle, prog, viaRoot, sym, ret);
      if (!x.ok && !sym.endsWith('_ex')) ok = false;
    }
    if (!ok) this.stats.failed++;
    this.stats.attached++;
    this.stats.files.push(path);
    return 1;
  }
}
