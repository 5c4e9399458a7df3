// Pure checks behind `dhrishti doctor`: each turns facts already gathered
// from the system (see gather.ts) into one line of the report. No I/O here,
// so every verdict and hint can be unit-tested.
import { DEFAULTS, REQUIRED_TRACEPOINTS } from '../config/defaults.js';
import { PRIVILEGE_HINT } from '../native/index.js';

export type Status = 'ok' | 'warn' | 'FAIL' | 'skipped';

export interface CheckResult {
  check: string;
  status: Status;
  detail: string;
  /** How to fix it; only for FAIL and warn lines. */
  hint: string | null;
}

const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail, hint: null });
const warn = (check: string, detail: string, hint: string): CheckResult => ({ check, status: 'warn', detail, hint });
const fail = (check: string, detail: string, hint: string): CheckResult => ({ check, status: 'FAIL', detail, hint });
const skipped = (check: string, detail: string): CheckResult => ({ check, status: 'skipped', detail, hint: null });

const minKernelText = DEFAULTS.minKernel.join('.');

// ---- kernel version ----

/** "6.18.44-fc-v782" -> [6, 18, 44]; null when the release does not start with a version. */
export function parseKernelRelease(release: string): number[] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Negative, zero or positive like a sort comparator; missing parts count as 0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function checkKernel(release: string, min: readonly number[] = DEFAULTS.minKernel): CheckResult {
  const v = parseKernelRelease(release);
  const need = min.join('.');
  if (!v) return warn('kernel', `cannot read a version from "${release}"`, `needs Linux >= ${need}; the probe load line below is the real test`);
  if (compareVersions(v, min) < 0) {
    return fail('kernel', `Linux ${release} is older than ${need}`, `upgrade to Linux >= ${need} (ring buffer, tp_btf and boot clock helpers)`);
  }
  return ok('kernel', `Linux ${release} (>= ${need})`);
}

// ---- BTF ----

export function checkBtf(present: boolean, btfPath: string = DEFAULTS.btfPath): CheckResult {
  if (present) return ok('BTF', btfPath);
  return fail('BTF', `missing: ${btfPath}`,
    `kernel built without CONFIG_DEBUG_INFO_BTF=y; use a kernel with BTF (needs >= ${minKernelText}; most distribution kernels have it)`);
}

// ---- privileges ----

/** Capability bit numbers from linux/capability.h. */
export const CAP = { SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;

export interface ProcStatus {
  euid: number | null;
  capEff: bigint | null;
}

/** Reads the effective uid and CapEff mask out of /proc/<pid>/status text. */
export function parseProcStatus(text: string): ProcStatus {
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text);
  const cap = /^CapEff:\s+([0-9a-fA-F]+)\s*$/m.exec(text);
  return { euid: uid ? Number(uid[1]) : null, capEff: cap ? BigInt(`0x${cap[1]}`) : null };
}

export function hasCap(capEff: bigint, bit: number): boolean {
  return ((capEff >> BigInt(bit)) & 1n) === 1n;
}

const PRIV_HINT = PRIVILEGE_HINT;

export function checkPrivileges(s: ProcStatus): CheckResult {
  const caps = s.capEff ?? 0n;
  const bpfPerfmon = hasCap(caps, CAP.BPF) && hasCap(caps, CAP.PERFMON);
  const sysAdmin = hasCap(caps, CAP.SYS_ADMIN);
  const who = s.euid === 0 ? 'root' : s.euid === null ? 'unknown user' : `uid ${s.euid}`;
  const held = [bpfPerfmon && 'CAP_BPF+CAP_PERFMON', sysAdmin && 'CAP_SYS_ADMIN'].filter(Boolean).join(', ');
  if (bpfPerfmon || sysAdmin) return ok('privileges', `${who}, effective ${held}`);
  if (s.euid === 0) {
    // Root whose capabilities were dropped (a container, say): the load line below decides.
    return warn('privileges', 'root, but CapEff lacks CAP_BPF+CAP_PERFMON and CAP_SYS_ADMIN', PRIV_HINT);
  }
  return fail('privileges', `${who} without CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN`, PRIV_HINT);
}

// ---- tracefs and tracepoints ----

export type TracefsFact =
  /** Found at one of the default paths; `mountedNow` when doctor mounted it. */
  | { kind: 'default'; path: string | null; mountedNow: boolean; unreadable?: string }
  /** Given with --tracefs or DHRISHTI_TRACEFS; `hasEvents` when <path>/events exists. */
  | { kind: 'explicit'; path: string; source: string; hasEvents: boolean };

/** The tracefs root the tracepoint checks should read, or null when there is none. */
export function tracefsRoot(f: TracefsFact): string | null {
  if (f.kind === 'explicit') return f.hasEvents ? f.path : null;
  return f.path;
}

