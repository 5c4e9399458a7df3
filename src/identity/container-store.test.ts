import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerStore } from './container-store.js';
import { containerFromInspect, type HostProbe, type InspectJson } from './inspect.js';
import { canonicalIp, HostAddresses } from './addresses.js';
import type { ContainerInfo } from './types.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');

function container(n: number, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: hex(n), shortId: hex(n).slice(0, 12), name: `c${n}`, image: 'img', labels: {}, compose: null, kubernetes: null,
    networks: [{ name: 'net', networkId: 'n1', ipv4: `172.30.0.${n}`, ipv6: null, gateway: '172.30.0.1', ipv6Gateway: null, aliases: [] }],
    ports: [], pid: 1000 + n, netns: 4026530000 + n, networkMode: 'net', cgroupId: 500 + n, cgroupPath: `/docker/${hex(n)}`,
    state: 'running', startedAt: 1, stoppedAt: null, exitCode: null, removed: false, runtime: 'docker', source: 'docker',
    ...over,
  };
}

test('indexes a running container by id, cgroup id, ip, pid, netns', () => {
  const s = new ContainerStore(10);
  const changes = s.upsert(container(2));
  assert.deepEqual(changes.map((c) => c.type), ['start']);
  const c = s.get(hex(2))!;
  assert.equal(s.byCgroupId(502), c);
  assert.equal(s.byIp('172.30.0.2'), c);
  assert.equal(s.byPid(1002), c);
  assert.equal(s.byNetns(4026530002), c);
});

test('stop keeps identity, cgroup id and last IPs; drops pid and netns; rename is reported', () => {
  const s = new ContainerStore(10);
  s.upsert(container(2));
  const held = s.get(hex(2))!;
  const stopped = container(2, { state: 'stopped', pid: 0, netns: 0, cgroupId: 0, cgroupPath: null, stoppedAt: 5, exitCode: 137,
    networks: [{ name: 'net', networkId: 'n1', ipv4: null, ipv6: null, gateway: null, ipv6Gateway: null, aliases: [] }] });
  assert.deepEqual(s.upsert(stopped).map((c) => c.type), ['stop']);
  assert.equal(held.state, 'stopped', 'the object the graph holds is updated in place');
  assert.equal(s.byCgroupId(502), held);
  assert.equal(s.byIp('172.30.0.2'), held);
  assert.equal(s.byPid(1002), undefined);
  assert.equal(s.byNetns(4026530002), undefined);
  const renamed = s.upsert({ ...stopped, name: 'new' });
  assert.equal(renamed[0].type, 'rename');
  assert.equal(renamed[0].oldName, 'c2');
  assert.equal(held.name, 'new');
});

test('a running container takes over a reused IP from a stopped one, not the other way round', () => {
  const s = new ContainerStore(10);
  s.upsert(container(2, { state: 'stopped', pid: 0 }));
  s.upsert(container(3, { networks: container(2).networks }));
  assert.equal(s.byIp('172.30.0.2')?.id, hex(3));
  s.upsert(container(4, { state: 'stopped', pid: 0, networks: container(2).networks }));
  assert.equal(s.byIp('172.30.0.2')?.id, hex(3));
});

test('stopped containers are bounded, oldest evicted from every index', () => {
  const s = new ContainerStore(3);
  for (let i = 1; i <= 5; i++) s.upsert(container(i));
  const evicted: string[] = [];
  for (let i = 1; i <= 5; i++) {
    for (const ch of s.upsert(container(i, { state: 'stopped', pid: 0 }))) if (ch.type === 'evict') evicted.push(ch.container.name);
  }
  assert.deepEqual(evicted, ['c1', 'c2']);
  assert.equal(s.get(hex(1)), undefined);
  assert.equal(s.byCgroupId(501), undefined);
  assert.equal(s.byIp('172.30.0.1'), undefined);
  assert.equal(s.stoppedCount, 3);
  assert.equal(s.evicted, 2);
});

