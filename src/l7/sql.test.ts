import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeSql, sqlVerb } from './sql.js';
import { prng } from './protocols/testing.js';

test('literals become ?, identifiers and parameters stay', () => {
  assert.equal(normalizeSql("SELECT * FROM users WHERE name = 'bob' AND id = 42"), 'SELECT * FROM users WHERE name = ? AND id = ?');
  assert.equal(normalizeSql("select 'it''s', 3.5e-3, 0xFF, $1, t1.c2 from \"T 1\""), 'select ?, ?, ?, $1, t1.c2 from "T 1"');
  assert.equal(normalizeSql('select $$body$$, $tag$x$tag$ -- comment\n  from /* c */ t'), 'select ?, ? from t');
  assert.equal(normalizeSql("insert into t values (E'a\\'b', B'101', N'x')"), 'insert into t values (?, ?, ?)');
});

test('MySQL: "…" is a string, backslashes escape in every string, # starts a comment; identifiers in backticks stay', () => {
  const my = (s: string) => normalizeSql(s, 'mysql');
  assert.equal(my('SELECT * FROM t WHERE password = "hunter2" AND x = "a\\"b"'), 'SELECT * FROM t WHERE password = ? AND x = ?');
  assert.equal(my("SELECT 'it\\'s secret', 1 FROM t"), 'SELECT ?, ? FROM t');
  assert.equal(my('SELECT a FROM t WHERE b = 1 # secret comment\n AND c = 2'), 'SELECT a FROM t WHERE b = ? AND c = ?');
  assert.equal(my("SELECT `my col` FROM `db`.`t` WHERE n = 'x''y' -- c"), 'SELECT `my col` FROM `db`.`t` WHERE n = ?');
  assert.equal(my("SELECT _utf8mb4'abc', X'0F', 0x1F"), 'SELECT _utf8mb4?, ?, ?');
  assert.equal(normalizeSql('SELECT "col" FROM t'), 'SELECT "col" FROM t', 'PostgreSQL keeps its quoted identifiers');
});

test('cut to 200 characters', () => {
  const s = normalizeSql(`select ${Array.from({ length: 200 }, (_, i) => `col${i}`).join(', ')} from t`);
  assert.ok(s.length <= 200);
  assert.ok(s.endsWith('…'));
});

test('verb', () => {
  assert.equal(sqlVerb('  /* hi */ select 1'), 'SELECT');
  assert.equal(sqlVerb('123'), null);
});

test('random text never throws and stays bounded', () => {
  const rnd = prng(7);
  for (let i = 0; i < 2000; i++) {
    const s = Array.from({ length: Math.floor(rnd() * 400) }, () => String.fromCharCode(Math.floor(rnd() * 128))).join('');
    for (const d of ['postgres', 'mysql'] as const) assert.ok(normalizeSql(s, d).length <= 200);
  }
});
