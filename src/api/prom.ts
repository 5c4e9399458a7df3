// prom-client helpers shared by the /metrics families.
import client from 'prom-client';

/** A counter whose value is read from a running total at scrape time (the agent keeps the totals). */
export function counterFromTotals(
  reg: client.Registry, name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][],
): client.Counter {
  return new client.Counter({
    name, help, labelNames, registers: [reg],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    },
  });
}