export function checkTracefs(f: TracefsFact): CheckResult {
  if (f.kind === 'explicit') {
    if (f.hasEvents) return ok('tracefs', `${f.path} (from ${f.source}; not mounting anything)`);
    return fail('tracefs', `no events/ folder under ${f.path} (from ${f.source})`,
      `point ${f.source} at a tracefs root, the folder holding events/ (usually ${DEFAULTS.tracefsPaths[0]})`);
  }
  if (!f.path && f.unreadable) {
    return fail('tracefs', `mounted at ${f.unreadable} but its events/ cannot be read (permission denied)`, PRIV_HINT);
  }
  if (!f.path) {
    return fail('tracefs', `not mounted at ${DEFAULTS.tracefsPaths.join(' or ')}, and mounting it failed`,
      `mount -t tracefs nodev ${DEFAULTS.tracefsPaths[0]}  (kernel needs CONFIG_TRACING)`);
  }
  return ok('tracefs', f.mountedNow ? `was not mounted; mounted it at ${f.path}` : `mounted at ${f.path}`);
}

export function tracepointHint(tracepoint: string): string {
  const [category, name] = tracepoint.split('/');
  if (name === 'sock_send_length' || name === 'sock_recv_length') {
    return `this kernel lacks ${category}:${name} (newer than ${minKernelText}); upgrade to a recent kernel to count bytes`;
  }
  return `this kernel lacks ${category}:${name}; needs Linux >= ${minKernelText} with networking tracepoints (CONFIG_NET, CONFIG_TRACEPOINTS)`;
}

/** `present` is null when there was no tracefs to look in. */
export function checkTracepoint(tracepoint: string, root: string | null, present: boolean | null): CheckResult {
  const [category, name] = tracepoint.split('/');
  const check = `tracepoint ${category}:${name}`;
  if (root === null || present === null) return skipped(check, 'no tracefs to look in');
  const where = `${root}/events/${tracepoint}`;
  if (present) return ok(check, where);
  const detail = `missing: ${where}`;
  return fail(check, detail, tracepointHint(tracepoint));
}

// ---- bpffs ----

/** File system type mounted at `mountPoint` per /proc/mounts text (last mount wins), or null. */
export function mountTypeAt(procMounts: string, mountPoint: string): string | null {
  let type: string | null = null;
  for (const line of procMounts.split('\n')) {
    const [, where, fstype] = line.split(' ');
    // /proc/mounts escapes spaces as \040.
    if (where !== undefined && where.replace(/\\040/g, ' ') === mountPoint) type = fstype ?? null;
  }
  return type;
}

export function checkBpffs(fstype: string | null, bpffsPath: string = DEFAULTS.bpffsPath): CheckResult {
  if (fstype === 'bpf') return ok('bpffs', `mounted at ${bpffsPath}`);
  const detail = fstype ? `${bpffsPath} holds ${fstype}, not bpf` : `not mounted at ${bpffsPath}`;
  // The agent pins nothing and reads no iterator: said for whoever inspects its programs with bpftool, never a warning.
  return ok('bpffs', `${detail} (Dhrishti does not need it)`);
}

// ---- Docker ----

export type DockerFact =
  | { kind: 'ok'; detail: string }
  | { kind: 'missing' }
  | { kind: 'error'; code: string; message: string };

export function checkDocker(f: DockerFact, socket: string = DEFAULTS.dockerSocket): CheckResult {
  const optional = 'optional: without it the agent names processes, not containers';
  if (f.kind === 'ok') return ok('docker', `${socket} answers (${f.detail})`);
  if (f.kind === 'missing') return warn('docker', `no socket at ${socket}`, `start Docker (systemctl start docker), or name its socket (--docker-socket, DOCKER_HOST), to name containers; ${optional}`);
  const hint = f.code === 'EACCES'
    ? `run as root or join the docker group to read ${socket}; ${optional}`
    : `start or restart dockerd (systemctl restart docker); ${optional}`;
  return warn('docker', `${socket} not reachable: ${f.message}`, hint);
}

// ---- build outputs ----

export function checkBuilt(check: string, filePath: string, present: boolean): CheckResult {
  if (present) return ok(check, filePath);
  return fail(check, `missing: ${filePath}`, 'npm run setup  (builds the BPF object and the native addon)');
}

// ---- the real test: load, attach, detach ----

export interface ProbeAttach { program: string; section: string; ok: boolean; error?: string }

/** A capture that shares the send and receive programs (L7, DNS): null when its code loaded, else why not. */
export interface CaptureFact { name: string; unavailable: string | null }

export type LoadFact =
  | { kind: 'loaded'; probes: ProbeAttach[]; ms: number; captures: CaptureFact[]; verified: Record<string, number> }
  | { kind: 'error'; message: string }
  | { kind: 'skipped'; reason: string };

