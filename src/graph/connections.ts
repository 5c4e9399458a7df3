// Correlates the two ends of a TCP connection. When both ends are on this host
// the kernel reports two sockets; they meet on the client's endpoint
// (address, port), which both views share even through DNAT.
import type { ConnEvent } from '../events/types.js';
import type { FailureReason } from './types.js';

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
  counted = { open: false, close: false, failure: false, sent: 0, received: 0, retransmits: 0 };
  socketKeys: string[] = [];

  constructor(readonly createdAt: number) {
    this.startTime = createdAt;
    this.lastTime = createdAt;
  }

  /** Client-to-server and server-to-client bytes; both views count the same bytes. */
  bytes(): { sent: number; received: number } {
    return {
      sent: Math.max(this.client?.bytesSent ?? 0, this.server?.bytesReceived ?? 0),
      received: Math.max(this.server?.bytesSent ?? 0, this.client?.bytesReceived ?? 0),
    };
  }

  sides(): number { return (this.client ? 1 : 0) | (this.server ? 2 : 0); }

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

export class ConnectionTable {
  private bySocket = new Map<string, { conn: Conn; role: 'client' | 'server' }>();
  private byEndpoint = new Map<string, Conn>();
  /** Listening sockets by namespace and port, with their owner when known. */
  private listeners = new Map<string, { pid: number; comm: string }>();

  get size(): number { return this.byEndpoint.size; }

  isListening(netns: number, port: number): boolean { return this.listeners.has(`${netns}|${port}`); }

  /** Applies one event; returns the connection it concerns, or null (listeners). */
  apply(e: ConnEvent): Conn | null {
    if (e.type === 'listen') { this.listeners.set(`${e.netns}|${e.sport}`, { pid: e.pid, comm: e.comm }); return null; }
    if (e.type === 'listen_close') { this.listeners.delete(`${e.netns}|${e.sport}`); return null; }

    const cookieKey = e.cookie ? `c:${e.cookie}` : null;
    const tupleKey = e.sport ? `t:${e.netns}|${e.saddr}|${e.sport}|${e.daddr}|${e.dport}` : null;
    let ref = (cookieKey && this.bySocket.get(cookieKey)) || (tupleKey && this.bySocket.get(tupleKey)) || null;

    if (!ref) {
      const role = e.role !== 'unknown' ? e.role : this.isListening(e.netns, e.sport) ? 'server' : 'client';
      const side: Side = {
        role, pid: e.pid, comm: e.comm, cgroupId: e.cgroupId, netns: e.netns, localIp: e.saddr, localPort: e.sport,
        peerIp: e.daddr, peerPort: e.dport, bytesSent: 0, bytesReceived: 0, retransmits: 0, srttUs: 0, closed: false,
      };
      let conn: Conn | undefined;
      const key = role === 'client' ? (e.sport ? endpointKey(e.saddr, e.sport, e.netns) : null) : endpointKey(e.daddr, e.dport, e.netns);
      if (key) conn = this.byEndpoint.get(key);
      if (!conn || conn[role]) { // a new connection (an old one on a reused port was closed)
        conn = new Conn(e.startTime ?? e.time);
        conn.key = key;
        if (key) this.byEndpoint.set(key, conn);
      }
      conn[role] = side;
      conn.midflight ||= e.midflight;
      ref = { conn, role };
    }
    const { conn, role } = ref;
    const side = conn[role]!;
    this.index(ref, cookieKey, tupleKey);
    this.update(side, e);
    if (role === 'server' && !side.pid) { // accepted in softirq: the listener's owner until a syscall names it
      const l = this.listeners.get(`${side.netns}|${side.localPort}`);
      if (l?.pid) { side.pid = l.pid; side.comm = l.comm; }
    }
    if (role === 'client' && !conn.key && e.sport) this.rekey(conn, endpointKey(e.saddr, e.sport, e.netns));
    const c = this.bySocket.get((cookieKey ?? tupleKey)!)?.conn ?? conn; // rekey may have merged it into another
    c.lastTime = Math.max(c.lastTime, e.time);
    if (e.startTime && e.startTime < c.startTime) c.startTime = e.startTime;
    if (e.established || e.type === 'established' || e.type === 'existing') c.established = true;
    if (e.type === 'close') {
      c[role]!.closed = true;
      if (e.failure && !c.failure) { c.failure = e.failure; c.error = e.error; }
      if (c.isClosed()) c.closedAt = e.time;
    }
    return c;
  }

  private index(ref: { conn: Conn; role: 'client' | 'server' }, ...keys: (string | null)[]): void {
    for (const k of keys) {
      if (k && !this.bySocket.has(k)) {
        this.bySocket.set(k, ref);
        ref.conn.socketKeys.push(k);
      }
    }
  }

  private update(s: Side, e: ConnEvent): void {
    if (e.pid) { s.pid = e.pid; s.comm = e.comm; }
    if (e.cgroupId) s.cgroupId = e.cgroupId;
    if (e.sport) { s.localIp = e.saddr; s.localPort = e.sport; s.peerIp = e.daddr; s.peerPort = e.dport; }
    s.bytesSent = Math.max(s.bytesSent, e.bytesSent);
    s.bytesReceived = Math.max(s.bytesReceived, e.bytesReceived);
    s.retransmits = Math.max(s.retransmits, e.retransmits);
    if (e.srttUs) s.srttUs = e.srttUs;
  }

  /** The client side learnt its port: join the server side if it came first. */
  private rekey(conn: Conn, key: string): void {
    const other = this.byEndpoint.get(key);
    if (other && other !== conn && !other.client) {
      other.client = conn.client;
      other.established ||= conn.established;
      other.startTime = Math.min(other.startTime, conn.startTime);
      for (const k of conn.socketKeys) {
        this.bySocket.set(k, { conn: other, role: 'client' });
        other.socketKeys.push(k);
      }
      conn.socketKeys = [];
      conn.ignored = true; // merged away
      return;
    }
    conn.key = key;
    this.byEndpoint.set(key, conn);
  }

  /** Forgets a finished connection. */
  remove(conn: Conn): void {
    for (const k of conn.socketKeys) if (this.bySocket.get(k)?.conn === conn) this.bySocket.delete(k);
    if (conn.key && this.byEndpoint.get(conn.key) === conn) this.byEndpoint.delete(conn.key);
  }
}
