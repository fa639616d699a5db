/**
 * Checkout as a durable workflow, on both databases: a crash at each step boundary (a hook that
 * throws stands in for the process dying there), then a new instance on the same database runs
 * the recovery pass and the due follow-ups. Every run ends with the coupon either redeemed for a
 * succeeded payment or given back, the CRM entry and the receipt made once; a stalled runner whose
 * checkout was taken over cannot pay; follow-ups are retried with backoff, then given up loudly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCheckout, type CheckoutPoint, type CheckoutWorkflow } from '../checkout.ts';
import { ManualClock } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const LEASE = 30_000;
const DAY = 86_400_000;

class Crash extends Error {
  constructor(readonly point: string) {
    super(`the process died at ${point}`);
  }
}

describeEachDialect('checkout workflow', (dialect) => {
  let p: TestPlatform;
  const clock = new ManualClock('2026-12-07T10:00:00Z');
  const logged: string[] = [];
  let n = 0;

  before(async () => {
    p = await testPlatform(dialect, { overrides: { clock } });
    const { members, marketing } = p.services;
    await members.setProgramme(p.merchantId, { name: 'Club', benefits: '', fields: ['name'], currency: 'EUR', timeZone: 'UTC' });
    await marketing.createCampaign(p.merchantId, {
      name: 'Welcome',
      trigger: 'join',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 500 },
      currency: 'EUR',
      validFrom: clock.now().getTime() - DAY,
      validTo: clock.now().getTime() + 90 * DAY,
      holdoutPercent: 0,
    });
  });
  after(async () => {
    await p.dispose();
  });

  const terminal = () => ({ merchantId: p.merchantId, storeId: p.storeId, terminalId: 'trm_wf' });

  /** A new process's checkout on the same database: its own memory, nothing shared but the rows. */
  const instance = (opts: { at?: (point: CheckoutPoint, key: string) => void | Promise<void>; members?: TestPlatform['services']['members']; maxTries?: number } = {}): CheckoutWorkflow => {
    const { payments, members, marketing, shoppers, merchants } = p.services;
    return createCheckout({
      db: p.db,
      payments,
      members: opts.members ?? members,
      marketing,
      shoppers,
      merchants,
      clock,
      ids: p.ids,
      log: { error: (_o, msg) => logged.push(msg) },
      options: { leaseMs: LEASE, delayMs: 1000, ...(opts.maxTries !== undefined ? { maxTries: opts.maxTries } : {}) },
      ...(opts.at ? { at: opts.at } : {}),
    });
  };
  const crashAt = (point: CheckoutPoint) =>
    instance({
      at: (pt) => {
        if (pt === point) throw new Crash(pt);
      },
    });

  /** A member with money, the welcome coupon, and an open intent of 3000 for it. */
  async function shopperWithCoupon(): Promise<{ shopperId: string; memberId: string; couponId: string; intentId: string }> {
    const { shoppers, members, marketing, payments } = p.services;
    const i = n++;
    const { shopper } = await shoppers.signUp({ email: `wf${i}@example.com`, password: 'a long passphrase', name: `Wf ${i}` });
    const { memberId } = await members.join({ merchantId: p.merchantId, shopperId: shopper.id, fields: { name: `Wf ${i}` }, consentVersion: members.consent.version, terminalId: null });
    const [coupon] = await marketing.onJoined(p.merchantId, memberId);
    assert.ok(coupon, 'the welcome campaign issued a coupon');
    await payments.topUp(shopper.id, 10_000, 'eur', `wf-seed-${dialect}-${i}`);
    const pi = await payments.createIntent(p.merchantId, { amount: 3000, currency: 'eur', storeId: p.storeId });
    return { shopperId: shopper.id, memberId, couponId: coupon.id, intentId: pi.id };
  }

  async function state(s: { memberId: string; couponId: string; intentId: string }) {
    const pi = await p.services.payments.getIntent(p.merchantId, s.intentId);
    const coupon = (await p.services.marketing.couponsOf(p.merchantId, s.memberId)).find((c) => c.id === s.couponId)!;
    const [receipts] = await p.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM inbox_items WHERE payment_id = $1', [s.intentId]);
    const [purchases] = await p.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM member_purchases WHERE payment_id = $1', [s.intentId]);
    return { status: pi.status, discount: pi.discount, coupon: coupon.status, receipts: Number(receipts!.n), purchases: Number(purchases!.n) };
  }

  const PAID = { status: 'succeeded', discount: 500, coupon: 'redeemed', receipts: 1, purchases: 1 };
  const UNPAID = { status: 'requires_face', discount: 0, coupon: 'issued', receipts: 0, purchases: 0 };
  const cases: [CheckoutPoint, typeof PAID][] = [
    ['joined', UNPAID],
    ['claimed', UNPAID],
    ['coupon_reserved', UNPAID],
    ['paying', UNPAID],
    ['paid', PAID],
    ['crm_payment_ran', PAID],
    ['inbox_receipt_ran', PAID],
  ];

  for (const [point, want] of cases) {
    test(`a crash at ${point}: a new instance ends with the coupon ${want.coupon === 'redeemed' ? 'redeemed for the paid intent' : 'given back'}, receipts once`, async () => {
      const s = await shopperWithCoupon();
      const opts = { paymentId: `pay_${point}_${dialect}_0001`, method: 'pay_code' as const, couponId: s.couponId };
      await assert.rejects(crashAt(point).checkout.pay(s.intentId, terminal(), s.shopperId, opts), Crash);

      // The restarted process: a live lease is left alone, an expired one is finished or compensated.
      const next = instance();
      if (point !== 'joined' && point !== 'crm_payment_ran' && point !== 'inbox_receipt_ran' && point !== 'paid') assert.equal(await next.recover(), 0, 'the lease is still held');
      clock.advance(LEASE + 1);
      await next.recover();
      await next.retryDue();
      assert.deepEqual(await state(s), want);
      // Run again, nothing changes: every step is idempotent.
      clock.advance(LEASE + 1);
      assert.equal(await next.recover(), 0);
      assert.equal(await next.retryDue(), 0);
      assert.deepEqual(await state(s), want);

      // The terminal's retry of the same payment after the restart.
      const retry = await next.checkout.pay(s.intentId, terminal(), s.shopperId, opts);
      const after = await state(s);
      if (want === PAID) {
        assert.equal(retry.status, 'succeeded');
        assert.deepEqual(after, PAID, 'the retry answers the same payment; the receipt is still sent once');
      } else if (point === 'joined' || point === 'claimed') {
        // Nothing was reserved yet: the retry pays with the coupon, once.
        assert.equal(retry.status, 'succeeded', JSON.stringify(retry));
        assert.deepEqual(after, PAID);
      } else {
        // The coupon was given back and the shopper left: the retry is a failure, never a payment without its coupon.
        assert.deepEqual([retry.status, retry.code], ['failed', 'payment_already_redeemed']);
        assert.deepEqual(after, UNPAID);
      }
      assert.equal(await next.pending(), 0);
    });
  }

  test('a stalled runner whose checkout was taken over cannot pay: the coupon goes back and no money moves', async () => {
    const s = await shopperWithCoupon();
    const rescuer = instance();
    let taken = 0;
    const stalled = instance({
      at: async (pt) => {
        // It stalls past its lease after reserving the coupon; the recovery pass takes it over meanwhile.
        if (pt !== 'coupon_reserved') return;
        clock.advance(LEASE + 1);
        taken = await rescuer.recover();
      },
    });
    const before = await p.services.payments.getIntent(p.merchantId, s.intentId);
    await assert.rejects(stalled.checkout.pay(s.intentId, terminal(), s.shopperId, { paymentId: `pay_stalled_${dialect}_01`, method: 'pay_code', couponId: s.couponId }), {
      code: 'checkout_in_progress',
    });
    assert.equal(taken, 1);
    assert.deepEqual(await state(s), UNPAID);
    assert.equal((await p.services.payments.getIntent(p.merchantId, s.intentId)).updatedAt, before.updatedAt, 'the payment rolled back');
  });

  test('a concurrent retry while a checkout is under way is told to try again, not paid twice', async () => {
    const s = await shopperWithCoupon();
    const opts = { paymentId: `pay_busy_${dialect}_0001`, method: 'pay_code' as const, couponId: s.couponId };
    let second: unknown;
    const first = instance({
      at: async (pt) => {
        if (pt === 'coupon_reserved') second = await instance().checkout.pay(s.intentId, terminal(), s.shopperId, opts).catch((e: unknown) => e);
      },
    });
    assert.equal((await first.checkout.pay(s.intentId, terminal(), s.shopperId, opts)).status, 'succeeded');
    assert.equal((second as { code?: string }).code, 'checkout_in_progress');
    assert.deepEqual(await state(s), PAID);
  });

  test('a declined payment gives the coupon back through a durable job', async () => {
    const s = await shopperWithCoupon();
    const { shopper } = await p.services.shoppers.signUp({ email: `poor${dialect}@example.com`, password: 'a long passphrase', name: 'Poor' });
    const { memberId } = await p.services.members.join({ merchantId: p.merchantId, shopperId: shopper.id, fields: {}, consentVersion: p.services.members.consent.version, terminalId: null });
    const [coupon] = await p.services.marketing.onJoined(p.merchantId, memberId);
    const r = await instance().checkout.pay(s.intentId, terminal(), shopper.id, { paymentId: `pay_poor_${dialect}_0001`, method: 'pay_code', couponId: coupon!.id });
    assert.deepEqual([r.status, r.code], ['failed', 'insufficient_funds']);
    assert.equal((await p.services.marketing.couponsOf(p.merchantId, memberId))[0]!.status, 'issued');
    const [job] = await p.db.query<{ status: string }>(`SELECT status FROM checkout_steps WHERE flow_id = $1 AND step = 'coupon_release'`, [s.intentId]);
    assert.equal(job!.status, 'done');
  });

  test('a follow-up that fails is retried when due with backoff, by another instance too; one that keeps failing is given up loudly', async () => {
    const s = await shopperWithCoupon();
    const { members } = p.services;
    let failures = 2;
    const flaky = {
      ...members,
      recordPayment: async (input: Parameters<typeof members.recordPayment>[0]) => {
        if (failures-- > 0) throw new Error('connection reset');
        return members.recordPayment(input);
      },
    };
    logged.length = 0;
    const w = instance({ members: flaky, maxTries: 3 });
    const r = await w.checkout.pay(s.intentId, terminal(), s.shopperId, { paymentId: `pay_flaky_${dialect}_01`, method: 'pay_code', couponId: s.couponId });
    assert.equal(r.status, 'succeeded', 'a CRM failure after the money moved is never a failed payment');
    assert.equal((await state(s)).purchases, 0);
    assert.equal((await state(s)).receipts, 1);
    assert.equal(await w.retryDue(), 0, 'not before it is due');
    clock.advance(1000);
    assert.equal(await w.retryDue(), 1);
    assert.equal((await state(s)).purchases, 0, 'failed a second time');
    clock.advance(1999);
    assert.equal(await w.retryDue(), 0, 'the wait doubled');
    clock.advance(1);
    assert.equal(await w.retryDue(), 1);
    assert.deepEqual(await state(s), PAID);
    assert.deepEqual(logged, [`crm_payment for ${s.intentId} failed; it will be retried`, `crm_payment for ${s.intentId} failed; it will be retried`]);

    // One that never succeeds: tried maxTries times, then given up and logged as such.
    const t = await shopperWithCoupon();
    const broken = { ...members, recordPayment: async () => Promise.reject(new Error('down')) };
    const b = instance({ members: broken, maxTries: 3 });
    assert.equal((await b.checkout.pay(t.intentId, terminal(), t.shopperId, { paymentId: `pay_broken_${dialect}_1`, method: 'pay_code' })).status, 'succeeded');
    clock.advance(1000);
    await b.retryDue();
    clock.advance(2000);
    await b.retryDue();
    clock.advance(60_000);
    assert.equal(await b.retryDue(), 0);
    assert.match(logged.at(-1)!, new RegExp(`crm_payment for ${t.intentId} failed 3 times; given up`));
    assert.equal(await b.pending(), 0);
  });

  test('a cancelled intent gives its coupon back, again after an earlier release found nothing', async () => {
    const s = await shopperWithCoupon();
    const w = instance();
    // A checkout that crashed after its claim: compensated, its release finds no redemption.
    await assert.rejects(crashAt('claimed').checkout.pay(s.intentId, terminal(), s.shopperId, { paymentId: `pay_cancel_${dialect}_1`, method: 'pay_code', couponId: s.couponId }), Crash);
    clock.advance(LEASE + 1);
    assert.equal(await w.recover(), 1);
    // The next try reserves the coupon and dies before paying; the terminal gives up and the merchant cancels.
    await assert.rejects(crashAt('coupon_reserved').checkout.pay(s.intentId, terminal(), s.shopperId, { paymentId: `pay_cancel_${dialect}_1`, method: 'pay_code', couponId: s.couponId }), Crash);
    assert.equal((await state(s)).coupon, 'redeemed');
    await p.services.payments.cancel(p.merchantId, s.intentId);
    assert.equal((await state(s)).coupon, 'issued');
  });
});
