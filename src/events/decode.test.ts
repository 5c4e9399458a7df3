import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBatch, decodeConn, clockFrom, passEnd } from './decode.js';
import { ipv6 } from './address.js';
import { CONN, CONN_SIZE, EVENT, EVENT_SIZE, EventKind, TcpState } from './layout.js';
import { L7_COUNTS, L7Flag, L7Proto } from './l7-layout.js';

const clock = clockFrom(1e12, 1_700_000_000_000); // boot ns 1e12 == that unix ms

function record(buf: Buffer, off: number, f: { kind: number; family: number; saddr: number[]; daddr: number[]; err?: number; flags?: number; comm?: string }) {
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
  buf.write(f.comm ?? 'curl', c + CONN.comm, 'latin1');
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

/** Every number of a record, each above 2^31 where the field allows (read as words in place, or from a copy when unaligned). */
function wide(buf: Buffer, off: number, n: number) {
  const c = off + EVENT.conn;
  buf.writeBigUInt64LE(BigInt(1e12) + BigInt(n) * 1_000_000n, off + EVENT.ts_ns);
  buf.writeBigUInt64LE(7n * 2n ** 32n + BigInt(n), off + EVENT.cookie);
  buf[off + EVENT.kind] = EventKind.CLOSE;
  buf[off + EVENT.old_state] = n ? TcpState.ESTABLISHED : TcpState.SYN_SENT; // the record's last bytes differ too
  buf[off + EVENT.new_state] = n ? 7 : 6;
  buf.writeBigUInt64LE(n ? BigInt(1e12) - 2_500_000n : 0n, c + CONN.start_ns); // record 0: start not seen
  buf.writeBigUInt64LE(BigInt(1e12) + 3_000_000n, c + CONN.end_ns);
  buf.writeBigUInt64LE(3n * 2n ** 32n + 11n, c + CONN.bytes_sent);
  buf.writeBigUInt64LE(2n ** 33n + 12n + BigInt(n), c + CONN.bytes_received);
  buf.writeBigUInt64LE(5n * 2n ** 32n + 77n, c + CONN.cgroup_id);
  buf.writeUInt32LE(4026531833, c + CONN.netns);
  buf.writeUInt32LE(3_000_000_000, c + CONN.pid);
  buf.writeUInt32LE(2_500_000_000, c + CONN.retransmits);
  buf.writeUInt32LE(2_200_000_000, c + CONN.srtt_us);
  buf.writeUInt16LE(2, c + CONN.family);
  buf[c + CONN.flags] = 1;
  buf.writeInt32LE(n ? 110 : 104, c + CONN.close_err);
  buf[c + CONN.l7] = n; // the conns-map value's last bytes
}

test('numbers above 2^31 decode exactly, from a batch in place, from one that does not start on a word, and after the memory moved', () => {
  const check = (events: { oldState: number; newState: number; l7: boolean; error: string | null; time: number; cookie: number; startTime: number; bytesSent: number; bytesReceived: number; cgroupId: number; netns: number; pid: number; retransmits: number; srttUs: number }[], label: string) => {
    assert.equal(events.length, 2, label);
    events.forEach((e, n) => {
      assert.equal(e.time, 1_700_000_000_000 + 3, `${label}: closing time (end_ns)`);
      assert.equal(e.cookie, 7 * 2 ** 32 + n, label);
      assert.equal(e.startTime, n ? 1_700_000_000_000 - 2.5 : 0, `${label}: start (0: not seen)`);
      assert.equal(e.bytesSent, 3 * 2 ** 32 + 11, label);
      assert.equal(e.bytesReceived, 2 ** 33 + 12 + n, label);
      assert.equal(e.cgroupId, 5 * 2 ** 32 + 77, label);
      assert.equal(e.netns, 4026531833, label);
      assert.equal(e.pid, 3_000_000_000, label);
      assert.equal(e.retransmits, 2_500_000_000, label);
      assert.equal(e.srttUs, 2_200_000_000, label);
      assert.equal(e.error, n ? 'ETIMEDOUT' : 'ECONNRESET', label);
      assert.equal(e.oldState, n ? TcpState.ESTABLISHED : TcpState.SYN_SENT, label);
      assert.equal(e.newState, n ? 7 : 6, label);
      assert.equal(e.l7, n === 1, label);
    });
  };
  const buf = Buffer.alloc(EVENT_SIZE * 2);
  wide(buf, 0, 0);
  wide(buf, EVENT_SIZE, 1);
  check(decodeBatch(buf, 2, clock).events, 'aligned');
  const pool: ReturnType<typeof decodeBatch>['events'] = [];
  check(decodeBatch(buf, 2, clock, pool).events, 'aligned, pooled');
  for (const shift of [1, 2, 3, 5]) { // the same bytes at an offset that is not a word's
    const odd = Buffer.alloc(EVENT_SIZE * 2 + 8).subarray(shift, shift + EVENT_SIZE * 2);
    buf.copy(odd);
    check(decodeBatch(odd, 2, clock, pool).events, `${shift} bytes off a word, pooled`);
  }
  const moved = Buffer.alloc(EVENT_SIZE * 2 + 8).subarray(8); // other memory, starting 8 bytes in
  buf.copy(moved);
  moved.writeUInt32LE(4026531999, EVENT_SIZE + EVENT.conn + CONN.netns);
  const events = decodeBatch(moved, 2, clock, pool).events;
  assert.equal(events[1].netns, 4026531999, 'the view follows the memory it is given');
  assert.equal(events[0].netns, 4026531833);
  // two Buffers over one memory, at different offsets: each is read at its own
  const mem = Buffer.alloc(EVENT_SIZE * 3 + 16);
  const a = mem.subarray(0, EVENT_SIZE), b = mem.subarray(EVENT_SIZE + 8, 2 * EVENT_SIZE + 8);
  buf.copy(a, 0, 0, EVENT_SIZE); buf.copy(b, 0, 0, EVENT_SIZE);
  a.writeUInt32LE(111, EVENT.conn + CONN.netns); b.writeUInt32LE(222, EVENT.conn + CONN.netns);
  assert.deepEqual([decodeBatch(a, 1, clock, pool).events[0].netns, decodeBatch(b, 1, clock, pool).events[0].netns], [111, 222]);
  // a close whose end was not recorded keeps the record's own time
  a.writeBigUInt64LE(0n, EVENT.conn + CONN.end_ns);
  assert.equal(decodeBatch(a, 1, clock, pool).events[0].time, 1_700_000_000_000);
  // a conns-map value (an open socket's counters), aligned and not
  for (const shift of [0, 3]) {
    const v = Buffer.alloc(CONN_SIZE + 8).subarray(shift, shift + CONN_SIZE);
    buf.copy(v, 0, EVENT_SIZE + EVENT.conn, EVENT_SIZE + EVENT.conn + CONN_SIZE);
    const e = decodeConn(v, 0, 12345, clock, 1_700_000_000_500);
    assert.equal(e.type, 'traffic');
    assert.equal(e.cookie, 12345);
    assert.equal(e.time, 1_700_000_000_500);
    assert.equal(e.netns, 4026531833);
    assert.equal(e.bytesReceived, 2 ** 33 + 13);
    assert.equal(e.startTime, 1_700_000_000_000 - 2.5);
    assert.equal(e.l7, true);
  }
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

test('foldHandshakes leaves out the handshake of a server socket whose close is in the same batch, and only that', () => {
  // cookies 10..16 near 2^33 (read from both words). Servers: 10 and 12 close in the batch, 11 and 13 do not.
  // Clients keep theirs: 15 closes in the batch, and 16 connects again after a failed attempt (its cookie's close comes first).
  const kinds: [number, number, number][] = [[EventKind.ESTABLISHED, 10, 2], [EventKind.ESTABLISHED, 11, 2], [EventKind.ESTABLISHED, 15, 1], [EventKind.ESTABLISHED, 12, 2],
    [EventKind.CLOSE, 10, 2], [EventKind.CLOSE, 12, 2], [EventKind.CLOSE, 16, 1], [EventKind.ESTABLISHED, 16, 1], [EventKind.CLOSE, 15, 1], [EventKind.ESTABLISHED, 13, 2], [EventKind.LISTEN, 14, 2]];
  const buf = Buffer.alloc(EVENT_SIZE * kinds.length);
  const cookieOf = (n: number) => 2n * 2n ** 32n + BigInt(n);
  kinds.forEach(([kind, n, side], i) => {
    record(buf, i * EVENT_SIZE, { kind, family: 2, saddr: [127, 0, 0, 1], daddr: [127, 0, 0, 1] });
    buf.writeBigUInt64LE(cookieOf(n), i * EVENT_SIZE + EVENT.cookie);
    buf[i * EVENT_SIZE + EVENT.conn + CONN.side] = side;
  });
  const seen = (fold: boolean) => decodeBatch(buf, kinds.length, clock, undefined, undefined, fold).events.map((e) => `${e.type}:${e.cookie - 2 * 2 ** 32}`);
  assert.deepEqual(seen(true), ['established:11', 'established:15', 'close:10', 'close:12', 'close:16', 'established:16', 'close:15', 'established:13', 'listen:14']);
  assert.equal(seen(false).length, kinds.length, 'off by default: every record (trace prints them all)');
  // the next batch starts afresh: no close of 11 in it, so its handshake stays
  const one = Buffer.alloc(EVENT_SIZE);
  record(one, 0, { kind: EventKind.ESTABLISHED, family: 2, saddr: [127, 0, 0, 1], daddr: [127, 0, 0, 1] });
  one.writeBigUInt64LE(cookieOf(11), EVENT.cookie);
  one[EVENT.conn + CONN.side] = 2;
  assert.equal(decodeBatch(one, 1, clock, undefined, undefined, true).events.length, 1);
  // closes far apart (beyond the bitmap's span) are still found
  const far = Buffer.alloc(EVENT_SIZE * 4);
  const spread: [number, bigint][] = [[EventKind.ESTABLISHED, 1n], [EventKind.ESTABLISHED, 3n * 2n ** 40n], [EventKind.CLOSE, 1n], [EventKind.CLOSE, 3n * 2n ** 40n + 7n]];
  spread.forEach(([kind, c], i) => {
    record(far, i * EVENT_SIZE, { kind, family: 2, saddr: [127, 0, 0, 1], daddr: [127, 0, 0, 1] });
    far.writeBigUInt64LE(c, i * EVENT_SIZE + EVENT.cookie);
    far[i * EVENT_SIZE + EVENT.conn + CONN.side] = 2;
  });
  assert.deepEqual(decodeBatch(far, 4, clock, undefined, undefined, true).events.map((e) => e.type), ['established', 'close', 'close']);
});

test('passes over a batch end on record boundaries: a close with its counts is never split', () => {
  // Slots: established, close with counts (2 slots), close.
  const buf = Buffer.alloc(4 * EVENT_SIZE);
  record(buf, 0, { kind: EventKind.ESTABLISHED, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2] });
  record(buf, EVENT_SIZE, { kind: EventKind.CLOSE, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2] });
  buf[EVENT_SIZE + EVENT.l7_proto] = L7Proto.HTTP1;
  record(buf, 3 * EVENT_SIZE, { kind: EventKind.CLOSE, family: 2, saddr: [10, 0, 0, 3], daddr: [10, 0, 0, 4] });
  assert.equal(passEnd(buf, 0, 4, 1), 1);
  assert.equal(passEnd(buf, 1, 4, 1), 3, 'the two-slot record whole');
  assert.equal(passEnd(buf, 0, 4, 2), 3, 'one slot over rather than cut it');
  assert.equal(passEnd(buf, 3, 4, 512), 4);
  assert.equal(passEnd(buf, 0, 6, 512), 4, 'a count past the buffer stops at its end');
  assert.equal(passEnd(buf, 1, 2, 512), 2, 'a count that cuts a record: up to the count (decodeBatch calls the rest malformed)');
});

test('a close with its request counts takes two slots: the counts become its `requests`, the records around it decode as usual', () => {
  // Slots: an established, a close with counts (2 slots), a close without; the same in memory 4 bytes off a word (byte reads).
  const fill = (buf: Buffer) => {
    record(buf, 0, { kind: EventKind.ESTABLISHED, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2] });
    record(buf, EVENT_SIZE, { kind: EventKind.CLOSE, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2] });
    buf[EVENT_SIZE + EVENT.l7_proto] = L7Proto.REDIS;
    buf[EVENT_SIZE + EVENT.l7_side] = 2;
    buf[EVENT_SIZE + EVENT.l7_flags] = L7Flag.TLS | L7Flag.CLOSED;
    const t = 2 * EVENT_SIZE;
    buf.writeUInt32LE(7, t + L7_COUNTS.requests + 4 * 6);
    buf.writeUInt32LE(2, t + L7_COUNTS.requests + 4 * 7);
    buf.writeUInt32LE(9, t + L7_COUNTS.buckets + 4 * 23);
    buf.writeUInt32LE(3, t + L7_COUNTS.latency_sum_ns + 4); // 3 * 2^32 ns
    buf.writeUInt32LE(0xfffffff0, t + L7_COUNTS.latency_max_us); // above 2^31: read unsigned
    // unpaired shares its bytes with a slot's kind and l7_proto: this count looks like a close with counts, and must not be read as one.
    assert.deepEqual([EVENT.kind, EVENT.l7_proto], [L7_COUNTS.unpaired, L7_COUNTS.unpaired + 3]);
    buf.writeUInt32LE(EventKind.CLOSE + 2 ** 24, t + L7_COUNTS.unpaired);
    record(buf, 3 * EVENT_SIZE, { kind: EventKind.CLOSE, family: 2, saddr: [10, 0, 0, 3], daddr: [10, 0, 0, 4] });
    return buf;
  };
  const aligned = fill(Buffer.alloc(4 * EVENT_SIZE));
  const odd = fill(Buffer.alloc(4 * EVENT_SIZE + 4).subarray(4));
  for (const [buf, label] of [[aligned, 'aligned'], [odd, 'off a word']] as const) {
    for (const pool of [undefined, []]) {
      const { events, malformed } = decodeBatch(buf, 4, clock, pool, undefined, true);
      assert.equal(malformed, 0, label);
      assert.deepEqual(events.map((e) => [e.type, e.saddr, !!e.requests]), [['established', '10.0.0.1', false], ['close', '10.0.0.1', true], ['close', '10.0.0.3', false]], label);
      const d = events[1].requests!;
      assert.deepEqual({ ...d, requests: [...d.requests], buckets: [...d.buckets.slice(22)] }, {
        cookie: 42, pid: 1234, protocol: 'redis', role: 'server', roleInferred: false, tls: true, closed: true,
        requests: [0, 0, 0, 0, 0, 0, 7, 2], buckets: [0, 9], latencySumNs: 3 * 2 ** 32, latencyMaxUs: 0xfffffff0, unpaired: EventKind.CLOSE + 2 ** 24,
        nonzero: (1 << 6) | (1 << 7) | (1 << 31), // the last bucket's bit is the sign bit
      }, label);
    }
  }
  // A close with counts cut off before its second slot is malformed, not read past the batch.
  const cut = decodeBatch(aligned, 2, clock);
  assert.deepEqual([cut.events.map((e) => e.type), cut.malformed], [['established'], 1]);
});

test('a command name the process chose is printable text: control bytes (a terminal escape, a newline) and non-ASCII read as ?', () => {
  const buf = Buffer.alloc(EVENT_SIZE * 2);
  record(buf, 0, { kind: EventKind.ESTABLISHED, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2], comm: 'rv\x1b[7mX\nY' });
  record(buf, EVENT_SIZE, { kind: EventKind.ESTABLISHED, family: 2, saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2], comm: 'caf\xe9|ok' });
  const { events } = decodeBatch(buf, 2, clock);
  assert.deepEqual(events.map((e) => e.comm), ['rv?[7mX?Y', 'caf?|ok']);
});
