import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { feeRefund, intentResource, merchantAccountId, platformFee } from './index.ts';

test('platform fee: integer basis points, rounded down, no overflow', () => {
  assert.equal(platformFee(1000, 250), 25);
  assert.equal(platformFee(999, 100), 9);
  assert.equal(platformFee(1, 9999), 0);
  assert.equal(platformFee(Number.MAX_SAFE_INTEGER, 10_000), Number.MAX_SAFE_INTEGER);
  assert.equal(platformFee(Number.MAX_SAFE_INTEGER, 1), Math.floor(Number.MAX_SAFE_INTEGER / 10_000));
});

test('fee refunds add up to the fee once everything is refunded, whatever the split', () => {
  for (const [fee, amount] of [[29, 1000], [1, 3], [97, 9901]] as const) {
    let back = 0;
    let refunded = 0;
    for (const part of [1, amount / 3, amount / 7].map(Math.floor).filter((x) => x > 0)) {
      back += feeRefund(fee, amount, refunded, part);
      refunded += part;
      assert.ok(back <= fee);
    }
    back += feeRefund(fee, amount, refunded, amount - refunded);
    assert.equal(back, fee);
  }
});

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

describeEachDialect('payments', (dialect) => {
  let p: TestPlatform;
  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_SHOPPER_PAYMENT_LIMIT: '5000', FACEPAY_SHOPPER_DAILY_LIMIT: '1000000' },
      maxConnections: 20,
    });
  });
  after(async () => {
    await p.dispose();
  });

  test('1,000 concurrent payments against one wallet never overdraw it', async () => {
    const { payments } = p.services;
    await payments.topUp('shopper_one', 250 * 100, 'usd', 'seed-one');
    const intents = await Promise.all(
      Array.from({ length: 1000 }, () => payments.createIntent(p.merchantId, { amount: 100, currency: 'usd', storeId: p.storeId })),
    );
    const results = await Promise.allSettled(intents.map((pi) => payments.confirmWithShopper(pi.id, 'shopper_one')));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results) if (r.status === 'rejected') assert.ok(code('insufficient_funds')(r.reason), String(r.reason));
    assert.equal(ok, 250);
    assert.equal(await payments.walletBalance('shopper_one', 'usd'), 0);
    const audit = await payments.audit();
    assert.deepEqual(audit.problems, []);
    assert.equal(audit.succeeded, 250);
  });

  test("a shopper's own list and a terminal's waiting intent", async () => {
    const { payments } = p.services;
    await payments.topUp('shopper_list', 1000, 'usd', 'seed-list');
    const a = await payments.createIntent(p.merchantId, { amount: 100, currency: 'usd', storeId: p.storeId, terminalId: 'trm_list' });
    // Ids order by the millisecond they were made in; within one millisecond their order is random.
    await new Promise((r) => setTimeout(r, 3));
    const b = await payments.createIntent(p.merchantId, { amount: 200, currency: 'usd', storeId: p.storeId, terminalId: 'trm_list' });
    assert.equal((await payments.nextForTerminal(p.merchantId, 'trm_list'))?.id, a.id);
    assert.equal(await payments.nextForTerminal('mer_other', 'trm_list'), undefined, "another merchant's terminal id finds nothing");
    await payments.confirmWithShopper(a.id, 'shopper_list');
    assert.equal((await payments.nextForTerminal(p.merchantId, 'trm_list'))?.id, b.id);
    await payments.confirmWithShopper(b.id, 'shopper_list');
    assert.equal(await payments.nextForTerminal(p.merchantId, 'trm_list'), undefined);
    const page = await payments.listForShopper('shopper_list', { limit: 1 });
    assert.deepEqual(page.data.map((x) => x.id), [b.id]);
    assert.equal(page.hasMore, true);
    const rest = await payments.listForShopper('shopper_list', { limit: 5, cursor: page.nextCursor ?? undefined });
    assert.deepEqual(rest.data.map((x) => x.id), [a.id]);
    assert.deepEqual((await payments.listForShopper('shopper_nobody')).data, []);
  });

  test('per-payment and daily limits per shopper', async () => {
    const { payments } = p.services;
    await payments.topUp('shopper_two', 100_000, 'usd', 'seed-two');
    const big = await payments.createIntent(p.merchantId, { amount: 5001, currency: 'usd', storeId: p.storeId });
    await assert.rejects(payments.confirmWithShopper(big.id, 'shopper_two'), code('shopper_payment_limit_exceeded'));
    assert.equal((await payments.getIntent(p.merchantId, big.id)).status, 'failed');
    assert.equal(await payments.walletBalance('shopper_two', 'usd'), 100_000);
    // The daily limit here is 1,000,000: nineteen payments of 5,000 would pass, so lower it by spending.
    for (let i = 0; i < 2; i++) {
      const pi = await payments.createIntent(p.merchantId, { amount: 5000, currency: 'usd', storeId: p.storeId });
      assert.equal((await payments.confirmWithShopper(pi.id, 'shopper_two')).status, 'succeeded');
    }
    assert.equal(await payments.walletBalance('shopper_two', 'usd'), 90_000);
  });

  test("a face payment's own bound (from its risk decision) holds where the money moves, and the intent stays payable", async () => {
    const { payments } = p.services;
    await payments.topUp('shopper_bound', 10_000, 'usd', 'seed-bound');
    const pi = await payments.createIntent(p.merchantId, { amount: 1500, currency: 'usd', storeId: p.storeId });
    await assert.rejects(payments.confirmWithShopper(pi.id, 'shopper_bound', { idempotencyKey: 'bound-1', maxAmount: 1000 }), code('face_limit_exceeded'));
    assert.equal((await payments.getIntent(p.merchantId, pi.id)).status, 'requires_face');
    assert.equal(await payments.walletBalance('shopper_bound', 'usd'), 10_000);
    // A discount that brings what is charged under the bound is what counts.
    assert.equal((await payments.confirmWithShopper(pi.id, 'shopper_bound', { idempotencyKey: 'bound-2', maxAmount: 1000, discount: 500 })).status, 'succeeded');
    assert.equal(await payments.walletBalance('shopper_bound', 'usd'), 9_000);
  });

  test('the daily limit counts what the shopper paid today and refuses the payment that would cross it', async () => {
    const strict = await testPlatform(dialect, { env: { FACEPAY_SHOPPER_DAILY_LIMIT: '1000', FACEPAY_SHOPPER_PAYMENT_LIMIT: '1000' } });
    try {
      const pay = strict.services.payments;
      await pay.topUp('shopper_day', 10_000, 'usd', 'seed-day');
      const a = await pay.createIntent(strict.merchantId, { amount: 600, currency: 'usd', storeId: strict.storeId });
      await pay.confirmWithShopper(a.id, 'shopper_day');
      const b = await pay.createIntent(strict.merchantId, { amount: 401, currency: 'usd', storeId: strict.storeId });
      await assert.rejects(pay.confirmWithShopper(b.id, 'shopper_day'), code('shopper_daily_limit_exceeded'));
      const c = await pay.createIntent(strict.merchantId, { amount: 400, currency: 'usd', storeId: strict.storeId });
      assert.equal((await pay.confirmWithShopper(c.id, 'shopper_day')).status, 'succeeded');
      assert.equal(await pay.walletBalance('shopper_day', 'usd'), 9_000);
      assert.deepEqual((await pay.audit()).problems, []);
    } finally {
      await strict.dispose();
    }
  });

  test('concurrent refunds never exceed what was captured', async () => {
    const { payments } = p.services;
    await payments.topUp('shopper_three', 10_000, 'usd', 'seed-three');
    const pi = await payments.createIntent(p.merchantId, { amount: 1000, currency: 'usd', storeId: p.storeId });
    await payments.confirmWithShopper(pi.id, 'shopper_three');
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => payments.createRefund(p.merchantId, { paymentIntentId: pi.id, amount: 70 })));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(ok, 14);
    assert.equal((await payments.getIntent(p.merchantId, pi.id)).amountRefunded, 980);
    assert.equal(await payments.walletBalance('shopper_three', 'usd'), 10_000 - 20);
    assert.deepEqual((await payments.audit()).problems, []);
  });

  test('the state machine: processing, cancel, fail; confirm is idempotent for the same shopper', async () => {
    const { payments } = p.services;
    await payments.topUp('shopper_four', 10_000, 'usd', 'seed-four');
    const a = await payments.createIntent(p.merchantId, { amount: 300, currency: 'usd', storeId: p.storeId, terminalId: 'term_1' });
    assert.equal((await payments.startProcessing(a.id)).status, 'processing');
    const paid = await payments.confirmWithShopper(a.id, 'shopper_four', { idempotencyKey: 'k1' });
    assert.equal(paid.status, 'succeeded');
    assert.equal((await payments.confirmWithShopper(a.id, 'shopper_four')).status, 'succeeded');
    await assert.rejects(payments.confirmWithShopper(a.id, 'shopper_five'), code('payment_intent_unexpected_state'));
    assert.equal(await payments.walletBalance('shopper_four', 'usd'), 9_700);
    const b = await payments.createIntent(p.merchantId, { amount: 300, currency: 'usd', storeId: p.storeId });
    assert.equal((await payments.cancel(p.merchantId, b.id)).status, 'cancelled');
    await assert.rejects(payments.confirmWithShopper(b.id, 'shopper_four'), code('payment_intent_unexpected_state'));
    const c = await payments.createIntent(p.merchantId, { amount: 300, currency: 'usd', storeId: p.storeId });
    assert.equal((await payments.fail(c.id, 'no_match', 'no confident match')).failureCode, 'no_match');
    await assert.rejects(payments.createRefund(p.merchantId, { paymentIntentId: c.id }), code('payment_intent_unexpected_state'));
  });

  test('a coupon discount: the wallet pays amount - discount, the fee is on that, refunds stop at what was received', async () => {
    const { payments, ledger } = p.services;
    const bps = p.config.platformFeeBps;
    await payments.topUp('shopper_coupon', 10_000, 'usd', 'seed-coupon');
    const merchantBalance = async () => {
      const a = await ledger.getAccount(merchantAccountId(p.merchantId, 'usd'));
      return a.creditsPosted - a.debitsPosted;
    };
    const pi = await payments.createIntent(p.merchantId, { amount: 2000, currency: 'usd', storeId: p.storeId });
    const before = await merchantBalance();
    await assert.rejects(payments.confirmWithShopper(pi.id, 'shopper_coupon', { discount: 2000 }), code('discount_invalid'));
    await assert.rejects(payments.confirmWithShopper(pi.id, 'shopper_coupon', { discount: -1 }), code('discount_invalid'));
    await assert.rejects(payments.confirmWithShopper(pi.id, 'shopper_coupon', { discount: 1.5 }), code('discount_invalid'));
    assert.equal((await payments.getIntent(p.merchantId, pi.id)).status, 'requires_face', 'a bad discount changes nothing');
    const paid = await payments.confirmWithShopper(pi.id, 'shopper_coupon', { discount: 500, couponId: 'cpn_test' });
    assert.equal(paid.discount, 500);
    assert.equal(paid.couponId, 'cpn_test');
    assert.equal(paid.platformFee, platformFee(1500, bps));
    assert.equal(await payments.walletBalance('shopper_coupon', 'usd'), 10_000 - 1500);
    assert.equal((await merchantBalance()) - before, 1500 - platformFee(1500, bps));
    const json = intentResource(await payments.getIntent(p.merchantId, pi.id));
    assert.equal(json.amount, 2000);
    assert.equal(json.discount, 500);
    assert.equal(json.amount_received, 1500);
    assert.equal(json.coupon, 'cpn_test');
    await assert.rejects(payments.createRefund(p.merchantId, { paymentIntentId: pi.id, amount: 1501 }), code('refund_exceeds_captured'));
    const r = await payments.createRefund(p.merchantId, { paymentIntentId: pi.id });
    assert.equal(r.amount, 1500);
    assert.equal(r.feeRefunded, platformFee(1500, bps));
    assert.equal(await payments.walletBalance('shopper_coupon', 'usd'), 10_000);
    assert.equal(await merchantBalance(), before);
    await assert.rejects(payments.createRefund(p.merchantId, { paymentIntentId: pi.id, amount: 1 }), code('payment_intent_fully_refunded'));
    assert.deepEqual((await payments.audit()).problems, []);
  });

  test('an intent created twice with one idempotency key is one intent; other parameters conflict', async () => {
    const { payments } = p.services;
    const input = { amount: 300, currency: 'usd', storeId: p.storeId };
    const [x, y] = await Promise.all([
      payments.createIntent(p.merchantId, input, { idempotencyKey: 'dup' }),
      payments.createIntent(p.merchantId, input, { idempotencyKey: 'dup' }),
    ]);
    assert.equal(x.id, y.id);
    await assert.rejects(payments.createIntent(p.merchantId, { ...input, amount: 301 }, { idempotencyKey: 'dup' }), code('idempotency_key_reused'));
  });
});
