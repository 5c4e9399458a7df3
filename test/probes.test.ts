// The kernel probe engine against the real kernel: loopback, IPv6, refused,
// timed out, namespaces, pre-existing connections and lost events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { EventLog } from './support/events.js';
import { node, start, stopAll } from './support/children.js';
import { SERVER, CLIENT, HOLDER, SINK, PY_SYNCNT_CLIENT, PY_BOUND_CLIENT, RESETTER, WAITER, GREETER, PY_UNREAD_CLOSER, LATE_ANSWER, PY_ASK_AND_LEAVE, PY_LOSS_PROBES } from './support/scripts.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import { TcpState } from '../src/events/layout.js';
import { until } from './support/wait.js';
import path from 'node:path';
import type { ConnEvent } from '../src/events/types.js';

let log: EventLog;
before(() => { log = new EventLog().start(); });
after(async () => { await stopAll(); log?.stop(); });

const between = (n: number, lo: number, hi: number) => n >= lo && n <= hi;

async function transfer(host: string, sent: number, reply: number) {
  const server = node(SERVER, [host, String(reply)]);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const client = node(CLIENT, [host, String(port), String(sent)]);
  const local = Number((await client.waitFor(/^local (\d+)/))[1]);
  await client.waitFor(/^done (\d+)/);
  return { server, client, port, local };
}

test('loopback connection: connect, established on both sides, close, with pids and bytes', async () => {
  const N = 1_000_000, M = 300_000;
  const { server, client, port, local } = await transfer('127.0.0.1', N, M);
  const mine = (e: ConnEvent) => (e.sport === local && e.dport === port) || (e.sport === port && e.dport === local);

  const connect = await log.waitFor((e) => e.type === 'connect' && e.dport === port && e.pid === client.pid, 'connect');
  assert.equal(connect.daddr, '127.0.0.1');
  assert.equal(connect.role, 'client');
  const estC = await log.waitFor((e) => mine(e) && e.type === 'established' && e.role === 'client', 'client established');
  assert.equal(estC.saddr, '127.0.0.1');
  assert.equal(estC.pid, client.pid);
  const estS = await log.waitFor((e) => mine(e) && e.type === 'established' && e.role === 'server', 'server established');
  assert.equal(estS.sport, port);
  assert.equal(estS.dport, local);
  assert.equal(estC.cookie, connect.cookie, 'one socket, one cookie');

  const closeC = await log.waitFor((e) => mine(e) && e.type === 'close' && e.role === 'client', 'client close');
  const closeS = await log.waitFor((e) => mine(e) && e.type === 'close' && e.role === 'server', 'server close');
  assert.equal(closeC.pid, client.pid);
  assert.equal(closeS.pid, server.pid, 'server pid attached at its first read');
  assert.equal(closeC.failure, null);
  assert.equal(closeS.failure, null);
  assert.ok(closeC.established && closeS.established);
  assert.ok(between(closeC.bytesSent, N, N * 1.01), `client sent ${closeC.bytesSent}`);
  assert.ok(between(closeS.bytesReceived, N, N * 1.01), `server received ${closeS.bytesReceived}`);
  assert.ok(between(closeS.bytesSent, M, M * 1.01), `server sent ${closeS.bytesSent}`);
  assert.ok(between(closeC.bytesReceived, M, M * 1.01), `client received ${closeC.bytesReceived}`);
  assert.ok(closeC.srttUs > 0, 'RTT measured');
  assert.ok(closeC.startTime && closeC.time >= closeC.startTime, 'start and end time');
  assert.ok(Math.abs(closeC.time - Date.now()) < 60_000, 'wall-clock time');
});

test('connection to a closed port is reported as refused, never as established', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = node(CLIENT, ['127.0.0.1', String(port), '10']);
  await client.waitFor(/^error ECONNREFUSED/);
  const close = await log.waitFor((e) => e.type === 'close' && e.dport === port && e.pid === client.pid, 'refused close');
  assert.equal(close.failure, 'refused');
  assert.equal(close.established, false);
  assert.equal(close.error, 'ECONNREFUSED');
  assert.ok(!log.find((e) => e.type === 'established' && e.dport === port), 'no established event');
});

