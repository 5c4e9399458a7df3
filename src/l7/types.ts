// What the request (L7) collector yields: per-socket deltas of the kernel's
// aggregates, and decoded samples of failed or slow requests.

export { PROTOCOLS, type L7Protocol, type L7Delta } from '../events/types.js';
import type { L7Protocol } from '../events/types.js';

/** Status class of a completed request (index = enum dh_l7_class). HTTP by first digit; others ok/error. */
export type L7StatusClass = 'other' | '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'ok' | 'error';
export const STATUS_CLASSES: L7StatusClass[] = ['other', '1xx', '2xx', '3xx', '4xx', '5xx', 'ok', 'error'];

/** Latency histogram bucket i holds requests in [2^i, 2^(i+1)) microseconds; bucket 0 starts at 0, the last has no end. */
export const bucketLowerUs = (i: number): number => (i === 0 ? 0 : 2 ** i);
export const bucketUpperUs = (i: number, buckets: number): number => (i === buckets - 1 ? Infinity : 2 ** (i + 1));

/** no-response: the server's end closed with the request unanswered (it died, reset or hung up); always with 'failed'. */
export type SampleReason = 'failed' | 'slow' | 'traced' | 'no-response' | 'abandoned';

export interface L7Sample {
  /** Unix ms when the response completed the request (with reason no-response: when its connection ended). */
  time: number;
  cookie: number;
  pid: number;
  comm: string;
  protocol: L7Protocol;
  role: 'client' | 'server';
  /** HTTP status, grpc-status, MySQL error code, or 0 (ok) / 1 (error). */
  status: number;
  /** PostgreSQL's SQLSTATE of an error ('42P01') or a Redis error's prefix ('WRONGTYPE'), when the kernel found it. */
  code?: string;
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
