// Opens (or creates) the history file: checked for corruption first, then WAL,
// one writer, schema migrated. A read-only folder opens the file read-only.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { HISTORY_DEFAULTS } from '../config/defaults.js';

export type Db = Database.Database;

/** The file is damaged (SQLite says corrupt, or not a database): it must be set aside, not written to. */
export class CorruptDatabase extends Error {
  constructor(readonly file: string, readonly detail: string) {
    super(`the history database ${file} is corrupt: ${detail}`);
  }
}

/** Why a file could not be opened, and whether trying again later may help (another agent holds it, disk full). */
export class OpenFailed extends Error {
  constructor(message: string, readonly retry: boolean) { super(message); }
}

const codeOf = (e: unknown): string => String((e as { code?: unknown })?.code ?? '');

/** SQLite found a damaged page or header (SQLITE_CORRUPT*, SQLITE_NOTADB). */
export function isCorruption(e: unknown): boolean {
  const c = codeOf(e);
  return c.startsWith('SQLITE_CORRUPT') || c === 'SQLITE_NOTADB';
}

export function isDiskFull(e: unknown): boolean {
  const c = codeOf(e);
  return c === 'SQLITE_FULL' || c === 'ENOSPC';
}

function isReadOnlyFs(e: unknown): boolean {
  const c = codeOf(e);
  return c === 'EROFS' || c === 'EACCES' || c === 'EPERM';
}

export interface Opened {
  db: Db;
  readOnly: boolean;
  /** How the file was checked before use. */
  check: { kind: 'quick_check' | 'sampled' | 'new'; ms: number };
}

/** mkdir -p, one level at a time: Node's recursive mkdirSync spins forever where a parent cannot be made
 *  (under /proc, mkdir answers ENOENT for a parent it keeps retrying), and a folder given on the command line may be anywhere. */
export function makeDirs(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) fs.mkdirSync(d, { mode });
}

/**
 * Opens the history file. A folder that cannot be written opens an existing file read-only; so does a reader,
 * which never creates one. Throws CorruptDatabase when the file is damaged, OpenFailed otherwise.
 */
export function openDatabase(file: string, reader = false): Opened {
  const dir = path.dirname(file);
  let readOnly = false;
  if (reader) {
    if (!fs.existsSync(file)) throw new OpenFailed(`no history database at ${file}: an agent run with --data-dir ${dir} records one`, false);
    readOnly = true;
  } else {
    try {
      makeDirs(dir, 0o750);
      // The file maps this host's traffic: owner-only, like the live API off loopback needs a token. SQLite gives the WAL the same mode.
      fs.closeSync(fs.openSync(file, 'a', 0o600));
    } catch (e) {
      if (!isReadOnlyFs(e)) throw new OpenFailed(`cannot create the history database ${file}: ${(e as Error).message}`, true);
      if (!fs.existsSync(file)) throw new OpenFailed(`the history folder ${dir} is read-only and holds no history database (${file}): nothing to serve, nothing can be recorded`, false);
      readOnly = true;
    }
  }
  const started = performance.now();
  const kind = checkIntegrity(file, readOnly);
  const check = { kind, ms: Math.round(performance.now() - started) };
  let db: Db;
  try {
    db = new Database(file, { timeout: 2000, readonly: readOnly, fileMustExist: readOnly });
  } catch (e) {
    throw failure(file, e, readOnly);
  }
  try {
    if (readOnly) {
      const v = db.pragma('user_version', { simple: true }) as number;
      if (v !== SCHEMA_VERSION) throw new OpenFailed(`the history database ${file} has schema version ${v}, this Dhrishti reads ${SCHEMA_VERSION}, and ${reader ? 'it is only read here: an agent run on it migrates it' : 'its folder is read-only so it cannot be migrated'}`, false);
    } else {
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit is not fsynced, a crash loses at most the last flushes, never the file.
      db.pragma('synchronous = NORMAL');
      // One agent per file: a second one fails at open instead of interleaving writes.
      db.pragma('locking_mode = EXCLUSIVE');
      migrate(db);
    }
    db.pragma('cache_size = -16000'); // 16 MB
    db.pragma('temp_store = MEMORY');
  } catch (e) {
    try { db.close(); } catch { /* closing a damaged file may fail too */ }
    throw failure(file, e, readOnly);
  }
  return { db, readOnly, check };
}

/**
 * Reads the whole file once with PRAGMA quick_check (about 5 ms per MB here) on a
 * connection of its own, so the store's page cache starts empty and later reads
 * still meet damage on disk. Files over HISTORY_DEFAULTS.integrityCheckMaxBytes get
 * a sampled check (header, schema, first and last rows of every table) to keep the
 * start bounded; the rest is caught when a read or write meets it.
 */