test('IPv6 loopback connection carries IPv6 addresses', async () => {
  const { port, local } = await transfer('::1', 1000, 10);
  const est = await log.waitFor((e) => e.type === 'established' && e.role === 'client' && e.dport === port && e.sport === local, 'v6 established');
  assert.equal(est.family, 6);
  assert.equal(est.saddr, '::1');
  assert.equal(est.daddr, '::1');
});

test('dual-stack listener: IPv4 client seen as IPv4 on the server side', async () => {
  const { port, local } = await transfer('::', 1000, 10); // server on ::, client connects to :: (loopback)
  void local;
  const server = node(SERVER, ['::', '0']);
  const sport = Number((await server.waitFor(/^port (\d+)/))[1]);
  const client = node(CLIENT, ['127.0.0.1', String(sport), '100']);
  const cport = Number((await client.waitFor(/^local (\d+)/))[1]);
  const est = await log.waitFor((e) => e.type === 'established' && e.role === 'server' && e.sport === sport && e.dport === cport, 'mapped established');
  assert.equal(est.family, 4);
  assert.equal(est.saddr, '127.0.0.1');
  assert.equal(est.daddr, '127.0.0.1');
  void port;
});

test('network namespace: a dropped SYN times out, and events carry the namespace inode', async () => {
  const ns = `dh-probe-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--syn', '--dport', '9', '-j', 'DROP']);
    const inode = fs.statSync(`/run/netns/${ns}`).ino;
    const client = start('ip', ['netns', 'exec', ns, 'python3', '-c', PY_SYNCNT_CLIENT, '127.0.0.1', '9']);
    const pid = Number((await client.waitFor(/^pid (\d+)/))[1]);
    await client.waitFor(/^error 110/, 15000);
    const close = await log.waitFor((e) => e.type === 'close' && e.dport === 9 && e.pid === pid, 'timeout close');
    assert.equal(close.failure, 'timeout');
    assert.equal(close.established, false);
    assert.equal(close.netns, inode);
    assert.ok(close.retransmits >= 1, 'SYN retransmitted');
    const connect = log.find((e) => e.type === 'connect' && e.pid === pid)!;
    assert.equal(connect.netns, inode);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('a connect already resending its SYN when the agent starts, given up by its caller, is a timeout, not an abort', async () => {
  // SYNs go at 0, 1, 3, 7, 15 s. An engine started after the one at 7 s sees none resent; the caller gives up at 12 s.
  const ns = `dh-synlate-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  let late: EventLog | undefined;
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--syn', '--dport', '9', '-j', 'DROP']);
    const resent = () => Number(/TcpRetransSegs\s+(\d+)/.exec(execFileSync('ip', ['netns', 'exec', ns, 'nstat', '-az', '--zeros', 'TcpRetransSegs'], { encoding: 'utf8' }))?.[1] ?? 0);
    const py = "import socket, os\nprint('pid', os.getpid(), flush=True)\ns = socket.socket()\ns.settimeout(12)\ntry: s.connect(('127.0.0.1', 9))\nexcept OSError as e: print('gave up', flush=True)\ns.close()";
    const client = start('ip', ['netns', 'exec', ns, 'python3', '-c', py]);
    await client.waitFor(/^pid (\d+)/);
    const inode = fs.statSync(`/run/netns/${ns}`).ino;
    await until('the third SYN resend', async () => (resent() >= 3 ? true : undefined), 15_000);
    late = new EventLog().start();
    await client.waitFor(/^gave up/, 15_000);
    const close = await late.waitFor((e) => e.type === 'close' && e.dport === 9 && e.netns === inode, 'the late engine sees the close');
    assert.equal(close.midflight, true, 'first seen mid-handshake');
    assert.equal(close.retransmits, 0, 'no resend while this engine watched');
    assert.equal(close.failure, 'timeout');
  } finally {
    late?.stop();
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('tail loss probes sent while an ACK is only delayed are not retransmits, and are counted host-wide', async () => {
  const N = 8;
  const nstat = () => Number(/TcpExtTCPLossProbes\s+(\d+)/.exec(execFileSync('nstat', ['-az', 'TcpExtTCPLossProbes'], { encoding: 'utf8' }))?.[1] ?? 0);
  const probesBefore = nstat(), countedBefore = log.engine.stats().tcpLossProbes;
  const gen = start('python3', ['-c', PY_LOSS_PROBES, String(N)]);
  await gen.waitFor(/^done/, 15000);
  const ports = gen.lines.filter((l) => l.startsWith('local ')).map((l) => Number(l.split(' ')[1]));
  assert.equal(ports.length, N);
  const kernelProbes = nstat() - probesBefore;
  assert.ok(kernelProbes >= N, `the kernel sent a probe per connection (${kernelProbes})`);
  for (const p of ports) {
    const close = await log.waitFor((e) => e.type === 'close' && e.role === 'client' && e.sport === p, `client ${p} close`);
    assert.equal(close.retransmits, 0, `client ${p}: its probe is not a retransmit`);
    assert.equal(close.failure, null);
  }
  // Host-wide on both sides: now and then one of ours gets its ACK before its probe is due, while another connection of
  // the host probes with new data (TCPLossProbes counts it; it is no retransmit, so no tracepoint sees it).
  const counted = log.engine.stats().tcpLossProbes - countedBefore;
  assert.ok(counted >= N / 2 && counted <= kernelProbes, `host-wide count ${counted}, kernel ${kernelProbes}`);
});

test('a client read by the engine mid-handshake has its real port and state in later traffic, and trace --port sees it', async () => {
  // The SYN is dropped for a while, so the counters read (every second) finds the socket in SYN_SENT, before its port is in the record.
  const ns = `dh-handshake-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const server = start('ip', ['netns', 'exec', ns, process.execPath, '-e', SINK, '--', '127.0.0.1']);
    const port = Number((await server.waitFor(/^port (\d+)/))[1]);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--syn', '--dport', String(port), '-j', 'DROP']);
    const lport = 20000 + (process.pid % 10000);
    const trace = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--json', '--types', 'established,traffic', '--port', String(lport), '--duration', '9']);
    await until('trace to attach', async () => (trace.stderr.some((l) => l.includes('tracing (')) ? true : undefined), 30_000);
    const client = start('ip', ['netns', 'exec', ns, 'python3', '-c', PY_BOUND_CLIENT, String(lport), String(port)]);
    await client.waitFor(/^connecting/);
    await new Promise((r) => setTimeout(r, 2500)); // two reads of the counters while in SYN_SENT
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-D', 'INPUT', '-p', 'tcp', '--syn', '--dport', String(port), '-j', 'DROP']);
    await client.waitFor(/^connected/, 10000);
    await server.waitFor(/^got 5000$/);
    assert.equal(await trace.exited, 0, trace.stderr.join('\n'));
    const events = trace.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ConnEvent);
    const traffic = events.filter((e) => e.type === 'traffic' && e.dport === port);
    assert.ok(traffic.length > 0, `trace --port ${lport} shows the client's traffic: ${trace.lines.join('\n')}`);
    for (const t of traffic) assert.equal(t.sport, lport, 'its real local port');
    // (A retransmitted SYN moves the counters during the handshake: that traffic is rightly not established yet.)
    const data = traffic.filter((t) => t.bytesSent >= 5000);
    assert.ok(data.length > 0, 'the data sent once connected');
    for (const t of data) assert.equal(t.established, true, 'established, not the state it was first read in');
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('a connection opened before the agent started is discovered, and later traffic counted', async () => {
  const server = node(SINK, ['127.0.0.1']);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const holder = node(HOLDER, ['127.0.0.1', String(port)]);
  const local = Number((await holder.waitFor(/^local (\d+)/))[1]);
  holder.send('send 5000');
  await server.waitFor(/^got 5000$/);

  const late = new EventLog({ flushIntervalMs: 200 });
  try {
    late.start();
    const ex = await late.waitFor((e) => e.type === 'existing' && e.sport === local && e.dport === port, 'existing client side', 30_000); // discovery walks every process's fds: seconds on a busy host
    assert.equal(ex.pid, holder.pid);
    assert.equal(ex.role, 'client');
    const exS = await late.waitFor((e) => e.type === 'existing' && e.sport === port && e.dport === local, 'existing server side', 30_000);
    assert.equal(exS.pid, server.pid);
    assert.equal(exS.role, 'server');
    await late.waitFor((e) => e.type === 'listen' && e.sport === port, 'existing listener', 30_000);

    const K = 200_000;
    holder.send(`send ${K}`);
    await server.waitFor(new RegExp(`^got ${5000 + K}$`));
    const t = await late.waitFor((e) => e.type === 'traffic' && e.sport === local && e.bytesSent >= K, 'traffic after start');
    assert.ok(t.midflight);
    assert.ok(between(t.bytesSent, K, K * 1.01), `counted ${t.bytesSent} of ${K}`);
    const r = await late.waitFor((e) => e.type === 'traffic' && e.sport === port && e.bytesReceived >= K, 'server side traffic');
    assert.ok(between(r.bytesReceived, K, K * 1.01));
    holder.send('end');
    const close = await late.waitFor((e) => e.type === 'close' && e.sport === local && e.dport === port, 'close of pre-existing');
    assert.ok(close.bytesSent >= K);
  } finally {
    late.stop();
  }
});

test('an established connection that the peer resets is reported as reset, on both sides', async () => {
  const server = node(RESETTER, ['127.0.0.1']);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const client = node(WAITER, ['127.0.0.1', String(port)]);
  const local = Number((await client.waitFor(/^local (\d+)/))[1]);
  await client.waitFor(/^error ECONNRESET/);
  const c = await log.waitFor((e) => e.type === 'close' && e.sport === local && e.dport === port, 'client close');
  assert.equal(c.established, true);
  assert.equal(c.failure, 'reset');
  assert.equal(c.resetReceived, true);
  const s = await log.waitFor((e) => e.type === 'close' && e.sport === port && e.dport === local, 'server close');
  assert.equal(s.failure, 'reset');
  assert.equal(s.resetSent, true);
  assert.equal(s.resetUnread, false, 'a linger-0 close is a deliberate reset (sk_rst_reason TCP_STATE)');
});

test('a client that closes with data unread resets its server by the kernel rule: no failure on its end, a reset on the server\'s', async () => {
  const server = node(GREETER, ['127.0.0.1']);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const client = start('python3', ['-c', PY_UNREAD_CLOSER, '127.0.0.1', String(port)]);
  const local = Number((await client.waitFor(/^local (\d+)/))[1]);
  await server.waitFor(/^error ECONNRESET/);
  const c = await log.waitFor((e) => e.type === 'close' && e.sport === local && e.dport === port, 'client close');
  assert.equal(c.resetSent, true);
  assert.equal(c.resetUnread, true, 'the kernel said why it reset (sk_rst_reason TCP_ABORT_ON_CLOSE)');
  assert.equal(c.failure, null);
  const s = await log.waitFor((e) => e.type === 'close' && e.sport === port && e.dport === local, 'server close');
  assert.equal(s.resetReceived, true);
  assert.equal(s.failure, 'reset', 'the server end alone cannot tell why; graph/connections.ts pairs it with its client');
});

test('a client that leaves before the answer (FIN): the server\'s late write is refused, and neither end failed', async () => {
  const server = node(LATE_ANSWER, ['127.0.0.1']);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const client = start('python3', ['-c', PY_ASK_AND_LEAVE, '127.0.0.1', String(port)]);
  const local = Number((await client.waitFor(/^local (\d+)/))[1]);
  await server.waitFor(/^error (EPIPE|ECONNRESET)/);
  const c = await log.waitFor((e) => e.type === 'close' && e.sport === local && e.dport === port, 'client close');
  assert.equal(c.failure, null);
  const s = await log.waitFor((e) => e.type === 'close' && e.sport === port && e.dport === local, 'server close');
  assert.equal(s.resetReceived, true, 'the client\'s kernel refused the late answer');
  assert.equal(s.oldState, TcpState.CLOSE_WAIT);
  assert.equal(s.failure, null, `the client left first (${s.error})`);
});

test('a connect answered by ICMP host-unreachable is reported as unreachable', async () => {
  const ns = `dh-unreach-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'REJECT', '--reject-with', 'icmp-host-unreachable']);
    const client = start('ip', ['netns', 'exec', ns, 'python3', '-c', PY_SYNCNT_CLIENT, '127.0.0.1', '9']);
    const pid = Number((await client.waitFor(/^pid (\d+)/))[1]);
    await client.waitFor(/^error 113/, 15000);
    const close = await log.waitFor((e) => e.type === 'close' && e.dport === 9 && e.pid === pid, 'unreachable close');
    assert.equal(close.failure, 'unreachable');
    assert.equal(close.error, 'EHOSTUNREACH');
    assert.equal(close.established, false);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('a connect to an address nobody answers ARP for is unreachable, and its failed SYN resends are not retransmits', async () => {
  // The kernel tries to resend the SYN while the neighbour is unresolved; each attempt fails (err) and sends
  // nothing, so RetransSegs stays 0: so must the socket's count.
  const a = `dh-arp-a-${process.pid}`, b = `dh-arp-b-${process.pid}`, veth = `dharp${process.pid % 100000}`;
  const sh = (...args: string[]) => execFileSync('ip', args);
  sh('netns', 'add', a); sh('netns', 'add', b);
  try {
    sh('link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`);
    sh('link', 'set', `${veth}a`, 'netns', a); sh('link', 'set', `${veth}b`, 'netns', b);
    sh('-n', a, 'addr', 'add', '10.231.0.1/24', 'dev', `${veth}a`);
    sh('-n', a, 'link', 'set', `${veth}a`, 'up'); sh('-n', a, 'link', 'set', 'lo', 'up'); sh('-n', b, 'link', 'set', `${veth}b`, 'up');
    const nstat = () => Number(/TcpRetransSegs\s+(\d+)/.exec(execFileSync('ip', ['netns', 'exec', a, 'nstat', '-az', '--zeros', 'TcpRetransSegs'], { encoding: 'utf8' }))?.[1] ?? 0);
    const before = nstat();
    const py = "import socket, os\nprint('pid', os.getpid(), flush=True)\ntry: socket.create_connection(('10.231.0.250', 80), 20)\nexcept OSError as e: print('error', e.errno, flush=True)";
    const client = start('ip', ['netns', 'exec', a, 'python3', '-c', py]);
    const pid = Number((await client.waitFor(/^pid (\d+)/))[1]);
    await client.waitFor(/^error 113/, 15000);
    const close = await log.waitFor((e) => e.type === 'close' && e.daddr === '10.231.0.250' && e.pid === pid, 'unreachable close');
    assert.equal(close.failure, 'unreachable');
    assert.equal(nstat() - before, 0, 'the kernel sent no retransmit');
    assert.equal(close.retransmits, 0);
  } finally {
    sh('netns', 'del', a); sh('netns', 'del', b);
  }
});

test('every loaded program\'s skipped runs (recursion misses) are read from the kernel and counted as lost events', () => {
  const s = log.engine.stats();
  const attached = s.probes.filter((p) => p.ok).map((p) => p.program);
  assert.ok(attached.length > 5);
  for (const p of attached) assert.ok(Number.isInteger(s.skippedRuns[p]) && s.skippedRuns[p] >= 0, `${p}: ${s.skippedRuns[p]}`);
  const l = s.lost;
  assert.equal(l.probeSkipped, Object.values(s.skippedRuns).reduce((a, b) => a + b, 0));
  assert.equal(l.total, l.ringbufFull + l.connMapFull + l.malformed + l.probeSkipped);
});

test('under a sampling profiler (node --cpu-prof, SIGPROF every 0.5 ms) every probe still loads: the verifier is not interrupted', async () => {
  const dir = fs.mkdtempSync('/tmp/dhrishti-prof-');
  const { freePort } = await import('./support/agent.js');
  const agent = start(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '500', path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'), 'run', '--port', String(await freePort()), '--no-history', '--no-docker']);
  try {
    await agent.waitFor(/API on http/, 60_000);
    const out = [...agent.lines, ...agent.stderr].join('\n');
    const m = /attached (\d+)\/(\d+) kernel probes/.exec(out);
    assert.ok(m, out);
    assert.equal(m[1], m[2], out);
    assert.doesNotMatch(out, /unavailable|Resource temporarily unavailable/, 'L7 and DNS capture loaded too');
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stopping the engine detaches every probe: no BPF link or perf event stays open (links are closed from several threads at once)', async () => {
  const { ProbeEngine } = await import('../src/collector/engine.js');
  const { DnsCollector } = await import('../src/dns/collector.js');
  const attachments = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
    try { return /^anon_inode:(bpf_link|\[perf_event\])$/.test(fs.readlinkSync(`/proc/self/fd/${fd}`)); } catch { return false; }
  }).length;
  const before = attachments();
  const engine = new ProbeEngine({ discover: false, l7: {} });
  engine.use(new DnsCollector());
  engine.start();
  const attached = attachments() - before;
  try {
    assert.ok(attached >= 16, `links and perf events open while attached: ${attached}`);
  } finally {
    engine.stop();
  }
  assert.equal(attachments(), before, 'all closed');
});

test('a capture not in use leaves no code in the send and receive programs: its load-time switch is 0, so the verifier drops it', async () => {
  const { ProbeEngine } = await import('../src/collector/engine.js');
  const { DnsCollector } = await import('../src/dns/collector.js');
  const sendProgram = () => {
    const progs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as { id: number; name?: string; bytes_xlated: number }[];
    return progs.filter((p) => p.name === 'dh_sock_send_length');
  };
  const sizeWith = (withCaptures: boolean) => {
    const before = new Set(sendProgram().map((p) => p.id));
    const engine = new ProbeEngine({ discover: false, l7: withCaptures ? {} : false });
    if (withCaptures) engine.use(new DnsCollector());
    engine.start();
    try {
      const mine = sendProgram().filter((p) => !before.has(p.id));
      assert.equal(mine.length, 1, 'one send program of this engine');
      return mine[0].bytes_xlated;
    } finally {
      engine.stop();
    }
  };
  const bare = sizeWith(false), full = sizeWith(true);
  assert.ok(full > 4 * bare, `send program: ${bare} bytes with no capture, ${full} with L7 and DNS`);
});

test('a program the verifier refuses is named in the load error with the verifier\'s reason, not only "Permission denied"', async () => {
  const { loadNative } = await import('../src/native/index.js');
  const dir = fs.mkdtempSync('/tmp/dhrishti-refused-');
  try {
    // Reads past the end of a map value: the verifier refuses it.
    fs.writeFileSync(path.join(dir, 'refused.bpf.c'), `
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } one SEC(".maps");
SEC("tp_btf/sock_send_length")
int dh_refused(void *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&one, &k); return v ? v[1] : 0; }
char LICENSE[] SEC("license") = "GPL";
`);
    const obj = path.join(dir, 'refused.bpf.o');
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim()}-linux-gnu`, '-c', path.join(dir, 'refused.bpf.c'), '-o', obj]);
    assert.throws(() => loadNative().open(obj, {}), (e: Error) => {
      // The reason, not the log's closing summary (this kernel says "R0 min value is outside of the allowed memory range")
      assert.match(e.message, /^cannot load BPF object \(verifier or permissions\): Permission denied; the verifier refused dh_refused: .*(memory range|map value)/, e.message);
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
