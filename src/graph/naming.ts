// Names a connection end as a graph node: replicas of one Compose service or
// Kubernetes workload collapse into one service node.
import type { ContainerInfo, Owner, AddressOwner, VacantAddress } from '../identity/types.js';
import type { Instance, NodeKind } from './types.js';
import { getDomain } from 'tldts';
import { cleanName, scriptName } from './script.js';
import { hostPort } from '../events/address.js';

export interface NodeRef {
  id: string;
  kind: NodeKind;
  label: string;
  group: string | null;
  image?: string;
  labels?: Record<string, string>;
  instance?: Instance;
  /** The address an outside end was seen at (an external node named by DNS has a name for its label). */
  address?: string;
  /** The DNS name its client resolved to reach it, and the answer's CNAME chain. */
  dns?: { name: string; cnames: string[] };
  /** An outside server's address is a vacant one in a container network here (GraphNode.vacant). */
  vacant?: VacantAddress;
}

/** What the graph needs from the DNS name map: the name a client resolved for an address it then used. */
export interface AddressNames {
  nameFor(netns: number, address: string, client?: { pid?: number; cgroupId?: number; at?: number }): { name: string; cnames: string[] } | null;
}

/** "api-7d9f8b6c5-x2k4p" -> "api"; "db-0" (StatefulSet) -> "db". */
export function workloadOfPod(pod: string): string {
  const parts = pod.split('-');
  if (parts.length >= 3 && /^[a-z0-9]{5}$/.test(parts.at(-1)!) && /^[a-z0-9]{6,10}$/.test(parts.at(-2)!)) return parts.slice(0, -2).join('-');
  if (parts.length >= 2 && /^[a-z0-9]{5}$/.test(parts.at(-1)!)) return parts.slice(0, -1).join('-'); // DaemonSet / Job pods
  if (parts.length >= 2 && /^\d+$/.test(parts.at(-1)!)) return parts.slice(0, -1).join('-');
  return pod;
}

function containerInstance(c: ContainerInfo, pid: number): Instance {
  return {
    id: c.id,
    name: c.name,
    pids: pid ? [pid] : c.pid ? [c.pid] : [],
    ips: c.networks.flatMap((n) => [n.ipv4, n.ipv6].filter((x): x is string => !!x)),
    image: c.image,
    state: c.state,
    startedAt: c.startedAt ?? undefined,
    stoppedAt: c.stoppedAt ?? undefined,
  };
}

/** Words of a label key that say its value is a credential (Traefik's `…basicauth.users` hashes, `…db-password`). */
const SECRET_LABEL_WORD = /^(pass|passwd|password|pwd|secret|token|auth|basicauth|digestauth|authorization|cred|creds|credential|credentials|apikey|privatekey)$/i;
/** A label key's words: split at . _ - / and camelCase; a word and the next also count joined (`api-key`, `private_key`). */
export function secretLabel(key: string): boolean {
  const w = key.split(/[._\-/]|(?<=[a-z])(?=[A-Z])/);
  return w.some((x, i) => SECRET_LABEL_WORD.test(x) || (i + 1 < w.length && SECRET_LABEL_WORD.test(x + w[i + 1])));
}
const shownLabels = new WeakMap<Record<string, string>, Record<string, string>>();

/** A container's labels as the API may publish them (and policies match on): credential values masked; made once per labels object. */
function publishedLabels(l: Record<string, string>): Record<string, string> {
  let out = shownLabels.get(l);
  if (!out) {
    out = Object.keys(l).some(secretLabel) ? Object.fromEntries(Object.entries(l).map(([k, v]) => [k, secretLabel(k) ? '***' : v])) : l;
    shownLabels.set(l, out);
  }
  return out;
}

/** An instance as an edge or a request sample names it: a container by its name, a process with its pid. */
export function instanceName(inst: Instance): string {
  return inst.id.startsWith('pid:') && inst.pids.length ? `${inst.name} (pid ${inst.pids[0]})` : inst.name;
}

/** Who answered a connection: its server end's instance (a replica: container, or process with its pid), else its address. */
export function serverName(ref: NodeRef | null | undefined, port: number): string | null {
  if (!ref) return null;
  if (ref.instance) return instanceName(ref.instance);
  return ref.address ? hostPort(ref.address, port) : null;
}

