// A private DNS world for tests and benchmarks, in its own network namespace
// (only loopback inside, so nothing can leave it):
//   127.0.0.1:53    dnsmasq serving zone.test (also on [::1]:53) from a hosts file the test writes,
//                   with CNAMEs, NXDOMAIN for unknown zone.test names, and
//                   forwarding fail.test to unbound, refused.test to the refuser
//                   and dead.test to an address where nothing listens;
//   127.0.0.2:5353  dnsmasq with no data: REFUSED for everything;
//   127.0.0.3:53    unbound forwarding fail.test to the refuser, which it turns into SERVFAIL.
// Clients run inside with `ip netns exec`, which bind-mounts the namespace's
// resolv.conf (/etc/netns/<name>/resolv.conf). Everything is stopped by pid and removed.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { start, type Child } from './children.js';
import { librariesOf } from '../../src/demo/image.js';

const run = promisify(execFile);

export const ZONE = 'zone.test';
export const RESOLVER = '127.0.0.1';
/** The zone's server over IPv6 too. */
export const RESOLVER6 = '::1';
export const UNBOUND = '127.0.0.3';
export const REFUSER = '127.0.0.2';
export const DEAD_UPSTREAM = '127.0.0.9';

export interface DnsLabOptions {
  /** name -> addresses (A or AAAA), written to dnsmasq's hosts file. */
  hosts: Record<string, string[]>;
  /** alias -> target (both names dnsmasq knows). */
  cnames?: Record<string, string>;
  /** TTL of the zone's answers, seconds. */
  ttl?: number;
  /** resolv.conf options line for glibc clients. */
  resolvOptions?: string;
  /** dnsmasq's cache size (0: none). */
  cacheSize?: number;
  /**
   * A veth link to the host's namespace, so host processes can use the lab:
   * the host side gets `${prefix}.1/24`, the lab `${prefix}.53` (dnsmasq
   * answers there too) and each of `servers` (for the test's own servers).
   */
  link?: { prefix: string; servers: string[] };
}

/** The lab's resolver as seen from the host over the link. */
export const linkResolver = (prefix: string) => `${prefix}.53`;

export class DnsLab {
  private children: Child[] = [];
  private zone: Child | null = null;
  readonly inode: number;
  /** The host side of the link, if any. */
  private hostLink: string | null = null;

  private constructor(readonly name: string, readonly dir: string, private readonly opts: DnsLabOptions) {
    this.inode = fs.statSync(`/run/netns/${name}`).ino;
  }

