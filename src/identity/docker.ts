// Follows a Docker daemon: lists and inspects containers once, then updates
// only what Docker's event stream says changed. Survives a daemon that is
// absent, restarts or goes away: reconnects with backoff and re-lists.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import Modem from 'docker-modem';
import { DEFAULTS } from '../config/defaults.js';
import { ContainerStore } from './container-store.js';
import { CgroupIndex } from './cgroups.js';
import { containerFromInspect, dockerTime, type HostProbe, type InspectJson } from './inspect.js';
import type { ContainerChange, DockerStats } from './types.js';

export interface DockerWatcherOptions {
  socketPath?: string;
  maxStopped?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Timeout of one API call (ping, list, inspect); the event stream has none. */
  requestTimeoutMs?: number;
  cgroups?: CgroupIndex;
  procRoot?: string;
}

/** One line of Docker's event stream (the fields we read). */
interface DockerEvent {
  Type?: string;
  Action?: string;
  time?: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

const INSPECT_CONCURRENCY = 8;

/**
 * Emits 'change' (ContainerChange), 'up' and 'down' (Error) events.
 * Never throws or rejects from its background work: failures are counted in stats().
 */
export class DockerWatcher extends EventEmitter {
  readonly store: ContainerStore;
  readonly socketPath: string;
  /** docker-modem, the Engine API transport dockerode is built on: dockerode itself also loads gRPC and protobufjs (BuildKit sessions), ~6 MB of heap the agent never uses. */
  private readonly modem: Modem;
  private readonly cgroups: CgroupIndex;
  private readonly procRoot: string;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly timeoutMs: number;
  private backoffMs: number;
  private stream: NodeJS.ReadableStream | null = null;
  private streamAbort: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sockWatch: fs.FSWatcher | null = null;
  private stopped = false;
  private connecting = false;
  private queues = new Map<string, Promise<void>>();
  private counters = { connects: 0, reconnects: 0, disconnects: 0, lists: 0, inspects: 0, events: 0, errors: 0 };
  private up = false;
  private since = Date.now();
  private lastError: string | null = null;
  private probe: HostProbe;

  constructor(opts: DockerWatcherOptions = {}) {
    super();
    this.socketPath = opts.socketPath ?? DEFAULTS.dockerSocket;
    this.modem = new Modem({ socketPath: this.socketPath });
    this.store = new ContainerStore(opts.maxStopped ?? DEFAULTS.maxStoppedContainers);
    this.cgroups = opts.cgroups ?? new CgroupIndex({ procRoot: opts.procRoot });
    this.procRoot = opts.procRoot ?? '/proc';
    this.minMs = opts.reconnectMinMs ?? DEFAULTS.dockerReconnectMinMs;
    this.maxMs = opts.reconnectMaxMs ?? DEFAULTS.dockerReconnectMaxMs;
    this.timeoutMs = opts.requestTimeoutMs ?? 10000;
    this.backoffMs = this.minMs;
    this.probe = {
      netnsOf: (pid) => netnsOf(this.procRoot, pid),
      cgroupOfPid: (pid) => {
        const cg = this.cgroups.pidCgroup(pid);
        if (!cg?.v2) return { id: 0, path: null };
        return { id: this.cgroups.idOf(cg.v2), path: cg.v2 };
      },
      cgroupIdOfPath: (p) => this.cgroups.idOf(p),
    };
  }

  /** Connects (or starts retrying); resolves once the first attempt is over, never rejects. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unwatchSocket();
    this.closeStream();
    this.setDown(null);
  }

  get isUp(): boolean { return this.up; }

  stats(): DockerStats {
    return {
      up: this.up,
      since: this.since,
      ...this.counters,
      lastError: this.lastError,
      running: this.store.runningCount,
      stopped: this.store.stoppedCount,
      evicted: this.store.evicted,
    };
  }

  /** Resolves when no inspect is pending (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    while (this.queues.size) await Promise.allSettled([...this.queues.values()]);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    try {
      await this.get('/_ping', { abortSignal: AbortSignal.timeout(this.timeoutMs) });
      // Stream first, list second: nothing that happens in between is missed.
      const abort = new AbortController();
      const stream = await this.get<NodeJS.ReadableStream>('/events?', { options: { filters: { type: ['container', 'network'] } }, isStream: true, abortSignal: abort.signal, errors: { 400: 'bad parameter' } });
      if (this.stopped) { abort.abort(); return; }
      this.attach(stream, abort);
      await this.relist();
      if (this.stream !== stream) return; // dropped while listing: the close handler retries
      this.counters.connects++;
      if (this.counters.connects > 1) this.counters.reconnects++;
      this.backoffMs = this.minMs;
      this.up = true;
      this.since = Date.now();
      this.unwatchSocket();
      this.emit('up');
    } catch (e) {
      this.closeStream();
      this.fail(e);
      this.setDown(e as Error);
    } finally {
      this.connecting = false;
      if (!this.up) this.retry(); // also covers a stream dropped while listing
    }
  }

  /**
   * While the daemon is away, watch for its socket to be created again
   * (dockerd recreates it on start) and try at once instead of waiting out the backoff.
   */
  private watchSocket(): void {
    if (this.sockWatch || this.stopped) return;
    const base = path.basename(this.socketPath);
    try {
      this.sockWatch = fs.watch(path.dirname(this.socketPath), (_event, name) => {
        if (name !== base || this.up || !this.timer) return;
        clearTimeout(this.timer);
        this.timer = null;
        this.backoffMs = this.minMs;
        void this.connect();
      });
      this.sockWatch.on('error', () => this.unwatchSocket());
      this.sockWatch.unref();
    } catch { /* no such directory: the backoff alone will do */ }
  }

