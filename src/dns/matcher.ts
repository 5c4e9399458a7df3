// Matches each DNS query to its answer by socket and id, for latency; a query
// with no answer within the timeout becomes a timeout. An answer may be read
// before its query is reported (another thread may receive it first, or the
// query's record may come in a later ring-buffer batch): such an answer waits
// briefly for its query. Bounded: the oldest pending queries are dropped (counted).
import type { WireMessage } from './assemble.js';
import type { DnsFacts } from '../events/dns-decode.js';
import type { DnsMessage } from './parse.js';
import { rcodeName, typeName } from './parse.js';
import type { DnsClient, DnsResolver, DnsTransaction } from './types.js';
import { DNS_DEFAULTS, DOCKER_EMBEDDED_DNS } from '../config/defaults.js';

/** How long an answer waits for a query reported late. */
const EARLY_ANSWER_MS = 2000;
const MAX_EARLY_ANSWERS = 1024;

interface Pending {
  cookie: number;
  /** Answered, timed out or evicted: only the age queue still holds it. */
  done: boolean;
  time: number;
  client: DnsClient;
  clientPort: number;
  resolver: DnsResolver;
  transport: 'udp' | 'tcp';
  id: number;
  name: string;
  type: number;
  retransmits: number;
  /** The next pending query with the same DNS id (another socket's). */
  next: Pending | undefined;
}

interface EarlyAnswer { received: number; time: number; facts: DnsFacts; localPort: number; tcp: boolean; msg: DnsMessage }

export interface MatcherLimits { queryTimeoutMs: number; maxPendingQueries: number; maxCnameChain: number }

/** Client and resolver objects, made once per facts (a process, its address and resolver) and shared by their
 *  transactions over every socket (do not modify them). */
const parties = new WeakMap<DnsFacts, { client: DnsClient; resolver: DnsResolver }>();

export function partiesOf(f: DnsFacts): { client: DnsClient; resolver: DnsResolver } {
  let p = parties.get(f);
  if (!p) {
    p = {
      client: { pid: f.pid, comm: f.comm, cgroupId: f.cgroupId, netns: f.netns, address: f.local },
      resolver: { address: f.peer, port: f.peerPort, family: f.family, dockerEmbedded: f.peer === DOCKER_EMBEDDED_DNS },
    };
    parties.set(f, p);
  }
  return p;
}

/** Queries are keyed by socket and id: a number while the cookie is small enough (it always is in practice). */
const keyOf = (cookie: number, id: number): number | string => (cookie < 2 ** 36 ? cookie * 65536 + id : `${cookie}:${id}`);

export class QueryMatcher {
  pendingEvicted = 0;
  /**
   * Queries awaiting their answer, by DNS id; those of other sockets with the
   * same id follow in a chain (ids are random, so chains are short). An array
   * indexed by id: no hashing, and nothing allocated per socket or per query
   * (per-socket Maps grew and shrank with every lookup a resolver made).
   */
  private byId: (Pending | undefined)[] = new Array(65536).fill(undefined);
  /** Every pending query in send order, for timeouts and the bound; done ones are skipped. */
  private queue = new AgeQueue();
  private count = 0;
  private early = new Map<number | string, EarlyAnswer>();

  constructor(private readonly emit: (t: DnsTransaction) => void, private readonly limits: MatcherLimits = DNS_DEFAULTS) {}

  get pendingCount(): number { return this.count; }

  /** A query: read during the call only (the collector parses queries into one reused object). */
  query(w: WireMessage, msg: DnsMessage): void {
    const cookie = w.seg.cookie;
    if (this.early.size) {
      const key = keyOf(cookie, msg.id);
      const early = this.early.get(key);
      if (early) {
        this.early.delete(key);
        this.emit(transaction(this.limits, pendingOf(w, msg), early.msg, Math.max(0, early.time - w.seg.time)));
        return;
      }
    }
    const seen = this.find(cookie, msg.id);
    if (seen) { seen.retransmits++; return; }
    if (this.count >= this.limits.maxPendingQueries) this.dropOldest();
    const p = pendingOf(w, msg);
    p.next = this.byId[p.id];
    this.byId[p.id] = p;
    this.queue.push(p);
    this.count++;
  }

  answer(w: WireMessage, msg: DnsMessage): void {
    const q = this.find(w.seg.cookie, msg.id);
    if (q && (!msg.question || msg.question.name === q.name)) {
      this.forget(q);
      this.emit(transaction(this.limits, q, msg, Math.max(0, w.seg.time - q.time)));
      return;
    }
    if (this.early.size >= MAX_EARLY_ANSWERS) this.flushEarly(Infinity);
    this.early.set(keyOf(w.seg.cookie, msg.id), { received: Date.now(), time: w.seg.time, facts: w.seg.facts, localPort: w.seg.localPort, tcp: w.seg.tcp, msg });
  }

  /** The pending query of a socket with this id. */
  private find(cookie: number, id: number): Pending | undefined {
    let p = this.byId[id];
    while (p && p.cookie !== cookie) p = p.next;
    return p;
  }

  private forget(q: Pending): void {
    q.done = true;
    this.count--;
    let p = this.byId[q.id];
    if (p === q) this.byId[q.id] = q.next;
    else {
      while (p && p.next !== q) p = p.next;
      if (p) p.next = q.next;
    }
    q.next = undefined;
    // Answers mostly come in send order: done queries at the head leave the queue now, so an
    // answered query is garbage while it is young (held for a second it would be promoted and
    // cost a full collection later).
    this.skipDone();
  }

  /** Moves the head past done queries (releasing their slots); the head is then a pending query or the end. */
  private skipDone(): void {
    while (this.queue.length && this.queue.first().done) this.queue.shift();
  }

