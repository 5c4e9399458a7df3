// The hub's own /metrics: whether Prometheus answers, how fast, and how many agents are up.
import client from 'prom-client';
import { collectProcessMetrics } from '../api/process-metrics.js';
import type { HubSource } from './source.js';

export function hubRegistry(hub: HubSource): client.Registry {
  const reg = new client.Registry();
  collectProcessMetrics(reg, 'dhrishti_hub_');
  new client.Gauge({
    name: 'dhrishti_hub_prometheus_ok', help: '1 when the last refresh from Prometheus succeeded', registers: [reg],
    collect() { this.set(hub.hubStatus.state === 'ok' ? 1 : 0); },
  });
  new client.Gauge({
    name: 'dhrishti_hub_query_seconds', help: 'How long the last live refresh\'s queries took', registers: [reg],
    collect() { this.set(hub.hubStatus.queryMs / 1000); },
  });
  new client.Gauge({
    name: 'dhrishti_hub_agents', help: 'Agents that reported within the lookback, by state', labelNames: ['state'], registers: [reg],
    collect() {
      const a = hub.telemetry().agents;
      for (const s of ['up', 'down', 'stale'] as const) this.set({ state: s }, a.filter((x) => x.state === s).length);
    },
  });
  return reg;
}
