// Polling for a condition in integration tests.
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Calls fn every 250 ms until it returns something other than undefined; fails after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
