// Prometheus self-metrics at /metrics: every loss is visible to a scraper.
import client from 'prom-client';
import type { Agent } from '../agent/agent.js';
import { registerHistoryMetrics } from './history-metrics.js';
import { policyMetricList } from '../policy/metrics.js';
import { registerL7Metrics } from './l7-metrics.js';

export function agentRegistry(agent: Agent): client.Registry {
  const reg = new client.Registry();
  client.collectDefaultMetrics({ register: reg, prefix: 'dhrishti_process_' });
  const gauge = (name: string, help: string, labelNames: string[], read: (g: client.Gauge) => void) =>
    new client.Gauge({ name, help, labelNames, registers: [reg], collect() { read(this); } });
  gauge('dhrishti_events_total', 'Connection events received from the kernel', [], (g) => g.set(agent.engine.stats().events));
  gauge('dhrishti_lost_events_total', 'Events or sockets the agent could not record, by reason', ['reason'], (g) => {
    const l = agent.engine.stats().lost;
    g.set({ reason: 'ringbuf_full' }, l.ringbufFull);
    g.set({ reason: 'conn_map_full' }, l.connMapFull);
    g.set({ reason: 'malformed' }, l.malformed);
  });
  gauge('dhrishti_identity_misses_total', 'Owner lookups whose cgroup no container or process explained', [], (g) => g.set(agent.identity.stats().cgroupMisses));
  gauge('dhrishti_graph_size', 'Live graph size', ['what'], (g) => {
    const s = agent.graph.size();
    g.set({ what: 'nodes' }, s.nodes);
    g.set({ what: 'edges' }, s.edges);
    g.set({ what: 'open_connections' }, s.open);
  });
  gauge('dhrishti_graph_dropped_total', 'What the bounded graph dropped or collapsed', ['what'], (g) => {
    const c = agent.graph.counters;
    g.set({ what: 'expired_edges' }, c.expiredEdges);
    g.set({ what: 'expired_nodes' }, c.expiredNodes);
    g.set({ what: 'collapsed_endpoints' }, c.collapsedEndpoints);
  });
  registerHistoryMetrics(reg, () => agent.historyHealth?.() ?? null);
  registerL7Metrics(reg, () => agent.l7Telemetry());
  for (const m of policyMetricList()) reg.registerMetric(m);
  return reg;
}
