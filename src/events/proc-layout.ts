// Mirror of src/kernel/proc.h: struct dh_exec, a process as exec started it (value of the `exec_args` map).
// test/layout.test.ts checks it against the BTF of the compiled object.
import { printableAt } from './text.js';

export const EXEC = { start_ns: 0, args_len: 8, pad: 12, comm: 16, args: 32 } as const;
export const EXEC_SIZE = 288;
export const EXEC_ARGS = 256;
export const EXEC_COMM = 16;

/** What exec said of a process: its program's name, its arguments (the last one maybe cut), when it started (ns since boot). */
export interface ExecFacts { comm: string; argv: string[]; startNs: number }

/** Decodes one dh_exec value; null if it holds no arguments. */
export function decodeExec(b: Buffer): ExecFacts | null {
  const len = Math.min(b.readUInt32LE(EXEC.args_len), EXEC_ARGS);
  if (!len) return null;
  const comm = printableAt(b, EXEC.comm, EXEC_COMM); // as connection events decode it, so the two are compared alike
  const argv = b.toString('utf8', EXEC.args, EXEC.args + len).split('\0');
  if (argv.at(-1) === '') argv.pop();
  return argv.length ? { comm, argv, startNs: Number(b.readBigUInt64LE(EXEC.start_ns)) } : null;
}
