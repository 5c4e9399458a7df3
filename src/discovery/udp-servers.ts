// Which process serves UDP on an address and port of this host: a DNS resolver
// like systemd-resolved on 127.0.0.53 or dnsmasq on 127.0.0.1, which the probes
// never see listen (they follow TCP). The sockets of /proc/net/udp{,6} bound to
// that address (or to every address) on that port, then the processes holding
// one of them. Looked up off the event path, once per address and port a while.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcNetTcp } from './procnet.js';
import { socketHolders } from './scan.js';
import { isLoopback } from '../identity/addresses.js';

/** Nothing bound there: asked again soon (a resolver starting after its first client), a look costs two small reads. */
const NOTHING_TTL_MS = 5000;

interface Answer { pid: number | null; at: number; ttl: number; kept?: boolean }

export class UdpServers {
  private readonly answers = new Map<string, Answer>();
  private readonly asking = new Set<string>();
  /** The agent's network namespace (the host's), whose sockets /proc/self/net lists; 0 if unknown. */
  private readonly netns: number;

  constructor(private readonly ttlMs: number, private readonly procRoot = '/proc') {
    let link = '';
    try { link = fs.readlinkSync(path.join(procRoot, 'self/ns/net')); } catch { /* unknown: not checked */ }
    this.netns = Number(/\[(\d+)\]/.exec(link)?.[1] ?? 0);
  }

  /**
   * The pid serving UDP on ip:port in the agent's network namespace (the host's): a pid, null if none does,
   * undefined until the first look-up ends (it starts now). A stale answer is given while it is looked up again,
   * and a server found before is kept through one look that finds none (a restart).
   * A loopback address asked from another namespace (`clientNetns`: a container's own 127.0.0.1) is not the host's: null.
   */
  pidOf(ip: string, port: number, clientNetns = 0, now = Date.now()): number | null | undefined {
    if (isLoopback(ip) && clientNetns && this.netns && clientNetns !== this.netns) return null;
    const key = `${ip}|${port}`;
    const a = this.answers.get(key);
    if ((!a || now - a.at >= a.ttl) && !this.asking.has(key)) {
      this.asking.add(key);
      this.lookUp(ip, port)
        .catch(() => ({ pid: null, ttl: NOTHING_TTL_MS }))
        .then((r) => {
          const kept = r.pid === null && a?.pid && !a.kept; // one miss of a server seen before: a restart
          this.answers.set(key, kept ? { pid: a.pid, at: Date.now(), ttl: NOTHING_TTL_MS, kept: true } : { ...r, at: Date.now() });
          this.asking.delete(key);
        });
    }
    return a?.pid;
  }

  /** Resolves once every look-up asked so far has ended (for tests). */
  async settled(): Promise<void> {
    while (this.asking.size) await new Promise((r) => setTimeout(r, 10));
  }

  private async lookUp(ip: string, port: number): Promise<{ pid: number | null; ttl: number }> {
    // A socket bound to the address itself answers first; then one bound to all of its family's addresses; for an
    // IPv4 address, last, an IPv6 one bound to all (dual-stack unless IPV6_V6ONLY, which /proc does not say).
    const v6 = ip.includes(':');
    const exact = new Set<number>(), family = new Set<number>(), dual = new Set<number>();
    for (const [file, fam] of [['udp', 4], ['udp6', 6]] as const) {
      let data: Buffer;
      try { data = await fs.promises.readFile(path.join(this.procRoot, 'self/net', file)); } catch { continue; }
      for (const s of parseProcNetTcp(data, fam)) {
        if (s.sport !== port || !s.inode) continue;
        if (s.saddr === ip) exact.add(s.inode);
        else if (s.saddr === (v6 ? '::' : '0.0.0.0')) family.add(s.inode);
        else if (!v6 && s.saddr === '::') dual.add(s.inode);
      }
    }
    const inodes = exact.size ? exact : family.size ? family : dual;
    if (!inodes.size) return { pid: null, ttl: NOTHING_TTL_MS };
    const holders = await socketHolders(inodes, this.procRoot);
    return { pid: server(holders), ttl: this.ttlMs }; // found or not, a walk of every fd: not again before ttlMs
  }
}

/**
 * The server among a socket's holders: not pid 1 when another holds it too (systemd keeps the sockets it activates
 * services with), and the lowest pid (a server's forked workers inherit its socket); null if none is seen.
 */
function server(holders: number[]): number | null {
  const real = holders.filter((p) => p !== 1);
  const from = real.length ? real : holders;
  return from.length ? Math.min(...from) : null;
}
