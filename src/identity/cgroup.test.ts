import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  containerRefFromCgroupPath, containerRefsFromCgroupPath, containerRefFromProcCgroup, identityPath,
  parseProcCgroup, systemdUnitFromCgroupPath, userFromCgroupPath,
} from './cgroup.js';

const ID = 'a'.repeat(40) + '0123456789abcdef01234567';
const ID2 = 'b'.repeat(64);
const POD = '5c1f2d9e-1b2a-4c3d-8e9f-0a1b2c3d4e5f';

test('docker: cgroupfs and systemd drivers, v1 and v2 layouts', () => {
  assert.deepEqual(containerRefFromCgroupPath(`/docker/${ID}`), { runtime: 'docker', id: ID, podUid: null });
  assert.deepEqual(containerRefFromCgroupPath(`/system.slice/docker-${ID}.scope`), { runtime: 'docker', id: ID, podUid: null });
  // a sub-cgroup inside the container (cgroup namespaces, systemd in the container)
  assert.equal(containerRefFromCgroupPath(`/system.slice/docker-${ID}.scope/init.scope`)?.id, ID);
  assert.equal(containerRefFromCgroupPath(`/docker/${ID}/init.scope`)?.id, ID);
});

test('docker-in-docker: innermost first, both listed', () => {
  const refs = containerRefsFromCgroupPath(`/docker/${ID}/docker/${ID2}`);
  assert.deepEqual(refs.map((r) => r.id), [ID2, ID]);
});

test('containerd / Kubernetes, systemd and cgroupfs drivers, with pod uid', () => {
  const sd = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`;
  assert.deepEqual(containerRefFromCgroupPath(sd), { runtime: 'containerd', id: ID, podUid: POD });
  const fs = `/kubepods/burstable/pod${POD}/${ID}`;
  assert.deepEqual(containerRefFromCgroupPath(fs), { runtime: 'kubernetes', id: ID, podUid: POD });
  assert.deepEqual(containerRefFromCgroupPath(`/kubepods/pod${POD}/${ID}`), { runtime: 'kubernetes', id: ID, podUid: POD });
});

test('CRI-O containers; conmon helpers are not containers', () => {
  assert.deepEqual(containerRefFromCgroupPath(`/kubepods.slice/kubepods-pod${POD.replace(/-/g, '_')}.slice/crio-${ID}.scope`),
    { runtime: 'crio', id: ID, podUid: POD });
  assert.equal(containerRefFromCgroupPath(`/kubepods.slice/crio-conmon-${ID}.scope`), null);
  assert.equal(containerRefFromCgroupPath(`/kubepods/besteffort/pod${POD}/crio-${ID}`)?.runtime, 'crio');
});

test('Podman root and rootless; conmon ignored', () => {
  assert.deepEqual(containerRefFromCgroupPath(`/machine.slice/libpod-${ID}.scope`), { runtime: 'podman', id: ID, podUid: null });
  assert.equal(containerRefFromCgroupPath(`/machine.slice/libpod-${ID}.scope/container`)?.id, ID);
  assert.equal(containerRefFromCgroupPath(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`)?.runtime, 'podman');
  assert.equal(containerRefFromCgroupPath(`/machine.slice/libpod-conmon-${ID}.scope`), null);
  assert.equal(containerRefFromCgroupPath(`/libpod_parent/libpod-${ID}`)?.runtime, 'podman');
});

test('host cgroups are not containers', () => {
  for (const p of ['/', '', '/system.slice/nginx.service', '/user.slice/user-1000.slice/session-3.scope',
    '/docker', '/system.slice/docker.service', `/docker/${ID.slice(0, 12)}`, '/process_api/23199a61dc89cfcbc3b8c1aaeeaaf802']) {
    assert.equal(containerRefFromCgroupPath(p), null, p);
  }
});

test('systemd unit and user of host processes', () => {
  assert.equal(systemdUnitFromCgroupPath('/system.slice/nginx.service'), 'nginx.service');
  assert.equal(systemdUnitFromCgroupPath('/system.slice/system-getty.slice/getty@tty1.service'), 'getty@tty1.service');
  assert.equal(systemdUnitFromCgroupPath('/user.slice/user-1000.slice/session-3.scope'), 'session-3.scope');
  assert.equal(systemdUnitFromCgroupPath('/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.service'), 'app-foo.service');
  assert.equal(systemdUnitFromCgroupPath('/init.scope'), 'init.scope');
  assert.equal(systemdUnitFromCgroupPath('/'), null);
  assert.equal(systemdUnitFromCgroupPath('/system.slice'), null);
  assert.equal(userFromCgroupPath('/user.slice/user-1000.slice/session-3.scope'), 1000);
  assert.equal(userFromCgroupPath('/system.slice/nginx.service'), null);
});

test('/proc/<pid>/cgroup: hybrid, pure v2, pure v1', () => {
  const hybrid = `9:name=systemd:/docker/${ID}\n4:memory:/docker/${ID}\n1:cpu,cpuacct:/docker/${ID}\n0::/docker/${ID}\n`;
  const h = parseProcCgroup(hybrid);
  assert.equal(h.v2, `/docker/${ID}`);
  assert.equal(h.v1['cpu,cpuacct'], `/docker/${ID}`);
  assert.equal(identityPath(h), `/docker/${ID}`);
  assert.equal(containerRefFromProcCgroup(h)?.id, ID);

  const v2 = parseProcCgroup(`0::/system.slice/docker-${ID}.scope\n`);
  assert.deepEqual(v2.v1, {});
  assert.equal(containerRefFromProcCgroup(v2)?.id, ID);

  // runtime joined only v1 hierarchies: v2 says root, v1 says container
  const v1only = parseProcCgroup(`9:name=systemd:/docker/${ID}\n4:memory:/docker/${ID}\n0::/\n`);
  assert.equal(identityPath(v1only), `/docker/${ID}`);
  assert.equal(containerRefFromProcCgroup(v1only)?.id, ID);

  const host = parseProcCgroup('4:memory:/process_api/x\n0::/\n');
  assert.equal(identityPath(host), '/process_api/x');
  assert.equal(containerRefFromProcCgroup(host), null);
  assert.equal(identityPath(parseProcCgroup('0::/\n')), '/');
  assert.deepEqual(parseProcCgroup('garbage\n\n'), { v2: null, v1: {} });
});
