// One definition per record: the L7 TypeScript layout must match the compiled object's BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BPF_OBJECT_PATH } from '../src/config/defaults.js';
import * as L from '../src/events/l7-layout.js';
import { EVENT_SIZE } from '../src/events/layout.js';

interface BtfMember { name: string; bits_offset: number; type_id: number }
interface BtfType { id: number; kind: string; name?: string; size?: number; nr_elems?: number; members?: BtfMember[]; values?: { name: string; val: number }[] }

const types: BtfType[] = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', BPF_OBJECT_PATH], { maxBuffer: 64 << 20 }).toString()).types;
const byId = new Map(types.map((t) => [t.id, t]));
const byName = (kind: string, name: string) => {
  const t = types.find((x) => x.kind === kind && x.name === name);
  assert.ok(t, `${kind} ${name} is in the object's BTF`);
  return t;
};

const structs = [
  ['dh_l7_counts', L.L7_COUNTS, L.L7_COUNTS_SIZE],
  ['dh_l7_req', L.L7_REQ, L.L7_REQ_SIZE],
  ['dh_l7_dir', L.L7_DIR, L.L7_DIR_SIZE],
  ['dh_l7_name', L.L7_NAME, L.L7_NAME_SIZE],
  ['dh_l7_sock', L.L7_SOCK, L.L7_SOCK_SIZE],
  ['dh_l7_sample', L.L7_SAMPLE, L.L7_SAMPLE_SIZE],
  ['dh_l7_config', L.L7_CONFIG, L.L7_CONFIG_SIZE],
  ['dh_l7_final', L.L7_FINAL, L.L7_FINAL_SIZE],
] as const;

// The close with its counts is two slots of the events ring: user space reads that ring in EVENT_SIZE slots.
test('struct dh_event_l7 is a dh_event and its counts in a second slot of the same size', () => {
  const t = byName('STRUCT', 'dh_event_l7');
  assert.equal(t.size, L.L7_EVENT_SIZE);
  assert.equal(L.L7_EVENT_SIZE, 2 * EVENT_SIZE);
  const [ev, tail] = t.members!;
  assert.deepEqual([ev.name, ev.bits_offset / 8, byId.get(ev.type_id)?.name], ['ev', L.L7_EVENT.ev, 'dh_event']);
  assert.equal(tail.bits_offset / 8, L.L7_EVENT.counts);
  assert.equal(L.L7_EVENT.counts, EVENT_SIZE);
  const union = byId.get(tail.type_id)!;
  const counts = union.members!.find((m) => m.name === 'counts')!;
  assert.deepEqual([counts.bits_offset, byId.get(counts.type_id)?.name], [0, 'dh_l7_counts']);
});

for (const [struct, layout, size] of structs) {
  test(`struct ${struct} matches src/events/l7-layout.ts`, () => {
    const t = byName('STRUCT', struct);
    assert.equal(t.size, size, `sizeof(struct ${struct})`);
    assert.deepEqual(Object.fromEntries(t.members!.map((m) => [m.name, m.bits_offset / 8])), { ...layout });
  });
}

for (const [struct, arrays] of Object.entries(L.L7_ARRAYS)) {
  test(`array lengths in struct ${struct} match`, () => {
    const t = byName('STRUCT', struct);
    for (const [field, n] of Object.entries(arrays)) {
      const m = t.members!.find((x) => x.name === field)!;
      assert.equal(byId.get(m.type_id)?.nr_elems, n, `${struct}.${field}`);
    }
  });
}

for (const [name, values] of Object.entries(L.L7_ENUM_NAMES)) {
  test(`enum ${name} matches src/events/l7-layout.ts`, () => {
    const t = byName('ENUM', name);
    assert.deepEqual(Object.fromEntries(t.values!.map((v) => [v.name, v.val])), values);
  });
}