  static async start(opts: DnsLabOptions): Promise<DnsLab> {
    const name = `dh-dns-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-dns-'));
    const lab = new DnsLab(name, dir, opts);
    try {
      fs.mkdirSync(`/etc/netns/${name}`, { recursive: true });
      fs.writeFileSync(`/etc/netns/${name}/resolv.conf`, `nameserver ${RESOLVER}\noptions ${opts.resolvOptions ?? 'timeout:2 attempts:1'}\n`);
      if (opts.link) await lab.addLink(opts.link);
      lab.writeHosts(opts.hosts);
      await lab.startServers();
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  private async addLink(link: NonNullable<DnsLabOptions['link']>): Promise<void> {
    const tag = `dh${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
    const host = `${tag}h`, lab = `${tag}l`;
    await run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', lab]);
    this.hostLink = host;
    await run('ip', ['link', 'set', lab, 'netns', this.name]);
    await run('ip', ['addr', 'add', `${link.prefix}.1/24`, 'dev', host]);
    await run('ip', ['link', 'set', host, 'up']);
    for (const a of [linkResolver(link.prefix), ...link.servers]) await run('ip', ['-n', this.name, 'addr', 'add', `${a}/24`, 'dev', lab]);
    await run('ip', ['-n', this.name, 'link', 'set', lab, 'up']);
    fs.writeFileSync(path.join(this.dir, 'host-resolv.conf'), `nameserver ${linkResolver(link.prefix)}\noptions timeout:2 attempts:1\n`);
  }

  /**
   * Runs a command to its end in the host's network namespace, resolving
   * through the lab over the link (its own mount namespace sees a resolv.conf
   * naming the lab; the host's is untouched). `pid` is the command's.
   */
  async hostExec(argv: string[], timeoutMs = 30_000): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
    if (!this.hostLink) throw new Error('DNS lab: hostExec needs the link option');
    const c = start('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', path.join(this.dir, 'host-resolv.conf'), ...argv]);
    const timer = setTimeout(() => void c.stop(), timeoutMs);
    const code = await c.exited;
    clearTimeout(timer);
    await new Promise((r) => setImmediate(r));
    return { pid: c.pid, code, stdout: c.lines.join('\n'), stderr: c.stderr.join('\n') };
  }

  /** Rewrites the zone's hosts file; call reload() to make dnsmasq read it. */
  writeHosts(hosts: Record<string, string[]>): void {
    const lines = Object.entries(hosts).flatMap(([n, addrs]) => addrs.map((a) => `${a} ${n}`));
    fs.writeFileSync(path.join(this.dir, 'hosts'), lines.join('\n') + '\n');
  }

  /** SIGHUP: dnsmasq re-reads its hosts file and clears its cache. */
  async reload(): Promise<void> {
    this.zone!.proc.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
  }

  private async startServers(): Promise<void> {
    const cfg = (file: string, text: string) => { fs.writeFileSync(path.join(this.dir, file), text); return path.join(this.dir, file); };
    const zone = cfg('zone.conf', [
      'no-resolv', 'no-hosts', 'bind-interfaces', 'user=root', `listen-address=${[RESOLVER, RESOLVER6, ...(this.opts.link ? [linkResolver(this.opts.link.prefix)] : [])].join(',')}`, 'port=53',
      `addn-hosts=${path.join(this.dir, 'hosts')}`, `local-ttl=${this.opts.ttl ?? 30}`, `cache-size=${this.opts.cacheSize ?? 0}`, 'no-negcache',
      `local=/${ZONE}/`, `server=/fail.test/${UNBOUND}`, `server=/refused.test/${REFUSER}#5353`, `server=/dead.test/${DEAD_UPSTREAM}`,
      ...Object.entries(this.opts.cnames ?? {}).map(([a, t]) => `cname=${a},${t}`),
      `log-facility=${path.join(this.dir, 'zone.log')}`,
      // each its own pid file: both default to /var/run/dnsmasq.pid, and the second then fails to start (a race)
      `pid-file=${path.join(this.dir, 'zone.pid')}`,
    ].join('\n') + '\n');
    const refuser = cfg('refuser.conf', [
      'no-resolv', 'no-hosts', 'bind-interfaces', 'user=root', `listen-address=${REFUSER}`, 'port=5353',
      `log-facility=${path.join(this.dir, 'refuser.log')}`,
      `pid-file=${path.join(this.dir, 'refuser.pid')}`,
    ].join('\n') + '\n');
    const unbound = cfg('unbound.conf', `server:
  interface: ${UNBOUND}@53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${this.dir}"
  pidfile: "${path.join(this.dir, 'unbound.pid')}"
  use-syslog: no
  logfile: "${path.join(this.dir, 'unbound.log')}"
  do-ip6: no
  do-not-query-localhost: no
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  outgoing-range: 32
  so-reuseport: no
  local-zone: "test." nodefault
forward-zone:
  name: "fail.test."
  forward-addr: ${REFUSER}@5353
`);
    this.zone = this.spawn('dnsmasq', ['--keep-in-foreground', `--conf-file=${zone}`]);
    this.children.push(this.zone, this.spawn('dnsmasq', ['--keep-in-foreground', `--conf-file=${refuser}`]));
    this.children.push(this.spawn('unbound', ['-c', unbound]));
    // Ready when each answers as configured.
    const first = Object.keys(this.opts.hosts)[0];
    await this.until(`${RESOLVER} ${first}`, `ok`);
    await this.until(`${REFUSER}:5353 x.refused.test`, 'EREFUSED');
    await this.until(`${UNBOUND} x.fail.test`, 'ESERVFAIL');
  }

  private async until(query: string, want: string): Promise<void> {
    const [server, name] = query.split(' ');
    const deadline = Date.now() + 15_000;
    let got = '';
    while (Date.now() < deadline) {
      got = (await this.exec([process.execPath, '-e', `const r = new (require('dns').Resolver)({ timeout: 500, tries: 1 });
r.setServers([${JSON.stringify(server)}]); r.resolve4(${JSON.stringify(name)}, (e) => console.log(e ? e.code : 'ok'));`])).stdout.trim();
      if (got === want) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The lab's directory goes with it: say here what its servers said (seen once in a full run: the refuser not answering).
    const servers = this.children.map((c) => `${c.proc.spawnargs.slice(4).join(' ')}: ${c.proc.exitCode === null && c.proc.signalCode === null ? 'running' : `exited ${c.proc.exitCode ?? c.proc.signalCode}`}${c.stderr.length ? `, stderr: ${c.stderr.slice(-5).join(' | ')}` : ''}`);
    const logs = fs.readdirSync(this.dir).filter((f) => f.endsWith('.log')).map((f) => `${f}: ${fs.readFileSync(path.join(this.dir, f), 'utf8').split('\n').slice(-6).join(' | ')}`);
    throw new Error(`DNS lab: ${server} did not answer ${name} with ${want} (got ${got}); servers: ${servers.join('; ')}; logs: ${logs.join('; ') || 'none'}`);
  }

  /** Starts a long-running process inside the namespace (stopped by the lab). */
  spawn(cmd: string, args: string[], env: Record<string, string> = {}): Child {
    const c = start('ip', ['netns', 'exec', this.name, cmd, ...args], { env: { ...process.env, ...env } });
    this.children.push(c);
    return c;
  }

  /** Runs a command inside the namespace to its end; `ip netns exec` execs it, so `pid` is the command's. */
  async exec(argv: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
    const c = start('ip', ['netns', 'exec', this.name, ...argv], { env: { ...process.env, ...env } });
    const timer = setTimeout(() => void c.stop(), timeoutMs);
    const code = await c.exited;
    clearTimeout(timer);
    await new Promise((r) => setImmediate(r)); // let the last lines arrive
    return { pid: c.pid, code, stdout: c.lines.join('\n'), stderr: c.stderr.join('\n') };
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
    this.children = [];
    if (this.hostLink) try { await run('ip', ['link', 'del', this.hostLink]); } catch { /* gone with the namespace */ }
    try { await run('ip', ['netns', 'del', this.name]); } catch { /* already gone */ }
    fs.rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A static musl binary that resolves each argument with getaddrinfo and prints "name address" lines. */
export async function buildMuslResolver(dir: string): Promise<string | null> {
  const src = path.join(dir, 'resolve.c'), bin = path.join(dir, 'resolve-musl');
  fs.writeFileSync(src, `#include <netdb.h>
#include <stdio.h>
#include <arpa/inet.h>
int main(int argc, char **argv) {
	int fails = 0;
	for (int i = 1; i < argc; i++) {
		struct addrinfo hints = {0}, *res, *p;
		hints.ai_socktype = SOCK_STREAM;
		int rc = getaddrinfo(argv[i], NULL, &hints, &res);
		if (rc) { printf("%s error %d\\n", argv[i], rc); fails++; continue; }
		for (p = res; p; p = p->ai_next) {
			char buf[64];
			void *a = p->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)p->ai_addr)->sin_addr : (void *)&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
			printf("%s %s\\n", argv[i], inet_ntop(p->ai_family, a, buf, sizeof buf));
		}
		freeaddrinfo(res);
	}
	return fails ? 2 : 0;
}
`);
  try {
    await run('musl-gcc', ['-static', '-O2', '-o', bin, src]);
    return bin;
  } catch {
    return null;
  }
}

/** A Node script for c-ares: resolve4 each argv name against argv[1] (one try), printing "name result". */
export const CARES_CLIENT = `
const dns = require('dns');
const [server, timeout, ...names] = process.argv.slice(1);
const r = new dns.Resolver({ timeout: Number(timeout), tries: 1 });
r.setServers([server]);
console.log('pid ' + process.pid);
let left = names.length;
for (const n of names) r.resolve4(n, (e, a) => { console.log(n + ' ' + (e ? e.code : a.join(','))); if (--left === 0) process.exit(0); });
`;

/**
 * A container image with DNS clients and a server, nothing else: glibc's
 * `getent`, dnsmasq (and the libraries they link) and, when musl-gcc is
 * installed, the static musl resolver as /resolve-musl. Made on this machine
 * with `docker import`.
 */
export async function ensureDnsClientImage(docker: (args: string[]) => Promise<string>, tag = 'dhrishti-dns-client:test'): Promise<{ tag: string; musl: boolean }> {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-dns-image-'));
  try {
    const musl = await buildMuslResolver(stage);
    try { await docker(['image', 'inspect', tag]); return { tag, musl: !!musl }; } catch { /* build it */ }
    const root = path.join(stage, 'root');
    const binaries = ['/usr/bin/getent', '/usr/sbin/dnsmasq'];
    const files = new Set([...binaries, ...(await Promise.all(binaries.map(librariesOf))).flat()]);
    for (const file of files) {
      const dest = path.join(root, file);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(file, dest);
      fs.chmodSync(dest, 0o755);
    }
    if (musl) fs.copyFileSync(musl, path.join(root, 'resolve-musl'));
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/nsswitch.conf'), 'hosts: files dns\npasswd: files\ngroup: files\n');
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/false\n');
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
    fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
    const tar = path.join(stage, 'root.tar');
    await run('tar', ['-C', root, '-cf', tar, '.']);
    await docker(['import', tar, tag]);
    return { tag, musl: !!musl };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * A C client for the syscalls no common resolver library uses: `mmsg` sends
 * one query per name in one sendmmsg on an unconnected socket and reads the
 * answers with recvmmsg; `iov` writes each query over two iovec entries
 * (header, rest) with writev on a connected socket and reads the answer into
 * two buffers with readv. `gaps` (three names a b c, unconnected) makes the
 * per-message tracepoints hard to count: one sendmmsg of [a, an empty message,
 * b], one of [c, a message with a bad iovec] that stops after c, then one of
 * [a, b, c] on the same (cleared) array; the answers are read with recvfrom.
 * Prints "id rcode" per answer. Null when no C compiler.
 */
export async function buildSyscallClient(dir: string): Promise<string | null> {
  const src = path.join(dir, 'dnsclient.c'), bin = path.join(dir, 'dnsclient');
  fs.writeFileSync(src, String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int query(unsigned char *q, int id, const char *name) {
	int n = 0;
	q[n++] = id >> 8; q[n++] = id & 0xff; q[n++] = 1; q[n++] = 0; q[n++] = 0; q[n++] = 1;
	memset(q + n, 0, 6); n += 6;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		int len = dot ? dot - p : (int)strlen(p);
		q[n++] = len; memcpy(q + n, p, len); n += len;
		p += len + (dot ? 1 : 0);
	}
	q[n++] = 0; q[n++] = 0; q[n++] = 1; q[n++] = 0; q[n++] = 1;
	return n;
}

int main(int argc, char **argv) {
	if (argc < 4) return 2;
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, argv[2], &srv.sin_addr);
	int names = argc - 3, fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned char q[8][300], a[8][600];
	if (names > 8) names = 8;
	if (!strcmp(argv[1], "mmsg")) {
		struct mmsghdr m[8]; struct iovec v[8]; struct sockaddr_in from[8];
		for (int i = 0; i < names; i++) {
			v[i].iov_base = q[i]; v[i].iov_len = query(q[i], 0x4000 + i, argv[3 + i]);
			memset(&m[i], 0, sizeof m[i]);
			m[i].msg_hdr.msg_name = &srv; m[i].msg_hdr.msg_namelen = sizeof srv;
			m[i].msg_hdr.msg_iov = &v[i]; m[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(fd, m, names, 0) != names) { perror("sendmmsg"); return 1; }
		int got = 0;
		while (got < names) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			if (poll(&pf, 1, 3000) <= 0) break;
			for (int i = 0; i < names; i++) {
				v[i].iov_base = a[i]; v[i].iov_len = sizeof a[i];
				memset(&m[i], 0, sizeof m[i]);
				m[i].msg_hdr.msg_name = &from[i]; m[i].msg_hdr.msg_namelen = sizeof from[i];
				m[i].msg_hdr.msg_iov = &v[i]; m[i].msg_hdr.msg_iovlen = 1;
			}
			int r = recvmmsg(fd, m, names - got, MSG_DONTWAIT, NULL);
			for (int i = 0; i < r; i++) printf("%d %d\n", (a[i][0] << 8) | a[i][1], a[i][3] & 15);
			if (r > 0) got += r;
		}
		return got == names ? 0 : 1;
	}
	if (!strcmp(argv[1], "gaps") && names == 3) {
		struct mmsghdr m[3]; struct iovec v[3];
		int ids[3][3] = { { 0x4100, -1, 0x4102 }, { 0x4200, -2, 0 }, { 0x4300, 0x4301, 0x4302 } };
		int pick[3][3] = { { 0, 0, 1 }, { 2, 0, 0 }, { 0, 1, 2 } }, count[3] = { 3, 2, 3 }, want[3] = { 3, 1, 3 };
		for (int call = 0; call < 3; call++) {
			memset(m, 0, sizeof m);
			for (int i = 0; i < count[call]; i++) {
				int id = ids[call][i];
				v[i].iov_base = q[i]; v[i].iov_len = id >= 0 ? query(q[i], id, argv[3 + pick[call][i]]) : 0;
				m[i].msg_hdr.msg_name = &srv; m[i].msg_hdr.msg_namelen = sizeof srv;
				m[i].msg_hdr.msg_iov = id == -2 ? (struct iovec *)8 : &v[i]; m[i].msg_hdr.msg_iovlen = 1;
			}
			int r = sendmmsg(fd, m, count[call], 0);
			if (r != want[call]) { fprintf(stderr, "sendmmsg %d sent %d\n", call, r); return 1; }
		}
		int got = 0;
		while (got < 6) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			if (poll(&pf, 1, 3000) <= 0) break;
			if (recv(fd, a[0], sizeof a[0], 0) < 12) return 1;
			printf("%d %d\n", (a[0][0] << 8) | a[0][1], a[0][3] & 15);
			got++;
		}
		return got == 6 ? 0 : 1;
	}
	if (connect(fd, (struct sockaddr *)&srv, sizeof srv)) { perror("connect"); return 1; }
	for (int i = 0; i < names; i++) {
		int n = query(q[i], 0x5000 + i, argv[3 + i]);
		struct iovec out[2] = { { q[i], 12 }, { q[i] + 12, n - 12 } };
		if (writev(fd, out, 2) != n) { perror("writev"); return 1; }
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 3000) <= 0) return 1;
		struct iovec in[2] = { { a[i], 12 }, { a[i] + 12, sizeof a[i] - 12 } };
		if (readv(fd, in, 2) < 12) return 1;
		printf("%d %d\n", (a[i][0] << 8) | a[i][1], a[i][3] & 15);
	}
	return 0;
}
`);
  try {
    await run('cc', ['-O2', '-o', bin, src]);
    return bin;
  } catch {
    return null;
  }
}
