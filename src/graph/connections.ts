// Correlates the two ends of a TCP connection. When both ends are on this host
// the kernel reports two sockets; they meet on the client's endpoint
// (address, port), which both views share even through DNAT.
import { IntMap } from './int-map.js';
import { EPHEMERAL_PORTS } from '../config/defaults.js';
import type { ConnEvent, CounterUpdate, FailureReason, L7Delta } from '../events/types.js';
import type { ConnRequests, SideRequests } from './request-totals.js';
import type { FailureSample } from './types.js';
import type { NodeRef } from './naming.js';
import { isLoopback } from '../identity/addresses.js';

export interface Side {
  /** The connection it belongs to (changes when two halves meet). */
  conn: Conn;
  role: 'client' | 'server';
  /** Socket cookie; 0 while known only from start-up discovery. */
  cookie: number;
  pid: number;
  comm: string;
  cgroupId: number;
  netns: number;
  localIp: string;
  localPort: number;
  peerIp: string;
  peerPort: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  srttUs: number;
  closed: boolean;
  /** Its close said the kernel parsed requests on it (ConnEvent.l7): a closing count of them comes, if not in yet. */
  l7: boolean;
  // Times are 0 when unknown, never null: a field that can hold null boxes each time stored in it.
  /** When the kernel saw it begin (SYN sent or received); 0 when it predates what we saw. */
  startTime: number;
  /** A time by which it was known to be established (the first event that said so), or 0. */
  establishedBy: number;
  /** Its key in the tuple index, once indexed. */
  tuple: string | null;
  /** What its socket counted of requests, per protocol (the request ledger's; cleared when the side is reused). */
  requests: SideRequests | undefined;
  /** Its last request counts, come with its close in the batch being ingested and not taken yet (the request ledger's; valid to the batch's end). */
  lastCounts: L7Delta | null;
}

/** What a connection has added to its edge so far: open (counted live), opened (in the edge's opened count: its
 *  opening was seen), close, its failure (reason and sample), its byte and retransmit counts, and rttUs, durationMs
 *  (its samples, if taken). */
export interface Counted {
  open: boolean; opened: boolean; close: boolean; failure: FailureReason | null; failureSample: FailureSample | null;
  sent: number; received: number; retransmits: number; rttUs: number; durationMs: number;
}

export function resetCounted(k: Counted): void {
  k.open = k.opened = k.close = false;
  k.failure = null; k.failureSample = null;
  k.sent = k.received = k.retransmits = k.rttUs = 0;
  k.durationMs = -1;
}

/**
 * One connection, seen from one or both ends. The table reuses the objects of
 * finished connections (a busy host finishes thousands a second): nothing may
 * hold one beyond its life.
 */
export class Conn {
  createdAt = 0;
  /** The client's port: its entry in the endpoint index (0: not indexed yet). */
  endpointPort = 0;
  /** Since when (event time) its other end could have joined it: when its client endpoint became known. */
  waitingSince = 0;
  client: Side | undefined = undefined;
  server: Side | undefined = undefined;
  startTime = 0;
  lastTime = 0;
  established = false;
  failure: FailureReason | null = null;
  error: string | null = null;
  /** Its client closed it with data unread: the reset its server end then saw was the client's choice, not a failure. */
  clientLeftUnread = false;
  /** Its failure came from its server end's close. */
  failureFromServer = false;
  /** When both ends (or the only one seen) closed; 0 while open. */
  closedAt = 0;
  midflight = false;
  /** Started from start-up discovery (its other end may still be on its way). */
  discovered = false;
  /** In the connection table. */
  live = false;
  /** Waiting to be placed (in the graph's pending list). */
  pending = false;
  /** Counted as open on its edge. */
  open = false;
  /** From a client past the clients list's cap: counted once as folded, even if placed again. */
  folded = false;
  /** Set by the graph once the connection is on an edge. */
  edgeId: string | null = null;
  ignored = false;
  /** Set when the client is a remote host, for the clients list. */
  remoteClientIp: string | null = null;
  /** Which ends were known when it was placed (1 client, 2 server): a late end re-places it. */
  placedWith = 0;
  /** Owner pids when it was placed: a server accepted in softirq is named later, and then re-placed. */
  placedClientPid = 0;
  placedServerPid = 0;
  /** Its server end and port as placed: who answered, named on request samples (naming.ts serverName) only when one is taken. */
  serverRef: NodeRef | null = null;
  serverPort = 0;
  readonly counted: Counted = { open: false, opened: false, close: false, failure: null, failureSample: null, sent: 0, received: 0, retransmits: 0, rttUs: 0, durationMs: -1 };
  /** The request ledger's state of this connection (a field, not a WeakMap entry: ten thousand connections a second). */
  requests: ConnRequests | undefined = undefined;
  /** The request ledger's mark: this connection is in the batch being settled (see RequestLedger.ingest). */
  ledgerMark = 0;
  /** Closed on its edge with only its client known, kept in the table to the end of its batch (LiveGraph.finishAtBatchEnd). */
  finishDeferred = false;

