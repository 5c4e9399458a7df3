// Overhead under HTTP load on loopback: wrk against nginx (one worker) with
// no observer, with the product (`dhrishti run`), with the engine alone, and
// with a bpftrace peer, and with empty programs on the per-call tracepoints
// (the floor of any per-call design), in keep-alive and connection-per-request modes,
// interleaved round by round with a no-observer turn on each side of every
// observer (lib/baseline.ts); plus each observer's own CPU time from /proc.
import { cpuTimeMs } from './lib/children.js';
import { runWrk, type LoadMode, type WrkResult } from './lib/wrk.js';
import { EngineProcess, ProductAgent, type AgentSummary, type Observed } from './lib/agent.js';
import { BpftracePeer, type PeerSummary } from './lib/bpftrace-peer.js';
import { EmptyHooks } from './lib/empty-hooks.js';
import { startNginx } from './lib/nginx.js';
import { int, pct } from './lib/report.js';
import { backgroundLoad, loadedTracingPrograms } from './lib/host.js';
import { bracketed } from './lib/baseline.js';

export const CONDITIONS = ['none', 'agent', 'engine', 'bpftrace', 'hooks'] as const;
export type Condition = (typeof CONDITIONS)[number];
export const MODES: LoadMode[] = ['keepalive', 'close'];

export interface LoadBenchOptions {
  threads: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** Warm-up of a no-agent turn: it follows another turn's load at once, and has no JIT to warm. */
  baselineWarmupSeconds: number;
  rounds: number;
  conditions: readonly Condition[];
  /** Pin wrk and nginx to their own CPUs (taskset); the observers always float. */
  pinned: boolean;
  wrkCpu: string;
  serverCpu: string;
  /** The engine-only process script (compiled JS), and the node flags the agent and the engine run with. */
  engineScript: string;
  agentNodeFlags: readonly string[];
  /** Extra `dhrishti run` arguments (e.g. --no-l7 --no-dns, to see what a capture costs). */
  agentArgs?: string[];
  /** Run the agent and the engine under `node --cpu-prof`, writing profiles here. */
  profileDir: string | null;
  ticksPerSec: number;
  log: (line: string) => void;
}

export interface LoadSample {
  pinned: boolean;
  /** Order of the condition's turn in the whole run: a run's baseline is the no-agent turn on each side of it. */
  turn: number;
  condition: Condition;
  mode: LoadMode;
  wrk: WrkResult;
  /** CPU time of the observer process during the measured run. */
  observerCpuMs: number | null;
  /** The observer's CPU time while idle for as long as the run (measured over IDLE_SAMPLE_MS, scaled): its cost for other traffic on the host and its timers. */
  observerIdleCpuMs: number | null;
  /** Connections the observer saw close during the run (sockets closed / 2): the benchmark's and any other TCP on the host. */
  tracedConnections: number | null;
}

const IDLE_SAMPLE_MS = 2000;

export interface LoadBenchResult {
  samples: LoadSample[];
  /** Busy share of all CPUs measured for 1 s before each round, with nothing of the benchmark running. */
  backgroundLoad: number[];
  /** BPF tracing programs of other processes found loaded before each round. */
  foreignPrograms: number[];
  observerSummaries: ObserverReport[];
}

/** What an observer reported over its life, beside the TCP sockets the benchmark itself opened and closed meanwhile. */
export interface ObserverReport { condition: Condition; summary: AgentSummary | PeerSummary; benchSockets: number }

interface Observer { pid: number | null; benchSockets: number; stop(): Promise<void>; closes(): Promise<number | null> }

/** Starts a helper process; one that fails to start is stopped (its temp files go) before the error goes on. */
async function started<T extends { start(): Promise<void>; stop(): Promise<unknown> }>(x: T): Promise<T> {
  try {
    await x.start();
  } catch (e) {
    await x.stop();
    throw e;
  }
  return x;
}

async function startObserver(c: Condition, o: LoadBenchOptions, out: LoadBenchResult): Promise<Observer> {
  if (c === 'agent' || c === 'engine') {
    const p: Observed = c === 'agent' ? new ProductAgent(o.agentNodeFlags, o.profileDir, o.agentArgs ?? []) : new EngineProcess(o.engineScript, o.agentNodeFlags, o.profileDir);
    await p.start();
    const obs: Observer = {
      pid: p.pid,
      benchSockets: 0,
      stop: async () => { const s = await p.stop(); if (s) out.observerSummaries.push({ condition: c, summary: s, benchSockets: obs.benchSockets }); },
      closes: () => p.closes(),
    };
    return obs;
  }
  if (c === 'bpftrace') {
    const peer = await started(new BpftracePeer());
    const obs: Observer = {
      pid: peer.pid,
      benchSockets: 0,
      stop: async () => { out.observerSummaries.push({ condition: c, summary: await peer.stop(), benchSockets: obs.benchSockets }); },
      closes: async () => null,
    };
    return obs;
  }
  if (c === 'hooks') {
    const hooks = await started(new EmptyHooks());
    return { pid: hooks.pid, benchSockets: 0, stop: () => hooks.stop(), closes: async () => null };
  }
  return { pid: null, benchSockets: 0, stop: async () => {}, closes: async () => null };
}

