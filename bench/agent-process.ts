// The agent under test, as its own process: a ProbeEngine with default
// settings and a small consumer. Prints one JSON "ready" line once the probes
// are attached and one JSON "summary" line when stopped with SIGTERM.
// On SIGUSR2 it prints a {"closes":N} line: the sockets closed it has seen so far.
import { ProbeEngine } from '../src/collector/engine.js';
import type { ConnEvent } from '../src/events/types.js';

const counts: Record<string, number> = {};

function consume(events: ConnEvent[]): void {
  for (const e of events) {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    if (e.requests) for (const n of e.requests.requests) l7[e.requests.role] += n; // a socket's last counts come with its close
  }
}

// `--no-l7`: the agent without request capture (bench/l7.ts compares both).
const engine = new ProbeEngine(process.argv.includes('--no-l7') ? { l7: false } : {});
engine.onEvents(consume);
engine.onCounters((updates) => { counts.counters = (counts.counters ?? 0) + updates.length; });
/** Requests the kernel aggregates counted, summed over all sockets, by role. */
const l7 = { client: 0, server: 0 };
try {
  engine.start();
} catch (e) {
  process.stderr.write(`agent: ${(e as Error).message}\n`);
  process.exit(1);
}
engine.l7?.onDeltas((ds) => { for (const d of ds) for (const n of d.requests) l7[d.role] += n; });
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');

process.on('SIGUSR2', () => { process.stdout.write(JSON.stringify({ closes: engine.stats().closes }) + '\n'); });

process.on('SIGTERM', () => {
  engine.flush();
  const s = engine.stats();
  const l7Summary = engine.l7 ? { requests: l7, losses: engine.l7.losses(), samples: engine.l7.stats().samples } : null;
  engine.stop();
  process.stdout.write(JSON.stringify({ summary: { counts, events: s.events, lost: s.lost, l7: l7Summary } }) + '\n');
  process.exit(0);
});
