// Requests (L7) on the map. The request collector reports what each socket
// counted, by socket cookie; the cookie names a side of a connection, and the
// connection is on an edge. A socket's requests go to that edge, and move with
// the connection when it is placed again.
//
// A connection with both ends on this host has two sockets that count the same
// requests. Only one is counted: the client's when it has counted any, else the
// server's. (A client whose TLS library has no uprobe, or a remote client, counts
// nothing; then the server's view stands. If the client's view shows up after
// the server's was counted, the server's is taken back and the client's put in
// its place.) Samples follow the same rule, so a failed request is listed once.
import type { L7Delta, L7Sample } from '../l7/types.js';
import { Conn, type Side } from './connections.js';
import { NO_ROW, OrphanCounts } from './orphan-counts.js';
import type { EdgeState, GraphState } from './state.js';
import type { IntervalCounts } from './interval.js';
import { RequestWindow } from './request-window.js';
import { PROTOCOL_INDEX, ProtocolTotals, RequestTotals, SideRequests, EdgeRequestState, isRequestProtocol, type ConnRequests } from './request-totals.js';
import { REQUEST_PROTOCOLS, type RequestProtocol, type RequestSample } from './types.js';
import { L7_DEFAULTS } from '../config/defaults.js';
import { serverName, type NodeRef } from './naming.js';

/** What the ledger needs of a connection and its sockets: the table's own, or a closed one's small stand-in. */
interface LedgerConn { edgeId: string | null; ignored: boolean; client?: LedgerSide; server?: LedgerSide; requests: ConnRequests | undefined; ledgerMark: number; serverRef?: NodeRef | null; serverPort?: number }
interface LedgerSide { role: 'client' | 'server'; cookie: number; conn: LedgerConn; requests: SideRequests | undefined }

/** A delta that counted nothing. */
function isEmpty(d: L7Delta): boolean {
  if (d.latencySumNs || d.unpaired) return false;
  for (let i = 0; i < d.requests.length; i++) if (d.requests[i]) return false;
  for (let i = 0; i < d.buckets.length; i++) if (d.buckets[i]) return false;
  return true;
}

/**
 * Sockets whose counts may wait at once as orphans before the table grows. An orphan of a closing connection waits
 * one batch (DEFAULTS.drainDelayMs, 100 ms: 20k closing sockets a second fit); one of a connection that stays open
 * waits up to a graph tick (100 ms).
 */
const ORPHAN_SOCKETS = 2048;

/** Objects each pool keeps at most (a burst's are left to the GC). */
const POOL_MAX = 4096;

/**
 * Per-socket and per-connection request state, recycled. Under
 * connection-per-request load every connection made about a dozen objects and
 * arrays here, which lived just long enough for V8's young generation to copy
 * them: the agent's largest GC cost (nginx under wrk: a third of all it allocated).
 */
class LedgerPool {
  private readonly totals: RequestTotals[] = [];
  private readonly sides: SideRequests[] = [];
  private readonly conns: ConnRequests[] = [];

  takeTotals(): RequestTotals { return this.totals.pop() ?? new RequestTotals(); }
  takeSide(): SideRequests { const s = this.sides.pop() ?? new SideRequests(); s.free = false; return s; }
  takeConn(): ConnRequests {
    const cr = this.conns.pop() ?? { source: null, edge: null, counted: new ProtocolTotals(), held: [], clientSampled: false, free: false };
    cr.free = false;
    return cr;
  }

  giveTotals(t: RequestTotals): void {
    if (this.totals.length >= POOL_MAX) return;
    t.reset();
    this.totals.push(t);
  }

  /** Gives back what a ProtocolTotals holds, and empties it. */
  giveAll(p: ProtocolTotals): void {
    for (let i = 0; i < p.totals.length; i++) this.giveTotals(p.totals[i]);
    p.clear();
  }

  giveSide(s: SideRequests): void {
    if (s.free) return;
    this.giveAll(s.totals);
    s.final = false;
    s.free = true;
    if (this.sides.length < POOL_MAX) this.sides.push(s);
  }

  giveConn(cr: ConnRequests): void {
    if (cr.free) return;
    this.giveAll(cr.counted);
    cr.source = null;
    cr.edge = null;
    cr.held.length = 0;
    cr.clientSampled = false;
    cr.free = true;
    if (this.conns.length < POOL_MAX) this.conns.push(cr);
  }
}

