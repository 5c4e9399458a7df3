// How busy the machine is with work that is not the benchmark's: sampled
// from /proc/stat while the benchmark itself is idle, so a noisy run is flagged.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

function cpuTimes(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0); // idle + iowait
  const total = f.slice(0, 8).reduce((s, x) => s + x, 0); // guest time is already inside user
  return { busy: total - idle, total };
}

/** Share of all CPUs busy over the next `ms` milliseconds (0..1). Call only while nothing of the benchmark runs. */
export async function backgroundLoad(ms = 1000): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/**
 * Names of BPF tracing programs loaded right now (tracepoint, tp_btf, raw
 * tracepoint, kprobe). Called while none of the benchmark's observers run, so
 * any found belong to other processes and tax the "no agent" baseline too.
 * Returns null when bpftool cannot tell.
 */
export function loadedTracingPrograms(): string[] | null {
  try {
    const out = execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const progs = JSON.parse(out) as { type?: string; name?: string }[];
    return progs.filter((p) => ['tracepoint', 'tracing', 'raw_tracepoint', 'kprobe'].includes(p.type ?? '')).map((p) => p.name ?? '?');
  } catch {
    return null;
  }
}