  private unwatchSocket(): void {
    this.sockWatch?.close();
    this.sockWatch = null;
  }

  private retry(): void {
    this.watchSocket();
    if (this.stopped || this.timer) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxMs);
    this.timer = setTimeout(() => { this.timer = null; void this.connect(); }, wait);
    this.timer.unref();
  }

  private setDown(err: Error | null): void {
    if (!this.up) return;
    this.up = false;
    this.since = Date.now();
    this.counters.disconnects++;
    this.emit('down', err ?? new Error('stopped'));
  }

  private fail(e: unknown): void {
    this.counters.errors++;
    this.lastError = (e as Error)?.message ?? String(e);
  }

  private attach(stream: NodeJS.ReadableStream, abort: AbortController): void {
    this.stream = stream;
    this.streamAbort = abort;
    let pending = '';
    stream.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) this.onLine(line);
      }
    });
    const closed = (err?: Error) => {
      if (this.stream !== stream) return;
      this.stream = null;
      this.streamAbort = null;
      if (this.stopped) return;
      this.fail(err ?? new Error('docker event stream ended'));
      this.setDown(err ?? new Error('docker event stream ended'));
      this.retry();
    };
    stream.on('error', closed);
    stream.on('end', () => closed());
    stream.on('close', () => closed());
  }

  private closeStream(): void {
    const abort = this.streamAbort;
    const stream = this.stream;
    this.stream = null;
    this.streamAbort = null;
    abort?.abort();
    (stream as unknown as { destroy?: () => void } | null)?.destroy?.();
  }

  private onLine(line: string): void {
    let ev: DockerEvent;
    try { ev = JSON.parse(line) as DockerEvent; } catch { this.fail(new Error('bad docker event line')); return; }
    this.counters.events++;
    const attrs = ev.Actor?.Attributes ?? {};
    if (ev.Type === 'container') {
      const id = ev.Actor?.ID;
      if (!id) return;
      switch (ev.Action) {
        case 'start':
        case 'die':
        case 'rename':
        case 'update':
          void this.refresh(id);
          break;
        case 'destroy':
          void this.enqueue(id, async () => this.report(this.store.markRemoved(id, eventTime(ev))));
          break;
      }
    } else if (ev.Type === 'network' && (ev.Action === 'connect' || ev.Action === 'disconnect')) {
      // New containers connect before they start; their 'start' brings them in.
      const id = attrs.container;
      if (id && this.store.get(id)?.state === 'running') void this.refresh(id);
    }
  }

  /** One GET of the Engine API; a status other than 200 rejects with its statusCode and the reason given here (as dockerode words them). */
  private get<T = unknown>(path: string, o: { options?: Record<string, unknown>; isStream?: boolean; abortSignal?: AbortSignal; errors?: Record<number, string> }): Promise<T> {
    const { errors, ...rest } = o;
    return new Promise((resolve, reject) => {
      this.modem.dial({ path, method: 'GET', statusCodes: { 200: true, 500: 'server error', ...errors }, ...rest }, (err, data) => (err ? reject(err) : resolve(data as T)));
    });
  }

  /** Re-reads one container from the daemon. Serialised per container so answers apply in order. */
  private refresh(id: string): Promise<void> {
    return this.enqueue(id, async () => {
      let j: InspectJson;
      try {
        this.counters.inspects++;
        j = await this.get<InspectJson>(`/containers/${encodeURIComponent(id)}/json`, { abortSignal: AbortSignal.timeout(this.timeoutMs), errors: { 404: 'no such container' } });
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) { this.report(this.store.markRemoved(id)); return; }
        throw e;
      }
      const known = this.store.get(id);
      // created but never started: nothing to name yet
      if (!known && !j.State?.Running && dockerTime(j.State?.StartedAt) === null) return;
      this.report(this.store.upsert(containerFromInspect(j, this.probe)));
    });
  }

  private enqueue(id: string, job: () => Promise<void>): Promise<void> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next: Promise<void> = prev.then(job).catch((e) => this.fail(e)).finally(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    });
    this.queues.set(id, next);
    return next;
  }

  /** Catch-up after (re)connecting: every container the daemon has, and what vanished meanwhile. */
  private async relist(): Promise<void> {
    const before = new Set(this.store.ids());
    this.counters.lists++;
    const list = await this.get<{ Id: string; State: string }[]>('/containers/json?', { options: { all: true }, abortSignal: AbortSignal.timeout(this.timeoutMs), errors: { 400: 'bad parameter' } });
    const present = new Set(list.map((c) => c.Id));
    const max = this.store.maxStopped;
    const running = list.filter((c) => c.State === 'running');
    const stopped = list.filter((c) => c.State !== 'running' && c.State !== 'created').slice(0, max);
    const ids = [...running, ...stopped].map((c) => c.Id);
    for (let i = 0; i < ids.length; i += INSPECT_CONCURRENCY) {
      await Promise.all(ids.slice(i, i + INSPECT_CONCURRENCY).map((id) => this.refresh(id)));
    }
    for (const id of before) if (!present.has(id)) await this.enqueue(id, async () => this.report(this.store.markRemoved(id)));
  }

  private report(changes: ContainerChange[]): void {
    for (const c of changes) this.emit('change', c);
  }
}

function eventTime(ev: DockerEvent): number {
  if (ev.timeNano) return Math.floor(ev.timeNano / 1e6);
  if (ev.time) return ev.time * 1000;
  return Date.now();
}

function netnsOf(procRoot: string, pid: number): number {
  try {
    const m = /\[(\d+)\]$/.exec(fs.readlinkSync(path.join(procRoot, String(pid), 'ns/net')));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
