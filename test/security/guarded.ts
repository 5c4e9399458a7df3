// The agent the matrix and the fuzzer attack: `dhrishti run --token-file` with history on,
// and some loopback traffic so that the map has nodes and edges for the parametric routes.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startAgent, type RunningAgent } from '../support/agent.js';
import { rawRequest, routeTable, type RouteRow } from '../support/http.js';
import { until } from '../support/wait.js';

export interface Guarded {
  agent: RunningAgent;
  token: string;
  routes: RouteRow[];
  nodes: string[];
  edges: string[];
  stop(): Promise<void>;
}

export async function startGuarded(token: string): Promise<Guarded> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-guarded-'));
  fs.writeFileSync(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const traffic = http.createServer((_q, s) => s.end('ok'));
  let agent: RunningAgent | undefined;
  let poke: NodeJS.Timeout | undefined;
  const stop = async () => {
    clearInterval(poke);
    traffic.close();
    await agent?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    agent = await startAgent(['--no-docker', '--flush-interval', '1s', '--token-file', path.join(dir, 'token')]);
    await new Promise<void>((r) => traffic.listen(0, '127.0.0.1', () => r()));
    const port = (traffic.address() as { port: number }).port;
    poke = setInterval(() => http.get({ host: '127.0.0.1', port, agent: false }, (r) => r.resume()).on('error', () => {}), 100);
    const a = agent;
    const g = await until('an edge on the map', async () => {
      const r = await rawRequest(a.url, '/api/v1/graph?include=host,external,clients', { headers: { Authorization: `Bearer ${token}` } });
      const j = JSON.parse(r.body) as { nodes: { id: string }[]; edges: { id: string }[] };
      return j.edges.length ? j : undefined;
    });
    return { agent, token, routes: await routeTable(agent.url, token), nodes: g.nodes.map((n) => n.id), edges: g.edges.map((e) => e.id), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
