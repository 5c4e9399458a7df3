// One place that turns SIGINT/SIGTERM into an orderly stop (probes detached, data flushed).
type Stopper = () => void | Promise<void>;
const stoppers: Stopper[] = [];
let stopping = false;

export function onShutdown(fn: Stopper): void {
  stoppers.push(fn);
  if (stoppers.length === 1) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void shutdown(0));
  }
}

export async function shutdown(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const fn of stoppers.reverse()) {
      try { await fn(); } catch (e) { console.error(`dhrishti: error while stopping: ${(e as Error).message}`); }
    }
  }
  process.exit(code);
}
