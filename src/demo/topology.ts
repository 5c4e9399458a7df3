// The demo system: a small shop of microservices in local Docker, with one
// service misconfigured to call a dead endpoint so failures show on the map.

export const DEMO_PROJECT = 'dhrishti-demo';
export const DEMO_NETWORK = 'dhrishti-demo';
export const DEMO_SUBNET = '172.30.77.0/24';
/** An address on the demo network where nothing runs: the misconfigured "payments" endpoint. */
export const DEAD_ENDPOINT = '172.30.77.250';
export const DEMO_IMAGE = 'dhrishti-demo-node:latest';
export const GATEWAY_PORT = 8088;

export interface DemoService {
  service: string;
  replicas: number;
  script: string;
  publish?: string[];
}

// Each script is plain Node with no dependencies; SIGTERM exits at once (node as PID 1 ignores it otherwise).
const prelude = `process.on('SIGTERM', () => process.exit(0)); const http = require('http'), net = require('net');
function get(host, port, path) { return new Promise((ok) => { const r = http.get({ host, port, path, agent: false, timeout: 2000 }, (s) => { let b = ''; s.on('data', (d) => b += d); s.on('end', () => ok(b)); }); r.on('error', () => ok('error')); r.on('timeout', () => r.destroy()); }); }`;

/** A tiny key-value store over TCP: "GET k\\n" / "SET k v\\n", one line per reply. */
const store = `${prelude}
const kv = new Map();
net.createServer((s) => { let buf = ''; s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { const [op, k, v] = buf.slice(0, i).split(' '); buf = buf.slice(i + 1); if (op === 'SET') { kv.set(k, v); s.write('OK\\n'); } else s.write((kv.get(k) ?? 'NIL') + '\\n'); } }); s.on('error', () => {}); }).listen(6380);`;

/** A pooled client to the store, as a real service would keep. */
const storeClient = `
const pool = []; for (let i = 0; i < 2; i++) { const c = net.connect(6380, 'store'); c.on('error', () => {}); c.on('data', () => {}); pool.push(c); }
let n = 0; function kv(line) { const c = pool[n++ % pool.length]; if (c.writable) c.write(line + '\\n'); }`;

const catalog = `${prelude}${storeClient}
http.createServer((q, s) => { kv('GET item' + (n % 10)); s.end(JSON.stringify({ items: 10, from: require('os').hostname() })); }).listen(8080);`;

const orders = `${prelude}${storeClient}
// Misconfigured: payments points at an address where nothing runs.
http.createServer(async (q, s) => { kv('SET order' + n + ' 1'); const c = net.connect({ host: '${DEAD_ENDPOINT}', port: 9000, timeout: 1500 }); c.on('timeout', () => c.destroy()); c.on('error', () => {}); s.end('{"ok":true}'); }).listen(8080);`;

const gateway = `${prelude}
http.createServer(async (q, s) => { const [a, b] = await Promise.all([get('catalog', 8080, '/'), get('orders', 8080, '/')]); s.end(JSON.stringify({ catalog: a, orders: b })); }).listen(8080);`;

const loadgen = `${prelude}
setInterval(() => get('gateway', 8080, '/'), 500);`;

export const DEMO_SERVICES: DemoService[] = [
  { service: 'store', replicas: 1, script: store },
  { service: 'catalog', replicas: 2, script: catalog },
  { service: 'orders', replicas: 1, script: orders },
  { service: 'gateway', replicas: 1, script: gateway, publish: [`127.0.0.1:${GATEWAY_PORT}:8080`] },
  { service: 'loadgen', replicas: 1, script: loadgen },
];

export const containerName = (service: string, n: number) => `${DEMO_PROJECT}-${service}-${n}`;