/** Puts `name` last in `list` (moved there if it was in it), keeping the newest `max`. */
export function noteNewest(list: string[], name: string, max: number): void {
  const i = list.indexOf(name);
  if (i >= 0) list.splice(i, 1);
  list.push(name);
  if (list.length > max) list.splice(0, list.length - max);
}

/** A client instance's name without its pid: the program, whichever run of it. */
export function clientProgram(name: string): string {
  return name.replace(/ \(pid \d+\)$/, '');
}

export function containerNode(c: ContainerInfo, pid = 0): NodeRef {
  const instance = containerInstance(c, pid);
  const labels = publishedLabels(c.labels);
  if (c.compose) {
    return { id: `svc:${c.compose.project}/${c.compose.service}`, kind: 'service', label: c.compose.service, group: c.compose.project, image: c.image, labels, instance };
  }
  if (c.kubernetes) {
    const w = workloadOfPod(c.kubernetes.pod);
    return { id: `svc:${c.kubernetes.namespace}/${w}`, kind: 'service', label: w, group: c.kubernetes.namespace, image: c.image, labels, instance };
  }
  return { id: `ctr:${c.name}`, kind: 'container', label: c.name, group: null, image: c.image, labels, instance };
}

/** The kernel cuts a command name to 15 bytes (TASK_COMM_LEN - 1). */
const COMM_MAX = 15;

/** The agent's own process on its map. */
export const SELF_NAME = 'dhrishti';
/** Longest command line an instance carries (GraphNode.instances[].command). */
export const COMMAND_MAX = 200;

/**
 * Host processes are named, first match wins:
 * 1. the agent itself: `dhrishti`; another Dhrishti process by its command: `dhrishti-hub`;
 * 2. its systemd service (`nginx.service` -> nginx);
 * 3. for an interpreter, the program it runs (script.ts): `node /srv/api.js` -> api.js, `python3 -m http.server`
 *    -> http.server, `java -jar billing.jar` -> billing.jar; inline code (`node -e`, `python3 -c`) and a bare
 *    interpreter keep the command name;
 * 4. the command name: the name the kernel gives the process (what ps shows). The executable's basename names it only where the command name was cut short
 *    (`containerd-shim` of containerd-shim-runc-v2): symlinked executables resolve to another program's name
 *    (Debian's redis-server is redis-check-rdb; python3 is python3.11, so one program would be two nodes by how
 *    long it lived).
 * A process's facts are read from /proc once and kept while it runs (identity/process.ts), so its name does not
 * change over its life; one gone before they could be read has the arguments the kernel kept at its exec
 * (src/kernel/proc/exec.c), else only its command name.
 */
export function processName(o: { unit: string | null; exe: string; comm: string; argv?: readonly string[]; self?: boolean }): string {
  if (o.self) return SELF_NAME;
  const own = o.argv?.length ? ownCommand(o.argv) : null;
  if (own) return own;
  if (o.unit && o.unit.endsWith('.service') && !o.unit.startsWith('user@')) return o.unit.replace(/\.service$/, '');
  const script = o.argv?.length ? scriptName(o.comm || o.exe, o.argv) : null;
  if (script) return script;
  // the executable's file name is the process's choice too: no control characters, no `|` (edge ids are joined by it)
  if (o.comm.length >= COMM_MAX && o.exe.startsWith(o.comm)) return cleanName(o.exe) || 'unknown';
  return cleanName(o.comm || o.exe) || 'unknown';
}

/** Dhrishti's own command line script, and its commands: another agent, a hub or a trace on this host reads as itself. */
const OWN_CLI = /(^|\/)dist\/src\/cli\/main\.js$/;
const OWN_COMMANDS = new Set(['run', 'hub', 'trace', 'graph', 'check', 'doctor', 'demo', 'image']);

/** `node …/dist/src/cli/main.js hub` -> dhrishti-hub (it was cli/main.js); null for any other program. */
function ownCommand(argv: readonly string[]): string | null {
  const i = argv.findIndex((a, k) => k < 8 && OWN_CLI.test(a));
  const cmd = i > 0 ? argv[i + 1] : undefined;
  return cmd && OWN_COMMANDS.has(cmd) ? `${SELF_NAME}-${cmd}` : null;
}

