import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyClose } from './classify.js';
import { ConnFlag, Side, TcpState } from './layout.js';

const { SYN_SENT, ESTABLISHED, FIN_WAIT2, LAST_ACK } = TcpState;
const EST = ConnFlag.ESTABLISHED;

test('never-established attempts always fail, with the kernel error as reason', () => {
  assert.equal(classifyClose(SYN_SENT, 111, 0, 0), 'refused');
  assert.equal(classifyClose(SYN_SENT, 110, 0, 1), 'timeout');
  assert.equal(classifyClose(SYN_SENT, 113, 0, 0), 'unreachable');
  assert.equal(classifyClose(SYN_SENT, 101, 0, 0), 'unreachable');
  assert.equal(classifyClose(SYN_SENT, 0, 0, 2), 'timeout', 'caller gave up after unanswered SYNs');
  assert.equal(classifyClose(SYN_SENT, 0, 0, 0), 'aborted', 'caller gave up at once');
  assert.equal(classifyClose(SYN_SENT, 0, ConnFlag.MIDFLIGHT | ConnFlag.SYN_RESENT, 0), 'timeout', 'first seen mid-handshake: its resends came before the agent');
  assert.equal(classifyClose(SYN_SENT, 0, ConnFlag.RST_RECV, 0), 'refused');
});

test('an attempt whose close the kernel skipped (its state read at free: CLOSE) still fails with its error', () => {
  assert.equal(classifyClose(TcpState.CLOSE, 113, 0, 1), 'unreachable');
  assert.equal(classifyClose(TcpState.CLOSE, 111, 0, 0), 'refused');
  assert.equal(classifyClose(TcpState.CLOSE, 0, 0, 2), 'timeout');
  assert.equal(classifyClose(TcpState.CLOSE, 113, ConnFlag.MIDFLIGHT, 0), null, 'a midflight entry was never seen attempting');
});

test('an established connection that closed normally is never a failure', () => {
  assert.equal(classifyClose(FIN_WAIT2, 0, EST, 0), null);
  assert.equal(classifyClose(LAST_ACK, 0, EST, 5), null, 'retransmits alone are not a failure');
});

test('an established connection ended by a reset or timeout fails', () => {
  assert.equal(classifyClose(ESTABLISHED, 104, EST | ConnFlag.RST_RECV, 0), 'reset');
  assert.equal(classifyClose(ESTABLISHED, 0, EST | ConnFlag.RST_SENT, 0), 'reset');
  assert.equal(classifyClose(ESTABLISHED, 110, EST, 9), 'timeout');
  assert.equal(classifyClose(ESTABLISHED, 32, EST, 0), 'reset');
});

test('a server reset after its client closed its end (CLOSE_WAIT, LAST_ACK) is the client leaving, not a failure; a client reset so is one', () => {
  const RST = EST | ConnFlag.RST_RECV;
  assert.equal(classifyClose(TcpState.CLOSE_WAIT, 32, RST, 0, Side.SERVER), null);
  assert.equal(classifyClose(TcpState.LAST_ACK, 104, RST, 0, Side.SERVER), null);
  assert.equal(classifyClose(TcpState.CLOSE_WAIT, 32, RST, 0, Side.CLIENT), 'reset', 'a client writing on a connection its server closed: the stale keep-alive race');
  assert.equal(classifyClose(TcpState.CLOSE_WAIT, 32, RST, 0), 'reset', 'side unknown');
  assert.equal(classifyClose(TcpState.ESTABLISHED, 104, RST, 0, Side.SERVER), 'reset');
});

test('a reset sent because the owner closed with data unread is not a failure of that end, unless the peer reset it too or it had an error', () => {
  const UNREAD = EST | ConnFlag.RST_SENT | ConnFlag.RST_UNREAD;
  assert.equal(classifyClose(TcpState.CLOSE, 0, UNREAD, 0), null);
  assert.equal(classifyClose(TcpState.CLOSE, 0, UNREAD | ConnFlag.RST_RECV, 0), 'reset');
  assert.equal(classifyClose(TcpState.CLOSE, 110, UNREAD, 3), 'timeout');
});

test('a client reset after its server\'s FIN with all its requests answered is not a failure (a TLS close_notify after the FIN); with one in flight, or no parser\'s word, it is', () => {
  const RST = EST | ConnFlag.RST_RECV, ANSWERED = RST | ConnFlag.L7_ANSWERED;
  assert.equal(classifyClose(TcpState.CLOSE_WAIT, 32, ANSWERED, 0, Side.CLIENT), null, 'EPIPE in CLOSE_WAIT');
  assert.equal(classifyClose(TcpState.LAST_ACK, 104, ANSWERED, 0, Side.CLIENT), null, 'ECONNRESET in LAST_ACK');
  assert.equal(classifyClose(TcpState.CLOSE_WAIT, 32, RST, 0, Side.CLIENT), 'reset', 'a request in flight, or no parser');
  assert.equal(classifyClose(TcpState.ESTABLISHED, 104, ANSWERED, 0, Side.CLIENT), 'reset', 'reset before any FIN: the server went away');
  assert.equal(classifyClose(TcpState.CLOSE_WAIT, 32, ANSWERED, 0), 'reset', 'side unknown');
});
