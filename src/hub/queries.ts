// Every PromQL expression the hub runs, in one place. Each answers for all
// edges of all agents at once (a handful of requests per refresh, not one per edge).
import { HUB_DEFAULTS } from '../config/defaults.js';

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
export const REPORT = 'dhrishti_agent_report_timestamp_seconds';

/** Agent-level numbers shown in the hub's status. */
export const AGENT_TOTALS = { lost: 'dhrishti_lost_events_total', folded: 'dhrishti_export_edges_folded', edges: 'dhrishti_export_edges' } as const;

const alt = (names: string[]) => names.map((n) => n.replace(/^dhrishti_/, '')).join('|');
const tag = (expr: string, m: string) => `label_replace(${expr}, "__m", "${m}", "", "")`;

/**
 * A call between two hosts is reported twice: by the client's agent (client named) and by the server's
 * (client known only by address). Where an agent claims that address, the client's view is the one
 * kept, so the server's view need not even leave Prometheus (a third fewer series for a busy fleet).
 */
const KNOWN_CLIENTS = 'label_replace(label_replace(dhrishti_address_info, "client", "$1", "ip", "(.*)"), "client_kind", "client", "", "")';
const once = (expr: string) => `(${expr}) unless on (client, client_kind) ${KNOWN_CLIENTS}`;

/** What the live map needs every refresh: connections, failures, bytes, open now; plus agent totals. */
export const LIVE_COUNTERS: string[] = [COUNTERS.opened, COUNTERS.failed, COUNTERS.sent, COUNTERS.received];
export const CURRENT = once(`{__name__=~"dhrishti_(${alt([...LIVE_COUNTERS, ACTIVE, ...Object.values(AGENT_TOTALS)])})"}`);

/** Slower-moving figures (closed, retransmits, RTT and duration means), asked on every few refreshes. */
export const SLOW = once(`{__name__=~"dhrishti_(${alt(Object.values(COUNTERS).filter((m) => !LIVE_COUNTERS.includes(m)))})"}`);

/** The counters the map's rates come from, selected again a window earlier. */
export const RATED = once(`{__name__=~"dhrishti_(${alt(LIVE_COUNTERS)})"}`);
export const RATE_WINDOW_MS = 60_000;

/** p95 of RTT since each edge began (cumulative buckets), tagged by __m (duration is exported as a mean only). */
export const P95 = tag(`histogram_quantile(0.95, ${once('dhrishti_edge_rtt_seconds_bucket')})`, 'rtt');

export const INFO = '{__name__=~"dhrishti_(listen|address)_info"}';

/** Every agent that reported within the lookback, with the time of its last report as the value. */
export const AGENTS = `last_over_time(${REPORT}[${HUB_DEFAULTS.agentLookback}])`;
/** Scrape health of those agents (absent for agents that push with remote-write). */
export const UP = `up and on (job, instance) last_over_time(${REPORT}[${HUB_DEFAULTS.agentLookback}])`;

// ---- a range [from, to], evaluated at `to` ----

const rs = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;
const COUNTER_LIST = Object.entries(COUNTERS) as [CounterField, string][];

/** Last value of every counter within the range (series that ended early included), and the peak of active. */
export function rangeLast(rangeMs: number): string {
  return [
    ...COUNTER_LIST.map(([f, m]) => tag(`last_over_time(${m}[${rs(rangeMs)}])`, f)),
    tag(`max_over_time(${ACTIVE}[${rs(rangeMs)}])`, 'active'),
  ].join(' or ');
}

/** For series that reset within the range (agent restart), Prometheus' own reset-aware increase. */
export function rangeResets(rangeMs: number): string {
  return COUNTER_LIST.map(([f, m]) => tag(`increase(${m}[${rs(rangeMs)}]) and (resets(${m}[${rs(rangeMs)}]) > 0)`, f)).join(' or ');
}

/** The counters' values at the start of the range (instant query at `from`). */
export const RANGE_START = `{__name__=~"dhrishti_(${alt(Object.values(COUNTERS))})"}`;

export function rangeP95(rangeMs: number): string {
  return tag(`histogram_quantile(0.95, increase(dhrishti_edge_rtt_seconds_bucket[${rs(rangeMs)}]))`, 'rtt');
}

export function rangeAgents(rangeMs: number): string {
  return `last_over_time(${REPORT}[${rs(rangeMs)}])`;
}

export function rangeInfo(rangeMs: number): string {
  return `last_over_time(${INFO}[${rs(rangeMs)}])`;
}