  constructor(createdAt: number) { this.begin(createdAt); }

  /** Starts a new life (a new object, or a finished one reused). */
  begin(createdAt: number): void {
    this.createdAt = this.startTime = this.lastTime = this.waitingSince = createdAt;
    this.endpointPort = 0;
    this.client = this.server = undefined;
    this.established = this.midflight = this.discovered = this.live = this.pending = this.open = this.folded = this.ignored = false;
    this.failure = null; this.error = null; this.clientLeftUnread = false; this.failureFromServer = false; this.closedAt = 0; this.edgeId = null; this.remoteClientIp = null;
    this.placedWith = this.placedClientPid = this.placedServerPid = 0;
    this.serverRef = null;
    this.serverPort = 0;
    this.requests = undefined;
    this.finishDeferred = false;
    resetCounted(this.counted);
  }

  /** Client-to-server bytes; both views count the same bytes. */
  bytesSent(): number { return Math.max(this.client?.bytesSent ?? 0, this.server?.bytesReceived ?? 0); }

  /** Server-to-client bytes. */
  bytesReceived(): number { return Math.max(this.server?.bytesSent ?? 0, this.client?.bytesReceived ?? 0); }

  sides(): number { return (this.client ? 1 : 0) | (this.server ? 2 : 0); }

  /** An end arrived, or an end's process became known, since it was placed. */
  learntSincePlaced(): boolean {
    return this.sides() !== this.placedWith || (!this.placedClientPid && !!this.client?.pid) || (!this.placedServerPid && !!this.server?.pid);
  }

  retransmits(): number { return (this.client?.retransmits ?? 0) + (this.server?.retransmits ?? 0); }

  srttUs(): number { return this.client?.srttUs || this.server?.srttUs || 0; }

  isClosed(): boolean {
    if (!this.client && !this.server) return false;
    return (!this.client || this.client.closed) && (!this.server || this.server.closed);
  }
}

/**
 * The client's endpoint names the connection: its address and port, as both
 * ends see them; a loopback one only within its network namespace. (Read from
 * the side's fields where needed, not as an object: two per connection.)
 */
const endpointPort = (s: Side) => (s.role === 'client' ? s.localPort : s.peerPort);
const endpointIp = (s: Side) => (s.role === 'client' ? s.localIp : s.peerIp);

/** Is this connection's client endpoint the address `ip` (in `netns`, for loopback)? */
function at(c: Conn, ip: string, netns: number): boolean {
  const s = (c.client ?? c.server)!;
  const own = endpointIp(s);
  return own === ip && (!isLoopback(own) || s.netns === netns);
}

/** Clock differences between the kernel's timestamps and ours. */
const CLOCK_SLACK_MS = 100;

/**
 * Could these be the two ends of one connection, by time? A server socket
 * begins (SYN received) only after its client began (SYN sent), and before the
 * client is established. One that began after the other end was already known
 * established belongs to another connection on a reused client port.
 */
function sameLife(client: Side, server: Side): boolean {
  if (server.startTime && client.establishedBy && server.startTime > client.establishedBy + CLOCK_SLACK_MS) return false;
  if (client.startTime && server.establishedBy && client.startTime > server.establishedBy + CLOCK_SLACK_MS) return false;
  return true;
}

/** The client's view of the server is the server's own address: no NAT in between. */
const exactly = (client: Side, server: Side) => client.peerIp === server.localIp && client.peerPort === server.localPort;

const ephemeral = (port: number) => port >= EPHEMERAL_PORTS.low && port <= EPHEMERAL_PORTS.high;

/** A listening socket's owner as its listen event said (pid 0: not known). */
export interface Listener { netns: number; pid: number; comm: string; cgroupId: number; ip: string }
/** A listening socket: its port and owner. */
export interface ListeningSocket extends Listener { port: number }

/** A socket of unknown role whose port no known listener holds: the server's when only the peer's port is a client port. */
function roleByPorts(localPort: number, peerPort: number): 'client' | 'server' {
  return ephemeral(peerPort) && localPort !== 0 && !ephemeral(localPort) ? 'server' : 'client';
}

