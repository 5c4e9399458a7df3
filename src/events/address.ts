// IP addresses as the kernel hands them over (16 raw bytes) and as text: the one
// place that knows the IPv4-mapped IPv6 rule (::ffff:a.b.c.d), which dual-stack
// sockets use for IPv4 peers and which Dhrishti always reports as plain IPv4.

const AF_INET = 2;

/** True when the 16 bytes at `off` are an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function isV4Mapped(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

const MAPPED_TEXT = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** The IPv4 address inside an IPv4-mapped IPv6 text form ('::ffff:10.0.0.1' -> '10.0.0.1'), else null. */
export function v4FromMappedText(ip: string): string | null {
  return MAPPED_TEXT.exec(ip)?.[1] ?? null;
}

/** Dotted text of the IPv4 address at `off`. Loopback and other recent addresses come from a small cache (no new string). */
export function ipv4(b: Uint8Array, off: number): string {
  const key = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  const slot = (key ^ (key >>> 12)) & (V4_CACHE - 1);
  if (v4Keys[slot] === key && v4Text[slot] !== undefined) return v4Text[slot]!;
  const s = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  v4Keys[slot] = key;
  v4Text[slot] = s;
  return s;
}

// A direct-mapped cache: the same few addresses (loopback, a bridge's) appear in almost every record.
const V4_CACHE = 1024;
const v4Keys = new Uint32Array(V4_CACHE);
const v4Text: (string | undefined)[] = new Array(V4_CACHE).fill(undefined);

/** RFC 5952 text form of the 16-byte IPv6 address at `o`, built in one pass without arrays. */
export function ipv6(b: Uint8Array, o: number): string {
  let bestStart = -1, bestLen = 1, runStart = -1;
  for (let i = 0; i <= 8; i++) {
    const zero = i < 8 && b[o + 2 * i] === 0 && b[o + 2 * i + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart > bestLen) { bestStart = runStart; bestLen = i - runStart; }
      runStart = -1;
    }
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) { s += '::'; i += bestLen - 1; continue; }
    if (s.length && !s.endsWith(':')) s += ':';
    s += ((b[o + 2 * i] << 8) | b[o + 2 * i + 1]).toString(16);
  }
  return s;
}

/** Text of a 16-byte address field of socket family `af` (AF_INET keeps IPv4 in the first 4 bytes); IPv4-mapped becomes IPv4. */
export function addrText(b: Uint8Array, off: number, af: number): string {
  if (af === AF_INET) return ipv4(b, off);
  if (isV4Mapped(b, off)) return ipv4(b, off + 12);
  return ipv6(b, off);
}

/** Text and family of a 16-byte IPv6 field (as /proc/net/tcp6 gives it): IPv4-mapped reports as IPv4. */
export function v6Text(b: Uint8Array, off = 0): [string, 4 | 6] {
  return isV4Mapped(b, off) ? [ipv4(b, off + 12), 4] : [ipv6(b, off), 6];
}

/** An endpoint as text: `10.0.0.1:80`, and an IPv6 address in brackets (`[::1]:80`, RFC 3986) so its port stays readable. */
export function hostPort(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
