// The write path: one flush's rows and events into the finest tier. The caller
// wraps it in the flush's single transaction.
import type { Db } from './database.js';
import type { Dimensions, NodeDesc } from './dimensions.js';
import type { EventRecord, IntervalRow } from './sampler.js';
import type { FailureReason } from '../graph/types.js';
import { DNS_FAILURE_CODES, REASON_CODES, SAMPLE_LAST_SEEN_COLUMN as SEEN, type DnsFailureKind } from './schema.js';
import { requestInsert } from './requests.js';

/** A mean column merged with another row's, both weighted by their closed connections (only where the mean was measured). */
export function mergeMean(col: string): string {
  const w = (side: string) => `(CASE WHEN ${side}${col} > 0 THEN ${side}closed ELSE 0 END)`;
  return `${col} = CASE WHEN ${w('')} + ${w('excluded.')} > 0
    THEN CAST(round((${col} * ${w('')} + excluded.${col} * ${w('excluded.')}) * 1.0 / (${w('')} + ${w('excluded.')})) AS INTEGER) ELSE 0 END`;
}

export interface Batch {
  /** When the flush ran (unix ms). */
  time: number;
  /** Start (unix ms) of the finest-tier bucket the interval's numbers belong to. */
  bucket: number;
  rows: IntervalRow[];
  /** Descriptors of the nodes the rows and events refer to. */
  nodes: Map<string, NodeDesc>;
  events: EventRecord[];
}

/** meta key: when the last flush was written (unix ms), for a run that ends without its agent_stopped. */
const LAST_WRITE = 'last_write';

export class SampleWriter {
  private readonly insertSample;
  private readonly insertFailure;
  private readonly insertEvent;
  private readonly insertRequests;
  private readonly markWrite;
  private readonly lastRunEvent;
  private readonly lastWrite;

  /**
   * mapIdleMs: how long an idle edge stays on the live map (GRAPH_DEFAULTS.idleMs, `run --idle`). A thing seen within
   * it before this run began was still on the map when the last run stopped: its "appeared" after a restart is not news.
   */
  constructor(db: Db, private readonly dims: Dimensions, private readonly resolutionMs: number, private readonly mapIdleMs: number) {
    // Several flushes may land in one bucket (a flush interval shorter than the finest
    // resolution, or a clock step back): they add up, `active` is the latest, the last activity the latest.
    this.insertSample = db.prepare(`INSERT INTO samples (res, t, edge, opened, closed, failed, bytes_sent, bytes_received, retransmits, active, rtt_mean, rtt_p95, dur_mean, ${SEEN})
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (res, t, edge) DO UPDATE SET ${SEEN} = max(${SEEN}, excluded.${SEEN}),
        opened = opened + excluded.opened, closed = closed + excluded.closed, failed = failed + excluded.failed,
        bytes_sent = bytes_sent + excluded.bytes_sent, bytes_received = bytes_received + excluded.bytes_received,
        retransmits = retransmits + excluded.retransmits, active = excluded.active,
        ${mergeMean('rtt_mean')}, rtt_p95 = max(rtt_p95, excluded.rtt_p95), ${mergeMean('dur_mean')}`);
    this.insertFailure = db.prepare(`INSERT INTO failures (res, t, edge, reason, n) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (res, t, edge, reason) DO UPDATE SET n = n + excluded.n`);
    this.insertEvent = db.prepare('INSERT INTO events (t, type, node, edge, detail) VALUES (?, ?, ?, ?, ?)');
    this.insertRequests = requestInsert(db);
    this.markWrite = db.prepare(`INSERT INTO meta (key, value) VALUES ('${LAST_WRITE}', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    this.lastRunEvent = db.prepare<[], { t: number; type: string }>(
      `SELECT t, type FROM events WHERE type IN ('agent_started', 'agent_stopped') ORDER BY t DESC, id DESC LIMIT 1`);
    this.lastWrite = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = '${LAST_WRITE}'`);
  }

  /**
   * When the last run ended, if it left no agent_stopped (killed, crashed, the host lost power): its last write (a
   * flush every few seconds while it ran). null when it stopped cleanly, or nothing says when it ended. Without this,
   * history counted such a run as recording until the next start, and read its silence as an outage.
   */
  uncleanEnd(): number | null {
    const last = this.lastRunEvent.get();
    if (last?.type !== 'agent_started') return null;
    const t = Number(this.lastWrite.get()?.value);
    return Number.isFinite(t) && t >= last.t ? t : null;
  }

  /** An appearance of a node or edge the history saw within the map's idle time: a restart's re-discovery. */
  private reappeared(e: EventRecord): boolean {
    const key = e.type === 'edge_appeared' ? e.edge?.id : e.type === 'node_appeared' ? e.node?.id : undefined;
    if (!key) return false;
    const seen = this.dims.lastSeenOf(e.type === 'edge_appeared' ? 'edge' : 'node', key);
    return seen !== undefined && seen >= e.time - this.mapIdleMs;
  }

  write(b: Batch): void {
    const res = this.resolutionMs / 1000;
    // Asked before this batch's writes mark its nodes and edges seen.
    const events = b.events.filter((e) => !this.reappeared(e));
    const t = Math.floor(b.bucket / this.resolutionMs) * res;
    const nodeOf = (k: string) => b.nodes.get(k);
    // Nodes whose edges had something to say: a changed descriptor (a new instance, an address) is versioned now,
    // not only when a new edge or event names the node. Unchanged ones cost a signature each.
    for (const n of b.nodes.values()) this.dims.node(n, b.time, b.bucket);
    for (const r of b.rows) {
      const edge = this.dims.edge(r.edge, nodeOf, b.time, b.bucket);
      if (r.clients) this.dims.edgeClients(edge, r.clients, b.time, b.bucket);
      // Means ride on `closed` as their weight: without a closed connection there is nothing to weigh.
      const closed = r.closed > 0;
      this.insertSample.run(res, t, edge, r.opened, r.closed, r.failed, r.bytesSent, r.bytesReceived, r.retransmits, r.active,
        closed ? Math.round(r.rttMeanUs) : 0, closed ? Math.round(r.rttP95Us) : 0, closed ? Math.round(r.durMeanMs * 10) : 0,
        Number.isFinite(r.lastSeen) && r.lastSeen > 0 ? Math.round(r.lastSeen) : 0);
      for (const [reason, n] of Object.entries(r.failedBy)) if (n) this.insertFailure.run(res, t, edge, REASON_CODES[reason as FailureReason], n);
      if (r.requests) for (const q of r.requests) this.insertRequests(res, t, edge, q);
      if (r.dns) for (const k of Object.keys(DNS_FAILURE_CODES) as DnsFailureKind[]) if (r.dns[k] > 0) this.insertFailure.run(res, t, edge, DNS_FAILURE_CODES[k], r.dns[k]);
    }
    this.markWrite.run(String(Math.round(b.time)));
    for (const e of events) {
      const node = e.node ? this.dims.node(e.node, b.time, b.bucket) : null;
      const edge = e.edge ? this.dims.edge(e.edge, nodeOf, b.time, b.bucket) : null;
      this.insertEvent.run(Math.round(e.time), e.type, node, edge, e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : null);
    }
  }
}