export interface RequestCounters {
  /** Requests counted on edges (all protocols). */
  requests: number;
  /** Requests of sockets the graph never came to know (their connection was not seen): counted, not on the map. */
  unplacedRequests: number;
  /** Samples of such sockets, or held past the bound while their connection waited for placement. */
  unplacedSamples: number;
}

/**
 * Whether a finished connection's socket may still send request counts: its closing count is not in, and
 * it is still open, or its close said the kernel parsed requests on it, or it has counted some. (The last
 * covers a close without the mark: the kernel's connection entry was made again after its parser marked it,
 * e.g. a client's second connect, or made late when the connection map was full.)
 */
function awaitsCount(s: Side | undefined): boolean {
  return !!s?.cookie && !s.requests?.final && (!s.closed || s.l7 || !!s.requests);
}

/** How long a socket's requests wait for its connection (a socket introduced late, a final count after its close). */
const WAIT_MS = 5_000;
/** How long a closed connection's sockets stay findable (their last counts come within a flush). */
const CLOSED_MS = 2_500;
const HELD_SAMPLES = 64;
const ORPHAN_SAMPLES = 256;

export class RequestLedger {
  /**
   * Connections the table forgot lately, as small stand-ins (not the table's objects, which
   * a busy host closes by the ten thousand a second): a socket's last count comes with or
   * just after its close.
   */
  private readonly closed = new Map<number, { side: LedgerSide; at: number }>();
  /** Counts of sockets not known (yet) to the table, summed as they come. */
  private readonly orphans = new OrphanCounts(ORPHAN_SOCKETS);
  private readonly pool = new LedgerPool();
  private orphanSamples: { sample: L7Sample; at: number }[] = [];
  readonly counters: RequestCounters = { requests: 0, unplacedRequests: 0, unplacedSamples: 0 };
  /** Off when requests are not captured (`--no-l7`): no counts will come, so closed connections leave no stand-ins. */
  enabled = true;
  private readonly touched: LedgerConn[] = [];
  /**
   * Sockets whose last counts came with their close in the batch being ingested while their connection did not end
   * with it (its other end still open, or not placed yet): most such connections end later in the batch and take them
   * then; the rest keep a copy at the batch's end (applyBatch).
   */
  private readonly pendingLast: Side[] = [];
  /** Edges with counts in their batch totals (applyBatch). */
  private readonly batchedEdges: EdgeState[] = [];
  private mark = 0;
  /** A difference applied and added at once (apply and add copy it). */
  private readonly scratch = new RequestTotals();

  constructor(
    private readonly state: GraphState,
    private readonly sideOf: (cookie: number) => Side | undefined,
    private readonly samplesPerEdge = L7_DEFAULTS.edgeSamples,
  ) {}

  /** The socket's side, in the table or a stand-in's (none under connection-per-request load: no hashing then). */
  private find(cookie: number): LedgerSide | undefined {
    return this.sideOf(cookie) ?? (this.closed.size ? this.closed.get(cookie)?.side : undefined);
  }

  /** Per-socket deltas from the request collector. */
  ingest(deltas: readonly L7Delta[], now: number): void {
    // The batch's connections, each once (marked), in an array kept from batch to batch.
    const touched = this.touched, mark = ++this.mark;
    touched.length = 0;
    const touch = (c: LedgerConn) => { if (c.ledgerMark !== mark) { c.ledgerMark = mark; touched.push(c); } };
    // The deltas are read here, never kept (the collector reuses them).
    for (const d of deltas) {
      if (!isRequestProtocol(d.protocol)) continue; // TLS without plaintext, or nothing recognised: no requests
      const side = this.find(d.cookie);
      if (!side) { this.orphans.add(d.cookie, d, now); continue; }
      let m = side.requests;
      if (!m) side.requests = m = this.pool.takeSide();
      this.count(m, d);
      touch(side.conn);
    }
    for (let i = 0; i < touched.length; i++) {
      const c = touched[i];
      this.settleCounted(c, now);
    }
    touched.length = 0;
    if (this.orphanSamples.length) this.samples([], now);
  }

