/**
 * Closing a merchant, over HTTP on both databases: only a suspended one, only once its settlement
 * balance is zero and no payout run holding its money is open; then its key, console login,
 * session and terminal are refused with merchant_closed, and nothing reopens it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { activateDevice, DeviceApiError, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { ManualClock } from '../../platform/index.ts';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

describeEachDialect('operator closes a merchant', (dialect) => {
  let p: TestPlatform;
  let admin = '';
  let adminId = '';
  let merchantId = '';
  let liveKey = '';
  let staffCookie = '';
  let terminal: DeviceClient;
  const owner = { email: `closing-owner-${dialect}@canteen.test`, password: 'owner password 1' };
  // Late in the day, so that the day closes while the sessions made today still live.
  const clock = new ManualClock(new Date('2026-12-07T22:00:00Z'));

  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_PLATFORM_FEE_BPS: '250', FACEPAY_WALLET_CURRENCY: 'eur', FACEPAY_SETTLEMENT_GRACE_MS: '0', FACEPAY_PAYOUT_DEBTOR_IBAN: 'DE89370400440532013000' },
      overrides: { clock },
    });
    adminId = (await p.services.operators!.create({ email: 'admin@operator.example', name: 'Ada Admin', password: 'admin password 1', role: 'admin' })).id;
    await p.services.operators!.create({ email: 'desk@operator.example', name: 'Dana Desk', password: 'desk password 1', role: 'desk' });
    admin = (await p.services.operators!.logIn('admin@operator.example', 'admin password 1')).sessionToken;
  });
  after(async () => {
    await p.dispose();
  });

  const call = async (method: string, url: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) => {
    const res = await p.app.inject({
      method: method as 'GET',
      url,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      ...(opts.body === undefined ? {} : { payload: opts.body as object }),
    });
    return { status: res.statusCode, body: res.json() as Record<string, any>, headers: res.headers };
  };
  const close = () => call('POST', `/v1/operator/merchants/${merchantId}/closure`, { token: admin });

  test('an active merchant with sales: a desk user may not close it, an admin only once it is suspended', async () => {
    const c = await call('POST', '/v1/operator/merchants', { token: admin, body: { name: 'Closing Canteen' } });
    merchantId = c.body.id;
    assert.equal(c.body.closed_at, null);
    const store = await p.services.merchants.createStore(merchantId, { name: 'Hall' });
    liveKey = (await p.services.merchants.createApiKey(merchantId, { mode: 'live' })).secret;
    await p.services.staff!.create(merchantId, { email: owner.email, name: 'Olga Owner', password: owner.password, role: 'owner' });
    const login = await call('POST', '/v1/staff/login', { body: owner });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    staffCookie = String(login.headers['set-cookie']).split(';')[0]!;
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    const created = await call('POST', '/v1/terminals', { headers: { authorization: `Bearer ${liveKey}` }, body: { store: store.id } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    terminal = (await activateDevice({ baseUrl: `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`, code: created.body.activation_code, keyStore: new MemoryKeyStore() })).client;

    await p.services.payments.topUp('shp_closing', 10_000, 'eur', `seed-closing-${dialect}`);
    const pi = await p.services.payments.createIntent(merchantId, { amount: 4_000, currency: 'eur', storeId: store.id });
    await p.services.payments.confirmWithShopper(pi.id, 'shp_closing', {});

    const desk = (await p.services.operators!.logIn('desk@operator.example', 'desk password 1')).sessionToken;
    assert.equal((await call('POST', `/v1/operator/merchants/${merchantId}/closure`, { token: desk })).body.error.code, 'operator_role_insufficient');
    const active = await close();
    assert.deepEqual([active.status, active.body.error.code], [409, 'merchant_not_suspended']);
    assert.equal((await call('GET', `/v1/operator/merchants/${merchantId}`, { token: admin })).body.status, 'active', 'nothing changed');
    assert.equal((await call('POST', '/v1/operator/merchants/mer_nobody/closure', { token: admin })).status, 404);
  });

  test('suspended but owed money: refused with the balance; a payout run still open: refused with the run', async () => {
    assert.equal((await call('POST', `/v1/operator/merchants/${merchantId}/suspension`, { token: admin })).body.status, 'suspended');
    const owed = await close();
    assert.deepEqual([owed.status, owed.body.error.code], [409, 'merchant_balance_not_zero']);
    // 4,000 paid less the 2.5 % platform fee (100).
    assert.deepEqual(owed.body.error.details.balances, [{ currency: 'eur', amount: '3900' }]);

    // The day closes into a statement and a payout run takes it: the payable is zero, the run is not done.
    await p.services.settlement!.setPayoutAccount(merchantId, { iban: 'FR7630006000011234567890189', holderName: 'Closing Canteen SARL' });
    clock.set('2026-12-08T00:00:01Z');
    assert.equal((await p.services.settlement!.closeDays()).filter((s) => s.merchantId === merchantId).length, 1);
    const run = await call('POST', '/v1/operator/payouts', { token: admin, body: {}, headers: { 'idempotency-key': `closing-run-${dialect}` } });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    assert.equal(await p.services.settlement!.payable(merchantId, 'eur'), 0);
    const open = await close();
    assert.deepEqual([open.status, open.body.error.code, open.body.error.details.payout_runs], [409, 'payout_open', [run.body.id]]);
    assert.equal((await call('GET', `/v1/operator/merchants/${merchantId}`, { token: admin })).body.status, 'suspended');

    assert.equal((await call('POST', `/v1/operator/payouts/${run.body.id}/sent`, { token: admin })).body.status, 'sent');
  });

  test('paid out: closed, with who and when; everything it had is refused with merchant_closed, for good', async () => {
    clock.advance(60_000);
    const closed = await close();
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    assert.deepEqual([closed.body.status, closed.body.closed_by, closed.body.closed_at], ['closed', adminId, clock.now().toISOString()]);
    const again = await close();
    assert.deepEqual([again.status, again.body.closed_at], [200, closed.body.closed_at], 'closing again changes nothing');

    const key = await call('GET', '/v1/stores', { headers: { authorization: `Bearer ${liveKey}` } });
    assert.deepEqual([key.status, key.body.error.code], [403, 'merchant_closed']);
    const session = await call('GET', '/v1/staff/me', { headers: { cookie: staffCookie } });
    assert.deepEqual([session.status, session.body.error.code], [403, 'merchant_closed']);
    const login = await call('POST', '/v1/staff/login', { body: owner });
    assert.deepEqual([login.status, login.body.error.code], [403, 'merchant_closed']);
    assert.equal((await call('POST', '/v1/staff/login', { body: { email: owner.email, password: 'wrong password 1' } })).body.error.code, 'invalid_credentials', 'no hint without the password');
    await assert.rejects(terminal.json('/device/v1/me'), (e: unknown) => e instanceof DeviceApiError && e.status === 403 && e.code === 'merchant_closed');

    for (const action of ['reactivation', 'suspension']) {
      const r = await call('POST', `/v1/operator/merchants/${merchantId}/${action}`, { token: admin });
      assert.deepEqual([r.status, r.body.error.code], [409, 'merchant_closed'], action);
    }
    const invite = await call('POST', `/v1/operator/merchants/${merchantId}/invitations`, { token: admin, body: { email: `new-owner-${dialect}@canteen.test` } });
    assert.deepEqual([invite.status, invite.body.error.code], [409, 'merchant_closed']);
    const m = await call('GET', `/v1/operator/merchants/${merchantId}`, { token: admin });
    assert.deepEqual([m.body.status, m.body.closed_by], ['closed', adminId]);
    assert.deepEqual((await call('GET', '/v1/operator/merchants?status=closed', { token: admin })).body.data.map((x: { id: string }) => x.id), [merchantId]);
    assert.equal((await call('GET', '/v1/stores', { headers: p.liveAuth })).status, 200, 'other merchants go on');
    assert.deepEqual((await p.services.settlement!.audit()).problems, []);
  });
});
