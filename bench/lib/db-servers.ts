// Database servers and their load generators for bench:l7: redis-server with
// redis-benchmark, PostgreSQL with pgbench. Each server on a free loopback
// port with its own temp folder, pinned to a CPU when asked, stopped by pid.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { start, type Child } from './children.js';
import { L7_BENCH } from './constants.js';
import { freePort } from '../../test/support/agent.js';

export interface BenchServer { port: number; stop(): Promise<void> }

async function listening(port: number, child: Child, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const ok = await new Promise<boolean>((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} did not listen on ${port}: ${child.stderr.slice(-5).join(' | ')}`);
}

const pinned = (cpu: string | null, cmd: string, args: string[]): [string, string[]] => (cpu === null ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]]);

export async function startBenchRedis(cpu: string | null): Promise<BenchServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-redis-'));
  const port = await freePort();
  const child = start('redis-server', ...pinned(cpu, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]));
  await listening(port, child);
  return { port, async stop() { await child.stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** redis-benchmark SET/GET for about `seconds` (requests sized from its first run's rate, bounded). */
let redisRate = 50_000;
export async function runRedisBenchmark(port: number, seconds: number, cpu: string | null): Promise<{ rps: number; requests: number; seconds: number }> {
  const n = Math.max(10_000, Math.min(5_000_000, Math.round((redisRate * seconds) / 2)));
  const t0 = Date.now();
  const child = start('redis-benchmark', ...pinned(cpu, 'redis-benchmark', ['-p', String(port), '-c', String(L7_BENCH.redisClients), '-n', String(n), '-t', 'set,get', '--csv']));
  const guard = setTimeout(() => void child.stop('SIGKILL'), (seconds * 4 + 30) * 1000);
  const code = await child.exited;
  clearTimeout(guard);
  if (code !== 0) throw new Error(`redis-benchmark exited ${code}: ${child.stderr.join(' ')}`);
  const elapsed = (Date.now() - t0) / 1000;
  // CSV rows: "SET","123456.78",...
  const rates = child.lines.map((l) => l.match(/^"(SET|GET)","([\d.]+)"/)).filter((m): m is RegExpMatchArray => !!m).map((m) => Number(m[2]));
  if (rates.length !== 2) throw new Error(`cannot read redis-benchmark output: ${child.lines.join(' | ')}`);
  const rps = (2 * n) / (n / rates[0] + n / rates[1]); // both tests' requests over both tests' time
  redisRate = rps;
  return { rps, requests: 2 * n, seconds: Math.min(elapsed, (2 * n) / rps) };
}

export async function startBenchPostgres(cpu: string | null): Promise<BenchServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-pg-'));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const bin = '/usr/lib/postgresql/15/bin';
  execFileSync('runuser', ['-u', 'postgres', '--', `${bin}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], { stdio: 'ignore' });
  const port = await freePort();
  const child = start('postgres', ...pinned(cpu, 'runuser', ['-u', 'postgres', '--', `${bin}/postgres`, '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'ssl=off']));
  await listening(port, child);
  await new Promise((r) => setTimeout(r, 500));
  execFileSync('pgbench', ['-i', '-s', '1', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'postgres'], { stdio: 'ignore' });
  return { port, async stop() { await child.stop('SIGINT', 10_000); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** pgbench select-only for `seconds`, one thread, keep-alive connections. */
export async function runPgbench(port: number, seconds: number, cpu: string | null): Promise<{ rps: number; requests: number; seconds: number }> {
  const child = start('pgbench', ...pinned(cpu, 'pgbench', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-S', '-n', '-c', String(L7_BENCH.pgClients), '-j', '1', '-T', String(seconds), 'postgres']));
  const guard = setTimeout(() => void child.stop('SIGKILL'), (seconds + 30) * 1000);
  const code = await child.exited;
  clearTimeout(guard);
  const out = child.lines.join('\n');
  if (code !== 0) throw new Error(`pgbench exited ${code}: ${child.stderr.join(' ')} ${out}`);
  const tps = out.match(/tps = ([\d.]+) \(without initial connection time\)/);
  const done = out.match(/number of transactions actually processed: (\d+)/);
  if (!tps || !done) throw new Error(`cannot read pgbench output:\n${out}`);
  return { rps: Number(tps[1]), requests: Number(done[1]), seconds };
}
