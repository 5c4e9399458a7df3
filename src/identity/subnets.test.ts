import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerSubnets } from './subnets.js';
import type { ContainerInfo, ContainerNetwork } from './types.js';

const net = (name: string, ipv4: string | null, ipv4PrefixLen?: number, ipv6: string | null = null, ipv6PrefixLen?: number): ContainerNetwork =>
  ({ name, networkId: name, ipv4, ipv6, gateway: null, ipv6Gateway: null, aliases: [], ...(ipv4PrefixLen ? { ipv4PrefixLen } : {}), ...(ipv6PrefixLen ? { ipv6PrefixLen } : {}) });
const ctr = (networks: ContainerNetwork[], project?: string) => ({ networks, compose: project ? { project, service: 's', number: 1 } : null, kubernetes: null }) as ContainerInfo;

test('an address is placed in the container network whose subnet holds it, learnt from its members', () => {
  const s = new ContainerSubnets();
  s.rebuild([ctr([net('tenant-a_default', '172.18.0.2', 16)]), ctr([net('tenant-b_default', '172.19.0.3', 24, 'fd00:b::3', 64)])]);
  assert.equal(s.networkOf('172.18.200.9'), 'tenant-a_default');
  assert.equal(s.networkOf('172.19.0.77'), 'tenant-b_default');
  assert.equal(s.networkOf('172.19.1.77'), null, 'outside the /24');
  assert.equal(s.networkOf('fd00:b::99'), 'tenant-b_default');
  assert.equal(s.networkOf('203.0.113.9'), null);
  assert.equal(s.networkOf('not an address'), null);
});

test('a network known without a prefix length, or with garbage, places nothing; a rebuild forgets networks gone', () => {
  const s = new ContainerSubnets();
  s.rebuild([ctr([net('old', '10.9.0.2')]), ctr([net('bad', '300.1.1.1', 16)]), ctr([net('a', '172.18.0.2', 16)])]);
  assert.equal(s.networkOf('10.9.0.3'), null);
  assert.equal(s.networkOf('172.18.0.9'), 'a');
  s.rebuild([]);
  assert.equal(s.networkOf('172.18.0.9'), null, 'the cache goes with the rebuild');
});

test('a network all of whose containers are one Compose project belongs to it; a shared one to none', () => {
  const s = new ContainerSubnets();
  s.rebuild([ctr([net('a_default', '172.18.0.2', 16)], 'a'), ctr([net('a_default', '172.18.0.3', 16), net('shared', '172.20.0.3', 16)], 'a'), ctr([net('shared', '172.20.0.4', 16)], 'b')]);
  assert.equal(s.projectOfNetwork('a_default'), 'a');
  assert.equal(s.projectOfNetwork('shared'), null);
  assert.equal(s.projectOfNetwork('unknown'), null);
});
