// Loopback TCP load for the fault tests: a server on several ports that counts what it
// accepts, and a client that opens connections at a steady rate and logs each one.
import { node, type Child } from './children.js';
import { sleep } from './wait.js';

/** Server: argv host n; listens on n free ports, prints "ports p1,p2,..."; on stdin "count" prints "accepted {port: n}". */
export const MULTI_SERVER = `
const net = require('net');
const readline = require('readline');
const [host, n] = process.argv.slice(1);
const accepted = {};
const ports = [];
let ready = 0;
for (let i = 0; i < Number(n); i++) {
  const srv = net.createServer((s) => {
    const p = srv.address().port;
    accepted[p] = (accepted[p] || 0) + 1;
    s.on('data', () => {});
    s.on('end', () => s.end('ok'));
    s.on('error', () => {});
  });
  srv.listen(0, host, () => { ports.push(srv.address().port); if (++ready === Number(n)) console.log('ports ' + ports.join(',')); });
}
readline.createInterface({ input: process.stdin }).on('line', (l) => { if (l === 'count') console.log('accepted ' + JSON.stringify(accepted)); });
`;

/**
 * Client: argv host ports rate maxSeconds. Opens \`rate\` connections a second, round-robin over
 * the ports; each sends "x", reads to the end and closes. Prints "c <unix ms> <port>" when a
 * connection is established. Stdin: "pause", "resume". Stops by itself after maxSeconds.
 */
export const LOADER = `
const net = require('net');
const readline = require('readline');
const [host, list, rate, maxSeconds] = process.argv.slice(1);
const ports = list.split(',').map(Number);
let paused = false, k = 0, due = 0, last = Date.now();
const timer = setInterval(() => {
  const now = Date.now();
  due += ((now - last) / 1000) * Number(rate);
  last = now;
  if (paused) { due = 0; return; }
  for (; due >= 1; due--) {
    const port = ports[k++ % ports.length];
    const c = net.connect(port, host, () => { console.log('c ' + Date.now() + ' ' + port); c.end('x'); });
    c.on('data', () => {});
    c.on('error', (e) => console.log('error ' + e.code));
  }
}, 10);
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'pause') { paused = true; setTimeout(() => console.log('paused ' + Date.now()), 200); }
  if (l === 'resume') { paused = false; last = Date.now(); console.log('resumed ' + Date.now()); }
});
setTimeout(() => { clearInterval(timer); setTimeout(() => process.exit(0), 500); }, Number(maxSeconds) * 1000);
`;

export interface Load {
  server: Child;
  client: Child;
  ports: number[];
  /** Connections the client saw established in [from, to] (unix ms), on one port or all. */
  count(from: number, to: number, port?: number): number;
  /** Stops opening connections; resolves once the last ones had 200 ms to finish. */
  pause(): Promise<number>;
  resume(): Promise<number>;
  /** The server's own count of accepted connections, per port. */
  accepted(): Promise<Record<string, number>>;
  errors(): string[];
  stop(): Promise<void>;
}

export async function startLoad(o: { ports: number; rate: number; maxSeconds: number; paused?: boolean }): Promise<Load> {
  const server = node(MULTI_SERVER, ['127.0.0.1', String(o.ports)]);
  const ports = (await server.waitFor(/^ports (.+)/))[1].split(',').map(Number);
  const client = node(LOADER, ['127.0.0.1', ports.join(','), String(o.rate), String(o.maxSeconds)]);
  if (o.paused) client.send('pause');
  const mark = async (cmd: 'pause' | 'resume') => {
    const re = new RegExp(`^${cmd === 'pause' ? 'paused' : 'resumed'} (\\d+)`);
    const before = client.lines.filter((l) => re.test(l)).length;
    client.send(cmd);
    for (let i = 0; i < 100; i++) {
      const all = client.lines.filter((l) => re.test(l));
      if (all.length > before) return Number(re.exec(all[all.length - 1])![1]);
      await sleep(20);
    }
    throw new Error(`load client did not ${cmd}`);
  };
  if (o.paused) await sleep(300);
  return {
    server, client, ports,
    count(from, to, port) {
      let n = 0;
      for (const l of client.lines) {
        if (l.charCodeAt(0) !== 99 || l[1] !== ' ') continue; // "c "
        const [, t, p] = l.split(' ');
        const time = Number(t);
        if (time >= from && time <= to && (port === undefined || Number(p) === port)) n++;
      }
      return n;
    },
    pause: () => mark('pause'),
    resume: () => mark('resume'),
    async accepted() {
      const before = server.lines.filter((l) => l.startsWith('accepted ')).length;
      server.send('count');
      for (let i = 0; i < 100; i++) {
        const all = server.lines.filter((l) => l.startsWith('accepted '));
        if (all.length > before) return JSON.parse(all[all.length - 1].slice('accepted '.length));
        await sleep(20);
      }
      throw new Error('load server did not answer');
    },
    errors: () => client.lines.filter((l) => l.startsWith('error ')),
    async stop() { await client.stop(); await server.stop(); },
  };
}
