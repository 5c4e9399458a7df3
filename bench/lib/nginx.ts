// The server under load: nginx (Debian's nginx-light) with one worker, on a
// loopback port, with its own config, temp folders and pid file in a temp
// folder; stopped by pid. It answers every request with a short body.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Child } from './children.js';
import { freePort } from '../../test/support/agent.js';

export const NGINX = '/usr/sbin/nginx';

function config(dir: string, port: number): string {
  return `
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${port} backlog=4096 reuseport;
    location / { default_type text/plain; return 200 "hello from the dhrishti benchmark\\n"; }
  }
}
`;
}

export interface Nginx { url: string; pid: number; stop(): Promise<void> }

/** Starts nginx (pinned to `cpu` with taskset when given) and resolves once it answers. */
export async function startNginx(cpu: string | null): Promise<Nginx> {
  if (!fs.existsSync(NGINX)) throw new Error(`${NGINX} not found; run: npm run setup (installs nginx-light from Debian)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-nginx-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config(dir, port));
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
  const child: Child = cpu === null ? start('nginx', NGINX, args) : start('nginx', 'taskset', ['-c', cpu, NGINX, ...args]);
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    await child.stop('SIGQUIT', 5000); // graceful: the master stops its worker
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + 10000; ;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      let log = '';
      try { log = fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-500); } catch { /* none */ }
      await stop();
      throw new Error(`nginx did not answer on ${url} within 10 s: ${log || child.stderr.slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid, stop };
}
