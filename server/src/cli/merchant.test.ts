import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { allMigrations } from '../composition.ts';
import { createMerchantService } from '../merchants/index.ts';
import { cryptoRandom, randomIds, repoRoot, systemClock } from '../platform/index.ts';
import { migrate, SqliteDb } from '../storage/index.ts';
import { createOperatorService, OperatorRepo } from '../operator/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'facepay-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('facepay merchant create NAME --json prints a merchant id and a working test key', async () => {
  const env = { ...process.env, FACEPAY_DATA_DIR: dir, FACEPAY_PG_URL: '' };
  const res = spawnSync(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'merchant', 'create', 'Corner Café', '--json'], { env, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { merchant_id: string; api_key: string };
  assert.deepEqual(Object.keys(out).sort(), ['api_key', 'merchant_id']);
  assert.match(out.api_key, /^sk_test_/);
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  await migrate(db, allMigrations);
  const merchants = createMerchantService({ db, clock: systemClock, ids: randomIds(), random: cryptoRandom });
  assert.equal((await merchants.authenticate(out.api_key)).merchantId, out.merchant_id);
  assert.equal((await merchants.getMerchant(out.merchant_id)).name, 'Corner Café');
  await db.close();
  const bad = spawnSync(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'merchant', 'create'], { env, encoding: 'utf8' });
  assert.equal(bad.status, 2);
});

test('facepay operator add makes a desk login that signs in; facepay operator reconcile reports the float', async () => {
  const env = { ...process.env, FACEPAY_DATA_DIR: dir, FACEPAY_PG_URL: '' };
  const bin = join(repoRoot, 'server/bin/facepay.js');
  const res = spawnSync(process.execPath, [bin, 'operator', 'add', 'clerk@operator.example', '--role', 'desk', '--credit-cap', '5000', '--json'], { env, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { staff_id: string; role: string; password: string };
  assert.equal(out.role, 'desk');
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  await migrate(db, allMigrations);
  const operators = createOperatorService({ repo: new OperatorRepo(db), clock: systemClock, ids: randomIds(), random: cryptoRandom });
  const { staff } = await operators.logIn('clerk@operator.example', out.password);
  assert.deepEqual([staff.id, staff.creditCap], [out.staff_id, 5000]);
  await db.close();
  assert.equal(spawnSync(process.execPath, [bin, 'operator', 'add', 'x@operator.example', '--role', 'cashier'], { env, encoding: 'utf8' }).status, 1);
  const rec = spawnSync(process.execPath, [bin, 'operator', 'reconcile', '--json'], { env, encoding: 'utf8' });
  assert.equal(rec.status, 0, rec.stderr);
  assert.ok(Array.isArray((JSON.parse(rec.stdout) as { currencies: unknown[] }).currencies));
});
