// The agent under test, as its own process: a ProbeEngine with default
// settings and a small consumer. Prints one JSON "ready" line once the probes
// are attached and one JSON "summary" line when stopped with SIGTERM.
// The consumer is a stand-in: the graph pipeline will replace consume().
import { ProbeEngine } from '../src/collector/engine.js';
import type { ConnEvent } from '../src/events/types.js';

const counts: Record<string, number> = {};

function consume(events: ConnEvent[]): void {
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
}

const engine = new ProbeEngine();
engine.onEvents(consume);
engine.onCounters((updates) => { counts.counters = (counts.counters ?? 0) + updates.length; });
try {
  engine.start();
} catch (e) {
  process.stderr.write(`agent: ${(e as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');

process.on('SIGTERM', () => {
  engine.flush();
  const s = engine.stats();
  engine.stop();
  process.stdout.write(JSON.stringify({ summary: { counts, events: s.events, lost: s.lost } }) + '\n');
  process.exit(0);
});
