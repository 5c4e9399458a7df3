// Processes the benchmark starts: read line by line, stopped by pid, and all
// of them killed if the benchmark itself ends early, so nothing outlives it.
import { spawn, type SpawnOptions } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';

export interface Child {
  name: string;
  pid: number;
  lines: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `re`; rejects after `ms` or if the process exits first. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`, resolves once the process has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

const live = new Set<Child>();

export function start(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (!proc.pid) throw new Error(`cannot start ${name} (${cmd})`);
  const pid = proc.pid;
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let exitCode: number | null | undefined;
  const exitListeners: (() => void)[] = [];
  if (proc.stdout) readline.createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      const m = l.match(w.re);
      if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  });
  if (proc.stderr) readline.createInterface({ input: proc.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code, sig) => {
    exitCode = code ?? (sig ? -1 : null);
    live.delete(child);
    for (const f of exitListeners) f();
    resolve(exitCode);
  }));
  const child: Child = {
    name,
    pid,
    lines,
    stderr,
    exited,
    waitFor(re, ms = 15000) {
      for (const l of lines) { const m = l.match(re); if (m) return Promise.resolve(m); }
      return new Promise((resolve, reject) => {
        const fail = (why: string) => reject(new Error(`${name}: ${why} while waiting for ${re}; stderr: ${stderr.slice(-5).join(' | ') || '(empty)'}`));
        if (exitCode !== undefined) return fail(`exited (code ${exitCode})`);
        const t = setTimeout(() => fail(`timed out after ${ms} ms`), ms);
        exitListeners.push(() => { clearTimeout(t); fail(`exited (code ${exitCode})`); });
        waiters.push({ re, resolve: (m) => { clearTimeout(t); resolve(m); } });
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (exitCode !== undefined) return exitCode;
      process.kill(pid, signal);
      const t = setTimeout(() => { if (exitCode === undefined) process.kill(pid, 'SIGKILL'); }, graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  live.add(child);
  return child;
}

/** Last resort on any exit path: SIGKILL every child still running, by pid. */
export function killAll(): void {
  for (const c of live) {
    try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, stopping every process it started`);
    killAll();
    process.exit(130);
  });
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuTimeMs(pid: number, ticksPerSec: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]); // field 14
  const stime = Number(rest[12]); // field 15
  return ((utime + stime) * 1000) / ticksPerSec;
}
