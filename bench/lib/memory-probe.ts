// Preloaded into the agent by the benchmark (NODE_OPTIONS=--import ...): on
// SIGUSR2 it prints where the process's memory is, as one JSON line on stderr:
// process.memoryUsage() as it is, V8's spaces, and the heap still in use after
// a full GC (the live data; the rest of the heap is garbage and headroom).
// If DHRISHTI_BENCH_HEAP_SNAPSHOT names a file and `<file>.request` exists, it
// then writes a heap snapshot there. No inspector, no change to the agent.
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

process.on('SIGUSR2', () => {
  const usage = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  gc();
  const afterGc = process.memoryUsage();
  const file = process.env.DHRISHTI_BENCH_HEAP_SNAPSHOT;
  let snapshot: string | null = null;
  if (file && fs.existsSync(`${file}.request`)) {
    fs.rmSync(`${file}.request`, { force: true });
    snapshot = v8.writeHeapSnapshot(file);
  }
  process.stderr.write(`memory-probe ${JSON.stringify({ usage, spaces, afterGc, snapshot })}\n`);
});
