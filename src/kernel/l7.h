/* The one definition of the request (L7) records the kernel shares with user
 * space. src/events/l7-layout.ts mirrors it; test/l7-layout.test.ts checks both
 * against the compiled object's BTF.
 *
 * What leaves the kernel: per-socket aggregates (read by the periodic flush,
 * never one record per request) and rate-limited samples of failed or slow
 * requests (ring buffer `l7_samples`). Sizes below are compile-time maxima;
 * the runtime limits come from src/config/defaults.ts through `l7_config`. */
#ifndef DHRISHTI_L7_H
#define DHRISHTI_L7_H

#define DH_L7_CLASSES 8   /* enum dh_l7_class */
#define DH_L7_BUCKETS 24  /* log2 latency buckets: [0] < 2 us, [i] in [2^i, 2^(i+1)) us, [23] >= 2^23 us */
#define DH_L7_INFLIGHT 8  /* requests in flight per socket (pipelined, or HTTP/2 streams) */
#define DH_L7_TEXT 256    /* request prefix kept for samples */
#define DH_L7_HPACK 16    /* newest HPACK dynamic-table insertions remembered per socket */
#define DH_L7_NAMES 8     /* pipelined requests whose first bytes are kept besides the newest's (a power of 2) */
#define DH_L7_NAME_LEN 26 /* ... that many of them: a method and a path's start, a Redis command, a statement's start */
#define DH_L7_H2_NAMES 16 /* HTTP/2: newest :path and literal :method insertions a client made, kept per connection to name samples */
#define DH_L7_H2_PATH 64  /* ... each up to this many coded bytes (a longer one is not kept) */
#define DH_L7_H2_METHOD 8 /* ... each up to this many coded bytes ("OPTIONS" is 7, plain or Huffman-coded) */
#define DH_L7_COMM_LEN 16
#define DH_L7_CARRY 32    /* bytes of a cut header kept for the next syscall */

enum dh_l7_proto {
	DH_L7_UNKNOWN = 0,
	DH_L7_HTTP1 = 1,
	DH_L7_HTTP2 = 2,
	DH_L7_POSTGRES = 3,
	DH_L7_MYSQL = 4,
	DH_L7_REDIS = 5,
	DH_L7_TLS = 6,      /* TLS seen on the wire, no plaintext (no uprobe for its library) */
};

/* Status class of a completed request: HTTP classes by the first digit; the
 * other protocols (and gRPC, when grpc-status is present) are OK or ERROR. */
enum dh_l7_class {
	DH_L7_C_OTHER = 0,  /* a response that carried no usable status */
	DH_L7_C_1XX = 1,
	DH_L7_C_2XX = 2,
	DH_L7_C_3XX = 3,
	DH_L7_C_4XX = 4,
	DH_L7_C_5XX = 5,
	DH_L7_C_OK = 6,
	DH_L7_C_ERROR = 7,
};

enum dh_l7_flag {
	DH_L7_F_CLOSED = 1,        /* the socket is gone: user space deletes the entry once read */
	DH_L7_F_TLS = 2,           /* plaintext comes from the TLS uprobes; wire bytes are ignored */
	DH_L7_F_ROLE_INFERRED = 4, /* predates the agent: role taken from who sent the first request */
	DH_L7_F_STOPPED = 8,       /* protocol switched (HTTP upgrade, CONNECT, pub/sub): no more pairing */
	DH_L7_F_PEER = 16,         /* a server socket whose client, on this host, parses the same requests: parsing stopped */
};

/* Indexes of the per-CPU L7 loss counters (map `l7_losses`). */
enum dh_l7_loss {
	DH_L7_LOSS_SOCK_MAP_FULL = 0,  /* a classified socket could not be tracked */
	DH_L7_LOSS_SAMPLE_RATE = 1,    /* a sample was over the rate limit */
	DH_L7_LOSS_SAMPLE_RINGBUF = 2, /* a sample found the ring buffer full */
	DH_L7_LOSS_SKIPPED_IO = 3,     /* I/O with no user buffer to read: io_uring, sendfile, splice, kernel threads, multi-message mmsg */
	DH_L7_LOSS_DESYNC = 4,         /* bytes that broke the framing: parsing restarts at the next syscall */
	DH_L7_LOSS_INFLIGHT_FULL = 5,  /* more requests in flight than DH_L7_INFLIGHT: the extra ones are not timed */
	DH_L7_LOSS_TLS_UNMATCHED = 6,  /* TLS plaintext whose socket could not be found */
	DH_L7_LOSS_STEPS = 7,          /* a buffer held more messages than one pass may parse */
	DH_L7_LOSS_FINAL_RINGBUF = 8,  /* a closed socket's last aggregate waited in the map (ring buffer full) */
	DH_L7_LOSS_MAX = 12,
};

