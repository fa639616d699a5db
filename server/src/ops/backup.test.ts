import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditDataDir } from '../cli/restore.ts';
import { loadConfig } from '../config/index.ts';
import { SqliteDb } from '../storage/index.ts';
import { testPlatform } from '../testing.ts';
import { backup, restore, verifyBackup } from './index.ts';

test('backup while serving, then restore into a new data directory: same payments, a clean audit, no master key', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fp-bk-data-'));
  const p = await testPlatform('sqlite', { file: join(dataDir, 'facepay.sqlite') });
  const post = (url: string, payload: object) => p.app.inject({ method: 'POST', url, payload, headers: p.auth });
  assert.equal((await post('/v1/test_helpers/top_ups', { shopper: 'test_bk', amount: 10_000, currency: 'usd' })).statusCode, 200);
  for (let i = 0; i < 5; i++) {
    const r = await post('/v1/payment_intents', { amount: 300 + i, currency: 'usd', store: p.storeId, confirm: true, shopper: 'test_bk' });
    assert.equal(r.json().status, 'succeeded', r.body);
  }
  // What else lives in a data directory: a snapshot, the TLS files, and two files never to copy.
  mkdirSync(join(dataDir, 'gallery'));
  writeFileSync(join(dataDir, 'gallery', 'gallery-m-1-default.idx.enc'), 'sealed index');
  writeFileSync(join(dataDir, 'server.pem'), 'cert');
  writeFileSync(join(dataDir, 'gallery-dev-master.key'), 'the key\n');
  writeFileSync(join(dataDir, 'first-start.txt'), 'secrets\n');

  const out = join(mkdtempSync(join(tmpdir(), 'fp-bk-')), 'backup-1');
  // Online: taken through the open database while the platform is still up.
  const m = await backup({ dataDir, out, now: new Date('2026-12-07T12:00:00Z'), db: p.db as SqliteDb });
  // A payment after the backup is not in it.
  await post('/v1/payment_intents', { amount: 999, currency: 'usd', store: p.storeId, confirm: true, shopper: 'test_bk' });
  await p.dispose();

  assert.deepEqual(m.files.map((f) => f.path).sort(), ['facepay.sqlite', 'gallery/gallery-m-1-default.idx.enc', 'server.pem']);
  assert.ok(!readdirSync(out, { recursive: true }).some((f) => String(f).includes('master.key') || String(f).includes('first-start')), 'never the key or the first start secrets');
  assert.ok(m.migrations.length > 5);
  assert.equal(statSync(out).mode & 0o777, 0o700);
  for (const f of m.files) assert.equal(statSync(join(out, f.path)).mode & 0o777, 0o600, f.path);
  await assert.rejects(backup({ dataDir, out, now: new Date() }), /not empty/);

  const target = mkdtempSync(join(tmpdir(), 'fp-bk-restored-'));
  const r = restore({ from: out, dataDir: target, now: new Date() });
  assert.deepEqual(r.movedAside, []);
  const config = loadConfig({ FACEPAY_DATA_DIR: target, FACEPAY_FACE: '0', FACEPAY_LOG_LEVEL: 'silent' });
  const audit = await auditDataDir(config);
  assert.deepEqual(audit.problems, []);
  assert.match(audit.summary, /^clean: 5 payment intents, 5 succeeded/);
  assert.ok(existsSync(join(target, 'gallery', 'gallery-m-1-default.idx.enc')));

  // Over an existing database: refused, or with force the old one is moved aside, not lost.
  assert.throws(() => restore({ from: out, dataDir: target, now: new Date() }), /--force/);
  const again = restore({ from: out, dataDir: target, now: new Date('2026-12-08T00:00:00Z'), force: true });
  assert.ok(again.movedAside.some((f) => f.endsWith('facepay.sqlite.before-restore-2026-12-08T00-00-00-000Z')));
  assert.ok(existsSync(again.movedAside[0]!));
});

test('a backup whose file does not match the manifest is refused before anything is copied', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fp-bk-data-'));
  const db = new SqliteDb(join(dataDir, 'facepay.sqlite'));
  await db.execute('CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
  await db.close();
  const out = join(mkdtempSync(join(tmpdir(), 'fp-bk-')), 'b');
  await backup({ dataDir, out, now: new Date() });
  verifyBackup(out);
  writeFileSync(join(out, 'facepay.sqlite'), 'tampered');
  const target = mkdtempSync(join(tmpdir(), 'fp-bk-restored-'));
  assert.throws(() => restore({ from: out, dataDir: target, now: new Date() }), /does not match its hash/);
  assert.deepEqual(readdirSync(target), []);
});
