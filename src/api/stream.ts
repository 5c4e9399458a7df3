// WebSocket /api/v1/stream: a full snapshot on connect, then only what changed (an edge whose only news is
// traffic at most every GRAPH_DEFAULTS.streamTrafficMs: stream-pace.ts).
//
// Bounded per client and in number:
// - at most maxClients at once; one more is closed with 1013 (try again later) and a reason;
// - a ping follows every message (and goes out every pingInterval when idle), and its pong
//   confirms that the client has read everything sent before it (its payload is random: a
//   client cannot answer one it has not read). Bytes sent and not yet
//   confirmed are the client's backlog, wherever they sit (our buffer, the kernel's send
//   queue, the network, the client's receive queue). Above windowBytes no delta is sent;
//   changes merge into the next one, so a slow reader gets fewer, larger deltas and a client
//   that stops reading holds at most windowBytes plus one message;
// - a ping left unanswered for pongTimeout (a dead peer, or one that does not read) drops the
//   client: a close frame with the reason, then a TCP reset, which frees the kernel's buffers.
import crypto from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import client from 'prom-client';
import { counterFromTotals } from './prom.js';
import type { StreamMessage } from '../graph/types.js';
import type { ApiSource } from './source.js';
import { onlyKnown, parseGraphFilter, GRAPH_PARAMS } from './params.js';
import { EdgePacer } from './stream-pace.js';
import { API_DEFAULTS, GRAPH_DEFAULTS } from '../config/defaults.js';

export interface StreamOptions {
  maxClients?: number;
  pingIntervalMs?: number;
  windowBytes?: number;
  /** Self-metrics of the stream are added here. */
  registry?: client.Registry;
}

export interface StreamStats {
  clients: number;
  maxClients: number;
  /** Bytes sent to all clients and not yet confirmed by their pongs. */
  backlogBytes: number;
  /** Clients turned away or dropped, by reason. */
  dropped: { overCapacity: number; noPong: number; badParameters: number };
}

/** Close codes: 1013 is the standard "try again later"; 4008 is ours (4000-4999 are the application's). */
export const CLOSE_OVER_CAPACITY = 1013;
export const CLOSE_NO_PONG = 4008;

export function attachStream(app: FastifyInstance, source: ApiSource, opts: StreamOptions = {}): { stats(): StreamStats } {
  const maxClients = opts.maxClients ?? API_DEFAULTS.maxStreamClients;
  const pingIntervalMs = opts.pingIntervalMs ?? API_DEFAULTS.streamPingIntervalMs;
  const pongTimeoutMs = pingIntervalMs * API_DEFAULTS.streamPongTimeoutFactor;
  const windowBytes = opts.windowBytes ?? API_DEFAULTS.streamWindowBytes;
  const backlogs = new Map<WebSocket, () => number>();
  const dropped = { overCapacity: 0, noPong: 0, badParameters: 0 };
  const stats = (): StreamStats => {
    let backlogBytes = 0;
    for (const b of backlogs.values()) backlogBytes += b();
    return { clients: backlogs.size, maxClients, backlogBytes, dropped: { ...dropped } };
  };

  app.route({
    method: 'GET',
    url: '/api/v1/stream',
    handler: (_req, reply) => reply.code(426).header('Upgrade', 'websocket')
      .send({ error: 'upgrade_required', message: '/api/v1/stream is a WebSocket: connect with ws:// or wss:// (Upgrade: websocket)' }),
    wsHandler: (socket: WebSocket, req) => {
      const tcp = req.raw.socket as Socket;
      if (backlogs.size >= maxClients) {
        dropped.overCapacity++;
        socket.close(CLOSE_OVER_CAPACITY, `too many stream clients (at most ${maxClients}); try again later`);
        return;
      }
      const query = (req.query ?? {}) as Record<string, unknown>;
      let filter;
      try {
        onlyKnown(query, GRAPH_PARAMS);
        filter = parseGraphFilter(query);
      } catch (e) {
        dropped.badParameters++;
        socket.send(JSON.stringify({ type: 'error', message: (e as Error).message }));
        socket.close(1008, 'bad parameters');
        return;
      }

      let sent = 0; // bytes handed to the socket
      let acked = 0; // bytes the client has confirmed by a pong
      // A pong proves the client read all before its ping only if it could not have guessed the payload: a random one.
      let ping: { nonce: Buffer; at: number; bytes: number } | null = null;
      let lastPingAt = Date.now();
      const open = () => socket.readyState === socket.OPEN;
      const sendPing = () => {
        if (ping || !open()) return;
        ping = { nonce: crypto.randomBytes(8), at: Date.now(), bytes: sent };
        lastPingAt = ping.at;
        socket.ping(ping.nonce);
      };
      const send = (m: StreamMessage) => {
        if (!open()) return;
        const text = JSON.stringify(m);
        sent += Buffer.byteLength(text);
        socket.send(text);
        sendPing();
      };
      socket.on('pong', (data: Buffer) => {
        if (!ping || !data.equals(ping.nonce)) return;
        acked = ping.bytes;
        ping = null;
        if (sent > acked) sendPing();
      });
      backlogs.set(socket, () => sent - acked);

      let version = source.graph.currentVersion;
      const pacer = new EdgePacer(GRAPH_DEFAULTS.streamTrafficMs);
      const first = source.graph.snapshot(filter);
      pacer.sentAll(first.edges, Date.now());
      send({ type: 'snapshot', graph: first, agent: source.status() });
      const timer = setInterval(() => {
        const now = Date.now();
        if (ping && now - ping.at > pongTimeoutMs) {
          dropped.noPong++;
          clearInterval(timer);
          socket.close(CLOSE_NO_PONG, `no pong within ${pongTimeoutMs / 1000} s: the client is not reading`);
          // Whoever does not read will not answer the close frame either: reset, so the kernel frees its queues now.
          setTimeout(() => { if (!tcp.destroyed) tcp.resetAndDestroy(); }, 1000).unref();
          return;
        }
        if (!ping && now - lastPingAt >= pingIntervalMs) sendPing();
        if (sent - acked > windowBytes) return; // changes merge into the next delta
        const { delta, version: v } = source.graph.changesSince(version, filter);
        version = v;
        delta.edges = pacer.pick(delta.edges, delta.removedEdges, now);
        if (delta.nodes.length || delta.edges.length || delta.removedNodes.length || delta.removedEdges.length) {
          send({ type: 'delta', delta, agent: source.status() });
        }
      }, GRAPH_DEFAULTS.streamIntervalMs);
      const done = () => { clearInterval(timer); backlogs.delete(socket); };
      socket.on('close', done);
      socket.on('error', done);
    },
  });

  if (opts.registry) {
    const reg = opts.registry;
    new client.Gauge({ name: 'dhrishti_stream_clients', help: 'WebSocket /api/v1/stream clients connected', registers: [reg], collect() { this.set(backlogs.size); } });
    new client.Gauge({ name: 'dhrishti_stream_backlog_bytes', help: 'Bytes sent to stream clients and not yet confirmed by their pongs', registers: [reg], collect() { this.set(stats().backlogBytes); } });
    counterFromTotals(reg, 'dhrishti_stream_dropped_total', 'Stream clients turned away or dropped, by reason', ['reason'], () => [
      [{ reason: 'over_capacity' }, dropped.overCapacity], [{ reason: 'no_pong' }, dropped.noPong], [{ reason: 'bad_parameters' }, dropped.badParameters],
    ]);
  }
  return { stats };
}
