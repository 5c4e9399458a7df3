// Child processes for tests: started with a script, read line by line, always killed by pid.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import readline from 'node:readline';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the first stdout line matching `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  lines: string[];
  stderr: string[];
  exited: Promise<number | null>;
  send(line: string): void;
  stop(): Promise<void>;
}

const live = new Set<Child>();

export function start(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  if (!proc.pid) throw new Error(`cannot start ${cmd}`);
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readline.createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      const m = l.match(w.re);
      if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  });
  readline.createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const child: Child = {
    proc,
    pid: proc.pid,
    lines,
    stderr,
    exited,
    waitFor(re, ms = 10000) {
      for (const l of lines) { const m = l.match(re); if (m) return Promise.resolve(m); }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} from ${cmd}; stderr: ${stderr.join('\n')}`)), ms);
        waiters.push({ re, resolve: (m) => { clearTimeout(t); resolve(m); } });
      });
    },
    send(line) { proc.stdin!.write(line + '\n'); },
    async stop() {
      live.delete(child);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  live.add(child);
  return child;
}

/** Runs a Node.js script given as text in a child process. */
export function node(script: string, args: string[] = [], opts: SpawnOptions = {}): Child {
  return start(process.execPath, ['-e', script, '--', ...args], opts);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}
