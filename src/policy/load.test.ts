// Reading policy files: the issue's example is accepted unchanged; bad input
// (unknown keys, wrong types, unknown zones, bad CIDRs, cyclic or exploding
// aliases, huge files) is refused with file, line, column and what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicyFile, loadPolicyText } from './load.js';
import { FileError } from './yaml-source.js';
import { unmatchedSelectors } from './coverage.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';

export const EXAMPLE = `zones:
  web-clients: {process: curl}
  files: {process: "python3*"}
  tenant-a: {label: {tenant: a}}
  tenant-b: {compose_project: shop-b}
  partner: {cidr: 203.0.113.0/24}
rules:
  - name: no-curl-to-files
    deny: {from: web-clients, to: files}
  - name: tenant-a-stays-home
    allow-only: {from: tenant-a, to: [tenant-a, partner]}
`;

function refused(text: string): FileError {
  try {
    loadPolicyText('p.yaml', text);
  } catch (e) {
    assert.ok(e instanceof FileError, `a FileError, got ${(e as Error).stack}`);
    return e;
  }
  assert.fail('the policy was accepted');
}

test("the issue's example file is accepted unchanged", () => {
  const p = loadPolicyText('p.yaml', EXAMPLE);
  assert.deepEqual(p.spec.zones.map((z) => z.name), ['web-clients', 'files', 'tenant-a', 'tenant-b', 'partner']);
  assert.deepEqual(p.spec.rules.map((r) => [r.name, r.action, r.from, r.to]), [
    ['no-curl-to-files', 'deny', ['web-clients'], ['files']],
    ['tenant-a-stays-home', 'allow-only', ['tenant-a'], ['tenant-a', 'partner']],
  ]);
  assert.deepEqual(p.spec.zones[3].selectors, [{ compose_project: 'shop-b' }]);
  assert.deepEqual(p.spec.zones[4].selectors, [{ cidr: ['203.0.113.0/24'] }]);
  assert.match(p.warnings[0], /p\.yaml:5:3: zone "tenant-b" is not used by any rule/);
  assert.equal(p.sha256.length, 64);
});

test('the full format: selector lists, every selector key, ports and protocols', () => {
  const p = loadPolicyText('p.yaml', `version: 1
zones:
  db: [{image: "postgres:*"}, {compose_service: db, compose_project: "shop-*"}]
  ops: {label: {team: ops, oncall: "*"}, kind: service}
  k8s: {namespace: prod}
  box: {name: "legacy-*"}
  net: {cidr: [10.0.0.0/8, "2001:db8::/32"]}
rules:
  - name: web-db
    description: only the API reaches the db
    allow: {from: ops, to: db, ports: [5432, "6000-6010"], protocols: tcp}
  - name: rest
    deny: {from: [k8s, box, net, any], to: [db, host, external]}
`);
  assert.deepEqual(p.spec.rules[0].ports, [[5432, 5432], [6000, 6010]]);
  assert.deepEqual(p.spec.rules[0].protocols, ['tcp']);
  assert.deepEqual(p.spec.zones[1].selectors[0].label, { team: 'ops', oncall: '*' });
  assert.equal(p.warnings.length, 0);
});

test('unknown keys are refused where they stand, with the keys that are known', () => {
  const e = refused(`zones:\n  a: {proces: curl}\nrules:\n  - name: r\n    deny: {from: a, to: a}\n    extra: 1\n`);
  const all = e.all();
  assert.equal(all.length, 2);
  assert.deepEqual([all[0].line, all[0].column], [2, 7]);
  assert.match(all[0].message, /zones\.a: unknown key "proces"; known keys: .*process/);
  assert.deepEqual([all[1].line, all[1].column], [6, 5]);
  assert.match(all[1].message, /rules\[0\]: unknown key "extra"/);
  assert.match(e.message, /^p\.yaml:2:7: .* \(and 1 more problem\)$/);
  assert.match(refused('rules: []\nzone: {}\n').message, /^p\.yaml:2:1: unknown key "zone"; known keys: version, zones, rules/);
});

