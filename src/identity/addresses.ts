// IP address text forms and this host's own addresses.
import net from 'node:net';
import os from 'node:os';
import { DEFAULTS } from '../config/defaults.js';
import { v4FromMappedText } from '../events/address.js';


/**
 * One text form per address, the one the event decoder emits: IPv4 dotted,
 * IPv6 in RFC 5952 form (lower case, longest zero run compressed), IPv4-mapped
 * IPv6 as IPv4, zone id dropped. Null if the text is not an IP address.
 */
export function canonicalIp(ip: string): string | null {
  const hit = canonCache.get(ip);
  if (hit !== undefined) return hit;
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  const kind = net.isIP(bare);
  let out: string | null = null;
  if (kind === 4) out = bare;
  else if (kind === 6) {
    const text = new net.SocketAddress({ address: bare, family: 'ipv6' }).address;
    out = v4FromMappedText(text) ?? text;
  }
  if (canonCache.size >= CANON_CACHE_MAX) canonCache.clear();
  canonCache.set(ip, out);
  return out;
}

/** Parsing costs microseconds and the same addresses come back all the time: remember recent answers. */
const canonCache = new Map<string, string | null>();
const CANON_CACHE_MAX = 4096;

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '';
}

export interface HostAddressOptions {
  refreshMs?: number;
  /** Source of interface addresses (os.networkInterfaces by default). */
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

/** This host's own addresses, re-read at most every refreshMs when asked about an unknown one. */
export class HostAddresses {
  private addrs = new Set<string>();
  private extra = new Set<string>();
  private readAt = -Infinity;
  private readonly refreshMs: number;
  private readonly interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  refreshes = 0;
  /** Bumped whenever the set of addresses changes. */
  changes = 0;

  constructor(opts: HostAddressOptions = {}) {
    this.refreshMs = opts.refreshMs ?? DEFAULTS.hostAddressRefreshMs;
    this.interfaces = opts.interfaces ?? os.networkInterfaces;
    this.refresh();
  }

  /** Is ip (canonical form) one of this host's addresses? Loopback always is. */
  has(ip: string): boolean {
    if (isLoopback(ip) || this.addrs.has(ip) || this.extra.has(ip)) return true;
    if (performance.now() - this.readAt < this.refreshMs) return false;
    this.refresh();
    return this.addrs.has(ip);
  }

  /** Addresses known to be local without being on an interface we can see (Docker bridge gateways). */
  setExtra(ips: Iterable<string>): void {
    const next = new Set([...ips].map(canonicalIp).filter((x): x is string => x !== null));
    if (!sameSet(next, this.extra)) this.changes++;
    this.extra = next;
  }

  refresh(): void {
    this.readAt = performance.now();
    this.refreshes++;
    const next = new Set<string>();
    for (const list of Object.values(this.interfaces())) {
      for (const a of list ?? []) {
        const c = canonicalIp(a.address);
        if (c) next.add(c);
      }
    }
    if (!sameSet(next, this.addrs)) this.changes++;
    this.addrs = next;
  }

  list(): string[] {
    return [...new Set([...this.addrs, ...this.extra])];
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