  /**
   * A socket's last counts, with its close (ConnEvent.requests): nothing more of it will come. A connection that
   * ends with them puts them straight into its edge's batch; one that ends later in the batch takes them then
   * (finished); what is left at the batch's end is kept on the socket and settled (applyBatch).
   */
  closing(side: Side, d: L7Delta, now: number): void {
    side.l7 = false; // its count is in
    if (!this.enabled || !isRequestProtocol(d.protocol)) { if (side.requests) side.requests.final = true; return; }
    const c = side.conn;
    if (!side.requests && this.endsWith(c, side)) { // the usual case: straight into its edge's batch
      const s = this.state.edges.get(c.edgeId!);
      if (s) {
        this.batchOf(s, PROTOCOL_INDEX[d.protocol as RequestProtocol]).addDelta(d);
        if (side.role === 'client') c.server!.lastCounts = null; // the server's view of the same requests
        return;
      }
    }
    if (side.requests || c.requests) { // it counted before: what is new goes on now
      this.keepLast(side, d);
      if (c.requests) this.settle(c, now);
      return;
    }
    if (isEmpty(d)) return; // parsed, nothing completed: nothing to count
    side.lastCounts = d; // read, not copied: its connection most likely ends in this batch
    this.pendingLast.push(side);
  }

  /**
   * A connection ends with last counts that came with a close in this batch (closing). When nothing else of it was
   * counted, the kept view (the client's, or the server's when no client count can come) goes into the edge's batch
   * as it is, and the other is the same requests again; otherwise each joins what its socket holds, for the rest of
   * finished() to settle.
   */
  private takeLast(c: Conn, client: Side | undefined, server: Side | undefined): void {
    const cd = client?.lastCounts ?? null, sd = server?.lastCounts ?? null;
    if (client) client.lastCounts = null;
    if (server) server.lastCounts = null;
    const orphaned = this.orphans.size > 0 && ((!!client && this.orphans.head(client.cookie) !== NO_ROW) || (!!server && this.orphans.head(server.cookie) !== NO_ROW));
    const d = cd ?? (awaitsCount(client) ? null : sd);
    if (d && !c.requests && !client?.requests && !server?.requests && !orphaned) {
      const s = !c.ignored && c.edgeId ? this.state.edges.get(c.edgeId) : undefined;
      if (s) this.batchOf(s, PROTOCOL_INDEX[d.protocol as RequestProtocol]).addDelta(d);
      return;
    }
    if (cd) this.keepLast(client!, cd);
    if (sd) this.keepLast(server!, sd);
  }

  /** Adds a socket's last counts to what it holds. */
  private keepLast(side: Side, d: L7Delta): void {
    const m = (side.requests ??= this.pool.takeSide());
    this.count(m, d);
    m.final = true;
  }

  /**
   * Whether this socket's last count is the only one its connection will put on its edge: both ends over (or
   * a server with no local client), placed where it stays (nothing learnt since), nothing of it counted yet,
   * and this socket's view the one kept (a client's, or a server's with no client). A client known alone is
   * not: its server's close may still join it in this batch and move it (LiveGraph.finishAtBatchEnd).
   */
  private endsWith(c: Conn, side: Side): boolean {
    if (!c.closedAt || c.edgeId === null || c.ignored || c.requests || c.learntSincePlaced()) return false;
    return side.role === 'client' ? !!c.server && !c.server.requests : !c.client;
  }

  /** A connection's sockets counted more: onto its edge; a closed connection's stand-in may then go. */
  private settleCounted(c: LedgerConn, now: number): void {
    this.settle(c, now);
    if (!(c instanceof Conn)) this.release(c);
  }

  /** An edge's requests moved: it was seen now, and its version moves. */
  private changed(s: EdgeState, now: number): void {
    if (now > s.e.lastSeen) {
      s.e.lastSeen = now;
      this.state.seen(s.e.source, now);
      this.state.seen(s.e.target, now);
    }
    s.v = this.state.bump();
  }

  /** A closed connection's stand-in goes once each of its sockets has sent its closing count. */
  private release(c: LedgerConn): void {
    if ((c.client && !c.client.requests?.final) || (c.server && !c.server.requests?.final)) return;
    if (c.client) { this.closed.delete(c.client.cookie); this.pool.giveSide(c.client.requests!); c.client.requests = undefined; }
    if (c.server) { this.closed.delete(c.server.cookie); this.pool.giveSide(c.server.requests!); c.server.requests = undefined; }
    if (c.requests) { this.pool.giveConn(c.requests); c.requests = undefined; }
  }

