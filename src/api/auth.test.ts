// Host, Origin and flag parsing rules of the API's access checks (pure logic; the real agent is tested in test/security).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { hostPolicy, originPolicy, parseAllowHost, parseAllowOrigin, splitHost, checkExposure } from './auth.js';

test('splitHost reads names, IPv4, bracketed IPv6 and ports', () => {
  assert.deepEqual(splitHost('LocalHost:7979'), { name: 'localhost', port: '7979' });
  assert.deepEqual(splitHost('[::1]:80'), { name: '::1', port: '80' });
  assert.deepEqual(splitHost('[::1]'), { name: '::1', port: null });
  assert.deepEqual(splitHost('example.com.'), { name: 'example.com', port: null });
  assert.deepEqual(splitHost('::1'), { name: '::1', port: null }, 'bare IPv6 (several colons) is all name');
});

test('a loopback bind answers to loopback names and addresses only', () => {
  const ok = hostPolicy('127.0.0.1');
  for (const h of ['127.0.0.1:7979', 'localhost:7979', 'localhost', '[::1]:7979', '127.0.0.2:1']) assert.ok(ok(h), h);
  for (const h of ['evil.example:7979', '10.0.0.1:7979', '', 'localhost.evil.example', 'a.localhost:7979', `${os.hostname()}:7979`]) assert.ok(!ok(h), h);
});

test('a wildcard bind takes any address, localhost and the machine name; --allow-host adds names', () => {
  const ok = hostPolicy('0.0.0.0', ['dhrishti.internal', 'proxy.example:8443']);
  for (const h of ['10.1.2.3:7979', '[fe80::1]:7979', 'localhost:7979', `${os.hostname()}:7979`, 'dhrishti.internal', 'DHRISHTI.internal:1', 'proxy.example:8443']) assert.ok(ok(h), h);
  for (const h of ['evil.example:7979', 'proxy.example:8444', 'proxy.example']) assert.ok(!ok(h), h);
  const one = hostPolicy('192.0.2.5');
  assert.ok(one('192.0.2.5:7979'));
  assert.ok(!one('192.0.2.6:7979'));
  assert.ok(!one('127.0.0.1:7979'));
});

test('Origin: the same host and port, or a listed origin; never null or another port', () => {
  const same = originPolicy(['https://dash.example']);
  assert.equal(same('http://127.0.0.1:7979', '127.0.0.1:7979'), 'same');
  assert.equal(same('https://127.0.0.1:7979', '127.0.0.1:7979'), 'same');
  assert.equal(same('http://localhost', 'localhost'), 'same', 'default ports on both sides');
  assert.equal(same('http://127.0.0.1', '127.0.0.1:7979'), false, 'port 80 is not 7979');
  assert.equal(same('http://127.0.0.1:7980', '127.0.0.1:7979'), false);
  assert.equal(same('null', '127.0.0.1:7979'), false);
  assert.equal(same('file://', '127.0.0.1:7979'), false);
  assert.equal(same('https://dash.example', '127.0.0.1:7979'), 'allowed');
  assert.equal(same('https://dash.example:444', '127.0.0.1:7979'), false);
});

test('--allow-origin and --allow-host take exact values, no wildcards', () => {
  assert.equal(parseAllowOrigin('https://Dash.Example:8443/'), 'https://dash.example:8443');
  for (const v of ['*', 'https://*.example', 'dash.example', 'ftp://x', 'https://x/path', 'https://x?q', 'https://u@x']) assert.throws(() => parseAllowOrigin(v), /--allow-origin takes/, v);
  assert.equal(parseAllowHost('Proxy.Example:8443'), 'proxy.example:8443');
  for (const v of ['*', '*.example', 'a/b', 'a b', 'x:port']) assert.throws(() => parseAllowHost(v), /--allow-host takes/, v);
});

test('exposure: off loopback needs a token', () => {
  assert.doesNotThrow(() => checkExposure('127.0.0.1', undefined));
  assert.doesNotThrow(() => checkExposure('::1', undefined));
  assert.throws(() => checkExposure('0.0.0.0', undefined), /refusing to listen on 0\.0\.0\.0 without a token/);
  assert.doesNotThrow(() => checkExposure('0.0.0.0', 'x'.repeat(16)));
  assert.throws(() => checkExposure('0.0.0.0', undefined), /pass --token-file <path> or set DHRISHTI_TOKEN/, 'the agent\'s flag');
  assert.throws(() => checkExposure('0.0.0.0', undefined, { token: 'pass --token <token> or set DHRISHTI_TOKEN' }), /pass --token <token>/, 'the hub names its own');
});