export class ConnectionTable {
  /** Sockets by cookie: the usual way events find their connection, without building strings. */
  private byCookie = new IntMap<Side>();
  /**
   * Sockets by tuple, to meet the same socket again across cookie-less start-up
   * discovery and the kernel: discovery's sockets until the kernel names them,
   * and the kernel's while discovery is under way.
   */
  private byTuple = new Map<string, Side>();
  /** Local ports of the sockets in byTuple, counted: a socket on another port builds no key to look up. */
  private tuplePorts = new IntMap<number>();
  /** Connections by client port (then address, and namespace for loopback); a port can be reused towards different servers. */
  private byEndpoint = new IntMap<Conn | Conn[]>();
  /** Listening sockets by port (then namespace), with their owner when known. Ports are small integers: no key to build. */
  private listeners = new Map<number, Listener[]>();
  /** Connections in the table (a count and a flag on each: no set to grow and shrink with every connection). */
  private liveCount = 0;
  /** Finished connections and sides, reused for new ones. */
  private spareConns: Conn[] = [];
  private spareSides: Side[] = [];
  private discoveryOn = false;

  get size(): number { return this.liveCount; }

  /** Start-up discovery is reporting what predates the agent: the kernel's sockets are indexed by tuple too meanwhile. */
  get discovering(): boolean { return this.discoveryOn; }
  set discovering(on: boolean) {
    if (this.discoveryOn && !on) {
      // Over: sockets the kernel named need no tuple any more; discovery's own keep theirs until it does.
      for (const side of [...this.byTuple.values()]) if (side.cookie) this.unindexTuple(side);
    }
    this.discoveryOn = on;
  }

  /** Every connection in the table, once each (a walk of the whole table: for rare changes, not per event). */
  forEachConn(fn: (c: Conn) => void): void {
    const seen = new Set<Conn>();
    const visit = (side: Side) => { if (!seen.has(side.conn)) { seen.add(side.conn); fn(side.conn); } };
    this.byCookie.forEach(visit);
    for (const side of this.byTuple.values()) visit(side);
  }

  /** The socket with this cookie, while its connection is in the table. */
  sideOf(cookie: number): Side | undefined { return this.byCookie.get(cookie); }

  isListening(netns: number, port: number): boolean { return this.listener(netns, port) !== undefined; }

  /** Every listening socket known now (from start-up discovery and listen events), with its owner when known (pid 0: not). */
  listening(): ListeningSocket[] {
    const out: ListeningSocket[] = [];
    for (const [port, list] of this.listeners) for (const l of list) out.push({ port, ...l });
    return out;
  }

  private listener(netns: number, port: number): Listener | undefined {
    const list = this.listeners.get(port);
    if (list) for (const l of list) if (l.netns === netns) return l;
    return undefined;
  }

  /** The socket the last apply() concerned (its connection is what apply returned). */
  applied: Side | undefined = undefined;

  /** Applies one event; returns the connection it concerns, or null (listeners). */
  apply(e: ConnEvent): Conn | null {
    if (e.type === 'listen' || e.type === 'listen_close') {
      const others = (this.listeners.get(e.sport) ?? []).filter((l) => l.netns !== e.netns);
      if (e.type === 'listen') others.push({ netns: e.netns, pid: e.pid, comm: e.comm, cgroupId: e.cgroupId, ip: e.saddr });
      if (others.length) this.listeners.set(e.sport, others); else this.listeners.delete(e.sport);
      return null;
    }

    let side = e.cookie ? this.byCookie.get(e.cookie) : undefined;
    if (!side && e.sport && this.tuplePorts.has(e.sport)) {
      side = this.byTuple.get(tupleKey(e));
      if (side && e.cookie && side.cookie && side.cookie !== e.cookie) side = undefined; // another socket on the same tuple, later
      if (side && e.cookie && !side.cookie) {
        side.cookie = e.cookie;
        this.byCookie.set(e.cookie, side);
        if (!this.discoveryOn) this.unindexTuple(side); // met: the cookie suffices from now on
      }
    }
    if (!side) side = this.add(e);
    this.applied = side;
    this.update(side, e);
    // Discovery names sockets without a cookie, often after the kernel did: meet them by tuple.
    if (!side.tuple && e.sport && (!side.cookie || this.discoveryOn)) this.indexTuple(side, tupleKey(e));
    if (side.role === 'server' && !side.pid) { // accepted in softirq: the listener's owner until a syscall names it
      const l = this.listener(side.netns, side.localPort);
      if (l?.pid) { side.pid = l.pid; side.comm = l.comm; }
    }
    if (side.role === 'client' && !side.conn.endpointPort && e.sport) this.join(side, e.time);
    const c = side.conn;
    if (e.time > c.lastTime) c.lastTime = e.time;
    if (e.startTime && e.startTime < c.startTime) c.startTime = e.startTime;
    if (e.established || e.type === 'established' || e.type === 'existing') c.established = true;
    if (e.type === 'close') {
      side.closed = true;
      side.l7 = e.l7;
      if (side.role === 'client' && e.resetUnread) {
        c.clientLeftUnread = true;
        // On one host the server's end often goes first, reset by this very close (its reset is handled before the
        // client's socket is gone): that failure is taken back (LiveGraph.account).
        if (c.failureFromServer && c.failure === 'reset') { c.failure = null; c.error = null; c.failureFromServer = false; }
      }
      if (e.failure && !c.failure && !(side.role === 'server' && e.failure === 'reset' && c.clientLeftUnread)) {
        c.failure = e.failure; c.error = e.error; c.failureFromServer = side.role === 'server';
      }
      if (c.isClosed()) c.closedAt = e.time;
    }
    return c;
  }

