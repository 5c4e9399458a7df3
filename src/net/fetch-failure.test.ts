import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { fetchFailure } from './fetch-failure.js';

async function failureOf(url: string, timeoutMs: number): Promise<string> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return fetchFailure(e, url, timeoutMs);
  }
  throw new Error(`${url} answered`);
}

test('a fetch failure names its cause: blocked port, refusal, silence', async () => {
  assert.equal(await failureOf('http://127.0.0.1:9/', 2000), "Node's fetch refuses port 9 (a port the Fetch standard blocks); use another port");

  // a port just closed: refused
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  assert.equal(await failureOf(`http://127.0.0.1:${port}/`, 2000), 'unreachable (ECONNREFUSED)');

  // a server that accepts and never answers
  const held: net.Socket[] = [];
  const silent = net.createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    assert.equal(await failureOf(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`, 200), 'no answer within 200 ms');
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
});