function checkIntegrity(file: string, readOnly: boolean): Opened['check']['kind'] {
  const size = fs.statSync(file).size + sizeOf(`${file}-wal`);
  if (size === 0) return 'new';
  let db: Db | null = null;
  try {
    // No busy wait: another agent holding the file is reported at once, not after blocking the event loop (retries come every 30 s).
    db = new Database(file, { timeout: 0, readonly: readOnly, fileMustExist: true });
    // EXCLUSIVE: no -shm file.
    db.pragma('locking_mode = EXCLUSIVE');
    if (size <= HISTORY_DEFAULTS.integrityCheckMaxBytes) {
      const problems = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[];
      const bad = problems.map((p) => p.quick_check).filter((p) => p !== 'ok');
      if (bad.length) throw new CorruptDatabase(file, `quick_check: ${bad.join('; ')}`);
      return 'quick_check';
    }
    const tables = db.prepare<[], { name: string; wr: number }>(
      "SELECT name, sql LIKE '%WITHOUT ROWID%' AS wr FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
    for (const t of tables) {
      const ident = `"${t.name.replace(/"/g, '""')}"`;
      if (t.wr) { db.prepare(`SELECT * FROM ${ident} LIMIT 1`).all(); continue; } // first leaf; the last is read by the first flush
      db.prepare(`SELECT * FROM ${ident} WHERE rowid = (SELECT min(rowid) FROM ${ident}) OR rowid = (SELECT max(rowid) FROM ${ident})`).all();
    }
    return 'sampled';
  } catch (e) {
    if (e instanceof CorruptDatabase) throw e;
    throw failure(file, e, readOnly);
  } finally {
    try { db?.close(); } catch { /* a damaged file may not close cleanly */ }
  }
}

function sizeOf(f: string): number {
  try { return fs.statSync(f).size; } catch { return 0; }
}

/** An error met while opening, as CorruptDatabase or OpenFailed with a message naming the file. */
function failure(file: string, e: unknown, readOnly: boolean): Error {
  if (e instanceof CorruptDatabase || e instanceof OpenFailed) return e;
  const msg = (e as Error).message;
  if (isCorruption(e)) return new CorruptDatabase(file, msg);
  if (/locked|busy/i.test(msg)) return new OpenFailed(`the history database ${file} is in use by another process (another dhrishti run?)`, true);
  if (/newer than this Dhrishti/.test(msg)) return new OpenFailed(`cannot use the history database ${file}: ${msg}`, false);
  if (readOnly && (fs.existsSync(`${file}-wal`) || walMode(file))) {
    return new OpenFailed(`cannot read the history database ${file} read-only: the agent that wrote it did not stop cleanly (the file is still in WAL mode) and its folder is read-only; make the folder writable once, or copy the file with its -wal elsewhere (${msg})`, false);
  }
  if (isDiskFull(e)) return new OpenFailed(`cannot use the history database ${file}: the disk is full (${msg})`, true);
  return new OpenFailed(`cannot use the history database ${file}: ${msg}`, !readOnly);
}

/** Bytes 18-19 of the header are 2 in WAL mode. */
function walMode(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try { const b = Buffer.alloc(2); fs.readSync(fd, b, 0, 2, 18); return b[0] === 2; } finally { fs.closeSync(fd); }
  } catch { return false; }
}

/**
 * Closes the file, leaving it in rollback-journal mode on disk: SQLite cannot open
 * a WAL-mode file in a read-only folder (it needs to create -wal and -shm), and a
 * history shared read-only must still be readable. The next writer turns WAL back on.
 */
export function closeDatabase(db: Db): void {
  try { if (!db.readonly) db.pragma('journal_mode = DELETE'); } catch { /* disk full or damaged: the WAL stays and is replayed next open */ }
  try { db.close(); } catch { /* already closed, or damaged */ }
}

/**
 * Moves a damaged file aside as `<file>.corrupt-<time>` with its -wal and -shm
 * (same suffixes, so SQLite still pairs them); returns the new name.
 */
export function setAside(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/:/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let i = 1; fs.existsSync(target); i++) target = `${file}.corrupt-${stamp}-${i}`;
  fs.renameSync(file, target);
  for (const suffix of ['-wal', '-shm', '-journal']) {
    try { fs.renameSync(file + suffix, target + suffix); } catch (e) { if (codeOf(e) !== 'ENOENT') throw e; }
  }
  return target;
}
