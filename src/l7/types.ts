// What the request (L7) collector yields: per-socket deltas of the kernel's
// aggregates, and decoded samples of failed or slow requests.

export type L7Protocol = 'unknown' | 'http1' | 'http2' | 'postgres' | 'mysql' | 'redis' | 'tls';
export const PROTOCOLS: L7Protocol[] = ['unknown', 'http1', 'http2', 'postgres', 'mysql', 'redis', 'tls'];

/** Status class of a completed request (index = enum dh_l7_class). HTTP by first digit; others ok/error. */
export type L7StatusClass = 'other' | '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'ok' | 'error';
export const STATUS_CLASSES: L7StatusClass[] = ['other', '1xx', '2xx', '3xx', '4xx', '5xx', 'ok', 'error'];

/** Latency histogram bucket i holds requests in [2^i, 2^(i+1)) microseconds; bucket 0 starts at 0, the last has no end. */
export const bucketLowerUs = (i: number): number => (i === 0 ? 0 : 2 ** i);
export const bucketUpperUs = (i: number, buckets: number): number => (i === buckets - 1 ? Infinity : 2 ** (i + 1));

/**
 * What changed on one socket since the last flush. A listener reads the deltas
 * (and the array holding them) during its call only: those of closed sockets
 * are reused for the next batch.
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
  /** Requests completed, by status class (index as STATUS_CLASSES). */
  requests: number[];
  /** Latency histogram of the same requests (see bucketLowerUs). */
  buckets: number[];
  latencySumNs: number;
  /** Responses with no request to pair, and requests that never got one (desync, close in flight). */
  unpaired: number;
}

export type SampleReason = 'failed' | 'slow' | 'traced';

export interface L7Sample {
  /** Unix ms when the response completed the request. */
  time: number;
  cookie: number;
  pid: number;
  comm: string;
  protocol: L7Protocol;
  role: 'client' | 'server';
  /** HTTP status, grpc-status, MySQL error code, or 0 (ok) / 1 (error). */
  status: number;
  statusClass: L7StatusClass;
  latencyMs: number;
  /** HTTP method, SQL verb or Redis command; null when the request's bytes were not kept or not readable. */
  method: string | null;
  /** Path without query string, or normalised SQL (literals as ?, at most 200 chars). */
  target: string | null;
  tls: boolean;
  reasons: SampleReason[];
}

export interface RequestDescription {
  method: string;
  target?: string;
}
