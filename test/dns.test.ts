// DNS capture end to end: the real probes, real resolvers (glibc, c-ares,
// musl, Go) and real DNS servers (dnsmasq, unbound) in the test's own network
// namespace; assertions on what the DnsCollector makes of it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ProbeEngine } from '../src/collector/engine.js';
import { DnsCollector } from '../src/dns/collector.js';
import type { DnsHealth, DnsTransaction } from '../src/dns/types.js';
import { DnsLab, buildMuslResolver, buildSyscallClient, CARES_CLIENT, RESOLVER, RESOLVER6, UNBOUND, DEAD_UPSTREAM, REFUSER } from './support/dns-lab.js';
import { start, stopAll } from './support/children.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import path from 'node:path';
import { until } from './support/wait.js';

const HOSTS: Record<string, string[]> = {
  'web.zone.test': ['198.51.100.10', '2001:db8::10'],
  'db.zone.test': ['198.51.100.11'],
  'move.zone.test': ['198.51.100.20'],
  'musl.zone.test': ['198.51.100.50'],
  'go.zone.test': ['198.51.100.60'],
  // Too big for a 512-byte UDP answer: glibc gets TC and asks again over TCP.
  'big.zone.test': Array.from({ length: 40 }, (_, i) => `198.51.100.${100 + i}`),
};