export function checkLoad(f: LoadFact): CheckResult {
  const check = 'probe load';
  if (f.kind === 'skipped') return skipped(check, `not tried: ${f.reason}`);
  if (f.kind === 'error') {
    const perm = /EPERM|EACCES|permission|not permitted/i.test(f.message);
    const hint = perm
      ? `${PRIV_HINT}; also check kernel lockdown and kernel.unprivileged_bpf_disabled`
      : /npm run setup/.test(f.message)
        ? 'npm run setup'
        : 'rebuild with npm run setup; if it still fails, the error names the probe and the kernel\'s reason';
    return fail(check, f.message, hint);
  }
  const attached = f.probes.filter((p) => p.ok);
  const missed = f.probes.filter((p) => !p.ok);
  const detail = `loaded, attached ${attached.length}/${f.probes.length} probes and detached them in ${Math.round(f.ms)} ms`;
  if (!missed.length) return ok(check, detail);
  const list = missed.map((p) => `${p.section}${p.error ? ` (${p.error})` : ''}`).join(', ');
  // The engine refuses to start without a required probe, so here only optional ones are missing.
  const tracepoint = REQUIRED_TRACEPOINTS.find((t) => `dh_${t.split('/')[1]}` === missed[0].program);
  const hint = tracepoint ? tracepointHint(tracepoint) : 'optional probes extend what is seen; the agent runs without them';
  return warn(check, `${detail}; optional not attached: ${list}`, hint);
}

/** A capture the kernel refused leaves the agent running without it: a warning with the kernel's reason. */
export function checkCapture(c: CaptureFact): CheckResult {
  if (c.unavailable === null) return ok(c.name, 'its code loads with the probes and attaches');
  return warn(c.name, `off: ${c.unavailable}`,
    'the agent runs without it (connections are still mapped); a newer kernel may accept it: report the reason above with `uname -r`');
}

/**
 * How much of the verifier's budget the costliest program took (`verified`: instructions processed by
 * program, as the kernel reports them). Near the limit, a kernel whose verifier explores more paths
 * may refuse the program; the agent would then run without that capture.
 */
export function checkVerifierBudget(verified: Record<string, number>): CheckResult {
  const check = 'verifier budget';
  const [name, insns] = Object.entries(verified).sort((a, b) => b[1] - a[1])[0] ?? [];
  if (name === undefined) return skipped(check, 'this kernel does not report the instructions it verified (5.16 and later do)');
  const limit = DEFAULTS.verifierInsnLimit;
  const share = insns / limit;
  const detail = `the costliest program, ${name}, took ${insns.toLocaleString('en-US')} of the ${limit.toLocaleString('en-US')} instructions `
    + `the verifier may process (${Math.round(share * 100)}%)`;
  if (share <= DEFAULTS.verifierWarnShare) return ok(check, detail);
  return warn(check, detail, 'close to the limit: another kernel may refuse it; report this line with `uname -r`');
}

/** Why the load line is skipped, or null when it should run. */
export function loadBlocker(earlier: readonly CheckResult[]): string | null {
  const failed = earlier.filter((r) => r.status === 'FAIL').map((r) => r.check);
  if (!failed.length) return null;
  return `${failed.length} earlier check${failed.length === 1 ? '' : 's'} failed (${failed.join(', ')})`;
}

// ---- verdict and table ----

export interface Verdict { canRun: boolean; problems: number; warnings: number; line: string }

export function verdict(results: readonly CheckResult[]): Verdict {
  const problems = results.filter((r) => r.status === 'FAIL').length;
  const warnings = results.filter((r) => r.status === 'warn').length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const line = problems
    ? `Dhrishti cannot run here: ${plural(problems, 'problem')}`
    : `Dhrishti can run here${warnings ? ` (${plural(warnings, 'warning')})` : ''}`;
  return { canRun: problems === 0, problems, warnings, line };
}

/** Splits text into lines of at most `width` characters, at spaces where possible. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) { lines.push(line); line = ''; }
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!word) continue;
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else { lines.push(line); line = word; }
  }
  if (line || !lines.length) lines.push(line);
  return lines;
}

const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - s.length));

/** The report as aligned columns; long details wrap inside their column, at spaces. */
export function formatTable(results: readonly CheckResult[], detailWidth = 90): string {
  const head: CheckResult = { check: 'CHECK', status: 'STATUS' as Status, detail: 'DETAIL', hint: 'FIX' };
  const rows = [head, ...results];
  const wCheck = Math.max(...rows.map((r) => r.check.length));
  const wStatus = Math.max(...rows.map((r) => r.status.length));
  // Wide enough for the longest word (a path, usually) so paths are not cut, up to a limit.
  const longestWord = Math.max(...rows.flatMap((r) => r.detail.split(/\s+/).map((w) => w.length)));
  const wDetail = Math.max(Math.min(detailWidth, Math.max(...rows.map((r) => r.detail.length))), Math.min(longestWord, 2 * detailWidth));
  const out: string[] = [];
  for (const r of rows) {
    const details = wrap(r.detail, wDetail);
    details.forEach((d, i) => {
      const cells = i === 0
        ? [pad(r.check, wCheck), pad(r.status, wStatus), pad(d, wDetail), r.hint ?? '']
        : [pad('', wCheck), pad('', wStatus), pad(d, wDetail), ''];
      out.push(cells.join('  ').trimEnd());
    });
  }
  return out.join('\n');
}
