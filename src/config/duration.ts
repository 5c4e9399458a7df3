// Durations as people write them ("30s", "5m", "1h", "2d", "1500ms"), for flags, config and API parameters alike.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration that does not parse or is out of range; the message names the parameter and the value. */
export class InvalidDuration extends Error {}

/** "30s", "5m", "1h", "2d", "1500ms" or a plain number of seconds -> milliseconds. */
export function parseDuration(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) throw new InvalidDuration(`${name} must be a duration such as 30s, 5m, 1h or 2d, got "${v}"`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's'];
  if (!(ms > 0) || ms > 366 * UNITS.d) throw new InvalidDuration(`${name} must be between 1ms and 366d, got "${v}"`);
  return ms;
}