/* Counts kept in `l7_losses` past the losses: not losses, but work left out on purpose. */
enum dh_l7_tally {
	DH_L7_TALLY_LEFT_TO_CLIENT = 9, /* server sockets not parsed (or no longer) because their client on this host parses them */
	DH_L7_TALLY_LONG_REPLY = 10,    /* Redis requests or replies with more values than a pass walks, ended by the other side's next bytes (l7/redis.c) */
};

/* What user space reads for each socket; monotonic counters, never reset. */
struct dh_l7_counts {
	__u64 latency_sum_ns;
	__u32 requests[DH_L7_CLASSES];   /* completed requests by enum dh_l7_class */
	__u32 buckets[DH_L7_BUCKETS];    /* latency of the same requests */
	__u32 unpaired;                  /* responses with no request, or requests that never got one and whose client's end closed
					  * first (when the server's closed first they count as ERROR: l7/capture.c l7_destroy) */
	__u32 latency_max_us;            /* the slowest of those of epoch dh_l7_sock.max_epoch (saturates): bounds the estimate
					  * of a percentile in the slowest bucket, for the flush interval that epoch was */
};

/* Requests in flight: FIFO for ordered protocols, stream table for HTTP/2.
 * Pipelined requests that arrive in one syscall with the same meta share an
 * entry (same start time), so a deep pipeline fits in a few entries. */
struct dh_l7_req {
	__u64 start_ns;
	__u32 id;     /* sequence number of the first request, or HTTP/2 stream id */
	__u32 meta;   /* protocol bits: low 16 from the request (HTTP HEAD), high 16 from its response (error seen) */
	__u32 count;  /* requests in this entry */
	__u32 detail; /* from its response: PostgreSQL's SQLSTATE (l7/postgres.c pg_sqlstate), a Redis error's prefix (l7/redis.c redis_err_code), else 0 */
};

/* Framing state of one direction: where the next message starts. */
struct dh_l7_dir {
	__u64 skip;   /* bytes of the current message (body, frame, row) still to pass over */
	__u32 aux;    /* protocol-specific: Content-Length, message kind, ... */
	__u32 nest[4];/* protocol-specific: HTTP/1 Content-Length (nest[0]); Redis values of the reply still to read (nest[0]) */
	__u16 code;   /* status of the message being read */
	__u8 state;   /* protocol-specific framing state */
	__u8 flags;   /* enum dh_l7_dir_flag */
	__u8 mode;    /* protocol-specific state kept across a resync: Redis pub/sub (l7/redis.c RD_S_*) */
	__u8 carry_len;
	__u8 pad[6];
	__u8 carry[DH_L7_CARRY]; /* a message header cut by the end of the last syscall's bytes */
};

/* Value of the `l7_socks` map (key: socket cookie). */
/* The first bytes of a pipelined request that is no longer the socket's newest (its full prefix is in
 * dh_l7_sock.text only while it is): kept at l7_push, by request number. */
struct dh_l7_name {
	__u32 id;  /* the request's number (dh_l7_req.id); 0 if empty */
	__u8 len;  /* bytes in b */
	__u8 cut;  /* the request's kept prefix was longer */
	char b[DH_L7_NAME_LEN];
};

struct dh_l7_sock {
	struct dh_l7_counts counts;
	__u32 pid;             /* owner when classified */
	__u8 proto;            /* enum dh_l7_proto */
	__u8 side;             /* enum dh_side of the socket */
	__u8 flags;            /* enum dh_l7_flag */
	__u8 nreq;             /* requests in flight */
	__u8 head;             /* FIFO head index */
	__u8 text_len;         /* bytes in text (0: none) */
	__u8 hpack_next;       /* next slot in hpack (ring) */
	__u8 peer_tries;       /* server: times it looked for its client on this host (l7/peer.c) */
	__u32 seq;             /* requests started */
	__u32 text_id;         /* the request whose prefix is in text */
	__u32 max_epoch;       /* dh_l7_config.epoch when counts.latency_max_us was last restarted */
	struct dh_l7_req req[DH_L7_INFLIGHT]; /* ordered protocols; HTTP/2 streams are in h2_streams (l7/http2.c) */
	struct dh_l7_dir dir[2]; /* [0] requests, [1] responses */
	__u32 hpack[DH_L7_HPACK]; /* HTTP/2: what each recent dynamic-table insertion holds (status kind << 16 | code) */
	char text[DH_L7_TEXT];
	struct dh_l7_name names[DH_L7_NAMES]; /* ring by request number: pipelined requests older than text's */
};