  /** Applies an open socket's counters; returns its connection, or null for a socket never introduced. */
  count(u: CounterUpdate, now: number): Conn | null {
    const s = this.byCookie.get(u.cookie);
    if (!s) return null;
    if (u.bytesSent > s.bytesSent) s.bytesSent = u.bytesSent;
    if (u.bytesReceived > s.bytesReceived) s.bytesReceived = u.bytesReceived;
    if (u.retransmits > s.retransmits) s.retransmits = u.retransmits;
    if (u.srttUs) s.srttUs = u.srttUs;
    if (u.pid && !s.pid) s.pid = u.pid;
    if (now > s.conn.lastTime) s.conn.lastTime = now;
    return s.conn;
  }

  /** A socket seen for the first time: join the other end of its connection, or start one. */
  private add(e: ConnEvent): Side {
    const role = e.role !== 'unknown' ? e.role : this.isListening(e.netns, e.sport) ? 'server' : roleByPorts(e.sport, e.dport);
    const side = this.spareSides.pop() ?? newSide();
    side.role = role; side.cookie = e.cookie; side.pid = e.pid; side.comm = e.comm; side.cgroupId = e.cgroupId; side.netns = e.netns;
    side.localIp = e.saddr; side.localPort = e.sport; side.peerIp = e.daddr; side.peerPort = e.dport;
    side.bytesSent = side.bytesReceived = side.retransmits = side.srttUs = 0;
    side.closed = side.l7 = false; side.startTime = e.midflight ? 0 : e.startTime; side.tuple = null; side.requests = undefined; side.lastCounts = null;
    side.establishedBy = e.established || e.type === 'established' || e.type === 'existing' ? e.time : 0;
    const indexed = role === 'server' || e.sport !== 0; // a client learns its port when established
    let conn = indexed ? this.partner(side) : undefined;
    if (!conn) {
      conn = this.spareConns.pop();
      if (conn) conn.begin(e.startTime || e.time); else conn = new Conn(e.startTime || e.time);
      conn.live = true;
      this.liveCount++;
      conn[role] = side;
      side.conn = conn;
      if (indexed) this.index(conn, endpointPort(side), e.time);
    } else {
      conn[role] = side;
      side.conn = conn;
    }
    conn.midflight ||= e.midflight;
    conn.discovered ||= e.type === 'existing';
    if (e.cookie) this.byCookie.set(e.cookie, side);
    return side;
  }

  /**
   * The connection at this side's client endpoint still waiting for this
   * side's role: the one whose addresses match exactly; else, off loopback,
   * the only one (DNAT changes the server address a client sees); never one
   * whose other end began or was established at a time that rules it out (a
   * client port reused towards another server).
   */
  private partner(side: Side): Conn | undefined {
    const ip = endpointIp(side);
    const entry = this.byEndpoint.get(endpointPort(side));
    if (!entry) return undefined;
    let only: Conn | undefined, candidates = 0, kept: Conn | undefined, keptCount = 0;
    const n = Array.isArray(entry) ? entry.length : 1;
    for (let i = 0; i < n; i++) {
      const c = Array.isArray(entry) ? entry[i] : entry;
      const other = side.role === 'client' ? c.server : c.client;
      if (c[side.role] || !other || !at(c, ip, side.netns)) continue;
      const cl = side.role === 'client' ? side : other, sv = side.role === 'client' ? other : side;
      if (!sameLife(cl, sv)) continue;
      if (exactly(cl, sv)) return c;
      // A closed client kept to the end of its batch (LiveGraph.finishAtBatchEnd) is the DNAT case only when
      // nothing else waits there: as one more candidate it would hide the one a reused client port now has.
      if (c.finishDeferred) { keptCount++; kept = c; continue; }
      candidates++;
      only = c;
    }
    if (isLoopback(ip)) return undefined;
    return candidates === 1 ? only : candidates === 0 && keptCount === 1 ? kept : undefined;
  }

