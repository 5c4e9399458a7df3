// The store's tests use the project's one set of fixtures (test/support/fixtures.ts).
export * from '../../test/support/fixtures.js';

import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';

/** A history file as a release of schema `version` left it (migrations 1..version, no later), open for the test to fill. */
export function databaseAtVersion(file: string, version: number): Database.Database {
  const db = new Database(file);
  for (let v = 0; v < version; v++) MIGRATIONS[v](db);
  db.pragma(`user_version = ${version}`); // a pragma takes no bound parameters; version is the test's own integer
  return db;
}
