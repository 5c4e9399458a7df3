// A policy file read, checked against policy.schema.json, checked for sense
// (zones named by rules exist, CIDRs parse, rule names are unique) and compiled.
// Anything wrong is a FileError naming the file, line and column.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import schema from './policy.schema.json' with { type: 'json' };
import { readYamlFile, parseYamlText, schemaErrors, positionOf, combine, FileError, dotted, type YamlSource } from './yaml-source.js';
import { BUILTIN_ZONES, RULE_ACTIONS, SELECTOR_KEYS, type PolicySpec, type RuleAction, type RuleSpec, type Selector, type ZoneSpec } from './model.js';
import { cidrProblem } from './selectors.js';
import { CompiledPolicy } from './compile.js';
import { secretLabel } from '../graph/naming.js';

export interface LoadedPolicy {
  file: string;
  sha256: string;
  text: string;
  loadedAt: number;
  spec: PolicySpec;
  compiled: CompiledPolicy;
  /** Things that are allowed but probably not meant (a zone no rule uses). */
  warnings: string[];
}

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, verbose: true, strict: true, strictTypes: false, strictRequired: false });
const validate = ajv.compile(schema);

export const POLICY_SCHEMA = schema;

export function loadPolicyFile(file: string, now = Date.now()): LoadedPolicy {
  return fromSource(readYamlFile(file), now);
}

export function loadPolicyText(file: string, text: string, now = Date.now()): LoadedPolicy {
  return fromSource(parseYamlText(file, text), now);
}

interface RawMatch { from: string | string[]; to: string | string[]; ports?: number | string | (number | string)[]; protocols?: string | string[] }
interface RawRule { name: string; description?: string; deny?: RawMatch; allow?: RawMatch; 'allow-only'?: RawMatch }
interface RawPolicy { version?: 1; zones?: Record<string, Record<string, unknown> | Record<string, unknown>[]>; rules: RawRule[] }

