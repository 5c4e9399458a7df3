// The product's view of requests: a real `dhrishti run`, and what its API says
// about the edges to one server port (summed over the edges, per protocol).
import { startAgent, getJson, type RunningAgent } from './agent.js';
import { sleep } from './wait.js';
import type { EdgeDetail, EdgeRequests, GraphSnapshot, RequestSample } from '../../src/graph/types.js';

/** `dhrishti run` with history written every second and samples not limited by the host's other traffic. */
export function startL7Agent(extra: string[] = []): Promise<RunningAgent> {
  return startAgent(['--no-docker', '--flush-interval', '1s', '--l7-sample-rate', '5000', ...extra]);
}

export interface EdgeView {
  edges: string[];
  count: number;
  byClass: Record<string, number>;
  errors: number;
  clientErrors: number;
  unpaired: number;
  protocols: string[];
  tls: boolean;
  grpc: boolean;
  /** Summed latency histogram of the edges' requests (every protocol). */
  histogram: number[];
  samples: RequestSample[];
  blocks: EdgeRequests[];
}

/** Requests in histogram buckets [lo, hi]. */
export const bucketsIn = (v: EdgeView, lo: number, hi: number) => v.histogram.slice(lo, hi + 1).reduce((a, b) => a + b, 0);

/** What the live API says about the edges into `port` (served `where`: matching edges by port, and by a predicate). */
export async function edgeView(url: string, port: number, pred: (e: GraphSnapshot['edges'][number]) => boolean = () => true): Promise<EdgeView> {
  const g = (await getJson<GraphSnapshot>(`${url}/api/v1/graph`)).body;
  const v: EdgeView = { edges: [], count: 0, byClass: {}, errors: 0, clientErrors: 0, unpaired: 0, protocols: [], tls: false, grpc: false, histogram: new Array(24).fill(0), samples: [], blocks: [] };
  for (const e of g.edges.filter((x) => x.port === port && pred(x))) {
    if (!e.requests?.length) continue;
    v.edges.push(e.id);
    for (const r of e.requests) {
      v.blocks.push(r);
      v.count += r.count; v.errors += r.errors; v.clientErrors += r.clientErrors; v.unpaired += r.unpaired;
      v.tls ||= r.tls; v.grpc ||= r.grpc;
      if (!v.protocols.includes(r.protocol)) v.protocols.push(r.protocol);
      for (const [k, n] of Object.entries(r.status)) if (n) v.byClass[k] = (v.byClass[k] ?? 0) + n;
    }
    const d = (await getJson<EdgeDetail>(`${url}/api/v1/edges/${encodeURIComponent(e.id)}`)).body;
    for (const h of d.requestLatency ?? []) h.total.forEach((n, i) => (v.histogram[i] += n));
    v.samples.push(...(d.recentRequests ?? []));
  }
  return v;
}

/** Waits until the edges into `port` hold `want` requests, then one more flush, so nothing late is missed. */
export async function settleEdge(a: RunningAgent, port: number, want: number, pred?: (e: GraphSnapshot['edges'][number]) => boolean, ms = 20_000): Promise<EdgeView> {
  const end = Date.now() + ms;
  let v = await edgeView(a.url, port, pred);
  while (Date.now() < end && v.count < want) { await sleep(250); v = await edgeView(a.url, port, pred); }
  await sleep(1500);
  return edgeView(a.url, port, pred);
}
