import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processName } from './naming.js';

test('a host process is named as ps names it, whatever its executable resolves to; a cut name is completed from the executable', () => {
  // Debian: /usr/bin/redis-server -> redis-check-rdb; /usr/bin/python3 -> python3.11
  assert.equal(processName({ unit: null, exe: 'redis-check-rdb', comm: 'redis-server' }), 'redis-server');
  assert.equal(processName({ unit: null, exe: 'python3.11', comm: 'python3' }), 'python3');
  assert.equal(processName({ unit: null, exe: '', comm: 'python3' }), 'python3', 'gone before /proc was read: the same name');
  assert.equal(processName({ unit: null, exe: 'containerd-shim-runc-v2', comm: 'containerd-shim' }), 'containerd-shim-runc-v2');
  assert.equal(processName({ unit: null, exe: 'node', comm: '' }), 'node');
  assert.equal(processName({ unit: 'nginx.service', exe: 'nginx', comm: 'nginx' }), 'nginx');
  assert.equal(processName({ unit: null, exe: '', comm: '' }), 'unknown');
});
