// HTTP and WebSocket API, and the web UI, on one port (default 127.0.0.1:7979).
// Access rules (Host, Origin, token) are in auth.ts; every answer that is not a 2xx is JSON
// {error, message}; every route is listed at /api/v1/routes, gathered as fastify registers it.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { negotiate } from '@fastify/accept-negotiator';
import websocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import net from 'node:net';
import client from 'prom-client';
import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ApiSource } from './source.js';
export type { ApiSource, GraphView } from './source.js';
import { BadRequest, onlyKnown, parseGraphFilter, GRAPH_PARAMS, GRAPH_HISTORY_PARAMS } from './params.js';
import { checkExposure, installAccess, PUBLIC_ROUTE, tokenMatches, type Remedies } from './auth.js';
import { installSecurityHeaders, rawSecurityHeaders } from './headers.js';
import { attachStream, type StreamOptions } from './stream.js';
import { AgentRegistry } from './metrics.js';
import { API_DEFAULTS, DEFAULTS, REPO_ROOT } from '../config/defaults.js';

const gzip = promisify(zlib.gzip);

const OTHER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

export interface ApiOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Host header names accepted besides this agent's own (--allow-host). */
  allowHosts?: string[];
  /** Origins of other pages allowed to use the API (--allow-origin). */
  allowOrigins?: string[];
  /** The serving command's flags named in refusals (default: the agent's). */
  remedies?: Remedies;
  /** Folder of the built web UI (default src/ui/dist). */
  uiDir?: string;
  /** Served at /metrics (the source's self-metrics); the stream adds its own. */
  registry?: client.Registry;
  stream?: Omit<StreamOptions, 'registry'>;
}


/** Extra routes (history) register here without the server knowing them. */
export type RoutePlugin = (app: FastifyInstance) => void | Promise<void>;

/** A plugin that serves the map at past times decorates the app with this; /api/v1/graph with at, from or to goes to it. */
/** The past's map, and (an agent's history store; not the hub) an edge's or node's detail of the past. */
export interface GraphHistory {
  graph(query: Record<string, unknown>): unknown;
  edge?(id: string, query: Record<string, unknown>): unknown;
  node?(id: string, query: Record<string, unknown>): unknown;
}
export const GRAPH_HISTORY = 'graphHistory';

/** One row of /api/v1/routes. */
export interface RouteInfo { method: string; url: string; public: boolean; websocket: boolean }

/** "payload_too_large" for 413, and so on: the error code of a status fastify itself answers. */
const errorCode = (status: number) => (http.STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '_');

