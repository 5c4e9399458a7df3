// Reads a YAML configuration file (a policy, a compose file) safely: size
// limit before parsing, aliases bounded and never cyclic, every problem
// reported as file:line:column. Schema errors from ajv are mapped back to the
// line and column of the offending key or value.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Alias, LineCounter, isMap, isNode, isScalar, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { POLICY_DEFAULTS } from '../config/defaults.js';

const placed = (file: string, line: number, column: number, problem: string) => `${file}:${line}:${column}: ${problem}`;

/** A problem in a file, at a place in it. `message` reads `file:line:column: problem`. */
export class FileError extends Error {
  constructor(readonly file: string, readonly line: number, readonly column: number, readonly problem: string, readonly more: FileError[] = []) {
    super(`${placed(file, line, column, problem)}${more.length ? ` (and ${more.length} more problem${more.length > 1 ? 's' : ''})` : ''}`);
  }

  /** This problem and the ones after it, each as `file:line:column: problem`. */
  lines(): string[] {
    return [this, ...this.more].map((e) => placed(e.file, e.line, e.column, e.problem));
  }

  toJSON() { return { file: this.file, line: this.line, column: this.column, message: this.problem }; }

  /** This error and the ones after it, each as {file, line, column, message}. */
  all(): { file: string; line: number; column: number; message: string }[] {
    return [this.toJSON(), ...this.more.map((e) => e.toJSON())];
  }
}

/** Every problem an error names, one a line: a FileError's each as file:line:column: problem, any other's message. */
export function problemLines(e: unknown): string[] {
  return e instanceof FileError ? e.lines() : [(e as Error).message];
}

export interface YamlSource {
  file: string;
  text: string;
  sha256: string;
  doc: Document;
  lines: LineCounter;
  /** The document as plain data (aliases expanded). */
  data: unknown;
}

export interface ReadOptions {
  maxBytes?: number;
  maxAliasCount?: number;
  /** YAML 1.1 `<<` merge keys (compose files use them). */
  merge?: boolean;
}

