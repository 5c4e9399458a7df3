// Real HTTP servers and clients for the request-capture tests, run as child processes.

/** HTTP/1 server on argv host (default 127.0.0.1) and port (default any): prints "port N".
 *  Paths: /ok, /404, /500, /slow (400 ms), /big (1 MB), /chunked (5 chunks, 20 ms apart), POST /upload;
 *  /hangup closes the connection without a response, /reset resets it (as a server that dies mid-request). */
export const HTTP_SERVER = `
const http = require('http');
const srv = http.createServer((req, res) => {
  const p = req.url.split('?')[0];
  req.on('data', () => {});
  req.on('end', () => {
    if (p === '/404') { res.statusCode = 404; return res.end('nope'); }
    if (p === '/500') { res.statusCode = 500; return res.end('bad'); }
    if (p === '/slow') return setTimeout(() => res.end('slow'), 400);
    if (p === '/sleep') return setTimeout(() => res.end('slept'), Math.min(5000, Number(new URL(req.url, 'http://x').searchParams.get('ms')) || 0));
    if (p === '/big') return res.end(Buffer.alloc(1 << 20, 97));
    if (p === '/chunked') {
      let i = 0;
      const t = setInterval(() => { res.write('chunk ' + i + ' HTTP/1.1 200 OK\\r\\n'); if (++i === 5) { clearInterval(t); res.end(); } }, 20);
      return;
    }
    if (p === '/upload') { res.statusCode = 201; return res.end('stored'); }
    if (p === '/hangup') return setTimeout(() => req.socket.destroy(), 20);
    if (p === '/reset') return setTimeout(() => req.socket.resetAndDestroy(), 20);
    res.end('ok');
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(Number(process.argv[2] || 0), process.argv[1] || '127.0.0.1', () => console.log('port ' + srv.address().port));
`;

/** HTTP/1 client on one keep-alive connection: argv port, then plan JSON [[method, path, count, bodyBytes, headerBytes]]
 *  (["PAUSE", "", ms]: a pause, the connection kept), then host (default 127.0.0.1); prints "done". */
export const HTTP_CLIENT = `
const http = require('http');
const [port, plan, host] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const one = (method, path, body, hdr) => new Promise((resolve, reject) => {
  const headers = {};
  if (hdr) headers['x-padding'] = 'p'.repeat(hdr);
  const r = http.request({ host: host || '127.0.0.1', port: Number(port), method, path, agent, headers }, (res) => { res.resume(); res.on('end', resolve); });
  r.on('error', reject);
  if (body) r.end(Buffer.alloc(body, 98)); else r.end();
});
(async () => {
  for (const [method, path, count, body, hdr] of JSON.parse(plan)) {
    if (method === 'PAUSE') { await new Promise((r) => setTimeout(r, count)); continue; }
    // WAIT: says "waiting" and goes on at a line on stdin (its connection kept open meanwhile).
    if (method === 'WAIT') { console.log('waiting'); await new Promise((r) => process.stdin.once('data', r)); continue; }
    for (let i = 0; i < count; i++) await one(method, path, body, hdr);
  }
  process.stdin.destroy();
  agent.destroy();
  console.log('done');
})().catch((e) => console.log('error ' + e.message));
`;

/** HTTP/1 client, one connection per request, that tolerates failures: argv port plan [[path, count, abandonAfterMs?]];
 *  with abandonAfterMs it closes the connection itself that long after sending (a client giving up). Prints "done". */
export const ONE_SHOT_CLIENT = `
const http = require('http');
const [port, plan] = process.argv.slice(1);
const one = (path, abandon) => new Promise((resolve) => {
  const r = http.request({ host: '127.0.0.1', port: Number(port), path, agent: false }, (res) => { res.resume(); res.on('end', resolve); });
  r.on('error', () => resolve());
  r.end();
  if (abandon) setTimeout(() => { r.destroy(); resolve(); }, abandon);
});
(async () => {
  for (const [path, count, abandon] of JSON.parse(plan)) for (let i = 0; i < count; i++) await one(path, abandon);
  console.log('done');
})();
`;

