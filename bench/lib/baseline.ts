// The load benchmark's baseline: a no-agent turn before, between and after the observers' turns, and
// each observer run's ratio over the no-agent runs of the turns on each side of it. On a shared VM the
// host's load shifts over minutes (no-agent runs of one benchmark went from 98k to 55k req/s and back),
// so only a baseline one turn away is fair: one taken once per round swung the ratios of empty programs
// from 0.53 to 1.25 over five rounds.

/**
 * [base, a, base, b, base]: the observers in order, with a baseline turn before, between and after them.
 * `lead` false leaves out the first baseline, for a round that follows one which ended with a baseline.
 */
export function bracketed<T>(observers: readonly T[], base: T | null, lead = true): T[] {
  if (base === null) return [...observers];
  const turns = [...observers.flatMap((c) => [base, c]), base];
  return lead ? turns : turns.slice(1);
}

/** A measured run: its turn in the whole benchmark, and its throughput. */
export interface TurnRun { turn: number; rps: number }

/** Each run's throughput over the mean of the baseline runs of the turns just before and after it (one side if only one is there). */
export function bracketedRatios(runs: readonly TurnRun[], baseline: readonly TurnRun[]): number[] {
  const out: number[] = [];
  for (const r of runs) {
    const near = baseline.filter((b) => b.turn === r.turn - 1 || b.turn === r.turn + 1);
    if (near.length) out.push(r.rps / (near.reduce((a, b) => a + b.rps, 0) / near.length));
  }
  return out;
}
