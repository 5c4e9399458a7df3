// The identity layer against a real dockerd started by this test: containers
// resolved by cgroup id, pid, netns and IP; new, stopped and renamed ones
// followed from the event stream; the daemon restarted under the resolver.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { IdentityResolver, isDockerProxy } from '../src/identity/resolver.js';
import type { ContainerChange, ContainerInfo, Owner } from '../src/identity/types.js';
import { cgroup2Root, cgroupIdOf } from '../src/identity/cgroups.js';
import {
  TestDockerd, ensureTestImage, createNetwork, runContainer, composeLabels, containerFacts, removeAll, nodeCommand,
  httpServerScript, type ContainerFacts,
} from './support/dockerd.js';

const NET = 'dh-identity-net';
const NET2 = 'dh-identity-net2';
const cgRoot = cgroup2Root();

function netnsOf(pid: number): number {
  return Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`))![1]);
}

function containerOf(o: Owner): ContainerInfo {
  assert.equal(o.kind, 'container', `expected a container owner, got ${JSON.stringify(o)}`);
  return (o as Extract<Owner, { kind: 'container' }>).container;
}

/** Resolves when the resolver reports a matching change, rejects after timeoutMs. */
function nextChange(r: IdentityResolver, pred: (c: ContainerChange) => boolean, timeoutMs: number): Promise<ContainerChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { r.off('change', on); reject(new Error(`no matching change within ${timeoutMs} ms`)); }, timeoutMs);
    const on = (c: ContainerChange) => { if (pred(c)) { clearTimeout(timer); r.off('change', on); resolve(c); } };
    r.on('change', on);
  });
}

function nextDocker(r: IdentityResolver, up: boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (r.stats().docker?.up === up) { resolve(); return; }
    const timer = setTimeout(() => { r.off('docker', on); reject(new Error(`docker up=${up} not reported within ${timeoutMs} ms`)); }, timeoutMs);
    const on = (s: { up: boolean }) => { if (s.up === up) { clearTimeout(timer); r.off('docker', on); resolve(); } };
    r.on('docker', on);
  });
}

async function hostPortOf(d: TestDockerd, name: string, hostIp: string): Promise<number> {
  const j = await d.docker.getContainer(name).inspect();
  const b = (j.NetworkSettings.Ports['8080/tcp'] ?? []).find((x) => x.HostIp === hostIp);
  assert.ok(b, `no ${hostIp} binding for ${name}`);
  return Number(b.HostPort);
}

describe('identity resolver with a real dockerd', { timeout: 300_000 }, () => {
  let d: TestDockerd;
  let r: IdentityResolver;
  const started: string[] = [];
  const facts = new Map<string, ContainerFacts>();
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => rejections.push(e);

  const run = async (name: string, opts: Partial<Parameters<typeof runContainer>[1]> = {}) => {
    started.push(name);
    await runContainer(d, { name, network: NET, ...opts });
    const f = await containerFacts(d, name);
    facts.set(name, f);
    return f;
  };

  before(async () => {
    process.on('unhandledRejection', onRejection);
    d = await TestDockerd.start();
    await ensureTestImage(d);
    await createNetwork(d, NET);
    await run('shop-web-1', {
      labels: composeLabels('shop', 'web', 1),
      publish: ['127.0.0.1::8080'],
      command: nodeCommand(httpServerScript(8080)),
    });
    await run('shop-web-2', {
      labels: composeLabels('shop', 'web', 2),
      publish: ['8080'],
      command: nodeCommand(httpServerScript(8080)),
    });
    // a container with a child process, to resolve a pid that is not the main one
    await run('loner', {
      command: nodeCommand(`require('child_process').spawn('/usr/bin/node', ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' }); setInterval(() => {}, 1 << 30);`),
    });
    r = new IdentityResolver({ dockerSocket: d.socketPath });
    await r.start();
  });

  after(async () => {
    r?.stop();
    if (d) {
      await removeAll(d, started, [NET, NET2]);
      await d.stop();
    }
    process.off('unhandledRejection', onRejection);
    assert.deepEqual(rejections, [], 'no unhandled rejections');
  });

  it('resolves every container by cgroup id, pid, netns and IP, with Compose labels', async () => {
    assert.equal(r.stats().docker?.up, true);
    for (const name of ['shop-web-1', 'shop-web-2', 'loner']) {
      const f = facts.get(name)!;
      const cgroupId = cgroupIdOf(f.pid, cgRoot);
      assert.ok(cgroupId > 0, `cgroup id of ${name}`);
      const byCgroup = containerOf(r.resolveOwner({ pid: 0, cgroupId, netns: 0 }));
      assert.equal(byCgroup.id, f.id);
      assert.equal(byCgroup.name, name);
      assert.equal(byCgroup.cgroupId, cgroupId);
      assert.equal(byCgroup.state, 'running');
      assert.equal(containerOf(r.resolveOwner({ pid: f.pid, cgroupId: 0, netns: 0 })).id, f.id);
      assert.equal(containerOf(r.resolveOwner({ pid: 0, cgroupId: 0, netns: netnsOf(f.pid) })).id, f.id);
      const a = r.resolveAddress(f.ip);
      assert.equal(a.kind, 'container');
      if (a.kind === 'container') {
        assert.equal(a.container.id, f.id);
        assert.equal(a.network.name, NET);
      }
    }
    const web1 = r.container(facts.get('shop-web-1')!.id)!;
    const web2 = r.container(facts.get('shop-web-2')!.id)!;
    assert.deepEqual(web1.compose, { project: 'shop', service: 'web', number: 1 });
    assert.deepEqual(web2.compose, { project: 'shop', service: 'web', number: 2 });
    assert.notEqual(web1.id, web2.id);
    assert.equal(r.container(facts.get('loner')!.id)!.compose, null);

    // a child process inside the container: found through its own cgroup
    const loner = facts.get('loner')!;
    let child = 0;
    for (let i = 0; i < 100 && !child; i++) { // node inside may still be starting its child
      child = Number(fs.readFileSync(`/proc/${loner.pid}/task/${loner.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      if (!child) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(child > 0, 'loner has a child process');
    const r2 = new IdentityResolver({ docker: false });
    assert.equal(containerOf(r2.resolveOwner({ pid: child, cgroupId: 0, netns: 0 })).id, loner.id, 'pid path without the daemon');
    assert.equal(containerOf(r.resolveOwner({ pid: child, cgroupId: 0, netns: 0, comm: 'node' })).name, 'loner');
  });

  it('tells host processes, host addresses and outside addresses apart', () => {
    const self = r.resolveOwner({ pid: process.pid, cgroupId: cgroupIdOf(process.pid, cgRoot), netns: netnsOf(process.pid), comm: 'node' });
    assert.equal(self.kind, 'process');
    if (self.kind === 'process') {
      assert.equal(self.exe, 'node');
      assert.match(self.cmdline, /node/);
    }
    assert.equal(r.resolveAddress('127.0.0.1').kind, 'host');
    assert.equal(r.resolveAddress('::1').kind, 'host');
    assert.equal(r.resolveAddress('203.0.113.9').kind, 'external'); // TEST-NET-3, only looked up
    const gw = r.container(facts.get('loner')!.id)!.networks[0].gateway!;
    assert.equal(r.resolveAddress(gw).kind, 'host', `bridge gateway ${gw}`);
    assert.equal(r.resolveOwner({ pid: 0, cgroupId: 0, netns: 0 }).kind, 'unknown');
  });

  it('maps published ports (specific and wildcard host address) to the serving container', async (t) => {
    const web1 = facts.get('shop-web-1')!;
    const web2 = facts.get('shop-web-2')!;
    const p1 = await hostPortOf(d, 'shop-web-1', '127.0.0.1');
    const m1 = r.publishedPort('127.0.0.1', p1);
    assert.equal(m1?.container.id, web1.id);
    assert.equal(m1?.containerPort, 8080);
    const a = r.resolveAddress('127.0.0.1', p1);
    assert.equal(a.kind === 'host' && a.published?.container.name, 'shop-web-1');

    const p2 = await hostPortOf(d, 'shop-web-2', '0.0.0.0');
    const ext = Object.values(os.networkInterfaces()).flat().find((x) => x && !x.internal && x.family === 'IPv4')!;
    assert.equal(r.publishedPort(ext.address, p2)?.container.id, web2.id, `0.0.0.0 binding on ${ext.address}`);
    assert.equal(r.publishedPort('127.0.0.1', p2)?.container.id, web2.id);
    assert.equal(r.publishedPort('203.0.113.9', p2), null);
    assert.equal(r.publishedPort('127.0.0.1', p1, 'udp'), null);

    // the userland proxy that relays the port is recognisable
    const proxy = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).find((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'docker-proxy' &&
          fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(String(p1));
      } catch { return false; }
    });
    if (proxy) assert.equal(isDockerProxy(r.resolveOwner({ pid: Number(proxy), cgroupId: 0, netns: 0 })), true);
    else t.diagnostic('no docker-proxy process (userland proxy off?)');
  });

  it('picks up a container started later from the event stream, without listing again', async (t) => {
    const lists = r.stats().docker!.lists;
    const t0 = performance.now();
    let lagAfterStart = NaN;
    const seen = nextChange(r, (c) => c.type === 'start' && c.container.name === 'late', 5000).then((c) => {
      lagAfterStart = Date.now() - c.container.startedAt!;
      return performance.now();
    });
    await runContainer(d, { name: 'late', network: NET, labels: composeLabels('shop', 'worker', 1) });
    started.push('late');
    const tRun = performance.now();
    const tSeen = await seen;
    t.diagnostic(`new container known ${lagAfterStart} ms after Docker's StartedAt; ${(tSeen - t0).toFixed(0)} ms after 'docker run' began, ${Math.max(0, tSeen - tRun).toFixed(0)} ms after it returned`);
    assert.ok(tSeen - tRun < 2000, 'within 2 s of docker run returning');
    const f = await containerFacts(d, 'late');
    facts.set('late', f);
    const c = containerOf(r.resolveOwner({ pid: 0, cgroupId: cgroupIdOf(f.pid, cgRoot), netns: 0 }));
    assert.equal(c.name, 'late');
    assert.deepEqual(c.compose, { project: 'shop', service: 'worker', number: 1 });
    assert.equal(r.stats().docker!.lists, lists, 'no re-list: the event stream did it');
  });

  it('keeps a stopped container, marked stopped, for late lookups', async () => {
    const f = facts.get('late')!;
    const cgroupId = cgroupIdOf(f.pid, cgRoot);
    const stopped = nextChange(r, (c) => c.type === 'stop' && c.container.id === f.id, 15000);
    await d.cli(['stop', '-t', '1', 'late']);
    await stopped;
    const c = containerOf(r.resolveOwner({ pid: 0, cgroupId, netns: 0 }));
    assert.equal(c.id, f.id);
    assert.equal(c.state, 'stopped');
    assert.equal(typeof c.stoppedAt, 'number');
    assert.equal(typeof c.exitCode, 'number'); // 0, or 137 if node had not set its SIGTERM handler yet
    assert.equal(c.pid, 0);
    const a = r.resolveAddress(f.ip);
    assert.equal(a.kind === 'container' && a.container.id, f.id, 'its last IP still names it');
    assert.equal(r.resolveOwner({ pid: 0, cgroupId: 0, netns: netnsOf(facts.get('loner')!.pid) }).kind, 'container');
  });

  it('follows a rename', async () => {
    const f = facts.get('loner')!;
    const renamed = nextChange(r, (c) => c.type === 'rename' && c.container.id === f.id, 5000);
    await d.cli(['rename', 'loner', 'loner-renamed']);
    started.push('loner-renamed');
    const ch = await renamed;
    assert.equal(ch.oldName, 'loner');
    assert.equal(containerOf(r.resolveOwner({ pid: 0, cgroupId: cgroupIdOf(f.pid, cgRoot), netns: 0 })).name, 'loner-renamed');
  });

  it('follows network connect and disconnect', async () => {
    const f = facts.get('shop-web-2')!;
    await createNetwork(d, NET2);
    const connected = nextChange(r, (c) => c.type === 'update' && c.container.id === f.id && c.container.networks.length === 2, 5000);
    await d.cli(['network', 'connect', NET2, 'shop-web-2']);
    const c = (await connected).container;
    const ip2 = c.networks.find((n) => n.name === NET2)!.ipv4!;
    const a = r.resolveAddress(ip2);
    assert.equal(a.kind === 'container' && a.container.id === f.id && a.network.name, NET2);
    const gone = nextChange(r, (ch) => ch.type === 'update' && ch.container.id === f.id && ch.container.networks.length === 1, 5000);
    await d.cli(['network', 'disconnect', NET2, 'shop-web-2']);
    await gone;
    assert.notEqual(r.resolveAddress(ip2).kind, 'container');
    assert.equal(r.resolveAddress(f.ip).kind, 'container');
  });

  it('survives a daemon restart: reconnects, catches up, resolves a container started after', async (t) => {
    const reconnects = r.stats().docker!.reconnects;
    const tStop = performance.now();
    const down = nextDocker(r, false, 30000);
    await d.stop({ keepDir: true });
    await down;
    const tDown = performance.now();
    t.diagnostic(`daemon stop took ${(tDown - tStop).toFixed(0)} ms including the resolver noticing`);
    assert.equal(r.stats().docker!.up, false);
    // lookups keep working while the daemon is away
    const web1CgroupId = r.container(facts.get('shop-web-1')!.id)!.cgroupId;
    assert.equal(containerOf(r.resolveOwner({ pid: 0, cgroupId: web1CgroupId, netns: 0 })).name, 'shop-web-1');

    d = await TestDockerd.start({ dir: d.dir });
    const tReady = performance.now();
    await nextDocker(r, true, 30000);
    const tUp = performance.now();
    t.diagnostic(`resolver reconnected ${(tUp - tReady).toFixed(0)} ms after the daemon answered (${(tUp - tDown).toFixed(0)} ms after it went down)`);
    assert.equal(r.stats().docker!.reconnects, reconnects + 1);

    // containers the daemon stopped while going down: caught up by the re-list
    await r.docker!.settled();
    const web1 = r.container(facts.get('shop-web-1')!.id)!;
    assert.equal(web1.state, 'stopped');
    assert.deepEqual(web1.compose, { project: 'shop', service: 'web', number: 1 });

    const seen = nextChange(r, (c) => c.type === 'start' && c.container.name === 'after-restart', 5000);
    await runContainer(d, { name: 'after-restart', network: NET });
    started.push('after-restart');
    const tRun = performance.now();
    await seen;
    t.diagnostic(`container after restart known ${(performance.now() - tRun).toFixed(0)} ms after docker run returned`);
    const f = await containerFacts(d, 'after-restart');
    assert.equal(containerOf(r.resolveOwner({ pid: 0, cgroupId: cgroupIdOf(f.pid, cgRoot), netns: 0 })).name, 'after-restart');
    assert.equal(containerOf(r.resolveOwner({ pid: f.pid, cgroupId: 0, netns: 0 })).name, 'after-restart');
    assert.equal(r.resolveAddress(f.ip).kind, 'container');
  });

  it('starts without a daemon and keeps retrying quietly', async () => {
    const lone = new IdentityResolver({ dockerSocket: `${d.dir}/absent.sock`, reconnectMinMs: 50, reconnectMaxMs: 100 });
    await lone.start();
    await new Promise((res) => setTimeout(res, 400));
    const s = lone.stats().docker!;
    lone.stop();
    assert.equal(s.up, false);
    assert.ok(s.errors >= 2, `retried (${s.errors} failed attempts)`);
    assert.match(s.lastError ?? '', /ENOENT|absent/);
    assert.equal(lone.resolveOwner({ pid: process.pid, cgroupId: 0, netns: 0 }).kind, 'process');
  });
});
