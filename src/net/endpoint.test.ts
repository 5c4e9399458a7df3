import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpEndpoint, maskCredentials } from './endpoint.js';

test('a user and password in an endpoint URL become Basic auth and leave the URL', () => {
  const e = httpEndpoint('https://grafana_user:glc%3AS3cret@prom.example:9090/api/prom', '--prometheus', 'http://prometheus:9090');
  assert.equal(e.url, 'https://prom.example:9090/api/prom');
  assert.equal(e.headers.Authorization, `Basic ${Buffer.from('grafana_user:glc:S3cret').toString('base64')}`, 'percent-escapes decoded');
  assert.deepEqual(httpEndpoint('http://prometheus:9090', '--prometheus', 'x').headers, {}, 'no credentials: no header');
  assert.equal(httpEndpoint('http://c:4318', '--otlp-endpoint', 'x', (u) => { u.pathname = '/v1/metrics'; }).url, 'http://c:4318/v1/metrics');
});

test('a bad endpoint is refused with its credentials masked', () => {
  assert.throws(() => httpEndpoint('ftp://u:S3cret@host/', '--remote-write', 'http://p:9090/api/v1/write'), (e: Error) => /must be http\(s\), got "ftp:\/\/\*\*\*@host\/"/.test(e.message) && !e.message.includes('S3cret'));
  assert.throws(() => httpEndpoint('not a url', '--prometheus', 'http://prometheus:9090'), /--prometheus must be a URL such as http:\/\/prometheus:9090, got "not a url"/);
  assert.equal(maskCredentials('https://a:b@h/p'), 'https://***@h/p');
  assert.deepEqual(['http://u:pa/ss@prom:9090', 'https://user:abc#def@prom', 'http://u:p@ss@h'].map(maskCredentials), ['http://***@prom:9090', 'https://***@prom', 'http://***@h'], 'a password holding / # or @');
  assert.equal(httpEndpoint('http://u:pa%zz@h:1', '--prometheus', 'x').headers.Authorization, `Basic ${Buffer.from('u:pa%zz').toString('base64')}`, 'a bad escape is taken as written, not thrown');
});
