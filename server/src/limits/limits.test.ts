/**
 * Platform limits set by an operator admin over HTTP, on both databases: a lower limit refuses
 * the next payment or top-up above it with today's codes, bad values get stable 400s, a desk user
 * reads but may not set, every change is audited once, and another process sees it within 5 s.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError, ManualClock, randomIds } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { createPlatformLimits } from './index.ts';

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

describeEachDialect('platform limits set by the operator', (dialect) => {
  let p: TestPlatform;
  let admin = '';
  let adminId = '';
  let desk = '';
  const clock = new ManualClock('2026-12-07T10:00:00Z');

  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_WALLET_CURRENCY: 'eur', FACEPAY_SHOPPER_PAYMENT_LIMIT: '20000', FACEPAY_TOP_UP_CAP: '50000' }, overrides: { clock } });
    adminId = (await p.services.operators!.create({ email: 'admin@operator.example', name: 'Ada Admin', password: 'admin password 1', role: 'admin' })).id;
    await p.services.operators!.create({ email: 'desk@operator.example', name: 'Dana Desk', password: 'desk password 1', role: 'desk' });
    admin = (await p.services.operators!.logIn('admin@operator.example', 'admin password 1')).sessionToken;
    desk = (await p.services.operators!.logIn('desk@operator.example', 'desk password 1')).sessionToken;
    await p.services.payments.topUp('shp_limits', 1_000_000, 'eur', 'seed-limits');
  });
  after(async () => {
    await p.dispose();
  });

  const call = async (method: string, url: string, opts: { body?: unknown; token?: string } = {}) => {
    const res = await p.app.inject({
      method: method as 'GET',
      url,
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      ...(opts.body === undefined ? {} : { payload: opts.body as object }),
    });
    return { status: res.statusCode, body: res.json() as Record<string, any> };
  };
  const pay = async (amount: number) => {
    const pi = await p.services.payments.createIntent(p.merchantId, { amount, currency: 'eur', storeId: p.storeId });
    return p.services.payments.confirmWithShopper(pi.id, 'shp_limits');
  };
  const value = (body: Record<string, any>, key: string) => (body.data as { key: string; value: number; source: string }[]).find((l) => l.key === key);

  test('the configured values are the defaults; any operator reads them, only an admin sets them', async () => {
    const read = await call('GET', '/v1/operator/limits', { token: desk });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.currency, 'eur');
    assert.deepEqual(
      read.body.data.map((l: { key: string; value: number; default: number; source: string }) => [l.key, l.value, l.default, l.source]),
      [
        ['shopper_payment_limit', 20_000, 20_000, 'default'],
        ['shopper_daily_limit', 300_000, 300_000, 'default'],
        ['top_up_cap', 50_000, 50_000, 'default'],
        ['top_up_daily_cap', 5_000_000, 5_000_000, 'default'],
      ],
    );
    const refused = await call('PUT', '/v1/operator/limits', { token: desk, body: { shopper_payment_limit: 1 } });
    assert.deepEqual([refused.status, refused.body.error.code], [403, 'operator_role_insufficient']);
    assert.equal((await call('GET', '/v1/operator/limits/audit', { token: desk })).status, 403);
    assert.equal((await call('GET', '/v1/operator/limits')).status, 401);
  });

  test('bad values and unknown keys get stable 400s and change nothing', async () => {
    for (const bad of [0, -5, 1.5, '5000', null, Number.MAX_SAFE_INTEGER + 1, 1e300]) {
      const r = await call('PUT', '/v1/operator/limits', { token: admin, body: { top_up_cap: 10, shopper_payment_limit: bad } });
      assert.deepEqual([r.status, r.body.error?.code], [400, 'limit_invalid'], `${String(bad)}: ${JSON.stringify(r.body)}`);
    }
    const unknown = await call('PUT', '/v1/operator/limits', { token: admin, body: { refund_limit: 10 } });
    assert.deepEqual([unknown.status, unknown.body.error.code], [400, 'limit_unknown']);
    const empty = await call('PUT', '/v1/operator/limits', { token: admin, body: {} });
    assert.deepEqual([empty.status, empty.body.error.code], [400, 'limit_changes_missing']);
    assert.equal((await call('PUT', '/v1/operator/limits', { token: admin, body: { top_up_cap: Number.MAX_SAFE_INTEGER } })).status, 200, 'the largest safe integer is a valid limit');
    assert.equal((await call('PUT', '/v1/operator/limits', { token: admin, body: { top_up_cap: 50_000 } })).status, 200);
    assert.equal(value((await call('GET', '/v1/operator/limits', { token: admin })).body, 'shopper_payment_limit')!.source, 'default');
  });

  test('a lower shopper payment limit refuses the next payment above it, with the code of the configured limit', async () => {
    assert.equal((await pay(15_000)).status, 'succeeded', 'below the configured 200.00');
    await assert.rejects(pay(25_000), code('shopper_payment_limit_exceeded'), 'the configured limit refuses as before');
    assert.equal((await p.services.facePay.riskSettings(p.merchantId)).effective.faceMaxAmount, 20_000);

    const set = await call('PUT', '/v1/operator/limits', { token: admin, body: { shopper_payment_limit: 10_000 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(value(set.body, 'shopper_payment_limit'), { object: 'platform_limit', key: 'shopper_payment_limit', value: 10_000, default: 20_000, source: 'operator', updated_at: clock.now().getTime(), updated_by: adminId });
    await assert.rejects(pay(15_000), code('shopper_payment_limit_exceeded'));
    assert.equal((await pay(10_000)).status, 'succeeded', 'the limit itself is allowed');
    // Face pay's risk engine sends a larger face payment another way at the decision.
    assert.equal((await p.services.facePay.riskSettings(p.merchantId)).effective.faceMaxAmount, 10_000);
  });

  test('a lower daily limit and top-up caps apply at once', async () => {
    // 250.00 paid today so far: a daily limit of 300.00 refuses a further 60.00.
    assert.equal((await call('PUT', '/v1/operator/limits', { token: admin, body: { shopper_daily_limit: 30_000 } })).status, 200);
    await assert.rejects(pay(6_000), code('shopper_daily_limit_exceeded'));
    assert.equal((await pay(5_000)).status, 'succeeded');

    const funding = p.services.fundingService!;
    assert.equal((await funding.requestTopUp('shp_top', 40_000, 'eur', 'top-up-key-1')).status, 'pending');
    assert.equal((await call('PUT', '/v1/operator/limits', { token: admin, body: { top_up_cap: 30_000, top_up_daily_cap: 60_000 } })).status, 200);
    await assert.rejects(funding.requestTopUp('shp_top', 40_000, 'eur', 'top-up-key-2'), code('top_up_over_cap'));
    await assert.rejects(funding.requestTopUp('shp_top', 25_000, 'eur', 'top-up-key-3'), code('top_up_daily_cap'));
    assert.equal((await funding.requestTopUp('shp_top', 20_000, 'eur', 'top-up-key-4')).status, 'pending');
  });

  test('each change is audited once: who, which limit, from what to what, when', async () => {
    clock.advance(60_000);
    const again = await call('PUT', '/v1/operator/limits', { token: admin, body: { shopper_payment_limit: 10_000 } });
    assert.equal(again.status, 200, 'the same value again (a double submit) is accepted and changes nothing');
    const audit = await call('GET', '/v1/operator/limits/audit', { token: admin });
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    const rows = audit.body.data as { key: string; old_value: number; new_value: number; changed_by: string; changed_at: number }[];
    const at = Date.parse('2026-12-07T10:00:00Z');
    assert.deepEqual(
      rows.filter((r) => r.key === 'shopper_payment_limit').map((r) => [r.old_value, r.new_value, r.changed_by, r.changed_at]),
      [[20_000, 10_000, adminId, at]],
    );
    assert.equal(rows.length, 6, JSON.stringify(rows));
    assert.equal(audit.body.data[0].changed_by_name, 'Ada Admin');
    assert.deepEqual(
      rows.filter((r) => r.key.startsWith('top_up')).map((r) => [r.key, r.old_value, r.new_value]).sort(),
      [
        ['top_up_cap', 50_000, 30_000],
        ['top_up_cap', 50_000, Number.MAX_SAFE_INTEGER],
        ['top_up_cap', Number.MAX_SAFE_INTEGER, 50_000],
        ['top_up_daily_cap', 5_000_000, 60_000],
      ].sort(),
    );
  });

  test('another process sharing the database sees a change within its 5 s cache', async () => {
    const other = new ManualClock(clock.now());
    const elsewhere = createPlatformLimits({ db: p.db, clock: other, ids: randomIds(), defaults: { shopperPaymentLimit: 20_000, shopperDailyLimit: 300_000, topUpCap: 50_000, topUpDailyCap: 5_000_000 } });
    assert.equal((await elsewhere.current()).shopperPaymentLimit, 10_000);
    assert.equal((await call('PUT', '/v1/operator/limits', { token: admin, body: { shopper_payment_limit: 7_000 } })).status, 200);
    other.advance(4_999);
    assert.equal((await elsewhere.current()).shopperPaymentLimit, 10_000, 'still the cached value');
    other.advance(1);
    assert.equal((await elsewhere.current()).shopperPaymentLimit, 7_000);
  });
});