  private dropOldest(): void {
    this.skipDone();
    if (!this.queue.length) return;
    // forget() moves the head past it: the head is never advanced again here (that would skip a pending query).
    this.forget(this.queue.first());
    this.pendingEvicted++;
  }

  /** Times out old queries and gives up on answers whose query never came. */
  sweep(now = Date.now()): void {
    for (this.skipDone(); this.queue.length; this.skipDone()) {
      const q = this.queue.first();
      if (now - q.time < this.limits.queryTimeoutMs) break; // the queue is in send order
      this.forget(q); // done, so the next skipDone() moves past it
      this.emit(transaction(this.limits, q, null, null));
    }
    this.queue.shrink();
    this.flushEarly(now);
  }

  private flushEarly(now: number): void {
    for (const [key, a] of this.early) {
      if (now - a.received < EARLY_ANSWER_MS) break;
      this.early.delete(key);
      const q = a.msg.question;
      const { client, resolver } = partiesOf(a.facts);
      const unmatched: Pending = {
        cookie: 0, done: true, time: a.time, client, clientPort: a.localPort, resolver, transport: a.tcp ? 'tcp' : 'udp',
        id: a.msg.id, name: q?.name ?? '', type: q?.type ?? 0, retransmits: 0, next: undefined,
      };
      this.emit(transaction(this.limits, unmatched, a.msg, null));
    }
  }
}

/**
 * Queries in send order: a ring that grows by doubling and shrinks only when
 * it is mostly empty, so a steady load allocates nothing here (an array appended to and cut every
 * sweep made a new backing store each second, long-lived enough to be
 * promoted).
 */
const MIN_RING = 1024;

class AgeQueue {
  private ring: (Pending | undefined)[] = new Array(MIN_RING).fill(undefined);
  /** Index of the oldest, and how many there are. */
  private start = 0;
  length = 0;

  /** The oldest query (only when length > 0). */
  first(): Pending {
    return this.ring[this.start]!;
  }

  shift(): void {
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) & (this.ring.length - 1);
    this.length--;
  }

  push(p: Pending): void {
    if (this.length === this.ring.length) this.grow();
    this.ring[(this.start + this.length) & (this.ring.length - 1)] = p;
    this.length++;
  }

  /** Halves a ring far larger than what it holds (one query stuck for 5 s at a high rate made it grow). */
  shrink(): void {
    if (this.ring.length > MIN_RING && this.length < this.ring.length / 8) this.resize(this.ring.length / 2);
  }

  private grow(): void {
    this.resize(this.ring.length * 2);
  }

  private resize(size: number): void {
    const old = this.ring;
    const next = new Array<Pending | undefined>(size).fill(undefined);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.start + i) & (old.length - 1)];
    this.start = 0;
    this.ring = next;
  }
}

function pendingOf(w: WireMessage, msg: DnsMessage): Pending {
  const { client, resolver } = partiesOf(w.seg.facts);
  return {
    cookie: w.seg.cookie, done: false, time: w.seg.time, client, clientPort: w.seg.localPort, resolver, transport: w.seg.tcp ? 'tcp' : 'udp',
    id: msg.id, name: msg.question?.name ?? '', type: msg.question?.type ?? 0, retransmits: 0, next: undefined,
  };
}

/** Shared by transactions without them (never modified). */
const NO_CNAMES: string[] = [];
const NO_ADDRESSES: string[] = [];
const NO_ANSWERS: DnsTransaction['answers'] = [];

/** Builds the transaction; answered when `answer` is given, a timeout otherwise; unmatched when latency is null. */
function transaction(limits: MatcherLimits, q: Pending, answer: DnsMessage | null, latencyMs: number | null): DnsTransaction {
  const t: DnsTransaction = {
    time: q.time,
    outcome: !answer ? 'timeout' : latencyMs === null ? 'unmatched' : 'answered',
    client: q.client,
    resolver: q.resolver,
    clientPort: q.clientPort,
    transport: q.transport,
    id: q.id,
    name: q.name,
    type: typeName(q.type),
    rcode: answer ? rcodeName(answer.rcode) : null,
    latencyMs,
    retransmits: q.retransmits,
    truncated: answer?.truncated ?? false,
    answers: NO_ANSWERS,
    cnames: NO_CNAMES,
    addresses: NO_ADDRESSES,
    ttl: 0,
  };
  if (answer) followChain(t, answer, limits.maxCnameChain);
  return t;
}

/** From the question name through its CNAMEs to the addresses, with the chain's minimum TTL. */
function followChain(t: DnsTransaction, msg: DnsMessage, maxChain: number): void {
  let ttl = Infinity;
  let current = t.name;
  t.answers = msg.answers; // the parser's records, not copied (transactions are read-only to listeners)
  for (let hop = 0; hop < maxChain; hop++) {
    const c = msg.answers.find((r) => r.type === 'CNAME' && r.name === current);
    if (!c) break;
    if (t.cnames === NO_CNAMES) t.cnames = [];
    t.cnames.push(c.data);
    ttl = Math.min(ttl, c.ttl);
    current = c.data;
  }
  let n = 0;
  for (const r of msg.answers) if (r.type !== 'CNAME' && (r.name === current || !t.name)) n++;
  if (n) {
    const addresses = new Array<string>(n);
    n = 0;
    for (const r of msg.answers) {
      if (r.type !== 'CNAME' && (r.name === current || !t.name)) {
        addresses[n++] = r.data;
        ttl = Math.min(ttl, r.ttl);
      }
    }
    t.addresses = addresses;
  }
  t.ttl = n ? ttl : 0;
}
