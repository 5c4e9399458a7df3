// A real, private dockerd for one test: its own data root, exec root, pidfile
// and socket under a temp folder, so it never meets a system daemon. Stopped
// by its pid; leftovers (shims, mounts, the folder) cleaned up.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { ensureNodeImage } from '../../src/demo/image.js';

const run = promisify(execFile);

export const TEST_IMAGE = 'dhrishti-node:test';
const NODE = '/usr/bin/node';

export interface DockerdOptions {
  /** Reuse this folder (same data root), e.g. to restart a daemon; a new temp folder otherwise. */
  dir?: string;
  /**
   * Create Docker's default `bridge` network (docker0). Off by default: two
   * test daemons would fight over docker0; use a user-defined network.
   */
  defaultBridge?: boolean;
  startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export class TestDockerd {
  readonly docker: Docker;
  readonly socketPath: string;
  private exited: Promise<void>;
  /** IP forwarding settings before dockerd changed them, restored by stop(). */
  private hostState: Forwarding | null = null;

  /** Holds the machine-wide test-dockerd lock until stop(). */
  private lock: ChildProcess | null = null;

  private constructor(readonly dir: string, private readonly child: ChildProcess) {
    this.socketPath = path.join(dir, 'docker.sock');
    this.docker = new Docker({ socketPath: this.socketPath });
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get pid(): number { return this.child.pid ?? 0; }
  get logPath(): string { return path.join(this.dir, 'dockerd.log'); }

  /** Starts dockerd and waits until it answers. */
  static async start(opts: DockerdOptions = {}): Promise<TestDockerd> {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-dockerd-'));
    const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
    const args = [
      '--data-root', path.join(dir, 'data'),
      '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', `unix://${path.join(dir, 'docker.sock')}`,
      '--shutdown-timeout', '2',
      ...(opts.defaultBridge ? [] : ['--bridge', 'none']),
    ];
    const lock = await machineLock();
    const hostState = await readForwarding();
    const child = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const d = new TestDockerd(dir, child);
    d.lock = lock;
    d.hostState = hostState;
    child.on('error', () => { /* reported through exit below */ });
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
        const tail = fs.readFileSync(d.logPath, 'utf8').split('\n').slice(-15).join('\n');
        if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
        lock.kill('SIGKILL');
        throw new Error(`dockerd exited during start (${child.exitCode ?? child.signalCode}):\n${tail}`);
      }
      try { await d.docker.ping(); return d; } catch { /* not yet */ }
      if (Date.now() > deadline) {
        await d.stop();
        throw new Error(`dockerd did not answer within ${opts.startTimeoutMs ?? 60000} ms`);
      }
      await sleep(100);
    }
  }

