// Reading an edge's requests (L7) for the API: its `requests` block per protocol,
// a node's inbound requests summed over its edges, latency histograms and the
// last minute's series. Histograms are summed bucket by bucket, never percentiles.
import { addSums, emptySums, type WindowSums } from './request-window.js';
import { latencySummary } from './latency.js';
import { RequestTotals, type EdgeRequestState } from './request-totals.js';
import { REQUEST_PROTOCOLS, type EdgeRequests, type RequestHistogram, type RequestProtocol, type RequestRates } from './types.js';

function ratesOf(w: WindowSums): RequestRates {
  const s = w.seconds;
  return { requests: w.requests / s, errors: w.errors / s, clientErrors: w.clientErrors / s, serverErrors: w.serverErrors / s, latency: latencySummary(w.buckets, w.latencySumNs, w.latencyMaxUs) };
}

function blockOf(p: RequestProtocol, t: RequestTotals, w10: WindowSums, w60: WindowSums): EdgeRequests {
  return {
    protocol: p, grpc: t.grpc(p), tls: t.tls, count: t.count(), status: t.statusRecord(), errors: t.errors(), clientErrors: t.clientErrors(),
    unpaired: t.unpaired, latency: latencySummary(t.buckets, t.latencySumNs, t.latencyMaxUs), rates: { '10s': ratesOf(w10), '1m': ratesOf(w60) },
  };
}

const byProtocol = (a: RequestProtocol, b: RequestProtocol) => REQUEST_PROTOCOLS.indexOf(a) - REQUEST_PROTOCOLS.indexOf(b);

/** The `requests` block of an edge; undefined when it has none. */
export function edgeRequests(es: EdgeRequestState | undefined, now: number): EdgeRequests[] | undefined {
  if (!es) return undefined;
  const out: EdgeRequests[] = [];
  for (const p of [...es.protocols.keys()].sort(byProtocol)) {
    const ps = es.protocols.get(p)!;
    if (ps.totals.zero()) continue;
    out.push(blockOf(p, ps.totals, ps.window.sums(now, 10), ps.window.sums(now, 60)));
  }
  return out.length ? out : undefined;
}

/** Several edges' requests summed per protocol (a node's inbound RED): histograms and windows bucket by bucket. */
export function mergedRequests(states: (EdgeRequestState | undefined)[], now: number): EdgeRequests[] | undefined {
  const acc = new Map<RequestProtocol, { t: RequestTotals; w10: WindowSums; w60: WindowSums }>();
  for (const es of states) {
    if (!es) continue;
    for (const [p, ps] of es.protocols) {
      let a = acc.get(p);
      if (!a) acc.set(p, (a = { t: new RequestTotals(), w10: emptySums(10), w60: emptySums(60) }));
      a.t.add(ps.totals);
      addSums(a.w10, ps.window.sums(now, 10));
      addSums(a.w60, ps.window.sums(now, 60));
    }
  }
  const out: EdgeRequests[] = [];
  for (const p of [...acc.keys()].sort(byProtocol)) {
    const a = acc.get(p)!;
    if (!a.t.zero()) out.push(blockOf(p, a.t, a.w10, a.w60));
  }
  return out.length ? out : undefined;
}

export function requestHistograms(es: EdgeRequestState | undefined, now: number): RequestHistogram[] {
  if (!es) return [];
  return [...es.protocols.keys()].sort(byProtocol).filter((p) => !es.protocols.get(p)!.totals.zero()).map((p) => {
    const ps = es.protocols.get(p)!;
    const minute = ps.window.sums(now, 60);
    return {
      protocol: p, total: Array.from(ps.totals.buckets), lastMinute: Array.from(minute.buckets),
      totalSumUs: ps.totals.latencySumNs / 1000, lastMinuteSumUs: minute.latencySumNs / 1000,
      totalMaxUs: ps.totals.latencyMaxUs, lastMinuteMaxUs: minute.latencyMaxUs,
    };
  });
}

/** Requests and errors per second over the last minute, all protocols, oldest first. */
export function requestSeries(es: EdgeRequestState | undefined, now: number): { requests: number; errors: number }[] | null {
  if (!es || !es.protocols.size) return null;
  let out: { requests: number; errors: number }[] | null = null;
  for (const ps of es.protocols.values()) {
    const s = ps.window.series(now);
    if (!out) out = s;
    else s.forEach((x, i) => { out![i].requests += x.requests; out![i].errors += x.errors; });
  }
  return out;
}
