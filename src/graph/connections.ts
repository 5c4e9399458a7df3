// Correlates the two ends of a TCP connection. When both ends are on this host
// the kernel reports two sockets; they meet on the client's endpoint
// (address, port), which both views share even through DNAT.
import type { ConnEvent, CounterUpdate, FailureReason } from '../events/types.js';

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
  /** When the kernel saw it begin (SYN sent or received); null when it predates what we saw. */
  startTime: number | null;
  /** A time by which it was known to be established (the first event that said so), or null. */
  establishedBy: number | null;
  /** Its key in the tuple index, once indexed. */
  tuple: string | null;
}

export class Conn {
  /** The client's port: its entry in the endpoint index (0: not indexed yet). */
  endpointPort = 0;
  client?: Side;
  server?: Side;
  startTime: number;
  lastTime: number;
  established = false;
  failure: FailureReason | null = null;
  error: string | null = null;
  closedAt: number | null = null;
  midflight = false;
  /** Started from start-up discovery (its other end may still be on its way). */
  discovered = false;
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
  /** What it has added to its edge so far (rttUs, durationMs: its samples, if taken). */
  counted = { open: false, close: false, failure: false, sent: 0, received: 0, retransmits: 0, rttUs: 0, durationMs: -1 };
  constructor(readonly createdAt: number) {
    this.startTime = createdAt;
    this.lastTime = createdAt;
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

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/**
 * The client's endpoint names the connection: its address and port, as both
 * ends see them; a loopback one only within its network namespace.
 */
interface Endpoint { ip: string; port: number; netns: number }

function endpointOf(s: Side): Endpoint {
  return s.role === 'client' ? { ip: s.localIp, port: s.localPort, netns: s.netns } : { ip: s.peerIp, port: s.peerPort, netns: s.netns };
}

/** Is this connection's client endpoint `ep`? */
function at(c: Conn, ep: Endpoint): boolean {
  const s = (c.client ?? c.server)!;
  const ip = s.role === 'client' ? s.localIp : s.peerIp;
  return ip === ep.ip && (!isLoopback(ip) || s.netns === ep.netns);
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
  if (server.startTime !== null && client.establishedBy !== null && server.startTime > client.establishedBy + CLOCK_SLACK_MS) return false;
  if (client.startTime !== null && server.establishedBy !== null && client.startTime > server.establishedBy + CLOCK_SLACK_MS) return false;
  return true;
}

/** The client's view of the server is the server's own address: no NAT in between. */
const exactly = (client: Side, server: Side) => client.peerIp === server.localIp && client.peerPort === server.localPort;

const listenerKey = (netns: number, port: number) => netns * 65536 + port;

export class ConnectionTable {
  /** Sockets by cookie: the usual way events find their connection, without building strings. */
  private byCookie = new Map<number, Side>();
  /**
   * Sockets by tuple, to meet the same socket again across cookie-less start-up
   * discovery and the kernel: discovery's sockets until the kernel names them,
   * and the kernel's while discovery is under way.
   */
  private byTuple = new Map<string, Side>();
  /** Connections by client port (then address, and namespace for loopback); a port can be reused towards different servers. */
  private byEndpoint = new Map<number, Conn | Conn[]>();
  /** Listening sockets by namespace and port, with their owner when known. */
  private listeners = new Map<number, { pid: number; comm: string }>();
  private live = new Set<Conn>();
  private discoveryOn = false;

  get size(): number { return this.live.size; }

  /** Start-up discovery is reporting what predates the agent: the kernel's sockets are indexed by tuple too meanwhile. */
  get discovering(): boolean { return this.discoveryOn; }
  set discovering(on: boolean) {
    if (this.discoveryOn && !on) {
      // Over: sockets the kernel named need no tuple any more; discovery's own keep theirs until it does.
      for (const [t, side] of this.byTuple) if (side.cookie) { this.byTuple.delete(t); side.tuple = null; }
    }
    this.discoveryOn = on;
  }

  /** The socket with this cookie, while its connection is in the table. */
  sideOf(cookie: number): Side | undefined { return this.byCookie.get(cookie); }

  isListening(netns: number, port: number): boolean { return this.listeners.has(listenerKey(netns, port)); }

  /** Applies one event; returns the connection it concerns, or null (listeners). */
  apply(e: ConnEvent): Conn | null {
    if (e.type === 'listen') { this.listeners.set(listenerKey(e.netns, e.sport), { pid: e.pid, comm: e.comm }); return null; }
    if (e.type === 'listen_close') { this.listeners.delete(listenerKey(e.netns, e.sport)); return null; }

    let side = e.cookie ? this.byCookie.get(e.cookie) : undefined;
    if (!side && e.sport && this.byTuple.size) {
      side = this.byTuple.get(tupleKey(e));
      if (side && e.cookie && side.cookie && side.cookie !== e.cookie) side = undefined; // another socket on the same tuple, later
      if (side && e.cookie && !side.cookie) {
        side.cookie = e.cookie;
        this.byCookie.set(e.cookie, side);
        if (!this.discoveryOn) { this.byTuple.delete(side.tuple!); side.tuple = null; } // met: the cookie suffices from now on
      }
    }
    if (!side) side = this.add(e);
    this.update(side, e);
    // Discovery names sockets without a cookie, often after the kernel did: meet them by tuple.
    if (!side.tuple && e.sport && (!side.cookie || this.discoveryOn)) {
      side.tuple = tupleKey(e);
      this.byTuple.set(side.tuple, side);
    }
    if (side.role === 'server' && !side.pid) { // accepted in softirq: the listener's owner until a syscall names it
      const l = this.listeners.get(listenerKey(side.netns, side.localPort));
      if (l?.pid) { side.pid = l.pid; side.comm = l.comm; }
    }
    if (side.role === 'client' && !side.conn.endpointPort && e.sport) this.join(side);
    const c = side.conn;
    if (e.time > c.lastTime) c.lastTime = e.time;
    if (e.startTime && e.startTime < c.startTime) c.startTime = e.startTime;
    if (e.established || e.type === 'established' || e.type === 'existing') c.established = true;
    if (e.type === 'close') {
      side.closed = true;
      if (e.failure && !c.failure) { c.failure = e.failure; c.error = e.error; }
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
    const role = e.role !== 'unknown' ? e.role : this.isListening(e.netns, e.sport) ? 'server' : 'client';
    const side: Side = {
      conn: null as unknown as Conn, role, cookie: e.cookie, pid: e.pid, comm: e.comm, cgroupId: e.cgroupId, netns: e.netns,
      localIp: e.saddr, localPort: e.sport, peerIp: e.daddr, peerPort: e.dport, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0,
      closed: false, startTime: e.midflight ? null : e.startTime, establishedBy: null, tuple: null,
    };
    if (e.established || e.type === 'established' || e.type === 'existing') side.establishedBy = e.time;
    const indexed = role === 'server' || e.sport !== 0; // a client learns its port when established
    let conn = indexed ? this.partner(side) : undefined;
    if (!conn) {
      conn = new Conn(e.startTime ?? e.time);
      this.live.add(conn);
      conn[role] = side;
      side.conn = conn;
      if (indexed) this.index(conn, endpointOf(side).port);
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
    const ep = endpointOf(side);
    const entry = this.byEndpoint.get(ep.port);
    if (!entry) return undefined;
    let only: Conn | undefined, candidates = 0;
    for (const c of Array.isArray(entry) ? entry : [entry]) {
      const other = side.role === 'client' ? c.server : c.client;
      if (c[side.role] || !other || !at(c, ep)) continue;
      const cl = side.role === 'client' ? side : other, sv = side.role === 'client' ? other : side;
      if (!sameLife(cl, sv)) continue;
      if (exactly(cl, sv)) return c;
      candidates++;
      only = c;
    }
    return candidates === 1 && !isLoopback(ep.ip) ? only : undefined;
  }

  private index(conn: Conn, port: number): void {
    conn.endpointPort = port;
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
    if (s.establishedBy === null && (e.established || e.type === 'established')) s.establishedBy = e.time;
  }

  /** The client side learnt its port: join the server side if it came first, else wait at its endpoint. */
  private join(client: Side): void {
    const conn = client.conn;
    const other = this.partner(client);
    if (!other) { this.index(conn, client.localPort); return; }
    other.client = client;
    client.conn = other;
    other.established ||= conn.established;
    other.startTime = Math.min(other.startTime, conn.startTime);
    conn.client = undefined;
    conn.ignored = true; // merged away
    this.live.delete(conn);
  }

  /** Forgets a finished connection. */
  remove(conn: Conn): void {
    for (const s of [conn.client, conn.server]) {
      if (!s || s.conn !== conn) continue;
      if (s.cookie && this.byCookie.get(s.cookie) === s) this.byCookie.delete(s.cookie);
      if (s.tuple && this.byTuple.get(s.tuple) === s) this.byTuple.delete(s.tuple);
    }
    this.unindex(conn);
    this.live.delete(conn);
  }
}

function tupleKey(e: ConnEvent): string { return `${e.netns}|${e.saddr}|${e.sport}|${e.daddr}|${e.dport}`; }
