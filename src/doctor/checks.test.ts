// Unit tests of the pure doctor checks: version comparison, capability parsing, verdicts, table layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CAP, checkBpffs, checkCapture, checkDocker, checkKernel, checkLoad, checkPrivileges, checkTracefs, checkTracepoint, checkVerifierBudget,
  compareVersions, formatTable, hasCap, loadBlocker, mountTypeAt, parseKernelRelease, parseProcStatus,
  tracefsRoot, verdict, wrap, type CheckResult,
} from './checks.js';

test('parseKernelRelease reads distribution release strings', () => {
  assert.deepEqual(parseKernelRelease('6.18.44-fc-v782'), [6, 18, 44]);
  assert.deepEqual(parseKernelRelease('5.15.0-91-generic'), [5, 15, 0]);
  assert.deepEqual(parseKernelRelease('6.1'), [6, 1, 0]);
  assert.deepEqual(parseKernelRelease('4.19.0+'), [4, 19, 0]);
  assert.equal(parseKernelRelease('linux'), null);
  assert.equal(parseKernelRelease(''), null);
});

test('compareVersions compares numerically, not as text', () => {
  assert.ok(compareVersions([5, 10], [5, 8]) > 0); // "5.10" < "5.8" as text
  assert.ok(compareVersions([5, 7, 99], [5, 8]) < 0);
  assert.equal(compareVersions([5, 8, 0], [5, 8]), 0);
  assert.ok(compareVersions([6, 0], [5, 8]) > 0);
  assert.ok(compareVersions([4, 19, 300], [5, 8]) < 0);
});

test('checkKernel: ok at and above the minimum, FAIL below with an upgrade hint, warn when unreadable', () => {
  assert.equal(checkKernel('5.8.0', [5, 8]).status, 'ok');
  assert.equal(checkKernel('6.18.44-fc-v782', [5, 8]).status, 'ok');
  const old = checkKernel('5.4.0-150-generic', [5, 8]);
  assert.equal(old.status, 'FAIL');
  assert.match(old.hint ?? '', />= 5\.8/);
  assert.equal(checkKernel('weird', [5, 8]).status, 'warn');
});

