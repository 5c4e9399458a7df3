// HTTP and WebSocket API, and the web UI, on one port (default 127.0.0.1:7979).
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../agent/agent.js';
import type { LiveGraph } from '../graph/live-graph.js';
import type { AgentStatus } from '../graph/types.js';
import type { Registry } from 'prom-client';
import { BadRequest, onlyKnown, parseGraphFilter, GRAPH_PARAMS, GRAPH_HISTORY_PARAMS } from './params.js';
import { isLoopbackHost, tokenMatches } from './auth.js';
import { agentRegistry } from './metrics.js';
import { attachStream } from './stream.js';
import { DEFAULTS, REPO_ROOT } from '../config/defaults.js';

export interface ApiOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Folder of the built web UI (default src/ui/dist). */
  uiDir?: string;
}

/** What the API serves: the agent, or anything with the same reading methods (the hub). */
export interface ApiSource {
  graph: Pick<LiveGraph, 'snapshot' | 'changesSince' | 'currentVersion' | 'nodeDetail' | 'edgeDetail' | 'remoteClients'>;
  telemetry(): unknown;
  status(): AgentStatus;
  /** Its own /metrics registry (the agent's is built from the agent). */
  metrics?(): Registry;
}

/** Extra routes (history) register here without the server knowing them. */
export type RoutePlugin = (app: FastifyInstance) => void | Promise<void>;

/** A plugin that serves the map at past times decorates the app with this; /api/v1/graph with at, from or to goes to it. */
export interface GraphHistory { graph(query: Record<string, unknown>): unknown }
export const GRAPH_HISTORY = 'graphHistory';

export async function startApi(agent: ApiSource, opts: ApiOptions = {}, plugins: RoutePlugin[] = []): Promise<{ app: FastifyInstance; url: string }> {
  const host = opts.host ?? DEFAULTS.apiHost;
  const port = opts.port ?? DEFAULTS.apiPort;
  const token = opts.token || undefined;
  if (!isLoopbackHost(host) && !token) {
    throw new Error(`refusing to listen on ${host} without a token: anyone who can reach it would see this host's traffic; pass --token or set DHRISHTI_TOKEN`);
  }
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  app.setErrorHandler((err: Error, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', message: err.message });
    const code = (err as { statusCode?: number }).statusCode;
    if (code && code >= 400 && code < 500) return reply.code(code).send({ error: 'bad_request', message: err.message });
    if (code === 503) return reply.code(503).send({ error: 'unavailable', message: err.message });
    reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  if (token) {
    app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith('/api/') && !req.url.startsWith('/metrics')) return; // the UI's static files carry no data
      if (!tokenMatches(req, token)) return reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong token' });
    });
  }

  const q = (req: { query: unknown }) => (req.query ?? {}) as Record<string, unknown>;

  app.get('/api/v1/health', async () => ({ status: 'ok' }));
  app.get('/api/v1/agent', async () => agent.telemetry());
  app.get('/api/v1/graph', async (req) => {
    if (GRAPH_HISTORY_PARAMS.some((k) => k in q(req))) {
      if (!app.hasDecorator(GRAPH_HISTORY)) throw new BadRequest('at, from and to need the history store, which is off on this agent');
      return (app as unknown as Record<string, GraphHistory>)[GRAPH_HISTORY].graph(q(req));
    }
    onlyKnown(q(req), [...GRAPH_PARAMS, ...GRAPH_HISTORY_PARAMS]); // history ones were routed above
    return agent.graph.snapshot(parseGraphFilter(q(req)));
  });
  app.get<{ Params: { id: string } }>('/api/v1/nodes/:id', async (req, reply) => {
    onlyKnown(q(req), ['token']);
    return agent.graph.nodeDetail(req.params.id) ?? reply.code(404).send({ error: 'not_found', message: `no node ${req.params.id}` });
  });
  app.get<{ Params: { id: string } }>('/api/v1/edges/:id', async (req, reply) => {
    onlyKnown(q(req), ['token']);
    return agent.graph.edgeDetail(req.params.id) ?? reply.code(404).send({ error: 'not_found', message: `no edge ${req.params.id}` });
  });
  app.get('/api/v1/clients', async (req) => {
    onlyKnown(q(req), ['token']);
    return { clients: agent.graph.remoteClients() };
  });
  const registry = agent.metrics?.() ?? agentRegistry(agent as Agent);
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  attachStream(app, agent);
  for (const p of plugins) await p(app);

  const uiDir = opts.uiDir ?? path.join(REPO_ROOT, 'src', 'ui', 'dist');
  if (fs.existsSync(path.join(uiDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: uiDir, index: 'index.html' });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) return reply.sendFile('index.html');
      reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
    });
  }

  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { app, url: `http://${shown}:${bound}` };
}
