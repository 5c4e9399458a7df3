// Two hosts on one kernel: one dockerd whose containers sit under two cgroup
// parents, two agents each scoped to one (--scope-cgroup), a real Prometheus
// scraping both, the hub joining the cross-host call, an OTLP receiver, and the
// dashboard's PromQL run against what was scraped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { TestDockerd, ensureTestImage, createNetwork, composeLabels, nodeCommand, removeAll, removeCgroupParent, containerFacts, httpServerScript } from './support/dockerd.js';
import { startAgent, getJson, freePort, type RunningAgent } from './support/agent.js';
import { start, stopAll, type Child } from './support/children.js';
import { TestPrometheus } from './support/prometheus.js';
import { until, sleep } from './support/wait.js';
import { HUB_DEFAULTS, REPO_ROOT } from '../src/config/defaults.js';
import type { GraphSnapshot } from '../src/graph/types.js';
import type { HubTelemetry } from '../src/hub/source.js';

const NET = `dhfleet${process.pid % 10000}`;
const PARENT_A = `/dhrishti-test-host-a-${process.pid}`, PARENT_B = `/dhrishti-test-host-b-${process.pid}`;
const SOCKET_LINK = `/tmp/dhrishti-test-docker-fleet-${process.pid}.sock`;
const EDGE = 'svc:fleet/web|svc:fleet/api|8080|tcp';
const FIRST = 12, SECOND = 5, THIRD = 3, REFUSED = 2, CLOSED_PORT = 9;

let dockerd: TestDockerd;
let agentA: RunningAgent, agentB: RunningAgent;
let prom: TestPrometheus;
let hub: Child, hubUrl: string;
let apiIp = '', webIp = '';
const otlpBodies: unknown[] = [];
let otlp: http.Server;

/** `count` sequential requests from web to api, each on a new connection, run inside web's container (its cgroup). */
async function traffic(count: number, refused = 0): Promise<void> {
  const script = `const http = require('http'); let n = 0;
    const one = () => http.get({ host: '${apiIp}', port: 8080, agent: false }, (r) => { r.resume(); r.on('end', () => ++n < ${count} ? setTimeout(one, 20) : bad(${refused})); }).on('error', (e) => { console.error(e.message); process.exit(1); });
    const bad = (k) => k ? require('net').connect(${CLOSED_PORT}, '${apiIp}').on('error', () => bad(k - 1)) : setTimeout(() => process.exit(0), 100);
    one();`;
  await dockerd.cli(['exec', 'fleet-web', '/usr/bin/node', '-e', script], 60_000);
}

async function run(name: string, parent: string, service: string, script: string): Promise<void> {
  const args = ['run', '-d', '--name', name, '--network', NET, '--cgroup-parent', parent];
  for (const [k, v] of Object.entries(composeLabels('fleet', service, 1))) args.push('--label', `${k}=${v}`);
  await dockerd.cli([...args, 'dhrishti-node:test', ...nodeCommand(script)]);
}