  private index(conn: Conn, port: number, time: number): void {
    conn.endpointPort = port;
    if (time > conn.waitingSince) conn.waitingSince = time;
    const entry = this.byEndpoint.get(port);
    if (!entry) this.byEndpoint.set(port, conn);
    else if (Array.isArray(entry)) entry.push(conn);
    else this.byEndpoint.set(port, [entry, conn]);
  }

  private unindex(conn: Conn): void {
    const port = conn.endpointPort;
    if (!port) return;
    conn.endpointPort = 0;
    const entry = this.byEndpoint.get(port);
    if (entry === conn) { this.byEndpoint.delete(port); return; }
    if (!Array.isArray(entry)) return;
    const i = entry.indexOf(conn);
    if (i >= 0) entry.splice(i, 1);
    if (entry.length === 1) this.byEndpoint.set(port, entry[0]);
    else if (!entry.length) this.byEndpoint.delete(port);
  }

  private update(s: Side, e: ConnEvent): void {
    if (e.pid) { s.pid = e.pid; s.comm = e.comm; }
    if (e.cgroupId) s.cgroupId = e.cgroupId;
    if (e.sport) { s.localIp = e.saddr; s.localPort = e.sport; s.peerIp = e.daddr; s.peerPort = e.dport; }
    if (e.bytesSent > s.bytesSent) s.bytesSent = e.bytesSent;
    if (e.bytesReceived > s.bytesReceived) s.bytesReceived = e.bytesReceived;
    if (e.retransmits > s.retransmits) s.retransmits = e.retransmits;
    if (e.srttUs) s.srttUs = e.srttUs;
    if (!s.establishedBy && (e.established || e.type === 'established')) s.establishedBy = e.time;
  }

  /** The client side learnt its port: join the server side if it came first, else wait at its endpoint. */
  private join(client: Side, time: number): void {
    const conn = client.conn;
    const other = this.partner(client);
    if (!other) { this.index(conn, client.localPort, time); return; }
    other.client = client;
    client.conn = other;
    other.established ||= conn.established;
    other.startTime = Math.min(other.startTime, conn.startTime);
    conn.client = undefined;
    conn.ignored = true; // merged away
    this.forget(conn);
  }

  /** Forgets a finished connection; its objects are reused for a later one. */
  remove(conn: Conn): void {
    if (!conn.live) return;
    this.unindex(conn);
    this.retire(conn.client, conn);
    this.retire(conn.server, conn);
    this.forget(conn);
    if (this.spareConns.length < SPARE) this.spareConns.push(conn);
  }

  private retire(s: Side | undefined, conn: Conn): void {
    if (!s || s.conn !== conn) return;
    if (s.cookie && this.byCookie.get(s.cookie) === s) this.byCookie.delete(s.cookie);
    if (s.tuple) this.unindexTuple(s);
    if (this.spareSides.length < SPARE * 2) this.spareSides.push(s);
  }

  private indexTuple(side: Side, key: string): void {
    const old = this.byTuple.get(key);
    if (old && old !== side) this.unindexTuple(old);
    side.tuple = key;
    this.byTuple.set(key, side);
    this.tuplePorts.set(side.localPort, (this.tuplePorts.get(side.localPort) ?? 0) + 1);
  }

  private unindexTuple(side: Side): void {
    if (!side.tuple) return;
    if (this.byTuple.get(side.tuple) === side) {
      this.byTuple.delete(side.tuple);
      const n = (this.tuplePorts.get(side.localPort) ?? 1) - 1;
      if (n > 0) this.tuplePorts.set(side.localPort, n); else this.tuplePorts.delete(side.localPort);
    }
    side.tuple = null;
  }

  private forget(conn: Conn): void {
    if (conn.live) { conn.live = false; this.liveCount--; }
  }
}

/** Finished connections kept for reuse at most. */
const SPARE = 4096;

function newSide(): Side {
  return {
    conn: null as unknown as Conn, role: 'client', cookie: 0, pid: 0, comm: '', cgroupId: 0, netns: 0, localIp: '', localPort: 0, peerIp: '', peerPort: 0,
    bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, closed: false, l7: false, startTime: 0, establishedBy: 0, tuple: null,
    requests: undefined, lastCounts: null,
  };
}

function tupleKey(e: ConnEvent): string { return `${e.netns}|${e.saddr}|${e.sport}|${e.daddr}|${e.dport}`; }
