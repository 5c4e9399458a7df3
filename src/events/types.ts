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
export type FailureReason = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'aborted';

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
  /** Unix ms when the connection began, if seen. */
  startTime: number | null;
  established: boolean;
  resetSent: boolean;
  resetReceived: boolean;
  /** First seen after it began: counters cover only what happened since. */
  midflight: boolean;
  oldState: number;
  newState: number;
  /** errno name of sk_err at close (ECONNREFUSED, ...), or null. */
  error: string | null;
  /** Why the connection failed; null for a success or a normal close. */
  failure: FailureReason | null;
}
