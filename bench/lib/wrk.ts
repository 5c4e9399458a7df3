// Runs wrk against a loopback URL for a fixed time and reads its summary.
import { start } from './children.js';

export type LoadMode = 'keepalive' | 'close';

export interface WrkOptions {
  url: string;
  mode: LoadMode;
  threads: number;
  connections: number;
  seconds: number;
  /** taskset CPU list, or null to let it float. */
  cpu: string | null;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSec: number;
  socketErrors: number;
  non2xx: number;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost)(:\d+)?\//.test(o.url)) throw new Error(`wrk: refusing a non-loopback URL ${o.url}`);
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '5s'];
  if (o.mode === 'close') args.push('-H', 'Connection: close');
  args.push(o.url);
  const [cmd, argv] = o.cpu === null ? ['wrk', args] : ['taskset', ['-c', o.cpu, 'wrk', ...args]];
  const child = start('wrk', cmd, argv);
  // wrk stops by itself after -d; this only guards against a hang.
  const guard = setTimeout(() => void child.stop('SIGKILL'), (o.seconds + 15) * 1000);
  const code = await child.exited;
  clearTimeout(guard);
  const out = child.lines.join('\n');
  if (code !== 0) throw new Error(`wrk exited with code ${code}: ${child.stderr.join(' ') || out}`);
  return parseWrk(out);
}

/** Parses wrk's text summary ("N requests in 8.00s, ...", "Requests/sec: ...", error lines). */
export function parseWrk(out: string): WrkResult {
  const done = out.match(/(\d+) requests in ([\d.]+)(us|ms|s|m)\b/);
  const rps = out.match(/Requests\/sec:\s+([\d.]+)/);
  if (!done || !rps) throw new Error(`cannot read wrk output:\n${out}`);
  const unit = { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[done[3] as 'us' | 'ms' | 's' | 'm'];
  const errs = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requests: Number(done[1]),
    seconds: Number(done[2]) * unit,
    requestsPerSec: Number(rps[1]),
    socketErrors: errs ? errs.slice(1).reduce((s, x) => s + Number(x), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}
