// One definition per record: the TypeScript layout must match the compiled object's BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BPF_OBJECT_PATH } from '../src/config/defaults.js';
import { CONN, CONN_SIZE, EVENT, EVENT_SIZE, ENUM_NAMES } from '../src/events/layout.js';

interface BtfType { kind: string; name?: string; size?: number; members?: { name: string; bits_offset: number }[]; values?: { name: string; val: number }[] }

const types: BtfType[] = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', BPF_OBJECT_PATH], { maxBuffer: 64 << 20 }).toString()).types;
const byName = (kind: string, name: string) => {
  const t = types.find((x) => x.kind === kind && x.name === name);
  assert.ok(t, `${kind} ${name} is in the object's BTF`);
  return t;
};

for (const [struct, layout, size] of [['dh_conn', CONN, CONN_SIZE], ['dh_event', EVENT, EVENT_SIZE]] as const) {
  test(`struct ${struct} matches src/events/layout.ts`, () => {
    const t = byName('STRUCT', struct);
    assert.equal(t.size, size, `sizeof(struct ${struct})`);
    const c = Object.fromEntries(t.members!.map((m) => [m.name, m.bits_offset / 8]));
    assert.deepEqual(c, { ...layout });
  });
}

for (const [name, values] of Object.entries(ENUM_NAMES)) {
  test(`enum ${name} matches src/events/layout.ts`, () => {
    const t = byName('ENUM', name);
    assert.deepEqual(Object.fromEntries(t.values!.map((v) => [v.name, v.val])), values);
  });
}
