/**
 * The operator's merchant overview on both databases: live volume by currency over 30 days and
 * all time (test money left out), fees less fees given back, terminals, disputes and risk events;
 * totals past 2^53 stay exact.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AttemptRepo } from '../facepay/index.ts';
import { ManualClock } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

describeEachDialect('operator merchant overview', (dialect) => {
  let p: TestPlatform;
  let admin = '';
  const clock = new ManualClock(new Date('2026-10-01T09:00:00Z'));

  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_PLATFORM_FEE_BPS: '250', FACEPAY_WALLET_CURRENCY: 'eur' }, overrides: { clock } });
    await p.services.operators!.create({ email: 'admin@operator.example', name: 'Ada Admin', password: 'admin password 1', role: 'admin' });
    await p.services.operators!.create({ email: 'desk@operator.example', name: 'Dana Desk', password: 'desk password 1', role: 'desk' });
  });
  after(async () => {
    await p.dispose();
  });

  const get = async (url: string, token = admin) => {
    const r = await p.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    return { status: r.statusCode, body: r.json() as Record<string, any> };
  };
  const pay = async (amount: number, shopper = 'shp_over') => {
    const pi = await p.services.payments.createIntent(p.merchantId, { amount, currency: 'eur', storeId: p.storeId });
    return p.services.payments.confirmWithShopper(pi.id, shopper, {});
  };

  test('volume, fees, terminals, disputes and risk events of one merchant', async () => {
    await p.services.payments.topUp('shp_over', 100_000, 'eur', `seed-over-${dialect}`);
    await pay(10_000); // fee 250, more than 30 days before the overview
    clock.set('2026-11-20T09:00:00Z');
    const recent = await pay(4_000); // fee 100
    await pay(2_000); // fee 50
    await p.services.payments.createRefund(p.merchantId, { paymentIntentId: recent.id, amount: 1_000 }); // 25 of the fee back
    // Test money is not the merchant's volume.
    await p.services.payments.testTopUp(p.merchantId, 'test_over', 9_000, 'eur', `seed-t-${dialect}`);
    const tpi = await p.services.payments.createIntent(p.merchantId, { amount: 3_000, currency: 'eur', storeId: p.storeId }, { mode: 'test' });
    await p.services.payments.confirmWithShopper(tpi.id, 'test_over', { mode: 'test' });

    const a = await p.services.devices!.createTerminal({ merchantId: p.merchantId, storeId: p.storeId });
    const b = await p.services.devices!.createTerminal({ merchantId: p.merchantId, storeId: p.storeId });
    await p.services.devices!.revokeTerminal(p.merchantId, b.terminal.id);

    const attempts = new AttemptRepo(p.db);
    const at = clock.now().getTime();
    const base = { merchant_id: p.merchantId, store_id: p.storeId, terminal_id: a.terminal.id, method: 'face' as const, challenge_id: null, challenge_kind: null, challenge_issued_at: null, challenge_expires_at: null, challenge_used_at: null, expires_at: at + 60_000, shopper_id: null, digits_tries_left: 3, coupon_id: null, payment_id: null };
    await attempts.insert({ ...base, id: 'att_ok', intent_id: 'pi_1', state: 'paid', outcome: 'match', risk_choice: 'face', risk_reasons: '["amount_within_face_alone_limit"]', created_at: at, updated_at: at });
    await attempts.insert({ ...base, id: 'att_pin', intent_id: 'pi_2', state: 'paid', outcome: 'match', risk_choice: 'face_pin', risk_reasons: '["amount_above_face_alone_limit"]', created_at: at + 1, updated_at: at + 1 });
    await attempts.insert({ ...base, id: 'att_live', intent_id: 'pi_3', state: 'refused', outcome: 'liveness_failed', risk_choice: 'no_face', risk_reasons: '["liveness_failed"]', created_at: at + 2, updated_at: at + 2 });
    await attempts.recordFailure({ id: 'fail_1', shopper_id: 'shp_over', attempt_id: 'att_pin', terminal_id: a.terminal.id, factor: 'pin', at: at + 3 }, 0);
    clock.advance(10_000);
    const d = await p.services.disputes!.openByShopper('shp_over', recent.id);
    assert.equal(d.created, true);

    admin = (await p.services.operators!.logIn('admin@operator.example', 'admin password 1')).sessionToken;
    const desk = (await p.services.operators!.logIn('desk@operator.example', 'desk password 1')).sessionToken;
    assert.equal((await get(`/v1/operator/merchants/${p.merchantId}/overview`, desk)).body.error.code, 'operator_role_insufficient');
    assert.equal((await get('/v1/operator/merchants/mer_nobody/overview')).status, 404);

    const o = await get(`/v1/operator/merchants/${p.merchantId}/overview`);
    assert.equal(o.status, 200, JSON.stringify(o.body));
    assert.equal(o.body.status, 'active');
    assert.deepEqual(o.body.volume, [
      {
        currency: 'eur',
        all_time: { payments: { count: 3, amount: '16000' }, refunds: { count: 1, amount: '1000' }, fees: String(250 + 100 + 50 - 25) },
        last_30_days: { payments: { count: 2, amount: '6000' }, refunds: { count: 1, amount: '1000' }, fees: String(100 + 50 - 25) },
      },
    ]);
    assert.deepEqual(o.body.terminals, { active: 0, pending: 1, revoked: 1, last_seen_at: null });
    assert.deepEqual(o.body.disputes, { open: 1, total: 1 });
    assert.deepEqual(o.body.risk.last_30_days, { step_ups: 2, refusals: 1, wrong_factors: 1, disputes: 1 });
    assert.deepEqual(
      o.body.risk.recent.map((e: { kind: string; code: string; id: string }) => [e.kind, e.code, e.id]),
      [['dispute', 'open', d.dispute.id], ['wrong_factor', 'pin', 'fail_1'], ['refused', 'liveness_failed', 'att_live'], ['step_up', 'face_pin', 'att_pin']],
    );
    assert.deepEqual(o.body.risk.recent[2].reasons, ['liveness_failed']);
  });

  test('sums past 2^53 stay exact', async () => {
    const m = await p.services.merchants.createMerchant({ name: 'Big Spender' });
    const huge = Number.MAX_SAFE_INTEGER; // 2^53 - 1: two of them make a total no double holds exactly
    const now = clock.now().getTime();
    // Seeded as rows: no wallet could pay this twice through the ledger, which caps every total at 2^53 - 1.
    for (const id of ['pi_big_1', 'pi_big_2']) {
      await p.db.execute(
        `INSERT INTO payment_intents (id, merchant_id, store_id, amount, currency, status, metadata, platform_fee, created_at, updated_at, mode)
         VALUES ($1, $2, 'store_x', $3, 'eur', 'succeeded', '{}', 1, $4, $4, 'live')`,
        [id, m.id, huge, now],
      );
    }
    const o = await get(`/v1/operator/merchants/${m.id}/overview`);
    assert.equal(o.body.volume[0].all_time.payments.amount, (2n * BigInt(huge)).toString());
    assert.equal(o.body.volume[0].all_time.payments.amount, '18014398509481982');
    assert.deepEqual(o.body.terminals, { active: 0, pending: 0, revoked: 0, last_seen_at: null });
    assert.deepEqual(o.body.risk.recent, []);
  });
});