test('wrong types are refused with what was expected and what was found', () => {
  assert.match(refused('rules:\n  - name: r\n    deny: {from: 5, to: a}\n').message, /^p\.yaml:3:18: rules\[0\]\.deny\.from: must be string or array, got number 5/);
  assert.match(refused('rules: {a: 1}\n').message, /^p\.yaml:1:8: rules: must be array, got a mapping/);
  assert.match(refused('zones:\n  a: {process: curl}\nrules:\n  - name: r\n    deny: {from: a, to: a, ports: [80, "http"]}\n').message, /5:40: rules\[0\]\.deny\.ports\[1\]: "http" is not a port/);
  assert.match(refused('rules:\n  - name: r\n    deny: {from: a, to: a, protocols: sctp}\n').message, /protocols: must be tcp or udp/);
  assert.match(refused('zones:\n  a: {label: {tenant: [a]}}\nrules: []\n').message, /zones\.a\.label\.tenant: must be string or number or boolean, got a list/);
  assert.match(refused('version: 2\nrules: []\n').message, /version: must be 1, got 2/);
});

test('rules need exactly one action, a unique name, and zones that exist', () => {
  assert.match(refused('rules:\n  - name: r\n').message, /^p\.yaml:2:5: rules\[0\]: a rule needs one of deny, allow, allow-only/);
  assert.match(refused('rules:\n  - name: r\n    deny: {from: any, to: any}\n    allow: {from: any, to: any}\n').message, /a rule takes only one of deny, allow, allow-only/);
  assert.match(refused('rules:\n  - deny: {from: any, to: any}\n').message, /rules\[0\]: missing "name"/);
  const dup = refused('rules:\n  - name: r\n    deny: {from: any, to: any}\n  - name: r\n    allow: {from: any, to: any}\n');
  assert.match(dup.message, /^p\.yaml:4:11: rules\[1\]\.name: rule name "r" is already used by rules\[0\]/);
  const unknown = refused('zones:\n  a: {process: x}\nrules:\n  - name: r\n    deny: {from: a, to: [a, b]}\n');
  assert.match(unknown.message, /^p\.yaml:5:29: rules\[0\]\.deny\.to\[1\]: unknown zone "b"; defined: any, external, host, a/);
  assert.match(refused('zones:\n  host: {process: x}\nrules: []\n').message, /"host" is a built-in zone/);
  assert.match(refused('zones:\n  "bad name": {process: x}\nrules: []\n').message, /2:3: zones: "bad name" is not a valid name/);
  assert.match(refused('zones:\n  a: {}\nrules: []\n').message, /zones\.a: a selector needs at least one of/);
});

test('CIDRs and port ranges must make sense', () => {
  const e = refused('zones:\n  p: {cidr: [203.0.113.0/24, 203.0.113.9, 300.1.1.1/8, 10.0.0.1/8, "2001:db8::1/32"]}\nrules:\n  - name: r\n    deny: {from: any, to: p, ports: "90-80"}\n');
  const all = e.all().map((x) => `${x.line}:${x.column} ${x.message}`);
  assert.match(all[0], /^2:30 zones\.p\.cidr\[1\]: "203\.0\.113\.9" needs a prefix length, e\.g\. 203\.0\.113\.9\/32/);
  assert.match(all[1], /^2:43 zones\.p\.cidr\[2\]: "300\.1\.1\.1\/8" is not a CIDR/);
  assert.match(all[2], /zones\.p\.cidr\[3\]: "10\.0\.0\.1\/8" has bits set past its \/8: write the range as 10\.0\.0\.0\/8, or the host as 10\.0\.0\.1\/32/);
  assert.match(all[3], /zones\.p\.cidr\[4\]: "2001:db8::1\/32" has bits set past its \/32: write the range as 2001:db8::\/32/);
  assert.match(all[4], /^5:37 rules\[0\]\.deny\.ports: "90-80" is not a port/);
});