  /** Adds a socket's delta to what it counted. */
  private count(m: SideRequests, d: L7Delta): void {
    const p = d.protocol as RequestProtocol;
    let t = m.totals.get(p);
    if (!t) m.totals.set(p, (t = this.pool.takeTotals()));
    t.addDelta(d);
    if (d.closed) m.final = true;
  }

  /** A socket became known: what it counted meanwhile, waiting as an orphan (from its head row), joins what it holds. */
  private adopt(side: LedgerSide, head: number): void {
    const m = (side.requests ??= this.pool.takeSide());
    for (let r = head; r !== NO_ROW; r = this.orphans.next(r)) {
      const p = this.orphans.read(r, this.scratch);
      let t = m.totals.get(p);
      if (!t) m.totals.set(p, (t = this.pool.takeTotals()));
      t.plus(this.scratch);
    }
    m.final ||= this.orphans.isFinal(head);
    this.orphans.delete(side.cookie);
  }

  private connState(c: LedgerConn): ConnRequests {
    let cr = c.requests;
    if (!cr) c.requests = cr = this.pool.takeConn();
    return cr;
  }

  /** The client's view when it has one, else the server's. */
  private sourceOf(c: LedgerConn): 'client' | 'server' | null {
    if (c.client?.requests) return 'client';
    if (c.server?.requests) return 'server';
    return null;
  }

  /** A connection was placed on an edge: what its sockets counted so far goes there. */
  placed(c: Conn, now: number): void {
    if (c.requests || this.sourceOf(c)) this.settle(c, now);
  }

  /** A connection leaves its edge (placed again): what it counted there is taken back. */
  moving(c: Conn, now: number): void {
    const cr = c.requests;
    if (cr?.edge) this.takeBack(cr, now);
  }

  /**
   * Edges folded into others (LiveGraph.mergeNode), old id to new: what the ledger holds of them follows. Their
   * counts moved with the edges, so what each connection added stays added. Called between batches.
   */
  edgesMoved(moved: ReadonlyMap<string, string>, live: Iterable<Conn>): void {
    const follow = (c: LedgerConn) => {
      if (c.edgeId && moved.has(c.edgeId)) c.edgeId = moved.get(c.edgeId)!;
      const cr = c.requests;
      if (cr?.edge && moved.has(cr.edge)) cr.edge = moved.get(cr.edge)!;
    };
    for (const c of live) follow(c);
    for (const { side } of this.closed.values()) follow(side.conn);
  }

  /** A connection is over: its sockets stay findable a little longer (as a stand-in) for their last counts. */
  finished(c: Conn, now: number): void {
    // The table reuses finished Conn and Side objects: whatever is keyed on them moves to the stand-in, or goes.
    // A socket's last count comes with its close (closing()), or on its own ring, read before the close (the engine
    // drains it first); if its connection was not known then, the count waits as an orphan: it joins now, and goes
    // to the edge before the connection ends.
    const client = c.client?.conn === c ? c.client : undefined, server = c.server?.conn === c ? c.server : undefined;
    if (client?.lastCounts || server?.lastCounts) this.takeLast(c, client, server);
    let adopted = this.orphanSamples.length > 0 && this.adoptOrphanSamples(c);
    if (this.orphans.size) {
      if (!adopted && this.settleOrphaned(c, client, server, now)) return;
      if (this.adoptOrphan(client)) adopted = true;
      if (this.adoptOrphan(server)) adopted = true;
    }
    // A socket whose closing count is in needs no stand-in, nor does a closed one the kernel never parsed
    // requests on (most connections on a host): no count will come. Under connection-per-request load
    // that is nearly all of them, and stand-ins kept for seconds are what the GC pays for.
    const waiting = awaitsCount(client) || awaitsCount(server);
    if (!waiting && !c.requests) this.settleLast(c, now);
    else if (adopted) this.settle(c, now);
    const cr = c.requests;
    c.requests = undefined;
    if (c.ignored || !c.edgeId || !this.enabled || !waiting) { // nothing more of it will be counted
      if (client) this.drop(client);
      if (server) this.drop(server);
      if (cr) this.pool.giveConn(cr);
      return;
    }
    const pc: LedgerConn = { edgeId: c.edgeId, ignored: false, requests: cr, ledgerMark: 0, serverRef: c.serverRef, serverPort: c.serverPort };
    if (client) this.standIn(client, pc, now);
    if (server) this.standIn(server, pc, now);
  }

