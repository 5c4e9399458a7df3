// Host processes on the map are named as `ps` names them, whatever thread did
// the I/O: a JVM's or Tomcat's worker threads (http-nio-exec-1) and Chromium's
// (Chrome_ChildIOT) carry their own names, and a node per thread name would
// split one service. Real agent (`dhrishti run`), a real Python process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { node, start, stopAll } from './support/children.js';
import { SINK } from './support/scripts.js';
import { startAgent, waitForGraph, type RunningAgent } from './support/agent.js';

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
