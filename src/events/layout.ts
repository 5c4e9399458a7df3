// Mirror of src/kernel/conn.h: byte offsets of each record and the values of
// its enums. test/layout.test.ts checks every entry against the BTF of the
// compiled object, so this is the single TypeScript statement of the layout.

/** struct dh_conn: the per-socket aggregate (value of the `conns` map). */
export const CONN = {
  start_ns: 0,
  end_ns: 8,
  bytes_sent: 16,
  bytes_received: 24,
  cgroup_id: 32,
  saddr: 40,
  daddr: 56,
  pid: 72,
  netns: 76,
  retransmits: 80,
  srtt_us: 84,
  sport: 88,
  dport: 90,
  family: 92,
  side: 94,
  flags: 95,
  comm: 96,
  close_err: 112,
  close_state: 116,
  l7: 117,
  l7_skip: 118,
  pad: 119,
} as const;
export const CONN_SIZE = 120;
export const COMM_LEN = 16;

/** struct dh_event: one ring buffer record. */
export const EVENT = {
  ts_ns: 0,
  cookie: 8,
  conn: 16,
  kind: 136,
  old_state: 137,
  new_state: 138,
  l7_proto: 139,
  l7_side: 140,
  l7_flags: 141,
  pad: 142,
} as const;
export const EVENT_SIZE = 144;

export const EventKind = {
  CONNECT: 1,
  ESTABLISHED: 2,
  CLOSE: 3,
  LISTEN: 4,
  LISTEN_CLOSE: 5,
} as const;

export const Side = { UNKNOWN: 0, CLIENT: 1, SERVER: 2 } as const;

export const ConnFlag = { ESTABLISHED: 1, RST_SENT: 2, RST_RECV: 4, MIDFLIGHT: 8, RST_UNREAD: 16, L7_ANSWERED: 32, SYN_RESENT: 64 } as const;

export const Loss = { RINGBUF_FULL: 0, CONN_MAP_FULL: 1, MAX: 4 } as const;

/** C enum name for each TypeScript constant, for the layout test. */
export const ENUM_NAMES = {
  dh_event_kind: Object.fromEntries(Object.entries(EventKind).map(([k, v]) => [`DH_EV_${k}`, v])),
  dh_side: Object.fromEntries(Object.entries(Side).map(([k, v]) => [`DH_SIDE_${k}`, v])),
  dh_conn_flag: Object.fromEntries(Object.entries(ConnFlag).map(([k, v]) => [`DH_F_${k}`, v])),
  dh_loss: Object.fromEntries(Object.entries(Loss).map(([k, v]) => [`DH_LOSS_${k}`, v])),
} as const;

/** Linux TCP states (include/net/tcp_states.h). */
export const TcpState = {
  ESTABLISHED: 1, SYN_SENT: 2, SYN_RECV: 3, FIN_WAIT1: 4, FIN_WAIT2: 5, TIME_WAIT: 6,
  CLOSE: 7, CLOSE_WAIT: 8, LAST_ACK: 9, LISTEN: 10, CLOSING: 11, NEW_SYN_RECV: 12,
} as const;