  /**
   * A finished connection whose sockets' closing counts all waited as orphans (they came on their own ring), and
   * nothing of it counted before. The chosen socket's counts go from their rows onto the edge, and nothing of
   * the connection is kept. False when that does not apply (a socket counted before, or may count still).
   */
  private settleOrphaned(c: Conn, client: Side | undefined, server: Side | undefined, now: number): boolean {
    if (c.requests || client?.requests || server?.requests) return false;
    const ch = client?.cookie ? this.orphans.head(client.cookie) : NO_ROW, sh = server?.cookie ? this.orphans.head(server.cookie) : NO_ROW;
    if (ch === NO_ROW && sh === NO_ROW) return false;
    // Neither side sends more: its closing count waits here, or it closed unparsed (or has no socket).
    if (ch !== NO_ROW ? !this.orphans.isFinal(ch) : awaitsCount(client)) return false;
    if (sh !== NO_ROW ? !this.orphans.isFinal(sh) : awaitsCount(server)) return false;
    const s = !c.ignored && c.edgeId ? this.state.edges.get(c.edgeId) : undefined;
    if (s) {
      // The client's view when it has one, else the server's (sourceOf's rule). Summed into the edge's batch,
      // applied once per edge at the batch's end: these counts are final and never taken back.
      for (let r = ch !== NO_ROW ? ch : sh; r !== NO_ROW; r = this.orphans.next(r)) this.orphans.addTo(r, this.batchOf(s, this.orphans.protocolIndex(r)));
    }
    if (ch !== NO_ROW) this.orphans.delete(client!.cookie);
    if (sh !== NO_ROW) this.orphans.delete(server!.cookie);
    return true;
  }

  /** Samples that came before their connection was known (rate-limited: a short list). */
  private adoptOrphanSamples(c: Conn): boolean {
    let adopted = false;
    for (let i = 0; i < this.orphanSamples.length;) {
      const x = this.orphanSamples[i].sample;
      const side = c.client?.conn === c && c.client.cookie === x.cookie ? c.client : c.server?.conn === c && c.server.cookie === x.cookie ? c.server : undefined;
      if (!side) { i++; continue; }
      this.orphanSamples.splice(i, 1);
      this.sample(side, x);
      adopted = true;
    }
    return adopted;
  }

  /** Whether the side had counts waiting as an orphan (now adopted). */
  private adoptOrphan(s: Side | undefined): boolean {
    const head = s?.cookie ? this.orphans.head(s.cookie) : NO_ROW;
    if (head === NO_ROW) return false;
    this.adopt(s!, head);
    return true;
  }

  private drop(s: Side): void {
    if (s.requests) this.pool.giveSide(s.requests);
    s.requests = undefined;
  }

  /** The finished side's counts move to the stand-in, findable by its cookie until its closing count comes. */
  private standIn(s: Side, pc: LedgerConn, now: number): void {
    const totals = s.requests;
    s.requests = undefined;
    if (!s.cookie) { if (totals) this.pool.giveSide(totals); return; }
    const ps: LedgerSide = { role: s.role, cookie: s.cookie, conn: pc, requests: totals };
    pc[s.role] = ps;
    if (!totals?.final) this.closed.set(s.cookie, { side: ps, at: now });
  }

  /**
   * A finished connection's only settle: nothing of it is on an edge yet (no ConnRequests) and no count
   * will follow, so what its chosen socket counted goes onto the edge as it is, with no record of what
   * was added (it can never be taken back). This is every connection under connection-per-request
   * load, whose counts come in one closing delta per socket.
   */
  private settleLast(c: Conn, now: number): void {
    if (c.ignored || !c.edgeId) return;
    const want = this.sourceOf(c);
    if (!want) return;
    const s = this.state.edges.get(c.edgeId);
    if (!s) return;
    // Into the edge's batch, applied once per edge at the batch's end: final counts, never taken back.
    const src = c[want]!.requests!.totals;
    for (let i = 0; i < src.size; i++) {
      if (!src.totals[i].zero()) this.batchOf(s, PROTOCOL_INDEX[src.protocols[i]]).plus(src.totals[i]);
    }
  }

