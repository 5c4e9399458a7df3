// Docker's embedded DNS (127.0.0.11 inside user-defined networks, DNATed to
// a port dockerd listens on in the container's namespace): container names it
// resolves are captured, with the container's namespace, so the map can keep
// naming containers by their identity (and never make them externals).
// Names Docker does not know are forwarded to the container's external
// resolver: here a dnsmasq container on the same network (`--dns`), never the
// host's upstream, which is outside this machine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { ProbeEngine } from '../src/collector/engine.js';
import { DnsCollector } from '../src/dns/collector.js';
import type { DnsTransaction } from '../src/dns/types.js';
import { TestDockerd, ensureTestImage, createNetwork, runContainer, containerFacts, removeAll, nodeCommand, httpServerScript, TEST_IMAGE } from './support/dockerd.js';
import { DnsLab, ensureDnsClientImage, linkResolver } from './support/dns-lab.js';
import { until } from './support/wait.js';
import { startAgent, waitForGraph, type RunningAgent } from './support/agent.js';
import type { GraphSnapshot } from '../src/graph/types.js';

const NET = 'dh-dns-net';
/** The host port a resolver container publishes 53/udp on (Docker's userland proxy relays it). */
const PUBLISHED_DNS = 15353;

describe("DNS through Docker's embedded resolver", { timeout: 300_000 }, () => {
  let d: TestDockerd;
  let engine: ProbeEngine;
  let dns: DnsCollector;
  let agent: RunningAgent;
  let image: { tag: string; musl: boolean };
  let targetIp = '';
  const txs: DnsTransaction[] = [];
  const containers: string[] = ['dns-target', 'dns-upstream'];
  let upstreamIp = '';
  const hostNetns = Number(/\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/net'))![1]);

  before(async () => {
    d = await TestDockerd.start();
    await ensureTestImage(d);
    image = await ensureDnsClientImage((args) => d.cli(args, 120_000));
    await createNetwork(d, NET);
    await runContainer(d, { name: 'dns-target', network: NET });
    targetIp = (await containerFacts(d, 'dns-target')).ip;
    await runContainer(d, {
      name: 'dns-upstream', network: NET, image: image.tag,
      command: ['/usr/sbin/dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--local=/#/', '--user=root', '--pid-file=/tmp/dnsmasq.pid'],
    });
    upstreamIp = (await containerFacts(d, 'dns-upstream')).ip;
    engine = new ProbeEngine({ discover: false, flushIntervalMs: 200 });
    dns = new DnsCollector();
    engine.use(dns);
    dns.onTransactionDone((t) => txs.push(t));
    engine.start();
    assert.ok(dns.isAvailable(), `DNS capture available: ${dns.stats().reason}`);
    agent = await startAgent(['--docker-socket', d.socketPath, '--no-history', '--dns-ports', `53,${PUBLISHED_DNS}`]);
  });

  after(async () => {
    await agent?.stop();
    engine?.stop();
    if (d) {
      await removeAll(d, containers, [NET]);
      await d.stop();
    }
  });

  const resolveIn = async (name: string, argv: string[]) => {
    containers.push(name);
    return d.cli(['run', '--name', name, '--network', NET, image.tag, ...argv]);
  };

  const embedded = (t: DnsTransaction) => t.resolver.dockerEmbedded && t.name === 'dns-target' && t.type === 'A';

  it('glibc getent in a container: the container name is captured with its answer, in the container namespace', async () => {
    const out = await resolveIn('dns-client-glibc', ['getent', 'hosts', 'dns-target']);
    assert.match(out, new RegExp(`^${targetIp.replace(/\./g, '\\.')}\\s+dns-target`));
    const t = await until('embedded DNS answer', async () => txs.find((x) => embedded(x) && x.client.comm === 'getent'));
    assert.equal(t.outcome, 'answered');
    assert.equal(t.rcode, 'NOERROR');
    assert.deepEqual(t.addresses, [targetIp]);
    assert.equal(t.resolver.address, '127.0.0.11');
    assert.notEqual(t.client.netns, hostNetns, 'seen inside the container namespace');
    assert.notEqual(t.client.cgroupId, 0);
    // Inside the container 127.0.0.11:53 is DNATed to dockerd's port; the connected socket still sees :53.
    assert.equal(t.resolver.port, 53);
    // The embedded resolver's answer names the container's address in the client's namespace.
    const b = dns.nameFor(t.client.netns, targetIp)!;
    assert.equal(b.name, 'dns-target');
    assert.equal(b.resolver.dockerEmbedded, true);
    assert.equal(dns.nameFor(hostNetns, targetIp), null);
  });

  it('a static musl resolver in a container (unconnected sendto to 127.0.0.11)', async (t) => {
    if (!image.musl) { t.skip('musl-gcc not installed'); return; }
    const out = await resolveIn('dns-client-musl', ['/resolve-musl', 'dns-target']);
    assert.match(out, new RegExp(`dns-target ${targetIp.replace(/\./g, '\\.')}`));
    const x = await until('musl embedded DNS answer', async () => txs.find((y) => embedded(y) && y.client.comm === 'resolve-musl'));
    assert.deepEqual(x.addresses, [targetIp]);
    assert.equal(x.resolver.port, 53);
  });

  it('a typo in a container name: NXDOMAIN from the embedded DNS (after it asked the external resolver), counted for the client', async () => {
    const name = 'dns-client-typo';
    containers.push(name);
    await assert.rejects(d.cli(['run', '--name', name, '--network', NET, '--dns', upstreamIp, image.tag, 'getent', 'hosts', 'dns-targt']));
    const t = await until('NXDOMAIN from the embedded DNS', async () =>
      txs.find((x) => x.resolver.dockerEmbedded && x.name === 'dns-targt' && x.client.comm === 'getent'));
    assert.equal(t.rcode, 'NXDOMAIN');
    // (namespace inodes are reused once a container is gone: the cgroup tells this container from the first one)
    const h = dns.resolverEdges().find((e) => e.client.cgroupId === t.client.cgroupId && e.client.netns === t.client.netns && e.resolver.dockerEmbedded)!;
    assert.ok(h.nxdomain >= 1, JSON.stringify(h));
    assert.equal(h.failingNames[0].name, 'dns-targt');
    // dockerd forwarded it from inside the container's namespace: a client of the external resolver.
    const fwd = await until('dockerd forwarding upstream', async () =>
      txs.find((x) => x.resolver.address === upstreamIp && x.name === 'dns-targt' && x.client.netns === t.client.netns));
    assert.equal(fwd.rcode, 'NXDOMAIN');
    assert.equal(fwd.resolver.port, 53);
  });

  it('through dhrishti run: a container reached by its name keeps its own node (the name listed on it); a typo is an NXDOMAIN on its red resolver edge', async () => {
    containers.push('dns-db', 'dns-api');
    await runContainer(d, { name: 'dns-db', network: NET, command: nodeCommand(httpServerScript(5432)) });
    const dbIp = (await containerFacts(d, 'dns-db')).ip;
    // Unknown names go to the dnsmasq container (--dns), never to the host's upstream outside this machine.
    await d.cli(['run', '-d', '--name', 'dns-api', '--network', NET, '--dns', upstreamIp, TEST_IMAGE, ...nodeCommand(`
      const http = require('http');
      const get = (host) => new Promise((done) => http.get({ host, port: 5432, path: '/' }, (r) => { r.resume(); r.on('end', done); }).on('error', done));
      (async () => { for (let i = 0; i < 3; i++) { await get('dns-db'); await get('dns-dbb'); } setInterval(() => {}, 1 << 30); })();`)]);
    const tcp = 'ctr:dns-api|ctr:dns-db|5432|tcp', resolverEdge = 'ctr:dns-api|proc:docker-dns|53|dns';
    // (rates read complete seconds: the failure's second must have ended for the edge to be red)
    const g = await waitForGraph(`${agent.url}/api/v1/graph`, (x) => !!x.edges.find((e) => e.id === tcp) && (x.edges.find((e) => e.id === resolverEdge)?.dns?.nxdomain ?? 0) >= 1
      && (x.edges.find((e) => e.id === resolverEdge)?.rates['1m'].failures ?? 0) > 0, 'the container edge and the resolver edge with its NXDOMAIN, red', 30_000);
    assert.ok(!g.nodes.some((n) => n.kind === 'external' && (n.ips.includes(dbIp) || n.label.startsWith('dns-db'))), 'no external node for a container resolved by name');
    assert.ok(g.nodes.find((n) => n.id === 'ctr:dns-db')!.dns?.names.includes('dns-db'), 'the name it was reached by is listed on the container');
    const r = g.edges.find((e) => e.id === resolverEdge)!;
    assert.deepEqual(r.dns!.resolvers, [{ address: '127.0.0.11', port: 53, dockerEmbedded: true }]);
    assert.ok(r.dns!.failingNames.some((f) => f.name === 'dns-dbb' && f.reason === 'NXDOMAIN'), JSON.stringify(r.dns!.failingNames));
    assert.ok(r.rates['1m'].failures > 0, 'red');
    assert.equal(g.nodes.find((n) => n.id === 'proc:docker-dns')!.label, 'Docker DNS');
    assert.ok(g.edges.some((e) => e.id === 'ctr:dns-client-glibc|proc:docker-dns|53|dns'), `a container that resolved and exited at once keeps its queries on its own node; resolver edges: ${g.edges.filter((e) => e.protocol === 'dns').map((e) => e.id).join(', ')}`);
    // The embedded DNS asked the external resolver (the dnsmasq container) for the typo: drawn from the Docker DNS node.
    await waitForGraph(`${agent.url}/api/v1/graph`, (x: GraphSnapshot) => x.edges.some((e) => e.source === 'proc:docker-dns' && e.target === 'ctr:dns-upstream' && e.protocol === 'dns'), 'Docker DNS -> upstream resolver edge');
  });

  it('a resolver container published on a host UDP port: a host process asking it there has its resolver edge to that container, on its port 53 (not to docker-proxy)', async () => {
    containers.push('dns-published');
    await d.cli(['run', '-d', '--name', 'dns-published', '--network', NET, '-p', `127.0.0.1:${PUBLISHED_DNS}:53/udp`, image.tag,
      '/usr/sbin/dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--address=/published.test/10.9.9.9', '--user=root', '--pid-file=/tmp/dnsmasq.pid']);
    const ask = `const r = new (require('dns').Resolver)(); r.setServers(['127.0.0.1:${PUBLISHED_DNS}']);
      let left = 4; const one = () => r.resolve4('published.test', (e, a) => { if (e) { console.error(e.message); process.exit(1); } if (--left) one(); else { console.log(a[0]); process.exit(0); } }); one();`;
    // dnsmasq answers once it is up: ask until it does
    await until('an answer through the published port', async () => {
      const out = await new Promise<string>((done) => execFile(process.execPath, ['-e', ask], { timeout: 10_000 }, (_e, stdout) => done(stdout)));
      return out.trim() === '10.9.9.9' ? true : undefined;
    }, 30_000);
    const id = 'proc:node|ctr:dns-published|53|dns';
    const g = await waitForGraph(`${agent.url}/api/v1/graph`, (x: GraphSnapshot) => (x.edges.find((e) => e.id === id)?.dns?.queries ?? 0) >= 4,
      'the host process\'s resolver edge to the published resolver container', 30_000);
    const e = g.edges.find((x) => x.id === id)!;
    assert.deepEqual(e.dns!.resolvers, [{ address: '127.0.0.1', port: PUBLISHED_DNS, dockerEmbedded: false }], 'the address and port it was asked at');
    const dnsEdges = g.edges.filter((x) => x.protocol === 'dns').map((x) => x.id).join(', ');
    assert.ok(!g.edges.some((x) => x.protocol === 'dns' && x.target === 'proc:host-dns'), `no anonymous host resolver: ${dnsEdges}`);
    assert.ok(!g.nodes.some((n) => n.id === 'proc:docker-proxy'), `docker-proxy relaying the queries is no edge of its own (as for TCP): ${dnsEdges}`);
  });

  it('counts no loss and no malformed message', () => {
    const s = dns.stats();
    assert.equal(s.malformed.total, 0, JSON.stringify(s.malformed));
    assert.equal(s.lost.total, 0, JSON.stringify(s.lost));
    assert.equal(s.timeouts, 0);
  });

  it('a container resolving an outside name (a CNAME) through the embedded DNS, forwarded to a real resolver beyond the host, then connecting: its edge goes to the node named by that FQDN', async () => {
    // The outside: a DNS lab namespace linked to the host, its resolver and a server on the link; the container
    // reaches both through the host (Docker's NAT), as it would a partner's network.
    const prefix = '198.18.57', out = `${prefix}.250`, port = 5433;
    const lab = await DnsLab.start({ hosts: { 'payments.partner.example': [out] }, cnames: { 'www.partner.example': 'payments.partner.example' }, link: { prefix, servers: [out] } });
    try {
      await lab.spawn(process.execPath, ['-e', `require('net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(${port}, () => console.log('listening'))`]).waitFor(/^listening/, 15_000);
      containers.push('dns-fqdn-client');
      await d.cli(['run', '-d', '--name', 'dns-fqdn-client', '--network', NET, '--dns', linkResolver(prefix), TEST_IMAGE, ...nodeCommand(`
        const net = require('net');
        setInterval(() => { const s = net.connect({ host: 'www.partner.example', port: ${port}, family: 4 }); s.on('error', () => {}); s.on('connect', () => s.end()); }, 500);`)]);
      const id = `ctr:dns-fqdn-client|ext:www.partner.example|${port}|tcp`;
      const g = await waitForGraph(`${agent.url}/api/v1/graph`, (x: GraphSnapshot) => !!x.edges.find((e) => e.id === id), `the container's edge to www.partner.example`, 30_000);
      const n = g.nodes.find((x) => x.id === 'ext:www.partner.example')!;
      assert.deepEqual(n.ips, [out]);
      assert.deepEqual(n.dns?.cnames, ['payments.partner.example']);
    } finally {
      await lab.stop();
    }
  });
});
