// A compose file read as Compose reads it: YAML with merge keys, checked
// against the Compose Specification's JSON Schema (as shipped by the maintained
// dclint package), variables interpolated from the environment and the .env
// file beside it. What Dhrishti needs from it: per service, its networks, the
// names it answers to, what it depends on and links to, its environment (with
// positions), and the ports it publishes.
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { readYamlFile, schemaErrors, positionOf, combine, FileError } from '../policy/yaml-source.js';

export interface Position { file: string; line: number; column: number }

export interface ComposeService {
  name: string;
  /** Node id on the map: svc:<project>/<service>. */
  node: string;
  /** Actual network names it is attached to ([] for network_mode host/none). */
  networks: string[];
  /** network_mode when set (host, none, service:x, container:x). */
  networkMode: string | null;
  /** Names other containers reach it by on its networks: service name, container_name, aliases. */
  hostnames: string[];
  dependsOn: { service: string; at: Position }[];
  links: { service: string; alias: string; at: Position }[];
  environment: { key: string; value: string; at: Position }[];
  /** Container ports published on the host. */
  published: number[];
  at: Position;
}

export interface ComposeProject {
  file: string;
  project: string;
  sha256: string;
  services: Map<string, ComposeService>;
}

const require = createRequire(import.meta.url);
let validator: ReturnType<Ajv['compile']> | null = null;

/** The Compose Specification schema from dclint's package, compiled once. */
function composeValidator() {
  if (validator) return validator;
  const file = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  const { $schema: _drop, ...schema } = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  validator = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, verbose: true }).compile(schema);
  return validator;
}

