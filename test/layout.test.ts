// One definition per record: the TypeScript layout must match the compiled object's BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BPF_OBJECT_PATH, CAPTURE_PROGRAMS, OPTIONAL_TRACEPOINTS, REQUIRED_TRACEPOINTS } from '../src/config/defaults.js';
import { EXEC, EXEC_SIZE, EXEC_ARGS, EXEC_COMM } from '../src/events/proc-layout.js';
import { L7_UPROBES } from '../src/l7/collector.js';
import { CONN, CONN_SIZE, EVENT, EVENT_SIZE, ENUM_NAMES } from '../src/events/layout.js';

interface BtfType { kind: string; name?: string; size?: number; members?: { name: string; bits_offset: number }[]; values?: { name: string; val: number }[] }

const types: BtfType[] = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', BPF_OBJECT_PATH], { maxBuffer: 64 << 20 }).toString()).types;
const byName = (kind: string, name: string) => {
  const t = types.find((x) => x.kind === kind && x.name === name);
  assert.ok(t, `${kind} ${name} is in the object's BTF`);
  return t;
};

for (const [struct, layout, size] of [['dh_conn', CONN, CONN_SIZE], ['dh_event', EVENT, EVENT_SIZE], ['dh_exec', EXEC, EXEC_SIZE]] as const) {
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
// the object holds must be the same set, named as the doctor and the engine expect (dh_<tracepoint>);
// the request capture's programs (src/l7/collector.ts) use the same tracepoints, and uprobes.
test('the BPF object has a program for each required tracepoint, and no other', () => {
  const sections = new Map<number, string>();
  for (const line of execFileSync('readelf', ['-S', '--wide', BPF_OBJECT_PATH], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S+)/.exec(line);
    if (m) sections.set(Number(m[1]), m[2]);
  }
  const programs: { fn: string; section: string }[] = [];
  for (const line of execFileSync('readelf', ['-s', '--wide', BPF_OBJECT_PATH], { encoding: 'utf8' }).split('\n')) {
    const m = /\sFUNC\s+GLOBAL\s+\S+\s+(\d+)\s+(\S+)$/.exec(line);
    const section = m ? sections.get(Number(m[1])) ?? '?' : '';
    // Global functions in .text are subprograms called by programs (verified on their own), not programs.
    if (m && section !== '.text') programs.push({ fn: m[2], section });
  }
  assert.ok(programs.length > 0, 'programs found in the object');
  const tracepointOf = (section: string) => {
    const parts = section.split('/');
    assert.ok(parts[0] === 'tp_btf' || parts[0] === 'tracepoint', `${section}: only tracepoints and tp_btf (no kprobes or fentry)`);
    // Any sys_enter/sys_exit program puts every task of the host on the kernel's slow syscall path.
    assert.ok(!/^(syscalls|raw_syscalls)$/.test(parts[1]) && !/^sys_(enter|exit)/.test(parts.at(-1)!), `${section}: no syscall tracepoints (they slow every syscall on the host)`);
    return parts.slice(1);
  };
  const required = REQUIRED_TRACEPOINTS.map((t) => t.split('/'));
  const listed = [...required, ...OPTIONAL_TRACEPOINTS.map((t) => t.split('/'))];
  const onRequired = (tp: string[]) => listed.some(([cat, n]) => n === tp.at(-1) && (tp.length === 1 || tp[0] === cat));
  const l7Uprobes: string[] = L7_UPROBES;
  const capturePatterns: readonly string[] = Object.values(CAPTURE_PROGRAMS).flat();
  const isCapture = (fn: string) => capturePatterns.some((c) => (c.endsWith('*') ? fn.startsWith(c.slice(0, -1)) : fn === c));
  for (const p of programs) {
    if (l7Uprobes.includes(p.fn)) {
      assert.match(p.section, /^u(ret)?probe/, `${p.fn}: an L7 uprobe (src/l7/collector.ts)`);
      continue;
    }
    const tp = tracepointOf(p.section);
    // Request (L7) and DNS capture ride on the same tracepoints under their own names.
    if (isCapture(p.fn)) continue; // captures may add tracepoints of their own (optional: left out if the kernel refuses them)
    assert.equal(p.fn, `dh_${tp.at(-1)}`, `${p.section}: the program is named after its tracepoint`);
    assert.ok(onRequired(tp), `${p.section} (${p.fn}) is in REQUIRED_TRACEPOINTS or OPTIONAL_TRACEPOINTS (src/config/defaults.ts)`);
  }
  for (const [cat, name] of listed) {
    assert.ok(programs.some((p) => !isCapture(p.fn) && !l7Uprobes.includes(p.fn) && tracepointOf(p.section).at(-1) === name), `${cat}/${name} has a program of its own`);
  }
  for (const fn of L7_UPROBES) assert.ok(programs.some((p) => p.fn === fn), `L7 program ${fn} exists`);
});

test('dh_exec\'s arrays match: argv bytes and comm', () => {
  const t = byName('STRUCT', 'dh_exec');
  assert.equal(EXEC.args + EXEC_ARGS, t.size);
  assert.equal(EXEC.args - EXEC.comm, EXEC_COMM);
});
