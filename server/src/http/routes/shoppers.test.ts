/**
 * The shopper portal's API and the terminal's way to pay without the face, over real HTTP: a
 * shopper signs up, tops up, takes a pay code; a terminal activated with the SDK pays the till's
 * intent with it. The face engine is off here (FACEPAY_FACE=0): its routes must say so plainly.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

describeEachDialect('shopper portal and pay codes over HTTP', (dialect) => {
  let p: TestPlatform;
  let base: string;
  let device: DeviceClient;
  let cookie = '';

  before(async () => {
    p = await testPlatform(dialect);
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    const created = await p.app.inject({ method: 'POST', url: '/v1/terminals', payload: { store: p.storeId }, headers: p.auth });
    ({ client: device } = await activateDevice({ baseUrl: base, code: created.json().activation_code, keyStore: new MemoryKeyStore() }));
  });
  after(async () => {
    await p.dispose();
  });

  const shopper = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(base + url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  test('sign-up sets an HttpOnly session cookie and the account answers with its wallet', async () => {
    const res = await shopper('POST', '/v1/shopper/signup', { email: 'ana@example.com', password: 'a long passphrase', name: 'Ana Lima', phone: '+351 912 345 678' });
    assert.equal(res.status, 201, await res.clone().text());
    const set = res.headers.get('set-cookie') ?? '';
    assert.match(set, /^fp_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict/);
    cookie = set.split(';')[0]!;
    const me = await (await shopper('GET', '/v1/shopper/me')).json();
    assert.equal(me.email, 'ana@example.com');
    assert.equal(me.face_enrolled, false);
    assert.equal(me.face_enrol_again, false);
    assert.deepEqual(me.wallet, { balance: 0, currency: 'eur' });
  });

  test('bad input and missing sessions get precise 4xx codes', async () => {
    const saved = cookie;
    cookie = '';
    assert.equal((await (await shopper('GET', '/v1/shopper/me')).json()).error.code, 'session_missing');
    cookie = 'fp_session=forged';
    assert.equal((await shopper('GET', '/v1/shopper/me')).status, 401);
    cookie = saved;
    const bad = await shopper('POST', '/v1/shopper/login', '{"email":');
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, 'invalid_json');
    const wrongType = await shopper('PATCH', '/v1/shopper/me', { per_payment_limit: '100' });
    assert.equal(wrongType.status, 400);
    const wrong = await shopper('POST', '/v1/shopper/login', { email: 'ana@example.com', password: 'not it' });
    assert.equal((await wrong.json()).error.code, 'invalid_credentials');
    assert.equal((await shopper('POST', '/v1/shopper/signup', { email: 'ana@example.com', password: 'a long passphrase', name: 'Ana' })).status, 409);
  });

  test('a live top-up is pending until a rail confirms it; retried with its Idempotency-Key it funds the wallet once', async () => {
    const key = { 'idempotency-key': 'topup-0001-ana' };
    assert.equal((await shopper('POST', '/v1/shopper/topups', { amount: 5000, currency: 'eur' })).status, 400, 'a top-up needs a key');
    const first = await shopper('POST', '/v1/shopper/topups', { amount: 5000, currency: 'eur' }, key);
    assert.equal(first.status, 200, await first.clone().text());
    const body = await first.json();
    assert.equal(body.top_up.status, 'pending');
    assert.match(body.payment_reference, /^RF\d{2}[A-Z0-9]+$/);
    assert.equal(body.wallet.balance, 0, 'live money is never made by asking for it');
    await shopper('POST', '/v1/shopper/topups', { amount: 5000, currency: 'eur' }, key);
    await p.services.fundingService!.confirm(body.top_up.id, 'bank_transfer', `BANK-ana-${dialect}`);
    await shopper('POST', '/v1/shopper/topups', { amount: 5000, currency: 'eur' }, key);
    assert.equal((await (await shopper('GET', '/v1/shopper/me')).json()).wallet.balance, 5000);
    for (const amount of [9_007_199_254_740_991, 2 ** 53, 0, -1]) {
      const huge = await shopper('POST', '/v1/shopper/topups', `{"amount":${amount},"currency":"eur"}`, { 'content-type': 'application/json', 'idempotency-key': `topup-huge-${amount}` });
      assert.ok(huge.status >= 400 && huge.status < 500, `${amount}: ${huge.status}`);
    }
    assert.equal((await (await shopper('POST', '/v1/shopper/topups', { amount: 10, currency: 'usd' }, { 'idempotency-key': 'topup-0002-ana' })).json()).error.code, 'currency_unsupported');
    assert.equal((await shopper('POST', '/v1/shopper/topups', { amount: 12.5, currency: 'eur' }, { 'idempotency-key': 'topup-0003-ana' })).status, 400);
  });

  test("with the face engine off, enrolment and the terminal's face steps answer 503 face_engine_off", async () => {
    const consent = await (await shopper('GET', '/v1/shopper/consent')).json();
    assert.equal(consent.accepted, false);
    assert.equal((await (await shopper('POST', '/v1/shopper/consent', { version: consent.version })).json()).accepted, true);
    const challenge = await shopper('POST', '/v1/shopper/face/challenges', {});
    assert.equal(challenge.status, 503);
    assert.equal((await challenge.json()).error.code, 'enrolment_unavailable');
    const pi = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency: 'eur', store: p.storeId }, headers: p.liveAuth });
    const res = await device.fetch(`/device/v1/payment_intents/${pi.json().id}/face_challenges`, { json: {} });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, 'face_engine_off');
    await p.services.payments.cancel(p.merchantId, pi.json().id);
  });

  test("a terminal cancels only its own intents and its store's unassigned ones, never another terminal's", async () => {
    const terminal = await device.json<{ terminal_id: string }>('/device/v1/me');
    const otherStore = await p.services.merchants.createStore(p.merchantId, { name: 'Elsewhere' });
    const make = async (extra: Record<string, unknown>) =>
      (await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency: 'eur', store: p.storeId, ...extra }, headers: p.liveAuth })).json().id as string;
    const othersTerminal = await make({ terminal: 'term_someone_else' });
    const elsewhere = await make({ store: otherStore.id });
    for (const id of [othersTerminal, elsewhere]) {
      const res = await device.fetch(`/device/v1/payment_intents/${id}/cancel`, { json: {} });
      assert.equal(res.status, 404, id);
      assert.equal((await res.json()).error.code, 'payment_intent_not_found');
      assert.equal((await p.services.payments.getIntent(p.merchantId, id)).status, 'requires_face');
    }
    for (const id of [await make({ terminal: terminal.terminal_id }), await make({})]) {
      assert.equal((await device.json<{ status: string }>(`/device/v1/payment_intents/${id}/cancel`, { json: {} })).status, 'cancelled');
    }
    for (const id of [othersTerminal, elsewhere]) await p.services.payments.cancel(p.merchantId, id);
  });

  test("the till's intent reaches the terminal, a pay code pays it once, and the shopper sees it", async () => {
    const terminal = await device.json<{ terminal_id: string }>('/device/v1/me');
    const created = await p.app.inject({
      method: 'POST',
      url: '/v1/payment_intents',
      payload: { amount: 1250, currency: 'eur', store: p.storeId, terminal: terminal.terminal_id },
      headers: p.liveAuth,
    });
    const intentId = created.json().id as string;
    const next = await device.json<{ intent: { id: string; amount: number } | null }>('/device/v1/payment_intents/next');
    assert.equal(next.intent?.id, intentId);
    const { code } = await (await shopper('POST', '/v1/shopper/pay_codes', {})).json();
    assert.match(code, /^\d{12}$/);
    const pay = { code, payment_id: 'tpay_0000000001' };
    const first = await device.json<{ status: string }>(`/device/v1/payment_intents/${intentId}/pay_code`, { json: pay });
    const retry = await device.json<{ status: string }>(`/device/v1/payment_intents/${intentId}/pay_code`, { json: pay });
    assert.equal(first.status, 'succeeded');
    assert.equal(retry.status, 'succeeded');
    assert.equal((await (await shopper('GET', '/v1/shopper/me')).json()).wallet.balance, 5000 - 1250);
    const other = await device.fetch(`/device/v1/payment_intents/${intentId}/pay_code`, { json: { code, payment_id: 'tpay_0000000002' } });
    assert.equal((await other.json()).error.code, 'pay_code_invalid');
    const list = await (await shopper('GET', '/v1/shopper/payments')).json();
    assert.deepEqual(
      list.data.map((x: { id: string; amount: number; merchant_name: string; status: string }) => [x.id, x.amount, x.merchant_name, x.status]),
      [[intentId, 1250, 'Test Shop', 'succeeded']],
    );
    assert.equal((await device.json<{ intent: unknown }>('/device/v1/payment_intents/next')).intent, null);
    const audit = await p.services.payments.audit();
    assert.deepEqual(audit.problems, []);
  });

  test('deleting the face and signing out', async () => {
    assert.equal((await (await shopper('DELETE', '/v1/shopper/face')).json()).face_enrolled, false);
    const out = await shopper('POST', '/v1/shopper/logout', {});
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await shopper('GET', '/v1/shopper/me')).status, 401);
  });
});
