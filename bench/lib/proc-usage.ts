// Memory and CPU of one process, read from /proc (no cooperation from the process needed).
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface MemoryReading {
  rss: number; // bytes
  peak: number; // VmHWM: highest RSS so far
  anon: number;
  file: number;
  shmem: number;
}

function kb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

export function memoryOf(pid: number): MemoryReading {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: kb(s, 'VmRSS'), peak: kb(s, 'VmHWM'), anon: kb(s, 'RssAnon'), file: kb(s, 'RssFile'), shmem: kb(s, 'RssShmem') };
}

let ticks = 0;
function ticksPerSec(): number {
  if (!ticks) {
    try { ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { ticks = 100; }
  }
  return ticks;
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // comm may hold spaces
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / ticksPerSec(); // fields 14 and 15
}

export interface UsageSample {
  seconds: number;
  rssMax: number;
  rssFinal: number;
  peak: number; // VmHWM at the end
  anonFinal: number;
  fileFinal: number;
  cpuPercent: number; // of one core, over the whole sample
}

/** Samples RSS every `everyMs` for `seconds`; CPU from the utime+stime delta over the same span. */
export async function sampleUsage(pid: number, seconds: number, everyMs = 500): Promise<UsageSample> {
  const cpu0 = cpuMsOf(pid);
  const t0 = performance.now();
  let rssMax = 0;
  let last = memoryOf(pid);
  while (performance.now() - t0 < seconds * 1000) {
    last = memoryOf(pid);
    rssMax = Math.max(rssMax, last.rss);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  last = memoryOf(pid);
  rssMax = Math.max(rssMax, last.rss);
  const wall = performance.now() - t0;
  return {
    seconds: wall / 1000, rssMax, rssFinal: last.rss, peak: last.peak, anonFinal: last.anon, fileFinal: last.file,
    cpuPercent: ((cpuMsOf(pid) - cpu0) / wall) * 100,
  };
}

export const mb = (bytes: number) => (bytes / (1 << 20)).toFixed(1);

export interface MemoryMap {
  /** The executable and shared libraries (file-backed; the kernel may drop and re-read them). */
  binaries: number;
  /** Kernel BPF maps mapped into the process: the ring buffer (its data pages are mapped twice). */
  bpfMaps: number;
  /** glibc's main malloc heap (native allocations: libbpf, the addon's buffers, ...). */
  mallocHeap: number;
  /** Other anonymous memory: V8's heap pages, thread stacks, other malloc arenas. */
  otherAnon: number;
}

/** Resident memory by kind of mapping, from /proc/<pid>/smaps. */
export function memoryMap(pid: number): MemoryMap {
  const out: MemoryMap = { binaries: 0, bpfMaps: 0, mallocHeap: 0, otherAnon: 0 };
  let kind: keyof MemoryMap = 'otherAnon';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      kind = name.startsWith('/') ? 'binaries' : name.startsWith('anon_inode:bpf') ? 'bpfMaps' : name === '[heap]' ? 'mallocHeap' : 'otherAnon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}
