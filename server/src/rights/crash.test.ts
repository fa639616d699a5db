/**
 * Kills a process with SIGKILL in the middle of an account deletion (the memberships ended and
 * committed, the step not yet recorded), then resumes it from another process: the deletion ends,
 * each merchant hears of the deleted member once, the person is erased and the books balance.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allMigrations, createPlatform, type Platform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { MEMBERSHIP_CONSENT } from '../members/index.ts';
import { ShopperRepo } from '../shoppers/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db } from '../storage/index.ts';
import { describeEachDialect, pgUrl } from '../storage/testing.ts';
import { RightsRepo } from './index.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const PASSWORD = 'a long passphrase';

describeEachDialect('account deletion killed with SIGKILL half way', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-rights-crash-'));
  const schema = `rights_crash_${process.pid}_${Date.now().toString(36)}`;
  const open = async (): Promise<Db> => {
    if (dialect === 'sqlite') return new SqliteDb(join(dir, 'facepay.sqlite'));
    const p = new PostgresDb({ url: pgUrl!, schema });
    await p.init();
    return p;
  };
  const platform = (db: Db): Promise<Platform> => createPlatform(loadConfig({ FACEPAY_LOG_LEVEL: 'silent', FACEPAY_FACE: '0' }), { db });
  after(async () => {
    if (dialect === 'postgres') {
      const p = new PostgresDb({ url: pgUrl!, schema });
      await p.dropSchema();
      await p.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('another process resumes the deletion where it stopped and finishes it once', { timeout: 120_000 }, async () => {
    let db = await open();
    await migrate(db, allMigrations);
    let p = await platform(db);
    const m = await p.services.merchants.createMerchant({ name: 'Crash Shop' });
    await p.services.members.setProgramme(m.id, { name: 'Club', benefits: '', fields: ['name'], currency: 'EUR', timeZone: 'UTC' });
    const { shopper } = await p.services.shoppers.signUp({ email: 'hal@example.com', password: PASSWORD, name: 'Hal Berg' });
    const joined = await p.services.members.join({ merchantId: m.id, shopperId: shopper.id, fields: { name: 'Hal Berg' }, consentVersion: MEMBERSHIP_CONSENT.version, terminalId: null });
    await p.services.payments.topUp(shopper.id, 1_000, 'eur', 'seed');
    const store = await p.services.merchants.createStore(m.id, { name: 'Main' });
    const pi = await p.services.payments.createIntent(m.id, { amount: 1_000, currency: 'eur', storeId: store.id }, { mode: 'live' });
    await p.services.payments.confirmWithShopper(pi.id, shopper.id, { merchantId: m.id, mode: 'live' });
    await p.close();
    await db.close();

    const args = dialect === 'sqlite' ? ['sqlite', join(dir, 'facepay.sqlite')] : ['postgres', pgUrl!, schema];
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, shopper.id, PASSWORD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('FORGOTTEN')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    await new Promise((r) => child.once('exit', r).once('close', r));
    assert.ok(out.includes('FORGOTTEN') && !out.includes('DONE'), `killed half way: ${out}`);

    db = await open();
    const stuck = await new RightsRepo(db).deletionOf(shopper.id);
    assert.equal(stuck?.status, 'running');
    assert.equal(stuck?.step, 'memberships');
    assert.equal((await new ShopperRepo(db).byId(shopper.id))!.name, 'Hal Berg', 'the personal step had not run');

    p = await platform(db);
    assert.deepEqual(await p.services.rights!.resumeDeletions(), { resumed: 1, failed: 0 });
    assert.equal((await p.services.rights!.deletionOf(shopper.id))?.status, 'done');
    const row = (await new ShopperRepo(db).byId(shopper.id))!;
    assert.equal(row.name, 'Deleted account');
    assert.equal(row.email, `deleted+${shopper.id}@deleted.invalid`);
    assert.equal((await p.services.members.getMember(m.id, joined.memberId)).status, 'deleted');
    const events = await db.query("SELECT 1 AS one FROM events WHERE type = 'member.deleted' AND object_id = $1", [joined.memberId]);
    assert.equal(events.length, 1, 'the merchant hears of it once');
    assert.equal((await p.services.ledger.verify()).ok, true, 'the books balance');
    assert.equal((await p.services.ledger.listTransfers(`wallet:${shopper.id}:eur`)).length, 2, 'the money records stay');
    await p.close();
    await db.close();
  });
});

