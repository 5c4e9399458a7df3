// Downsampling and retention: complete buckets of each tier are summed into the
// next coarser one, then rows past each tier's keep are deleted.
import type { Db } from './database.js';
import type { Tier } from './retention.js';
import { mergeMean } from './writer.js';
import { requestDelete, requestRollup } from './requests.js';
import { SAMPLE_LAST_SEEN_COLUMN as SEEN } from './schema.js';

const SUM_COLUMNS = ['opened', 'closed', 'failed', 'bytes_sent', 'bytes_received', 'retransmits'];

export class Rollup {
  private readonly getMeta;
  private readonly setMeta;
  private readonly minT;
  private readonly rollSamples;
  private readonly rollFailures;
  private readonly deleteSamples;
  private readonly deleteFailures;
  private readonly deleteEvents;
  private readonly rollRequests;
  private readonly deleteRequests;
  /** Resolutions present in the file but not configured. */
  private readonly strays: number[] = [];
  private readonly marks: (number | null)[];

  constructor(db: Db, private readonly tiers: Tier[]) {
    this.getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    this.setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.minT = db.prepare<[number], { t: number | null }>('SELECT min(t) AS t FROM samples WHERE res = ?');
    // Bound numbers arrive as REAL, so buckets are `t - t % res` (% works on integers), not t / res * res.
    // Coarse counters are sums; `active`, p95 and the last activity keep the peak; means are weighted by their sample counts.
    const mean = (c: string) => `coalesce(CAST(round(sum(${c} * closed) * 1.0 / nullif(sum(CASE WHEN ${c} > 0 THEN closed ELSE 0 END), 0)) AS INTEGER), 0)`;
    const rollSql = `INSERT INTO samples (res, t, edge, ${SUM_COLUMNS.join(', ')}, active, rtt_mean, rtt_p95, dur_mean, ${SEEN})
      SELECT @to, t - t % @to AS bt, edge, ${SUM_COLUMNS.map((c) => `sum(${c})`).join(', ')}, max(active), ${mean('rtt_mean')}, max(rtt_p95), ${mean('dur_mean')}, max(${SEEN})
      FROM samples WHERE res = @from AND t >= @start AND t < @end GROUP BY bt, edge
      ON CONFLICT (res, t, edge) DO UPDATE SET ${SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')},
        active = max(active, excluded.active), ${SEEN} = max(${SEEN}, excluded.${SEEN}), rtt_p95 = max(rtt_p95, excluded.rtt_p95), ${mergeMean('rtt_mean')}, ${mergeMean('dur_mean')}`;
    const rollFailSql = `INSERT INTO failures (res, t, edge, reason, n)
      SELECT @to, t - t % @to AS bt, edge, reason, sum(n) FROM failures WHERE res = @from AND t >= @start AND t < @end GROUP BY bt, edge, reason
      ON CONFLICT (res, t, edge, reason) DO UPDATE SET n = n + excluded.n`;
    this.rollSamples = db.prepare(rollSql);
    this.rollFailures = db.prepare(rollFailSql);
    this.deleteSamples = db.prepare('DELETE FROM samples WHERE res = ? AND t < ?');
    this.deleteFailures = db.prepare('DELETE FROM failures WHERE res = ? AND t < ?');
    // The start of a run still going at the cutoff stays: without it an agent running longer than the keep would
    // read as not recording (HistoryQueries.recordedMs looks for the run in force at a range's start).
    this.deleteEvents = db.prepare(`DELETE FROM events WHERE t < @cutoff AND id IS NOT (SELECT id FROM (SELECT id, type FROM events
      WHERE type IN ('agent_started', 'agent_stopped') AND t < @cutoff ORDER BY t DESC, id DESC LIMIT 1) WHERE type = 'agent_started'
        AND NOT EXISTS (SELECT 1 FROM events WHERE type IN ('agent_started', 'agent_stopped') AND t >= @cutoff))`);
    this.rollRequests = requestRollup(db);
    this.deleteRequests = requestDelete(db);
    // Rows of a resolution no longer configured (the retention was changed) age out with the longest keep.
    // They are found once, at open, by hopping along the key (one seek per resolution, no scan).
    const next = db.prepare<[number], { res: number | null }>('SELECT min(res) AS res FROM samples WHERE res > ?');
    const configured = new Set(tiers.map((t) => t.resolutionMs / 1000));
    for (let r = next.get(-1)?.res; r !== null && r !== undefined; r = next.get(r)?.res) if (!configured.has(r)) this.strays.push(r);
    this.marks = tiers.map((t, k) => (k === 0 ? null : this.readMark(t)));
  }

  private readMark(t: Tier): number | null {
    const v = this.getMeta.get(`rolled:${t.resolutionMs / 1000}`)?.value;
    return v === undefined ? null : Number(v) * 1000;
  }

  /** End (ms) of the last bucket rolled into tier k (k >= 1); before it, tier k is complete. */
  rolledUpTo(k: number): number | null { return this.marks[k]; }

  /** Rolls every complete bucket into the coarser tiers; finest-tier buckets before `completeUpTo` (ms) are final. */
  rollUp(completeUpTo: number): number {
    let rows = 0;
    let complete = completeUpTo;
    for (let k = 1; k < this.tiers.length; k++) {
      const from = this.tiers[k - 1].resolutionMs / 1000, to = this.tiers[k].resolutionMs / 1000;
      const end = Math.floor(complete / 1000 / to) * to;
      let mark = this.marks[k] === null ? null : this.marks[k]! / 1000;
      if (mark === null) {
        const first = this.minT.get(from)?.t;
        if (first === null || first === undefined) { complete = this.marks[k] ?? complete; continue; }
        mark = Math.floor(first / to) * to;
      }
      if (end > mark) {
        const p = { from, to, start: mark, end };
        rows += this.rollSamples.run(p).changes;
        this.rollFailures.run(p);
        this.rollRequests.run(p);
        this.setMeta.run(`rolled:${to}`, String(end));
        this.marks[k] = end * 1000;
      }
      complete = this.marks[k] ?? 0;
    }
    return rows;
  }

  /** Deletes rows past each tier's keep, never rows not yet rolled into the next tier. */
  prune(now: number): { samples: number; events: number } {
    let samples = 0;
    for (let k = 0; k < this.tiers.length; k++) {
      const t = this.tiers[k];
      let cutoff = now - t.keepMs;
      if (k + 1 < this.tiers.length) cutoff = Math.min(cutoff, this.marks[k + 1] ?? -Infinity);
      if (!Number.isFinite(cutoff)) continue;
      const res = t.resolutionMs / 1000, before = Math.floor(cutoff / 1000);
      samples += this.deleteSamples.run(res, before).changes;
      this.deleteFailures.run(res, before);
      this.deleteRequests.run(res, before);
    }
    const longest = now - this.longestKeepMs();
    for (const res of this.strays) {
      samples += this.deleteSamples.run(res, Math.floor(longest / 1000)).changes;
      this.deleteFailures.run(res, Math.floor(longest / 1000));
      this.deleteRequests.run(res, Math.floor(longest / 1000));
    }
    const events = this.deleteEvents.run({ cutoff: longest }).changes;
    return { samples, events };
  }

  longestKeepMs(): number { return Math.max(...this.tiers.map((t) => t.keepMs)); }
}