before(async () => {
  otlp = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      try { otlpBodies.push({ path: req.url, type: req.headers['content-type'], json: JSON.parse(body.toString('utf8')) }); } catch { otlpBodies.push({ path: req.url, type: req.headers['content-type'], raw: body.length }); }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', () => r()));

  dockerd = await TestDockerd.start();
  await ensureTestImage(dockerd);
  await createNetwork(dockerd, NET, { subnet: '172.31.251.0/24' });
  await run('fleet-api', PARENT_B, 'api', httpServerScript(8080, 'ok'));
  await run('fleet-web', PARENT_A, 'web', 'setInterval(() => {}, 1 << 30);');
  apiIp = (await containerFacts(dockerd, 'fleet-api')).ip;
  webIp = (await containerFacts(dockerd, 'fleet-web')).ip;
  fs.rmSync(SOCKET_LINK, { force: true });
  fs.symlinkSync(dockerd.socketPath, SOCKET_LINK);
  const common = ['--docker-socket', SOCKET_LINK, '--no-history'];
  const promPort = await freePort(); // agent A pushes there before Prometheus is up: its first pushes fail and are retried
  agentA = await startAgent([...common, '--scope-cgroup', PARENT_A, '--hostname', 'host-a', '--otlp-endpoint', `http://127.0.0.1:${(otlp.address() as { port: number }).port}`, '--otlp-interval', '1s',
    '--remote-write', `http://127.0.0.1:${promPort}/api/v1/write`, '--remote-write-interval', '1s']); // scraped and pushed: the hub must not count it twice
  agentB = await startAgent([...common, '--scope-cgroup', PARENT_B, '--hostname', 'host-b']);
  for (const a of [agentA, agentB]) assert.doesNotMatch(a.child.stderr.join('\n'), /--scope-cgroup/, 'its scope cgroup exists: no warning');
  const unmade = await startAgent([...common, '--scope-cgroup', '/dhrishti-test-not-made.slice']);
  assert.match(unmade.child.stderr.join('\n'), /warning: --scope-cgroup \/dhrishti-test-not-made\.slice: no such cgroup under \S+ yet/);
  await unmade.stop();
  prom = await TestPrometheus.start({ port: promPort, targets: [{ job: 'dhrishti', target: `127.0.0.1:${agentA.port}` }, { job: 'dhrishti', target: `127.0.0.1:${agentB.port}` }] });
  const port = await freePort();
  hub = start(path.join(REPO_ROOT, 'dhrishti'), ['hub', '--prometheus', prom.url, '--port', String(port), '--refresh', '1s']);
  await hub.waitFor(/API on http/, 30_000);
  hubUrl = `http://127.0.0.1:${port}`;
});

after(async () => {
  await hub?.stop();
  await prom?.stop();
  await agentA?.stop();
  await agentB?.stop();
  if (dockerd) {
    await removeAll(dockerd, ['fleet-api', 'fleet-web'], [NET]);
    await dockerd.stop();
    removeCgroupParent(PARENT_A);
    removeCgroupParent(PARENT_B);
  }
  fs.rmSync(SOCKET_LINK, { force: true });
  await new Promise<void>((r) => otlp.close(() => r()));
  await stopAll();
});

test('two scoped agents: each sees only its own cgroup parent, the other side as an address', async () => {
  await traffic(FIRST, REFUSED);
  const edgeA = await until('host-a\'s view of web -> api', async () => {
    const g = (await getJson<GraphSnapshot>(`${agentA.url}/api/v1/graph`)).body;
    return g.edges.find((e) => e.source === 'svc:fleet/web' && e.target === `ext:${apiIp}` && e.connections.opened >= FIRST);
  });
  assert.equal(edgeA.port, 8080);
  assert.equal(edgeA.connections.opened, FIRST);
  const gA = (await getJson<GraphSnapshot>(`${agentA.url}/api/v1/graph`)).body;
  assert.ok(!gA.nodes.some((n) => n.id === 'svc:fleet/api'), 'host-a does not see api as its own');
  const edgeB = await until('host-b\'s view', async () => {
    const g = (await getJson<GraphSnapshot>(`${agentB.url}/api/v1/graph`)).body;
    return g.edges.find((e) => e.source === `client:${webIp}` && e.target === 'svc:fleet/api' && e.connections.opened >= FIRST);
  });
  assert.equal(edgeB.connections.opened, FIRST);
});

let t1 = 0;
/** When the hub (which reads Prometheus) first showed the second burst: the 1m windows ending then hold its increase. */
let tMoved = 0;