describe('DNS capture with real resolvers and servers', { timeout: 300_000 }, () => {
  let lab: DnsLab;
  let engine: ProbeEngine;
  let dns: DnsCollector;
  const txs: DnsTransaction[] = [];

  const waitTx = (what: string, pred: (t: DnsTransaction) => boolean, ms = 15_000) =>
    until(what, async () => txs.find(pred), ms);
  const fromPid = (pid: number) => txs.filter((t) => t.client.pid === pid);
  const health = (pred: (h: DnsHealth) => boolean) => dns.resolverEdges().filter(pred);

  before(async () => {
    lab = await DnsLab.start({ hosts: HOSTS, cnames: { 'alias.zone.test': 'web.zone.test', 'chain.zone.test': 'alias.zone.test' }, ttl: 30 });
    engine = new ProbeEngine({ discover: false, flushIntervalMs: 200 });
    dns = new DnsCollector();
    engine.use(dns);
    dns.onTransactionDone((t) => txs.push(t));
    engine.start();
    assert.ok(dns.isAvailable(), `DNS capture available: ${dns.stats().reason}`);
  });

  after(async () => {
    engine?.stop();
    await stopAll();
    await lab?.stop();
  });

  it('glibc getaddrinfo (A and AAAA in one sendmmsg, connected UDP): names map to their addresses', async () => {
    const r = await lab.exec(['getent', 'ahosts', 'web.zone.test']);
    assert.equal(r.code, 0, r.stderr);
    const a = await waitTx('glibc A answer', (t) => t.client.pid === r.pid && t.type === 'A');
    const aaaa = await waitTx('glibc AAAA answer', (t) => t.client.pid === r.pid && t.type === 'AAAA');
    for (const t of [a, aaaa]) {
      assert.equal(t.outcome, 'answered');
      assert.equal(t.rcode, 'NOERROR');
      assert.equal(t.transport, 'udp');
      assert.deepEqual(t.resolver, { address: RESOLVER, port: 53, family: 4, dockerEmbedded: false });
      assert.equal(t.client.comm, 'getent');
      assert.equal(t.client.netns, lab.inode);
      assert.ok(t.latencyMs !== null && t.latencyMs >= 0 && t.latencyMs < 1000, `latency ${t.latencyMs}`);
    }
    assert.deepEqual(a.addresses, ['198.51.100.10']);
    assert.deepEqual(aaaa.addresses, ['2001:db8::10']);
    assert.equal(a.ttl, 30);
    assert.equal(dns.nameFor(lab.inode, '198.51.100.10')?.name, 'web.zone.test');
    assert.equal(dns.nameFor(lab.inode, '2001:db8::10')?.name, 'web.zone.test');
    assert.equal(dns.nameFor(1, '198.51.100.10'), null, 'names are per network namespace');
    assert.deepEqual(dns.addressesOf(lab.inode, 'web.zone.test'), ['2001:db8::10']); // the latest answer (AAAA)
  });

  it('a CNAME chain is kept as detail, and each client gets the name it resolved', async () => {
    const web = await lab.exec(['getent', 'ahosts', 'web.zone.test']);
    const chain = await lab.exec(['getent', 'ahosts', 'chain.zone.test']);
    assert.equal(chain.code, 0, chain.stderr);
    const t = await waitTx('CNAME answer', (x) => x.client.pid === chain.pid && x.type === 'A');
    assert.deepEqual(t.cnames, ['alias.zone.test', 'web.zone.test']);
    assert.deepEqual(t.addresses, ['198.51.100.10']);
    await waitTx('second web answer', (x) => x.client.pid === web.pid && x.type === 'A');
    const forChain = dns.nameFor(lab.inode, '198.51.100.10', { pid: chain.pid })!;
    assert.equal(forChain.name, 'chain.zone.test');
    assert.deepEqual(forChain.cnames, ['alias.zone.test', 'web.zone.test']);
    assert.equal(dns.nameFor(lab.inode, '198.51.100.10', { pid: web.pid })!.name, 'web.zone.test');
    assert.deepEqual(dns.namesOf(lab.inode, '198.51.100.10').map((b) => b.name).sort(), ['chain.zone.test', 'web.zone.test']);
  });

  it('c-ares (Node dns.resolve4): NXDOMAIN, SERVFAIL, REFUSED and timeouts counted exactly', async () => {
    const names = [
      ...['nx1', 'nx2', 'nx3', 'nx4', 'nx5'].map((n) => `${n}.zone.test`),
      'a.fail.test', 'b.fail.test', 'c.fail.test',
      'a.refused.test', 'b.refused.test',
      'a.dead.test', 'b.dead.test',
      'db.zone.test',
    ];
    const r = await lab.exec([process.execPath, '-e', CARES_CLIENT, '--', RESOLVER, '2000', ...names]);
    assert.equal(r.code, 0, r.stderr);
    const out = Object.fromEntries(r.stdout.split('\n').filter((l) => !l.startsWith('pid')).map((l) => l.split(' ')));
    assert.equal(out['nx1.zone.test'], 'ENOTFOUND');
    assert.equal(out['a.fail.test'], 'ESERVFAIL');
    assert.equal(out['a.refused.test'], 'EREFUSED');
    assert.equal(out['a.dead.test'], 'ETIMEOUT');
    assert.equal(out['db.zone.test'], '198.51.100.11');
    // Timeouts are declared 5 s after the query.
    await until('both timeouts', async () => (fromPid(r.pid).filter((t) => t.outcome === 'timeout').length >= 2 ? true : undefined), 15_000);
    const mine = fromPid(r.pid);
    const count = (pred: (t: DnsTransaction) => boolean) => mine.filter(pred).length;
    assert.equal(mine.length, names.length, `one transaction per query: ${mine.map((t) => `${t.name}=${t.rcode ?? t.outcome}`).join(' ')}`);
    assert.equal(count((t) => t.rcode === 'NXDOMAIN'), 5);
    assert.equal(count((t) => t.rcode === 'SERVFAIL'), 3);
    assert.equal(count((t) => t.rcode === 'REFUSED'), 2);
    assert.equal(count((t) => t.outcome === 'timeout'), 2);
    assert.deepEqual(mine.filter((t) => t.outcome === 'timeout').map((t) => t.name).sort(), ['a.dead.test', 'b.dead.test']);

    // Health of the node -> dnsmasq pair: the same counts, and the failing names.
    const [h] = health((x) => x.client.pid === r.pid && x.resolver.address === RESOLVER);
    assert.ok(h, 'a health entry for the c-ares client');
    assert.deepEqual(
      { queries: h.queries, nxdomain: h.nxdomain, servfail: h.servfail, refused: h.refused, timeouts: h.timeouts, failures: h.failures, noerror: h.noerror },
      { queries: 13, nxdomain: 5, servfail: 3, refused: 2, timeouts: 2, failures: 12, noerror: 1 },
    );
    const failing = names.filter((n) => n !== 'db.zone.test');
    assert.equal(h.failingNames.length, 10, 'the top 10 of 12 failing names');
    assert.ok(h.failingNames.every((f) => failing.includes(f.name) && f.count === 1), JSON.stringify(h.failingNames));
    assert.equal(h.failingNames.find((f) => f.name === 'a.dead.test')?.reason, 'timeout');
    assert.equal(h.failingNames.find((f) => f.name === 'a.fail.test')?.reason, 'SERVFAIL');
    assert.ok(h.latency.count === 11 && h.latency.p95Ms !== null, `latency of the 11 answers: ${JSON.stringify(h.latency)}`);

    // dnsmasq's own upstream queries are clients too: to unbound (SERVFAIL) and to the dead upstream (timeouts).
    const upstream = health((x) => x.client.comm === 'dnsmasq' && x.resolver.address === UNBOUND);
    assert.ok(upstream.length && upstream[0].servfail >= 3, `dnsmasq -> unbound: ${JSON.stringify(upstream.map((u) => u.servfail))}`);
    await until('dnsmasq -> dead upstream timeouts', async () =>
      health((x) => x.client.comm === 'dnsmasq' && x.resolver.address === DEAD_UPSTREAM && x.timeouts >= 2).length ? true : undefined, 15_000);
  });

  it('a resolver over IPv6', async () => {
    const r = await lab.exec([process.execPath, '-e', CARES_CLIENT, '--', RESOLVER6, '2000', 'db.zone.test']);
    assert.equal(r.code, 0, r.stderr);
    const t = await waitTx('answer over IPv6', (x) => x.client.pid === r.pid);
    assert.deepEqual(t.resolver, { address: '::1', port: 53, family: 6, dockerEmbedded: false });
    assert.equal(t.client.address, '::1');
    assert.deepEqual(t.addresses, ['198.51.100.11']);
  });

  it('musl (unconnected sendto/recvfrom): the resolver comes from the address the query was sent to', async (t) => {
    const bin = await buildMuslResolver(lab.dir);
    if (!bin) { t.skip('musl-gcc not installed'); return; }
    const r = await lab.exec([bin, 'musl.zone.test', 'nxm.zone.test']);
    assert.match(r.stdout, /musl\.zone\.test 198\.51\.100\.50/);
    const ok = await waitTx('musl A', (x) => x.client.pid === r.pid && x.name === 'musl.zone.test' && x.type === 'A');
    assert.deepEqual(ok.addresses, ['198.51.100.50']);
    assert.equal(ok.resolver.address, RESOLVER);
    assert.equal(ok.resolver.port, 53);
    await waitTx('musl NXDOMAIN', (x) => x.client.pid === r.pid && x.name === 'nxm.zone.test' && x.rcode === 'NXDOMAIN');
    assert.equal(dns.nameFor(lab.inode, '198.51.100.50')?.name, 'musl.zone.test');
  });

  it('sendmmsg/recvmmsg on an unconnected socket, and writev/readv over two buffers each way', async (t) => {
    const bin = await buildSyscallClient(lab.dir);
    if (!bin) { t.skip('no C compiler'); return; }
    const m = await lab.exec([bin, 'mmsg', RESOLVER, 'web.zone.test', 'db.zone.test', 'nxmmsg.zone.test']);
    assert.equal(m.code, 0, m.stderr);
    const mine = async (pid: number, n: number) => until(`${n} transactions of ${pid}`, async () => (fromPid(pid).length >= n ? fromPid(pid) : undefined));
    const viaMmsg = await mine(m.pid, 3);
    assert.deepEqual(viaMmsg.map((x) => [x.id, x.name, x.rcode, x.resolver.address, x.resolver.port]).sort(), [
      [0x4000, 'web.zone.test', 'NOERROR', RESOLVER, 53], [0x4001, 'db.zone.test', 'NOERROR', RESOLVER, 53], [0x4002, 'nxmmsg.zone.test', 'NXDOMAIN', RESOLVER, 53],
    ]);
    const v = await lab.exec([bin, 'iov', RESOLVER, 'db.zone.test', 'web.zone.test']);
    assert.equal(v.code, 0, v.stderr);
    const viaIov = await mine(v.pid, 2);
    assert.deepEqual(viaIov.map((x) => [x.name, x.addresses[0]]).sort(), [['db.zone.test', '198.51.100.11'], ['web.zone.test', '198.51.100.10']]);
  });

  it('sendmmsg with an empty message inside, and after a call cut short by a bad message: each query is read from its own message', async (t) => {
    const bin = await buildSyscallClient(lab.dir);
    if (!bin) { t.skip('no C compiler'); return; }
    const g = await lab.exec([bin, 'gaps', RESOLVER, 'web.zone.test', 'db.zone.test', 'nxgaps.zone.test']);
    assert.equal(g.code, 0, g.stderr);
    const mine = await until('6 transactions of the gaps client', async () => (fromPid(g.pid).length >= 6 ? fromPid(g.pid) : undefined));
    // 'answered': each answer met its own query, so every query was read from its own message
    // (an answer alone would still name its question, as 'unmatched').
    assert.deepEqual(mine.map((x) => [x.id, x.name, x.rcode, x.outcome]).sort(), [
      [0x4100, 'web.zone.test', 'NOERROR', 'answered'], [0x4102, 'db.zone.test', 'NOERROR', 'answered'], [0x4200, 'nxgaps.zone.test', 'NXDOMAIN', 'answered'],
      [0x4300, 'web.zone.test', 'NOERROR', 'answered'], [0x4301, 'db.zone.test', 'NOERROR', 'answered'], [0x4302, 'nxgaps.zone.test', 'NXDOMAIN', 'answered'],
    ]);
  });

  it("Go's resolver (docker CLI with GODEBUG=netdns=go: write/read on connected UDP)", async (t) => {
    if (!fs.existsSync('/usr/bin/docker')) { t.skip('no Go binary (docker CLI) installed'); return; }
    // The CLI resolves the daemon's name, then fails to connect: the namespace has no route anywhere.
    const r = await lab.exec(['/usr/bin/docker', '-H', 'tcp://go.zone.test:2375', 'version'], { GODEBUG: 'netdns=go' });
    const a = await waitTx('Go A answer', (x) => x.client.pid === r.pid && x.name === 'go.zone.test' && x.type === 'A');
    assert.deepEqual(a.addresses, ['198.51.100.60']);
    assert.equal(a.transport, 'udp');
    assert.equal(dns.nameFor(lab.inode, '198.51.100.60')?.name, 'go.zone.test');
  });

  it('glibc over TCP after a truncated UDP answer: the stream is reassembled, a long answer parsed as far as captured', async () => {
    const r = await lab.exec(['getent', 'ahosts', 'big.zone.test']);
    assert.equal(r.code, 0, r.stderr);
    const udp = await waitTx('truncated UDP answer', (x) => x.client.pid === r.pid && x.transport === 'udp' && x.type === 'A');
    assert.equal(udp.truncated, true);
    const tcp = await waitTx('TCP answer', (x) => x.client.pid === r.pid && x.transport === 'tcp' && x.type === 'A');
    assert.equal(tcp.rcode, 'NOERROR');
    // 40 records do not fit in the 512 bytes captured: what was whole is read.
    assert.ok(tcp.addresses.length >= 20 && tcp.addresses.length <= 40, `${tcp.addresses.length} addresses`);
    assert.ok(tcp.addresses.every((a) => HOSTS['big.zone.test'].includes(a)));
    assert.equal(dns.stats().lost.tcpDesync, 0);
  });

  it('a name that changes address follows the change', async () => {
    const first = await lab.exec(['getent', 'ahosts', 'move.zone.test']);
    await waitTx('first answer', (x) => x.client.pid === first.pid && x.type === 'A');
    assert.equal(dns.nameFor(lab.inode, '198.51.100.20')?.name, 'move.zone.test');
    lab.writeHosts({ ...HOSTS, 'move.zone.test': ['198.51.100.21'] });
    await lab.reload();
    const second = await lab.exec(['getent', 'ahosts', 'move.zone.test']);
    const t = await waitTx('second answer', (x) => x.client.pid === second.pid && x.type === 'A');
    assert.deepEqual(t.addresses, ['198.51.100.21']);
    assert.deepEqual(dns.addressesOf(lab.inode, 'move.zone.test').filter((a) => !a.includes(':')), ['198.51.100.21']);
    const now = dns.nameFor(lab.inode, '198.51.100.21')!;
    assert.equal(now.name, 'move.zone.test');
    assert.equal(now.current, true);
    // The old address keeps its name for connections still open to it, marked as no longer current.
    const old = dns.nameFor(lab.inode, '198.51.100.20')!;
    assert.equal(old.name, 'move.zone.test');
    assert.equal(old.current, false);
  });

  it('`dhrishti trace --dns` prints each query with its answer live', async () => {
    const trace = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--dns', '--duration', '30']);
    await trace.waitFor(/^TIME\s+PID\s+COMM\s+RESOLVER/, 60_000);
    const r = await lab.exec(['getent', 'ahosts', 'alias.zone.test']);
    const nx = await lab.exec(['getent', 'ahosts', 'missing.zone.test']);
    const line = await trace.waitFor(new RegExp(`^\\S+\\s+${r.pid}\\s+getent\\s+127\\.0\\.0\\.1:53\\s+udp\\s+A\\s+alias\\.zone\\.test\\s+NOERROR\\s+[\\d.]+\\s+CNAME web\\.zone\\.test, 198\\.51\\.100\\.10$`), 15_000);
    assert.ok(line);
    await trace.waitFor(new RegExp(`^\\S+\\s+${nx.pid}\\s+getent\\s+\\S+\\s+udp\\s+A\\s+missing\\.zone\\.test\\s+NXDOMAIN`), 15_000);
    await trace.stop();
    assert.match(trace.stderr.join('\n'), /queries shown .* 0 malformed, 0 lost/);
    assert.match(trace.stderr[0], /^dhrishti trace --dns: tracing DNS on port 53 and Docker's embedded resolver; Ctrl-C to stop$/, 'says what it listens to, as the other traces do');
  });

  it('`trace --dns --dns-ports 53,5353` reads a resolver on another port; a bad list or --dns-ports without --dns is refused', async () => {
    const trace = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--dns', '--dns-ports', '53,5353', '--duration', '30']);
    await trace.waitFor(/^TIME\s+PID\s+COMM\s+RESOLVER/, 60_000);
    const r = await lab.exec([process.execPath, '-e', CARES_CLIENT, '--', `${REFUSER}:5353`, '2000', 'x.zone.test']);
    await trace.waitFor(new RegExp(`^\\S+\\s+${r.pid}\\s+\\S+\\s+127\\.0\\.0\\.2:5353\\s+udp\\s+A\\s+x\\.zone\\.test\\s+REFUSED`), 15_000);
    await trace.stop();
    for (const [args, message] of [
      [['trace', '--dns', '--dns-ports', '53,x'], /--dns-ports takes 1 to 4 ports/],
      [['trace', '--dns', '--dns-ports', '1,2,3,4,5'], /--dns-ports takes 1 to 4 ports/],
      [['trace', '--dns-ports', '5353'], /--dns-ports goes with --dns/],
      [['run', '--dns-ports', '0'], /--dns-ports takes 1 to 4 ports/],
    ] as const) {
      const c = start(path.join(REPO_ROOT, 'dhrishti'), [...args]);
      assert.equal(await c.exited, 2, args.join(' '));
      assert.match(c.stderr.join('\n'), message);
    }
  });

  it('over the per-CPU record limit, records are dropped in the kernel and counted', async () => {
    const limited = new ProbeEngine({ discover: false });
    const small = new DnsCollector({ maxRecordsPerSecPerCpu: 4 });
    limited.use(small);
    limited.start();
    try {
      const names = Array.from({ length: 40 }, (_, i) => `burst${i}.zone.test`);
      const r = await lab.exec([process.execPath, '-e', CARES_CLIENT, '--', RESOLVER, '2000', ...names]);
      assert.equal(r.code, 0, r.stderr);
      await waitTx('the burst seen by the unlimited collector', (x) => x.client.pid === r.pid && x.name === 'burst39.zone.test');
      // 80 messages (40 queries, 40 answers): each is kept or counted as dropped.
      const s = await until('every message kept or counted', async () => {
        const x = small.stats();
        return x.records + x.lost.rateLimited >= 80 ? x : undefined;
      }, 5000);
      assert.ok(s.lost.rateLimited > 0);
      // At most 4 a second on each of the (2) CPUs, over the second or two the burst took.
      assert.ok(s.records <= 4 * 2 * 3, `records kept: ${s.records}`);
    } finally {
      limited.stop();
    }
  });

  it('counts no loss and no malformed message for all of the above', () => {
    const s = dns.stats();
    assert.equal(s.malformed.total, 0, JSON.stringify(s.malformed));
    assert.equal(s.lost.total, 0, JSON.stringify(s.lost));
    assert.ok(s.queries > 30 && s.responses > 20, JSON.stringify(s));
  });
});
