// Opens (or creates) the history file: WAL, one writer, schema migrated.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './schema.js';

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  } catch (e) {
    throw new Error(`cannot create the history folder ${path.dirname(file)}: ${(e as Error).message}`);
  }
  let db: Db;
  try {
    // The file maps this host's traffic: owner-only, like the live API off loopback needs a token. SQLite gives the WAL the same mode.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    db = new Database(file, { timeout: 2000 });
  } catch (e) {
    throw new Error(`cannot open the history database ${file}: ${(e as Error).message}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit is not fsynced, a crash loses at most the last flushes, never the file.
    db.pragma('synchronous = NORMAL');
    // One agent per file: a second one fails at open instead of interleaving writes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('cache_size = -16000'); // 16 MB
    db.pragma('temp_store = MEMORY');
    migrate(db);
  } catch (e) {
    db.close();
    const msg = (e as Error).message;
    if (/locked|busy/i.test(msg)) throw new Error(`the history database ${file} is in use by another process (another dhrishti run?)`);
    throw new Error(`cannot use the history database ${file}: ${msg}`);
  }
  return db;
}
