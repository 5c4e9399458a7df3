// `dhrishti run`: the agent, its API and the web UI.
import type { Command } from 'commander';
import { Agent } from '../../agent/agent.js';
import { checkListen, startApi, type RoutePlugin } from '../../api/server.js';
import { parseAllowHost, parseAllowOrigin } from '../../api/auth.js';
import { agentRegistry } from '../../api/metrics.js';
import { API_DEFAULTS, DEFAULTS, DNS_DEFAULTS, GRAPH_DEFAULTS } from '../../config/defaults.js';
import { bytes, dockerSocketOption, port, portList, positiveInt, repeatable, ringbufBytes } from '../options.js';
import { DNS_CONFIG_PORTS } from '../../events/dns-layout.js';
import { listeningToken } from '../token.js';
import { parseDuration } from '../../api/params.js';
import { InvalidArgumentError, Option } from 'commander';
import { onShutdown } from '../lifecycle.js';
import { addL7Options, l7OptionsFrom, type L7Flags } from '../l7-options.js';
import { parseCgroupPath, parseNetnsInode } from '../../agent/scope.js';
import { cgroup2Root } from '../../identity/cgroups.js';
import fs from 'node:fs';
import path from 'node:path';

export interface RunOptions extends L7Flags {
  host: string;
  port: number;
  token?: string;
  tokenFile?: string;
  allowHost?: string[];
  allowOrigin?: string[];
  maxStreamClients: number;
  streamPingInterval?: number;
  streamWindow?: number;
  docker: boolean;
  dockerSocket: string;
  kubeletLogs: string;
  ringbufBytes?: number;
  idle?: number;
  scopeCgroup?: string[];
  scopeNetns?: number[];
  dns: boolean;
  dnsNames: number;
  dnsPorts?: number[];
}

/** Hooks other features (history) use to join the run command without it knowing them. */
export const runExtensions: { options(cmd: Command): void; prepare?(agent: Agent, opts: Record<string, unknown>): void; start(agent: Agent, opts: Record<string, unknown>): Promise<{ plugins: RoutePlugin[]; describe: string[]; stop(): void | Promise<void> }> }[] = [];

const duration = (name: string) => (v: string) => {
  try { return parseDuration(v, name); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
};

/** --dns-names at most: a million addresses is over a GB of heap. */
const DNS_MAX_NAMES = 1_000_000;

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('run the agent with its API and web UI')
    .option('--host <address>', 'address the API listens on', DEFAULTS.apiHost)
    .option('--port <port>', 'API port', port, DEFAULTS.apiPort)
    .option('--token-file <path>', 'file holding the API token (required off loopback; or DHRISHTI_TOKEN)')
    .option('--token <token>', 'API token on the command line (visible in ps: prefer --token-file)')
    .option('--allow-host <name>', 'also answer to this Host header name, e.g. a reverse proxy\'s (repeatable)', repeatable(parseAllowHost))
    .option('--allow-origin <origin>', 'let pages from this origin use the API and the stream (repeatable; no wildcards)', repeatable(parseAllowOrigin))
    .option('--max-stream-clients <n>', 'WebSocket stream clients at once', positiveInt('--max-stream-clients', 100_000), API_DEFAULTS.maxStreamClients)
    // Tests shorten the stream's keep-alive and window to see dead and slow clients dropped quickly.
    .addOption(new Option('--stream-ping-interval <duration>').hideHelp().argParser(duration('--stream-ping-interval')))
    .addOption(new Option('--stream-window <bytes>').hideHelp().argParser(bytes('--stream-window')))
    .addOption(dockerSocketOption())
    .option('--no-docker', 'do not follow a Docker daemon')
    .option('--kubelet-logs <dir>', 'kubelet\'s container log links, which name pods\' containers on a node without Docker', DEFAULTS.kubeletContainerLogs)
    .option('--ringbuf-bytes <n>', `kernel ring buffer of connection events, bytes (power of two; default ${DEFAULTS.ringbufBytes})`, ringbufBytes)
    .option('--idle <duration>', `idle edges leave the live map after this long (default ${GRAPH_DEFAULTS.idleMs / 60000}m)`, duration('--idle'))
    .option('--scope-cgroup <path>', 'report only sockets of cgroups at or under this cgroup v2 path (repeatable)', repeatable(parseCgroupPath))
    .option('--scope-netns <inode>', 'report only sockets in this network namespace (repeatable)', repeatable(parseNetnsInode))
    .option('--no-dns', 'do not read DNS answers (outside servers then keep their addresses; no resolver edges)')
    .option('--dns-ports <list>', `ports DNS is read on, 1 to ${DNS_CONFIG_PORTS} (default ${DNS_DEFAULTS.ports.join(',')}): a resolver on another port (dnsmasq on 5353, a test resolver)`, portList('--dns-ports', DNS_CONFIG_PORTS))
    .option('--dns-names <n>', 'addresses the DNS name map keeps, least recently used forgotten first (each one costs ~1 KB of heap)',
      positiveInt('--dns-names', DNS_MAX_NAMES), DNS_DEFAULTS.nameMapEntries);
  addL7Options(cmd);
  for (const ext of runExtensions) ext.options(cmd);
  cmd.action((opts: RunOptions) => run(opts));
}