  /** Runs the docker CLI against this daemon; resolves to its trimmed stdout. */
  async cli(args: string[], timeoutMs = 60000): Promise<string> {
    try {
      const { stdout } = await run('docker', ['-H', `unix://${this.socketPath}`, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
      return stdout.trim();
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`docker ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
    }
  }

  /** True if dockerd exits within ms (the timer never holds the process open). */
  private exitWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
    return Promise.race([this.exited.then(() => true), late]).finally(() => clearTimeout(timer));
  }

  /**
   * Stops dockerd by its pid (SIGTERM, then SIGKILL), then its leftovers:
   * processes started under its folder (containerd, shims), mounts under the
   * folder, and the folder itself unless keepDir (to restart on the same data root).
   */
  async stop(opts: { keepDir?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const pid = this.pid;
    if (pid && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      const timeout = opts.timeoutMs ?? 30000;
      if (!(await this.exitWithin(timeout)) && alive(pid)) { process.kill(pid, 'SIGKILL'); await this.exited; }
    } else {
      await this.exitWithin(1000);
    }
    await killUnder(this.dir);
    await unmountUnder(this.dir);
    if (!opts.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
    if (this.hostState) await restoreForwarding(this.hostState);
    this.lock?.kill('SIGKILL');
    this.lock = null;
  }
}

/**
 * One test dockerd at a time on this machine: two daemons share iptables'
 * DOCKER chains and would undo each other's rules. `flock` holds the lock
 * while its stdin stays open, so it is released even if the test dies.
 */
async function machineLock(): Promise<ChildProcess> {
  const holder = spawn('flock', ['-x', '/tmp/dhrishti-test-dockerd.lock', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`could not take the test dockerd lock (flock exited ${code})`)));
  });
  holder.unref();
  (holder.stdout as unknown as { unref?: () => void }).unref?.();
  (holder.stdin as unknown as { unref?: () => void }).unref?.();
  return holder;
}

interface Forwarding { ipForward: string; forwardPolicy: string | null }

/**
 * dockerd turns on IP forwarding and, when it does, sets iptables' FORWARD
 * policy to DROP: a host-wide change other tests (routed network namespaces)
 * would feel. Read before start, put back after stop.
 */
async function readForwarding(): Promise<Forwarding> {
  const ipForward = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  let forwardPolicy: string | null = null;
  try {
    const { stdout } = await run('iptables', ['-S', 'FORWARD']);
    forwardPolicy = /^-P FORWARD (\w+)/m.exec(stdout)?.[1] ?? null;
  } catch { /* no iptables: dockerd will say so */ }
  return { ipForward, forwardPolicy };
}

async function restoreForwarding(before: Forwarding): Promise<void> {
  const now = await readForwarding();
  if (before.forwardPolicy && now.forwardPolicy !== before.forwardPolicy) {
    try { await run('iptables', ['-P', 'FORWARD', before.forwardPolicy]); } catch { /* best effort */ }
  }
  if (now.ipForward !== before.ipForward) fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', before.ipForward);
}

/** Kills (by pid) processes whose command line names the folder: containerd, shims of this daemon. */
async function killUnder(dir: string): Promise<void> {
  const victims: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let cmd: string;
    try { cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes(dir + '/') || cmd.includes(dir + '\0')) victims.push(Number(d));
  }
  for (const pid of victims) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  for (let i = 0; i < 50 && victims.some(alive); i++) await sleep(100);
}

/** Unmounts everything mounted under the folder (overlay roots, netns bind mounts, shm), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const points = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try { await run('umount', ['-l', p]); } catch { /* already gone */ }
  }
}

/** Makes sure `dhrishti-node:test` (node + its libraries, nothing else) exists in this daemon. */
export async function ensureTestImage(d: TestDockerd): Promise<string> {
  return ensureNodeImage(TEST_IMAGE, (args) => d.cli(args, 120000));
}

/** `node -e` command that also exits at once on SIGTERM (node as PID 1 otherwise ignores it). */
export function nodeCommand(script: string): string[] {
  return [NODE, '-e', `process.on('SIGTERM', () => process.exit(0)); ${script}`];
}

/** A node script for an HTTP server on `port` answering every request with `body`. */
export function httpServerScript(port: number, body = 'ok'): string {
  return `require('http').createServer((q, s) => s.end(${JSON.stringify(body)})).listen(${port});`;
}

export interface RunOptions {
  name: string;
  network?: string;
  labels?: Record<string, string>;
  /** Published ports in docker's form: `8080`, `127.0.0.1:18080:8080`, `0:8080/tcp`. */
  publish?: string[];
  /** Network aliases on `network`. */
  aliases?: string[];
  /** A fixed address on `network` (its subnet must have been given). */
  ip?: string;
  env?: Record<string, string>;
  /** Command; default keeps node idle forever. */
  command?: string[];
  image?: string;
}

/** Starts a detached container; resolves to its full id once it runs. */
export async function runContainer(d: TestDockerd, o: RunOptions): Promise<string> {
  const args = ['run', '-d', '--name', o.name];
  if (o.network) args.push('--network', o.network);
  for (const a of o.aliases ?? []) args.push('--network-alias', a);
  if (o.ip) args.push('--ip', o.ip);
  for (const [k, v] of Object.entries(o.labels ?? {})) args.push('--label', `${k}=${v}`);
  for (const p of o.publish ?? []) args.push('-p', p);
  for (const [k, v] of Object.entries(o.env ?? {})) args.push('-e', `${k}=${v}`);
  args.push(o.image ?? TEST_IMAGE, ...(o.command ?? nodeCommand('setInterval(() => {}, 1 << 30);')));
  return d.cli(args);
}

/** Compose's labels for one replica of a service. */
export function composeLabels(project: string, service: string, number: number): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': String(number),
  };
}

/** Creates a user-defined bridge network; resolves to its id. */
export async function createNetwork(d: TestDockerd, name: string, opts: { subnet?: string } = {}): Promise<string> {
  if (opts.subnet) dropStaleBridge(opts.subnet);
  return d.cli(['network', 'create', '--driver', 'bridge', ...(opts.subnet ? ['--subnet', opts.subnet] : []), name]);
}

/**
 * A test killed before its cleanup leaves its network's bridge, with the route to the subnet: the next run's bridge for
 * the same subnet then loses its packets to it (connections time out instead of being refused). Only a down `br-` bridge
 * (no daemon runs it) is removed, with its subnet's rules.
 */
function dropStaleBridge(subnet: string): void {
  let route = '';
  try { route = execFileSync('ip', ['-o', 'route', 'show', subnet], { encoding: 'utf8' }); } catch { return; }
  const dev = /\bdev (br-[0-9a-f]+)\b.*\blinkdown\b/.exec(route)?.[1];
  if (!dev) return;
  try { execFileSync('ip', ['link', 'del', dev], { stdio: 'ignore' }); } catch { /* gone meanwhile */ }
  const rules: string[][] = [
    ['-D', 'FORWARD', '-o', dev, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'], ['-D', 'FORWARD', '-o', dev, '-j', 'DOCKER'],
    ['-D', 'FORWARD', '-i', dev, '!', '-o', dev, '-j', 'ACCEPT'], ['-D', 'FORWARD', '-i', dev, '-o', dev, '-j', 'ACCEPT'],
    ['-t', 'nat', '-D', 'POSTROUTING', '-s', subnet, '!', '-o', dev, '-j', 'MASQUERADE'],
  ];
  for (const r of rules) try { execFileSync('iptables', r, { stdio: 'ignore' }); } catch { /* not there */ }
}

export interface ContainerFacts { id: string; pid: number; ip: string; name: string }

/** Pid, first network IPv4 and name of a container, from the daemon. */
export async function containerFacts(d: TestDockerd, nameOrId: string): Promise<ContainerFacts> {
  const j = await d.docker.getContainer(nameOrId).inspect();
  const nets = Object.values(j.NetworkSettings.Networks ?? {});
  return { id: j.Id, pid: j.State.Pid, ip: nets[0]?.IPAddress ?? '', name: j.Name.replace(/^\//, '') };
}

/** Removes containers and networks, ignoring ones already gone. */
/** Removes a `--cgroup-parent` the daemon made, in every cgroup hierarchy (runc leaves it behind). Call once its containers are removed. */
export function removeCgroupParent(parent: string): void {
  const hierarchies = ['/sys/fs/cgroup'];
  try { for (const e of fs.readdirSync('/sys/fs/cgroup', { withFileTypes: true })) if (e.isDirectory()) hierarchies.push(path.join('/sys/fs/cgroup', e.name)); } catch { /* no cgroupfs */ }
  for (const h of hierarchies) {
    const dir = path.join(h, parent);
    if (path.dirname(dir) !== h) continue; // only a top-level parent, never a path that climbs out
    try { fs.rmdirSync(dir); } catch { /* not in this hierarchy, or already gone */ }
  }
}

export async function removeAll(d: TestDockerd, containers: string[], networks: string[] = []): Promise<void> {
  if (containers.length) { try { await d.cli(['rm', '-f', ...containers]); } catch { /* some were gone */ } }
  for (const n of networks) { try { await d.cli(['network', 'rm', n]); } catch { /* gone */ } }
}
