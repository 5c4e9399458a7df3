// Raw HTTP for security tests: the path goes out byte for byte (no URL normalisation,
// unlike fetch), and WebSocket handshakes are plain upgrade requests.
import http from 'node:http';
import crypto from 'node:crypto';
import type { Socket } from 'node:net';

export interface RawAnswer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** Sends `method path` to base (http://host:port) as written; resolves with the whole answer. */
export function rawRequest(base: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path, headers: opts.headers, agent: false, insecureHTTPParser: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(15000, () => req.destroy(new Error(`no answer to ${opts.method ?? 'GET'} ${path.slice(0, 120)} within 15 s`)));
    req.on('error', reject);
    req.end();
  });
}

export interface Handshake {
  /** 101 when the server upgraded, else the HTTP status it answered. */
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The upgraded socket (101 only); the caller reads, or does not, and destroys it. */
  socket?: Socket;
  /** Bytes that arrived with the 101 (the start of the first frame). */
  head?: Buffer;
}

/** A WebSocket opening handshake for `path`, sent as written. */
export function wsHandshake(base: string, path: string, headers: Record<string, string> = {}): Promise<Handshake> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, path, agent: false,
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...headers,
      },
    });
    req.setTimeout(15000, () => req.destroy(new Error(`no answer to the upgrade of ${path.slice(0, 120)} within 15 s`)));
    req.on('upgrade', (res, socket, head) => { req.setTimeout(0); resolve({ status: res.statusCode ?? 101, headers: res.headers, body: '', socket, head }); });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads unmasked server frames from an upgraded socket until one text frame is complete. */
export function firstTextFrame(socket: Socket, head: Buffer = Buffer.alloc(0), ms = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = head;
    const t = setTimeout(() => { cleanup(); reject(new Error(`no text frame within ${ms} ms`)); }, ms);
    const cleanup = () => { clearTimeout(t); socket.off('data', onData); socket.off('close', onClose); };
    const onClose = () => { cleanup(); reject(new Error('socket closed before a text frame')); };
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 1) { cleanup(); resolve(payload.toString('utf8')); return; }
        if (op === 8) { cleanup(); reject(new Error(`closed: ${payload.length >= 2 ? payload.readUInt16BE(0) : ''} ${payload.subarray(2).toString()}`)); return; }
      }
    };
    const onData = (c: Buffer) => { buf = Buffer.concat([buf, c]); parse(); };
    socket.on('data', onData);
    socket.on('close', onClose);
    parse();
  });
}

/** The agent's own route table (gathered by fastify's onRoute hook), from /api/v1/routes. */
export interface RouteRow { method: string; url: string; public: boolean; websocket: boolean }
export async function routeTable(base: string, token?: string): Promise<RouteRow[]> {
  const r = await rawRequest(base, '/api/v1/routes', { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (r.status !== 200) throw new Error(`/api/v1/routes answered ${r.status}: ${r.body}`);
  return (JSON.parse(r.body) as { routes: RouteRow[] }).routes;
}

/** Does this body look like a stack trace or an internal path? */
export function leaksInternals(body: string): boolean {
  return /\bat [^\s()]+ \([^\s()]+:\d+:\d+\)|\n\s+at \S|node:internal|\/dist\/src\/|\/node_modules\//.test(body);
}
