// The typed connection events the rest of Dhrishti consumes.

export type EventType =
  | 'connect' // client sent SYN
  | 'established' // handshake done
  | 'traffic' // counters of an open connection moved (from the periodic map read)
  | 'close' // connection over: final counters, failure if any
  | 'listen'
  | 'listen_close'
  | 'existing'; // found open at start-up, before the probes saw it

export type Role = 'client' | 'server' | 'unknown';

/** Why a connection failed. The one definition: graph/types.ts re-exports it for the API. */
export type FailureReason = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'aborted';
export const FAILURE_REASONS: FailureReason[] = ['refused', 'timeout', 'reset', 'unreachable', 'aborted'];

export interface ConnEvent {
  type: EventType;
  /** Unix time in milliseconds. */
  time: number;
  /** Socket cookie; 0 for sockets found by start-up discovery. */
  cookie: number;
  role: Role;
  family: 4 | 6;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  pid: number;
  comm: string;
  cgroupId: number;
  netns: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  srttUs: number;
  /**
   * Unix ms when the connection began; 0 when not seen (no null: a field that can hold null boxes
   * every time stored in it, and this one is stored for every event).
   */
  startTime: number;
  established: boolean;
  resetSent: boolean;
  resetReceived: boolean;
  /** First seen after it began: counters cover only what happened since. */
  midflight: boolean;
  /** The kernel's request parser (L7) took the socket: its request counts end with a closing count of their own. */
  l7: boolean;
  oldState: number;
  newState: number;
  /** errno name of sk_err at close (ECONNREFUSED, ...), or null. */
  error: string | null;
  /** Why the connection failed; null for a success or a normal close. */
  failure: FailureReason | null;
}

/**
 * An open socket's cumulative counters, as the periodic read of the kernel's
 * conns map found them. A socket is always introduced first by a ConnEvent
 * (from the ring buffer, start-up discovery, or a 'traffic' event for a socket
 * first seen in the map); after that only these small updates follow.
 */
export interface CounterUpdate {
  cookie: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  srttUs: number;
  /** Owner tgid; 0 until a syscall on the socket named it. */
  pid: number;
}
