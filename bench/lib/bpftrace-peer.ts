// The peer for the overhead comparison: a bpftrace script on the same
// tracepoints Dhrishti uses, doing the same job in the simplest way a person
// would write it: bytes per socket in a map keyed by the socket address,
// every state change counted, one line per closed connection (like tcplife).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Child } from './children.js';

const TCP_CLOSE = 7;
const IPPROTO_TCP = 6;

export const BPFTRACE_SCRIPT = `
tracepoint:sock:inet_sock_set_state /args->protocol == ${IPPROTO_TCP}/ {
  @transitions[args->oldstate, args->newstate] = count();
  if (args->newstate == ${TCP_CLOSE}) {
    printf("%d %s %d %d %d %d\\n", pid, comm, args->sport, args->dport, @sent[args->skaddr], @recv[args->skaddr]);
    delete(@sent[args->skaddr]);
    delete(@recv[args->skaddr]);
  }
}
tracepoint:sock:sock_send_length /args->protocol == ${IPPROTO_TCP} && args->ret > 0/ {
  @sent[args->sk] = @sent[args->sk] + (uint64)args->ret;
}
tracepoint:sock:sock_recv_length /args->protocol == ${IPPROTO_TCP} && args->ret > 0/ {
  @recv[args->sk] = @recv[args->sk] + (uint64)args->ret;
}
`;

export interface PeerSummary { closeLines: number; transitions: number }

export class BpftracePeer {
  private child: Child | null = null;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-bpftrace-'));
  private readonly out = path.join(this.dir, 'out.txt');

  get pid(): number | null { return this.child?.pid ?? null; }

  /** Starts bpftrace and resolves once its probes are attached. */
  async start(): Promise<void> {
    const script = path.join(this.dir, 'lifecycle.bt');
    fs.writeFileSync(script, BPFTRACE_SCRIPT);
    // Output goes to a file so the benchmark process does not spend CPU reading it.
    this.child = start('bpftrace', 'bpftrace', ['-o', this.out, script]);
    const deadline = Date.now() + 30000;
    while (!this.attached()) {
      if (Date.now() > deadline) throw new Error(`bpftrace did not attach within 30 s; stderr: ${this.child.stderr.slice(-5).join(' | ')}`);
      const exited = await Promise.race([this.child.exited.then(() => true), sleep(100).then(() => false)]);
      if (exited) throw new Error(`bpftrace exited before attaching; stderr: ${this.child.stderr.filter((l) => !/RLIMIT_MEMLOCK/.test(l)).slice(-5).join(' | ')}`);
    }
    await sleep(500); // "Attaching N probes..." is printed just before the attach calls
  }

  private attached(): boolean {
    try { return fs.readFileSync(this.out, 'utf8').includes('Attaching'); } catch { return false; }
  }

  /** Stops bpftrace (it prints its maps on SIGINT) and reads what it reported. */
  async stop(): Promise<PeerSummary> {
    if (!this.child) return { closeLines: 0, transitions: 0 };
    await this.child.stop('SIGINT', 10000);
    this.child = null;
    let text = '';
    try { text = fs.readFileSync(this.out, 'utf8'); } catch { /* nothing written */ }
    fs.rmSync(this.dir, { recursive: true, force: true });
    let closeLines = 0, transitions = 0;
    for (const line of text.split('\n')) {
      if (/^\d+ /.test(line)) closeLines++;
      const m = line.match(/^@transitions\[\d+, \d+\]: (\d+)/);
      if (m) transitions += Number(m[1]);
    }
    return { closeLines, transitions };
  }
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
