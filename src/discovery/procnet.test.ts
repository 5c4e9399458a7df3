import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcNetTcp } from './procnet.js';

const V4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 5678 1 0000000000000000 20 4 30 10 -1
garbage line
`;
const V6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0
`;

test('parses /proc/net/tcp lines, skipping garbage', () => {
  const s = parseProcNetTcp(V4, 4);
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], { family: 4, saddr: '127.0.0.1', sport: 8080, daddr: '0.0.0.0', dport: 0, state: 10, inode: 1234 });
  assert.deepEqual(s[1], { family: 4, saddr: '127.0.0.1', sport: 50000, daddr: '127.0.0.1', dport: 8080, state: 1, inode: 5678 });
});

test('parses /proc/net/tcp6, including IPv4-mapped addresses', () => {
  const s = parseProcNetTcp(V6, 6);
  assert.equal(s[0].saddr, '::1');
  assert.equal(s[0].family, 6);
  assert.equal(s[1].saddr, '127.0.0.1');
  assert.equal(s[1].family, 4);
  assert.equal(s[1].dport, 54321);
});

test('keeps only the states asked for, from bytes as read from /proc', () => {
  const s = parseProcNetTcp(Buffer.from(V4), 4, (st) => st === 1);
  assert.deepEqual(s.map((x) => x.inode), [5678]);
});