export async function runLoadBench(o: LoadBenchOptions, out: LoadBenchResult = { samples: [], backgroundLoad: [], foreignPrograms: [], observerSummaries: [] }): Promise<LoadBenchResult> {
  const server = await startNginx(o.pinned ? o.serverCpu : null);
  const wrkCpu = o.pinned ? o.wrkCpu : null;
  const tag = o.pinned ? 'pinned' : 'unpinned';
  try {
    o.log(`[${tag}] server: nginx, one worker, on ${server.url}${o.pinned ? ` (CPU ${o.serverCpu})` : ''}; wrk -t${o.threads} -c${o.connections} -d${o.seconds}s${o.pinned ? ` on CPU ${o.wrkCpu}` : ''}, ${o.warmupSeconds}s warm-up before each run; observers float`);
    let turn = 0;
    for (let round = 0; round < o.rounds; round++) {
      // Alternate the order so slow drift (thermal, TIME_WAIT build-up) does not favour one condition, and
      // give every observer a no-agent turn on each side (lib/baseline.ts).
      const observers = o.conditions.filter((c) => c !== 'none');
      const order = bracketed(round % 2 === 0 ? observers : [...observers].reverse(), o.conditions.includes('none') ? 'none' : null, round === 0);
      const bg = await backgroundLoad();
      out.backgroundLoad.push(bg);
      o.log(`  [${tag}] round ${round + 1}/${o.rounds}: other processes keep ${pct(bg)} of the CPUs busy${bg > 0.05 ? ' (WARNING: figures will be noisy)' : ''}`);
      const foreign = loadedTracingPrograms();
      out.foreignPrograms.push(foreign?.length ?? 0);
      if (foreign?.length) o.log(`  WARNING: ${foreign.length} BPF tracing programs of other processes are loaded (${[...new Set(foreign)].slice(0, 6).join(', ')}${foreign.length > 6 ? ', ...' : ''}); they tax every condition, the baseline too`);
      for (const condition of order) {
        const observer = await startObserver(condition, o, out);
        const warmup = condition === 'none' ? Math.min(o.warmupSeconds, o.baselineWarmupSeconds) : o.warmupSeconds;
        try {
          for (const mode of MODES) {
            const wrk = { url: server.url, mode, threads: o.threads, connections: o.connections, cpu: wrkCpu };
            // Each wrk connection is two sockets (wrk's end and the server's end).
            const sockets = (r: WrkResult) => 2 * (mode === 'close' ? r.requests : o.connections);
            if (warmup > 0) observer.benchSockets += sockets(await runWrk({ ...wrk, seconds: warmup }));
            // A pause before every connection-per-request run (in every condition, so all runs start alike)
            // in which the observer's idle CPU is sampled.
            let observerIdleCpuMs: number | null = null;
            if (mode === 'close') {
              const idle0 = observer.pid === null ? 0 : cpuTimeMs(observer.pid, o.ticksPerSec);
              await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
              if (observer.pid !== null) observerIdleCpuMs = ((cpuTimeMs(observer.pid, o.ticksPerSec) - idle0) * o.seconds * 1000) / IDLE_SAMPLE_MS;
            }
            const closes0 = mode === 'close' ? await observer.closes() : null;
            const cpu0 = observer.pid === null ? 0 : cpuTimeMs(observer.pid, o.ticksPerSec);
            const result = await runWrk({ ...wrk, seconds: o.seconds });
            const observerCpuMs = observer.pid === null ? null : cpuTimeMs(observer.pid, o.ticksPerSec) - cpu0;
            const closes1 = closes0 === null ? null : await observer.closes();
            const tracedConnections = closes0 === null || closes1 === null ? null : (closes1 - closes0) / 2;
            observer.benchSockets += sockets(result);
            out.samples.push({ pinned: o.pinned, turn, condition, mode, wrk: result, observerCpuMs, observerIdleCpuMs, tracedConnections });
            o.log(`  [${tag}] round ${round + 1}/${o.rounds}  ${condition.padEnd(8)}  ${mode.padEnd(9)}  ${int(result.requestsPerSec).padStart(7)} req/s` +
              `  ${int(result.requests).padStart(8)} requests` +
              (result.socketErrors || result.non2xx ? `  (${result.socketErrors} socket errors, ${result.non2xx} non-2xx)` : '') +
              (observerCpuMs === null ? '' : `  ${condition} CPU ${int(observerCpuMs)} ms`) +
              (observerIdleCpuMs === null ? '' : ` (idle for as long: ${int(observerIdleCpuMs)} ms)`) +
              (tracedConnections === null ? '' : `; it saw ${int(tracedConnections)} connections close`));
          }
        } finally {
          await observer.stop();
        }
        turn++;
      }
    }
  } finally {
    await server.stop();
  }
  return out;
}