const status = (uid: number, capEff: string) =>
  `Name:\tnode\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;
const mask = (...bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0');

test('parseProcStatus reads the effective uid and the CapEff mask', () => {
  const s = parseProcStatus(status(0, '000001fffeffffff'));
  assert.equal(s.euid, 0);
  assert.equal(s.capEff, 0x000001fffeffffffn);
  // Effective uid is the second Uid field, not the first.
  assert.equal(parseProcStatus('Uid:\t1000\t0\t0\t0\nCapEff:\t0\n').euid, 0);
  assert.deepEqual(parseProcStatus('nothing here'), { euid: null, capEff: null });
});

test('hasCap tests single bits above 32 (CAP_BPF is 39)', () => {
  const m = BigInt(`0x${mask(CAP.BPF, CAP.PERFMON)}`);
  assert.ok(hasCap(m, 39));
  assert.ok(hasCap(m, 38));
  assert.ok(!hasCap(m, 21));
  assert.ok(hasCap(0x000001fffeffffffn, CAP.SYS_ADMIN));
});

test('checkPrivileges: CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN pass; neither fails with a concrete hint', () => {
  assert.equal(checkPrivileges(parseProcStatus(status(1000, mask(CAP.BPF, CAP.PERFMON)))).status, 'ok');
  assert.equal(checkPrivileges(parseProcStatus(status(1000, mask(CAP.SYS_ADMIN)))).status, 'ok');
  assert.equal(checkPrivileges(parseProcStatus(status(0, '000001fffeffffff'))).status, 'ok');
  const onlyBpf = checkPrivileges(parseProcStatus(status(1000, mask(CAP.BPF))));
  assert.equal(onlyBpf.status, 'FAIL');
  assert.match(onlyBpf.hint ?? '', /run as root or grant CAP_BPF,CAP_PERFMON/);
  // Root with its capabilities dropped: allowed, but flagged.
  assert.equal(checkPrivileges(parseProcStatus(status(0, mask()))).status, 'warn');
});

test('checkTracefs: explicit root is used as given, never mounted; default path missing gives the mount command', () => {
  const explicit = { kind: 'explicit', path: '/tmp/x', source: '--tracefs', hasEvents: true } as const;
  assert.equal(checkTracefs(explicit).status, 'ok');
  assert.equal(tracefsRoot(explicit), '/tmp/x');
  const empty = { ...explicit, hasEvents: false };
  assert.equal(checkTracefs(empty).status, 'FAIL');
  assert.equal(tracefsRoot(empty), null);
  const none = checkTracefs({ kind: 'default', path: null, mountedNow: false });
  assert.equal(none.status, 'FAIL');
  assert.match(none.hint ?? '', /^mount -t tracefs nodev \/sys\/kernel\/tracing/);
  const hidden = checkTracefs({ kind: 'default', path: null, mountedNow: false, unreadable: '/sys/kernel/tracing' });
  assert.equal(hidden.status, 'FAIL');
  assert.match(hidden.detail, /cannot be read/);
  assert.match(hidden.hint ?? '', /run as root/);
  const mounted = checkTracefs({ kind: 'default', path: '/sys/kernel/tracing', mountedNow: true });
  assert.equal(mounted.status, 'ok');
  assert.match(mounted.detail, /mounted it at/);
});

test('checkTracepoint: missing tracepoint FAILs, no tracefs skips', () => {
  const miss = checkTracepoint('tcp/tcp_retransmit_skb', '/t', false);
  assert.equal(miss.check, 'tracepoint tcp:tcp_retransmit_skb');
  assert.equal(miss.status, 'FAIL');
  assert.match(miss.detail, /^missing: \/t\/events\/tcp\/tcp_retransmit_skb$/);
  assert.ok(miss.hint);
  assert.equal(checkTracepoint('sock/inet_sock_set_state', '/t', true).status, 'ok');
  assert.equal(checkTracepoint('sock/inet_sock_set_state', null, null).status, 'skipped');
});

test('mountTypeAt and checkBpffs', () => {
  const mounts = 'sysfs /sys sysfs rw 0 0\nnodev /sys/kernel/tracing tracefs rw 0 0\nbpf /sys/fs/bpf bpf rw,relatime 0 0\n';
  assert.equal(mountTypeAt(mounts, '/sys/fs/bpf'), 'bpf');
  assert.equal(mountTypeAt(mounts, '/sys/kernel/debug'), null);
  assert.equal(mountTypeAt('a /my\\040dir ext4 rw 0 0\n', '/my dir'), 'ext4');
  assert.equal(checkBpffs('bpf').status, 'ok');
  const missing = checkBpffs(null);
  assert.deepEqual([missing.status, missing.hint], ['ok', null], 'the agent never needs it: no warning sends anyone to mount it');
  assert.match(missing.detail, /not mounted at \/sys\/fs\/bpf \(Dhrishti does not need it\)/);
});

test('checkDocker only ever warns', () => {
  assert.equal(checkDocker({ kind: 'ok', detail: 'API 1.43' }).status, 'ok');
  assert.equal(checkDocker({ kind: 'missing' }).status, 'warn');
  const denied = checkDocker({ kind: 'error', code: 'EACCES', message: 'EACCES: permission denied' });
  assert.equal(denied.status, 'warn');
  assert.match(denied.hint ?? '', /docker group/);
});

test('checkCapture: a capture whose code loaded is ok; one the kernel refused is a warning that carries the reason', () => {
  const on = checkCapture({ name: 'request capture (L7)', unavailable: null });
  assert.equal(on.status, 'ok');
  assert.equal(on.check, 'request capture (L7)');
  const reason = 'the kernel rejected its programs (cannot load BPF object (verifier or permissions): Permission denied; the verifier refused dh_sock_send_length: combined stack size of 2 calls is 544. Too large)';
  const off = checkCapture({ name: 'request capture (L7)', unavailable: reason });
  assert.equal(off.status, 'warn');
  assert.equal(off.detail, `off: ${reason}`);
  assert.match(off.hint ?? '', /runs without it/);
  assert.equal(verdict([on, off]).canRun, true);
});

test('checkVerifierBudget names the costliest program and warns past 80% of the budget', () => {
  const fine = checkVerifierBudget({ dh_tcp_send_reset: 40, dh_sock_send_length: 337_771, dh_sock_recv_length: 336_092 });
  assert.equal(fine.status, 'ok');
  assert.equal(fine.detail, 'the costliest program, dh_sock_send_length, took 337,771 of the 1,000,000 instructions the verifier may process (34%)');
  const near = checkVerifierBudget({ dh_sock_send_length: 951_787 });
  assert.equal(near.status, 'warn');
  assert.match(near.detail, /951,787 of the 1,000,000 .* \(95%\)/);
  assert.match(near.hint ?? '', /uname -r/);
  assert.equal(checkVerifierBudget({ dh_x: 800_000 }).status, 'ok', 'at the threshold: ok');
  assert.equal(checkVerifierBudget({}).status, 'skipped', 'a kernel that does not report it');
});

test('checkLoad and loadBlocker', () => {
  const probes = [
    { program: 'dh_inet_sock_set_state', section: 'tp_btf/inet_sock_set_state', ok: true },
    { program: 'dh_ssl_write', section: 'uprobe', ok: false, error: 'ENOENT' },
  ];
  assert.equal(checkLoad({ kind: 'loaded', probes: [probes[0]], ms: 12.3, captures: [], verified: {} }).status, 'ok');
  const partial = checkLoad({ kind: 'loaded', probes, ms: 12.3, captures: [], verified: {} });
  assert.equal(partial.status, 'warn');
  assert.match(partial.detail, /uprobe \(ENOENT\)/);
  const perm = checkLoad({ kind: 'error', message: 'cannot load BPF object (verifier or permissions): Operation not permitted' });
  assert.equal(perm.status, 'FAIL');
  assert.match(perm.hint ?? '', /CAP_BPF,CAP_PERFMON/);
  const skippedLine = checkLoad({ kind: 'skipped', reason: 'x' });
  assert.equal(skippedLine.status, 'skipped');
  assert.equal(skippedLine.hint, null);

  const okLine: CheckResult = { check: 'a', status: 'ok', detail: '', hint: null };
  const warnLine: CheckResult = { check: 'b', status: 'warn', detail: '', hint: 'h' };
  const failLine: CheckResult = { check: 'c', status: 'FAIL', detail: '', hint: 'h' };
  assert.equal(loadBlocker([okLine, warnLine]), null);
  assert.match(loadBlocker([okLine, failLine]) ?? '', /1 earlier check failed \(c\)/);
});

test('verdict counts FAIL lines as problems; warnings do not stop the agent', () => {
  const line = (status: CheckResult['status']): CheckResult => ({ check: status, status, detail: '', hint: null });
  assert.deepEqual(verdict([line('ok'), line('warn'), line('skipped')]),
    { canRun: true, problems: 0, warnings: 1, line: 'Dhrishti can run here (1 warning)' });
  assert.equal(verdict([line('ok')]).line, 'Dhrishti can run here');
  const bad = verdict([line('FAIL'), line('FAIL'), line('warn')]);
  assert.equal(bad.canRun, false);
  assert.equal(bad.line, 'Dhrishti cannot run here: 2 problems');
  assert.equal(verdict([line('FAIL')]).line, 'Dhrishti cannot run here: 1 problem');
});

test('wrap breaks at spaces and splits words longer than the width', () => {
  assert.deepEqual(wrap('one two three', 7), ['one two', 'three']);
  assert.deepEqual(wrap('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  assert.deepEqual(wrap('', 5), ['']);
  for (const l of wrap('a fairly long sentence that must wrap several times over', 10)) assert.ok(l.length <= 10);
});

test('formatTable aligns columns, shows hints only where given, and wraps long details', () => {
  const rows: CheckResult[] = [
    { check: 'kernel', status: 'ok', detail: 'Linux 6.1', hint: null },
    { check: 'bpffs', status: 'warn', detail: 'not mounted', hint: 'mount -t bpf bpf /sys/fs/bpf' },
    { check: 'probe load', status: 'skipped', detail: 'x '.repeat(20).trim(), hint: null },
  ];
  const lines = formatTable(rows, 12).split('\n');
  assert.match(lines[0], /^CHECK\s+STATUS\s+DETAIL\s+FIX$/);
  const statusCol = lines[0].indexOf('STATUS');
  const detailCol = lines[0].indexOf('DETAIL');
  const fixCol = lines[0].indexOf('FIX');
  assert.equal(lines[1].indexOf('ok'), statusCol);
  assert.equal(lines[1].trimEnd(), lines[1]); // no hint, no trailing blanks
  assert.equal(lines[2].indexOf('warn'), statusCol);
  assert.equal(lines[2].indexOf('not mounted'), detailCol);
  assert.equal(lines[2].indexOf('mount -t bpf'), fixCol);
  // 39 characters of detail in a 12-wide column: 4 lines, continuation lines start at the detail column.
  assert.equal(lines.length, 3 + 4);
  for (const l of lines.slice(4)) assert.equal(l.search(/\S/), detailCol);
});

test('formatTable does not cut a path that is longer than the detail width', () => {
  const long = '/tmp/dhrishti-doctor-abcdef/tracefs/events/tcp/tcp_retransmit_skb';
  const out = formatTable([{ check: 'tp', status: 'FAIL', detail: `missing: ${long}`, hint: 'fix it' }], 40);
  assert.match(out, /missing:\s+fix it\n\s+\/tmp/);
  assert.ok(out.endsWith(long), out);
});
