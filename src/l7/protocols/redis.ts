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