test('the hub joins the cross-host edge, with host labels and the true count', async () => {
  const g = await until('the hub\'s joined edge', async () => {
    const r = await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph`);
    return r.status === 200 && r.body.edges.some((e) => e.id === EDGE && e.connections.opened === FIRST) ? r.body : undefined;
  }, 40_000);
  const e = g.edges.find((x) => x.id === EDGE)!;
  assert.equal(e.connections.failed, 0);
  assert.ok(e.bytes.sent > 0 && e.bytes.received > 0);
  const refused = g.edges.find((x) => x.id === `svc:fleet/web|svc:fleet/api|${CLOSED_PORT}|tcp`);
  assert.equal(refused?.connections.failedBy.refused, REFUSED, 'refused connections, seen only by the client, land on the joined server');
  assert.deepEqual(g.nodes.find((n) => n.id === 'svc:fleet/web')!.hosts, ['host-a']);
  assert.deepEqual(g.nodes.find((n) => n.id === 'svc:fleet/api')!.hosts, ['host-b']);
  assert.ok(!g.edges.some((x) => x.target === `ext:${apiIp}` || x.source === `client:${webIp}`), 'no address stubs left for the joined call');
  // Both scraped and up (one scrape may miss its 1 s timeout on a loaded CI machine: the hub then rightly says `up: null` for a host it only sees pushed).
  const states = (t: HubTelemetry) => JSON.stringify(t.agents.map((a) => [a.host, a.state, a.up]));
  let tel: HubTelemetry | undefined;
  await until('both agents up on the hub', async () => {
    tel = (await getJson<HubTelemetry>(`${hubUrl}/api/v1/agent`)).body;
    return states(tel) === JSON.stringify([['host-a', 'up', true], ['host-b', 'up', true]]) ? true : undefined;
  }, 15_000).catch(() => assert.fail(`agents on the hub: ${tel ? states(tel) : 'no answer'}`));
  // host-a is also pushed with remote-write (instance = its host name): the same edge twice in Prometheus, once on the map
  const pushed = await until('host-a\'s pushed series', async () => {
    const r = await prom.query(`dhrishti_edge_connections_opened_total{instance="host-a", client="web"}`);
    return r.length ? r : undefined;
  });
  assert.equal(Number(pushed[0].value[1]), FIRST);
  // Its own series are pushed too, so the shipped alerts on losses and Docker work for a pushed agent.
  const own = await until('host-a\'s own series pushed', async () => {
    const r = await prom.query('dhrishti_docker_up{instance="host-a"} or dhrishti_lost_events_total{instance="host-a", reason="ringbuf_full"}');
    return r.length === 2 ? r : undefined;
  });
  assert.deepEqual(own.map((r) => [r.metric.__name__, r.metric.host, r.metric.job]).sort(), [['dhrishti_docker_up', 'host-a', 'dhrishti'], ['dhrishti_lost_events_total', 'host-a', 'dhrishti']]);
  assert.equal(Number(own.find((r) => r.metric.__name__ === 'dhrishti_docker_up')!.value[1]), 1);
  await sleep(3000); // a few more scrapes of the first state
  t1 = Date.now();
  await sleep(2000);
});

test('?from=&to= on the hub returns a past state', async () => {
  await traffic(SECOND, REFUSED); // more refusals: the dashboard's failure rate has something to show
  await until('the live count to move', async () => {
    const r = await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph`);
    return r.body.edges?.find((e) => e.id === EDGE)?.connections.opened === FIRST + SECOND ? true : undefined;
  }, 40_000);
  tMoved = Date.now();
  const past = await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph?from=-10m&to=${t1}`);
  assert.equal(past.status, 200, JSON.stringify(past.body));
  assert.equal(past.body.edges.find((e) => e.id === EDGE)?.connections.opened, FIRST);
  const at = await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph?at=${t1}`);
  assert.equal(at.body.edges.find((e) => e.id === EDGE)?.connections.opened, FIRST);
  const since = await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph?from=${t1}&to=now`);
  assert.equal(since.body.edges.find((e) => e.id === EDGE)?.connections.opened, SECOND);
});

test('Tempo service-graph series and listen/address info in Prometheus', async () => {
  // Requests reach the map with the agent's next counters read, then Prometheus with its next scrape and push: wait for both copies.
  // Tempo's pair web -> api also counts the refused attempts (on the closed port) as calls: its failed is a part of its total.
  const calls = FIRST + SECOND + 2 * REFUSED;
  await until('every request in Prometheus, scraped and pushed', async () => {
    const [tempo, ...copies] = await Promise.all([
      prom.query('traces_service_graph_request_total{host="host-a", client="fleet/web", instance!="host-a"}'),
      ...['instance!="host-a"', 'instance="host-a"'].map((i) => prom.query(`dhrishti_edge_request_duration_seconds_bucket{host="host-a", client="web", server_port="8080", le="+Inf", ${i}}`)),
    ]);
    return tempo[0]?.value[1] === `${calls}` && copies.every((c) => c[0]?.value[1] === `${FIRST + SECOND}`) ? true : undefined;
  }, 45_000);
  const tempo = await prom.query('traces_service_graph_request_total{host="host-a", client="fleet/web", instance!="host-a"}'); // the scraped copy (host-a also pushes one)
  assert.equal(tempo.length, 1);
  assert.deepEqual(Object.keys(tempo[0].metric).filter((k) => !['__name__', 'job', 'instance'].includes(k)).sort(), ['client', 'connection_type', 'host', 'server']);
  assert.equal(tempo[0].metric.server, apiIp);
  assert.equal(tempo[0].metric.connection_type, 'virtual_node');
  assert.equal(Number(tempo[0].value[1]), calls);
  const failed = await prom.query('traces_service_graph_request_failed_total{host="host-a", client="fleet/web", instance!="host-a"}');
  assert.equal(Number(failed[0].value[1]), 2 * REFUSED);
  for (const name of ['traces_service_graph_request_failed_total', 'traces_service_graph_request_server_seconds_bucket', 'traces_service_graph_request_client_seconds_count']) {
    assert.ok((await prom.query(`${name}{client="fleet/web"}`)).length > 0, name);
  }
  // The same HTTP calls as requests (L7): each of the 17 on its own connection, all 2xx, scraped and pushed (remote-write) alike.
  for (const instance of ['instance!="host-a"', 'instance="host-a"']) {
    const req = await prom.query(`dhrishti_edge_requests_total{host="host-a", client="web", server="${apiIp}", server_port="8080", ${instance}}`);
    assert.deepEqual(req.map((r) => [r.metric.app_protocol, r.metric.status_class, Number(r.value[1])]), [['http1', '2xx', FIRST + SECOND]], instance);
    const inf = await prom.query(`dhrishti_edge_request_duration_seconds_bucket{host="host-a", client="web", server_port="8080", le="+Inf", ${instance}}`);
    assert.equal(Number(inf[0]?.value[1]), FIRST + SECOND, instance);
  }
  const listen = await prom.query(`dhrishti_listen_info{host="host-b", ip="${apiIp}", port="8080"}`);
  assert.equal(listen[0]?.metric.name, 'api');
  const addr = await prom.query(`dhrishti_address_info{host="host-a", ip="${webIp}"}`);
  assert.equal(addr[0]?.metric.name, 'web');
  assert.equal((await prom.query(`dhrishti_address_info{host="host-a", ip="${apiIp}"}`)).length, 0, 'scoped: host-a does not claim api');
});

test('every PromQL expression of the Grafana dashboard returns data', async () => {
  const dash = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'grafana', 'dhrishti-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query?: { query?: string } }[] } };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 12);
  for (const { title, expr } of exprs) {
    const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$host', '.*');
    // Around the moment the second burst reached Prometheus: its scrape can trail the hub by a few seconds, and later,
    // on a busy machine, the increase can leave every 1m window. So the first second within 30 s that has data counts.
    let found = false;
    // A second not yet come is waited for (this test can start right after tMoved).
    for (let at = tMoved; at <= tMoved + 30_000 && !found; at += 1000) {
      if (at > Date.now()) await sleep(at - Date.now());
      found = (await prom.query(q, at)).length > 0;
    }
    assert.ok(found, `${title}: ${q} returned nothing in the 30 s after ${new Date(tMoved).toISOString()}`);
  }
  const hosts = await prom.query('group by (host) (dhrishti_agent_report_timestamp_seconds)');
  assert.deepEqual(hosts.map((h) => h.metric.host).sort(), ['host-a', 'host-b']);
});

test('OTLP: the same names and values reach a receiver through the SDK\'s exporter', async () => {
  const found = await until('an OTLP push with the edge', async () => {
    for (const b of [...otlpBodies].reverse() as { path: string; json?: { resourceMetrics: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeMetrics: { metrics: { name: string; unit: string; sum?: { isMonotonic: boolean; dataPoints: { asDouble?: number; asInt?: string; attributes: { key: string; value: { stringValue?: string } }[] }[] } }[] }[] }[] } }[]) {
      const rm = b.json?.resourceMetrics?.[0];
      const m = rm?.scopeMetrics?.[0]?.metrics?.find((x) => x.name === 'dhrishti_edge_connections_opened');
      const dp = m?.sum?.dataPoints.find((d) => d.attributes.some((a) => a.key === 'client' && a.value.stringValue === 'web') && d.attributes.some((a) => a.key === 'server' && a.value.stringValue === apiIp));
      if (dp && Number(dp.asDouble ?? dp.asInt) === FIRST + SECOND) return { b, rm: rm!, m: m!, dp };
    }
    return undefined;
  }, 20_000);
  assert.equal(found.b.path, '/v1/metrics');
  assert.equal(found.m.sum!.isMonotonic, true);
  assert.equal(found.rm.resource.attributes.find((a) => a.key === 'host.name')?.value.stringValue, 'host-a');
  const names = found.rm.scopeMetrics[0].metrics.map((x) => x.name);
  for (const n of ['traces_service_graph_request', 'traces_service_graph_request_failed', 'traces_service_graph_request_server_seconds', 'dhrishti_edge_rtt_seconds', 'dhrishti_edge_requests', 'dhrishti_edge_request_duration_seconds', 'dhrishti_listen_info',
    'dhrishti_lost_events', 'dhrishti_docker_up']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  assert.equal(found.rm.scopeMetrics[0].metrics.find((x) => x.name === 'dhrishti_edge_sent_bytes')?.unit, 'By');
});

test('resolver edges reach the hub: a container\'s lookups through Docker\'s DNS, counted as its agent counts them; calls to a server named by DNS still join', async () => {
  await dockerd.cli(['exec', 'fleet-web', '/usr/bin/node', '-e',
    `const r = new (require('dns').Resolver)(); let left = 3; for (let i = 0; i < 3; i++) r.resolve4('fleet-api', () => --left || process.exit(0));`], 30_000);
  const mine = await until('the resolver edge on agent A', async () => {
    const g = (await getJson<GraphSnapshot>(`${agentA.url}/api/v1/graph`)).body;
    const e = g.edges.find((x) => x.protocol === 'dns' && x.source === 'svc:fleet/web');
    return e && (e.dns?.queries ?? 0) >= 3 ? e : undefined;
  }, 20_000);
  const hubEdge = await until('the same resolver edge on the hub', async () => {
    const g = (await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph`)).body;
    const e = g.edges.find((x) => x.protocol === 'dns' && x.source === 'svc:fleet/web');
    return e && e.dns?.queries === mine.dns!.queries ? { e, g } : undefined;
  }, 40_000);
  const { e, g } = hubEdge;
  assert.equal(e.id, `svc:fleet/web|proc:Docker DNS@host-a|${mine.port}|dns`);
  assert.equal(g.nodes.find((n) => n.id === e.target)?.label, 'Docker DNS');
  assert.deepEqual([e.connections.opened, e.dns!.failures, e.dns!.answered, e.bytes.sent], [mine.dns!.queries, mine.dns!.failures, mine.dns!.queries - mine.dns!.timeouts, 0]);
  // the agent's series carry the edge labels, so they join edge series by labels (one per way it reaches Prometheus)
  const q = `max by (host, client, client_group, client_kind, server, server_kind, protocol) (dhrishti_dns_client_queries_total{host="host-a", client="web", client_group="fleet", client_kind="service", server="Docker DNS", protocol="dns"})`;
  const series = await until('the DNS series in Prometheus', async () => { const r = await prom.query(q); return r.length ? r : undefined; });
  assert.equal(series.length, 1, JSON.stringify(series));
  assert.equal(Number(series[0].value[1]), mine.dns!.queries);
  // The range map, the edge's detail and its time series count the queries too (read from the DNS series, not the TCP ones).
  const ranged = (await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph?from=-10m&to=now`)).body.edges.find((x) => x.id === e.id);
  assert.deepEqual([ranged?.protocol, ranged?.connections.opened, ranged?.dns?.queries, ranged?.dns?.failures], ['dns', mine.dns!.queries, mine.dns!.queries, mine.dns!.failures]);
  const enc = encodeURIComponent(e.id);
  await until('the queries in the hub edge detail\'s series', async () => {
    const d = (await getJson<{ series: { connections: number }[] }>(`${hubUrl}/api/v1/edges/${enc}`)).body;
    return Math.round(d.series.reduce((s, p) => s + p.connections * HUB_DEFAULTS.detailStepMs / 1000, 0)) === mine.dns!.queries ? true : undefined;
  }, 40_000);
  const ts = (await getJson<{ points: { v: number | null }[] }>(`${hubUrl}/api/v1/timeseries?edge=${enc}&metric=connections&from=-10m`)).body;
  assert.equal(ts.points.reduce((s, p) => s + (p.v ?? 0), 0), mine.dns!.queries, JSON.stringify(ts));
  // The lookups named fleet-api's address on host-a: its calls to that address from now on (by address, as traffic()
  // makes them) name their server 'fleet-api' (a new edge on host-a), and the hub still joins them to the api on host-b
  // through the addresses behind that name (dhrishti_name_info).
  await traffic(THIRD);
  const named = await until('host-a\'s calls to fleet-api by name', async () => {
    const g = (await getJson<GraphSnapshot>(`${agentA.url}/api/v1/graph`)).body;
    return g.edges.find((x) => x.target === 'ext:fleet-api' && x.port === 8080 && x.connections.opened === THIRD);
  }, 20_000);
  assert.ok(named);
  await until('the joined edge counting them', async () => {
    const g = (await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph`)).body;
    return g.edges.find((x) => x.id === EDGE)?.connections.opened === FIRST + SECOND + THIRD && !g.nodes.some((n) => n.id === 'ext:fleet-api') ? true : undefined;
  }, 40_000);
  // A node's time series sum what the agent's history sums: its connection edges for connections (not its lookups),
  // its resolver edges for DNS metrics, its inbound edges for requests (review Q: the lookups were added in, and
  // request metrics answered RTT figures).
  const sum = async (node: string, metric: string) => {
    const r = await getJson<{ points: { v: number | null }[] }>(`${hubUrl}/api/v1/timeseries?node=${encodeURIComponent(node)}&metric=${metric}&from=-10m`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.points.reduce((s, p) => s + (p.v ?? 0), 0);
  };
  const tcpOpened = (await getJson<GraphSnapshot>(`${hubUrl}/api/v1/graph`)).body.edges
    .filter((x) => x.source === 'svc:fleet/web' && x.protocol !== 'dns').reduce((s, x) => s + x.connections.opened, 0);
  await until('the node\'s connections series', async () => ((await sum('svc:fleet/web', 'connections')) === tcpOpened ? true : undefined), 40_000);
  assert.equal(await sum('svc:fleet/web', 'dns_queries'), mine.dns!.queries);
  await until('the api\'s inbound requests', async () => ((await sum('svc:fleet/api', 'requests')) === FIRST + SECOND + THIRD ? true : undefined), 40_000);
  assert.equal(await sum('svc:fleet/web', 'requests'), 0, 'web serves none');
  const p95 = await getJson<{ points: { v: number | null }[] }>(`${hubUrl}/api/v1/timeseries?node=svc:fleet%2Fapi&metric=request_p95&from=-10m`);
  assert.ok(p95.body.points.some((p) => p.v !== null && p.v > 0 && p.v < 1000), `request p95 in ms: ${JSON.stringify(p95.body.points.filter((p) => p.v !== null))}`);
  const lat = await getJson<{ message: string }>(`${hubUrl}/api/v1/timeseries?node=svc:fleet%2Fweb&metric=dns_latency_p95&from=-10m`);
  assert.equal(lat.status, 400);
  assert.match(lat.body.message, /not available on the hub/);
});



test('an agent that stops is shown down on the hub, the other stays up', async () => {
  await agentB.stop();
  const tel = await until('host-b down', async () => {
    const t = (await getJson<HubTelemetry>(`${hubUrl}/api/v1/agent`)).body;
    return t.agents.find((a) => a.host === 'host-b')?.state === 'down' ? t : undefined;
  }, 30_000);
  assert.equal(tel.agents.find((a) => a.host === 'host-a')?.state, 'up');
  assert.equal(tel.agents.find((a) => a.host === 'host-b')?.up, false);
});
