// A synthetic ring buffer batch: `count` struct dh_event records laid out by
// src/events/layout.ts, with the mix a busy host produces (mostly IPv4, some
// IPv6 and IPv4-mapped, closes carrying sk_err and reset flags).
import { prng as rng } from './synthetic-graph.js';
import { CONN, EVENT, EVENT_SIZE, EventKind, Side, ConnFlag, TcpState } from '../../src/events/layout.js';

const AF_INET = 2;
const AF_INET6 = 10;
const COMMS = ['node', 'nginx', 'postgres', 'redis-server', 'curl', 'wrk', 'python3', 'java-worker-pool'];
const DPORTS = [80, 443, 5432, 6379, 8080, 3306, 9090];
const ERRS = [111, 104, 110, 113, 32]; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, EPIPE

function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v % 4294967296, off);
  buf.writeUInt32LE(Math.floor(v / 4294967296), off + 4);
}

export interface SyntheticMix { ipv4: number; ipv6: number; mapped: number; closes: number; closeErrors: number }

export function syntheticBatch(count: number, seed = 1): { buf: Buffer; mix: SyntheticMix } {
  const buf = Buffer.alloc(count * EVENT_SIZE);
  const r = rng(seed);
  const mix: SyntheticMix = { ipv4: 0, ipv6: 0, mapped: 0, closes: 0, closeErrors: 0 };
  const bootNs = 3_600e9; // an hour after boot
  for (let i = 0; i < count; i++) {
    const off = i * EVENT_SIZE;
    const c = off + EVENT.conn;
    const roll = r();
    // Roughly what one connection yields: connect, established (both ends), close (both ends); a few listeners.
    const kind = roll < 0.2 ? EventKind.CONNECT : roll < 0.58 ? EventKind.ESTABLISHED : roll < 0.99 ? EventKind.CLOSE : EventKind.LISTEN;
    const ts = bootNs + i * 50_000 + Math.floor(r() * 1000);
    writeU64(buf, off + EVENT.ts_ns, ts);
    writeU64(buf, off + EVENT.cookie, 4096 + i * 2 + Math.floor(r() * 2));
    buf[off + EVENT.kind] = kind;

    const fam = r();
    if (fam < 0.8) {
      mix.ipv4++;
      buf.writeUInt16LE(AF_INET, c + CONN.family);
      buf.set([10, 0, Math.floor(r() * 256), 1 + Math.floor(r() * 254)], c + CONN.saddr);
      buf.set(r() < 0.5 ? [127, 0, 0, 1] : [10, 1, Math.floor(r() * 256), 1 + Math.floor(r() * 254)], c + CONN.daddr);
    } else if (fam < 0.9) {
      mix.mapped++; // IPv4 peer on a dual-stack socket: ::ffff:a.b.c.d
      buf.writeUInt16LE(AF_INET6, c + CONN.family);
      for (const a of [CONN.saddr, CONN.daddr]) {
        buf[c + a + 10] = 0xff; buf[c + a + 11] = 0xff;
        buf.set([172, 17, 0, 2 + Math.floor(r() * 200)], c + a + 12);
      }
    } else {
      mix.ipv6++;
      buf.writeUInt16LE(AF_INET6, c + CONN.family);
      for (const a of [CONN.saddr, CONN.daddr]) {
        buf.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0], c + a); // 2001:db8::/64, interface ids vary
        for (let k = 8; k < 16; k++) buf[c + a + k] = r() < 0.5 ? 0 : Math.floor(r() * 256);
      }
    }

    const client = r() < 0.5;
    buf.writeUInt16LE(client ? 32768 + Math.floor(r() * 28000) : DPORTS[i % DPORTS.length], c + CONN.sport);
    buf.writeUInt16LE(client ? DPORTS[i % DPORTS.length] : 32768 + Math.floor(r() * 28000), c + CONN.dport);
    buf[c + CONN.side] = client ? Side.CLIENT : Side.SERVER;
    writeU64(buf, c + CONN.start_ns, r() < 0.03 ? 0 : ts - Math.floor(r() * 5e9));
    writeU64(buf, c + CONN.cgroup_id, 1000 + Math.floor(r() * 50));
    buf.writeUInt32LE(1000 + Math.floor(r() * 60000), c + CONN.pid);
    buf.writeUInt32LE(4026531840 + Math.floor(r() * 8), c + CONN.netns);
    buf.write(COMMS[Math.floor(r() * COMMS.length)].slice(0, 15), c + CONN.comm, 'latin1');
    buf.writeUInt32LE(20 + Math.floor(r() * 20000), c + CONN.srtt_us);

    let flags = kind === EventKind.CONNECT ? 0 : ConnFlag.ESTABLISHED;
    if (kind === EventKind.CLOSE) {
      mix.closes++;
      writeU64(buf, c + CONN.bytes_sent, Math.floor(r() * 2 ** 36));
      writeU64(buf, c + CONN.bytes_received, Math.floor(r() * 2 ** 24));
      const failed = r() < 0.08;
      if (failed) {
        mix.closeErrors++;
        const err = ERRS[Math.floor(r() * ERRS.length)];
        buf.writeInt32LE(err, c + CONN.close_err);
        if (err === 111) flags = ConnFlag.RST_RECV; // refused: never established
        else flags |= r() < 0.5 ? ConnFlag.RST_RECV : ConnFlag.RST_SENT;
        buf.writeUInt32LE(Math.floor(r() * 6), c + CONN.retransmits);
      }
      // Reported at socket destroy: the state it left for TCP_CLOSE, and when.
      const closeState = flags & ConnFlag.ESTABLISHED ? (client ? TcpState.FIN_WAIT2 : TcpState.LAST_ACK) : TcpState.SYN_SENT;
      buf[c + CONN.close_state] = closeState;
      writeU64(buf, c + CONN.end_ns, ts - Math.floor(r() * 1e6));
      buf[off + EVENT.old_state] = closeState;
      buf[off + EVENT.new_state] = TcpState.CLOSE;
    } else if (kind === EventKind.CONNECT) {
      buf[off + EVENT.old_state] = TcpState.CLOSE;
      buf[off + EVENT.new_state] = TcpState.SYN_SENT;
    } else if (kind === EventKind.ESTABLISHED) {
      buf[off + EVENT.old_state] = client ? TcpState.SYN_SENT : TcpState.SYN_RECV;
      buf[off + EVENT.new_state] = TcpState.ESTABLISHED;
    } else {
      buf[off + EVENT.old_state] = TcpState.CLOSE;
      buf[off + EVENT.new_state] = TcpState.LISTEN;
      buf[c + CONN.side] = Side.SERVER;
      flags = 0;
    }
    if (r() < 0.01) flags |= ConnFlag.MIDFLIGHT;
    buf[c + CONN.flags] = flags;
  }
  return { buf, mix };
}
