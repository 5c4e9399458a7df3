// Other web pages and DNS rebinding, in a real browser (Debian's Chromium) against the real
// `dhrishti run` on its defaults (loopback, no token): a page from another local port cannot
// read the map over fetch or the WebSocket; a page reached under a rebound name cannot either;
// --allow-origin and --allow-host open exactly what they name. Also forged Host and Origin
// headers without a browser, the security headers, and the UI working under its CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { start } from '../support/children.js';
import { REPO_ROOT } from '../../src/config/defaults.js';
import { startAgent, freePort, type RunningAgent } from '../support/agent.js';
import { launchBrowser, type BrowserSession } from '../support/browser.js';
import { rawRequest, wsHandshake, firstTextFrame } from '../support/http.js';

const REBOUND = 'rebind.test';
let agent: RunningAgent; // defaults: loopback, no token
let evil: http.Server;
let evilPort: number;
let evilOrigin: string;
let b: BrowserSession;

before(async () => {
  agent = await startAgent(['--no-history', '--no-docker']);
  evilPort = await freePort();
  evilOrigin = `http://127.0.0.1:${evilPort}`;
  // "Another local origin": any page a developer's browser might have open (a dev server, a malicious ad on it).
  evil = http.createServer((_q, s) => { s.setHeader('Content-Type', 'text/html'); s.end('<!doctype html><title>another site</title><p>hello</p>'); });
  await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', () => r()));
  // The browser resolves rebind.test to 127.0.0.1, as a rebinding attacker's DNS would after the first load.
  b = await launchBrowser({ args: [`--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`] });
});

after(async () => {
  await b?.close();
  evil?.close();
  await agent?.stop();
});

interface Tries { fetch: string; noCors: string; ws: { opened: boolean; messages: number; first?: string; code: number } }

