// V8's heap growth over the agent's life. The launcher (./dhrishti) starts node
// with --heap-growing-percent=30: the old generation grows by 30% at a time
// while start-up discovery walks /proc and places every existing connection,
// which keeps the resident peak low. Under steady load the same setting makes
// V8 mark the whole heap several times as often: with connection-per-request
// load its GC helper threads used 15-20% of a core, against 7% with V8's own
// growth. So the setting is handed back to V8 once discovery is done.
import v8 from 'node:v8';

const TIGHT_GROWTH = /^--heap-growing-percent=/;

/** Returns V8's old-generation growth to its default if the process was started with a fixed one. */
export function relaxHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (!execArgv.some((a) => TIGHT_GROWTH.test(a))) return false;
  v8.setFlagsFromString('--heap-growing-percent=0'); // 0: V8 picks the factor from its GC speed and the heap's limit
  return true;
}
