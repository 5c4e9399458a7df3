// Correlates the two ends of a TCP connection. When both ends are on this host
// the kernel reports two sockets; they meet on the client's endpoint
// (address, port), which both views share even through DNAT.
import type { ConnEvent, CounterUpdate, FailureReason } from '../events/types.js';

export interface Side {
  role: 'client' | 'server';
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
  /** Its key in the tuple index, once its local port is known. */
  tuple: string | null;
}

export class Conn {
  key: string | null = null;
  client?: Side;
  server?: Side;
  startTime: number;
  lastTime: number;
  established = false;
  failure: FailureReason | null = null;
  error: string | null = null;
  closedAt: number | null = null;
  midflight = false;
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
  cookies: number[] = [];
  tuples: string[] = [];

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
    const sides = [this.client, this.server].filter((s): s is Side => !!s);
    return sides.length > 0 && sides.every((s) => s.closed);
  }
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/** The client's endpoint names the connection; loopback ones only within a namespace. */
function endpointKey(ip: string, port: number, netns: number): string {
  return isLoopback(ip) ? `${netns}|${ip}|${port}` : `${ip}|${port}`;
}

type Ref = { conn: Conn; role: 'client' | 'server' };

export class ConnectionTable {
  /** Sockets by cookie: the usual way events find their connection, without building strings. */
  private byCookie = new Map<number, Ref>();
  /** Sockets found by start-up discovery have no cookie until the kernel reports them. */
  private byTuple = new Map<string, Ref>();
  /** Connections by client endpoint; a client port can be reused towards different servers. */
  private byEndpoint = new Map<string, Conn[]>();
  /** Listening sockets by namespace and port, with their owner when known. */
  private listeners = new Map<string, { pid: number; comm: string }>();
  private live = new Set<Conn>();

  get size(): number { return this.live.size; }

  isListening(netns: number, port: number): boolean { return this.listeners.has(`${netns}|${port}`); }

  /** Applies one event; returns the connection it concerns, or null (listeners). */
  apply(e: ConnEvent): Conn | null {
    if (e.type === 'listen') { this.listeners.set(`${e.netns}|${e.sport}`, { pid: e.pid, comm: e.comm }); return null; }
    if (e.type === 'listen_close') { this.listeners.delete(`${e.netns}|${e.sport}`); return null; }

    let ref = e.cookie ? this.byCookie.get(e.cookie) : undefined;
    if (!ref && e.sport) {
      ref = this.byTuple.get(tupleKey(e));
      if (ref && e.cookie) this.byCookie.set(e.cookie, ref);
    }
    if (!ref) ref = this.add(e);
    const side = ref.conn[ref.role]!;
    this.update(side, e);
    if (!side.tuple && e.sport) { // also by tuple: start-up discovery names sockets without a cookie, often after the kernel did
      side.tuple = tupleKey(e);
      this.byTuple.set(side.tuple, ref);
      ref.conn.tuples.push(side.tuple);
    }
    if (ref.role === 'server' && !side.pid) { // accepted in softirq: the listener's owner until a syscall names it
      const l = this.listeners.get(`${side.netns}|${side.localPort}`);
      if (l?.pid) { side.pid = l.pid; side.comm = l.comm; }
    }
    if (ref.role === 'client' && !ref.conn.key && e.sport) ref = this.join(ref, endpointKey(e.saddr, e.sport, e.netns));
    const c = ref.conn;
    c.lastTime = Math.max(c.lastTime, e.time);
    if (e.startTime && e.startTime < c.startTime) c.startTime = e.startTime;
    if (e.established || e.type === 'established' || e.type === 'existing') c.established = true;
    if (e.type === 'close') {
      c[ref.role]!.closed = true;
      if (e.failure && !c.failure) { c.failure = e.failure; c.error = e.error; }
      if (c.isClosed()) c.closedAt = e.time;
    }
    return c;
  }

  /** Applies an open socket's counters; returns its connection, or null for a socket never introduced. */
  count(u: CounterUpdate, now: number): Conn | null {
    const ref = this.byCookie.get(u.cookie);
    if (!ref) return null;
    const s = ref.conn[ref.role]!;
    if (u.bytesSent > s.bytesSent) s.bytesSent = u.bytesSent;
    if (u.bytesReceived > s.bytesReceived) s.bytesReceived = u.bytesReceived;
    if (u.retransmits > s.retransmits) s.retransmits = u.retransmits;
    if (u.srttUs) s.srttUs = u.srttUs;
    if (u.pid && !s.pid) s.pid = u.pid;
    if (now > ref.conn.lastTime) ref.conn.lastTime = now;
    return ref.conn;
  }

