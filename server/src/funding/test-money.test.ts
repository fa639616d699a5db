/**
 * Test money end to end: on a server in test funding mode a test shopper's top-up is credited at
 * once into the merchant's test wallet, which that merchant's test payments spend; no live account
 * (wallets, merchant payable, fees, the reconciliation's float) moves.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

describeEachDialect('funding: test money is spendable in test mode and never live', (dialect) => {
  let p: TestPlatform;
  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_FUNDING_MODE: 'test', FACEPAY_WALLET_CURRENCY: 'eur' } });
  });
  after(async () => {
    await p.dispose();
  });

  test('a test top-up pays a test payment of its merchant, and only test accounts move', async () => {
    const { fundingService, payments, ledger, reconciliation } = p.services;
    const before = await reconciliation!.report();
    const i = await fundingService!.requestTopUp('test_tom', 5_000, 'eur', 'test-money-0001', { merchantId: p.merchantId });
    assert.equal(i.status, 'confirmed');
    assert.equal(await payments.testWalletBalance(p.merchantId, 'test_tom', 'eur'), 5_000);
    const pi = await payments.createIntent(p.merchantId, { amount: 3_000, currency: 'eur', storeId: p.storeId }, { mode: 'test' });
    const paid = await payments.confirmWithShopper(pi.id, 'test_tom', { mode: 'test' });
    assert.equal(paid.status, 'succeeded');
    assert.equal(await payments.testWalletBalance(p.merchantId, 'test_tom', 'eur'), 2_000);
    // The money cannot pay a live intent, and a live top-up for a test shopper does not exist.
    const live = await payments.createIntent(p.merchantId, { amount: 100, currency: 'eur', storeId: p.storeId });
    await assert.rejects(payments.confirmWithShopper(live.id, 'test_tom'), (e: unknown) => e instanceof DomainError && e.code === 'test_shopper_in_live_mode');
    // Nothing live moved: the reconciliation reads as before.
    const after = await reconciliation!.report();
    assert.deepEqual(after.currencies, before.currencies);
    await assert.rejects(ledger.getAccount(`merchant:${p.merchantId}:eur`), (e: unknown) => e instanceof DomainError && e.code === 'account_not_found');
    assert.deepEqual((await fundingService!.audit()).problems, []);
    assert.deepEqual((await payments.audit()).problems, []);
  });
});
