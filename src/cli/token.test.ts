// Where the API token comes from, and what is said about it (pure logic on temp files).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveToken } from './token.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-token-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string, mode = 0o600) => { const p = path.join(dir, name); fs.writeFileSync(p, text, { mode }); fs.chmodSync(p, mode); return p; };
const GOOD = '0123456789abcdef0123';

test('a token file wins over the environment; its whitespace is trimmed; no warning when private and long', () => {
  const t = resolveToken({ tokenFile: file('t', `${GOOD}\n`) }, { DHRISHTI_TOKEN: 'other-token-from-env' });
  assert.deepEqual(t, { token: GOOD, warnings: [] });
});

test('the environment, when no flag names a token', () => {
  assert.deepEqual(resolveToken({}, { DHRISHTI_TOKEN: GOOD }), { token: GOOD, warnings: [] });
  assert.deepEqual(resolveToken({}, { DHRISHTI_TOKEN: '' }), { warnings: [] });
});

test('warnings: --token shows in ps, short tokens, a file others can read', () => {
  assert.match(resolveToken({ token: GOOD }, {}).warnings.join(), /visible to every user/);
  assert.match(resolveToken({}, { DHRISHTI_TOKEN: 'short' }).warnings.join(), /has 5 characters; use at least 16/);
  assert.match(resolveToken({ tokenFile: file('open', GOOD, 0o644) }, {}).warnings.join(), /can be read by other users/);
});

test('errors: both flags, a missing, empty or folder file, spaces or control characters, the example\'s placeholder', () => {
  assert.throws(() => resolveToken({ token: GOOD, tokenFile: file('b', GOOD) }, {}), /either --token or --token-file/);
  assert.throws(() => resolveToken({ tokenFile: path.join(dir, 'nope') }, {}), /cannot read --token-file .*ENOENT/);
  assert.throws(() => resolveToken({ tokenFile: file('e', ' \n') }, {}), /is empty/);
  assert.throws(() => resolveToken({ tokenFile: dir }, {}), /is a folder/);
  assert.throws(() => resolveToken({ token: 'two words' }, {}), /printable ASCII without spaces/);
  assert.throws(() => resolveToken({}, { DHRISHTI_TOKEN: 'tab\there-and-more' }), /printable ASCII/);
  assert.throws(() => resolveToken({ tokenFile: file('big', 'x'.repeat(5000)) }, {}), /one token/);
  // deploy/kubernetes/daemonset.yaml's Secret, applied as it ships
  assert.throws(() => resolveToken({ tokenFile: file('k8s', 'change-me-to-a-long-random-string\n') }, {}), /the example's placeholder/);
});
