// The DNS collector's public types: what a query and its answer looked like,
// who asked whom, and the health of each client -> resolver pair.

/** The process that asked, as the kernel saw it. */
export interface DnsClient {
  pid: number;
  comm: string;
  /** cgroup v2 id: names the container. */
  cgroupId: number;
  /** Network namespace inode: names are kept per namespace. */
  netns: number;
  /** The client's local address ('' when unbound). One object serves all of a process's sockets alike: the
   *  socket's port is the transaction's (clientPort). */
  address: string;
}

/** The server a client asked. */
export interface DnsResolver {
  address: string;
  port: number;
  family: 4 | 6;
  /** Docker's embedded DNS server (127.0.0.11) inside a user-defined network. */
  dockerEmbedded: boolean;
}

export type DnsTransport = 'udp' | 'tcp';

/** An A, AAAA or CNAME record of an answer. */
export interface DnsAnswerRecord { name: string; type: 'A' | 'AAAA' | 'CNAME'; ttl: number; data: string }

/**
 * One query and what became of it: answered (with an rcode), timed out, or an
 * answer whose query was not seen (sent before the agent started, or lost).
 */
export interface DnsTransaction {
  /** When the query was sent (or the unmatched answer received), Unix ms. */
  time: number;
  outcome: 'answered' | 'timeout' | 'unmatched';
  client: DnsClient;
  /** The local port of the socket that asked (0 when unbound). */
  clientPort: number;
  resolver: DnsResolver;
  transport: DnsTransport;
  id: number;
  /** Question name, lower case, without the trailing dot. */
  name: string;
  /** Question type: A, AAAA, ... */
  type: string;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...; null for a timeout. */
  rcode: string | null;
  latencyMs: number | null;
  /** The query was sent again (same socket and id) before its answer. */
  retransmits: number;
  /** The answer was truncated (TC): the client asks again over TCP. */
  truncated: boolean;
  answers: DnsAnswerRecord[];
  /** The CNAME chain from `name` to the name that holds the addresses (empty without CNAMEs). */
  cnames: string[];
  /** The addresses the name resolved to (A and AAAA). */
  addresses: string[];
  /** The minimum TTL along the chain, in seconds (0 without addresses). */
  ttl: number;
}

/** A name given to an address by an answer a client received. */
export interface DnsNameBinding {
  /** The name the client asked for (FQDN, lower case). */
  name: string;
  /** CNAME chain from name to the canonical name that holds the address, as detail. */
  cnames: string[];
  /** The resolver that answered. */
  resolver: DnsResolver;
  resolvedAt: number;
  /** Held until then: the answer's TTL, at least the minimum hold. */
  expiresAt: number;
  /** The name's latest answer (in this namespace) still includes this address. */
  current: boolean;
  /** Clients that received this answer (most recent first, bounded), and when each last did. */
  clients: { pid: number; cgroupId: number; comm: string; at: number }[];
}

/** Counts of one client -> resolver pair, and the health derived from them. */
/** Queries by outcome: one definition for the collector's health per client and the map's resolver edges. */
export interface DnsOutcomes {
  queries: number;
  answered: number;
  noerror: number;
  nxdomain: number;
  servfail: number;
  refused: number;
  /** Other error rcodes (FORMERR, NOTIMP, ...). */
  otherErrors: number;
  /** Queries without an answer within the timeout (5 s). */
  timeouts: number;
}

export interface DnsHealth extends DnsOutcomes {
  clientKey: string;
  /** The most recent client process seen under this key. */
  client: DnsClient;
  resolver: DnsResolver;
  firstSeen: number;
  lastSeen: number;
  /** Queries per second over the last few seconds. */
  queriesPerSec: number;
  /** NXDOMAINs of search-list expansions (the name was then found without the suffix): not failures. */
  searchExpansions: number;
  /** nxdomain + servfail + refused + otherErrors + timeouts. */
  failures: number;
  /** Answer latency; sumMs and buckets (counts per DNS_DEFAULTS.latencyBucketsMs bound, the last above all) are running totals. */
  latency: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null; sumMs: number; buckets: number[] };
  /** The names that failed most, with their last failure. */
  failingNames: { name: string; count: number; reason: string; lastSeen: number }[];
}

export interface DnsCollectorStats {
  /** False when the kernel side could not attach; `reason` says why. */
  available: boolean;
  reason: string | null;
  records: number;
  queries: number;
  responses: number;
  transactions: number;
  unmatchedResponses: number;
  timeouts: number;
  pendingQueries: number;
  /** Queries dropped from the pending table because it was full. */
  pendingEvicted: number;
  /** Messages that did not parse, by reason. */
  malformed: { total: number; byReason: Record<string, number> };
  /** Lost before parsing: in the kernel, the loader, or reassembly. */
  lost: {
    ringbufFull: number; rateLimited: number; noSyscall: number; readFault: number; segments: number; mmsgMapFull: number;
    loaderMalformed: number; tcpDesync: number; reassemblyEvicted: number; total: number;
  };
  /** Addresses (and names) forgotten because the map was full: evictions, nameEvictions. */
  nameMap: { addresses: number; names: number; capacity: number; evictions: number; nameEvictions: number };
  health: { entries: number; capacity: number; evictions: number };
  /** Listener callbacks that threw. */
  consumerErrors: number;
  /** Time spent turning records into transactions (and in listeners), ms since start: the collector's own cost. */
  processingMs: number;
}