function fromSource(src: YamlSource, now: number): LoadedPolicy {
  if (src.data === null || src.data === undefined) throw new FileError(src.file, 1, 1, 'the policy is empty; it needs at least "rules:" (and usually "zones:")');
  const errors = schemaErrors(src, validate, describe);
  if (errors.length) throw combine(errors);
  const raw = src.data as RawPolicy;
  const problems: FileError[] = [];
  const at = (path: (string | number)[], problem: string) => {
    const p = positionOf(src, path);
    problems.push(new FileError(src.file, p.line, p.column, `${dotted(path)}: ${problem}`));
  };

  const builtin = new Set(BUILTIN_ZONES.map((z) => z.name));
  const zones: ZoneSpec[] = [];
  for (const [name, v] of Object.entries(raw.zones ?? {})) {
    if (builtin.has(name)) at(['zones', name], `"${name}" is a built-in zone (${[...builtin].join(', ')}); pick another name`);
    const list = Array.isArray(v) ? v : [v];
    const selectors = list.map((s, i) => {
      const path = Array.isArray(v) ? ['zones', name, i] : ['zones', name];
      const sel = normalizeSelector(s);
      for (const [j, c] of (sel.cidr ?? []).entries()) {
        const p = cidrProblem(c);
        if (p) at(Array.isArray(s.cidr) ? [...path, 'cidr', j] : [...path, 'cidr'], p);
      }
      return sel;
    });
    zones.push({ name, selectors, at: list.map((_, i) => positionOf(src, Array.isArray(v) ? ['zones', name, i] : ['zones', name])) });
  }

  const known = new Set([...builtin, ...zones.map((z) => z.name)]);
  const names = new Map<string, number>();
  const used = new Set<string>();
  const rules: RuleSpec[] = raw.rules.map((r, i) => {
    if (names.has(r.name)) at(['rules', i, 'name'], `rule name "${r.name}" is already used by rules[${names.get(r.name)}]; names must be unique`);
    names.set(r.name, i);
    const action = RULE_ACTIONS.find((a) => r[a] !== undefined) as RuleAction;
    const m = r[action]!;
    const list = (k: 'from' | 'to') => {
      const v = m[k];
      const arr = Array.isArray(v) ? v : [v];
      arr.forEach((z, j) => {
        used.add(z);
        if (!known.has(z)) at(Array.isArray(v) ? ['rules', i, action, k, j] : ['rules', i, action, k], `unknown zone "${z}"; defined: ${[...known].join(', ')}`);
      });
      return arr;
    };
    const from = list('from'), to = list('to');
    let ports: [number, number][] | null = null;
    if (m.ports !== undefined) {
      const arr = Array.isArray(m.ports) ? m.ports : [m.ports];
      ports = arr.map((p, j) => {
        const [lo, hi] = typeof p === 'number' ? [p, p] : p.includes('-') ? p.split('-').map(Number) : [Number(p), Number(p)];
        if (!(lo >= 1 && hi <= 65535 && lo <= hi)) at(Array.isArray(m.ports) ? ['rules', i, action, 'ports', j] : ['rules', i, action, 'ports'], `"${p}" is not a port (1-65535) or a range low-high`);
        return [lo, hi];
      });
    }
    const protocols = m.protocols === undefined ? null : Array.isArray(m.protocols) ? m.protocols : [m.protocols];
    return { name: r.name, ...(r.description ? { description: r.description } : {}), action, from, to, ports, protocols };
  });
  if (problems.length) throw combine(problems.sort((a, b) => a.line - b.line || a.column - b.column));

  const warnings: string[] = [];
  for (const z of zones) {
    if (!used.has(z.name)) { const p = positionOf(src, ['zones', z.name], { atKey: true }); warnings.push(`${src.file}:${p.line}:${p.column}: zone "${z.name}" is not used by any rule`); }
  }
  // A label whose key names a credential is published as *** (graph/naming.ts): only its presence can be matched.
  zones.forEach((z) => z.selectors.forEach((sel, si) => {
    for (const [k, v] of Object.entries(sel.label ?? {})) {
      if (v === '*' || !secretLabel(k)) continue;
      const p = positionOf(src, ['zones', z.name], { atKey: true });
      warnings.push(`${src.file}:${p.line}:${p.column}: zone "${z.name}" selector ${si + 1} matches label "${k}" by value, but a label whose key names a credential is published as *** and can match only "*"`);
    }
  }));
  // Rules judge TCP connections; DNS queries to a resolver are its health (resolver edges), which no rule matches.
  rules.forEach((r, i) => {
    const onlyDns = r.ports !== null && r.ports.every(([lo, hi]) => lo === 53 && hi === 53);
    const onlyUdp = r.protocols !== null && !r.protocols.includes('tcp');
    if (!onlyDns && !onlyUdp) return;
    const p = positionOf(src, ['rules', i, r.action], { atKey: true });
    warnings.push(`${src.file}:${p.line}:${p.column}: rule "${r.name}" can match nothing: rules judge TCP connections, and DNS queries to resolvers (port 53, UDP) are shown as resolver edges, not judged`);
  });
  const spec: PolicySpec = { zones, rules };
  return { file: src.file, sha256: src.sha256, text: src.text, loadedAt: now, spec, compiled: new CompiledPolicy(spec), warnings };
}

function normalizeSelector(s: Record<string, unknown>): Selector {
  const out: Selector = {};
  for (const k of SELECTOR_KEYS) {
    const v = s[k];
    if (v === undefined) continue;
    if (k === 'label') out.label = Object.fromEntries(Object.entries(v as object).map(([a, b]) => [a, String(b)]));
    else if (k === 'cidr') out.cidr = Array.isArray(v) ? v.map(String) : [String(v)];
    else (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Friendlier words for the schema's errors where the standard ones would puzzle. */
function describe(path: (string | number)[], e: ErrorObject): string | null {
  if (e.keyword === 'oneOf' && path[0] === 'rules' && path.length === 2) {
    const passing = (e.params as { passingSchemas: number[] | null }).passingSchemas;
    return passing ? 'a rule takes only one of deny, allow, allow-only' : 'a rule needs one of deny, allow, allow-only';
  }
  if (e.keyword === 'pattern' && (path[0] === 'zones' && path.length === 1 || path.includes('from') || path.includes('to') || path.at(-1) === 'name')) {
    return `${JSON.stringify(e.data)} is not a valid name (letters, digits, ".", "_", "-"; up to 63 characters, starting with a letter or digit)`;
  }
  if (e.keyword === 'propertyNames') return null;
  if (e.keyword === 'minProperties' && path[0] === 'zones') return `a selector needs at least one of ${SELECTOR_KEYS.join(', ')}`;
  if (e.keyword === 'pattern' && (path.includes('ports'))) return `${JSON.stringify(e.data)} is not a port or a range like "8000-8100"`;
  if (e.keyword === 'pattern' && path.includes('protocols')) return `must be tcp or udp, got ${JSON.stringify(e.data)}`;
  return null;
}
