// Turns the raw facts the kernel reports at close into a failure reason.
import { ConnFlag, Side, TcpState } from './layout.js';
import type { FailureReason } from './types.js';

export const ERRNO: Record<number, string> = {
  1: 'EPERM', 13: 'EACCES', 32: 'EPIPE', 101: 'ENETUNREACH', 103: 'ECONNABORTED',
  104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH',
};

export function errnoName(err: number): string | null {
  if (!err) return null;
  const e = Math.abs(err);
  return ERRNO[e] ?? `errno ${e}`;
}

/**
 * An entry the kernel made at connect() or at a SYN (not midflight) is an attempt whatever the state it
 * closed from says: when its TCP_CLOSE run was skipped (tcp/destroy.c), the state is read at free, TCP_CLOSE.
 */
function wasAttempt(oldState: number, flags: number): boolean {
  if (oldState === TcpState.SYN_SENT || oldState === TcpState.SYN_RECV) return true;
  return oldState === TcpState.CLOSE && !(flags & ConnFlag.MIDFLIGHT);
}

/**
 * A connection that never completed its handshake always failed; one that did
 * fails only if it ended by a reset or a timeout. A normal FIN close is never
 * a failure, nor is the reset an owner's close sends when it leaves data unread
 * (the peer's end of it is judged in graph/connections.ts).
 */
export function classifyClose(oldState: number, skErr: number, flags: number, retransmits: number, side: number = Side.UNKNOWN): FailureReason | null {
  const err = errnoName(skErr);
  if (!(flags & ConnFlag.ESTABLISHED)) {
    if (!wasAttempt(oldState, flags)) return null; // never a connection attempt we saw
    switch (err) {
      case 'ECONNREFUSED': return 'refused';
      case 'ETIMEDOUT': return 'timeout';
      case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EACCES': case 'EPERM': return 'unreachable';
      case 'ECONNRESET': case 'EPIPE': return 'reset';
      case null:
        if (flags & ConnFlag.RST_RECV) return 'refused';
        // The caller gave up: a timeout if SYNs went unanswered (resent, by the events or by the socket's own count,
        // which includes resends before the agent started), else an abort.
        return retransmits > 0 || (flags & ConnFlag.SYN_RESENT) ? 'timeout' : 'aborted';
      default: return 'unreachable';
    }
  }
  if (err === 'ETIMEDOUT') return 'timeout';
  // A server reset after its client had closed its end (the client's FIN came first): the client left before the
  // answer, and its kernel refused what came after. nginx logs that as 499, client closed request: not a failure.
  const afterPeerFin = oldState === TcpState.CLOSE_WAIT || oldState === TcpState.LAST_ACK;
  if (side === Side.SERVER && afterPeerFin) return null;
  // A client reset after its server's FIN, with every request it made answered, lost nothing: a TLS client's
  // close_notify, written after the server closed, meets the server's reset. Without the request parser's word
  // (L7 off, a protocol it does not know) it may be a request sent on a connection the server had just closed
  // (a stale keep-alive): a failure.
  if (side === Side.CLIENT && afterPeerFin && (flags & ConnFlag.L7_ANSWERED)) return null;
  if (err === 'ECONNRESET' || err === 'EPIPE' || err === 'ECONNABORTED') return 'reset';
  // Its owner closed it with data unread: the reset is the kernel's rule for such a close, not a failure of this end.
  if ((flags & ConnFlag.RST_UNREAD) && !(flags & ConnFlag.RST_RECV)) return null;
  if (flags & (ConnFlag.RST_RECV | ConnFlag.RST_SENT)) return 'reset';
  return null;
}
