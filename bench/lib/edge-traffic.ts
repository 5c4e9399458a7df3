// Real edges for the benchmarks that need many (fleet scrape, policy reloads).
import { FLEET_BENCH } from './constants.js';

/**
 * One process listening on `n` ports, another connecting once to each (100 at a time): n edges on the map.
 * Every `httpEvery`-th edge carries HTTP/1 requests (3 on its connection, one a 404), so the request families' cost is in the scrape.
 * With "busy", it connects to every port again every FLEET_BENCH.busySweepMs: every edge's rows move between two scrapes.
 */
export const EDGE_TRAFFIC = `
const net = require('net'); const n = Number(process.argv[1]); const every = Number(process.argv[2]); const busy = process.argv[3] === 'busy'; const ports = [];
let listening = 0;
const RES = (s) => 'HTTP/1.1 ' + s + ' X\\r\\nContent-Length: 0\\r\\n\\r\\n';
for (let i = 0; i < n; i++) {
  const http = i % every === 0;
  const s = net.createServer((c) => {
    let buf = '';
    c.on('data', (d) => { if (!http) return; buf += d; let k; while ((k = buf.indexOf('\\r\\n\\r\\n')) >= 0) { const req = buf.slice(0, k); buf = buf.slice(k + 4); c.write(RES(req.includes('/missing') ? '404' : '200')); } });
    c.on('error', () => {}); c.on('end', () => c.end());
  });
  s.listen(0, '127.0.0.1', () => { ports[i] = s.address().port; if (++listening === n) go(); });
}
let sweeps = 0;
function go() {
  let next = 0, done = 0; const t0 = Date.now();
  const one = () => {
    if (next >= ports.length) return;
    const i = next++, p = ports[i];
    const c = net.connect(p, '127.0.0.1', () => {
      if (i % every) return c.end('x'.repeat(100));
      let got = 0; const paths = ['/a', '/b', '/missing'];
      c.on('data', (d) => { got += String(d).split('HTTP/1.1 ').length - 1; if (got >= paths.length) c.end(); else c.write('GET ' + paths[got] + ' HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n'); });
      c.write('GET ' + paths[0] + ' HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n');
    });
    c.on('error', () => {}); c.on('close', () => { if (++done < ports.length) return one(); if (!sweeps++) console.log('connected ' + done); if (busy) setTimeout(go, Math.max(0, ${FLEET_BENCH.busySweepMs} - (Date.now() - t0))); });
  };
  for (let i = 0; i < 100; i++) one();
}`;

/** Waits until the agent at `url` has `n` edges on its map (or `ms` passes); returns how many it has. */
export async function waitForEdges(url: string, n: number, ms = 60_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const have = ((await (await fetch(`${url}/api/v1/agent`)).json()) as { graph: { edges: number } }).graph.edges;
    if (have >= n || Date.now() > deadline) return have;
    await new Promise((r) => setTimeout(r, 500));
  }
}
