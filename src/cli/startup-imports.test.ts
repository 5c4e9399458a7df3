// What every `dhrishti` start loads of the project's own imports: the static
// imports of the compiled CLI (the walk stops at packages; what a package
// loads in turn is its own). Pushers (OTLP, remote-write) and the policy and
// compose code are imported when their flags or commands ask for them: an
// agent that uses none of them does not carry them (resident memory, and heap
// that V8 marks at every full collection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.resolve(HERE, '..');

/**
 * Packages the project's code must not import on a plain start, and the module that imports each when asked.
 * (ajv and ipaddr.js are not here: fastify loads them for its own schemas and proxy addresses.)
 */
const ON_DEMAND: [pkg: string, loadedBy: string][] = [
  ['@opentelemetry/sdk-metrics', 'export/otlp.js'],
  ['@opentelemetry/exporter-metrics-otlp-http', 'export/otlp.js'],
  ['protobufjs', 'export/remote-write.js'],
  ['snappy', 'export/remote-write.js'],
  ['yaml', 'policy/yaml-source.js'],
  ['picomatch', 'policy/selectors.js'],
];

/** Loaded by no product code: dockerode also brings gRPC and protobufjs (BuildKit sessions); the agent talks to Docker through docker-modem. */
const NEVER = ['dockerode'];

// Static imports and re-exports, side-effect imports included; `import(...)` is not one.
const STATIC = /^\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Bare package names reached through static imports from `entry` (a compiled file). */
function packagesFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const pkgs = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(STATIC)) {
      const spec = m[1];
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) pkgs.add(spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/'));
    }
  };
  walk(entry);
  return pkgs;
}

test('a plain start imports no pusher, policy or compose package', () => {
  const pkgs = packagesFrom(path.join(SRC, 'cli', 'main.js'));
  assert.ok(pkgs.has('fastify') && pkgs.has('commander') && pkgs.has('docker-modem'), `the walk found the CLI's own packages: ${[...pkgs].join(', ')}`);
  const loaded = [...ON_DEMAND.map(([pkg]) => pkg), ...NEVER].filter((pkg) => pkgs.has(pkg));
  assert.deepEqual(loaded, [], 'statically imported by the CLI: import them where their flag or command is handled');
});

test('each on-demand package is still imported by the module that needs it', () => {
  for (const [pkg, by] of ON_DEMAND) assert.ok(packagesFrom(path.join(SRC, by)).has(pkg), `${by} imports ${pkg}`);
});
