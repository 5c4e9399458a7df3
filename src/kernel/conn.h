/* The one definition of every record the kernel shares with user space.
 * src/events/layout.ts mirrors it; test/layout.test.ts checks both against the
 * compiled object's BTF, so a change here that is not made there fails the tests. */
#ifndef DHRISHTI_CONN_H
#define DHRISHTI_CONN_H

#define DH_COMM_LEN 16
#define DH_ADDR_LEN 16

enum dh_event_kind {
	DH_EV_CONNECT = 1,      /* client sent SYN (source port may still be 0) */
	DH_EV_ESTABLISHED = 2,  /* handshake done, client or server side */
	DH_EV_CLOSE = 3,        /* socket destroyed: final counters, and the error and state it closed with */
	DH_EV_LISTEN = 4,       /* a socket started listening */
	DH_EV_LISTEN_CLOSE = 5, /* a listening socket closed */
};

enum dh_side {
	DH_SIDE_UNKNOWN = 0,
	DH_SIDE_CLIENT = 1,
	DH_SIDE_SERVER = 2,
};

enum dh_conn_flag {
	DH_F_ESTABLISHED = 1,  /* the handshake completed at some point */
	DH_F_RST_SENT = 2,     /* we sent a reset on this socket */
	DH_F_RST_RECV = 4,     /* the peer reset this socket */
	DH_F_MIDFLIGHT = 8,    /* first seen after its start (predates the agent, or the map was full) */
	DH_F_RST_UNREAD = 16,  /* our reset came from our owner closing with data unread (a load generator stopping) */
	DH_F_L7_ANSWERED = 32, /* at its end the request parser had sent or seen requests and none waited for an answer */
	DH_F_SYN_RESENT = 64,  /* it closed from SYN_SENT with its SYN resent, by the socket's own count (one first seen
				* mid-handshake had resends before the agent started, which no retransmit event showed) */
};

/* Indexes of the per-CPU loss counters: everything the kernel side could not record. */
enum dh_loss {
	DH_LOSS_RINGBUF_FULL = 0, /* an event was dropped because the ring buffer was full */
	DH_LOSS_CONN_MAP_FULL = 1,/* a socket could not be tracked because the conns map was full */
	DH_LOSS_MAX = 4,
};

/* Per-socket aggregate, the value of the `conns` map (key: socket cookie).
 * Byte counters count what the owning process sent and received through
 * syscalls since Dhrishti first saw the socket. */
struct dh_conn {
	__u64 start_ns;        /* CLOCK_BOOTTIME of the first state seen; 0 if midflight */
	__u64 end_ns;          /* when it reached TCP_CLOSE; 0 while open */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 cgroup_id;       /* cgroup v2 id of the owner (from the socket when in softirq) */
	__u8 saddr[DH_ADDR_LEN];/* local address: IPv4 in the first 4 bytes, or IPv6 */
	__u8 daddr[DH_ADDR_LEN];/* remote address */
	__u32 pid;             /* tgid of the owner; 0 until a syscall on the socket names it */
	__u32 netns;           /* network namespace inode */
	__u32 retransmits;     /* segments retransmitted (tcp:tcp_retransmit_skb) */
	__u32 srtt_us;         /* smoothed RTT, microseconds */
	__u16 sport;           /* local port, host order */
	__u16 dport;           /* remote port, host order */
	__u16 family;          /* AF_INET or AF_INET6 */
	__u8 side;             /* enum dh_side */
	__u8 flags;            /* enum dh_conn_flag */
	char comm[DH_COMM_LEN];
	__s32 close_err;       /* sk->sk_err when it reached TCP_CLOSE: ECONNREFUSED, ETIMEDOUT, ... */
	__u8 close_state;      /* TCP state it left for TCP_CLOSE; 0 while open */
	__u8 l7;               /* 1 once the L7 parser took it: its request counts end with a closing record (l7_final).
				* A byte of its own, not a flag: it is set after the send or receive has let go of the
				* socket lock, so an |= on flags could race a reset's in softirq and lose a bit. */
	__u8 l7_skip;          /* the L7 parser's verdict on a socket it does not parse (l7/capture.c); kept here, with the
				* socket's own entry, so it lasts as long as the socket and costs no lookup of its own */
	__u8 pad;
};

/* One ring-buffer record. Fixed size: the loader hands user space batches of them. */
struct dh_event {
	__u64 ts_ns;           /* CLOCK_BOOTTIME */
	__u64 cookie;          /* socket cookie: stable id of the socket */
	struct dh_conn conn;
	__u8 kind;             /* enum dh_event_kind */
	__u8 old_state;        /* TCP state before the transition */
	__u8 new_state;
	__u8 l7_proto;         /* DH_EV_CLOSE only: enum dh_l7_proto of the socket's request counts, which fill the
				* record's second slot (struct dh_event_l7, l7.h); 0 when the record is this event alone */
	__u8 l7_side;          /* with l7_proto: enum dh_side the request parser gave the socket */
	__u8 l7_flags;         /* with l7_proto: enum dh_l7_flag */
	__u8 pad[2];
};

#endif
