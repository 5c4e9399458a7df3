// DNS on /metrics: what the capture saw and lost (every loss by reason), the
// name map's size and evictions, and the health of each client -> resolver
// edge on the map (queries, failures by kind, latency p95), labelled as edge series are.
import client from 'prom-client';
import { counterFromTotals as counter } from './prom.js';
import type { DnsCollector } from '../dns/collector.js';
import type { LiveGraph } from '../graph/live-graph.js';
import type { GraphEdge } from '../graph/types.js';
import { OWN_EDGE_LABELS, DNS_FAILURE_KINDS, ownEdgeLabels, UNKNOWN_NODE } from '../export/labels.js';

const LOSS_REASONS = [
  ['ringbufFull', 'ringbuf_full'], ['rateLimited', 'rate_limited'], ['noSyscall', 'no_syscall'], ['readFault', 'read_fault'],
  ['segments', 'segments'], ['mmsgMapFull', 'mmsg_map_full'], ['loaderMalformed', 'loader_malformed'], ['tcpDesync', 'tcp_desync'],
  ['reassemblyEvicted', 'reassembly_evicted'],
] as const;


export function registerDnsMetrics(reg: client.Registry, dns: DnsCollector, graph: LiveGraph): void {
  // One stats() per scrape, shared by the families below.
  let cached: { at: number; s: ReturnType<DnsCollector['stats']> } | null = null;
  const stats = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 500) cached = { at: now, s: dns.stats() };
    return cached.s;
  };
  counter(reg, 'dhrishti_dns_messages_total', 'DNS messages read from the kernel, by direction', ['kind'], () => {
    const s = stats();
    return [[{ kind: 'query' }, s.queries], [{ kind: 'response' }, s.responses]];
  });
  counter(reg, 'dhrishti_dns_transactions_total', 'DNS queries matched to their answer, timed out, or answers whose query was not seen', ['outcome'], () => {
    const s = stats();
    return [[{ outcome: 'answered' }, s.transactions - s.timeouts - s.unmatchedResponses], [{ outcome: 'timeout' }, s.timeouts], [{ outcome: 'unmatched' }, s.unmatchedResponses]];
  });
  counter(reg, 'dhrishti_dns_lost_total', 'DNS records or messages lost before parsing, by reason', ['reason'], () => {
    const l = stats().lost;
    return LOSS_REASONS.map(([k, reason]) => [{ reason }, l[k]]);
  });
  counter(reg, 'dhrishti_dns_malformed_total', 'DNS messages that did not parse, by reason', ['reason'], () =>
    Object.entries(stats().malformed.byReason).map(([reason, n]) => [{ reason }, n]));
  counter(reg, 'dhrishti_dns_pending_evicted_total', 'DNS queries dropped while awaiting their answer (too many pending)', [], () => [[{}, stats().pendingEvicted]]);
  counter(reg, 'dhrishti_dns_name_map_evictions_total', 'Name map entries forgotten because it was full (addresses, or names of an address)', ['what'], () => {
    const m = stats().nameMap;
    return [[{ what: 'address' }, m.evictions], [{ what: 'name' }, m.nameEvictions]];
  });
  new client.Gauge({
    name: 'dhrishti_dns_name_map_entries', help: 'Name map size: addresses named, names held, and the configured bound on addresses', labelNames: ['what'], registers: [reg],
    collect() {
      const m = stats().nameMap;
      this.set({ what: 'addresses' }, m.addresses);
      this.set({ what: 'names' }, m.names);
      this.set({ what: 'capacity' }, m.capacity);
    },
  });
  counter(reg, 'dhrishti_dns_health_evictions_total', 'Client -> resolver pairs whose health was forgotten because the table was full', [], () => [[{}, stats().health.evictions]]);

  // Per client: the resolver edges on the map, with the labels of edge series (export/labels.ts OWN_EDGE_LABELS).
  const edges = (): { e: GraphEdge; labels: Record<string, string> }[] => {
    const g = graph.snapshot({ protocol: 'dns' });
    const nodes = new Map(g.nodes.map((n) => [n.id, n]));
    return g.edges.map((e) => ({ e, labels: ownEdgeLabels(e, nodes.get(e.source) ?? UNKNOWN_NODE, nodes.get(e.target) ?? UNKNOWN_NODE) }));
  };
  let edgeCache: { at: number; e: ReturnType<typeof edges> } | null = null;
  const dnsEdges = () => {
    const now = Date.now();
    if (!edgeCache || now - edgeCache.at > 500) edgeCache = { at: now, e: edges() };
    return edgeCache.e;
  };
  const names = [...OWN_EDGE_LABELS];
  counter(reg, 'dhrishti_dns_client_queries_total', 'DNS queries per client and resolver (server), with the labels of edge series (since the resolver edge appeared on the map)', names, () =>
    dnsEdges().map(({ e, labels }) => [labels, e.dns?.queries ?? 0]));
  // The map takes an NXDOMAIN back once the bare name of a search-list expansion is answered; a counter never goes down
  // (Prometheus and the hub would read a reset, and a burst of failures): each series is the most it has been.
  let highest = new Map<string, number>();
  counter(reg, 'dhrishti_dns_client_failures_total', 'Failed DNS queries per client and resolver (server), by kind (NXDOMAIN, SERVFAIL, REFUSED, other, timeout); never lower than before', [...names, 'kind'], () => {
    const now = new Map<string, number>();
    const rows = dnsEdges().flatMap(({ e, labels }) => DNS_FAILURE_KINDS.map(([k, kind]) => {
      const key = `${e.id}|${e.firstSeen}|${kind}`; // an edge made again counts from zero: a real reset
      const v = Math.max(e.dns?.[k] ?? 0, highest.get(key) ?? 0);
      now.set(key, v);
      return [{ ...labels, kind }, v] as [Record<string, string>, number];
    }));
    highest = now; // an edge gone from the map takes its marks with it
    return rows;
  });
  new client.Gauge({
    name: 'dhrishti_dns_client_latency_p95_seconds', help: 'DNS answer latency p95 per client and resolver (server)', labelNames: names, registers: [reg],
    collect() {
      this.reset();
      for (const { e, labels } of dnsEdges()) if (e.dns?.latency.p95Ms != null) this.set(labels, e.dns.latency.p95Ms / 1000);
    },
  });
}
