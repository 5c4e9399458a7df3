// Holds the empty per-call programs attached (bench/lib/empty-hooks.ts) until stopped.
import { loadNative } from '../src/native/index.js';

const native = loadNative();
const handle = native.open(process.argv[2], {});
const results = native.attach(handle);
const failed = results.filter((r) => !r.ok);
if (failed.length) {
  console.error(`empty hooks: ${failed.map((r) => `${r.section}: ${r.error}`).join('; ')}`);
  process.exit(1);
}
console.log(`attached ${results.length}`);
const stop = () => { native.close(handle); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
