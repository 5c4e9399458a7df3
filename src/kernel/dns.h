/* The one definition of the DNS capture record the kernel shares with user
 * space. src/events/dns-layout.ts mirrors it; test/dns-layout.test.ts checks
 * both against the compiled object's BTF.
 *
 * One record carries one segment of one DNS message as a process sent or
 * received it: a UDP datagram is usually one segment; a message spread over
 * several iovec entries, or a TCP stream read in pieces, is several, put back
 * together in user space (src/dns/assemble.ts). */
#ifndef DHRISHTI_DNS_H
#define DHRISHTI_DNS_H

#define DH_DNS_DATA_MAX 512 /* bytes of one segment copied into a record (the config may ask for fewer) */
#define DH_DNS_PORTS 4      /* server ports treated as DNS, from the config */
#define DH_DNS_COMM_LEN 16

enum dh_dns_dir {
	DH_DNS_DIR_SEND = 1, /* the process sent it (a query, from a client socket) */
	DH_DNS_DIR_RECV = 2, /* the process received it (an answer) */
};

enum dh_dns_flag {
	DH_DNS_F_TCP = 1,             /* stream socket: the data is a piece of a length-prefixed stream */
	DH_DNS_F_PEER_FROM_ARGS = 2,  /* unconnected UDP: the peer is the address the syscall named */
	DH_DNS_F_PEER_FROM_QUERY = 4, /* unconnected UDP receive: the peer is where the socket last sent a query */
	DH_DNS_F_LAST_SEG = 8,        /* the last segment captured for this message */
	DH_DNS_F_READ_FAULT = 16,     /* the user buffer could not be read: cap is 0 */
};

/* Indexes of the per-CPU loss counters of the DNS capture. */
enum dh_dns_loss {
	DH_DNS_LOSS_RINGBUF_FULL = 0, /* a record was dropped because the DNS ring buffer was full */
	DH_DNS_LOSS_RATE_LIMITED = 1, /* over the configured records per second on a CPU */
	DH_DNS_LOSS_NO_SYSCALL = 2,   /* DNS socket I/O outside a syscall whose buffer we can read (io_uring, kernel) */
	DH_DNS_LOSS_READ_FAULT = 3,   /* the syscall's buffer or message header could not be read */
	DH_DNS_LOSS_SEGMENTS = 4,     /* more iovec entries or mmsg messages than one call captures */
	DH_DNS_LOSS_MMSG_MAP_FULL = 5,/* a sendmmsg/recvmmsg's place could not be kept: its later messages were read as its first */
	DH_DNS_LOSS_MAX = 8,
};

/* Written by user space (src/dns/collector.ts) into the dns_config map; all
 * zero (the state after load) means capture is off. */
struct dh_dns_config {
	__u32 enabled;
	__u32 capture_bytes;         /* per segment, at most DH_DNS_DATA_MAX */
	__u32 max_records_per_sec;   /* per CPU; 0 means no limit */
	__u16 ports[DH_DNS_PORTS];   /* server ports; 0 = unused slot */
};

/* Where an unconnected UDP socket last sent a DNS query (value of dns_peers,
 * key: socket cookie): its answers are read with recvfrom/recvmsg, which
 * copy the sender's address to user memory only after the tracepoint. */
struct dh_dns_peer {
	__u8 addr[16];
	__u16 port;
	__u16 family;
	__u32 pad;
};

struct dh_dns_event {
	__u64 ts_ns;        /* CLOCK_BOOTTIME */
	__u64 cookie;       /* socket cookie */
	__u64 cgroup_id;    /* cgroup v2 id of the calling task */
	__u8 saddr[16];     /* local address: IPv4 in the first 4 bytes, or IPv6 (0 for unbound UDP) */
	__u8 daddr[16];     /* the peer: the DNS server (or 0 when unknown) */
	__u32 pid;          /* tgid */
	__u32 tid;
	__u32 netns;        /* network namespace inode */
	__u32 msg_len;      /* bytes the syscall moved for this message (UDP: the datagram; TCP: this chunk) */
	__u32 seg_off;      /* where this segment starts in the message */
	__u32 seg_len;      /* bytes of the message in this segment */
	__u16 cap;          /* bytes of data valid (≤ seg_len) */
	__u16 sport;        /* local port, host order */
	__u16 dport;        /* peer port, host order */
	__u16 family;       /* AF_INET or AF_INET6 */
	__u8 dir;           /* enum dh_dns_dir */
	__u8 flags;         /* enum dh_dns_flag */
	__u8 syscall;       /* enum dh_sys_kind (syscall_buf.h) */
	__u8 msg_index;     /* message number within a sendmmsg/recvmmsg call */
	char comm[DH_DNS_COMM_LEN];
	__u8 pad[4];
	__u8 data[DH_DNS_DATA_MAX];
};

#endif