/** Pipelining client: argv port count [host] [plan]; writes count requests in one write (GET /ok, or the plan's JSON [method, path] pairs), prints "done N" after N responses. */
export const PIPELINE_CLIENT = `
const net = require('net');
const [port, count] = process.argv.slice(1).map(Number);
const plan = process.argv[4] ? JSON.parse(process.argv[4]) : Array(count).fill(['GET', '/ok?i=1']);
const c = net.connect(port, process.argv[3] || '127.0.0.1', () => {
  c.write(plan.map(([m, p]) => m + ' ' + p + ' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n').join(''));
});
let text = '';
c.on('data', (d) => {
  text += d.toString('latin1');
  const n = (text.match(/HTTP\\/1\\.1 \\d{3}/g) || []).length;
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

/** Not HTTP either: a line protocol whose commands start like HTTP methods ("GET key", "PUT key value",
 * as the demo's store and many home-grown caches speak), on argv host:port; prints "done". */
export const VERB_LINES = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const kv = new Map();
const srv = net.createServer((s) => {
  let buf = '';
  s.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\\n')) >= 0) {
      const [op, k, v] = buf.slice(0, i).split(' ');
      buf = buf.slice(i + 1);
      if (op === 'PUT') { kv.set(k, v); s.write('OK\\n'); } else s.write((kv.get(k) ?? 'NIL') + '\\n');
    }
  });
  s.on('error', () => {});
});
srv.listen(Number(port), host, () => {
  const c = net.connect(Number(port), host, async () => {
    for (let i = 0; i < 20; i++) { c.write(i % 2 ? 'GET key' + i + '\\n' : 'PUT key' + i + ' v\\n'); await new Promise((r) => setTimeout(r, 5)); }
    setTimeout(() => { c.end(); srv.close(); console.log('done'); }, 200);
  });
  c.on('data', () => {});
});
`;

/** HTTPS server (argv key cert, as files or PEM text; then host and port): prints "port N"; same paths as HTTP_SERVER's /ok, /404, /500, /slow. */
export const HTTPS_SERVER = `
const https = require('https');
const fs = require('fs');
const [key, cert, host, port] = process.argv.slice(1);
const pem = (x) => (x.startsWith('-----') ? x : fs.readFileSync(x));
const srv = https.createServer({ key: pem(key), cert: pem(cert) }, (req, res) => {
  const p = req.url.split('?')[0];
  if (p === '/404') { res.statusCode = 404; return res.end('nope'); }
  if (p === '/500') { res.statusCode = 500; return res.end('bad'); }
  if (p === '/slow') return setTimeout(() => res.end('slow'), 400);
  res.end('ok');
});
srv.keepAliveTimeout = 60000;
srv.listen(Number(port || 0), host || '127.0.0.1', () => console.log('port ' + srv.address().port));
`;

/** HTTPS client on one keep-alive connection, or with mode 'close' a connection per request (Connection: close):
 *  argv port plan [host] [mode] (as HTTP_CLIENT); prints "done". */
export const HTTPS_CLIENT = `
const https = require('https');
const [port, plan, host, mode] = process.argv.slice(1);
const close = mode === 'close';
const agent = close ? false : new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
const one = (method, path) => new Promise((resolve, reject) => {
  const r = https.request({ host: host || '127.0.0.1', port: Number(port), method, path, agent, rejectUnauthorized: false, headers: close ? { connection: 'close' } : {} }, (res) => { res.resume(); res.on('end', resolve); });
  r.on('error', reject);
  r.end();
});
(async () => {
  for (const [method, path, count] of JSON.parse(plan)) for (let i = 0; i < count; i++) await one(method, path);
  if (agent) agent.destroy();
  console.log('done');
})().catch((e) => console.log('error ' + e.message));
`;

