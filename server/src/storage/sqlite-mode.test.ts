import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteDb } from './sqlite.ts';

test('the embedded database is created in an owner-only folder, its file and WAL owner-only; an old one is tightened', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fp-mode-')), 'data');
  const file = join(dir, 'facepay.sqlite');
  const db = new SqliteDb(file);
  await db.execute('CREATE TABLE t (x INTEGER)');
  await db.execute('INSERT INTO t VALUES (1)');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of [file, `${file}-wal`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  await db.close();

  const old = join(mkdtempSync(join(tmpdir(), 'fp-mode-')), 'old.sqlite');
  writeFileSync(old, '');
  chmodSync(old, 0o644);
  const again = new SqliteDb(old);
  assert.equal(statSync(old).mode & 0o777, 0o600);
  await again.close();
});
