// One definition per record: src/events/dns-layout.ts must match src/kernel/dns.h as compiled (BTF).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BPF_OBJECT_PATH } from '../src/config/defaults.js';
import {
  DNS_EVENT, DNS_EVENT_SIZE, DNS_CONFIG, DNS_CONFIG_SIZE, DNS_PEER, DNS_PEER_SIZE, DNS_ENUM_NAMES, DNS_DATA_MAX,
  DNS_CONFIG_PORTS, DNS_COMM_LEN,
} from '../src/events/dns-layout.js';

interface BtfMember { name: string; type_id: number; bits_offset: number }
interface BtfType { id: number; kind: string; name?: string; size?: number; nr_elems?: number; members?: BtfMember[]; values?: { name: string; val: number }[] }

const types: BtfType[] = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', BPF_OBJECT_PATH], { maxBuffer: 64 << 20 }).toString()).types;
const byName = (kind: string, name: string) => {
  const t = types.find((x) => x.kind === kind && x.name === name);
  assert.ok(t, `${kind} ${name} is in the object's BTF`);
  return t;
};
const arrayLength = (struct: string, member: string) => {
  const m = byName('STRUCT', struct).members!.find((x) => x.name === member)!;
  return types.find((x) => x.id === m.type_id)!.nr_elems;
};

for (const [struct, layout, size] of [
  ['dh_dns_event', DNS_EVENT, DNS_EVENT_SIZE],
  ['dh_dns_config', DNS_CONFIG, DNS_CONFIG_SIZE],
  ['dh_dns_peer', DNS_PEER, DNS_PEER_SIZE],
] as const) {
  test(`struct ${struct} matches src/events/dns-layout.ts`, () => {
    const t = byName('STRUCT', struct);
    assert.equal(t.size, size, `sizeof(struct ${struct})`);
    assert.deepEqual(Object.fromEntries(t.members!.map((m) => [m.name, m.bits_offset / 8])), { ...layout });
  });
}

test('array lengths match: data, comm, ports', () => {
  assert.equal(arrayLength('dh_dns_event', 'data'), DNS_DATA_MAX);
  assert.equal(arrayLength('dh_dns_event', 'comm'), DNS_COMM_LEN);
  assert.equal(arrayLength('dh_dns_config', 'ports'), DNS_CONFIG_PORTS);
});

for (const [name, values] of Object.entries(DNS_ENUM_NAMES)) {
  test(`enum ${name} matches src/events/dns-layout.ts`, () => {
    const t = byName('ENUM', name);
    assert.deepEqual(Object.fromEntries(t.values!.map((v) => [v.name, v.val])), values);
  });
}
