// Faults for the fault suite: garbage written into a SQLite file at known pages, a small
// tmpfs to fill or make read-only. Every mount is undone by the test in a finally block.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import Database from 'better-sqlite3';

export interface Page { name: string; pageno: number; pagetype: string }

/** The file's pages in tree order (dbstat), its page size and page count; opened read-only. */
export function pageMap(file: string): { pageSize: number; pageCount: number; pages: Page[] } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pageCount = db.pragma('page_count', { simple: true }) as number;
    const pages = db.prepare<[], Page>("SELECT name, pageno, pagetype FROM dbstat ORDER BY name, path").all();
    return { pageSize, pageCount, pages };
  } finally {
    db.close();
  }
}

/** Leaf pages of one table or index, in key order. */
export function leaves(file: string, name: string): number[] {
  return pageMap(file).pages.filter((p) => p.name === name && p.pagetype === 'leaf').map((p) => p.pageno);
}

/** Deterministic garbage (xorshift), never a valid page: what a bad disk or a stray writer leaves. */
export function garbage(length: number, seed = 0x9e3779b9): Buffer {
  const b = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Overwrites `length` bytes at `offset` (in place, the file keeps its size) and syncs. */
export function writeGarbage(file: string, offset: number, length: number, seed?: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, garbage(length, seed), 0, length, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Overwrites whole pages (1-based page numbers, SQLite's). */
export function garblePages(file: string, pageSize: number, pagenos: number[]): void {
  for (const p of pagenos) writeGarbage(file, (p - 1) * pageSize, pageSize, p);
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Mounts a tmpfs of `bytes` on `dir` (root only). */
export function mountTmpfs(dir: string, bytes: number): void {
  fs.mkdirSync(dir, { recursive: true });
  sh('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0750`, 'tmpfs', dir]);
}

export function remount(dir: string, mode: 'ro' | 'rw'): void {
  sh('mount', ['-o', `remount,${mode}`, dir]);
}

/** Unmounts if mounted (lazily, so a process still holding a file there cannot block it). */
export function unmount(dir: string): void {
  if (isMountPoint(dir)) sh('umount', ['-l', dir]);
}

export function isMountPoint(dir: string): boolean {
  const real = fs.existsSync(dir) ? fs.realpathSync(dir) : dir;
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === real);
}

/** Fills the file system holding `dir` with a filler file until ENOSPC; returns the filler's path. */
export function fillDisk(dir: string): string {
  const filler = `${dir}/filler`;
  const fd = fs.openSync(filler, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  try {
    for (;;) {
      try { fs.writeSync(fd, chunk); } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
        // Fill the last partial chunk too, byte by byte down to nothing.
        for (let n = chunk.length >> 1; n >= 1; n >>= 1) { try { fs.writeSync(fd, chunk, 0, n); } catch { /* full at this size */ } }
        return filler;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

export const isRoot = () => process.getuid?.() === 0;
