// A stand-in for the agent's API, for the UI render benchmark and UI development:
// serves the built UI (src/ui/dist, SPA fallback) and the same endpoints as the real
// API (/api/v1/...), fed by a SyntheticGraph that changes on a timer. Loopback only.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentStatus, StreamMessage } from '../../src/graph/types.js';
import { SyntheticGraph, type SyntheticOptions } from './synthetic-graph.js';

export interface UiServerOptions extends SyntheticOptions {
  uiDir: string;
  deltaIntervalMs: number;
  host?: string;
  port?: number;
  /** When set, every request needs `Authorization: Bearer <token>` (WebSocket: `?token=`), like a non-loopback agent. */
  token?: string;
  /** Headers sent with every answer (e.g. the agent's Content-Security-Policy, to check the UI lives with it). */
  headers?: Record<string, string>;
}

export interface UiServer {
  url: string;
  port: number;
  graph: SyntheticGraph;
  /** Deltas sent so far. */
  deltas(): number;
  /** Stops or restarts the timed deltas. */
  pause(paused: boolean): void;
  /** Sends a delta now (e.g. one adding a node) outside the timer. */
  broadcast(msg: StreamMessage): void;
  agent(): AgentStatus;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.map': 'application/json',
};

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const index = path.join(o.uiDir, 'index.html');
  if (!fs.existsSync(index)) throw new Error(`the web UI is not built (${index} missing); run: npm run build`);
  const graph = new SyntheticGraph(o);
  let sent = 0;
  const agent = (): AgentStatus => ({ eventsPerSec: 1800 + Math.round(Math.random() * 400), lostEvents: 0, identityMisses: 3, uptimeSec: Math.round((Date.now() - graph.startedAt) / 1000) + 3600 });

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-store' });
    res.end(data);
  };

  const api = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    if (o.token && req.headers.authorization !== `Bearer ${o.token}`) return json(res, 401, { error: 'Unauthorized', message: 'a token is required' });
    const p = url.pathname.slice('/api/v1'.length);
    if (p === '/graph') return json(res, 200, graph.snapshot());
    if (p === '/clients') return json(res, 200, { clients: graph.clients() });
    if (p === '/agent') return json(res, 200, { ...agent(), cpuPercent: 1.7, rssBytes: 96 * 1024 * 1024, probes: [] });
    let m = p.match(/^\/nodes\/(.+)$/);
    if (m) { const d = graph.nodeDetail(decodeURIComponent(m[1])); return d ? json(res, 200, d) : json(res, 404, { error: 'Not Found', message: 'no such node' }); }
    m = p.match(/^\/edges\/(.+)$/);
    if (m) { const d = graph.edgeDetail(decodeURIComponent(m[1])); return d ? json(res, 200, d) : json(res, 404, { error: 'Not Found', message: 'no such edge' }); }
    return json(res, 404, { error: 'Not Found', message: `no route ${p}` });
  };

  const serveFile = (res: http.ServerResponse, pathname: string) => {
    const rel = path.normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
    let file = path.join(o.uiDir, rel);
    if (!file.startsWith(o.uiDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = index; // SPA fallback
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    for (const [k, v] of Object.entries(o.headers ?? {})) res.setHeader(k, v);
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'Method Not Allowed' });
      if (url.pathname.startsWith('/api/v1/')) return api(req, res, url);
      serveFile(res, url.pathname);
    } catch (e) {
      json(res, 500, { error: 'Internal Server Error', message: (e as Error).message });
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/v1/stream' || (o.token && url.searchParams.get('token') !== o.token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const msg: StreamMessage = { type: 'snapshot', graph: graph.snapshot(), agent: agent() };
      ws.send(JSON.stringify(msg));
    });
  });

  const broadcast = (msg: StreamMessage) => {
    const data = JSON.stringify(msg);
    for (const c of wss.clients as Set<WebSocket>) if (c.readyState === c.OPEN) c.send(data);
  };
  let paused = false;
  const timer = setInterval(() => {
    if (paused) return;
    broadcast({ type: 'delta', delta: graph.step(), agent: agent() });
    sent++;
  }, o.deltaIntervalMs);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${addr.port}/`,
    port: addr.port,
    graph,
    deltas: () => sent,
    pause: (p) => { paused = p; },
    broadcast,
    agent,
    async close() {
      clearInterval(timer);
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
