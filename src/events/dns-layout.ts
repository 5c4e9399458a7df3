// Mirror of src/kernel/dns.h (and the syscall kinds of syscall_buf.h): byte
// offsets of the DNS capture record, the config and peer structs, and the
// values of their enums. test/dns-layout.test.ts checks every entry against
// the BTF of the compiled object.

/** struct dh_dns_event: one segment of one DNS message, as a process sent or received it. */
export const DNS_EVENT = {
  ts_ns: 0,
  cookie: 8,
  cgroup_id: 16,
  saddr: 24,
  daddr: 40,
  pid: 56,
  tid: 60,
  netns: 64,
  msg_len: 68,
  seg_off: 72,
  seg_len: 76,
  cap: 80,
  sport: 82,
  dport: 84,
  family: 86,
  dir: 88,
  flags: 89,
  syscall: 90,
  msg_index: 91,
  comm: 92,
  pad: 108,
  data: 112,
} as const;
export const DNS_EVENT_SIZE = 624;
/** DH_DNS_DATA_MAX: bytes of one segment a record can hold. */
export const DNS_DATA_MAX = 512;
export const DNS_COMM_LEN = 16;

/** struct dh_dns_config: the dns_config map's one value, written by the collector. */
export const DNS_CONFIG = {
  enabled: 0,
  capture_bytes: 4,
  max_records_per_sec: 8,
  ports: 12,
} as const;
export const DNS_CONFIG_SIZE = 20;
/** DH_DNS_PORTS */
export const DNS_CONFIG_PORTS = 4;

/** struct dh_dns_peer: value of dns_peers (where an unconnected socket sent its last query). */
export const DNS_PEER = { addr: 0, port: 16, family: 18, pad: 20 } as const;
export const DNS_PEER_SIZE = 24;

export const DnsDir = { SEND: 1, RECV: 2 } as const;

export const DnsFlag = { TCP: 1, PEER_FROM_ARGS: 2, PEER_FROM_QUERY: 4, LAST_SEG: 8, READ_FAULT: 16 } as const;

export const DnsLoss = {
  RINGBUF_FULL: 0,
  RATE_LIMITED: 1,
  NO_SYSCALL: 2,
  READ_FAULT: 3,
  SEGMENTS: 4,
  MMSG_MAP_FULL: 5,
  MAX: 8,
} as const;

/** enum dh_sys_kind: which syscall moved the bytes. */
export const SysKind = {
  NONE: 0,
  READ: 1,
  WRITE: 2,
  READV: 3,
  WRITEV: 4,
  RECVFROM: 5,
  SENDTO: 6,
  RECVMSG: 7,
  SENDMSG: 8,
  RECVMMSG: 9,
  SENDMMSG: 10,
} as const;

/** C enum name for each TypeScript constant, for the layout test. */
export const DNS_ENUM_NAMES = {
  dh_dns_dir: Object.fromEntries(Object.entries(DnsDir).map(([k, v]) => [`DH_DNS_DIR_${k}`, v])),
  dh_dns_flag: Object.fromEntries(Object.entries(DnsFlag).map(([k, v]) => [`DH_DNS_F_${k}`, v])),
  dh_dns_loss: Object.fromEntries(Object.entries(DnsLoss).map(([k, v]) => [`DH_DNS_LOSS_${k}`, v])),
  dh_sys_kind: Object.fromEntries(Object.entries(SysKind).map(([k, v]) => [`DH_SYS_${k}`, v])),
} as const;
