// Points in time in query parameters: ISO-8601, unix milliseconds, "now", or "-15m" (before now).
import { BadRequest, parseDuration } from '../api/params.js';

const EARLIEST = Date.UTC(2000, 0, 1);
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Unix ms for a time parameter; relative forms count back from `now`. */
export function parseTime(v: string, name: string, now: number): number {
  const s = v.trim();
  let t: number;
  if (s === 'now') t = now;
  else if (s.startsWith('-')) {
    try { t = now - parseDuration(s.slice(1), name); } catch { throw new BadRequest(`${name} must be a time: ISO-8601, unix milliseconds, "now" or relative like -15m, -2h, -1d; got "${v}"`); }
  } else if (/^\d{1,16}$/.test(s)) t = Number(s);
  else if (ISO.test(s)) t = Date.parse(s);
  else throw new BadRequest(`${name} must be a time: ISO-8601, unix milliseconds, "now" or relative like -15m, -2h, -1d; got "${v}"`);
  if (!Number.isFinite(t)) throw new BadRequest(`${name} is not a valid date: "${v}"`);
  if (t < EARLIEST || t > now + 366 * 86_400_000) throw new BadRequest(`${name} is out of range (${new Date(EARLIEST).toISOString()} to a year from now): "${v}"`);
  return t;
}
