// Names and DNS health on the map, end to end through `dhrishti run` and its
// API: host processes resolve through a real dnsmasq in the test's own
// network namespace (linked to the host by a veth pair) and connect to the
// test's servers there, which the map sees as servers outside this host.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DnsLab, CARES_CLIENT, linkResolver } from './support/dns-lab.js';
import { startAgent, getJson, waitForGraph, type RunningAgent } from './support/agent.js';
import { start, stopAll } from './support/children.js';
import { until } from './support/wait.js';
import type { EdgeDns, GraphEdge, GraphSnapshot } from '../src/graph/types.js';
import { launchBrowser, type BrowserSession } from './support/browser.js';

const PREFIX = '198.18.53'; // benchmarking range, only on the test's own veth pair
const PAY = `${PREFIX}.250`, OTHER = `${PREFIX}.251`;
const DNS = linkResolver(PREFIX);
const PORT = 5432;
const HOSTS: Record<string, string[]> = {
  'payments.partner.example': [PAY],
  'move.partner.example': [PAY],
  'db.zone.test': ['198.51.100.11'],
  'n3.zone.test': ['198.51.100.13'],
};

/** Connects (glibc getaddrinfo through net.connect) to each argv name or address in turn on argv[1]. */
const CONNECT_CLIENT = `
const net = require('net');
const [port, ...targets] = process.argv.slice(1);
(async () => {
  for (const host of targets) {
    await new Promise((done) => {
      const s = net.connect({ host, port: Number(port), family: 4 }, () => { console.log('ok ' + host + ' ' + s.remoteAddress); s.end(); });
      s.on('close', done);
      s.on('error', (e) => { console.log('error ' + host + ' ' + e.code); done(); });
    });
  }
})();
`;

const TCP_SERVER = `require('net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(${PORT}, '0.0.0.0', () => console.log('listening'));`;

const CLIENT = 'proc:node';
const RESOLVER_EDGE = `${CLIENT}|ext:${DNS}|53|dns`;

