// `dhrishti run` settles who may connect before anything starts: off loopback without a token
// it stops before a probe is attached; the token comes from --token-file or DHRISHTI_TOKEN
// (not in `ps`), and weak or exposed tokens draw warnings. Also the stream's plain-GET answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Child } from '../support/children.js';
import { freePort } from '../support/agent.js';
import { rawRequest } from '../support/http.js';
import { REPO_ROOT } from '../../src/config/defaults.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-startup-'));
const running: Child[] = [];
after(async () => {
  for (const c of running) await c.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const GOOD = 'startup-token-0123456789abcdef';

function run(args: string[], env: Record<string, string> = {}): Child {
  const c = start(path.join(REPO_ROOT, 'dhrishti'), ['run', '--no-history', '--no-docker', ...args], { env: { ...process.env, DHRISHTI_TOKEN: '', ...env } });
  running.push(c);
  return c;
}

/** Runs to its end; the output, and whether a probe was ever attached. */
async function refused(args: string[], env: Record<string, string> = {}) {
  const c = run(args, env);
  const code = await c.exited;
  return { code, stderr: c.stderr.join('\n'), attached: c.lines.some((l) => /attached|API on/.test(l)) };
}

async function serving(args: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const c = run(['--port', String(port), ...args], env);
  await c.waitFor(/API on http/, 30000);
  return { c, url: `http://127.0.0.1:${port}` };
}

test('off loopback without a token: refused before any probe is attached', async () => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    const r = await refused(['--host', host, '--port', String(await freePort())]);
    assert.equal(r.code, 2, `--host ${host}`);
    assert.match(r.stderr, new RegExp(`refusing to listen on ${host.replace(/\./g, '\\.')} without a token`));
    assert.equal(r.attached, false, `--host ${host}: nothing started`);
  }
});

test('a port in use, or an address this host does not have, is said in words', async () => {
  const { c, url } = await serving([]);
  const port = new URL(url).port;
  const busy = await refused(['--port', port]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use \\(another dhrishti\\?\\); choose another with --port`));
  assert.equal(busy.attached, false, 'said before any probe is loaded');
  await c.stop();
  const nowhere = await refused(['--host', '192.0.2.10', '--port', String(await freePort())], { DHRISHTI_TOKEN: GOOD });
  assert.match(nowhere.stderr, /cannot listen on 192\.0\.2\.10: no such address on this host \(EADDRNOTAVAIL\)/);
  assert.equal(nowhere.attached, false);
});

test('DHRISHTI_TOKEN opens a non-loopback bind, and the token is nowhere in the process\'s command line', async () => {
  const { c, url } = await serving(['--host', '0.0.0.0'], { DHRISHTI_TOKEN: GOOD });
  assert.equal((await rawRequest(url, '/api/v1/graph')).status, 401);
  assert.equal((await rawRequest(url, '/api/v1/graph', { headers: { Authorization: `Bearer ${GOOD}` } })).status, 200);
  const cmdline = fs.readFileSync(`/proc/${c.pid}/cmdline`, 'utf8');
  assert.doesNotMatch(cmdline, new RegExp(GOOD));
  assert.equal(c.stderr.filter((l) => /warning/.test(l)).length, 0, `no warning: ${c.stderr.join(' | ')}`);
  await c.stop();
});

test('--token-file: read, trimmed, and kept out of ps; unreadable, empty or world-readable files are said so', async () => {
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, `  ${GOOD}\n`, { mode: 0o600 });
  const { c, url } = await serving(['--host', '0.0.0.0', '--token-file', file]);
  assert.equal((await rawRequest(url, `/api/v1/graph?token=${GOOD}`)).status, 200);
  assert.doesNotMatch(fs.readFileSync(`/proc/${c.pid}/cmdline`, 'utf8'), new RegExp(GOOD));
  await c.stop();

  let r = await refused(['--token-file', path.join(dir, 'missing'), '--port', String(await freePort())]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read --token-file .*missing: ENOENT/);
  assert.equal(r.attached, false);
  const empty = path.join(dir, 'empty');
  fs.writeFileSync(empty, '\n');
  r = await refused(['--token-file', empty, '--port', String(await freePort())]);
  assert.match(r.stderr, /--token-file .*empty is empty/);
  r = await refused(['--token-file', dir, '--port', String(await freePort())]);
  assert.match(r.stderr, /is a folder/);
  const spaced = path.join(dir, 'spaced');
  fs.writeFileSync(spaced, 'two words here and more', { mode: 0o600 });
  r = await refused(['--token-file', spaced, '--port', String(await freePort())]);
  assert.match(r.stderr, /printable ASCII without spaces/);
  r = await refused(['--token-file', file, '--token', GOOD, '--port', String(await freePort())]);
  assert.match(r.stderr, /either --token or --token-file, not both/);

  const open = path.join(dir, 'open');
  fs.writeFileSync(open, GOOD, { mode: 0o644 });
  fs.chmodSync(open, 0o644);
  const o = await serving(['--token-file', open]);
  assert.ok(o.c.stderr.some((l) => /open can be read by other users; chmod 600/.test(l)), o.c.stderr.join(' | '));
  await o.c.stop();
});

test('a short token, or one on the command line, draws a warning (and still works)', async () => {
  const { c, url } = await serving(['--token', 'short']);
  assert.ok(c.stderr.some((l) => /warning: --token is visible to every user/.test(l)), c.stderr.join(' | '));
  assert.ok(c.stderr.some((l) => /warning: the token from --token has 5 characters; use at least 16/.test(l)), c.stderr.join(' | '));
  assert.equal((await rawRequest(url, '/api/v1/graph', { headers: { Authorization: 'Bearer short' } })).status, 200);
  await c.stop();
  const e = await serving([], { DHRISHTI_TOKEN: 'tiny' });
  assert.ok(e.c.stderr.some((l) => /the token from DHRISHTI_TOKEN has 4 characters/.test(l)), e.c.stderr.join(' | '));
  await e.c.stop();
});

test('a plain GET of the stream says it is a WebSocket (426, JSON)', async () => {
  const { c, url } = await serving([]);
  const r = await rawRequest(url, '/api/v1/stream');
  assert.equal(r.status, 426);
  assert.equal(r.headers.upgrade, 'websocket');
  const body = JSON.parse(r.body) as { error: string; message: string };
  assert.equal(body.error, 'upgrade_required');
  assert.match(body.message, /WebSocket/);
  await c.stop();
});
