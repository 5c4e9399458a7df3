// Points in time in query parameters: ISO-8601, unix milliseconds, "now", or "-15m" (before now).
import { BadRequest, parseDuration } from './params.js';

const EARLIEST = Date.UTC(2000, 0, 1);
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

// A '+' in a query string arrives as a space (a UTC offset, "+10m"): say so, or the echo looks like a typo of ours.
const plusHint = (v: string) => (/(^|\d) \d/.test(v) ? ' (a "+" in a URL\'s query is read as a space: write it %2B)' : '');
const expected = (name: string, v: string) =>
  `${name} must be a time: ISO-8601, unix milliseconds, "now" or relative like -15m, -2h, -1d; got "${v}"${plusHint(v)}`;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate(); // day 0 of the next month
}

/**
 * ISO-8601 checked field by field: JavaScript's Date.parse rolls 2024-02-30 over
 * to 1 March and accepts hour 24, which would silently answer for another moment.
 */
function parseIso(s: string, name: string, v: string): number | null {
  const m = ISO.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, , oh, om] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  if (month < 1 || month > 12) throw new BadRequest(`${name} has no month ${mo}: "${v}"`);
  if (day < 1 || day > daysIn(year, month)) throw new BadRequest(`${name} is not a date: ${y}-${mo} has ${daysIn(year, month)} days, got day ${d} in "${v}"`);
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (sec !== undefined && Number(sec) > 59))) {
    throw new BadRequest(`${name} is not a time of day (00:00:00 to 23:59:59): "${v}"`);
  }
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) throw new BadRequest(`${name} has a bad UTC offset: "${v}"`);
  // Fields are valid: Date.parse now only adds the zone rules (a date alone is UTC, a date-time without offset local time).
  return Date.parse(s.replace(' ', 'T'));
}

/** Unix ms for a time parameter; relative forms count back from `now`. */
export function parseTime(v: string, name: string, now: number): number {
  const s = v.trim();
  let t: number | null;
  if (s === 'now') t = now;
  else if (s.startsWith('-')) {
    try { t = now - parseDuration(s.slice(1), name); } catch (e) {
      // a duration too long says so; anything else is not a time at all
      const m = (e as Error).message;
      throw new BadRequest(/must be between/.test(m) ? `${m.replace(/got ".*"$/, `got "${v}"`)}: that is as far back as it can reach` : expected(name, v));
    }
  } else if (/^\d{1,16}$/.test(s)) t = Number(s);
  else t = parseIso(s, name, v);
  if (t === null) throw new BadRequest(expected(name, v));
  if (!Number.isFinite(t)) throw new BadRequest(`${name} is not a valid date: "${v}"`);
  if (t < EARLIEST || t > now + 366 * 86_400_000) throw new BadRequest(`${name} is out of range (${new Date(EARLIEST).toISOString()} to a year from now): "${v}"`);
  return t;
}
