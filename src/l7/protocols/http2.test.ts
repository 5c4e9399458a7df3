import { test } from 'node:test';
import assert from 'node:assert/strict';
import hpack from 'hpack.js';
import { describeHttp2, describeHttp2Block } from './http2.js';
import { fuzz } from './testing.js';

function headersFrame(fields: { name: string; value: string }[], flags = 4): Buffer {
  const c = (hpack as unknown as { compressor: { create(o: object): { write(f: object[]): void; read(): Buffer } } }).compressor.create({ table: { size: 4096 } });
  c.write(fields);
  const block = c.read();
  const h = Buffer.alloc(9);
  h.writeUIntBE(block.length, 0, 3);
  h[3] = 1;
  h[4] = flags;
  h.writeUInt32BE(1, 5);
  return Buffer.concat([h, block]);
}

test('method and path of a HEADERS frame (Huffman-coded literals), query dropped', () => {
  const f = headersFrame([
    { name: ':method', value: 'POST' }, { name: ':scheme', value: 'http' },
    { name: ':path', value: '/pkg.Service/Method?x=1' }, { name: ':authority', value: 'a' },
  ]);
  assert.deepEqual(describeHttp2(f), { method: 'POST', target: '/pkg.Service/Method' });
});

test('the block the kernel rebuilds for a sample (:method indexed, :path a literal without indexing, as the client coded it)', () => {
  const huff = headersFrame([{ name: ':path', value: '/pkg.Svc/Fail?token=1' }]).subarray(9); // 0x44: inserted, name :path
  const coded = huff.subarray(1); // the value as the client coded it: the kernel keeps these bytes
  assert.deepEqual(describeHttp2Block(Buffer.concat([Buffer.from([0x83, 0x04]), coded])), { method: 'POST', target: '/pkg.Svc/Fail' });
  assert.deepEqual(describeHttp2Block(Buffer.from([0x82, 0x84])), { method: 'GET', target: '/' }, 'a static-table path');
  assert.deepEqual(describeHttp2Block(Buffer.from([0x83])), { method: 'POST', target: undefined }, ':method alone');
  assert.deepEqual(describeHttp2Block(Buffer.concat([Buffer.from([0x04]), coded])), { method: 'HTTP/2', target: '/pkg.Svc/Fail' }, 'no :method');
  assert.equal(describeHttp2Block(Buffer.from([0x04, 0x85, 0xff])), null, 'a cut Huffman string names nothing');
  // A literal :method (PUT, DELETE...): 0x02, a literal without indexing named by static index 2, its coded bytes as sent
  const put = headersFrame([{ name: ':method', value: 'DELETE' }]).subarray(9).subarray(1); // Huffman-coded by hpack.js
  assert.deepEqual(describeHttp2Block(Buffer.concat([Buffer.from([0x02]), put, Buffer.from([0x04]), coded])), { method: 'DELETE', target: '/pkg.Svc/Fail' });
  assert.deepEqual(describeHttp2Block(Buffer.from([0x02, 0x03, ...Buffer.from('PUT'), 0x84])), { method: 'PUT', target: '/' }, 'plain bytes');
  assert.deepEqual(describeHttp2Block(Buffer.from([0x02, 0x03, ...Buffer.from('p\nt')])), { method: 'HTTP/2', target: undefined }, 'not a method token');
});

test('an HTTP/2 path keeps no path parameters either', () => {
  const f = headersFrame([{ name: ':method', value: 'GET' }, { name: ':path', value: '/cart;jsessionid=SECRET/items' }]);
  assert.deepEqual(describeHttp2(f), { method: 'GET', target: '/cart/items' });
});

test('not a HEADERS frame: null', () => {
  const f = headersFrame([{ name: ':method', value: 'GET' }]);
  f[3] = 0;
  assert.equal(describeHttp2(f), null);
});

test('fuzz: random and truncated bytes never throw', () => {
  const { randomParsed } = fuzz(describeHttp2, [headersFrame([{ name: ':method', value: 'GET' }, { name: ':path', value: '/a' }])]);
  assert.ok(randomParsed < 30, `${randomParsed} random inputs parsed`);
});
