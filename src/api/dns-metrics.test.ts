import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { registerDnsMetrics } from './dns-metrics.js';
import { emptyDns } from '../graph/resolvers.js';
import type { DnsCollector } from '../dns/collector.js';
import type { LiveGraph } from '../graph/live-graph.js';
import type { GraphEdge, GraphNode, GraphSnapshot } from '../graph/types.js';

const node = (id: string, label: string, kind: GraphNode['kind'], group: string | null): GraphNode =>
  ({ id, kind, label, group, instances: [], ips: [], firstSeen: 0, lastSeen: 0, active: 0 });

test('DNS series carry the edge labels, and a failure counter never goes down (an NXDOMAIN taken back), but starts again with a new edge', async () => {
  let nxdomain = 3, firstSeen = 1;
  const snapshot = (): GraphSnapshot => ({
    generatedAt: 0,
    nodes: [node('svc:shop/web', 'web', 'service', 'shop'), node('proc:docker-dns', 'Docker DNS', 'process', 'host')],
    edges: [{ id: 'svc:shop/web|proc:docker-dns|53|dns', source: 'svc:shop/web', target: 'proc:docker-dns', port: 53, protocol: 'dns', firstSeen, dns: { ...emptyDns(), queries: 10, nxdomain } } as unknown as GraphEdge],
  });
  const reg = new client.Registry();
  registerDnsMetrics(reg, {} as DnsCollector, { snapshot } as unknown as LiveGraph);
  const read = async () => {
    const m = await reg.getSingleMetric('dhrishti_dns_client_failures_total')!.get();
    return m.values.find((v) => v.labels.kind === 'NXDOMAIN')!;
  };
  const first = await read();
  assert.deepEqual({ ...first.labels }, { client: 'web', client_group: 'shop', client_kind: 'service', server: 'Docker DNS', server_group: 'host', server_kind: 'process', server_port: '53', protocol: 'dns', kind: 'NXDOMAIN' });
  assert.equal(first.value, 3);
  nxdomain = 2; // the map took one back
  await new Promise((r) => setTimeout(r, 600)); // past the snapshot cache
  assert.equal((await read()).value, 3, 'never lower');
  nxdomain = 4;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await read()).value, 4);
  nxdomain = 1; firstSeen = 2; // the edge expired and was made again: a real reset
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await read()).value, 1);
});
