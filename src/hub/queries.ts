// Every PromQL expression the hub runs, in one place. Each answers for all
// edges of all agents (or of the agents named) at once: a handful of requests
// per refresh, never one per edge. Answers are made small before they leave
// Prometheus: one agent's edge scraped and also pushed is one series
// (`max by`), and an edge's nine labels travel as one joined label `e`.
import { HUB_DEFAULTS } from '../config/defaults.js';
import { EDGE_LABELS } from '../export/labels.js';
import { HEARTBEAT } from '../export/exporter.js';

/** Edge counters and the field of EdgeNumbers each fills. */
export const COUNTERS = {
  opened: 'dhrishti_edge_connections_opened_total',
  closed: 'dhrishti_edge_connections_closed_total',
  failed: 'dhrishti_edge_connections_failed_total',
  sent: 'dhrishti_edge_sent_bytes_total',
  received: 'dhrishti_edge_received_bytes_total',
  retransmits: 'dhrishti_edge_retransmits_total',
  rttSum: 'dhrishti_edge_rtt_seconds_sum',
  rttCount: 'dhrishti_edge_rtt_seconds_count',
  durSum: 'dhrishti_edge_connection_duration_seconds_sum',
  durCount: 'dhrishti_edge_connection_duration_seconds_count',
} as const;
export type CounterField = keyof typeof COUNTERS;
export const ACTIVE = 'dhrishti_edge_connections_active';
/** The duration summary's recent p95 (quantile="0.95"). */
export const DURATION = 'dhrishti_edge_connection_duration_seconds';
export const RTT_BUCKET = 'dhrishti_edge_rtt_seconds_bucket';
export const REPORT = HEARTBEAT;
/**
 * Resolver edges: the agents' DNS health per client -> resolver edge, with the edge labels (protocol "dns"). Queries
 * count as the edge's opened connections and failures (by kind: NXDOMAIN, SERVFAIL, ...) as its failed ones.
 */
export const DNS_SERIES = {
  queries: 'dhrishti_dns_client_queries_total',
  failures: 'dhrishti_dns_client_failures_total',
  p95: 'dhrishti_dns_client_latency_p95_seconds',
} as const;
/** The edge counter each DNS counter stands for. */
export const DNS_COUNTERS: Readonly<Record<string, CounterField>> = { [DNS_SERIES.queries]: 'opened', [DNS_SERIES.failures]: 'failed' };

/** The counters the live map's rates come from. */
export const RATED: readonly CounterField[] = ['opened', 'failed', 'sent', 'received'];

/** Agent-level numbers shown in the hub's status. */
export const AGENT_TOTALS = { lost: 'dhrishti_lost_events_total', folded: 'dhrishti_export_edges_folded', edges: 'dhrishti_export_edges' } as const;

/** The label `e` carries an edge's labels joined by this (never in a name, an address or a port). */
export const SEP = '\u0001';

/** A PromQL string literal (Go's escapes, which JSON's are a subset of). */
export const str = (s: string) => JSON.stringify(s);

const alt = (names: string[]) => names.map((n) => n.replace(/^dhrishti_/, '')).join('|');
const nameRe = (names: string[]) => `__name__=~"dhrishti_(${alt(names)})"`;
const join = (expr: string) => `label_join(${expr}, "e", ${str(SEP)}, ${EDGE_LABELS.map((l) => str(l)).join(', ')})`;

/** A matcher for these hosts' series; none when every host is asked for. */
export function hostMatcher(hosts: readonly string[] | null): string {
  if (!hosts) return '';
  return `, host=~${str(hosts.map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))}`;
}

/**
 * A call between two hosts is reported twice: by the client's agent (client named) and by the server's
 * (client known only by address). Where an agent claims that address, the client's view is the one
 * kept, so the server's view need not even leave Prometheus (a third fewer series for a busy fleet).
 */
const KNOWN_CLIENTS = 'label_replace(label_replace(dhrishti_address_info, "client", "$1", "ip", "(.*)"), "client_kind", "client", "", "")';
const once = (expr: string) => `(${expr}) unless on (client, client_kind) ${KNOWN_CLIENTS}`;

const EDGE_NAMES = [...Object.values(COUNTERS), ACTIVE, DURATION, ...Object.values(DNS_SERIES)];

