// `dhrishti graph` against the real agent: the map as JSON, DOT or Mermaid, with
// the API's filters; usage errors exit 2 before any request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { node, stopAll } from './support/children.js';
import { SINK, CLIENT } from './support/scripts.js';
import { startAgent, waitForGraph, type RunningAgent } from './support/agent.js';
import { REPO_ROOT } from '../src/config/defaults.js';
import type { GraphSnapshot } from '../src/graph/types.js';

let agent: RunningAgent | undefined;
after(async () => { await agent?.stop(); await stopAll(); });

function graph(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(path.join(REPO_ROOT, 'dhrishti'), ['graph', '--url', agent!.url, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
}

test('graph prints the agent\'s map with its filters; an empty --group or --window is a usage error', async () => {
  agent = await startAgent(['--no-docker', '--no-history']);
  const sink = node(SINK, ['127.0.0.1']);
  const port = Number((await sink.waitFor(/^port (\d+)/))[1]);
  await node(CLIENT, ['127.0.0.1', String(port), '3']).waitFor(/^local/);
  await waitForGraph(`${agent.url}/api/v1/graph`, (g) => g.edges.some((e) => e.port === port), 'the host edge');

  const all = await graph([]);
  assert.equal(all.code, 0, all.stderr);
  const edge = (JSON.parse(all.stdout) as GraphSnapshot).edges.find((e) => e.port === port);
  assert.ok(edge, 'the host processes\' edge, with every kind shown by default');
  const dot = await graph(['--format', 'dot', '--include', 'host']);
  assert.match(dot.stdout, /^digraph/);
  assert.ok(dot.stdout.includes(String(port)));
  const containersOnly = await graph(['--include', '']);
  assert.equal(containersOnly.code, 0, containersOnly.stderr);
  assert.ok(!(JSON.parse(containersOnly.stdout) as GraphSnapshot).edges.some((e) => e.port === port), 'include= is containers only, as in the API');

  for (const bad of [['--group', ''], ['--window', '']]) {
    const r = await graph(bad);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${bad[0]} needs a value`));
  }
  const ftp = await graph(['--url', 'ftp://127.0.0.1:7979']); // the later --url wins
  assert.equal(ftp.code, 2);
  assert.match(ftp.stderr, /--url must be an http or https URL/);
  for (const [args, why] of [[['--at', '-1m', '--from', '-5m'], /give one/], [['--to', 'now'], /--to needs --from/], [['--window', '5m', '--at', '-1m'], /--window is for the live map/], [['--at', ''], /--at needs a value/]] as const) {
    const r = await graph([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  const noHistory = await graph(['--at', '-1m']);
  assert.equal(noHistory.code, 1);
  assert.match(noHistory.stderr, /the agent answered 400: .*history/);
  const typo = await graph(['--group', 'no-such-group']);
  assert.equal(typo.code, 0, 'an empty map is still a map');
  assert.match(typo.stderr, /no node in group "no-such-group"; groups on that map: .*host/, 'says so, with the groups there are');
  const wrong = await graph(['--include', 'planets']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /include takes external, host, clients; got "planets"/);
});

test('graph reads the token of an agent that requires one from --token-file (not visible in ps)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-graph-token-'));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, 'a-graph-token-of-32-characters-x\n', { mode: 0o600 });
  const guarded = await startAgent(['--no-docker', '--no-history', '--token-file', file]);
  try {
    const run = (args: string[]) => promisify(execFile)(path.join(REPO_ROOT, 'dhrishti'), ['graph', '--url', guarded.url, ...args]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
    const without = await run([]);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /the agent answered 401/);
    const withFile = await run(['--token-file', file]);
    assert.equal(withFile.code, 0, withFile.stderr);
    assert.ok(Array.isArray((JSON.parse(withFile.stdout) as GraphSnapshot).edges));
    assert.equal(withFile.stderr, '', 'no warning: the file is private');
    const missing = await run(['--token-file', path.join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --token-file .*nope: ENOENT/);
  } finally {
    await guarded.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
