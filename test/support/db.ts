// Real database servers for the request-capture tests: each on its own free
// port and temp data dir, stopped by pid, data removed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { start, type Child } from './children.js';
import { freePort } from './agent.js';
import { sleep } from './wait.js';

export interface DbServer { port: number; dir: string; child: Child; stop(): Promise<void> }

async function waitPort(port: number, child: Child, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (child.proc.exitCode !== null) throw new Error(`server exited: ${child.stderr.join('\n')}`);
    await sleep(100);
  }
  throw new Error(`server did not listen on ${port}: ${child.stderr.join('\n')}`);
}

function server(child: Child, port: number, dir: string): DbServer {
  return { port, dir, child, async stop() { await child.stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

export async function startRedis(): Promise<DbServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-redis-'));
  const port = await freePort();
  const child = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']);
  await waitPort(port, child);
  return server(child, port, dir);
}

/** PostgreSQL 15 with trust authentication for user postgres (it refuses to run as root: runs as postgres).
 *  With `tls`, it serves TLS with a self-signed certificate made by openssl. `hba`: pg_hba.conf lines
 *  put before initdb's (which trust everyone), e.g. `host all alice 127.0.0.1/32 scram-sha-256`. */
export async function startPostgres(tls = false, hba: string[] = []): Promise<DbServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-pg-'));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const bin = '/usr/lib/postgresql/15/bin';
  execFileSync('runuser', ['-u', 'postgres', '--', `${bin}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], { stdio: 'ignore' });
  if (hba.length) {
    const file = path.join(data, 'pg_hba.conf');
    fs.writeFileSync(file, hba.join('\n') + '\n' + fs.readFileSync(file, 'utf8'));
  }
  const ssl = ['-c', 'ssl=off'];
  if (tls) {
    execFileSync('runuser', ['-u', 'postgres', '--', 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', `${data}/server.key`, '-out', `${data}/server.crt`], { stdio: 'ignore' });
    ssl.splice(0, 2, '-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key');
  }
  const port = await freePort();
  const child = start('runuser', ['-u', 'postgres', '--', `${bin}/postgres`, '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', ...ssl]);
  await waitPort(port, child);
  await sleep(300); // accepting TCP before recovery is done would refuse the first connection
  return server(child, port, dir);
}

/** MariaDB with grant tables off (any user, no password). */
export async function startMariadb(): Promise<DbServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-maria-'));
  const data = path.join(dir, 'data');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal'], { stdio: 'ignore' });
  const port = await freePort();
  const child = start('mariadbd', ['--no-defaults', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${dir}/sock`, `--pid-file=${dir}/pid`, '--user=root', '--skip-grant-tables', '--skip-log-bin', '--innodb-buffer-pool-size=16M']);
  await waitPort(port, child, 60_000);
  return server(child, port, dir);
}