const SECRET_WORD = /pass|pwd|secret|token|key|auth|cred|session|cookie/i;
/** An HTTP header given with -H/--header (`Authorization: Bearer x`, `PRIVATE-TOKEN: x`, `Api-Key: x`) whose value is a credential. */
const SECRET_HEADER = /^\s*([\w-]*(?:authorization|cookie|token|key|auth|secret|session|pass)[\w-]*)\s*:/i;
const HEADER_FLAG = /^(-H|--header)$/;
/** `name=value` anywhere in an argument whose name says secret: `DB_PASSWORD=x`, libpq's `host=db password=x`. */
const SECRET_ASSIGNMENT = /(^|[\s;,&])([\w.-]*(?:pass|pwd|secret|token|key|auth|cred|session|cookie)[\w.-]*)=("[^"]*"|'[^']*'|[^\s;,&]*)/gi;
/** `"password": "x"` in a JSON body given on the command line (`curl -d '{…}'`). */
const SECRET_JSON = /("[^"]*(?:pass|pwd|secret|token|key|auth|cred|session|cookie)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
/** Clients whose password follows a one-letter flag: attached (`mysql -pS3cret`, `sshpass -pS3cret`) or as the next argument (`redis-cli -a x`). */
const ATTACHED_PASSWORD = /^(mysql|mariadb|mysqldump|mariadb-dump|mysqladmin|mariadb-admin|sshpass)$/;
const NEXT_IS_PASSWORD: Record<string, string> = { 'redis-cli': '-a', sshpass: '-p', mongo: '-p', mongosh: '-p' };
/** Registry clients, whose -p is a password only for `login` (`docker run -p 8080:80` publishes a port). */
const LOGIN_PASSWORD = /^(docker|podman|nerdctl|buildah|skopeo|helm)$/;
/** HTTP clients whose -u/-U/--user/--proxy-user take `user:password`, joined (`-ualice:pw`) or as the next argument. */
const USER_PASSWORD_CLIENT = /^(curl|wget|http|https|xh|aria2c|lftp)$/;
/** Clients that take headers as plain `Name:value` arguments (HTTPie, xh). */
const POSITIONAL_HEADERS = /^(http|https|xh|xhs)$/;
const USER_PASSWORD_FLAG = /^(-u|-U|--user|--proxy-user|--http-user)$/;
/** Programs that run the next argument (`sudo docker login -p x`, `env A=1 mysql -px`): the program is the one after them. */
const WRAPPERS = /^(sudo|doas|env|nice|ionice|nohup|timeout|stdbuf|chrt|taskset|time)$/;

/**
 * One argument with the secrets it carries masked: a URL's password, a bearer token, a query string
 * (`/export?token=…`: kept out of request samples, so out of command lines too), secret assignments and JSON members.
 */
function redactValue(a: string): string {
  return a.replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@\s/]*@/gi, '$1:***@').replace(/\b(Bearer|Basic|Token)\s+\S+/gi, '$1 ***')
    .replace(/\?[\w.%~-]+=[^\s#]*/g, '?***').replace(SECRET_ASSIGNMENT, '$1$2=***').replace(SECRET_JSON, '$1"***"');
}

/** The program a command line runs, past wrappers and their options and assignments (`sudo -E env A=1 docker …` -> docker at 4). */
function programOf(argv: readonly string[]): { prog: string; at: number } {
  let i = 0;
  while (i < argv.length - 1) {
    const base = argv[i].split('/').pop()!;
    if (!WRAPPERS.test(base)) break;
    i++;
    while (i < argv.length - 1 && (argv[i].startsWith('-') || /^\w+=/.test(argv[i]) || (base === 'timeout' && /^\d/.test(argv[i])))) i++;
  }
  return { prog: (argv[i] ?? '').split('/').pop()!, at: i };
}

/**
 * A command line as the API may publish it: arguments often carry secrets (`--password x`, `--token=x`,
 * `postgres://user:pw@db`, `-H 'Authorization: Bearer x'`, `mysql -pS3cret`), and the API can be read from other
 * hosts. Those values become `***`.
 */
export function redactArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  const { prog, at } = programOf(argv);
  const nextIsPassword = NEXT_IS_PASSWORD[prog] ?? (LOGIN_PASSWORD.test(prog) && argv[at + 1] === 'login' ? '-p' : undefined);
  const userPassword = USER_PASSWORD_CLIENT.test(prog);
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (i > at && ATTACHED_PASSWORD.test(prog) && /^-p.+/.test(raw)) { out.push('-p***'); continue; }
    if (i > at && userPassword && /^-[uU][^-].*:/.test(raw)) { out.push(raw.replace(/:.*/, ':***')); continue; }
    if (i > 0 && (HEADER_FLAG.test(argv[i - 1]) || (i > at && POSITIONAL_HEADERS.test(prog))) && SECRET_HEADER.test(raw)) { out.push(`${SECRET_HEADER.exec(raw)![0]} ***`); continue; }
    const eq = /^(-{1,2}[^=\s]+)=/.exec(raw);
    if (eq && SECRET_WORD.test(eq[1])) { out.push(`${eq[1]}=***`); continue; }
    if (eq && eq[1] === '--header' && SECRET_HEADER.test(raw.slice(eq[0].length))) { out.push(`${eq[0]}${SECRET_HEADER.exec(raw.slice(eq[0].length))![0]} ***`); continue; }
    out.push(eq ? `${eq[0]}${redactValue(raw.slice(eq[0].length))}` : redactValue(raw));
    const flagged = (/^-{1,2}[a-z][\w-]*$/i.test(raw) && SECRET_WORD.test(raw)) || (i > at && raw === nextIsPassword);
    if (flagged && i + 1 < argv.length && !argv[i + 1].startsWith('-')) { out.push('***'); i++; continue; }
    if (i > at && userPassword && USER_PASSWORD_FLAG.test(raw) && i + 1 < argv.length && argv[i + 1].includes(':')) { out.push(argv[i + 1].replace(/:.*/, ':***')); i++; }
  }
  return out;
}

