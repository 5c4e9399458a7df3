// Real HTTP servers and clients for the request-capture tests, run as child processes.

/** HTTP/1 server: prints "port N". Paths: /ok, /404, /500, /slow (400 ms), /big (1 MB), /chunked (5 chunks, 20 ms apart), POST /upload. */
export const HTTP_SERVER = `
const http = require('http');
const srv = http.createServer((req, res) => {
  const p = req.url.split('?')[0];
  req.on('data', () => {});
  req.on('end', () => {
    if (p === '/404') { res.statusCode = 404; return res.end('nope'); }
    if (p === '/500') { res.statusCode = 500; return res.end('bad'); }
    if (p === '/slow') return setTimeout(() => res.end('slow'), 400);
    if (p === '/big') return res.end(Buffer.alloc(1 << 20, 97));
    if (p === '/chunked') {
      let i = 0;
      const t = setInterval(() => { res.write('chunk ' + i + ' HTTP/1.1 200 OK\\r\\n'); if (++i === 5) { clearInterval(t); res.end(); } }, 20);
      return;
    }
    if (p === '/upload') { res.statusCode = 201; return res.end('stored'); }
    res.end('ok');
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(0, process.argv[1] || '127.0.0.1', () => console.log('port ' + srv.address().port));
`;

/** HTTP/1 client on one keep-alive connection: argv port, then plan JSON [[method, path, count, bodyBytes, headerBytes]]; prints "done". */
export const HTTP_CLIENT = `
const http = require('http');
const [port, plan] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const one = (method, path, body, hdr) => new Promise((resolve, reject) => {
  const headers = {};
  if (hdr) headers['x-padding'] = 'p'.repeat(hdr);
  const r = http.request({ host: '127.0.0.1', port: Number(port), method, path, agent, headers }, (res) => { res.resume(); res.on('end', resolve); });
  r.on('error', reject);
  if (body) r.end(Buffer.alloc(body, 98)); else r.end();
});
(async () => {
  for (const [method, path, count, body, hdr] of JSON.parse(plan)) for (let i = 0; i < count; i++) await one(method, path, body, hdr);
  agent.destroy();
  console.log('done');
})().catch((e) => console.log('error ' + e.message));
`;

/** Pipelining client: argv port count; writes count GET /ok requests in one write, prints "done N" after N responses. */
export const PIPELINE_CLIENT = `
const net = require('net');
const [port, count] = process.argv.slice(1).map(Number);
const c = net.connect(port, '127.0.0.1', () => {
  c.write('GET /ok?i=1 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'.repeat(count));
});
let text = '';
c.on('data', (d) => {
  text += d.toString('latin1');
  const n = text.split('HTTP/1.1 200').length - 1;
  if (n === count) { console.log('done ' + n); c.end(); }
});
c.on('error', (e) => console.log('error ' + e.code));
`;

/** Not HTTP: a server on argv host:port that sends random bytes, and a client that sends random bytes; prints "done". */
export const NOISE = `
const net = require('net');
const crypto = require('crypto');
const [host, port] = process.argv.slice(1);
const srv = net.createServer((s) => { s.on('data', () => s.write(crypto.randomBytes(300))); s.on('error', () => {}); });
srv.listen(Number(port), host, () => {
  const c = net.connect(Number(port), host, async () => {
    for (let i = 0; i < 20; i++) { c.write(crypto.randomBytes(200)); await new Promise((r) => setTimeout(r, 5)); }
    c.write('GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n');
    setTimeout(() => { c.end(); srv.close(); console.log('done'); }, 200);
  });
  c.on('data', () => {});
});
`;
