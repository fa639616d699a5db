/**
 * Kills a process with SIGKILL in the middle of a payout run, then resumes the run from another:
 * every item moves once, the file holds them all, and the books balance.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allMigrations } from '../composition.ts';
import { createLedger, createWallets, topUpFundingSource } from '../ledger/index.ts';
import { randomIds, systemClock } from '../platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db } from '../storage/index.ts';
import { describeEachDialect, pgUrl } from '../storage/testing.ts';
import { createSettlementService, payoutClearingAccountId } from './index.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const WITHDRAWALS = 120;

describeEachDialect('payout run killed with SIGKILL half way', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-payout-crash-'));
  const schema = `payout_crash_${process.pid}_${Date.now().toString(36)}`;
  const open = async (): Promise<Db> => {
    if (dialect === 'sqlite') return new SqliteDb(join(dir, 'facepay.sqlite'));
    const p = new PostgresDb({ url: pgUrl!, schema });
    await p.init();
    return p;
  };
  after(async () => {
    if (dialect === 'postgres') {
      const p = new PostgresDb({ url: pgUrl!, schema });
      await p.dropSchema();
      await p.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const service = (db: Db) => {
    const ledger = createLedger({ db, clock: systemClock });
    return {
      ledger,
      wallets: createWallets(ledger),
      s: createSettlementService({
        db,
        clock: systemClock,
        ids: randomIds(),
        ledger,
        events: { record: async () => undefined },
        timeZoneOf: async () => 'UTC',
        config: { debtor: { name: 'Operator', iban: 'DE89370400440532013000', bic: null }, closeGraceMs: 0 },
      }),
    };
  };

  test('the run resumes where it stopped and pays each withdrawal once', { timeout: 120_000 }, async () => {
    let db = await open();
    await migrate(db, allMigrations);
    let { s, ledger, wallets } = service(db);
    const funding = topUpFundingSource(ledger, wallets);
    for (let i = 0; i < WITHDRAWALS; i++) {
      await funding.fund({ shopperId: `shp_${i}`, amount: 1_000, currency: 'eur', reference: `seed-${i}` });
      const w = await s.requestWithdrawal(`shp_${i}`, { amount: 100 + i, currency: 'eur', iban: 'DE02120300000000202051', holderName: `Shopper ${i}` }, `crash-wd-${i}-key`);
      await s.approveWithdrawal(w.id);
    }
    await db.close();

    const args = dialect === 'sqlite' ? ['sqlite', join(dir, 'facepay.sqlite')] : ['postgres', pgUrl!, schema];
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('MOVING')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    assert.equal(child.signalCode, 'SIGKILL', `the child was not killed mid-run: ${out}`);
    assert.ok(!out.includes('DONE'));

    db = await open();
    ({ s, ledger } = service(db));
    const [run] = await s.listPayoutRuns();
    assert.equal(run!.status, 'moving');
    const before = (await s.getPayoutRun(run!.id)).items;
    const movedBefore = before.filter((i) => i.status === 'moved').length;
    assert.ok(movedBefore >= 5 && movedBefore < WITHDRAWALS, `moved ${movedBefore}`);
    assert.deepEqual((await s.audit()).problems, []);
    assert.deepEqual((await ledger.verify()).problems, []);

    // Resumed twice at once (the housekeeping worker and the operator's CLI): each item still moves once.
    const [resumed] = await Promise.all([s.resumeOpenRuns(), s.resumePayoutRun(run!.id)]);
    assert.equal(resumed, 1);
    const done = await s.getPayoutRun(run!.id);
    assert.equal(done.status, 'ready');
    assert.equal(done.items.length, WITHDRAWALS);
    const want = Array.from({ length: WITHDRAWALS }, (_, i) => 100 + i).reduce((a, b) => a + b, 0);
    assert.equal(done.total, want);
    assert.equal((await ledger.getAccount(payoutClearingAccountId('eur'))).creditsPosted, want);
    const xml = await s.payoutFile(run!.id);
    assert.equal((xml.match(/<CdtTrfTxInf>/g) ?? []).length, WITHDRAWALS);
    assert.equal((await s.listWithdrawals({ status: 'in_payout', limit: 1000 })).length, WITHDRAWALS);
    // Resuming again, or retrying the same run key, moves nothing more.
    await s.resumePayoutRun(run!.id);
    assert.equal((await s.createPayoutRun('crash-run-0001')).id, run!.id);
    assert.equal((await ledger.getAccount(payoutClearingAccountId('eur'))).creditsPosted, want);
    assert.deepEqual((await s.audit()).problems, []);
    assert.deepEqual((await ledger.verify()).problems, []);
    await db.close();
  });
});
