import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLedger, createWallets, ledgerMigrations } from '../ledger/index.ts';
import { DomainError, ManualClock, sequentialIds } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { createFundingService, fundingMigrations, parseRfReference, rfReference, type FundingConfig } from './index.ts';

function code(c: string) {
  return (e: unknown) => e instanceof DomainError && e.code === c;
}

test('RF creditor references carry ISO 11649 check digits', () => {
  // The worked example of ISO 11649.
  assert.equal(rfReference('539007547034'), 'RF18539007547034');
  assert.equal(parseRfReference('RF18 5390 0754 7034'), 'RF18539007547034');
  assert.equal(parseRfReference('RF19539007547034'), null);
  assert.equal(parseRfReference('hello'), null);
});

describeEachDb('funding', [...ledgerMigrations, ...fundingMigrations], (getDb) => {
  const clock = new ManualClock();
  const ids = sequentialIds();
  function service(config: Partial<FundingConfig> = {}) {
    const ledger = createLedger({ db: getDb(), clock });
    const wallets = createWallets(ledger);
    const funding = createFundingService({
      db: getDb(),
      clock,
      ids,
      ledger,
      wallets,
      config: { mode: 'live', perTopUpCap: 50_000, dailyCap: 80_000, ...config },
    });
    return { ledger, wallets, funding };
  }

  test('a live-mode top-up credits nothing until its rail confirms it, and confirming twice credits once', async () => {
    const { ledger, wallets, funding } = service();
    const i = await funding.requestTopUp('shp_live1', 10_000, 'usd', 'key-00000001');
    assert.equal(i.status, 'pending');
    assert.equal(await wallets.balance('shp_live1', 'usd'), 0);
    const again = await funding.requestTopUp('shp_live1', 10_000, 'usd', 'key-00000001');
    assert.equal(again.id, i.id);
    const c = await funding.confirm(i.id, 'bank_transfer', 'ACCT-SVCR-1');
    assert.equal(c.status, 'confirmed');
    await funding.confirm(i.id, 'bank_transfer', 'ACCT-SVCR-1');
    assert.equal(await wallets.balance('shp_live1', 'usd'), 10_000);
    const fundingAcc = await ledger.getAccount('funding:bank_transfer:usd');
    assert.equal(fundingAcc.debitsPosted, 10_000);
    assert.equal((await ledger.verify()).ok, true);
  });

  test('a reused key with another amount is a conflict', async () => {
    const { funding } = service();
    await funding.requestTopUp('shp_live2', 1_000, 'usd', 'key-00000002');
    await assert.rejects(funding.requestTopUp('shp_live2', 2_000, 'usd', 'key-00000002'), code('idempotency_key_reused'));
  });

  test('caps per top-up and per day hold', async () => {
    const { funding } = service();
    await assert.rejects(funding.requestTopUp('shp_cap', 50_001, 'usd', 'key-cap-0001'), code('top_up_over_cap'));
    await funding.requestTopUp('shp_cap', 50_000, 'usd', 'key-cap-0002');
    await assert.rejects(funding.requestTopUp('shp_cap', 30_001, 'usd', 'key-cap-0003'), code('top_up_daily_cap'));
    await funding.requestTopUp('shp_cap', 30_000, 'usd', 'key-cap-0004');
    clock.advance(86_400_000);
    await funding.requestTopUp('shp_cap', 30_000, 'usd', 'key-cap-0005');
  });

  test('test mode credits at once', async () => {
    const { wallets, funding } = service({ mode: 'test' });
    const i = await funding.requestTopUp('test_shopper', 700, 'usd', 'key-test-0001');
    assert.equal(i.status, 'confirmed');
    assert.equal(await wallets.balance('test_shopper', 'usd'), 700);
  });

  test('each shopper has one stable RF payment reference that finds the shopper', async () => {
    const { funding } = service();
    const r = await funding.paymentReference('shp_ref');
    assert.equal(await funding.paymentReference('shp_ref'), r);
    assert.equal(parseRfReference(r), r);
    assert.notEqual(await funding.paymentReference('shp_ref2'), r);
    assert.equal(await funding.shopperOfReference(r.toLowerCase()), 'shp_ref');
  });
});