  /** Brings the connection's edge up to date with its chosen socket's counts. */
  private settle(c: LedgerConn, now: number): void {
    if (c.ignored) return; // a proxy's own hop: its requests are the ones counted on the connection it relays
    const want = this.sourceOf(c);
    if (!want) return;
    const cr = this.connState(c);
    if (cr.source !== want) {
      if (cr.edge) this.takeBack(cr, now);
      cr.source = want;
    }
    if (!c.edgeId) return;
    if (cr.edge && cr.edge !== c.edgeId) this.takeBack(cr, now);
    const s = this.state.edges.get(c.edgeId);
    if (!s) return;
    const src = c[want]!.requests!.totals;
    let moved = false;
    for (let i = 0; i < src.size; i++) {
      const p = src.protocols[i];
      const k = cr.counted.get(p);
      // What is new since the last settle; most settles of a connection find nothing new, so the difference goes in a scratch.
      const d = src.totals[i].takeSince(k, k ? this.scratch : this.pool.takeTotals());
      if (d.zero()) { if (!k) this.pool.giveTotals(d); continue; }
      this.apply(s, p, d, 1, now);
      if (k) k.add(d); else cr.counted.set(p, d);
      moved = true;
    }
    cr.edge = c.edgeId;
    if (cr.held.length) {
      // A client's sample is always its own view; a server's stands only when the server's view is the one counted.
      for (const x of cr.held) {
        if (x.side !== 'client' && (want !== 'server' || cr.clientSampled)) continue;
        if (!x.server) { const name = serverName(c.serverRef, c.serverPort ?? 0); if (name) x.server = name; } // held before the connection was placed
        this.keepSample(s, x);
      }
      cr.held.length = 0;
      moved = true;
    }
    if (moved) this.changed(s, now);
  }

  private takeBack(cr: ConnRequests, now: number): void {
    const s = this.state.edges.get(cr.edge!);
    if (s) {
      for (let i = 0; i < cr.counted.size; i++) this.apply(s, cr.counted.protocols[i], cr.counted.totals[i], -1, now);
      s.v = this.state.bump();
    }
    this.pool.giveAll(cr.counted);
    cr.edge = null;
  }

  private apply(s: EdgeState, p: RequestProtocol, d: RequestTotals, sign: 1 | -1, now: number): void {
    const es = (s.requests ??= new EdgeRequestState());
    let ps = es.protocols.get(p);
    if (!ps) es.protocols.set(p, (ps = { totals: new RequestTotals(), window: new RequestWindow() }));
    ps.totals.add(d, sign);
    ps.window.add(now, sign * d.count(), sign * d.errors(), sign * d.clientErrors(), sign * d.serverErrors(), sign * d.latencySumNs, d.buckets, sign, d.latencyMaxUs);
    const iv = intervalOf(s.counts);
    let it = iv.get(p);
    if (!it) iv.set(p, (it = new RequestTotals()));
    it.add(d, sign, sign < 0);
    this.counters.requests += sign * d.count();
  }

  /** The edge's batch totals of one protocol (by REQUEST_PROTOCOLS index), the edge listed for applyBatch. */
  private batchOf(s: EdgeState, p: number): RequestTotals {
    const es = (s.requests ??= new EdgeRequestState());
    if (!es.batched) { es.batched = true; this.batchedEdges.push(s); }
    return (es.batch[p] ??= new RequestTotals());
  }

  /**
   * Applies what finished connections counted in this batch, once per edge and protocol instead of once
   * per connection (every connection is one under connection-per-request load). The graph calls it at
   * the end of each ingest and tick, so no reader sees a batch half applied.
   */
  applyBatch(now: number): void {
    const pending = this.pendingLast;
    for (let i = 0; i < pending.length; i++) {
      const side = pending[i], d = side.lastCounts;
      if (!d) continue; // taken by its connection's end (the side may be another connection's by now)
      side.lastCounts = null;
      this.keepLast(side, d);
      const c = side.conn;
      if (c.live && c.edgeId) this.settle(c, now);
    }
    pending.length = 0;
    const list = this.batchedEdges;
    for (let i = 0; i < list.length; i++) {
      const s = list[i], es = s.requests!;
      es.batched = false;
      let moved = false;
      for (let p = 0; p < es.batch.length; p++) {
        const t = es.batch[p];
        if (!t || t.zero()) continue;
        this.apply(s, REQUEST_PROTOCOLS[p], t, 1, now);
        t.reset();
        moved = true;
      }
      if (moved) this.changed(s, now);
    }
    list.length = 0;
  }

