import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Migration } from './db.ts';
import { splitStatements } from './migrate.ts';
import { describeEachDb } from './testing.ts';

const migrations: Migration[] = [
  {
    id: 'test/0001_things',
    sqlite: 'CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL, flag BOOLEAN NOT NULL);',
    postgres: 'CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL, flag BOOLEAN NOT NULL);',
  },
];

describeEachDb('storage port', migrations, (getDb) => {
  test('placeholders bind in order, even when reused and out of order', async () => {
    const db = getDb();
    await db.execute('INSERT INTO things (id, n, flag) VALUES ($2, $1, $3)', [9007199254740991, 'a', true]);
    const rows = await db.query<{ id: string; n: number; same: number }>(
      'SELECT id, n, CASE WHEN $1 = $1 THEN 1 ELSE 0 END AS same FROM things WHERE id = $1',
      ['a'],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.n, 9007199254740991);
  });

  test('a transaction that throws leaves nothing behind', async () => {
    const db = getDb();
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute('INSERT INTO things (id, n, flag) VALUES ($1, $2, $3)', ['b', 1, false]);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(await db.query('SELECT id FROM things WHERE id = $1', ['b']), []);
  });

  test('concurrent read-modify-write transactions do not lose updates', async () => {
    const db = getDb();
    await db.execute('INSERT INTO things (id, n, flag) VALUES ($1, $2, $3)', ['c', 0, false]);
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db.transaction(async (tx) => {
          const [row] = await tx.query<{ n: number }>('SELECT n FROM things WHERE id = $1 FOR UPDATE', ['c']);
          await tx.execute('UPDATE things SET n = $1 WHERE id = $2', [(row?.n ?? 0) + 1, 'c']);
        }),
      ),
    );
    const [row] = await db.query<{ n: number }>('SELECT n FROM things WHERE id = $1', ['c']);
    assert.equal(row?.n, 50);
  });

  test('of many concurrent transactions, only those that throw are undone', async () => {
    const db = getDb();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.execute('INSERT INTO things (id, n, flag) VALUES ($1, $2, $3)', [`g${i}`, i, false]);
          if (i % 3 === 0) throw new Error(`no ${i}`);
          return i;
        }),
      ),
    );
    const kept = (await db.query<{ id: string }>("SELECT id FROM things WHERE id LIKE 'g%' ORDER BY n")).map((r) => r.id);
    const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 !== 0);
    assert.deepEqual(kept, expected.map((i) => `g${i}`));
    results.forEach((r, i) => assert.equal(r.status, i % 3 === 0 ? 'rejected' : 'fulfilled'));
  });
});

test('migrations split at line-ending semicolons, but never inside a $$ function body', () => {
  const sql = `CREATE TABLE a (x INT);
CREATE FUNCTION f() RETURNS INT LANGUAGE plpgsql AS $$
BEGIN
  RETURN 1;
END $$;
CREATE TABLE b (y INT);`;
  assert.deepEqual(splitStatements(sql), [
    'CREATE TABLE a (x INT)',
    'CREATE FUNCTION f() RETURNS INT LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND $$',
    'CREATE TABLE b (y INT)',
  ]);
});
