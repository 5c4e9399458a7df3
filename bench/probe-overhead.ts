// Probe overhead under HTTP load on loopback: wrk against a Node http server
// with no observer, with Dhrishti's agent, and with a bpftrace peer, in
// keep-alive and connection-per-request modes; plus the observer's own CPU time.
import { fileURLToPath } from 'node:url';
import { start, cpuTimeMs, type Child } from './lib/children.js';
import { runWrk, type LoadMode, type WrkResult } from './lib/wrk.js';
import { AgentProcess, type AgentSummary } from './lib/agent.js';
import { BpftracePeer, type PeerSummary } from './lib/bpftrace-peer.js';
import { int, pct } from './lib/report.js';
import { backgroundLoad, loadedTracingPrograms } from './lib/host.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./http-server.js', import.meta.url));

export const CONDITIONS = ['none', 'agent', 'bpftrace'] as const;
export type Condition = (typeof CONDITIONS)[number];
export const MODES: LoadMode[] = ['keepalive', 'close'];

export interface LoadBenchOptions {
  threads: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  /** taskset CPU lists; null lets the process float. */
  wrkCpu: string | null;
  serverCpu: string | null;
  /** The agent process script (compiled JS), and the node flags it runs with. */
  agentScript: string;
  agentNodeFlags: readonly string[];
  /** Run the agent under `node --cpu-prof`, writing its profile here. */
  agentProfileDir: string | null;
  ticksPerSec: number;
  log: (line: string) => void;
}

export interface LoadSample {
  round: number;
  condition: Condition;
  mode: LoadMode;
  wrk: WrkResult;
  /** CPU time of the observer process (agent or bpftrace) during the measured run. */
  observerCpuMs: number | null;
  /** The observer's CPU time while idle for as long as the run (measured over IDLE_SAMPLE_MS, scaled): its cost for other traffic on the host and its timers. */
  observerIdleCpuMs: number | null;
}

const IDLE_SAMPLE_MS = 2000;

export interface LoadBenchResult {
  samples: LoadSample[];
  /** Busy share of all CPUs measured for 1 s before each round, with nothing of the benchmark running. */
  backgroundLoad: number[];
  /** BPF tracing programs of other processes found loaded before each round. */
  foreignPrograms: number[];
  agentSummaries: ObserverReport<AgentSummary>[];
  peerSummaries: ObserverReport<PeerSummary>[];
}

/** What an observer reported over its life, beside the TCP sockets the benchmark itself opened and closed meanwhile. */
export interface ObserverReport<T> { summary: T; benchSockets: number }

interface Observer { pid: number | null; benchSockets: number; stop(): Promise<void> }

async function startObserver(c: Condition, o: LoadBenchOptions, out: LoadBenchResult): Promise<Observer> {
  if (c === 'agent') {
    const agent = new AgentProcess(o.agentScript, o.agentNodeFlags, o.agentProfileDir);
    await agent.start();
    const obs: Observer = {
      pid: agent.pid,
      benchSockets: 0,
      stop: async () => { const s = await agent.stop(); if (s) out.agentSummaries.push({ summary: s, benchSockets: obs.benchSockets }); },
    };
    return obs;
  }
  if (c === 'bpftrace') {
    const peer = new BpftracePeer();
    try {
      await peer.start();
    } catch (e) {
      await peer.stop();
      throw e;
    }
    const obs: Observer = {
      pid: peer.pid,
      benchSockets: 0,
      stop: async () => { out.peerSummaries.push({ summary: await peer.stop(), benchSockets: obs.benchSockets }); },
    };
    return obs;
  }
  return { pid: null, benchSockets: 0, stop: async () => {} };
}