/** HTTP/2 cleartext server, gRPC-like: /pkg.Svc/Ok (grpc-status 0), /pkg.Svc/Fail (grpc-status 13),
 *  /pkg.Svc/Slow (400 ms, grpc-status 0), /pkg.Svc/Hang (never answered; prints "hang N"), /pkg.Svc/Away (the second
 *  sends a GOAWAY naming the last Hang stream as the last processed, then ends the session), /pkg.Svc/Refuse
 *  (RST_STREAM with REFUSED_STREAM), anything else 404.
 *  argv host port (default 127.0.0.1, any). Prints "port N". */
export const H2C_SERVER = `
const http2 = require('http2');
const srv = http2.createServer();
let hung = 0, hangSid = 0, away = 0;
srv.on('stream', (stream, headers) => {
  const p = headers[':path'];
  stream.on('error', () => {}); // a stream refused by the GOAWAY below
  const grpc = (code, delay) => setTimeout(() => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': code ? 'internal' : '' }));
    stream.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
  }, delay);
  if (p === '/pkg.Svc/Ok') return grpc(0, 0);
  if (p === '/pkg.Svc/Fail') return grpc(13, 0);
  if (p === '/pkg.Svc/Slow') return grpc(0, 400);
  if (p === '/pkg.Svc/Hang') { hangSid = stream.id; return console.log('hang ' + ++hung); } // never answered
  if (p === '/pkg.Svc/Away' && ++away === 2) { // a GOAWAY that names the hanging stream as the last processed, then the end
    const session = stream.session;
    session.goaway(0, hangSid);
    return setTimeout(() => session.destroy(), 50);
  }
  if (p === '/pkg.Svc/Away') return;
  if (p === '/pkg.Svc/Refuse') return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM); // RST_STREAM: never processed
  stream.respond({ ':status': 404 });
  stream.end('no');
});
srv.listen(Number(process.argv[2] || 0), process.argv[1] || '127.0.0.1', () => console.log('port ' + srv.address().port));
`;

/** HTTP/2 client: argv port plan [[path, count, method?]] concurrency [host]; sends each group with `concurrency` streams
 *  interleaved (method POST unless given); prints "done". */
export const H2C_CLIENT = `
const http2 = require('http2');
const [port, plan, concurrency, host] = process.argv.slice(1);
const c = http2.connect('http://' + (host || '127.0.0.1') + ':' + port);
const one = ([path, method]) => new Promise((resolve, reject) => {
  const r = c.request({ ':method': method || 'POST', ':path': path, 'content-type': 'application/grpc' }, { endStream: false }); // a DELETE ends at once otherwise
  r.on('response', () => {});
  r.on('data', () => {});
  r.on('end', resolve);
  r.on('error', reject);
  r.end(Buffer.from([0, 0, 0, 0, 0]));
});
(async () => {
  const jobs = [];
  for (const [path, count, method] of JSON.parse(plan)) for (let i = 0; i < count; i++) jobs.push([path, method]);
  const n = Number(concurrency || 4);
  for (let i = 0; i < jobs.length; i += n) await Promise.all(jobs.slice(i, i + n).map(one));
  c.close();
  console.log('done');
})().catch((e) => console.log('error ' + e.message));
`;

/** HTTP/2 client over a raw socket whose HPACK indexes every header (as grpc-go's does; nghttp2, Node's own, never
 *  indexes :path): a path is sent in full once, then as a reference to the client's dynamic table, while a per-call
 *  grpc-timeout and a literal-named x-call header add insertions to every request. argv port plan [[path, count, method?]]
 *  concurrency [pad]; each group's HEADERS and DATA frames go out in one write; prints "done N" with the streams ended.
 *  pad: a per-call :authority of that many bytes before :path (pseudo-headers come first), so :path lands past the
 *  kernel's first 256-byte window. */
