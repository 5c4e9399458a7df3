// Runs the real `dhrishti run` as a child process on a free port, and talks to its API.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Child } from './children.js';
import { REPO_ROOT } from '../../src/config/defaults.js';
import type { GraphSnapshot } from '../../src/graph/types.js';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

export interface RunningAgent { child: Child; url: string; port: number; stop(): Promise<void> }

/** Starts `dhrishti run`; history goes to a temp folder (removed on stop) unless args name one. */
export async function startAgent(args: string[] = [], fixedPort?: number): Promise<RunningAgent> {
  const port = fixedPort ?? await freePort();
  const own = args.includes('--data-dir') || args.includes('--no-history') ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-data-'));
  const child = start(path.join(REPO_ROOT, 'dhrishti'), ['run', '--port', String(port), ...(own ? ['--data-dir', own] : []), ...args]);
  await child.waitFor(/API on http/, 30000);
  return {
    child, port, url: `http://127.0.0.1:${port}`,
    async stop() { await child.stop(); if (own) fs.rmSync(own, { recursive: true, force: true }); },
  };
}

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls the graph until `pred` holds (or fails after `ms` with the last graph in the message). */
export async function waitForGraph(url: string, pred: (g: GraphSnapshot) => boolean, what: string, ms = 15000): Promise<GraphSnapshot> {
  const deadline = Date.now() + ms;
  let last: GraphSnapshot | null = null;
  while (Date.now() < deadline) {
    last = (await getJson<GraphSnapshot>(url)).body;
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  const shown = last?.edges.map((e) => `${e.id} ${JSON.stringify({ ...e.connections, requests: e.requests?.map((r) => ({ protocol: r.protocol, count: r.count, status: r.status })) })}`);
  throw new Error(`timed out waiting for ${what}; edges:\n${shown?.join('\n')}`);
}