export async function runLoadBench(o: LoadBenchOptions): Promise<LoadBenchResult> {
  const out: LoadBenchResult = { samples: [], backgroundLoad: [], foreignPrograms: [], agentSummaries: [], peerSummaries: [] };
  const serverCmd: [string, string[]] = o.serverCpu === null
    ? [process.execPath, [SERVER_SCRIPT]]
    : ['taskset', ['-c', o.serverCpu, process.execPath, SERVER_SCRIPT]];
  const server: Child = start('http server', ...serverCmd);
  try {
    const port = Number((await server.waitFor(/^port (\d+)$/))[1]);
    const url = `http://127.0.0.1:${port}/`;
    o.log(`server: node http on ${url} (pid ${server.pid}${o.serverCpu === null ? '' : `, CPU ${o.serverCpu}`}); wrk -t${o.threads} -c${o.connections} -d${o.seconds}s${o.wrkCpu === null ? '' : ` on CPU ${o.wrkCpu}`}, ${o.warmupSeconds}s warm-up before each run`);
    for (let round = 0; round < o.rounds; round++) {
      // Alternate the order so slow drift (thermal, TIME_WAIT build-up) does not favour one condition.
      const order = round % 2 === 0 ? [...CONDITIONS] : [...CONDITIONS].reverse();
      const bg = await backgroundLoad();
      out.backgroundLoad.push(bg);
      o.log(`  round ${round + 1}/${o.rounds}: other processes keep ${pct(bg)} of the CPUs busy${bg > 0.05 ? ' (WARNING: figures will be noisy)' : ''}`);
      const foreign = loadedTracingPrograms();
      out.foreignPrograms.push(foreign?.length ?? 0);
      if (foreign?.length) o.log(`  WARNING: ${foreign.length} BPF tracing programs of other processes are loaded (${[...new Set(foreign)].slice(0, 6).join(', ')}${foreign.length > 6 ? ', ...' : ''}); they tax every condition, the baseline too`);
      for (const condition of order) {
        const observer = await startObserver(condition, o, out);
        try {
          for (const mode of MODES) {
            const wrk = { url, mode, threads: o.threads, connections: o.connections, cpu: o.wrkCpu };
            // Each wrk connection is two sockets (wrk's end and the server's end).
            const sockets = (r: WrkResult) => 2 * (mode === 'close' ? r.requests : o.connections);
            if (o.warmupSeconds > 0) observer.benchSockets += sockets(await runWrk({ ...wrk, seconds: o.warmupSeconds }));
            // A pause before every connection-per-request run (in every condition, so all runs start alike)
            // in which the observer's idle CPU is sampled.
            let observerIdleCpuMs: number | null = null;
            if (mode === 'close') {
              const idle0 = observer.pid === null ? 0 : cpuTimeMs(observer.pid, o.ticksPerSec);
              await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
              if (observer.pid !== null) observerIdleCpuMs = ((cpuTimeMs(observer.pid, o.ticksPerSec) - idle0) * o.seconds * 1000) / IDLE_SAMPLE_MS;
            }
            const cpu0 = observer.pid === null ? 0 : cpuTimeMs(observer.pid, o.ticksPerSec);
            const result = await runWrk({ ...wrk, seconds: o.seconds });
            const observerCpuMs = observer.pid === null ? null : cpuTimeMs(observer.pid, o.ticksPerSec) - cpu0;
            observer.benchSockets += sockets(result);
            out.samples.push({ round, condition, mode, wrk: result, observerCpuMs, observerIdleCpuMs });
            o.log(`  round ${round + 1}/${o.rounds}  ${condition.padEnd(8)}  ${mode.padEnd(9)}  ${int(result.requestsPerSec).padStart(7)} req/s` +
              `  ${int(result.requests).padStart(8)} requests` +
              (result.socketErrors || result.non2xx ? `  (${result.socketErrors} socket errors, ${result.non2xx} non-2xx)` : '') +
              (observerCpuMs === null ? '' : `  ${condition} CPU ${int(observerCpuMs)} ms`) +
              (observerIdleCpuMs === null ? '' : ` (idle for as long: ${int(observerIdleCpuMs)} ms)`));
          }
        } finally {
          await observer.stop();
        }
      }
    }
  } finally {
    await server.stop();
  }
  return out;
}