/** Run in a page: try to read the map at `base` over fetch (CORS and no-cors) and over the WebSocket. */
async function tryToRead(base: string): Promise<Tries> {
  return b.page.evaluate(async (url) => {
    const read = async (init: RequestInit) => {
      try {
        const r = await fetch(`${url}/api/v1/graph`, init);
        if (r.type === 'opaque') return 'opaque (unreadable)';
        return `read ${r.status}: ${(await r.text()).slice(0, 80)}`;
      } catch (e) { return `refused: ${(e as Error).message}`; }
    };
    const ws = await new Promise<Tries['ws']>((resolve) => {
      const out: Tries['ws'] = { opened: false, messages: 0, code: 0 };
      const s = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/stream`);
      s.onopen = () => { out.opened = true; };
      s.onmessage = (e) => { out.messages++; out.first = String(e.data).slice(0, 80); s.close(); };
      s.onclose = (e) => { out.code = e.code; resolve(out); };
      setTimeout(() => resolve(out), 8000);
    });
    return { fetch: await read({}), noCors: await read({ mode: 'no-cors' }), ws };
  }, base);
}

test('a page from another local port cannot read the map over fetch or the WebSocket', async () => {
  await b.page.goto(`${evilOrigin}/`);
  for (const target of [agent.url, agent.url.replace('127.0.0.1', 'localhost')]) {
    const got = await tryToRead(target);
    assert.match(got.fetch, /^refused/, `fetch ${target}: ${got.fetch}`);
    assert.ok(!got.noCors.startsWith('read'), `no-cors fetch ${target}: ${got.noCors}`);
    assert.equal(got.ws.messages, 0, `WebSocket ${target}: ${JSON.stringify(got.ws)}`);
    assert.equal(got.ws.opened, false, `WebSocket ${target} did not open`);
  }
  // And the agent saw it as what it was: the upgrade was refused for its Origin.
  const h = await wsHandshake(agent.url, '/api/v1/stream', { Origin: evilOrigin });
  assert.equal(h.status, 403);
  assert.equal(JSON.parse(h.body).error, 'origin_not_allowed');
});

test('--allow-origin lets exactly that origin read, over fetch and the WebSocket (the same page, so the test above can fail)', async () => {
  const open = await startAgent(['--no-history', '--no-docker', '--allow-origin', evilOrigin]);
  try {
    await b.page.goto(`${evilOrigin}/`);
    const got = await tryToRead(open.url);
    assert.match(got.fetch, /^read 200: \{.*"nodes"/, got.fetch);
    assert.equal(got.ws.opened, true, JSON.stringify(got.ws));
    assert.match(got.ws.first ?? '', /^\{"type":"snapshot"/);
    // Still not another origin, nor the same host on another port.
    const other = `http://127.0.0.1:${await freePort()}`;
    assert.equal((await rawRequest(open.url, '/api/v1/graph', { headers: { Origin: other } })).status, 403);
    assert.equal((await wsHandshake(open.url, '/api/v1/stream', { Origin: other })).status, 403);
    const pre = await rawRequest(open.url, '/api/v1/graph', { method: 'OPTIONS', headers: { Origin: evilOrigin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], evilOrigin);
    assert.notEqual(pre.headers['access-control-allow-origin'], '*');
  } finally {
    await open.stop();
  }
});

test('DNS rebinding: a page under a name that now points at 127.0.0.1 gets nothing, not even the UI', async () => {
  const rebound = `http://${REBOUND}:${agent.port}`;
  const res = await b.page.goto(`${rebound}/`);
  assert.equal(res?.status(), 403);
  assert.match(await res!.text(), /host_not_allowed/);
  // Script running in that origin (same origin as the agent, as far as the browser knows).
  const got = await b.page.evaluate(async () => {
    const r = await fetch('/api/v1/graph');
    const ws = await new Promise<number>((resolve) => {
      const s = new WebSocket(`ws://${location.host}/api/v1/stream`);
      let messages = 0;
      s.onmessage = () => { messages++; };
      s.onclose = () => resolve(messages);
      setTimeout(() => resolve(messages), 8000);
    });
    return { status: r.status, body: (await r.text()).slice(0, 100), wsMessages: ws };
  });
  assert.equal(got.status, 403, got.body);
  assert.equal(got.wsMessages, 0);

  // --allow-host names a real name of the agent: then the UI works under it.
  const named = await startAgent(['--no-history', '--no-docker', '--allow-host', REBOUND]);
  try {
    await b.openUi(`http://${REBOUND}:${named.port}/`);
    assert.match(await b.page.getByTestId('status-connection').innerText(), /live|connected/i);
  } finally {
    // Leave its UI first: a page left open retries the stopped agent, and those refusals would land in a later test's console.
    await b.page.goto('about:blank').catch(() => {});
    await named.stop();
  }
});

test('forged Host headers are refused on every kind of route; this agent\'s own names are not', async () => {
  const p = agent.port;
  for (const host of [`evil.example:${p}`, 'evil.example', `localhost.evil.example:${p}`, `evil.localhost:${p}`, `10.1.2.3:${p}`, `[fe80::1]:${p}`, `${REBOUND}:${p}`, 'localhost@evil.example', `127.0.0.1.nip.io:${p}`]) {
    for (const p2 of ['/', '/api/v1/health', '/api/v1/graph', '/metrics']) {
      const a = await rawRequest(agent.url, p2, { headers: { Host: host } });
      assert.ok(a.status === 403 || a.status === 400, `Host ${JSON.stringify(host)} ${p2}: ${a.status}`);
      assert.doesNotMatch(a.body, /"nodes"|<html|dhrishti_/i, `Host ${JSON.stringify(host)} ${p2}`);
    }
    const h = await wsHandshake(agent.url, '/api/v1/stream', { Host: host });
    assert.ok(h.status === 403 || h.status === 400, `upgrade with Host ${JSON.stringify(host)}: ${h.status}`);
  }
  // HTTP/1.0 may leave Host out: no name, no answer.
  const noHost = await new Promise<string>((resolve, reject) => {
    const c = net.connect(p, '127.0.0.1', () => c.end('GET /api/v1/graph HTTP/1.0\r\n\r\n'));
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
  assert.match(noHost, /^HTTP\/1\.\d 403/);
  assert.doesNotMatch(noHost, /"nodes"/);
  for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST:${p}`, `[::1]:${p}`, `127.0.0.2:${p}`, 'localhost']) {
    assert.equal((await rawRequest(agent.url, '/api/v1/graph', { headers: { Host: host } })).status, 200, `Host ${host}`);
  }
  const h = await wsHandshake(agent.url, '/api/v1/stream', { Host: `localhost:${p}`, Origin: `http://localhost:${p}` });
  assert.equal(h.status, 101);
  assert.match(await firstTextFrame(h.socket!, h.head), /"type":"snapshot"/);
  h.socket!.destroy();
});

test('Origin on the WebSocket upgrade: the page\'s own origin opens it; others, null and file pages do not', async () => {
  const p = agent.port;
  const refused = [`http://127.0.0.1:${p + 1}`, `https://127.0.0.1:${p + 1}`, 'http://127.0.0.1', 'null', 'file://', `http://evil.example:${p}`, `http://localhost:${p}.evil.example`, 'chrome-extension://abc'];
  for (const origin of refused) {
    const h = await wsHandshake(agent.url, '/api/v1/stream', { Origin: origin });
    h.socket?.destroy();
    assert.equal(h.status, 403, `Origin ${origin}`);
  }
  for (const origin of [`http://127.0.0.1:${p}`, `https://127.0.0.1:${p}`]) {
    const h = await wsHandshake(agent.url, '/api/v1/stream', { Origin: origin });
    h.socket?.destroy();
    assert.equal(h.status, 101, `Origin ${origin}`);
  }
  // No Origin: not a browser (curl, scripts, the CLI), which cannot be made to carry a victim's access.
  const h = await wsHandshake(agent.url, '/api/v1/stream');
  h.socket?.destroy();
  assert.equal(h.status, 101);
});

test('a refused WebSocket handshake is answered and its connection closed by the agent, not left open', async () => {
  const p = agent.port;
  const cases = [
    ['a foreign Origin', '/api/v1/stream', `127.0.0.1:${p}`, 'Origin: http://evil.example\r\n'],
    ['a foreign Host', '/api/v1/stream', 'evil.example', ''],
    ['not the stream', '/api/v1/health', `127.0.0.1:${p}`, ''],
  ] as const;
  for (const [why, target, host, extra] of cases) {
    const r = await rawUpgrade(p, target, host, extra);
    assert.match(r.answer, /^HTTP\/1\.1 40[03] /, why);
    assert.ok(r.closedByAgent, `${why}: the agent closed the connection after its answer`);
  }
});

/** An upgrade on a raw connection: the agent's answer, and whether the agent closed the connection within 5 s. */
function rawUpgrade(p: number, target: string, host: string, extra: string): Promise<{ answer: string; closedByAgent: boolean }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(p, '127.0.0.1', () => c.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n${extra}\r\n`));
    let answer = '';
    const t = setTimeout(() => { c.destroy(); resolve({ answer, closedByAgent: false }); }, 5000);
    c.on('data', (d) => { answer += d; });
    c.on('end', () => { clearTimeout(t); c.destroy(); resolve({ answer, closedByAgent: true }); });
    c.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

test('--allow-origin and --allow-host refuse wildcards and junk at start, with a clear message', async () => {
  for (const args of [['--allow-origin', '*'], ['--allow-origin', 'http://*.example'], ['--allow-origin', 'example.com'], ['--allow-origin', 'http://a.example/path'], ['--allow-host', '*'], ['--allow-host', '*.example'], ['--allow-host', 'a/b']]) {
    const c = start(path.join(REPO_ROOT, 'dhrishti'), ['run', '--no-history', '--no-docker', '--port', String(await freePort()), ...args]);
    assert.equal(await c.exited, 2, args.join(' '));
    assert.match(c.stderr.join('\n'), /--allow-(origin|host) takes/, args.join(' '));
    assert.doesNotMatch(c.lines.join('\n'), /attached|API on/, `${args.join(' ')}: stopped before starting anything`);
  }
});

test('the UI and the API carry security headers, and the UI works under its CSP and cannot be framed', async () => {
  for (const p of ['/', '/api/v1/graph', '/api/v1/nope', '/metrics']) {
    const a = await rawRequest(agent.url, p);
    const csp = String(a.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/, p);
    assert.match(csp, /frame-ancestors 'none'/, p);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, p);
    assert.equal(a.headers['x-content-type-options'], 'nosniff', p);
    assert.equal(a.headers['x-frame-options'], 'DENY', p);
    assert.equal(a.headers['referrer-policy'], 'no-referrer', p);
    assert.equal(a.headers['access-control-allow-origin'], undefined, `${p}: no CORS for anyone not allowed`);
  }
  const violations: string[] = [];
  b.page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  await b.page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to load: CSP ${e.violatedDirective} ${e.blockedURI}`)));
  await b.page.goto('about:blank');
  b.errors.length = 0;
  await b.openUi(agent.url);
  await b.waitFor(`window.__dhrishti.nodeIds().length > 0`, 15000, 'nodes drawn under the CSP');
  assert.match(await b.page.getByTestId('status-connection').innerText(), /live|connected/i);
  assert.deepEqual(violations, [], 'no CSP violations');
  assert.deepEqual(b.errors, [], 'no console errors');

  // Framed by another page: the browser refuses (frame-ancestors 'none').
  await b.page.goto(`${evilOrigin}/`);
  await b.page.evaluate((src) => new Promise<void>((resolve) => {
    const f = document.createElement('iframe');
    f.src = src;
    f.onload = () => resolve();
    document.body.appendChild(f);
    setTimeout(resolve, 5000);
  }), `${agent.url}/`);
  const framed = b.page.frames().find((f) => f !== b.page.mainFrame());
  const framedUrl = framed?.url() ?? '';
  assert.ok(!framedUrl.startsWith(agent.url) || (await framed!.evaluate(() => !!window.__dhrishti).catch(() => false)) === false, `frame shows ${framedUrl}`);
});
