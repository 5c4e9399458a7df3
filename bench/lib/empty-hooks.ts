// The "hooks" condition of `npm run bench`: empty programs on the two per-call
// tracepoints (empty-hooks.bpf.c), compiled with clang when the benchmark runs
// (against the vmlinux.h that `npm run setup` made), and held attached by a
// child process through the product's native loader. What a run keeps with
// them is the most any per-call design can keep on this machine. bench:l7's
// "prefix floor" is the same with prefix-floor.bpf.c: the least per-call
// request capture must do.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPF_OBJECT_PATH, REPO_ROOT } from '../../src/config/defaults.js';
import { start, type Child } from './children.js';

const LIB = path.join(REPO_ROOT, 'bench', 'lib');
export const EMPTY_HOOKS = path.join(LIB, 'empty-hooks.bpf.c');
export const PREFIX_FLOOR = path.join(LIB, 'prefix-floor.bpf.c');
const ARCH: Record<string, string> = { x64: 'x86', arm64: 'arm64' };
const HOLDER = fileURLToPath(new URL('../empty-hooks-child.js', import.meta.url));

export class EmptyHooks {
  private child: Child | null = null;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-bench-hooks-'));

  constructor(private readonly source = EMPTY_HOOKS) {}

  get pid(): number | null { return this.child?.pid ?? null; }

  /** Builds the object, starts the holder and resolves once both programs are attached. */
  async start(): Promise<void> {
    const obj = path.join(this.dir, path.basename(this.source).replace(/\.c$/, '.o'));
    // -g: BTF for CO-RE field accesses (prefix-floor.bpf.c reads task, socket and register fields)
    execFileSync('clang', ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${ARCH[process.arch] ?? process.arch}`,
      `-I${path.dirname(BPF_OBJECT_PATH)}`, `-I${path.join(REPO_ROOT, 'src', 'kernel')}`, '-c', this.source, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = start('empty hooks', process.execPath, [HOLDER, obj]);
    await this.child.waitFor(/^attached 2$/, 30_000);
  }

  async stop(): Promise<void> {
    await this.child?.stop('SIGTERM', 5000);
    this.child = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