test('remove marks a running container stopped and removed', () => {
  const s = new ContainerStore(10);
  s.upsert(container(7));
  assert.deepEqual(s.markRemoved(hex(7), 99).map((c) => c.type), ['stop', 'remove']);
  const c = s.get(hex(7))!;
  assert.equal(c.state, 'stopped');
  assert.equal(c.removed, true);
  assert.equal(c.stoppedAt, 99);
  assert.deepEqual(s.markRemoved(hex(7)), [], 'twice is harmless');
});

test('a stopped or removed container keeps its address only briefly: a client calling it later calls nobody', () => {
  const clock = { now: 1000 };
  const s = new ContainerStore(10, () => clock.now, 30_000);
  s.upsert(container(7));
  s.upsert(container(7, { state: 'stopped', pid: 0 }));
  clock.now = 29_000;
  assert.equal(s.byIp('172.30.0.7')?.name, 'c7', 'closes arriving as it stopped (and a restart\'s few seconds) are its');
  s.markRemoved(hex(7), clock.now);
  assert.equal(s.byIp('172.30.0.7')?.name, 'c7', 'removed later: its grace still runs from its stop');
  clock.now = 31_500;
  assert.equal(s.byIp('172.30.0.7'), undefined, 'later: nobody (Docker freed the address at the stop), not the gone container');
  assert.equal(s.lastHolder('172.30.0.7')?.name, 'c7');
  s.upsert(container(9));
  s.upsert(container(9, { state: 'stopped', pid: 0 }));
  clock.now += 31_000;
  assert.equal(s.byIp('172.30.0.9'), undefined, 'stopped and never removed: the same (a new replica of its service would look broken)');
  s.upsert(container(9));
  assert.equal(s.byIp('172.30.0.9')?.name, 'c9', 'started again: its address again');
  assert.equal(s.get(hex(7))?.name, 'c7', 'its identity is still kept for late events by id');
  s.upsert(container(8, { networks: [{ name: 'net', networkId: 'n1', ipv4: '172.30.0.7', ipv6: null, gateway: null, ipv6Gateway: null, aliases: [] }] }));
  assert.equal(s.byIp('172.30.0.7')?.name, 'c8', 'a new holder');
});

test('published ports: exact host ip, then 0.0.0.0/:: for any local address', () => {
  const s = new ContainerStore(10);
  s.upsert(container(2, { ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }));
  s.upsert(container(3, { ports: [{ hostIp: '0.0.0.0', hostPort: 9090, containerPort: 90, protocol: 'tcp' },
    { hostIp: '::', hostPort: 9090, containerPort: 90, protocol: 'tcp' }] }));
  const local = (ip: string) => ip === '192.0.2.2' || ip.startsWith('127.') || ip === 'fd00::2';
  assert.equal(s.published('127.0.0.1', 8080, local)?.container.name, 'c2');
  assert.equal(s.published('127.0.0.1', 8080, local)?.containerPort, 80);
  assert.equal(s.published('192.0.2.2', 8080, local), null, 'bound to loopback only');
  assert.equal(s.published('192.0.2.2', 9090, local)?.container.name, 'c3');
  assert.equal(s.published('fd00::2', 9090, local)?.containerPort, 90);
  assert.equal(s.published('198.51.100.1', 9090, local), null, 'not a local address');
  assert.equal(s.published('127.0.0.1', 9090, local, 'udp'), null);
  s.upsert(container(3, { state: 'stopped', pid: 0 }));
  assert.equal(s.published('127.0.0.1', 9090, local), null, 'stopped containers publish nothing');
});

