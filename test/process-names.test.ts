// Host processes on the map are named as `ps` names them, whatever thread did
// the I/O: a JVM's or Tomcat's worker threads (http-nio-exec-1) and Chromium's
// (Chrome_ChildIOT) carry their own names, and a node per thread name would
// split one service. Real agent (`dhrishti run`), a real Python process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { node, start, stopAll } from './support/children.js';
import { SINK } from './support/scripts.js';
import { startAgent, waitForGraph, freePort, type RunningAgent } from './support/agent.js';

let agent: RunningAgent | undefined;
after(async () => { await agent?.stop(); await stopAll(); });

/** Connects to 127.0.0.1:argv[1] from a thread named http-nio-exec-1, sends, and holds the connection. */
const PY_NAMED_THREAD = `
import ctypes, socket, sys, threading, time
def work():
    ctypes.CDLL(None).prctl(15, b'http-nio-exec-1', 0, 0, 0)  # PR_SET_NAME
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.sendall(b'x' * 100)
    print('sent', flush=True)
    time.sleep(60)
threading.Thread(target=work, daemon=True).start()
time.sleep(60)
`;

test('a connection made by a named worker thread is on the process\'s node, not the thread\'s', async () => {
  agent = await startAgent(['--no-docker', '--no-history']);
  const sink = node(SINK, ['127.0.0.1']);
  const port = Number((await sink.waitFor(/^port (\d+)/))[1]);
  await start('python3', ['-c', PY_NAMED_THREAD, String(port)]).waitFor(/^sent/);
  const g = await waitForGraph(`${agent.url}/api/v1/graph`, (s) => s.edges.some((e) => e.port === port && e.bytes.sent >= 100), 'the edge with its bytes');
  const e = g.edges.find((x) => x.port === port)!;
  assert.equal(e.source, 'proc:python3', `named after the process: ${e.id}`);
  assert.ok(!g.nodes.some((n) => n.id.includes('http-nio')), 'no node for the thread');
});

/** backend.js: listens on 127.0.0.1, prints "port N", counts what it gets. */
const BACKEND = `
const net = require('net');
const srv = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); });
srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));
`;
/** api.js <backend port>: listens too, connects to the backend, sends, holds the connection. */
const API = `
const net = require('net');
const srv = net.createServer(() => {});
srv.listen(0, '127.0.0.1', () => {
  const c = net.connect(Number(process.argv[2]), '127.0.0.1', () => { c.write('x'.repeat(100)); console.log('sent'); });
  c.on('error', () => {});
});
`;

test('node and python scripts are named by their script: api.js -> backend.js, not node -> node; the agent is dhrishti; a port nothing listens on goes to "host (no listener)"', async () => {
  agent ??= await startAgent(['--no-docker', '--no-history']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-names-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'backend.js'), BACKEND);
  fs.writeFileSync(path.join(dir, 'api.js'), API);

  const backend = start(process.execPath, ['--no-warnings', path.join(dir, 'backend.js')]);
  const bport = Number((await backend.waitFor(/^port (\d+)/))[1]);
  const api = start(process.execPath, [path.join(dir, 'api.js'), String(bport)]);
  await api.waitFor(/^sent/);
  // python3 -u -m http.server: a module; fetched by inline node code, which keeps the name node.
  const hport = await freePort();
  const web = start('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', String(hport)], { cwd: dir });
  await web.waitFor(/Serving HTTP/);
  const fetcher = node(`fetch('http://127.0.0.1:${hport}/backend.js').then((r) => r.text()).then((t) => console.log('got ' + t.length))`);
  await fetcher.waitFor(/^got \d+/);
  // Refused: a port nothing listens on.
  const dead = await freePort();
  await new Promise<void>((res) => { const c = net.connect(dead, '127.0.0.1'); c.on('error', () => res()); c.on('connect', () => { c.destroy(); res(); }); });

  const g = await waitForGraph(`${agent.url}/api/v1/graph`, (s) => s.edges.some((e) => e.port === bport && e.bytes.sent >= 100)
    && s.edges.some((e) => e.port === hport) && s.edges.some((e) => e.port === dead) && s.edges.some((e) => e.port === agent!.port), 'the four edges');
  const at = (port: number) => g.edges.find((x) => x.port === port)!;
  assert.deepEqual([at(bport).source, at(bport).target], ['proc:api.js', 'proc:backend.js'], `no self-loop: ${at(bport).id}`);
  assert.deepEqual([at(hport).source, at(hport).target], ['proc:node', 'proc:http.server'], `inline code keeps node, a module names python: ${at(hport).id}`);
  assert.equal(at(agent.port).target, 'proc:dhrishti', `the agent's own API: ${at(agent.port).id}`);
  assert.equal(at(dead).target, 'proc:host', at(dead).id);
  const nodeOf = (id: string) => g.nodes.find((n) => n.id === id)!;
  assert.equal(nodeOf('proc:host').label, 'host (no listener)');
  assert.equal(nodeOf('proc:dhrishti').label, 'dhrishti');
  const b = nodeOf('proc:backend.js');
  assert.equal(b.label, 'backend.js');
  assert.deepEqual(b.instances.map((i) => [i.name, i.pids, i.command]), [['node', [backend.pid], `${process.execPath} --no-warnings ${path.join(dir, 'backend.js')}`]]);
  assert.ok(!g.nodes.some((n) => n.id === 'proc:python3' && n.instances.some((i) => i.pids.includes(web.pid))), 'the module server is not python3');

  // Named once for its life: after backend.js exits, its connection's close still lands on backend.js.
  await backend.stop();
  const after2 = await waitForGraph(`${agent.url}/api/v1/graph`, (s) => s.edges.some((e) => e.port === bport && e.connections.active === 0), 'the closed edge');
  assert.deepEqual(after2.edges.filter((e) => e.port === bport).map((e) => e.id), [at(bport).id], 'one edge, same ends');
});

test('a script that connects once and exits, gone before /proc is read, is named by the arguments the kernel kept at its exec (review G: proc:node, 20 of 20)', async () => {
  agent ??= await startAgent(['--no-docker', '--no-history']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-short-'));
  try {
    const sink = node(SINK, ['127.0.0.1']);
    const port = Number((await sink.waitFor(/^port (\d+)/))[1]);
    fs.writeFileSync(path.join(dir, 'nightly-report.js'), `const c = require('net').connect(${port}, '127.0.0.1', () => { c.end('x'); process.exit(0); });`);
    for (let i = 0; i < 10; i++) spawnSync(process.execPath, [path.join(dir, 'nightly-report.js')]);
    const g = await waitForGraph(`${agent.url}/api/v1/graph`, (s) => s.edges.filter((e) => e.port === port).reduce((n, e) => n + e.connections.opened, 0) >= 10, 'the ten connections');
    const edges = g.edges.filter((e) => e.port === port);
    assert.deepEqual(edges.map((e) => [e.source, e.connections.opened]), [['proc:nightly-report.js', 10]], 'every run on the script\'s node, none on node');
    const n = g.nodes.find((x) => x.id === 'proc:nightly-report.js')!;
    assert.ok(n.instances.some((i) => i.command === `${process.execPath} ${path.join(dir, 'nightly-report.js')}`), JSON.stringify(n.instances));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
