// The agent under the DNS benchmark, as its own process: the probe engine with
// the DNS collector wired in (what `dhrishti run` will carry once the graph
// uses names), and a consumer counting TCP closes per port, so the benchmark
// can check no TCP event was lost meanwhile. Prints a JSON "ready" line, and a
// JSON "summary" line when stopped with SIGTERM.
import { Session } from 'node:inspector/promises';
import fs from 'node:fs';
import { ProbeEngine } from '../src/collector/engine.js';
import { DnsCollector } from '../src/dns/collector.js';

// --no-dns: the same engine without the collector (the DNS probes stay attached but switched off): the baseline.
const withDns = !process.argv.includes('--no-dns');
// --profile FILE: a CPU profile from after the probes are loaded (a profiler running during
// the load would interrupt the verifier) to SIGTERM.
const profileAt = process.argv.indexOf('--profile');
const profileFile = profileAt > 0 ? process.argv[profileAt + 1] : null;

const engine = new ProbeEngine({ discover: false });
const dns = new DnsCollector();
if (withDns) engine.use(dns);
const closesByPort = new Map<number, number>();
let events = 0;
engine.onEvents((batch) => {
  events += batch.length;
  for (const e of batch) if (e.type === 'close') closesByPort.set(e.dport, (closesByPort.get(e.dport) ?? 0) + 1);
});
try {
  engine.start();
} catch (e) {
  process.stderr.write(`dns agent: ${(e as Error).message}\n`);
  process.exit(1);
}
if (withDns && !dns.isAvailable()) {
  process.stderr.write(`dns agent: ${dns.stats().reason}\n`);
  process.exit(1);
}
const profiler = profileFile ? new Session() : null;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');

// On request (a line on stdin), report without stopping: the benchmark reads figures between phases.
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => process.stdout.write(JSON.stringify({ report: report() }) + '\n'));

function report() {
  const s = engine.stats();
  return {
    dns: withDns ? dns.stats() : null,
    engineLost: s.lost,
    events,
    closesByPort: Object.fromEntries(closesByPort),
    heapUsed: process.memoryUsage().heapUsed,
  };
}

process.on('SIGTERM', async () => {
  engine.flush();
  const r = report();
  engine.stop();
  if (profiler && profileFile) fs.writeFileSync(profileFile, JSON.stringify((await profiler.post('Profiler.stop')).profile));
  process.stdout.write(JSON.stringify({ summary: r }) + '\n');
  process.exit(0);
});