export const H2_HPACK_CLIENT = `
const net = require('net');
const hpack = require('hpack.js');
const [port, plan, concurrency, pad] = process.argv.slice(1);
const comp = hpack.compressor.create({ table: { size: 4096 } });
const frame = (type, flags, sid, payload) => {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3); h[3] = type; h[4] = flags; h.writeUInt32BE(sid, 5);
  return Buffer.concat([h, payload]);
};
const block = (fields) => { comp.write(fields); const out = []; for (let c; (c = comp.read()) !== null;) out.push(c); return Buffer.concat(out); };
const jobs = [];
for (const [path, count, method] of JSON.parse(plan)) for (let i = 0; i < count; i++) jobs.push([path, method || 'POST']);
const s = net.connect(Number(port), '127.0.0.1');
let buf = Buffer.alloc(0), sid = 1, open = 0, ended = 0, next = 0, call = 0;
const wave = () => {
  if (next >= jobs.length) { console.log('done ' + ended); s.end(); return; }
  const parts = [];
  for (const [path, method] of jobs.slice(next, next + Number(concurrency))) {
    call++;
    const authority = Number(pad || 0) ? String(call).padStart(Number(pad), 'p') : 'localhost';
    parts.push(frame(1, 4, sid, block([
      { name: ':method', value: method }, { name: ':scheme', value: 'http' }, { name: ':authority', value: authority, huffman: false },
      { name: ':path', value: path }, { name: 'content-type', value: 'application/grpc' },
      { name: 'grpc-timeout', value: (1000 + call) + 'm' }, { name: 'x-call', value: String(call), huffman: false },
    ])));
    parts.push(frame(0, 1, sid, Buffer.from([0, 0, 0, 0, 0])));
    sid += 2; open++; next++;
  }
  s.write(Buffer.concat(parts));
};
s.on('connect', () => { s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'), frame(4, 0, 0, Buffer.alloc(0))])); wave(); });
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 9) {
    const len = buf.readUIntBE(0, 3), type = buf[3], flags = buf[4], id = buf.readUInt32BE(5) & 0x7fffffff;
    if (buf.length < 9 + len) break;
    buf = buf.subarray(9 + len);
    if (type === 4 && !(flags & 1)) s.write(frame(4, 1, 0, Buffer.alloc(0)));
    if (type === 0 && len) { const w = Buffer.alloc(4); w.writeUInt32BE(len); s.write(frame(8, 0, 0, w)); } // the connection's window
    if (id && ((type === 0 || type === 1) && (flags & 1) || type === 3)) { ended++; if (--open === 0) wave(); }
  }
});
s.on('error', (e) => console.log('error ' + e.message));
`;

/** HTTP/1 client that sends each request with sendfile(2), so no syscall of its socket has the request's bytes
 *  in a user buffer: argv port count; GET /ok count times on one keep-alive connection, prints "done". */
export const SENDFILE_CLIENT = `
import os, socket, sys, tempfile
port, count = int(sys.argv[1]), int(sys.argv[2])
req = b"GET /ok HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
f = tempfile.TemporaryFile()
f.write(req)
f.flush()
s = socket.create_connection(("127.0.0.1", port))
for _ in range(count):
    os.sendfile(s.fileno(), f.fileno(), 0, len(req))
    buf = b""
    while b"\\r\\n\\r\\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\\r\\n\\r\\n")
    length = next(int(l.split(b":")[1]) for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += s.recv(65536)
s.close()
print("done", flush=True)
`;

/** Python, argv port: three times, waits 300 ms, sends a GET, and reads its response only 300 ms later (a paused Node socket would still read into its own buffer); prints "done". */
export const LATE_READER = `
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
for _ in range(3):
    time.sleep(0.3)
    s.sendall(b'GET /ok HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
    time.sleep(0.3)
    assert s.recv(65536).startswith(b'HTTP/1.1 200')
s.close()
print('done', flush=True)
`;
