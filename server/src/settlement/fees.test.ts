import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError, ManualClock } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import type { FeeSchedule, SettlementService } from './index.ts';

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

describeEachDialect('per-merchant platform fee rates', (dialect) => {
  let p: TestPlatform;
  let fees: FeeSchedule;
  let s: SettlementService;
  let other = '';
  const clock = new ManualClock('2026-05-04T09:00:00Z');
  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_PLATFORM_FEE_BPS: '250', FACEPAY_WALLET_CURRENCY: 'eur', FACEPAY_SETTLEMENT_GRACE_MS: '0' }, overrides: { clock } });
    fees = p.services.feeRates!;
    s = p.services.settlement!;
    other = (await p.services.merchants.createMerchant({ name: 'Other Shop' })).id;
    await p.services.payments.topUp('shp_fee', 1_000_000, 'eur', 'seed-fee');
  });
  after(async () => {
    await p.dispose();
  });

  const pay = async (merchantId: string, amount: number) => {
    const storeId = merchantId === p.merchantId ? p.storeId : (await p.services.merchants.createStore(merchantId, { name: `s${amount}` })).id;
    const pi = await p.services.payments.createIntent(merchantId, { amount, currency: 'eur', storeId });
    return p.services.payments.confirmWithShopper(pi.id, 'shp_fee');
  };

  test('an operator sets a rate from a day that has not begun; bad input gets stable codes; a retry sets it once', async () => {
    const set = (input: { bps: unknown; effectiveFrom: unknown; reason: unknown }, key: string, merchantId = p.merchantId) => fees.set('ops_admin', merchantId, input, key);
    await assert.rejects(set({ bps: 10_001, effectiveFrom: '2026-05-05', reason: 'x' }, 'fee-key-0001'), code('fee_rate_invalid'));
    await assert.rejects(set({ bps: 1.5, effectiveFrom: '2026-05-05', reason: 'x' }, 'fee-key-0001'), code('fee_rate_invalid'));
    await assert.rejects(set({ bps: 100, effectiveFrom: '2026-02-30', reason: 'x' }, 'fee-key-0001'), code('effective_from_invalid'));
    await assert.rejects(set({ bps: 100, effectiveFrom: '2026-05-04', reason: 'x' }, 'fee-key-0001'), code('effective_from_not_future'));
    await assert.rejects(set({ bps: 100, effectiveFrom: '2031-01-01', reason: 'x' }, 'fee-key-0001'), code('effective_from_too_far'));
    await assert.rejects(set({ bps: 100, effectiveFrom: '2026-05-05', reason: '  ' }, 'fee-key-0001'), code('reason_invalid'));
    await assert.rejects(set({ bps: 100, effectiveFrom: '2026-05-05', reason: 'x' }, 'short'), code('idempotency_key_required'));
    await assert.rejects(set({ bps: 100, effectiveFrom: '2026-05-05', reason: 'x' }, 'fee-key-0001', 'mer_nobody'), code('merchant_not_found'));

    const first = await set({ bps: 120, effectiveFrom: '2026-05-05', reason: 'negotiated rate' }, 'fee-key-0002');
    assert.equal((await set({ bps: 120, effectiveFrom: '2026-05-05', reason: 'negotiated rate' }, 'fee-key-0002')).id, first.id);
    await assert.rejects(set({ bps: 130, effectiveFrom: '2026-05-05', reason: 'negotiated rate' }, 'fee-key-0002'), code('idempotency_key_reused'));
    clock.advance(60_000);
    // Set again for the same day: the later one applies; both stay in the history.
    const second = await set({ bps: 100, effectiveFrom: '2026-05-05', reason: 'corrected: the contract says 1 %' }, 'fee-key-0003');
    const sched = await fees.of(p.merchantId);
    assert.deepEqual([sched.bps, sched.source, sched.current], [250, 'default', null]);
    assert.deepEqual(sched.scheduled.map((r) => [r.id, r.bps]), [[second.id, 100]]);
    assert.deepEqual(sched.history.map((r) => [r.id, r.setBy, r.reason]), [
      [second.id, 'ops_admin', 'corrected: the contract says 1 %'],
      [first.id, 'ops_admin', 'negotiated rate'],
    ]);
    assert.equal(second.effectiveAt, Date.parse('2026-05-05T00:00:00Z'), 'the merchant has no programme: its days are UTC days');
  });

  test('payments are charged the rate in effect when they are made, and each statement day shows its own rate', async () => {
    const today = await pay(p.merchantId, 10_000);
    assert.equal(today.platformFee, 250, 'today is still at the default');
    const elsewhere = await pay(other, 10_000);
    assert.equal(elsewhere.platformFee, 250);
    clock.set('2026-05-05T08:00:00Z');
    const tomorrow = await pay(p.merchantId, 10_000);
    assert.equal(tomorrow.platformFee, 100);
    assert.equal((await pay(p.merchantId, 3_333)).platformFee, 33, 'rounded down');
    assert.equal((await pay(other, 10_000)).platformFee, 250, "another merchant keeps the default");
    const t = await p.services.ledger.getTransfer(`${tomorrow.id}:fee`);
    assert.deepEqual([t.amount, t.metadata.bps], [100, 100]);
    assert.deepEqual(((await fees.of(p.merchantId)).current ?? { bps: 0 }).bps, 100);

    clock.set('2026-05-06T00:00:01Z');
    const closed = (await s.closeDays()).filter((st) => st.merchantId === p.merchantId);
    assert.deepEqual(closed.map((st) => [st.day, st.gross, st.fees, st.net]), [
      ['2026-05-04', 10_000, 250, 9_750],
      ['2026-05-05', 13_333, 133, 13_200],
    ]);
    const audit = await s.audit();
    assert.deepEqual(audit.problems, []);
    assert.equal((await fees.audit()).fees, 5);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
  });

  test('the fee audit finds a fee that is not its rate of the payment, or not the merchant rate of its day', async () => {
    const { ledger } = p.services;
    const merchant = `merchant:${p.merchantId}:eur`;
    await ledger.createTransfers([
      { id: 'pi_forged1:payment', debitAccountId: 'wallet:shp_fee:eur', creditAccountId: merchant, amount: 10_000, currency: 'eur', code: 'payment' },
      { id: 'pi_forged1:fee', debitAccountId: merchant, creditAccountId: 'platform:fees:eur', amount: 99, currency: 'eur', code: 'platform_fee', metadata: { bps: 100 } },
      { id: 'pi_forged2:payment', debitAccountId: 'wallet:shp_fee:eur', creditAccountId: merchant, amount: 10_000, currency: 'eur', code: 'payment' },
      { id: 'pi_forged2:fee', debitAccountId: merchant, creditAccountId: 'platform:fees:eur', amount: 250, currency: 'eur', code: 'platform_fee', metadata: { bps: 250 } },
    ]);
    const { problems } = await fees.audit();
    assert.deepEqual(problems, [
      'fee pi_forged1:fee is not 100 bps of 10000',
      `fee pi_forged2:fee was taken at 250 bps while ${p.merchantId}'s rate was 100`,
    ]);
    assert.ok((await s.audit()).problems.some((x) => x.includes('pi_forged2:fee')), 'the settlement audit reports it too');
  });
});
