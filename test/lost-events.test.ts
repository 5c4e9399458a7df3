// A tiny ring buffer under load must lose events, count them, and say so in the CLI.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { node, start, stopAll } from './support/children.js';
import { SINK, HAMMER } from './support/scripts.js';
import { REPO_ROOT } from '../src/config/defaults.js';

after(stopAll);

test('dhrishti trace with a one-page ring buffer reports lost events', async () => {
  const server = node(SINK, ['127.0.0.1']);
  const port = Number((await server.waitFor(/^port (\d+)/))[1]);
  const trace = start(path.join(REPO_ROOT, 'dhrishti'), ['trace', '--json', '--ringbuf-bytes', '4096', '--duration', '6', '--port', String(port)]);
  await new Promise((r) => setTimeout(r, 1500)); // let it attach
  const hammer = node(HAMMER, ['127.0.0.1', String(port), '4000', '64']);
  await hammer.waitFor(/^made 4000/, 30000);
  const code = await trace.exited;
  assert.equal(code, 0, trace.stderr.join('\n'));
  const summary = trace.stderr.find((l) => /events shown, \d+ lost/.test(l));
  assert.ok(summary, `summary line in: ${trace.stderr.join('\n')}`);
  const lost = Number(/(\d+) lost \(ring buffer full: (\d+)/.exec(summary!)![2]);
  assert.ok(lost > 0, `ring buffer losses counted: ${summary}`);
  assert.ok(trace.stderr.some((l) => /warning: \d+ events lost/.test(l)), 'live warning while running');
  assert.ok(trace.lines.length > 0, 'some events still delivered');
  for (const l of trace.lines.slice(0, 50)) JSON.parse(l); // NDJSON
});