  /** A socket seen for the first time: join the other end of its connection, or start one. */
  private add(e: ConnEvent): Ref {
    const role = e.role !== 'unknown' ? e.role : this.isListening(e.netns, e.sport) ? 'server' : 'client';
    const side: Side = {
      role, pid: e.pid, comm: e.comm, cgroupId: e.cgroupId, netns: e.netns, localIp: e.saddr, localPort: e.sport,
      peerIp: e.daddr, peerPort: e.dport, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, closed: false, tuple: null,
    };
    const key = role === 'client' ? (e.sport ? endpointKey(e.saddr, e.sport, e.netns) : null) : endpointKey(e.daddr, e.dport, e.netns);
    let conn = key ? this.partner(key, side) : undefined;
    if (!conn) {
      conn = new Conn(e.startTime ?? e.time);
      this.live.add(conn);
      if (key) this.addEndpoint(key, conn);
    }
    conn[role] = side;
    conn.midflight ||= e.midflight;
    const ref = { conn, role };
    if (e.cookie) { this.byCookie.set(e.cookie, ref); conn.cookies.push(e.cookie); }
    return ref;
  }

  /**
   * The connection at this client endpoint still waiting for the other end:
   * the one whose addresses match exactly, else the only one (DNAT changes
   * the server address a client sees), else none.
   */
  private partner(key: string, side: Side): Conn | undefined {
    const other = side.role === 'client' ? 'server' : 'client';
    const waiting = this.byEndpoint.get(key)?.filter((c) => !c[side.role] && c[other]);
    if (!waiting?.length) return undefined;
    const exact = waiting.find((c) => { const o = c[other]!; return o.localIp === side.peerIp && o.localPort === side.peerPort; });
    return exact ?? (waiting.length === 1 ? waiting[0] : undefined);
  }

  private addEndpoint(key: string, conn: Conn): void {
    conn.key = key;
    const list = this.byEndpoint.get(key);
    if (list) list.push(conn); else this.byEndpoint.set(key, [conn]);
  }

  private update(s: Side, e: ConnEvent): void {
    if (e.pid) { s.pid = e.pid; s.comm = e.comm; }
    if (e.cgroupId) s.cgroupId = e.cgroupId;
    if (e.sport) { s.localIp = e.saddr; s.localPort = e.sport; s.peerIp = e.daddr; s.peerPort = e.dport; }
    if (e.bytesSent > s.bytesSent) s.bytesSent = e.bytesSent;
    if (e.bytesReceived > s.bytesReceived) s.bytesReceived = e.bytesReceived;
    if (e.retransmits > s.retransmits) s.retransmits = e.retransmits;
    if (e.srttUs) s.srttUs = e.srttUs;
  }

  /** The client side learnt its port: join the server side if it came first. */
  private join(ref: Ref, key: string): Ref {
    const conn = ref.conn;
    const other = this.partner(key, conn.client!);
    if (!other) { this.addEndpoint(key, conn); return ref; }
    other.client = conn.client;
    other.established ||= conn.established;
    other.startTime = Math.min(other.startTime, conn.startTime);
    const moved = { conn: other, role: 'client' as const };
    for (const c of conn.cookies) { this.byCookie.set(c, moved); other.cookies.push(c); }
    for (const t of conn.tuples) { this.byTuple.set(t, moved); other.tuples.push(t); }
    conn.cookies = [];
    conn.tuples = [];
    conn.ignored = true; // merged away
    this.live.delete(conn);
    return moved;
  }

  /** Forgets a finished connection. */
  remove(conn: Conn): void {
    for (const c of conn.cookies) if (this.byCookie.get(c)?.conn === conn) this.byCookie.delete(c);
    for (const t of conn.tuples) if (this.byTuple.get(t)?.conn === conn) this.byTuple.delete(t);
    if (conn.key) {
      const list = this.byEndpoint.get(conn.key);
      const i = list?.indexOf(conn) ?? -1;
      if (i >= 0) { list!.splice(i, 1); if (!list!.length) this.byEndpoint.delete(conn.key); }
    }
    conn.cookies = [];
    conn.tuples = [];
    this.live.delete(conn);
  }
}

function tupleKey(e: ConnEvent): string { return `${e.netns}|${e.saddr}|${e.sport}|${e.daddr}|${e.dport}`; }
