// One definition per record: the TypeScript layout must match the compiled object's BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BPF_OBJECT_PATH, OPTIONAL_PROGRAMS, REQUIRED_TRACEPOINTS } from '../src/config/defaults.js';
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

// One list of probes: the tracepoints `dhrishti doctor` checks (REQUIRED_TRACEPOINTS) and the programs
// the object holds must be the same set, named as the doctor and the engine expect (dh_<tracepoint>).
test('the BPF object has a program for each required tracepoint, and no other', () => {
  const sections = new Map<number, string>();
  for (const line of execFileSync('readelf', ['-S', '--wide', BPF_OBJECT_PATH], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S+)/.exec(line);
    if (m) sections.set(Number(m[1]), m[2]);
  }
  const programs: { fn: string; section: string }[] = [];
  for (const line of execFileSync('readelf', ['-s', '--wide', BPF_OBJECT_PATH], { encoding: 'utf8' }).split('\n')) {
    const m = /\sFUNC\s+GLOBAL\s+\S+\s+(\d+)\s+(\S+)$/.exec(line);
    if (m) programs.push({ fn: m[2], section: sections.get(Number(m[1])) ?? '?' });
  }
  assert.ok(programs.length > 0, 'programs found in the object');
  const tracepointOf = (section: string) => {
    const parts = section.split('/');
    assert.ok(parts[0] === 'tp_btf' || parts[0] === 'tracepoint', `${section}: only tracepoints and tp_btf (no kprobes or fentry)`);
    return parts.slice(1);
  };
  const required = REQUIRED_TRACEPOINTS.map((t) => t.split('/'));
  for (const p of programs) {
    const tp = tracepointOf(p.section);
    const name = tp.at(-1)!;
    assert.equal(p.fn, `dh_${name}`, `${p.section}: the program is named after its tracepoint`);
    assert.ok(required.some(([cat, n]) => n === name && (tp.length === 1 || tp[0] === cat)), `${p.section} is in REQUIRED_TRACEPOINTS (src/config/defaults.ts)`);
  }
  for (const [cat, name] of required) {
    assert.ok(programs.some((p) => { const tp = tracepointOf(p.section); return tp.at(-1) === name && (tp.length === 1 || tp[0] === cat); }), `${cat}/${name} has a program`);
  }
  for (const fn of OPTIONAL_PROGRAMS) assert.ok(programs.some((p) => p.fn === fn), `optional program ${fn} exists`);
});