async function run(opts: RunOptions): Promise<void> {
  // Everything about who may connect is settled before a probe is attached.
  const token = listeningToken(opts, opts.host, 'dhrishti');
  try {
    await checkListen(opts.host, opts.port); // before the probes: a port in use is said at once, not after they load
  } catch (e) {
    console.error(`dhrishti: ${(e as Error).message}`);
    process.exit(1);
  }
  // A scope cgroup may be made later (a tenant's slice started after the agent): said, not refused.
  const root = opts.scopeCgroup?.length ? cgroup2Root() : null;
  for (const c of opts.scopeCgroup ?? []) {
    if (root && !fs.existsSync(path.join(root, c))) console.error(`dhrishti: warning: --scope-cgroup ${c}: no such cgroup under ${root} yet; nothing is reported from it until one is made`);
  }
  const agent = new Agent({
    engine: { ringbufBytes: opts.ringbufBytes, l7: l7OptionsFrom(opts) },
    identity: { docker: opts.docker, dockerSocket: opts.dockerSocket, kubeletLogs: opts.kubeletLogs },
    graph: opts.idle ? { idleMs: opts.idle } : {},
    scope: opts.scopeCgroup || opts.scopeNetns ? { cgroups: opts.scopeCgroup, netns: opts.scopeNetns } : undefined,
    dns: opts.dns ? { nameMapEntries: opts.dnsNames, ...(opts.dnsPorts ? { ports: opts.dnsPorts } : {}) } : false,
  });
  const say = (s: string) => console.log(`dhrishti: ${s}`);
  let probes;
  try {
    for (const ext of runExtensions) ext.prepare?.(agent, opts as unknown as Record<string, unknown>); // before the probes: nothing they report is missed
    probes = await agent.start();
  } catch (e) {
    console.error(`dhrishti: cannot start the probes: ${(e as Error).message}`);
    agent.stop();
    process.exit(1);
  }
  let stopAt = 0;
  onShutdown(() => say(`stopped in ${((performance.now() - stopAt) / 1000).toFixed(1)} s`)); // stoppers run last first: this one ends
  onShutdown(() => agent.stop());
  const ok = probes.filter((p) => p.ok);
  say(`attached ${ok.length}/${probes.length} kernel probes: ${ok.map((p) => p.section.replace(/^(tp_btf|tracepoint)\//, '')).join(', ')}`);
  for (const p of probes.filter((x) => !x.ok)) say(`could not attach ${p.section} (${p.error}); continuing without it`);
  if (agent.scope) say(`scoped to ${agent.scope.describe()}: other sockets are not reported`);
  if (agent.dns) say(agent.dns.isAvailable() ? 'reading DNS answers: outside servers are named, resolver edges drawn' : `DNS capture unavailable (${agent.dns.stats().reason}); outside servers keep their addresses`);
  const docker = agent.identity.stats().docker;
  say(docker ? (docker.up ? `following Docker at ${opts.dockerSocket} (${docker.running} running containers)` : `Docker not reachable at ${opts.dockerSocket}; containers are named from cgroups until it is (retrying; another socket: --docker-socket or DOCKER_HOST)`) : 'Docker disabled');
  if (opts.kubeletLogs && fs.existsSync(opts.kubeletLogs)) say(`naming pods' containers that Docker does not know from kubelet's log links in ${opts.kubeletLogs}`);

  const plugins: RoutePlugin[] = [];
  for (const ext of runExtensions) {
    const r = await ext.start(agent, opts as unknown as Record<string, unknown>);
    plugins.push(...r.plugins);
    r.describe.forEach(say);
    onShutdown(r.stop);
  }
  try {
    const { app, url } = await startApi(agent, {
      host: opts.host, port: opts.port, token, allowHosts: opts.allowHost ?? [], allowOrigins: opts.allowOrigin ?? [], registry: agentRegistry(agent),
      stream: { maxClients: opts.maxStreamClients, pingIntervalMs: opts.streamPingInterval, windowBytes: opts.streamWindow },
    }, plugins);
    onShutdown(() => app.close());
    onShutdown(() => { stopAt = performance.now(); say('stopping: closing the API, writing what is pending, detaching the probes'); });
    say(`API on ${url}/api/v1 ${token ? '(token required)' : ''}`.trim());
    say(`web UI on ${url}/`);
  } catch (e) {
    console.error(`dhrishti: ${(e as Error).message}`);
    agent.stop();
    process.exit(1);
  }
}