  /** Samples of failed and slow requests from the collector. */
  samples(list: readonly L7Sample[], now: number): void {
    if (this.orphanSamples.length) {
      const waiting = this.orphanSamples;
      this.orphanSamples = [];
      for (const o of waiting) {
        const side = this.find(o.sample.cookie);
        if (side) this.sample(side, o.sample);
        else if (now - o.at < WAIT_MS) this.orphanSamples.push(o);
        else this.counters.unplacedSamples++;
      }
    }
    for (const x of list) {
      if (!isRequestProtocol(x.protocol)) continue;
      const side = this.find(x.cookie);
      if (side) { this.sample(side, x); continue; }
      if (this.orphanSamples.length >= ORPHAN_SAMPLES) { this.counters.unplacedSamples++; continue; }
      this.orphanSamples.push({ sample: x, at: now });
    }
  }

  private sample(side: LedgerSide, x: L7Sample): void {
    const c = side.conn;
    if (c.ignored) return;
    const rs: RequestSample = {
      time: x.time, protocol: x.protocol as RequestProtocol, method: x.method, target: x.target, status: x.status, statusClass: x.statusClass,
      latencyMs: Math.round(x.latencyMs * 1000) / 1000, pid: x.pid, process: x.comm, side: side.role, tls: x.tls, reasons: x.reasons,
      ...(x.code ? { code: x.code } : {}),
    };
    const server = serverName(c.serverRef, c.serverPort ?? 0);
    if (server) rs.server = server;
    const cr = this.connState(c);
    // A client's sample means the client counts requests: its view is the one kept. A server's
    // is kept when there is no local client, or once the server's view is the one counted;
    // dropped once the client's is; until then it waits.
    let keep: boolean | null;
    if (rs.side === 'client') { keep = true; cr.clientSampled = true; }
    else if (cr.clientSampled || cr.source === 'client') keep = false;
    else keep = !c.client || cr.source === 'server' ? true : null;
    if (keep === false) return; // the other socket's view of the same request
    const s = keep && c.edgeId && (!cr.edge || cr.edge === c.edgeId) ? this.state.edges.get(c.edgeId) : undefined;
    if (s) { this.keepSample(s, rs); s.v = this.state.bump(); return; }
    if (cr.held.length >= HELD_SAMPLES) { this.counters.unplacedSamples++; return; }
    cr.held.push(rs);
  }

  private keepSample(s: EdgeState, rs: RequestSample): void {
    const es = (s.requests ??= new EdgeRequestState());
    es.samples.push(rs);
    if (es.samples.length > this.samplesPerEdge) es.samples.splice(0, es.samples.length - this.samplesPerEdge);
    this.state.log?.requestSample(s.e, rs);
  }

  /** Joins waiting counts to their sockets once known, forgets closed sockets' sides, and counts as lost requests whose socket never became known. */
  tick(now: number): void {
    for (const [cookie, x] of this.closed) {
      if (now - x.at < CLOSED_MS) break; // insertion order is time order
      this.closed.delete(cookie);
    }
    // Counts whose socket is known by now join it here, a tick after its connection came (not at once: under
    // connection-per-request load the close that follows in the same batch takes them, in one pass); those
    // still unknown after the wait are lost.
    this.orphans.forEach((cookie) => {
      const side = this.find(cookie), head = this.orphans.head(cookie);
      if (side) {
        this.adopt(side, head);
        this.settleCounted(side.conn, now);
        return;
      }
      if (now - this.orphans.since(head) < WAIT_MS) return;
      this.counters.unplacedRequests += this.orphans.requests(head);
      this.orphans.delete(cookie);
    });
    if (this.orphanSamples.length) this.samples([], now);
  }
}

function intervalOf(c: IntervalCounts): Map<RequestProtocol, RequestTotals> {
  return (c.requests ??= new Map());
}
