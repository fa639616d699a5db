/**
 * The shopper portal's API and the terminal's way to pay without the face, over real HTTP: a
 * shopper signs up, tops up, takes a pay code; a terminal activated with the SDK pays the till's
 * intent with it. The face engine is off here (FACEPAY_FACE=0): its routes must say so plainly.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { activateDevice, DeviceApiError, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
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

  test('sign-up, then sign-in sets an HttpOnly session cookie and the account answers with its wallet', async () => {
    const up = await shopper('POST', '/v1/shopper/signup', { email: 'ana@example.com', password: 'a long passphrase', name: 'Ana Lima', phone: '+351 912 345 678' });
    assert.equal(up.status, 202, await up.clone().text());
    assert.equal(up.headers.get('set-cookie'), null);
    const res = await shopper('POST', '/v1/shopper/login', { email: 'ana@example.com', password: 'a long passphrase' });
    assert.equal(res.status, 200, await res.clone().text());
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
  });

  test('sign-up does not tell which e-mails have accounts: same answer, no session, and the account is untouched', async () => {
    const saved = cookie;
    cookie = '';
    const answer = async (email: string, password: string) => {
      const started = performance.now();
      const res = await shopper('POST', '/v1/shopper/signup', { email, password, name: 'Someone' });
      return { status: res.status, body: await res.text(), cookie: res.headers.get('set-cookie'), ms: performance.now() - started };
    };
    const known = await answer('ANA@example.com', 'an attacker passphrase');
    const fresh = await answer('nobody-yet@example.com', 'a long passphrase');
    assert.deepEqual([known.status, known.body, known.cookie], [fresh.status, fresh.body, fresh.cookie]);
    assert.equal(known.status, 202);
    // Both hash a password: the known e-mail is not answered markedly faster (a loose bound; the hash dominates).
    assert.ok(known.ms > fresh.ms / 4, `known ${known.ms.toFixed(1)} ms, new ${fresh.ms.toFixed(1)} ms`);
    // The attacker's password opens nothing; the owner's still works.
    assert.equal((await (await shopper('POST', '/v1/shopper/login', { email: 'ana@example.com', password: 'an attacker passphrase' })).json()).error.code, 'invalid_credentials');
    assert.equal((await shopper('POST', '/v1/shopper/login', { email: 'ana@example.com', password: 'a long passphrase' })).status, 200);
    assert.equal((await shopper('POST', '/v1/shopper/login', { email: 'nobody-yet@example.com', password: 'a long passphrase' })).status, 200);
    assert.equal((await shopper('POST', '/v1/shopper/signup', { email: 'not an address', password: 'a long passphrase', name: 'X' })).status, 400);
    cookie = saved;
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
    assert.deepEqual((await challenge.json()).error, { code: 'enrolment_unavailable', message: 'Face enrolment is not available here.', request_id: challenge.headers.get('request-id'), retryable: false });
    const pi = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: { amount: 100, currency: 'eur', store: p.storeId }, headers: p.liveAuth });
    const res = await device.fetch(`/device/v1/payment_intents/${pi.json().id}/face_challenges`, { json: {} });
    assert.equal(res.status, 503);
    const off = (await res.json()).error;
    assert.equal(off.code, 'face_engine_off');
    // Sending it again cannot help: the body says so, and the SDK's retries stop on it.
    assert.equal(off.retryable, false);
    const { retryUntilFinal } = await import('@facepay/device-sdk');
    let tries = 0;
    const final = await retryUntilFinal(() => (tries++, device.fetch(`/device/v1/payment_intents/${pi.json().id}/face_challenges`, { json: {} })), { sleep: async () => undefined, maxAttempts: 5 });
    assert.deepEqual([final.status, tries], [503, 1]);
    await assert.rejects(device.json(`/device/v1/payment_intents/${pi.json().id}/face_challenges`, { json: {} }), (e: unknown) => {
      assert.ok(e instanceof DeviceApiError);
      assert.deepEqual([e.status, e.code, e.retryable], [503, 'face_engine_off', false]);
      return true;
    });
    const bad = await shopper('PATCH', '/v1/shopper/me', { per_payment_limit: '100' });
    assert.equal((await bad.json()).error.retryable, false);
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
    // The method is what the payment recorded: a pay code, never "face" by default.
    assert.equal(list.data[0].method, 'pay_code');
    const seen = await p.app.inject({ method: 'GET', url: `/v1/payment_intents/${intentId}`, headers: p.liveAuth });
    assert.equal(seen.json().payment_method, 'pay_code');
    assert.equal((await device.json<{ intent: unknown }>('/device/v1/payment_intents/next')).intent, null);
    const audit = await p.services.payments.audit();
    assert.deepEqual(audit.problems, []);
  });

  test('a pay code that cannot pay answers 402 with the decline code, also on the retry, and moves nothing', async () => {
    const terminal = await device.json<{ terminal_id: string }>('/device/v1/me');
    const before = (await (await shopper('GET', '/v1/shopper/me')).json()).wallet.balance as number;
    const created = await p.app.inject({
      method: 'POST',
      url: '/v1/payment_intents',
      payload: { amount: before + 1, currency: 'eur', store: p.storeId, terminal: terminal.terminal_id },
      headers: p.liveAuth,
    });
    const intentId = created.json().id as string;
    const { code } = await (await shopper('POST', '/v1/shopper/pay_codes', {})).json();
    const pay = { code, payment_id: 'tpay_declined_0001' };
    for (const attempt of ['first', 'retry']) {
      const res = await device.fetch(`/device/v1/payment_intents/${intentId}/pay_code`, { json: pay });
      assert.equal(res.status, 402, attempt);
      const err = (await res.json()).error;
      assert.equal(err.code, 'insufficient_funds', attempt);
      assert.equal(err.retryable, false);
      assert.deepEqual(err.details, { status: 'failed', payment_id: 'tpay_declined_0001' });
    }
    assert.equal((await (await shopper('GET', '/v1/shopper/me')).json()).wallet.balance, before);
    assert.equal((await p.services.payments.getIntent(p.merchantId, intentId)).status, 'failed');
  });

  test("a terminal's own intent takes its idempotency key in the signed body; an unsigned header may only repeat it", async () => {
    const body = { amount: 700, currency: 'eur', idempotency_key: 'tmi_retry_000001' };
    const first = await device.fetch('/device/v1/payment_intents', { json: body });
    assert.equal(first.status, 200, await first.clone().text());
    const again = await device.json<{ id: string }>('/device/v1/payment_intents', { json: body });
    assert.equal(again.id, (await first.json()).id, 'a retry with the same signed id creates nothing new');
    const withHeader = await device.json<{ id: string }>('/device/v1/payment_intents', { json: body, headers: { 'idempotency-key': body.idempotency_key } });
    assert.equal(withHeader.id, again.id);
    // What the header-only protocol allowed: anyone on the path could change the unsigned key and make a second intent.
    const swapped = await device.fetch('/device/v1/payment_intents', { json: body, headers: { 'idempotency-key': 'tmi_swapped_00001' } });
    assert.equal(swapped.status, 400);
    assert.equal((await swapped.json()).error.code, 'idempotency_key_mismatch');
    const none = await device.fetch('/device/v1/payment_intents', { json: { amount: 700, currency: 'eur' }, headers: { 'idempotency-key': 'tmi_header_only_01' } });
    assert.equal(none.status, 400);
    assert.equal((await none.json()).error.param, 'idempotency_key');
    const other = await device.fetch('/device/v1/payment_intents', { json: { ...body, amount: 701 } });
    assert.equal((await other.json()).error.code, 'idempotency_key_reused');
    await p.services.payments.cancel(p.merchantId, again.id);
  });

  test('deleting the face and signing out', async () => {
    assert.equal((await (await shopper('DELETE', '/v1/shopper/face')).json()).face_enrolled, false);
    const out = await shopper('POST', '/v1/shopper/logout', {});
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await shopper('GET', '/v1/shopper/me')).status, 401);
  });
});