/** Reads at most maxBytes (+1 to notice a larger file) and parses it. */
export function readYamlFile(file: string, opts: ReadOptions = {}): YamlSource {
  const max = opts.maxBytes ?? POLICY_DEFAULTS.maxFileBytes;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new FileError(file, 1, 1, `cannot read the file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let text: string;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileError(file, 1, 1, 'not a regular file');
    if (st.size > max) throw new FileError(file, 1, 1, `the file is ${formatBytes(st.size)}; the limit is ${formatBytes(max)}`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, n)) > 0;) n += r;
    if (n > max) throw new FileError(file, 1, 1, `the file is larger than the limit of ${formatBytes(max)}`);
    text = buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  return parseYamlText(file, text, opts);
}

export function parseYamlText(file: string, text: string, opts: ReadOptions = {}): YamlSource {
  const max = opts.maxBytes ?? POLICY_DEFAULTS.maxFileBytes;
  if (Buffer.byteLength(text) > max) throw new FileError(file, 1, 1, `the file is larger than the limit of ${formatBytes(max)}`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: opts.merge ?? false, strict: true });
  const at = (offset: number) => lines.linePos(Math.max(0, Math.min(offset, text.length)));
  if (doc.errors.length) {
    const errs = doc.errors.map((e) => { const p = at(e.pos[0]); return new FileError(file, p.line, p.col, yamlProblem(e.message)); });
    throw new FileError(errs[0].file, errs[0].line, errs[0].column, errs[0].problem, errs.slice(1));
  }
  // An alias inside the node it names would expand forever: refuse it where it stands.
  let cyclic: Alias | null = null;
  visit(doc, {
    Alias(_k, node, path) {
      const target = node.resolve(doc);
      if (target && (path as readonly unknown[]).includes(target)) { cyclic = node; return visit.BREAK; }
    },
  });
  if (cyclic) {
    const p = at((cyclic as Alias).range?.[0] ?? 0);
    throw new FileError(file, p.line, p.col, `alias *${(cyclic as Alias).source} refers to a node that contains it (a cycle)`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: opts.maxAliasCount ?? POLICY_DEFAULTS.maxAliasCount });
  } catch (e) {
    let first: Alias | null = null;
    visit(doc, { Alias(_k, node) { first = node; return visit.BREAK; } });
    const p = at((first as Alias | null)?.range?.[0] ?? 0);
    throw new FileError(file, p.line, p.col, /alias/i.test((e as Error).message)
      ? `aliases expand to too much data (more than ${opts.maxAliasCount ?? POLICY_DEFAULTS.maxAliasCount} expansions): refused`
      : (e as Error).message);
  }
  return { file, text, sha256: crypto.createHash('sha256').update(text).digest('hex'), doc, lines, data };
}

/** Line and column (1-based) of the node at a JSON path, or of its key; the nearest ancestor that exists otherwise. */
export function positionOf(src: YamlSource, path: readonly (string | number)[], opts: { key?: string; atKey?: boolean } = {}): { line: number; column: number } {
  let node: unknown = src.doc.contents;
  let best = node;
  let keyNode: unknown = null;
  const segs = opts.key !== undefined ? [...path, opts.key] : path;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items) && typeof seg === 'number') {
      keyNode = null;
      node = (node as { items: unknown[] }).items[seg];
    } else break;
    if (isNode(node)) best = node; else if (node === undefined || node === null) { if (keyNode) best = keyNode; break; }
  }
  const target = (opts.atKey || opts.key !== undefined) && keyNode ? keyNode : best;
  const off = isNode(target as Node) ? (target as Node).range?.[0] ?? 0 : 0;
  const p = src.lines.linePos(off);
  return { line: p.line, column: p.col };
}

/**
 * ajv errors as FileErrors at the right places. Union keywords (oneOf, anyOf)
 * report every branch; the useful part is kept: a deeper error from the branch
 * that fits the value's shape, else one "must be A or B" for the value itself.
 */
export function schemaErrors(src: YamlSource, validate: ValidateFunction, describe: (path: (string | number)[], e: ErrorObject) => string | null = () => null): FileError[] {
  if (validate(src.data)) return [];
  const all = (validate.errors ?? []).filter((e) => e.keyword !== 'propertyNames' && e.keyword !== 'if');
  const unions = new Set(all.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath));
  const deeper = (p: string) => all.some((x) => x.instancePath.startsWith(p + '/') && x.keyword !== 'oneOf' && x.keyword !== 'anyOf');
  const seen = new Set<string>();
  const out: FileError[] = [];
  for (const e of all) {
    const path = pointer(e.instancePath);
    const custom = describe(path, e);
    let problem: string | null = custom;
    if (problem === null) {
      const inUnion = unions.has(e.instancePath);
      if (inUnion && e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && ['type', 'required', 'enum', 'const', 'pattern', 'minimum', 'maximum'].includes(e.keyword)) continue;
      if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
        if (deeper(e.instancePath)) continue;
        const types = [...new Set(all.filter((x) => x.instancePath === e.instancePath && x.keyword === 'type').flatMap((x) => String((x.params as { type: string }).type).split(',')))];
        problem = types.length ? `must be ${types.join(' or ')}, got ${typeOf(e.data)}` : (e.params as { passingSchemas?: unknown }).passingSchemas ? 'matches more than one allowed form' : `is not in an allowed form (got ${typeOf(e.data)})`;
      } else problem = standard(e);
    }
    const key = e.keyword === 'additionalProperties' ? String((e.params as { additionalProperty: string }).additionalProperty) : e.propertyName;
    const pos = positionOf(src, path, key !== undefined ? { key } : {});
    const where = dotted(path);
    problem = where ? `${where}: ${problem}` : problem;
    const sig = `${pos.line}:${pos.column}:${problem}`;
    if (seen.has(sig)) continue;
    seen.add(sig);
    out.push(new FileError(src.file, pos.line, pos.column, problem));
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Several errors as one, the first leading. */
export function combine(errors: FileError[]): FileError {
  return new FileError(errors[0].file, errors[0].line, errors[0].column, errors[0].problem, errors.slice(1));
}

function standard(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return `unknown key "${p.additionalProperty}"${known.length && known.length <= 16 ? `; known keys: ${known.join(', ')}` : ''}`;
    }
    case 'required': return `missing "${p.missingProperty}"`;
    case 'type': return `must be ${String(p.type).split(',').join(' or ')}, got ${typeOf(e.data)}`;
    case 'enum': return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(e.data)}`;
    case 'const': return `must be ${JSON.stringify(p.allowedValue)}, got ${JSON.stringify(e.data)}`;
    case 'pattern': return `${JSON.stringify(e.data)} is not valid here (must match ${p.pattern})`;
    case 'minimum': case 'maximum': return `${JSON.stringify(e.data)} is out of range (${e.keyword} ${p.limit})`;
    case 'minProperties': return `must not be empty`;
    case 'minItems': return `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems': case 'maxProperties': return `too many entries (at most ${p.limit})`;
    case 'maxLength': return `too long (at most ${p.limit} characters)`;
    case 'minLength': return 'must not be empty';
    default: return e.message ?? `invalid (${e.keyword})`;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function pointer(p: string): (string | number)[] {
  if (!p) return [];
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** ['rules', 1, 'deny', 'from'] -> "rules[1].deny.from" */
export function dotted(path: readonly (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');
}

function yamlProblem(msg: string): string {
  return msg.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}