test('inspect JSON -> ContainerInfo, tolerant of missing fields', () => {
  const probe: HostProbe = {
    netnsOf: () => 4026532183,
    cgroupOfPid: () => ({ id: 44, path: `/docker/${hex(9)}` }),
    cgroupIdOfPath: () => 0,
  };
  const j: InspectJson = {
    Id: hex(9), Name: '/shop-web-1', Image: 'sha256:abc',
    Config: { Image: 'shop/web:1', Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '1', 'io.kubernetes.pod.name': 'p', 'io.kubernetes.pod.namespace': 'ns' } },
    State: { Running: true, Pid: 4242, StartedAt: '2026-11-24T13:30:44.944146847Z', FinishedAt: '0001-01-01T00:00:00Z' },
    HostConfig: { NetworkMode: 'shop_default' },
    NetworkSettings: {
      Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '443/tcp': null, 'x/tcp': [] },
      Networks: { shop_default: { NetworkID: 'n', IPAddress: '172.18.0.2', GlobalIPv6Address: 'FD00:0:0:0::2', Gateway: '172.18.0.1', Aliases: ['web'] } },
    },
  };
  const c = containerFromInspect(j, probe);
  assert.equal(c.name, 'shop-web-1');
  assert.equal(c.image, 'shop/web:1');
  assert.deepEqual(c.compose, { project: 'shop', service: 'web', number: 1 });
  assert.deepEqual(c.kubernetes, { pod: 'p', namespace: 'ns', container: '' });
  assert.equal(c.networks[0].ipv4, '172.18.0.2');
  assert.equal(c.networks[0].ipv6, 'fd00::2');
  assert.deepEqual(c.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}`), ['0.0.0.0:8080->80', ':::8080->80']);
  assert.equal(c.cgroupId, 44);
  assert.equal(c.netns, 4026532183);
  assert.equal(c.startedAt, Date.parse('2026-11-24T13:30:44.944Z'));
  assert.equal(c.state, 'running');

  // a pid whose cgroup is not this container's (pid reused) is not trusted
  const other = containerFromInspect(j, { ...probe, cgroupOfPid: () => ({ id: 7, path: '/system.slice/x.service' }) });
  assert.equal(other.cgroupId, 0);

  const bare = containerFromInspect({ Id: hex(10) }, probe);
  assert.equal(bare.name, hex(10).slice(0, 12));
  assert.equal(bare.state, 'stopped');
  assert.deepEqual(bare.networks, []);
});

test('canonical IP text and host addresses', () => {
  assert.equal(canonicalIp('FD00:0:0:0:0:0:0:2'), 'fd00::2');
  assert.equal(canonicalIp('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('fe80::1%eth0'), 'fe80::1');
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('nonsense'), null);
  const h = new HostAddresses({ interfaces: () => ({ eth0: [{ address: '192.0.2.2', netmask: '', family: 'IPv4', mac: '', internal: false, cidr: null }] }) });
  assert.equal(h.has('192.0.2.2'), true);
  assert.equal(h.has('127.0.0.53'), true);
  assert.equal(h.has('::1'), true);
  assert.equal(h.has('198.51.100.1'), false);
  h.setExtra(['172.18.0.1']);
  assert.equal(h.has('172.18.0.1'), true);
});

test('a removed container is no longer the owner of its address past the grace, but is still its last holder', () => {
  let now = 1000;
  const s = new ContainerStore(10, () => now, 2000);
  s.upsert(container(2));
  assert.equal(s.lastHolder('172.30.0.2'), undefined, 'a running container is its owner, not a last holder');
  s.markRemoved(hex(2), 1500);
  now = 5000;
  assert.equal(s.byIp('172.30.0.2'), undefined);
  const last = s.lastHolder('172.30.0.2')!;
  assert.equal(last.name, 'c2');
  assert.equal(s.heldUntil(last), 1500);
  s.upsert(container(3, { networks: [{ name: 'net', networkId: 'n1', ipv4: '172.30.0.2', ipv6: null, gateway: null, ipv6Gateway: null, aliases: [] }] }));
  assert.equal(s.lastHolder('172.30.0.2'), undefined, 'the address is held again');
});
