import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { allMigrations } from '../composition.ts';
import { DisputeRepo } from '../disputes/index.ts';
import { repoRoot } from '../platform/index.ts';
import { migrate, SqliteDb } from '../storage/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'facepay-cli-disputes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("facepay disputes list shows the operator every merchant's disputes, with --status and --json", async () => {
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  await migrate(db, allMigrations);
  const repo = new DisputeRepo(db);
  const base = { shopperId: 'shp_1', status: 'open' as const, reason: 'not_made_by_shopper', method: 'face' as const, amount: 1250, currency: 'eur', refundId: null, createdAt: 1, updatedAt: 1 };
  assert.ok(await repo.insertOpen({ ...base, id: 'dp_0001', paymentIntentId: 'pi_a', merchantId: 'mer_a', mode: 'live' }));
  assert.ok(await repo.insertOpen({ ...base, id: 'dp_0002', paymentIntentId: 'pi_b', merchantId: 'mer_b', mode: 'test' }));
  assert.equal(await repo.insertOpen({ ...base, id: 'dp_0003', paymentIntentId: 'pi_b', merchantId: 'mer_b', mode: 'test' }), false, 'one open dispute per payment');
  assert.ok(await repo.settle('dp_0001', 'refunded', 're_1', 2));
  await db.close();

  const env = { ...process.env, FACEPAY_DATA_DIR: dir, FACEPAY_PG_URL: '' };
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'disputes', ...args], { env, encoding: 'utf8' });
  const all = cli('list', '--json');
  assert.equal(all.status, 0, all.stderr);
  const rows = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; merchant: string; shopper: string; status: string; livemode: boolean });
  assert.deepEqual(rows.map((r) => [r.id, r.merchant, r.status, r.livemode]), [['dp_0002', 'mer_b', 'open', false], ['dp_0001', 'mer_a', 'refunded', true]]);
  assert.equal(rows[0]!.shopper, 'shp_1');
  const open = cli('list', '--status', 'open');
  assert.equal(open.status, 0, open.stderr);
  assert.match(open.stdout, /dp_0002/);
  assert.doesNotMatch(open.stdout, /dp_0001/);
  assert.match(open.stdout, /1 dispute\(s\)/);
  const first = cli('list', '--limit', '1');
  assert.match(first.stdout, /dp_0002/);
  assert.match(first.stdout, /more with --cursor dp_0002/);
  const next = cli('list', '--limit', '1', '--cursor', 'dp_0002');
  assert.match(next.stdout, /dp_0001/);
  assert.doesNotMatch(next.stdout, /dp_0002/);
  assert.equal(cli('list', '--status', 'lost').status, 1);
  assert.equal(cli('nonsense').status, 2);
});