describe('DNS on the map, through dhrishti run', { timeout: 300_000 }, () => {
  let lab: DnsLab;
  let agent: RunningAgent;
  let b: BrowserSession | null = null;
  const graphUrl = () => `${agent.url}/api/v1/graph`;
  const edge = (g: GraphSnapshot, id: string) => g.edges.find((e) => e.id === id);
  const dnsOf = async (): Promise<EdgeDns | null> => edge((await getJson<GraphSnapshot>(graphUrl())).body, RESOLVER_EDGE)?.dns ?? null;

  before(async () => {
    lab = await DnsLab.start({ hosts: HOSTS, cnames: { 'www.partner.example': 'payments.partner.example' }, ttl: 30, link: { prefix: PREFIX, servers: [PAY, OTHER] } });
    await lab.spawn(process.execPath, ['-e', TCP_SERVER]).waitFor(/^listening/, 15_000);
    agent = await startAgent(['--no-docker', '--flush-interval', '1s']);
    await agent.child.waitFor(/reading DNS answers/, 5000);
  });

  after(async () => {
    await b?.close();
    await agent?.stop();
    await stopAll();
    await lab?.stop();
  });

  it('outside servers are named by the FQDN their client resolved, with the address and CNAME chain as detail; one never resolved keeps its IP', async () => {
    const r = await lab.hostExec([process.execPath, '-e', CONNECT_CLIENT, '--', String(PORT), 'payments.partner.example', 'www.partner.example', OTHER]);
    assert.match(r.stdout, new RegExp(`ok payments.partner.example ${PAY}`), r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`ok www.partner.example ${PAY}`));
    assert.match(r.stdout, new RegExp(`ok ${OTHER} ${OTHER}`));
    const want = [`${CLIENT}|ext:payments.partner.example|${PORT}|tcp`, `${CLIENT}|ext:www.partner.example|${PORT}|tcp`, `${CLIENT}|ext:${OTHER}|${PORT}|tcp`];
    const g = await waitForGraph(graphUrl(), (x) => want.every((id) => edge(x, id)), 'the three edges');
    const pay = g.nodes.find((n) => n.id === 'ext:payments.partner.example')!;
    assert.equal(pay.kind, 'external');
    assert.equal(pay.label, 'payments.partner.example');
    assert.deepEqual(pay.ips, [PAY]);
    assert.deepEqual(pay.dns, { names: ['payments.partner.example'], cnames: [], domain: 'partner.example' });
    const www = g.nodes.find((n) => n.id === 'ext:www.partner.example')!;
    assert.deepEqual(www.dns?.cnames, ['payments.partner.example'], 'the CNAME target is shown');
    assert.deepEqual(www.ips, [PAY]);
    const bare = g.nodes.find((n) => n.id === `ext:${OTHER}`)!;
    assert.equal(bare.label, OTHER);
    assert.equal(bare.dns, undefined);
    assert.ok(!g.nodes.some((n) => n.id === `ext:${PAY}`), 'the resolved address never shows as a bare IP');
  });

  it('a name that changes address mid-test follows the change', async () => {
    const first = await lab.hostExec([process.execPath, '-e', CONNECT_CLIENT, '--', String(PORT), 'move.partner.example']);
    assert.match(first.stdout, new RegExp(`ok move.partner.example ${PAY}`));
    lab.writeHosts({ ...HOSTS, 'move.partner.example': [OTHER] });
    await lab.reload();
    const second = await lab.hostExec([process.execPath, '-e', CONNECT_CLIENT, '--', String(PORT), 'move.partner.example']);
    assert.match(second.stdout, new RegExp(`ok move.partner.example ${OTHER}`));
    const id = `${CLIENT}|ext:move.partner.example|${PORT}|tcp`;
    const g = await waitForGraph(graphUrl(), (x) => (edge(x, id)?.connections.opened ?? 0) >= 2, 'both connections on the named edge');
    assert.deepEqual(g.nodes.find((n) => n.id === 'ext:move.partner.example')!.ips, [PAY, OTHER]);
    assert.equal(edge(g, `${CLIENT}|ext:${OTHER}|${PORT}|tcp`)!.connections.opened, 1, 'the new address joined the name, not the bare-IP node');
  });

  it('the resolver edge counts NXDOMAIN, SERVFAIL, REFUSED and timeouts exactly, with queries/s and p95, is red, and lists the failing names', async () => {
    // Whatever the earlier tests asked is counted by now; count from here.
    await new Promise((r) => setTimeout(r, 2000));
    const before = (await dnsOf()) ?? { queries: 0, nxdomain: 0, servfail: 0, refused: 0, timeouts: 0, failures: 0 } as EdgeDns;
    // Ten failing names: all of them in the panel's top ten.
    const names = ['nx1', 'nx2', 'nx3', 'nx4'].map((n) => `${n}.zone.test`)
      .concat('a.fail.test', 'b.fail.test', 'c.fail.test', 'x.refused.test', 'a.dead.test', 'b.dead.test', 'db.zone.test');
    const r = await lab.hostExec([process.execPath, '-e', CARES_CLIENT, '--', DNS, '2000', ...names]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /a\.dead\.test ETIMEOUT/);
    // Timeouts are declared 5 s after their query.
    const after = await until('both timeouts on the resolver edge', async () => {
      const d = await dnsOf();
      return d && d.timeouts - before.timeouts >= 2 && d.queries - before.queries >= names.length ? d : undefined;
    }, 20_000);
    assert.deepEqual(
      {
        queries: after.queries - before.queries, nxdomain: after.nxdomain - before.nxdomain, servfail: after.servfail - before.servfail,
        refused: after.refused - before.refused, timeouts: after.timeouts - before.timeouts, failures: after.failures - before.failures,
      },
      { queries: 11, nxdomain: 4, servfail: 3, refused: 1, timeouts: 2, failures: 10 },
    );
    // 11 queries within the last 10 s window: a rate between 0.1/s and 11/s, depending on where the window ends.
    assert.ok(after.queriesPerSec > 0 && after.queriesPerSec <= 11, `queries/s ${after.queriesPerSec}`);
    assert.deepEqual(after.resolvers, [{ address: DNS, port: 53, dockerEmbedded: false }]);
    const failing = new Map(after.failingNames.map((f) => [f.name, f.reason]));
    assert.equal(failing.get('nx1.zone.test'), 'NXDOMAIN');
    assert.equal(failing.get('a.fail.test'), 'SERVFAIL');
    assert.equal(failing.get('x.refused.test'), 'REFUSED');
    assert.equal(failing.get('a.dead.test'), 'timeout');
    assert.ok(after.latency.p95Ms !== null && after.latency.p95Ms > 0);
    // failing lately: drawn red (rates read complete seconds, so within a second of the last failure)
    const e = await until('the resolver edge red', async () => { const x = edge((await getJson<GraphSnapshot>(graphUrl())).body, RESOLVER_EDGE); return x && x.rates['1m'].failures > 0 ? x : undefined; }, 5000);
    assert.equal(e.protocol, 'dns');
    const resolverNode = (await getJson<GraphSnapshot>(graphUrl())).body.nodes.find((n) => n.id === `ext:${DNS}`);
    assert.equal(resolverNode?.kind, 'external');
  });

  it('in the browser: the resolver edge is red and its panel lists the failing names; nodes labelled by FQDN, found by name, boxed by registered domain; the table\'s DNS column', async () => {
    b = await launchBrowser({ viewport: { width: 1400, height: 900 } });
    await b.openUi(agent.url);
    await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(RESOLVER_EDGE)})`, 15_000, 'the resolver edge drawn');
    const classes = await b.edgeClasses(RESOLVER_EDGE);
    assert.ok(classes.includes('failing') && classes.includes('dns'), classes.join(' '));
    await b.waitFor(`window.__dhrishti.cy.getElementById('ext:payments.partner.example').data('label') === 'payments.partner.example'`, 5000, 'the node labelled by its FQDN');

    await b.page.evaluate((id) => window.__dhrishti!.tap(id), RESOLVER_EDGE);
    const panel = b.page.locator('[data-testid=edge-panel][data-protocol=dns]');
    await panel.waitFor({ timeout: 10_000 });
    assert.equal(await panel.locator('[data-testid=edge-health]').textContent(), 'Failing');
    await panel.locator('[data-testid=dns-failing-name][data-name="nx1.zone.test"]').waitFor({ timeout: 10_000 });
    assert.equal(await panel.locator('[data-testid=dns-failing-name][data-name="a.dead.test"]').getAttribute('data-reason'), 'timeout');
    assert.match((await panel.locator('[data-testid=dns-counts]').textContent())!, /NXDOMAIN\s*[1-9]/);
    assert.match((await panel.locator('[data-testid=dns-counts]').textContent())!, /REFUSED\s*[1-9]/);
    assert.match((await panel.locator('[data-testid=stat-dns-p95] .stat-value').textContent())!, /^\d[\d.]*\s*(µs|ms|s)$/, 'latency p95 shown');

    // A node named by DNS lists its names and the CNAME chain it was reached through.
    await b.page.evaluate(() => window.__dhrishti!.tap('ext:www.partner.example'));
    const names = b.page.locator('[data-testid=node-dns]');
    await names.waitFor({ timeout: 10_000 });
    assert.match((await names.locator('[data-testid=node-dns-names]').textContent())!, /www\.partner\.example/);
    assert.equal(await names.locator('[data-testid=node-dns-cnames]').textContent(), 'www.partner.example → payments.partner.example');

    // Search by a name from a CNAME chain finds the node that answered through it.
    await b.page.fill('[data-testid=filter-search]', 'payments.partner');
    await b.waitFor(`window.__dhrishti.visibleNodeIds().includes('ext:www.partner.example') && window.__dhrishti.visibleNodeIds().includes('ext:payments.partner.example') && !window.__dhrishti.visibleNodeIds().includes('ext:${OTHER}')`, 10_000, 'search by DNS name');
    await b.page.fill('[data-testid=filter-search]', '');

    // Grouped by registered domain: both names in one box.
    await b.page.click('[data-testid=filter-domains]');
    await b.waitFor(`['ext:payments.partner.example', 'ext:www.partner.example', 'ext:move.partner.example'].every((id) => window.__dhrishti.cy.getElementById(id).data('parent') === 'group::partner.example')`, 10_000, 'boxed by partner.example');
    await b.page.click('[data-testid=filter-domains]');
    await b.waitFor(`!window.__dhrishti.cy.getElementById('ext:payments.partner.example').data('parent')`, 10_000, 'unboxed again');

    // Shown from the history, its panel says what its numbers are over, and its charts count queries, not bytes.
    await b.page.selectOption('[data-testid=time-picker]', '15m');
    await b.waitFor(`window.__dhrishti.edgeIds().includes(${JSON.stringify(RESOLVER_EDGE)})`, 15_000, 'the resolver edge in the range');
    await b.page.evaluate((id) => window.__dhrishti!.tap(id), RESOLVER_EDGE);
    await panel.waitFor({ timeout: 10_000 });
    assert.notEqual(await b.page.getByTestId('dns-stats-caption').textContent(), 'Last 10 seconds');
    await b.page.locator('[data-testid=history-connections]').waitFor({ timeout: 10_000 });
    assert.match((await b.page.locator('[data-testid=history-connections]').textContent())!, /^queries per/);
    assert.match((await b.page.locator('[data-testid=history-failures]').textContent())!, /^failed queries per/);
    assert.equal(await b.page.locator('[data-testid=history-bytes_sent]').count(), 0, 'a resolver edge moves no bytes to chart');
    // its failures are lookups, named, not "no failed connections"; its client's panel lists them too
    await b.page.locator('[data-testid=past-failures] [data-testid=past-dns-failure][data-name="nx1.zone.test"]').waitFor({ timeout: 10_000 });
    assert.equal(await b.page.locator('[data-testid=past-failures] h3').textContent(), 'Failed lookups in that range');
    await b.page.evaluate((id) => window.__dhrishti!.tap(id), RESOLVER_EDGE.split('|')[0]);
    await b.page.getByTestId('node-panel').waitFor({ timeout: 10_000 });
    await b.waitFor(`document.querySelector('[data-testid=past-failures] h3')?.textContent === 'Failed connections over the picked range'
      && !!document.querySelector('[data-testid=past-failures] [data-testid=past-dns-failure][data-name="nx1.zone.test"]')`, 10_000, "the client's failed lookups in its own section");
    await b.page.keyboard.press('Escape');
    await b.page.selectOption('[data-testid=time-picker]', 'live');

    await b.page.click('[data-testid=tab-table]');
    const row = b.page.locator(`[data-testid=edge-row][data-edge-id="${RESOLVER_EDGE}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.locator('[data-testid=edge-row-dns]').textContent())!, /NXDOMAIN 4/);
    assert.match((await b.page.locator(`[data-testid=edge-row][data-edge-id="${CLIENT}|ext:www.partner.example|${PORT}|tcp"] [data-testid=edge-row-dns]`).textContent())!, /www\.partner\.example → payments\.partner\.example/);
    assert.deepEqual(b.errors, []);
  });

  it('/metrics has the per-client DNS counters and the capture\'s losses', async () => {
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    // labelled as edge series are: the client's and the resolver's names and kinds, the port, protocol "dns"
    const want = ['client="node"', 'client_group="host"', 'client_kind="process"', `server="${DNS}"`, 'server_group=""', 'server_kind="external"', 'server_port="53"', 'protocol="dns"', 'kind="NXDOMAIN"'];
    const line = text.split('\n').find((l) => l.startsWith('dhrishti_dns_client_failures_total{') && want.every((w) => l.includes(w)));
    assert.ok(line && Number(line.split(' ').at(-1)) >= 4, line);
    for (const name of ['dhrishti_dns_lost_total{reason="ringbuf_full",host=', 'dhrishti_dns_name_map_entries{what="capacity",host=', 'dhrishti_dns_name_map_evictions_total{what="address",host=', 'dhrishti_dns_client_latency_p95_seconds{']) {
      assert.ok(text.includes(name), `${name} in /metrics`);
    }
  });

  it('history: a past map keeps the names, and the resolver edge its DNS numbers and failing names', async () => {
    const at = Date.now();
    await new Promise((r) => setTimeout(r, 2500)); // a flush or two
    const then = (await getJson<GraphSnapshot & { at: number }>(`${graphUrl()}?at=${at}&window=5m`)).body;
    const pay = then.nodes.find((n) => n.id === 'ext:payments.partner.example');
    assert.ok(pay, then.nodes.map((n) => n.id).join(' '));
    assert.equal(pay.dns?.domain, 'partner.example');
    assert.deepEqual(then.nodes.find((n) => n.id === 'ext:www.partner.example')?.dns?.cnames, ['payments.partner.example']);
    const range = (await getJson<GraphSnapshot>(`${graphUrl()}?from=-5m`)).body;
    const r = range.edges.find((e: GraphEdge) => e.id === RESOLVER_EDGE);
    assert.ok(r?.dns, range.edges.map((e) => e.id).join(' '));
    assert.deepEqual([r.dns.nxdomain, r.dns.servfail, r.dns.refused, r.dns.timeouts], [4, 3, 1, 2]);
    assert.ok(r.dns.failingNames.some((f) => f.name === 'a.dead.test' && f.reason === 'timeout'), JSON.stringify(r.dns.failingNames));
    const series = (await getJson<{ points: { v: number | null }[] }>(`${agent.url}/api/v1/timeseries?edge=${encodeURIComponent(RESOLVER_EDGE)}&metric=dns_failures&from=-5m`)).body;
    assert.equal(series.points.reduce((s, p) => s + (p.v ?? 0), 0), 10);
  });

  it('the agent reports DNS capture without loss', async () => {
    const a = (await getJson<{ dns: { lost: { total: number }; malformed: { total: number }; nameMap: { addresses: number; capacity: number } } }>(`${agent.url}/api/v1/agent`)).body;
    assert.ok(a.dns, 'dns in the agent status');
    assert.equal(a.dns.malformed.total, 0);
    assert.equal(a.dns.lost.total, 0);
    assert.ok(a.dns.nameMap.addresses > 0 && a.dns.nameMap.addresses <= a.dns.nameMap.capacity);
  });

  it('curl (glibc getaddrinfo) reaching a CNAME: its edge goes to the node named by the name it asked for', async () => {
    const r = await lab.hostExec(['curl', '-s', '-o', '/dev/null', '-m', '5', `http://www.partner.example:${PORT}/`]);
    assert.equal(r.code, 52, `curl connected and got the server's empty reply (${r.stderr})`);
    const g = await waitForGraph(graphUrl(), (x) => !!edge(x, `proc:curl|ext:www.partner.example|${PORT}|tcp`), 'the curl edge to www.partner.example', 15_000);
    assert.deepEqual(g.nodes.find((n) => n.id === 'ext:www.partner.example')!.ips, [PAY]);
  });

  it('a resolver on this host is named by the process serving it (dnsmasq here, systemd-resolved on 127.0.0.53 elsewhere), and its own upstream queries leave from that node', async () => {
    const HOST_DNS = '127.0.0.153'; // an address of this host, away from a real 127.0.0.53
    const dm = start('dnsmasq', ['--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--cache-size=0',
      `--listen-address=${HOST_DNS}`, '--bind-interfaces', '--port=53', `--server=${DNS}`]);
    try {
      await until('dnsmasq answering', async () => {
        const r = await lab.hostExec([process.execPath, '-e', CARES_CLIENT, '--', HOST_DNS, '1000', 'payments.partner.example']);
        return r.stdout.includes(`payments.partner.example ${PAY}`) ? r : undefined;
      }, 15_000);
      const toHost = `${CLIENT}|proc:dnsmasq|53|dns`, upstream = `proc:dnsmasq|ext:${DNS}|53|dns`;
      const g = await waitForGraph(graphUrl(), (x) => !!edge(x, toHost) && !!edge(x, upstream), 'node -> dnsmasq and dnsmasq -> the lab resolver', 15_000);
      const n = g.nodes.find((x) => x.id === 'proc:dnsmasq')!;
      assert.deepEqual([n.kind, n.label], ['process', 'dnsmasq']);
      assert.ok(n.instances?.some((i) => i.pids.includes(dm.pid)), `the dnsmasq started here: ${JSON.stringify(n.instances)}`);
      assert.deepEqual(edge(g, toHost)!.dns?.resolvers, [{ address: HOST_DNS, port: 53, dockerEmbedded: false }]);
      assert.ok((edge(g, upstream)!.dns?.queries ?? 0) >= 1);
      const anonymous = g.edges.filter((x) => x.target === 'proc:host-dns' && x.dns?.resolvers.some((r) => r.address === HOST_DNS));
      assert.deepEqual(anonymous.map((x) => x.id), [], 'no anonymous "DNS resolver on the host" for it');
    } finally {
      await dm.stop();
    }
  });

  it('--dns-names bounds the name map: past it the least recently used address is forgotten, and counted', async () => {
    const small = await startAgent(['--no-docker', '--no-history', '--dns-names', '2']);
    try {
      await small.child.waitFor(/reading DNS answers/, 5000);
      for (const name of ['payments.partner.example', 'db.zone.test', 'n3.zone.test']) {
        assert.equal((await lab.hostExec(['getent', 'ahostsv4', name])).code, 0, name);
      }
      type Status = { dns: { nameMap: { addresses: number; capacity: number; evictions: number } } };
      const m = await until('the third address evicting the first', async () => {
        const nm = (await getJson<Status>(`${small.url}/api/v1/agent`)).body.dns.nameMap;
        return nm.evictions >= 1 ? nm : undefined;
      });
      // (Other lookups on this host count too: at least the one eviction.)
      assert.deepEqual([m.capacity, m.addresses], [2, 2]);
      assert.ok(m.evictions >= 1);
    } finally {
      await small.stop();
    }
  });
});
