// Which process serves UDP on an address and port of this host: a DNS resolver
// like systemd-resolved on 127.0.0.53 or dnsmasq on 127.0.0.1, which the probes
// never see listen (they follow TCP). The sockets of /proc/net/udp{,6} bound to
// that address (or to every address) on that port, then the process holding
// one of them. Looked up off the event path, once per address and port a while.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcNetTcp } from './procnet.js';
import { socketOwners } from './scan.js';

const ANY = new Set(['0.0.0.0', '::']);
const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

export class UdpServers {
  private readonly answers = new Map<string, { pid: number | null; at: number }>();
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
   * undefined until the first look-up ends (it starts now). A stale answer is given while it is looked up again.
   * A loopback address asked from another namespace (`clientNetns`: a container's own 127.0.0.1) is not the host's: null.
   */
  pidOf(ip: string, port: number, clientNetns = 0, now = Date.now()): number | null | undefined {
    if (isLoopback(ip) && clientNetns && this.netns && clientNetns !== this.netns) return null;
    const key = `${ip}|${port}`;
    const a = this.answers.get(key);
    if ((!a || now - a.at >= this.ttlMs) && !this.asking.has(key)) {
      this.asking.add(key);
      this.lookUp(ip, port)
        .catch(() => null)
        .then((pid) => { this.answers.set(key, { pid, at: Date.now() }); this.asking.delete(key); });
    }
    return a?.pid;
  }

  /** Resolves once every look-up asked so far has ended (for tests). */
  async settled(): Promise<void> {
    while (this.asking.size) await new Promise((r) => setTimeout(r, 10));
  }

  private async lookUp(ip: string, port: number): Promise<number | null> {
    const exact = new Set<number>(), any = new Set<number>();
    for (const [file, family] of [['udp', 4], ['udp6', 6]] as const) {
      let data: Buffer;
      try { data = await fs.promises.readFile(path.join(this.procRoot, 'self/net', file)); } catch { continue; }
      for (const s of parseProcNetTcp(data, family)) {
        if (s.sport !== port || !s.inode) continue;
        if (s.saddr === ip) exact.add(s.inode);
        else if (ANY.has(s.saddr)) any.add(s.inode);
      }
    }
    const inodes = exact.size ? exact : any; // a socket bound to the address itself answers before one bound to all
    if (!inodes.size) return null;
    const owners = await socketOwners(inodes, this.procRoot);
    return owners.values().next().value ?? null;
  }
}