test('YAML errors, empty files and duplicate keys carry positions', () => {
  assert.match(refused('rules: [\n').message, /^p\.yaml:2:1: /);
  assert.match(refused('').message, /^p\.yaml:1:1: the policy is empty/);
  assert.match(refused('rules: []\nrules: []\n').message, /^p\.yaml:2:1: Map keys must be unique/);
});

test('aliases: a cycle and an exponential expansion (billion laughs) are refused, plain reuse is fine', () => {
  assert.match(refused('x: &a [*a]\nrules: []\n').message, /^p\.yaml:1:8: alias \*a refers to a node that contains it \(a cycle\)/);
  let lol = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++) { const p = String.fromCharCode(96 + i), c = String.fromCharCode(97 + i); lol += `${c}: &${c} [${Array(9).fill(`*${p}`).join(', ')}]\n`; }
  const t0 = performance.now();
  assert.match(refused(lol + 'rules: []\n').message, /aliases expand to too much data/);
  assert.ok(performance.now() - t0 < 1000, 'refused without expanding');
  const ok = loadPolicyText('p.yaml', 'zones:\n  a: &sel {process: curl}\n  b: *sel\nrules:\n  - name: r\n    deny: {from: a, to: b}\n');
  assert.deepEqual(ok.spec.zones[1].selectors, [{ process: 'curl' }]);
});

test('a file over the size limit is refused before it is parsed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-policy-'));
  try {
    const big = path.join(dir, 'big.yaml');
    fs.writeFileSync(big, `rules: []\n# ${'x'.repeat(POLICY_DEFAULTS.maxFileBytes)}\n`);
    assert.throws(() => loadPolicyFile(big), (e: Error) => e instanceof FileError && /big\.yaml:1:1: the file is 256 KiB; the limit is 256 KiB|the file is .* the limit is 256 KiB/.test(e.message));
    assert.throws(() => loadPolicyFile(path.join(dir, 'none.yaml')), /none\.yaml:1:1: cannot read the file: no such file/);
    assert.throws(() => loadPolicyFile(dir), /not a regular file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a selector matching nothing that runs is a warning naming the zone and its line', () => {
  const p = loadPolicyText('p.yaml', EXAMPLE);
  const curl = { id: 'proc:curl', kind: 'process' as const, label: 'curl', group: 'host', instances: [], ips: [] };
  const w = unmatchedSelectors(p, [curl]);
  assert.equal(w.length, 4);
  assert.match(w[0], /^p\.yaml:3:10: zone "files": selector \{process: python3\*\} matches nothing on the map yet/);
  assert.ok(!w.some((x) => x.includes('web-clients')));
});

test('a rule that can only match DNS queries (port 53, or UDP) is warned about: rules judge TCP connections, resolver edges are not judged', () => {
  const text = 'rules:\n  - name: no-dns\n    deny: {from: any, to: any, ports: [53]}\n  - name: udp-only\n    deny: {from: any, to: host, protocols: udp}\n  - name: fine\n    deny: {from: any, to: host, ports: [53, 80]}\n';
  const p = loadPolicyText('p.yaml', text);
  assert.equal(p.warnings.length, 2, p.warnings.join('\n'));
  assert.match(p.warnings[0], /p\.yaml:3:5: rule "no-dns" can match nothing: .*resolver edges/);
  assert.match(p.warnings[1], /rule "udp-only" can match nothing/);
});

test('a zone that matches a credential label by value is warned about: such a label is published as ***; by presence it is fine', () => {
  const text = 'zones:\n  a: {label: {app.db-password: s3}}\n  b: {label: {app.api-key: "*", tenant: b}}\nrules:\n  - name: r\n    deny: {from: a, to: b}\n';
  const p = loadPolicyText('p.yaml', text);
  assert.equal(p.warnings.length, 1, p.warnings.join('\n'));
  assert.match(p.warnings[0], /p\.yaml:2:3: zone "a" selector 1 matches label "app\.db-password" by value, but .* can match only "\*"/);
});