export function ownerNode(o: Owner): NodeRef {
  if (o.kind === 'container') return containerNode(o.container, o.pid);
  const name = o.kind === 'process' ? processName(o) : cleanName(o.comm) || 'unknown';
  const instance: Instance = { id: `pid:${o.pid}`, name: o.comm || name, pids: o.pid ? [o.pid] : [], ips: [] };
  const command = o.kind === 'process' && o.argv?.length && !o.self ? cleanName(redactArgs(o.argv).join(' '), COMMAND_MAX) : '';
  if (command) instance.command = command;
  return { id: `proc:${name}`, kind: 'process', label: name, group: 'host', instance: o.pid ? instance : undefined };
}

/**
 * The host end of a connection to one of this host's addresses that no process owns: a connect refused or
 * unanswered on a port nothing listens on, or a server end that never showed (id `proc:host`).
 */
export const HOST_NODE: NodeRef = { id: 'proc:host', kind: 'process', label: 'host (no listener)', group: 'host' };

/** The far end of a connection known only by its address. */
export function addressNode(a: AddressOwner, ip: string, role: 'client' | 'server'): NodeRef {
  if (a.kind === 'container') return containerNode(a.container);
  if (a.kind === 'host') return a.published ? containerNode(a.published.container) : HOST_NODE;
  if (role === 'client') return { id: `client:${ip}`, kind: 'client', label: ip, group: null };
  return a.vacant ? { id: `ext:${ip}`, kind: 'external', label: ip, group: a.vacant.group, vacant: a.vacant } : { id: `ext:${ip}`, kind: 'external', label: ip, group: null };
}

/** An external server named by the DNS answer its client received: the name is the node, the address a detail. */
export function namedExternalNode(ip: string, name: { name: string; cnames: string[] }): NodeRef {
  return { id: `ext:${name.name}`, kind: 'external', label: name.name, group: null, address: ip, dns: { name: name.name, cnames: name.cnames } };
}

/** `payments.partner.example` -> `partner.example` (public suffix list); null for single labels and addresses. */
export function registeredDomain(name: string): string | null {
  return getDomain(name, { allowPrivateDomains: true });
}

/**
 * A DNS resolver on one of this host's addresses (127.0.0.53, dnsmasq on 127.0.0.1) whose process was not found: it
 * answers, so it is not "host (no listener)". Found (discovery/udp-servers.ts), it is that process's own node.
 */
export const HOST_RESOLVER: NodeRef = { id: 'proc:host-dns', kind: 'process', label: 'DNS resolver on the host', group: 'host' };

/** Docker's embedded DNS server (127.0.0.11 in every container on a user-defined network): one node for all of them. */
export const DOCKER_DNS: NodeRef = { id: 'proc:docker-dns', kind: 'process', label: 'Docker DNS', group: 'host' };

export const OTHER_EXTERNAL: NodeRef = { id: 'ext:other', kind: 'external', label: 'other external', group: null };
export const OTHER_CLIENTS: NodeRef = { id: 'client:other', kind: 'client', label: 'other clients', group: null };
