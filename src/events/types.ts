// The typed connection events the rest of Dhrishti consumes.
import { L7_BUCKETS, L7_CLASSES } from './l7-layout.js';

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

/** Request protocols the kernel recognises (index = enum dh_l7_proto). */
export type L7Protocol = 'unknown' | 'http1' | 'http2' | 'postgres' | 'mysql' | 'redis' | 'tls';
export const PROTOCOLS: L7Protocol[] = ['unknown', 'http1', 'http2', 'postgres', 'mysql', 'redis', 'tls'];

/**
 * What changed on one socket's request (L7) counts: since the last periodic read, or
 * (closed) its last counts, which come with its close event (ConnEvent.requests) or,
 * when they could not, from the request collector. Read during the call only: those
 * of closed sockets are reused for the next batch.
 */
export interface L7Delta {
  /** Socket cookie: the same id the connection events carry. */
  cookie: number;
  pid: number;
  protocol: L7Protocol;
  role: 'client' | 'server';
  /** The socket predates the agent: its role came from who sent the first request. */
  roleInferred: boolean;
  /** Seen as plaintext through the TLS uprobes (or TLS without plaintext, protocol 'tls'). */
  tls: boolean;
  /** The socket is gone; this is its last delta. */
  closed: boolean;
  /** Requests completed, by status class (index as STATUS_CLASSES). Typed: copied from the kernel's words as they are,
   *  with no check or conversion per element (a closing delta's 32 stores into plain arrays were 4% of the agent's time). */
  requests: Uint32Array;
  /** Latency histogram of the same requests (see bucketLowerUs). */
  buckets: Uint32Array;
  latencySumNs: number;
  /** The slowest of this delta's requests, µs: the socket's maximum of the epoch just read (l7/collector.ts nextEpoch), or 0 when not known. */
  latencyMaxUs: number;
  /** Responses with no request to pair, and requests that never got one (desync, close in flight). */
  unpaired: number;
  /**
   * Which counters may be non-zero: bit k for requests[k], bit 8 + k for buckets[k] (8 classes and 24 buckets: 32
   * bits). A superset is fine, so taking a reading away (collector's since) keeps it. Sums add only these: a short
   * connection's delta has two or three counters set of 32, and adding all 32 was a tenth of the agent's time.
   */
  nonzero: number;
}

/** L7Delta.nonzero's bit for buckets[0]: the status classes' bits come first. */
export const NONZERO_BUCKET_BIT = L7_CLASSES;
/** The bound a delta puts on its requests' latency (µs): their slowest, 0 if it timed none or it is not known. */
export const deltaMaxUs = (d: L7Delta): number => (d.nonzero >>> NONZERO_BUCKET_BIT !== 0 ? d.latencyMaxUs : 0);
if (L7_CLASSES + L7_BUCKETS > 32) throw new Error('L7Delta.nonzero has a bit per counter: at most 32');

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
  /** The reset it sent came from its owner closing it with data unread (a client done with it), not from a failure. */
  resetUnread: boolean;
  /** First seen after it began: counters cover only what happened since. */
  midflight: boolean;
  /** The kernel's request parser (L7) took the socket: its request counts end with a closing count of their own. */
  l7: boolean;
  /** A close's last request counts of its socket, when the kernel sent them with it (else they come on their own). */
  requests: L7Delta | null;
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
