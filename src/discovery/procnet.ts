// Parsers for /proc/<pid>/net/tcp{,6}: pure functions, unit-tested beside.
import { TcpState } from '../events/layout.js';

export interface ProcSocket {
  family: 4 | 6;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  state: number;
  inode: number;
}

/** "0100007F" (IPv4, host byte order on little-endian) -> "127.0.0.1". */
function hexV4(h: string): string {
  const n = parseInt(h, 16) >>> 0;
  return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}`;
}

/** 32 hex chars, four little-endian 32-bit words -> 16 bytes. */
function hexV6Bytes(h: string): Buffer {
  const b = Buffer.alloc(16);
  for (let w = 0; w < 4; w++) b.writeUInt32LE(parseInt(h.slice(w * 8, w * 8 + 8), 16) >>> 0, w * 4);
  return b;
}

export function parseProcNetTcp(text: string, family: 4 | 6, formatV6: (b: Buffer) => [string, 4 | 6]): ProcSocket[] {
  const out: ProcSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 10) continue;
    const [la, lp] = f[1].split(':');
    const [ra, rp] = f[2].split(':');
    const state = parseInt(f[3], 16);
    const inode = Number(f[9]);
    if (!la || !ra || Number.isNaN(state)) continue;
    let saddr: string, daddr: string, fam: 4 | 6 = family;
    if (family === 4) {
      saddr = hexV4(la);
      daddr = hexV4(ra);
    } else {
      const s = formatV6(hexV6Bytes(la));
      const d = formatV6(hexV6Bytes(ra));
      saddr = s[0];
      daddr = d[0];
      fam = s[1];
    }
    out.push({ family: fam, saddr, sport: parseInt(lp, 16), daddr, dport: parseInt(rp, 16), state, inode });
  }
  return out;
}

export const isEstablished = (s: ProcSocket) => s.state === TcpState.ESTABLISHED;
export const isListening = (s: ProcSocket) => s.state === TcpState.LISTEN;
