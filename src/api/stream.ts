// WebSocket /api/v1/stream: a full snapshot on connect, then only what changed.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { ApiSource } from './server.js';
import type { StreamMessage } from '../graph/types.js';
import { onlyKnown, parseGraphFilter, GRAPH_PARAMS } from './params.js';
import { GRAPH_DEFAULTS } from '../config/defaults.js';

export function attachStream(app: FastifyInstance, agent: ApiSource): void {
  app.get('/api/v1/stream', { websocket: true }, (socket: WebSocket, req) => {
    const query = (req.query ?? {}) as Record<string, unknown>;
    let filter;
    try {
      onlyKnown(query, GRAPH_PARAMS);
      filter = parseGraphFilter(query);
    } catch (e) {
      socket.send(JSON.stringify({ type: 'error', message: (e as Error).message }));
      socket.close(1008, 'bad parameters');
      return;
    }
    const send = (m: StreamMessage) => { if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m)); };
    let version = agent.graph.currentVersion;
    send({ type: 'snapshot', graph: agent.graph.snapshot(filter), agent: agent.status() });
    const timer = setInterval(() => {
      if (socket.bufferedAmount > 4 << 20) return; // a slow reader gets fewer, larger deltas
      const { delta, version: v } = agent.graph.changesSince(version, filter);
      version = v;
      if (delta.nodes.length || delta.edges.length || delta.removedNodes.length || delta.removedEdges.length) {
        send({ type: 'delta', delta, agent: agent.status() });
      }
    }, GRAPH_DEFAULTS.streamIntervalMs);
    socket.on('close', () => clearInterval(timer));
    socket.on('error', () => clearInterval(timer));
  });
}
