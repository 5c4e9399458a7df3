// The scope predicate (unit test): cgroup paths by prefix, network namespaces by inode,
// and identity that treats containers outside the scope as another host's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, parseCgroupPath, parseNetnsInode, scopedIdentity } from './scope.js';
import type { ConnEvent } from '../events/types.js';
import type { ContainerInfo } from '../identity/types.js';
import type { Identity } from '../graph/live-graph.js';

const paths = new Map<number, string>([[10, '/tenant-a'], [11, '/tenant-a/abc'], [12, '/tenant-ab/x'], [13, '/system.slice/docker-1.scope']]);
const index = { pathOf: (id: number) => paths.get(id) ?? null };

test('cgroup prefixes match whole path segments; netns by inode; unknown cgroups are outside', () => {
  const s = new Scope({ cgroups: ['/tenant-a/'] , netns: [4026532000] }, index);
  assert.equal(s.owns(10, 0), true);
  assert.equal(s.owns(11, 0), true);
  assert.equal(s.owns(12, 0), false, '/tenant-ab is not under /tenant-a');
  assert.equal(s.owns(13, 0), false);
  assert.equal(s.owns(99, 0), false);
  assert.equal(s.owns(13, 4026532000), true);
  const ev = (cgroupId: number) => ({ cgroupId, netns: 0 }) as ConnEvent;
  assert.deepEqual(s.filter([ev(10), ev(13), ev(11)]).map((e) => e.cgroupId), [10, 11]);
  assert.equal(s.dropped, 1);
});

test('bad scope options are refused with a message', () => {
  assert.throws(() => parseCgroupPath('tenant-a'), /starts with \//);
  assert.throws(() => parseCgroupPath('/a/../b'), /cgroup path/);
  assert.equal(parseCgroupPath('/a/b/'), '/a/b');
  assert.equal(parseNetnsInode('net:[4026531840]'), 4026531840);
  assert.throws(() => parseNetnsInode('abc'), /inode/);
  assert.throws(() => new Scope({}, index), /at least one/);
});

test('containers outside the scope look external; inside, as they are', () => {
  const c = (name: string, cgroupPath: string) => ({ name, cgroupPath, netns: 0, cgroupId: 0 }) as unknown as ContainerInfo;
  const inside = c('web', '/tenant-a/web'), outside = c('api', '/tenant-b/api');
  const inner: Identity = {
    resolveOwner: () => ({ kind: 'unknown', pid: 0, comm: '', cgroupId: 0 }),
    resolveAddress: (ip) => ip === '10.0.0.1' ? { kind: 'container', container: inside, network: {} as never }
      : ip === '10.0.0.2' ? { kind: 'container', container: outside, network: {} as never }
      : { kind: 'host', published: { container: outside, containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 } },
  };
  const id = scopedIdentity(inner, new Scope({ cgroups: ['/tenant-a'] }, index));
  assert.equal(id.resolveAddress('10.0.0.1').kind, 'container');
  assert.deepEqual(id.resolveAddress('10.0.0.2'), { kind: 'external' });
  assert.deepEqual(id.resolveAddress('192.0.2.1', 8080), { kind: 'host', published: null });
  assert.equal(id.processRunning?.(7), undefined, 'an identity that cannot say');
  const alive = scopedIdentity({ ...inner, processRunning: (pid) => pid === 7 }, new Scope({ cgroups: ['/tenant-a'] }, index));
  assert.deepEqual([alive.processRunning?.(7), alive.processRunning?.(8)], [true, false], 'whether a pid runs is asked through the scope');
});
