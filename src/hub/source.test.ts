// The hub's live refresh (unit test, a scripted Prometheus on loopback): agents
// are asked for in batches of about edgesPerQuery edges, and when a later batch
// fails, the agents an earlier one brought are kept and not asked for again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { HUB_DEFAULTS } from '../config/defaults.js';
import { EDGE_LABELS } from '../export/labels.js';
import { batchesOf, HubSource } from './source.js';
import * as Q from './queries.js';

test('hub: agents are grouped so each query asks for about edgesPerQuery edges', () => {
  const size = new Map([['a', 1000], ['b', 400], ['c', 200], ['d', 3000], ['e', 10]]);
  assert.deepEqual(batchesOf(['a', 'b', 'c', 'd', 'e'], size, 1500), [['a', 'b'], ['c'], ['d'], ['e']]);
  assert.deepEqual(batchesOf(['x', 'y'], new Map(), 1500), [['x', 'y']], 'agents of unknown size go together');
  assert.deepEqual(batchesOf([], size, 1500), []);
});

test('hub: a refresh that fails part way keeps what it fetched, and the next asks only for the rest', async () => {
  const hosts = ['host-0', 'host-1'];
  const reportedAt = Math.floor(Date.now() / 1000) - 1;
  const edgeKey = (h: string) => {
    const l: Record<string, string> = { client: `web${h.slice(-1)}`, client_group: 'fleet', client_kind: 'service', server: 'api', server_group: 'fleet', server_kind: 'service', server_port: '80', protocol: 'tcp', host: h };
    return EDGE_LABELS.map((k) => l[k]).join(Q.SEP);
  };
  let failHost1 = true;
  const asked: string[] = [];
  const vec = (result: { metric: Record<string, string>; value: number }[]) => ({ status: 'success', data: { resultType: 'vector', result: result.map((r) => ({ metric: r.metric, value: [reportedAt, String(r.value)] })) } });
  const answer = (q: string) => {
    const sel = /host=~"([^"]*)"/.exec(q)?.[1].split('|') ?? hosts;
    if (q === Q.REPORTED) return vec(hosts.map((host) => ({ metric: { host }, value: reportedAt })));
    if (q === Q.AGENTS) return vec(hosts.map((host) => ({ metric: { __name__: Q.REPORT, host, job: 'push', instance: host }, value: reportedAt })));
    if (q === Q.TOTALS) return vec(hosts.map((host) => ({ metric: { __name__: Q.AGENT_TOTALS.edges, host }, value: 1000 })));
    if (q === Q.edges(sel)) {
      asked.push(...sel);
      if (failHost1 && sel.includes('host-1')) return null;
      return vec(sel.map((h) => ({ metric: { __name__: Q.COUNTERS.opened, e: edgeKey(h) }, value: h === 'host-0' ? 7 : 9 })));
    }
    if (q === Q.rttP95(sel)) return vec(sel.map((h) => ({ metric: { e: edgeKey(h) }, value: 0.002 })));
    return vec([]); // up (pushed), addresses, the counters a minute earlier (agents new): none
  };
  const prom = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const out = answer(new URLSearchParams(body).get('query') ?? '');
      res.writeHead(out ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out ?? { status: 'error', errorType: 'unavailable', error: 'storage is busy' }));
    });
  });
  await new Promise<void>((r) => prom.listen(0, '127.0.0.1', () => r()));
  const hub = new HubSource({ prometheus: `http://127.0.0.1:${(prom.address() as { port: number }).port}`, refreshMs: 3_600_000, log: () => {} });
  try {
    assert.ok(2 * 1000 > HUB_DEFAULTS.edgesPerQuery, 'two agents of 1,000 edges make two batches');
    await hub.refresh();
    assert.equal(hub.hubStatus.state, 'error');
    assert.deepEqual(asked, ['host-0', 'host-1']);
    assert.throws(() => hub.graph.snapshot(), /storage is busy/, 'no half map served as if it were whole');

    failHost1 = false;
    await hub.refresh();
    assert.equal(hub.hubStatus.state, 'ok');
    assert.deepEqual(asked, ['host-0', 'host-1', 'host-1'], 'host-0 came in already: not asked again');
    assert.equal(hub.hubStatus.hostsAsked, 1);
    const g = hub.graph.snapshot();
    assert.deepEqual(g.edges.map((e) => e.connections.opened).sort(), [7, 9]);
    assert.ok(g.edges.every((e) => e.rtt.p95Us === 2000), 'RTT p95 of both agents');

    await hub.refresh();
    assert.equal(asked.length, 3, 'no agent reported since: nothing asked');
    assert.equal(hub.graph.snapshot().edges.length, 2);
  } finally {
    hub.stop();
    prom.closeAllConnections();
    await new Promise<void>((r) => prom.close(() => r()));
  }
});