/* A socket's aggregate when it is destroyed (ring buffer `l7_final`): one record
 * per connection, so closed sockets leave the map at once, whatever the churn. */
struct dh_l7_final {
	__u64 cookie;
	struct dh_l7_counts counts;
	__u32 pid;
	__u8 proto;
	__u8 side;
	__u8 flags;
	__u8 pad;
};

/* A socket's close with its last request counts, one record of the `events` ring: the close
 * (dh_event.l7_proto set), then the counts in a second slot of the same size, so user space
 * reads that ring as slots of one size. One record, not two: the counts are read with the
 * close that ends their connection, in order, with no lookup to join them. */
struct dh_event_l7 {
	struct dh_event ev;
	union {
		struct dh_l7_counts counts;
		__u8 slot[sizeof(struct dh_event)];
	};
};
_Static_assert(sizeof(struct dh_l7_counts) <= sizeof(struct dh_event), "the counts must fit one slot of the events ring");

enum dh_l7_sample_flag {
	DH_L7_S_TEXT = 1,      /* text holds the request's first bytes */
	DH_L7_S_TLS = 2,       /* seen as plaintext through the TLS uprobes */
	DH_L7_S_SLOW = 4,      /* sampled because slow */
	DH_L7_S_FAILED = 8,    /* sampled because failed */
	DH_L7_S_HPACK = 16,    /* HTTP/2: text is a header block of the request's :method and :path (l7/http2_paths.c), not its bytes */
	DH_L7_S_NO_RESPONSE = 32, /* the server's end closed with the request unanswered (l7/capture.c l7_destroy) */
	DH_L7_S_CUT = 64,      /* text is a pipelined request's first DH_L7_NAME_LEN bytes (dh_l7_name), cut short */
	DH_L7_S_ABANDONED = 128, /* the client's end closed with the request unanswered (a client's timeout): sampled when slow,
				  * counted unpaired, not failed (l7/capture.c l7_destroy) */
};

/* An HTTP/1 request's method, in its request meta (bits DH_L7_H1_METHOD_SHIFT and up, l7/http1.c) and
 * in its sample: requests of one syscall share an in-flight slot with the same method while a slot is
 * free (l7_push), so a pipelined request's sample names its method even without its own text. */
enum dh_l7_h1_method {
	DH_L7_H1_GET = 1,
	DH_L7_H1_POST = 2,
	DH_L7_H1_PUT = 3,
	DH_L7_H1_PATCH = 4,
	DH_L7_H1_HEAD = 5,
	DH_L7_H1_DELETE = 6,
	DH_L7_H1_OPTIONS = 7,
	DH_L7_H1_CONNECT = 8,
	DH_L7_H1_TRACE = 9,
};
#define DH_L7_H1_METHOD_SHIFT 2
#define DH_L7_H1_METHOD_MASK 0xf

/* One ring-buffer record of `l7_samples`: a failed or slow request (or any, in trace mode). */
struct dh_l7_sample {
	__u64 ts_ns;           /* CLOCK_BOOTTIME when the response completed it */
	__u64 cookie;
	__u64 latency_ns;
	__u32 pid;
	__u32 status;          /* HTTP status, grpc-status, or 0 / 1 (ok / error) */
	__u8 proto;
	__u8 cls;              /* enum dh_l7_class */
	__u8 side;
	__u8 flags;            /* enum dh_l7_sample_flag */
	__u16 text_len;
	__u8 method;           /* HTTP/1: enum dh_l7_h1_method, 0 if not known */
	__u8 pad;
	char comm[DH_L7_COMM_LEN];
	char text[DH_L7_TEXT];
};

/* Value of the one-entry `l7_config` array, written by user space. */
struct dh_l7_config {
	__u64 slow_ns;         /* requests at least this slow are sampled */
	__u64 sample_gap_ns;   /* rate limit: one sample per gap on average ... */
	__u64 sample_burst_ns; /* ... with bursts of burst/gap samples */
	__u32 text_bytes;      /* request prefix copied for samples (<= DH_L7_TEXT) */
	__u8 enabled;
	__u8 samples;          /* 0: no samples at all */
	__u8 sample_all;       /* every request is a sample (dhrishti trace --l7), still rate-limited */
	__u8 both_ends;        /* parse the server socket of a local connection too (l7/peer.c) */
	__u32 epoch;           /* raised by user space before each read of l7_socks: a socket's latency maximum is its epoch's */
	__u32 pad;
};

#endif
