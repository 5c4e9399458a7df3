// The I/O half of `dhrishti doctor`: reads the facts from this machine and
// hands each to its pure check in checks.ts, in report order.
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { BPF_OBJECT_PATH, DEFAULTS, NATIVE_ADDON_PATH, REQUIRED_TRACEPOINTS } from '../config/defaults.js';
import { ensureTracefs, findTracefs } from '../collector/tracefs.js';
import { ProbeEngine } from '../collector/engine.js';
import { DnsCollector } from '../dns/collector.js';
import {
  checkBpffs, checkBtf, checkBuilt, checkCapture, checkDocker, checkKernel, checkLoad, checkPrivileges, checkTracefs, checkVerifierBudget,
  checkTracepoint, loadBlocker, mountTypeAt, parseProcStatus, tracefsRoot,
  type CheckResult, type DockerFact, type LoadFact, type TracefsFact,
} from './checks.js';

export interface DoctorOptions {
  /** Tracefs root given by the user; tracepoints are looked up only there and nothing is mounted. */
  tracefs?: { path: string; source: string };
  /** Docker's API socket (default DEFAULTS.dockerSocket). */
  dockerSocket?: string;
}

const readOr = (file: string, fallback: string) => {
  try { return fs.readFileSync(file, 'utf8'); } catch { return fallback; }
};

function tracefsFact(opts: DoctorOptions): TracefsFact {
  if (opts.tracefs) {
    const { path, source } = opts.tracefs;
    return { kind: 'explicit', path, source, hasEvents: fs.existsSync(`${path}/events`) };
  }
  const found = findTracefs();
  if (found) return { kind: 'default', path: found, mountedNow: false };
  // Mounted but hidden from us (tracefs is root-only by default): mounting again would not help.
  const procMounts = readOr('/proc/mounts', '');
  const unreadable = DEFAULTS.tracefsPaths.find((p) => mountTypeAt(procMounts, p) === 'tracefs');
  if (unreadable) return { kind: 'default', path: null, mountedNow: false, unreadable };
  const mounted = ensureTracefs();
  return { kind: 'default', path: mounted, mountedNow: mounted !== null };
}

/** Asks Docker's API for /_ping over its unix socket. */
export function pingDocker(socket: string = DEFAULTS.dockerSocket, timeoutMs: number = DEFAULTS.doctorDockerTimeoutMs): Promise<DockerFact> {
  if (!fs.existsSync(socket)) return Promise.resolve({ kind: 'missing' });
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      const version = res.headers['api-version'];
      if (res.statusCode === 200) resolve({ kind: 'ok', detail: version ? `API ${version}` : '/_ping OK' });
      else resolve({ kind: 'error', code: 'HTTP', message: `/_ping answered HTTP ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ kind: 'error', code: e.code ?? 'ERROR', message: e.code ? `${e.code}: ${e.message}` : e.message }));
  });
}

/** Loads the real probes, attaches them, and detaches them again. */
function tryLoad(): LoadFact {
  const t0 = performance.now();
  let engine: ProbeEngine | null = null;
  try {
    // With the captures `dhrishti run` uses by default, so a kernel that refuses their code is told here.
    engine = new ProbeEngine({ discover: false, l7: {} });
    const dns = new DnsCollector();
    engine.use(dns);
    const probes = engine.start();
    const captures = [
      { name: 'request capture (L7)', unavailable: engine.l7Unavailable },
      { name: 'DNS capture', unavailable: dns.unavailableReason },
    ];
    const verified = engine.verifiedInsns();
    engine.stop();
    return { kind: 'loaded', probes, ms: performance.now() - t0, captures, verified };
  } catch (e) {
    engine?.stop();
    return { kind: 'error', message: (e as Error).message };
  }
}

export async function runDoctor(opts: DoctorOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(checkKernel(os.release()));
  results.push(checkBtf(fs.existsSync(DEFAULTS.btfPath)));
  results.push(checkPrivileges(parseProcStatus(readOr('/proc/self/status', ''))));

  const tf = tracefsFact(opts);
  results.push(checkTracefs(tf));
  const root = tracefsRoot(tf);
  for (const tp of REQUIRED_TRACEPOINTS) {
    results.push(checkTracepoint(tp, root, root === null ? null : fs.existsSync(`${root}/events/${tp}`)));
  }

  results.push(checkBpffs(mountTypeAt(readOr('/proc/mounts', ''), DEFAULTS.bpffsPath)));
  const socket = opts.dockerSocket ?? DEFAULTS.dockerSocket;
  results.push(checkDocker(await pingDocker(socket), socket));
  results.push(checkBuilt('BPF object', BPF_OBJECT_PATH, fs.existsSync(BPF_OBJECT_PATH)));
  results.push(checkBuilt('native addon', NATIVE_ADDON_PATH, fs.existsSync(NATIVE_ADDON_PATH)));

  let blocker = loadBlocker(results);
  // The engine attaches through the real tracefs and would mount it; with --tracefs we promised not to.
  if (!blocker && opts.tracefs && !findTracefs()) {
    blocker = `no tracefs mounted at ${DEFAULTS.tracefsPaths.join(' or ')} and ${opts.tracefs.source} was given, so nothing is mounted`;
  }
  const load: LoadFact = blocker ? { kind: 'skipped', reason: blocker } : tryLoad();
  results.push(checkLoad(load));
  if (load.kind === 'loaded') {
    for (const c of load.captures) results.push(checkCapture(c));
    results.push(checkVerifierBudget(load.verified));
  }
  return results;
}
