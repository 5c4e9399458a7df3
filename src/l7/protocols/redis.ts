// Redis command of a sample: only the command name (arguments may hold keys or secrets).
import type { RequestDescription } from '../types.js';

const NAME = /^[A-Za-z][A-Za-z0-9_.|-]{0,31}$/;

export function describeRedis(text: Buffer): RequestDescription | null {
  if (text.length < 4) return null;
  if (text[0] === 0x2a) { // *N\r\n$len\r\nNAME\r\n
    const s = text.toString('latin1');
    const m = /^\*\d{1,7}\r\n\$(\d{1,3})\r\n/.exec(s);
    if (!m) return null;
    const len = Number(m[1]);
    const name = s.slice(m[0].length, m[0].length + len);
    if (name.length !== len || !NAME.test(name)) return null;
    return { method: name.toUpperCase() };
  }
  const line = text.toString('latin1', 0, Math.max(0, text.indexOf(0x0a)));
  const word = line.split(' ')[0].replace(/\r$/, '');
  return NAME.test(word) ? { method: word.toUpperCase() } : null;
}

/** A Redis error's status as the kernel packs it (l7/redis.c redis_err_code): a flag bit, a bit for "more
 *  letters follow", then the first six capital letters of the error's prefix, 5 bits each (A = 1, 0 ends it). */
const ERRCODE_FLAG = 0x80000000;
const ERRLONG_FLAG = 0x40000000;
/** Redis's own prefixes longer than six letters, by their first six (no two share them). */
const LONG_PREFIXES = [
  'WRONGTYPE', 'WRONGPASS', 'NOSCRIPT', 'READONLY', 'EXECABORT', 'MASTERDOWN', 'CROSSSLOT', 'TRYAGAIN',
  'CLUSTERDOWN', 'BUSYKEY', 'BUSYGROUP', 'NOPROTO', 'MISCONF', 'UNBLOCKED', 'NOREPLICAS', 'NOTBUSY', 'UNKILLABLE',
];
const BY_SIX = new Map(LONG_PREFIXES.map((p) => [p.slice(0, 6), p]));

/** The prefix ('WRONGTYPE', 'ERR') of a packed Redis error status, or null when the status is not one. A
 *  prefix longer than six letters that Redis does not use is shown cut, with an ellipsis. */
export function redisErrorOf(status: number): string | null {
  if (!(status & ERRCODE_FLAG) || status >= 2 ** 32) return null;
  let s = '';
  for (let k = 0; k < 6; k++) {
    const d = Math.floor(status / 2 ** (25 - 5 * k)) & 31;
    if (d === 0) break;
    if (d > 26) return null;
    s += String.fromCharCode(64 + d);
  }
  if (!s) return null;
  return !(status & ERRLONG_FLAG) ? s : BY_SIX.get(s) ?? `${s}…`;
}
