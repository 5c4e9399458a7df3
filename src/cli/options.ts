// Parsers for command-line values: a bad value stops with a clear message, never a stack trace.
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../config/defaults.js';

// Decimal digits only: Number() also takes "0x1F40", "1e3" and " 80 ", which no one means on a command line.
const DECIMAL = /^\d+(\.\d+)?$/;
const WHOLE = /^\d+$/;

/** A positive decimal number, at most `max` when given (a value past what the consumer can hold is refused, not wrapped). */
export function positiveNumber(name: string, max?: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!DECIMAL.test(v) || !Number.isFinite(n) || n <= 0 || (max !== undefined && n > max)) {
      throw new InvalidArgumentError(`${name} must be a positive number${max !== undefined ? ` up to ${max}` : ''}, got "${v}"`);
    }
    return n;
  };
}

/** A whole number in [min, max], in decimal digits; `range` words the bounds in the message. */
function wholeNumber(name: string, min: number, max: number, range: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!WHOLE.test(v) || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number ${range}, got "${v}"`);
    return n;
  };
}

export const positiveInt = (name: string, max = Number.MAX_SAFE_INTEGER) => wholeNumber(name, 1, max, `from 1 to ${max}`);
export const nonNegativeInt = (name: string) => wholeNumber(name, 0, Number.MAX_SAFE_INTEGER, 'of 0 or more');

export const port = positiveInt('port', 65535);

/** An agent's address: an http or https URL (the API speaks nothing else). */
export function agentUrl(v: string): string {
  let u: URL;
  try { u = new URL(v); } catch { throw new InvalidArgumentError(`--url is not a URL: "${v}" (e.g. http://127.0.0.1:7979)`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`--url must be an http or https URL, got "${v}"`);
  return v;
}

/** A comma-separated list of 1 to `max` ports, e.g. "53,5353". */
export function portList(name: string, max: number) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    if (!parts.length || parts.length > max || parts.some((p) => !WHOLE.test(p) || Number(p) < 1 || Number(p) > 65535)) {
      throw new InvalidArgumentError(`${name} takes 1 to ${max} ports from 1 to 65535, comma-separated, got "${v}"`);
    }
    return [...new Set(parts.map(Number))];
  };
}

/** Ring buffer size: a power of two of at least one page. */
export function ringbufBytes(v: string): number {
  const n = Number(v);
  if (!WHOLE.test(v) || !Number.isInteger(n) || n < 4096 || (n & (n - 1)) !== 0) throw new InvalidArgumentError(`ring buffer size must be a power of two of at least 4096 bytes, got "${v}"`);
  return n;
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]) {
  return (v: string): T => {
    if (!allowed.includes(v as T)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  };
}

/** Repeatable options: each occurrence parsed and added to the list. */
export function repeatable<T>(parse: (v: string) => T) {
  return (v: string, prev: T[] = []): T[] => {
    try { return [...prev, parse(v)]; } catch (e) { throw new InvalidArgumentError((e as Error).message); }
  };
}

/** Byte counts such as 65536, 64k, 1m. */
export function bytes(name: string) {
  return (v: string): number => {
    const m = /^(\d+)([km]?)$/i.exec(v.trim());
    const n = m ? Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1024 : m[2].toLowerCase() === 'm' ? 1 << 20 : 1) : NaN;
    if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a number of bytes such as 65536, 64k or 1m, got "${v}"`);
    return n;
  };
}

/** Docker's socket as the docker CLI finds it: DOCKER_HOST when it names a unix socket, else the usual path. */
export function defaultDockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.DOCKER_HOST?.trim();
  return h?.startsWith('unix://') && h.length > 'unix://'.length ? h.slice('unix://'.length) : DEFAULTS.dockerSocket;
}

/** --docker-socket, for every command that talks to Docker. */
export function dockerSocketOption(): Option {
  return new Option('--docker-socket <path>', 'Docker Engine API socket (DOCKER_HOST\'s when it is unix://…)').default(defaultDockerSocket());
}
