import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBatch, clockFrom } from './decode.js';
import { ipv6 } from './address.js';
import { CONN, EVENT, EVENT_SIZE, EventKind, TcpState } from './layout.js';

const clock = clockFrom(1e12, 1_700_000_000_000); // boot ns 1e12 == that unix ms

function record(buf: Buffer, off: number, f: { kind: number; family: number; saddr: number[]; daddr: number[]; err?: number; flags?: number }) {
  const c = off + EVENT.conn;
  buf.writeUInt32LE(1e12 % 2 ** 32, off + EVENT.ts_ns);
  buf.writeUInt32LE(Math.floor(1e12 / 2 ** 32), off + EVENT.ts_ns + 4);
  buf.writeUInt32LE(42, off + EVENT.cookie);
  buf[off + EVENT.kind] = f.kind;
  buf[off + EVENT.old_state] = TcpState.SYN_SENT;
  buf.writeUInt16LE(f.family, c + CONN.family);
  Buffer.from(f.saddr).copy(buf, c + CONN.saddr);
  Buffer.from(f.daddr).copy(buf, c + CONN.daddr);
  buf.writeUInt16LE(40000, c + CONN.sport);
  buf.writeUInt16LE(80, c + CONN.dport);
  buf.writeUInt32LE(1234, c + CONN.pid);
  buf.writeUInt32LE(5, c + CONN.bytes_sent + 4); // 5 * 2^32: u64 above 32 bits
  buf[c + CONN.side] = 1;
  buf[c + CONN.flags] = f.flags ?? 0;
  buf.write('curl', c + CONN.comm, 'latin1');
  buf.writeInt32LE(f.err ?? 0, c + CONN.close_err);
}

test('decodes IPv4, IPv6 and IPv4-mapped records', () => {
  const buf = Buffer.alloc(EVENT_SIZE * 3);
  record(buf, 0, { kind: EventKind.ESTABLISHED, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2] });
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  record(buf, EVENT_SIZE, { kind: EventKind.CONNECT, family: 10, saddr: v6, daddr: [...Array(15).fill(0), 1] });
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
  record(buf, 2 * EVENT_SIZE, { kind: EventKind.CLOSE, family: 10, saddr: mapped, daddr: mapped, err: 111 });
  const { events, malformed } = decodeBatch(buf, 3, clock);
  assert.equal(malformed, 0);
  assert.equal(events[0].type, 'established');
  assert.equal(events[0].saddr, '10.0.0.1');
  assert.equal(events[0].daddr, '10.0.0.2');
  assert.equal(events[0].family, 4);
  assert.equal(events[0].comm, 'curl');
  assert.equal(events[0].pid, 1234);
  assert.equal(events[0].role, 'client');
  assert.equal(events[0].bytesSent, 5 * 2 ** 32);
  assert.equal(events[0].time, 1_700_000_000_000);
  assert.equal(events[1].saddr, '2001:db8::1');
  assert.equal(events[1].daddr, '::1');
  assert.equal(events[1].family, 6);
  assert.equal(events[2].family, 4);
  assert.equal(events[2].saddr, '127.0.0.1');
  assert.equal(events[2].failure, 'refused');
  assert.equal(events[2].error, 'ECONNREFUSED');
});

test('unknown kinds and short buffers are counted as malformed, not thrown', () => {
  const buf = Buffer.alloc(EVENT_SIZE * 2);
  buf[EVENT.kind] = 99;
  const r = decodeBatch(buf.subarray(0, EVENT_SIZE + 10), 2, clock);
  assert.equal(r.events.length, 0);
  assert.equal(r.malformed, 2);
});

test('IPv6 text form follows RFC 5952', () => {
  const b = (s: number[]) => Buffer.from(s);
  assert.equal(ipv6(b([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0), '::');
  assert.equal(ipv6(b([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), 0), 'fe80::1:0:0:1');
  assert.equal(ipv6(b([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), 0), '2001:db8:0:1::1');
});
