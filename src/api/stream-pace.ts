// Which changed edges a stream client gets in this delta. An edge whose open count, failures and request errors
// are as last sent, and so only moved its traffic counts and rates, goes at most once per `trafficMs`; anything
// else goes at once. An edge held back and then no longer offered (its rates stopped moving) is sent in its last
// offered state once its wait is over, so a client never keeps a rate the map has since dropped to zero.
import type { GraphEdge } from '../graph/types.js';

/**
 * What a user must see at once: failures, request and DNS errors, a policy verdict, and an edge going idle or busy. How many
 * connections are open is not: under connection-per-request traffic it moves at every tick.
 */
function news(e: GraphEdge): string {
  const c = e.connections;
  let k = `${c.active > 0 ? 1 : 0}|${c.failed}`;
  for (const r of e.requests ?? []) k += `|${r.protocol}:${r.errors}:${r.clientErrors}:${r.unpaired}`;
  if (e.dns) k += `|${e.dns.failures}:${e.dns.timeouts}`;
  if (e.policy) k += `|${e.policy.verdict}`;
  return k;
}

export class EdgePacer {
  private readonly sent = new Map<string, { at: number; news: string }>();
  /** Edges held back, in the state last offered. */
  private readonly held = new Map<string, GraphEdge>();

  constructor(private readonly trafficMs: number) {}

  /** Edges the client has just been sent whole (the connect snapshot). */
  sentAll(edges: readonly GraphEdge[], now: number): void {
    for (const e of edges) this.sent.set(e.id, { at: now, news: news(e) });
  }

  /** The edges to send now, out of those the graph offers (changed, or with rates still moving). */
  pick(offered: GraphEdge[], removed: readonly string[], now: number): GraphEdge[] {
    for (const id of removed) { this.sent.delete(id); this.held.delete(id); }
    const out: GraphEdge[] = [];
    const seen = new Set<string>();
    for (const e of offered) {
      seen.add(e.id);
      const k = news(e), last = this.sent.get(e.id);
      if (!last || last.news !== k || now - last.at >= this.trafficMs) {
        out.push(e);
        this.sent.set(e.id, { at: now, news: k });
        this.held.delete(e.id);
      } else {
        this.held.set(e.id, e);
      }
    }
    for (const [id, e] of this.held) {
      if (seen.has(id) || now - this.sent.get(id)!.at < this.trafficMs) continue;
      out.push(e);
      this.sent.set(id, { at: now, news: news(e) });
      this.held.delete(id);
    }
    return out;
  }
}