const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** A listen failure in words: a port in use, an address this host lacks. */
function listenError(e: unknown, host: string, port: number): Error {
  const code = (e as { code?: string }).code;
  if (code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is in use (another dhrishti?); choose another with --port`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new Error(`cannot listen on ${host}: no such address on this host (${code}); --host takes an address of this host`);
  return e as Error;
}

/** Tries the address before anything else starts (probes take seconds to load): the same words as startApi's. */
export async function checkListen(host: string, port: number): Promise<void> {
  const s = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen({ host, port }, () => resolve()); });
  } catch (e) {
    throw listenError(e, host, port);
  } finally {
    await new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
  }
}

export async function startApi(source: ApiSource, opts: ApiOptions = {}, plugins: RoutePlugin[] = []): Promise<{ app: FastifyInstance; url: string }> {
  const host = opts.host ?? DEFAULTS.apiHost;
  const port = opts.port ?? DEFAULTS.apiPort;
  const token = opts.token || undefined;
  checkExposure(host, token, opts.remedies);
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: API_DEFAULTS.maxParamLength },
    // Malformed paths (bad percent-encoding) are answered before routing: in our shape too.
    frameworkErrors: (err, _req, reply) => { (reply as FastifyReply).code(400).send({ error: 'bad_request', message: clip(err.message) }); },
    // Requests too malformed for HTTP parsing never reach fastify: answer JSON all the same.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify({ error: errorCode(status), message: status === 431 ? 'request line and headers are too large' : 'malformed HTTP request' });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${rawSecurityHeaders()}Connection: close\r\n\r\n${body}`);
    },
  });

  // Kept as registered and read when asked: hooks that run later (the UI's) still mark their routes public.
  const registered: { method: string | string[]; url: string; config?: unknown; wsHandler?: unknown }[] = [];
  app.addHook('onRoute', (r) => {
    if (typeof (r as { wsHandler?: unknown }).wsHandler === 'function') r.config = { ...(r.config as object), websocket: true };
    registered.push(r);
  });
  const routes = (): RouteInfo[] => registered.flatMap((r) => [r.method].flat().map((method) => ({
    method, url: r.url, public: (r.config as { public?: boolean } | undefined)?.public === true, websocket: method === 'GET' && (r.config as { websocket?: boolean } | undefined)?.websocket === true,
  })));
  installAccess(app, { host, token, allowHosts: opts.allowHosts, allowOrigins: opts.allowOrigins, remedies: opts.remedies });
  // A refused WebSocket handshake is answered on the bare socket the upgrade handed over, which no HTTP parser
  // owns any more: close it once the answer is out. (@fastify/websocket's own close runs only for requests that got
  // past its onRequest hook, registered after the access checks.) Left open, each would linger and hold up a stop.
  app.addHook('onResponse', async (req) => {
    if (/^websocket$/i.test(req.headers.upgrade ?? '') && !req.raw.socket?.destroyed) req.raw.socket?.destroy();
  });
  installSecurityHeaders(app);
  // Only the stream upgrades: a WebSocket handshake to any other route (a UI file, health) is refused, not opened and closed.
  app.addHook('onRequest', async (req, reply) => {
    if (/^websocket$/i.test(req.headers.upgrade ?? '') && !(req.routeOptions.config as { websocket?: boolean } | undefined)?.websocket && !req.is404) {
      return reply.code(400).send({ error: 'not_websocket', message: `${req.routeOptions.url} is not a WebSocket; the stream is /api/v1/stream` });
    }
  });
  // closeTimeout (ws 8.18) is missing from @types/ws: how long a closed client has to answer before its socket goes.
  const wsOptions = { maxPayload: 64 * 1024, closeTimeout: API_DEFAULTS.streamCloseTimeoutMs } as { maxPayload: number };
  await app.register(websocket, { options: wsOptions });

  app.setErrorHandler((err: Error, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', message: err.message });
    const code = (err as { statusCode?: number }).statusCode;
    if (code && code >= 400 && code < 500) return reply.code(code).send({ error: errorCode(code), message: clip(err.message) });
    // A part that cannot answer for now (the history store with a damaged or unreadable file) says why.
    if (code === 503) return reply.code(503).send({ error: (err as { error?: string }).error ?? 'unavailable', message: clip(err.message) });
    reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  // A path the router knows under another method is a 405 with Allow (RFC 9110), not a 404.
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const allow = OTHER_METHODS.filter((m) => m !== req.method && app.findRoute({ method: m, url: path }));
    if (allow.length) {
      return reply.code(405).header('allow', allow.join(', ')).send({ error: 'method_not_allowed', message: clip(`${req.method} is not allowed on ${path}: use ${allow.join(' or ')}`) });
    }
    reply.code(404).send({ error: 'not_found', message: clip(`no route ${req.method} ${path}`) });
  });

  const q = (req: { query: unknown }) => (req.query ?? {}) as Record<string, unknown>;
  const graph = source.graph;

  // 503 while the source cannot serve its map (a load balancer or a probe then knows). The reason names what is behind
  // (the hub's Prometheus and its error): given only to a caller with the token, when one is required.
  app.get('/api/v1/health', { config: PUBLIC_ROUTE }, async (req, reply) => {
    const h = source.health?.();
    if (!h || h.ok) return { status: 'ok' };
    return reply.code(503).send({ status: 'unavailable', ...(!token || tokenMatches(req, token) ? { message: clip(h.message ?? 'unavailable') } : {}) });
  });
  app.get('/api/v1/routes', async (req) => {
    onlyKnown(q(req), ['token']);
    return { routes: routes() };
  });
  const registry = opts.registry ?? source.metrics?.() ?? new client.Registry();
  const stream = attachStream(app, source, { ...opts.stream, registry });
  app.get('/api/v1/agent', async (req) => {
    onlyKnown(q(req), ['token']);
    return { ...source.telemetry(), stream: stream.stats() };
  });
  app.get('/api/v1/graph', async (req, reply) => {
    if (GRAPH_HISTORY_PARAMS.some((k) => Object.hasOwn(q(req), k))) {
      if (!app.hasDecorator(GRAPH_HISTORY)) throw new BadRequest('at, from and to need the history store, which is off on this agent');
      return (app as unknown as Record<string, GraphHistory>)[GRAPH_HISTORY].graph(q(req));
    }
    onlyKnown(q(req), [...GRAPH_PARAMS, ...GRAPH_HISTORY_PARAMS]); // history ones were routed above
    const filter = parseGraphFilter(q(req));
    const json = graph.snapshotJson?.(filter);
    return json ? reply.type('application/json; charset=utf-8').send(json) : graph.snapshot(filter);
  });
  /** A detail of the past (at, or from and to), from the history store. */
  const historyDetail = (kind: 'edge' | 'node', id: string, query: Record<string, unknown>) => {
    const h = app.hasDecorator(GRAPH_HISTORY) ? (app as unknown as Record<string, GraphHistory>)[GRAPH_HISTORY] : null;
    if (!h) throw new BadRequest('at, from and to need the history store, which is off on this agent');
    const fn = h[kind];
    if (!fn) throw new BadRequest(`at, from and to on /api/v1/${kind}s/:id are answered by an agent's history store, not here`);
    return fn(id, query);
  };
  const past = (req: { query: unknown }) => GRAPH_HISTORY_PARAMS.some((k) => Object.hasOwn(q(req), k));
  app.get<{ Params: { id: string } }>('/api/v1/nodes/:id', async (req, reply) => {
    if (past(req)) return historyDetail('node', req.params.id, q(req));
    onlyKnown(q(req), ['token']);
    return (await graph.nodeDetail(req.params.id)) ?? reply.code(404).send({ error: 'not_found', message: clip(`no node ${req.params.id}`) });
  });
  app.get<{ Params: { id: string } }>('/api/v1/edges/:id', async (req, reply) => {
    if (past(req)) return historyDetail('edge', req.params.id, q(req));
    onlyKnown(q(req), ['token']);
    return (await graph.edgeDetail(req.params.id)) ?? reply.code(404).send({ error: 'not_found', message: clip(`no edge ${req.params.id}`) });
  });
  app.get('/api/v1/clients', async (req) => {
    onlyKnown(q(req), ['token']);
    const clients = graph.remoteClients();
    const folded = graph.counters?.foldedClientConnections ?? 0;
    const limit = graph.clientLimit ?? null;
    // The list stops at the cap; connections from further clients are counted, not listed.
    return { clients, limit, capped: folded > 0 || (limit !== null && clients.length >= limit), foldedConnections: folded };
  });
  app.get('/metrics', async (req, reply) => {
    onlyKnown(q(req), ['token']);
    reply.type(registry.contentType).header('Vary', 'Accept-Encoding');
    // Prometheus asks for gzip: edge metrics' repetitive text shrinks ~50x, on worker threads, and only the rows that moved.
    // The agent's registry keeps compressed bytes per chunk of rows, and writes plain text as bytes, never one large string.
    const agentRegistry = registry instanceof AgentRegistry ? registry : null;
    if (negotiate(String(req.headers['accept-encoding'] ?? ''), ['gzip', 'identity']) === 'gzip') { // "gzip;q=0" refuses it
      const body = agentRegistry ? await agentRegistry.gzipped() : await gzip(await registry.metrics(), { level: 1 });
      return reply.header('Content-Encoding', 'gzip').send(body);
    }
    return reply.send(agentRegistry ? await agentRegistry.plain() : await registry.metrics());
  });
  for (const p of plugins) await p(app);

  const uiDir = opts.uiDir ?? path.join(REPO_ROOT, 'src', 'ui', 'dist');
  if (fs.existsSync(path.join(uiDir, 'index.html'))) {
    // One route per file that exists at start (no wildcard): any other path is a 404, never a file.
    await app.register(async (ui) => {
      ui.addHook('onRoute', (r) => { r.config = { ...(r.config as object), ...PUBLIC_ROUTE }; });
      await ui.register(fastifyStatic, { root: uiDir, index: 'index.html', wildcard: false });
    });
  }

  try {
    await app.listen({ host, port });
  } catch (e) {
    throw listenError(e, host, port);
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { app, url: `http://${shown}:${bound}` };
}
