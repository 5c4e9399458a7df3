// The peer for bench:l7: a bpftrace script doing request capture the simplest
// way a person would write it, at the same hooks Dhrishti uses
// (sock:sock_send_length / sock:sock_recv_length, the syscall's buffer found
// through the user registers): read a prefix of every TCP send and receive,
// call a request what starts like one (HTTP method, RESP array, PostgreSQL
// Query/Parse), a response what starts like one, count HTTP status classes,
// and keep a latency histogram per socket pairing. No framing, no pipelining:
// a lower bar of work than Dhrishti's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Child } from './children.js';

/** x86_64: the user registers sit at the top of the task's 16 KiB kernel stack (task_pt_regs), sizeof(struct pt_regs) = 168. */
export const BPFTRACE_L7_SCRIPT = `
tracepoint:sock:sock_send_length,
tracepoint:sock:sock_recv_length
/args->protocol == 6 && args->ret > 0/ {
  $r = (struct pt_regs *)((uint64)curtask->stack + 16384 - 168);
  $nr = $r->orig_ax;
  $p = (uint64)0;
  if ($nr <= 1 || $nr == 44 || $nr == 45) { $p = $r->si; }
  if ($nr == 19 || $nr == 20) { $p = (uint64)((struct iovec *)uptr($r->si))->iov_base; }
  if ($nr == 46 || $nr == 47) { $p = (uint64)((struct iovec *)uptr(((struct user_msghdr *)uptr($r->si))->msg_iov))->iov_base; }
  if ($p != 0) {
    $c = *(uint8 *)uptr($p);
    if (str(uptr($p), 7) == "HTTP/1.") {
      @status[*(uint8 *)uptr($p + 9) - 48] = count();
      if (@start[args->sk]) { @lat = hist((nsecs - @start[args->sk]) / 1000); delete(@start[args->sk]); }
    } else if ($c == 71 || $c == 80 || $c == 72 || $c == 68 || $c == 42 || $c == 81) {
      @start[args->sk] = nsecs;
      @requests = count();
    } else if ($c == 43 || $c == 45 || $c == 36 || $c == 58 || $c == 84 || $c == 67 || $c == 50) {
      if (@start[args->sk]) { @lat = hist((nsecs - @start[args->sk]) / 1000); delete(@start[args->sk]); }
      @responses = count();
    }
  }
}
tracepoint:sock:inet_sock_set_state /args->protocol == 6 && args->newstate == 7/ {
  delete(@start[args->skaddr]);
}
END { clear(@start); }
`;

export interface L7PeerSummary { requests: number }

export class BpftraceL7Peer {
  private child: Child | null = null;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-bpftrace-l7-'));
  private readonly out = path.join(this.dir, 'out.txt');

  get pid(): number {
    if (!this.child) throw new Error('bpftrace not running');
    return this.child.pid;
  }

  /** Starts bpftrace and resolves once its probes are attached. */
  async start(): Promise<void> {
    const script = path.join(this.dir, 'l7.bt');
    fs.writeFileSync(script, BPFTRACE_L7_SCRIPT);
    this.child = start('bpftrace', 'bpftrace', ['-o', this.out, script]);
    const deadline = Date.now() + 60000;
    while (!this.attached()) {
      if (Date.now() > deadline) throw new Error(`bpftrace did not attach within 60 s; stderr: ${this.child.stderr.slice(-5).join(' | ')}`);
      const exited = await Promise.race([this.child.exited.then(() => true), sleep(100).then(() => false)]);
      if (exited) throw new Error(`bpftrace exited before attaching; stderr: ${this.child.stderr.filter((l) => !/RLIMIT_MEMLOCK/.test(l)).slice(-5).join(' | ')}`);
    }
    await sleep(500); // "Attaching N probes..." is printed just before the attach calls
  }

  private attached(): boolean {
    try { return fs.readFileSync(this.out, 'utf8').includes('Attaching'); } catch { return false; }
  }

  /** Stops bpftrace (it prints its maps on SIGINT) and reads its request count. */
  async stop(): Promise<L7PeerSummary> {
    if (!this.child) return { requests: 0 };
    await this.child.stop('SIGINT', 10000);
    this.child = null;
    let text = '';
    try { text = fs.readFileSync(this.out, 'utf8'); } catch { /* nothing written */ }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return { requests: Number(text.match(/^@requests: (\d+)/m)?.[1] ?? 0) };
  }
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
