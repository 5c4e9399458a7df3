// Mirror of src/kernel/l7.h: byte offsets of the L7 records and the values of
// their enums. test/l7-layout.test.ts checks every entry against the BTF of
// the compiled object, so this is the single TypeScript statement of the layout.

export const L7_CLASSES = 8;
export const L7_BUCKETS = 24;
export const L7_INFLIGHT = 8;
export const L7_TEXT = 256;
export const L7_HPACK = 16;
export const L7_COMM_LEN = 16;
export const L7_CARRY = 32;
export const L7_NAMES = 8;
export const L7_NAME_LEN = 26;

/** struct dh_l7_counts: monotonic per-socket counters. */
export const L7_COUNTS = { latency_sum_ns: 0, requests: 8, buckets: 40, unpaired: 136, latency_max_us: 140 } as const;
export const L7_COUNTS_SIZE = 144;

export const L7_REQ = { start_ns: 0, id: 8, meta: 12, count: 16, detail: 20 } as const;
export const L7_REQ_SIZE = 24;

export const L7_DIR = { skip: 0, aux: 8, nest: 12, code: 28, state: 30, flags: 31, mode: 32, carry_len: 33, pad: 34, carry: 40 } as const;
export const L7_DIR_SIZE = 72;

/** struct dh_l7_name: a pipelined request's first bytes, kept by request number in dh_l7_sock.names. */
export const L7_NAME = { id: 0, len: 4, cut: 5, b: 6 } as const;
export const L7_NAME_SIZE = 32;

/** struct dh_l7_sock: value of the `l7_socks` map (key: socket cookie). */
export const L7_SOCK = {
  counts: 0, pid: 144, proto: 148, side: 149, flags: 150, nreq: 151, head: 152, text_len: 153,
  hpack_next: 154, peer_tries: 155, seq: 156, text_id: 160, max_epoch: 164, req: 168, dir: 360, hpack: 504, text: 568, names: 824,
} as const;
export const L7_SOCK_SIZE = 1080;

/** struct dh_l7_sample: one record of the `l7_samples` ring buffer. */
export const L7_SAMPLE = {
  ts_ns: 0, cookie: 8, latency_ns: 16, pid: 24, status: 28, proto: 32, cls: 33, side: 34, flags: 35,
  text_len: 36, method: 38, pad: 39, comm: 40, text: 56,
} as const;
export const L7_SAMPLE_SIZE = 312;

/** struct dh_l7_final: a destroyed socket's last aggregate (ring buffer `l7_final`). */
export const L7_FINAL = { cookie: 0, counts: 8, pid: 152, proto: 156, side: 157, flags: 158, pad: 159 } as const;
export const L7_FINAL_SIZE = 160;

/** struct dh_event_l7: a close (struct dh_event, EVENT_SIZE) with its socket's counts in a second slot of the events ring. */
export const L7_EVENT = { ev: 0, counts: 144 } as const;
export const L7_EVENT_SIZE = 288;

/** struct dh_l7_config: the one entry of `l7_config`. */
export const L7_CONFIG = {
  slow_ns: 0, sample_gap_ns: 8, sample_burst_ns: 16, text_bytes: 24, enabled: 28, samples: 29, sample_all: 30, both_ends: 31,
  epoch: 32, pad: 36,
} as const;
export const L7_CONFIG_SIZE = 40;

export const L7Proto = { UNKNOWN: 0, HTTP1: 1, HTTP2: 2, POSTGRES: 3, MYSQL: 4, REDIS: 5, TLS: 6 } as const;
export const L7Class = { OTHER: 0, '1XX': 1, '2XX': 2, '3XX': 3, '4XX': 4, '5XX': 5, OK: 6, ERROR: 7 } as const;
export const L7Flag = { CLOSED: 1, TLS: 2, ROLE_INFERRED: 4, STOPPED: 8, PEER: 16 } as const;
export const L7Loss = {
  SOCK_MAP_FULL: 0, SAMPLE_RATE: 1, SAMPLE_RINGBUF: 2, SKIPPED_IO: 3, DESYNC: 4, INFLIGHT_FULL: 5, TLS_UNMATCHED: 6,
  STEPS: 7, FINAL_RINGBUF: 8, MAX: 12,
} as const;
/** Counts kept in `l7_losses` past the losses (enum dh_l7_tally). */
export const L7Tally = { LEFT_TO_CLIENT: 9, LONG_REPLY: 10 } as const;
export const L7SampleFlag = { TEXT: 1, TLS: 2, SLOW: 4, FAILED: 8, HPACK: 16, NO_RESPONSE: 32, CUT: 64, ABANDONED: 128 } as const;
/** HTTP/1 request methods (enum dh_l7_h1_method), as a sample's `method` names them. */
export const L7H1Method = { GET: 1, POST: 2, PUT: 3, PATCH: 4, HEAD: 5, DELETE: 6, OPTIONS: 7, CONNECT: 8, TRACE: 9 } as const;

/** C enum name for each TypeScript constant, for the layout test. */
export const L7_ENUM_NAMES = {
  dh_l7_proto: Object.fromEntries(Object.entries(L7Proto).map(([k, v]) => [`DH_L7_${k}`, v])),
  dh_l7_class: Object.fromEntries(Object.entries(L7Class).map(([k, v]) => [`DH_L7_C_${k}`, v])),
  dh_l7_flag: Object.fromEntries(Object.entries(L7Flag).map(([k, v]) => [`DH_L7_F_${k}`, v])),
  dh_l7_loss: Object.fromEntries(Object.entries(L7Loss).map(([k, v]) => [`DH_L7_LOSS_${k}`, v])),
  dh_l7_tally: Object.fromEntries(Object.entries(L7Tally).map(([k, v]) => [`DH_L7_TALLY_${k}`, v])),
  dh_l7_sample_flag: Object.fromEntries(Object.entries(L7SampleFlag).map(([k, v]) => [`DH_L7_S_${k}`, v])),
  dh_l7_h1_method: Object.fromEntries(Object.entries(L7H1Method).map(([k, v]) => [`DH_L7_H1_${k}`, v])),
} as const;

/** Array sizes the test checks against the BTF arrays. */
export const L7_ARRAYS = {
  dh_l7_counts: { requests: L7_CLASSES, buckets: L7_BUCKETS },
  dh_l7_sock: { req: L7_INFLIGHT, hpack: L7_HPACK, text: L7_TEXT, names: L7_NAMES },
  dh_l7_name: { b: L7_NAME_LEN },
  dh_l7_dir: { carry: L7_CARRY },
  dh_l7_sample: { comm: L7_COMM_LEN, text: L7_TEXT },
} as const;
