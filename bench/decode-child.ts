// Runs the decoding benchmark in its own process, so it can be timed under
// the agent's V8 flags and with a fresh heap. Usage:
//   node [v8 flags] decode-child.js <records> <repeats> <batch sizes, comma separated; 0 = all in one call>
// Prints one JSON line: a DecodeBenchResult.
import { runDecodeBench } from './decode.js';

const [records, repeats] = process.argv.slice(2, 4).map(Number);
const batchSizes = (process.argv[4] ?? '').split(',').filter(Boolean).map(Number);
if (!(records > 0) || !(repeats > 0) || !batchSizes.length || batchSizes.some((b) => !Number.isInteger(b) || b < 0)) {
  process.stderr.write('usage: decode-child.js <records> <repeats> <batch sizes, comma separated; 0 = all in one call>\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify(runDecodeBench({ records, repeats, batchSizes })) + '\n');
