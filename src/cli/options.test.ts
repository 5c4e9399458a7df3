import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultDockerSocket, nonNegativeInt, port, positiveNumber, ringbufBytes } from './options.js';

test('numbers on the command line are decimal digits: hex, exponents and spaces are refused', () => {
  assert.equal(port('8000'), 8000);
  for (const bad of ['0x1F40', '1e3', ' 80', '80 ', '8000.0', '-1', '0', '70000', '', 'banana']) assert.throws(() => port(bad), /port must be a whole number from 1 to 65535/, bad);
  const secs = positiveNumber('--duration');
  assert.equal(secs('2.5'), 2.5);
  for (const bad of ['1e3', '0x10', '.5', '5.', '-2', '0']) assert.throws(() => secs(bad), /--duration must be a positive number/, bad);
  const slow = positiveNumber('--l7-slow-ms', 86_400_000);
  assert.equal(slow('86400000'), 86_400_000);
  assert.throws(() => slow('99999999999999999999999'), /--l7-slow-ms must be a positive number up to 86400000, got "99999999999999999999999"/, 'past what the kernel holds: refused, not a capture quietly off');
  const pairs = nonNegativeInt('--switch-pairs');
  assert.equal(pairs('0'), 0);
  assert.equal(pairs('8'), 8);
  for (const bad of ['-1', '1.5', '0x8', '1e1', '', ' 8']) assert.throws(() => pairs(bad), /--switch-pairs must be a whole number of 0 or more/, bad);
  assert.equal(ringbufBytes('4096'), 4096);
  assert.throws(() => ringbufBytes('0x1000'), /power of two/);
});

test('--url takes an http or https URL only', async () => {
  const { agentUrl } = await import('./options.js');
  assert.equal(agentUrl('http://127.0.0.1:7979'), 'http://127.0.0.1:7979');
  assert.equal(agentUrl('https://agent.example:8443/'), 'https://agent.example:8443/');
  assert.throws(() => agentUrl('ftp://127.0.0.1:7979'), /http or https/);
  assert.throws(() => agentUrl('127.0.0.1:7979'), /http or https|not a URL/);
  assert.throws(() => agentUrl('nope'), /not a URL/);
});

test('Docker\'s socket comes from DOCKER_HOST when it names a unix socket, as the docker CLI reads it; otherwise the usual path', () => {
  assert.equal(defaultDockerSocket({ DOCKER_HOST: 'unix:///tmp/d/sock' }), '/tmp/d/sock');
  assert.equal(defaultDockerSocket({}), '/var/run/docker.sock');
  assert.equal(defaultDockerSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }), '/var/run/docker.sock', 'a TCP daemon is not spoken to');
  assert.equal(defaultDockerSocket({ DOCKER_HOST: 'unix://' }), '/var/run/docker.sock');
});