/** Every figure of every edge of these hosts (all when null): counters, open now, the recent duration p95. */
export function edges(hosts: readonly string[] | null): string {
  return `max by (__name__, e, reason, kind, quantile) (${join(once(`{${nameRe(EDGE_NAMES)}${hostMatcher(hosts)}, quantile=~"|0.95"}`))})`;
}

/** The counters the rates come from (for a map's rates: the same a minute earlier). */
export function rated(hosts: readonly string[] | null): string {
  const names = [...RATED.map((f) => COUNTERS[f]), ...Object.keys(DNS_COUNTERS)];
  return `max by (__name__, e, reason, kind) (${join(once(`{${nameRe(names)}${hostMatcher(hosts)}}`))})`;
}

/** RTT p95 since each edge began (cumulative buckets). */
export function rttP95(hosts: readonly string[] | null): string {
  return `histogram_quantile(0.95, max by (e, le) (${join(once(`${RTT_BUCKET}{le!=""${hostMatcher(hosts)}}`))}))`;
}

/** When each host last reported: its heartbeat's sample time (seconds). */
export const REPORTED = `max by (host) (timestamp(${REPORT}))`;

export function info(hosts: readonly string[] | null): string {
  return `{__name__=~"dhrishti_(listen|address|name)_info"${hostMatcher(hosts)}}`;
}

/** Every agent that reported within the lookback, with the time of its last report as the value. */
export const AGENTS = `last_over_time(${REPORT}[${HUB_DEFAULTS.agentLookback}])`;
/** Scrape health of those agents (absent for agents that push with remote-write). */
export const UP = `up and on (job, instance) last_over_time(${REPORT}[${HUB_DEFAULTS.agentLookback}])`;
/** Agent totals: edges, folded edges, lost events. */
export const TOTALS = `max by (__name__, host, reason) ({${nameRe(Object.values(AGENT_TOTALS))}})`;

// ---- a range [from, to], evaluated at `to` ----

export const rs = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;
/** Every counter a range adds up, with the field it fills: the edge counters, and the DNS counters of resolver edges. */
export const RANGE_COUNTERS: readonly [CounterField, string][] = [
  ...(Object.entries(COUNTERS) as [CounterField, string][]),
  ...Object.entries(DNS_COUNTERS).map(([m, f]) => [f, m] as [CounterField, string]),
];
const tagged = (f: string, expr: string) => `label_replace(${expr}, "__m", "${f}", "", "")`;
/** Failures stay apart by TCP reason and by DNS kind. */
const byEdge = (expr: string, by = 'e, reason, kind') => `max by (${by}) (${join(once(expr))})`;

/** Last value of every counter within the range (series that ended early included), and the peak of active and of the p95s. */
export function rangeLast(rangeMs: number): string {
  return [
    ...RANGE_COUNTERS.map(([f, m]) => tagged(f, byEdge(`last_over_time(${m}[${rs(rangeMs)}])`))),
    tagged('active', byEdge(`max_over_time(${ACTIVE}[${rs(rangeMs)}])`, 'e')),
    tagged('durP95', byEdge(`max_over_time(${DURATION}{quantile="0.95"}[${rs(rangeMs)}])`, 'e')),
    tagged('dnsP95', byEdge(`max_over_time(${DNS_SERIES.p95}[${rs(rangeMs)}])`, 'e')),
  ].join(' or ');
}

/** For series that reset within the range (agent restart), Prometheus' own reset-aware increase. */
export function rangeResets(rangeMs: number): string {
  return RANGE_COUNTERS.map(([f, m]) => tagged(f, byEdge(`increase(${m}[${rs(rangeMs)}]) and (resets(${m}[${rs(rangeMs)}]) > 0)`))).join(' or ');
}

/** The counters' values at the start of the range (instant query at `from`). */
export const RANGE_START = `max by (__name__, e, reason, kind) (${join(once(`{${nameRe(RANGE_COUNTERS.map(([, m]) => m))}}`))})`;

export function rangeP95(rangeMs: number): string {
  return `histogram_quantile(0.95, max by (e, le) (${join(once(`increase(${RTT_BUCKET}[${rs(rangeMs)}])`))}))`;
}

export function rangeAgents(rangeMs: number): string {
  return `last_over_time(${REPORT}[${rs(rangeMs)}])`;
}

export function rangeInfo(rangeMs: number): string {
  return `last_over_time({__name__=~"dhrishti_(listen|address|name)_info"}[${rs(rangeMs)}])`;
}