/** Compose's own normalisation: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProject(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export function loadComposeFile(file: string, opts: { project?: string; env?: NodeJS.ProcessEnv } = {}): ComposeProject {
  const src = readYamlFile(file, { merge: true });
  if (!src.data || typeof src.data !== 'object') throw new FileError(file, 1, 1, 'not a compose file: expected a mapping with "services:"');
  const errors = schemaErrors(src, composeValidator());
  if (errors.length) throw combine(errors.slice(0, 20));
  const data = src.data as ComposeDoc;
  if (!data.services || !Object.keys(data.services).length) throw new FileError(file, 1, 1, 'the compose file defines no services');
  const vars = variables(file, opts.env ?? process.env);
  const interp = (s: string) => interpolate(s, vars);
  const project = normalizeProject(opts.project ?? (data.name ? interp(data.name) : undefined) ?? vars.COMPOSE_PROJECT_NAME ?? path.basename(path.dirname(path.resolve(file))));
  if (!project) throw new FileError(file, 1, 1, 'cannot tell the compose project name: give the file a "name:"');
  const pos = (p: (string | number)[]): Position => ({ file, ...positionOf(src, p) });

  const netName = (key: string) => {
    const n = data.networks?.[key];
    if (n?.name) return interp(n.name);
    if (n?.external === true || (typeof n?.external === 'object' && n.external)) return key;
    return `${project}_${key}`;
  };
  const services = new Map<string, ComposeService>();
  for (const [name, s] of Object.entries(data.services)) {
    const base = ['services', name];
    const nets = s.networks === undefined ? null : Array.isArray(s.networks) ? Object.fromEntries(s.networks.map((n) => [n, null])) : s.networks;
    const mode = s.network_mode ? interp(s.network_mode) : null;
    const networks = mode ? [] : Object.keys(nets ?? { default: null }).map(netName);
    const aliases = Object.values(nets ?? {}).flatMap((n) => (n && typeof n === 'object' && Array.isArray(n.aliases) ? n.aliases.map(String) : []));
    const dependsOn = s.depends_on === undefined ? [] : (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on))
      .map((d, i) => ({ service: d, at: pos(Array.isArray(s.depends_on) ? [...base, 'depends_on', i] : [...base, 'depends_on', d]) }));
    const links = (s.links ?? []).map((l, i) => {
      const [svc, alias] = l.split(':');
      return { service: svc, alias: alias ?? svc, at: pos([...base, 'links', i]) };
    });
    const environment = envOf(s.environment, interp, (k, i) => pos(i === undefined ? [...base, 'environment', k] : [...base, 'environment', i]));
    const published = (s.ports ?? []).flatMap((p) => publishedPorts(typeof p === 'object' ? p : interp(String(p))));
    services.set(name, {
      name, node: `svc:${project}/${name}`, networks, networkMode: mode,
      hostnames: [...new Set([name, ...(s.container_name ? [interp(s.container_name)] : []), ...aliases])],
      dependsOn, links, environment, published, at: pos(base),
    });
  }
  // network_mode service:x shares x's network namespace, hence its networks.
  for (const s of services.values()) {
    const m = /^service:(.+)$/.exec(s.networkMode ?? '');
    if (m && services.has(m[1])) s.networks = [...services.get(m[1])!.networks];
  }
  const problems: FileError[] = [];
  for (const s of services.values()) {
    for (const d of [...s.dependsOn, ...s.links]) {
      if (!services.has(d.service)) problems.push(new FileError(file, d.at.line, d.at.column, `services.${s.name}: refers to service "${d.service}", which the file does not define`));
    }
  }
  if (problems.length) throw combine(problems);
  return { file, project, sha256: src.sha256, services };
}

interface ComposeNetworkRef { aliases?: unknown[] }
interface ComposeServiceDoc {
  networks?: string[] | Record<string, ComposeNetworkRef | null>;
  network_mode?: string;
  container_name?: string;
  depends_on?: string[] | Record<string, unknown>;
  links?: string[];
  environment?: string[] | Record<string, string | number | boolean | null>;
  ports?: (string | number | { target?: number | string; published?: number | string })[];
}
interface ComposeDoc {
  name?: string;
  services?: Record<string, ComposeServiceDoc>;
  networks?: Record<string, { name?: string; external?: boolean | { name?: string } } | null>;
}

function envOf(env: ComposeServiceDoc['environment'], interp: (s: string) => string, at: (k: string, i?: number) => Position): ComposeService['environment'] {
  if (!env) return [];
  if (Array.isArray(env)) {
    return env.map((line, i) => {
      const eq = line.indexOf('=');
      return eq < 0 ? null : { key: line.slice(0, eq), value: interp(line.slice(eq + 1)), at: at('', i) };
    }).filter((x): x is NonNullable<typeof x> => !!x);
  }
  return Object.entries(env).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => ({ key: k, value: interp(String(v)), at: at(k) }));
}

/** "8080", "127.0.0.1:18080:8080", "8000-8001:8000-8001/tcp", {target: 80, published: 8080}: the container ports that are published. */
function publishedPorts(p: string | { target?: number | string; published?: number | string }): number[] {
  if (typeof p === 'object') return p.published !== undefined && p.target !== undefined ? [Number(p.target)] : [];
  const spec = p.replace(/\/(tcp|udp|sctp)$/, '');
  const parts = spec.split(':');
  if (parts.length < 2) return []; // only a container port: exposed to a random host port, still published
  const target = parts.at(-1)!;
  const [lo, hi] = target.split('-').map(Number);
  if (!Number.isInteger(lo)) return [];
  const out: number[] = [];
  for (let x = lo; x <= (hi || lo) && out.length < 1000; x++) out.push(x);
  return out;
}

/** The environment compose would interpolate from: the process's, over the .env file beside the compose file. */
function variables(file: string, env: NodeJS.ProcessEnv): Record<string, string> {
  let dotenv: Record<string, string> = {};
  const f = path.join(path.dirname(path.resolve(file)), '.env');
  try { if (fs.statSync(f).size < 1 << 20) dotenv = util.parseEnv(fs.readFileSync(f, 'utf8')) as Record<string, string>; } catch { /* no .env */ }
  const out: Record<string, string> = { ...dotenv };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR:+alt}, $VAR and $$ as Compose reads them (unset without a default: empty). */
export function interpolate(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name?: string, op?: string, arg?: string, bare?: string) => {
    if (m === '$$') return '$';
    if (bare) return vars[bare] ?? '';
    const v = vars[name!];
    const unsetOrEmpty = v === undefined || (op?.startsWith(':') && v === '');
    switch (op) {
      case ':-': case '-': return unsetOrEmpty ? interpolate(arg ?? '', vars) : v!;
      case ':+': case '+': return unsetOrEmpty ? '' : interpolate(arg ?? '', vars);
      default: return v ?? '';
    }
  });
}
