import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifySignature } from '../merchants/index.ts';
import { merchantAccountId } from '../payments/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

describeEachDialect('merchant API', (dialect) => {
  let p: TestPlatform;
  const lines: string[] = [];
  const sent: { url: string; body: string; headers: Record<string, string> }[] = [];
  let failNext = 1;
  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_LOG_LEVEL: 'info', FACEPAY_BODY_LIMIT_BYTES: '2048', FACEPAY_PLATFORM_FEE_BPS: '250' },
      overrides: {
        logStream: { write: (l: string) => void lines.push(l) },
        webhookPoster: async (url, body, headers) => {
          sent.push({ url, body, headers });
          if (failNext > 0) {
            failNext--;
            return { status: 500 };
          }
          return { status: 200 };
        },
      },
    });
  });
  after(async () => {
    await p.dispose();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    p.app.inject({ method: 'POST', url, payload: payload as string, headers: { ...p.auth, ...headers } });
  const get = (url: string, headers: Record<string, string> = {}) => p.app.inject({ method: 'GET', url, headers: { ...p.auth, ...headers } });
  const intent = (extra: Record<string, unknown> = {}) => ({ amount: 1000, currency: 'usd', store: p.storeId, ...extra });

  function assertError(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, status: number, code: string): Record<string, unknown> {
    assert.equal(res.statusCode, status, JSON.stringify(res.json()));
    const body = res.json() as { error: Record<string, unknown> };
    assert.equal(body.error.code, code);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(body.error.request_id, res.headers['request-id']);
    return body.error;
  }

  test('creates, retrieves and pages through payment intents', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post('/v1/payment_intents', intent({ order_reference: `o${i}`, metadata: { till: '2' } }));
      assert.equal(res.statusCode, 200);
      const pi = res.json();
      assert.equal(pi.status, 'requires_face');
      assert.equal(pi.amount, 1000);
      assert.equal(pi.shopper, undefined);
      ids.push(pi.id);
    }
    assert.equal((await get(`/v1/payment_intents/${ids[0]}`)).json().order_reference, 'o0');
    const first = (await get('/v1/payment_intents?limit=2')).json();
    assert.equal(first.data.length, 2);
    assert.equal(first.has_more, true);
    const second = (await get(`/v1/payment_intents?limit=2&cursor=${first.next_cursor}`)).json();
    assert.equal(second.has_more, false);
    const seen = [...first.data, ...second.data].map((x: { id: string }) => x.id);
    assert.deepEqual(new Set(seen), new Set(ids));
  });

  test('malformed JSON, wrong types, unknown or missing fields are 400 with a param', async () => {
    assertError(await post('/v1/payment_intents', '{"amount": 10,', { 'content-type': 'application/json' }), 400, 'invalid_json');
    assertError(await post('/v1/payment_intents', '', { 'content-type': 'application/json' }), 400, 'invalid_json');
    assert.equal(assertError(await post('/v1/payment_intents', intent({ amount: '1000' })), 400, 'parameter_invalid').param, 'amount');
    assert.equal(assertError(await post('/v1/payment_intents', intent({ amount: 10.5 })), 400, 'parameter_invalid').param, 'amount');
    assert.equal(assertError(await post('/v1/payment_intents', intent({ amount: 0 })), 400, 'parameter_invalid').param, 'amount');
    assert.equal(assertError(await post('/v1/payment_intents', intent({ amount: 2 ** 53 })), 400, 'parameter_invalid').param, 'amount');
    assert.equal(assertError(await post('/v1/payment_intents', intent({ colour: 'red' })), 400, 'parameter_invalid').param, 'colour');
    assert.equal(assertError(await post('/v1/payment_intents', { amount: 5, currency: 'usd' }), 400, 'parameter_invalid').param, 'store');
    assert.equal(assertError(await post('/v1/payment_intents', intent({ metadata: { a: 1 } })), 400, 'parameter_invalid').param, 'metadata.a');
    assertError(await post('/v1/payment_intents', [1, 2]), 400, 'parameter_invalid');
    assertError(await get('/v1/payment_intents?limit=1000'), 400, 'parameter_invalid');
    assertError(await get('/v1/payment_intents?limit=abc'), 400, 'parameter_invalid');
  });

  test('oversize bodies are 413, other media types 415, unknown routes 404', async () => {
    assertError(await post('/v1/payment_intents', intent({ description: 'x'.repeat(3000) })), 413, 'body_too_large');
    assertError(await post('/v1/payment_intents', 'amount=5', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    assertError(await get('/v1/nothing_here'), 404, 'route_not_found');
    assertError(await p.app.inject({ method: 'DELETE', url: '/v1/payment_intents' }), 404, 'route_not_found');
  });

  test('API keys: missing, malformed, unknown, revoked and under-scoped keys are refused precisely', async () => {
    assertError(await p.app.inject({ method: 'GET', url: '/v1/payment_intents' }), 401, 'api_key_missing');
    assertError(await p.app.inject({ method: 'POST', url: '/v1/payment_intents', payload: '{oops' , headers: { 'content-type': 'application/json' } }), 401, 'api_key_missing');
    assertError(await get('/v1/payment_intents', { authorization: 'Basic abc' }), 401, 'api_key_invalid');
    assertError(await get('/v1/payment_intents', { authorization: `Bearer sk_test_${'x'.repeat(32)}` }), 401, 'api_key_invalid');
    const ro = await post('/v1/api_keys', { name: 'reader', scopes: ['payments:read'] });
    assert.equal(ro.statusCode, 200);
    const reader = { authorization: `Bearer ${ro.json().secret}` };
    assert.equal((await get('/v1/payment_intents', reader)).statusCode, 200);
    assertError(await post('/v1/payment_intents', intent(), reader), 403, 'api_key_scope_insufficient');
    assertError(await post('/v1/api_keys', { mode: 'live' }), 403, 'api_key_mode_mismatch');
    assert.equal((await post(`/v1/api_keys/${ro.json().id}/revoke`, {})).json().revoked, true);
    assertError(await get('/v1/payment_intents', reader), 401, 'api_key_revoked');
    const keys = (await get('/v1/api_keys')).json();
    assert.ok(keys.data.every((k: Record<string, unknown>) => k.secret === undefined));
  });

  test("another merchant's ids are not found, never shown", async () => {
    const mine = (await post('/v1/payment_intents', intent())).json();
    const other = await p.services.merchants.createMerchant({ name: 'Other' });
    const otherStore = await p.services.merchants.createStore(other.id, { name: 'Theirs' });
    const { secret } = await p.services.merchants.createApiKey(other.id);
    const them = { authorization: `Bearer ${secret}` };
    assertError(await get(`/v1/payment_intents/${mine.id}`, them), 404, 'payment_intent_not_found');
    assertError(await post(`/v1/payment_intents/${mine.id}/cancel`, {}, them), 404, 'payment_intent_not_found');
    assertError(await get(`/v1/stores/${p.storeId}`, them), 404, 'store_not_found');
    assertError(await post('/v1/payment_intents', intent({ store: otherStore.id })), 404, 'store_not_found');
    assertError(await post('/v1/refunds', { payment_intent: mine.id }, them), 404, 'payment_intent_not_found');
    assert.equal((await get('/v1/payment_intents', them)).json().data.length, 0);
  });

  test('test and live apart: a key reaches only its own mode, and test money has accounts of its own', async () => {
    const live = p.liveAuth;
    const { payments, ledger } = p.services;
    // A live payment, as a terminal makes it; and a test one by the test key.
    await payments.topUp('shopper_mode', 10_000, 'usd', `mode-${dialect}`);
    const lpi = (await post('/v1/payment_intents', intent({ amount: 1000 }), live)).json();
    assert.equal(lpi.livemode, true);
    await payments.confirmWithShopper(lpi.id, 'shopper_mode', { merchantId: p.merchantId, mode: 'live' });
    const waiting = (await post('/v1/payment_intents', intent({ amount: 300 }), live)).json();
    const liveRefund = (await post('/v1/refunds', { payment_intent: lpi.id, amount: 100 }, live)).json();
    assert.equal(liveRefund.livemode, true);

    // The test key acts on none of it: not found, as another merchant's; nothing moves.
    assertError(await get(`/v1/payment_intents/${lpi.id}`), 404, 'payment_intent_not_found');
    assertError(await get(`/v1/payment_intents/${lpi.id}/events`), 404, 'payment_intent_not_found');
    assertError(await post(`/v1/payment_intents/${waiting.id}/cancel`, {}), 404, 'payment_intent_not_found');
    await post('/v1/test_helpers/top_ups', { shopper: 'test_mode', amount: 5000, currency: 'usd' });
    assertError(await post(`/v1/payment_intents/${waiting.id}/confirm`, { shopper: 'test_mode' }), 404, 'payment_intent_not_found');
    assertError(await post('/v1/refunds', { payment_intent: lpi.id, amount: 1 }), 404, 'payment_intent_not_found');
    assertError(await get(`/v1/refunds/${liveRefund.id}`), 404, 'refund_not_found');
    const testIds = (await get('/v1/payment_intents?limit=100')).json().data.map((x: { id: string }) => x.id);
    assert.ok(!testIds.includes(lpi.id) && !testIds.includes(waiting.id));
    assert.ok(!(await get('/v1/refunds?limit=100')).json().data.some((r: { id: string }) => r.id === liveRefund.id));
    assert.ok(!(await get('/v1/events?limit=100')).json().data.some((e: { data: { object: { id: string } } }) => e.data.object.id === lpi.id));
    assert.equal((await get(`/v1/payment_intents/${waiting.id}`, live)).json().status, 'requires_face');
    assert.equal((await get(`/v1/payment_intents/${lpi.id}`, live)).json().amount_refunded, 100);

    // A test payment credits the merchant's test account; the live account does not move.
    const liveAccount = merchantAccountId(p.merchantId, 'usd');
    const before = await ledger.getAccount(liveAccount);
    const tpi = (await post('/v1/payment_intents', intent({ amount: 750, confirm: true, shopper: 'test_mode' }))).json();
    assert.equal(tpi.status, 'succeeded');
    assert.equal(tpi.livemode, false);
    assert.equal((await post('/v1/refunds', { payment_intent: tpi.id, amount: 200 })).statusCode, 200);
    assert.deepEqual(await ledger.getAccount(liveAccount), before);
    const testAccount = await ledger.getAccount(merchantAccountId(p.merchantId, 'usd', 'test'));
    assert.equal(testAccount.creditsPosted - testAccount.debitsPosted, 750 - 18 - 200 + 4); // the fee (2.5%) back pro rata, rounded down
    // And the live key reaches none of the test objects.
    assertError(await get(`/v1/payment_intents/${tpi.id}`, live), 404, 'payment_intent_not_found');
    assertError(await post('/v1/refunds', { payment_intent: tpi.id }, live), 404, 'payment_intent_not_found');
    assert.ok(!(await get('/v1/payment_intents?limit=100', live)).json().data.some((x: { id: string }) => x.id === tpi.id));
    // Real shoppers never pay test intents, test shoppers never live ones.
    const t2 = (await post('/v1/payment_intents', intent({ amount: 100 }))).json();
    await assert.rejects(payments.confirmWithShopper(t2.id, 'shopper_mode', { merchantId: p.merchantId, mode: 'test' }), { code: 'test_shopper_required' });
    await assert.rejects(payments.confirmWithShopper(waiting.id, 'test_mode', { merchantId: p.merchantId }), { code: 'test_shopper_in_live_mode' });
    assert.deepEqual((await payments.audit()).problems, []);
  });

  test("a test shopper is one merchant's own: another merchant's test key neither sees nor spends its wallet", async () => {
    const other = await p.services.merchants.createMerchant({ name: 'Other tests' });
    const otherStore = await p.services.merchants.createStore(other.id, { name: 'Theirs' });
    const them = { authorization: `Bearer ${(await p.services.merchants.createApiKey(other.id, { mode: 'test' })).secret}` };
    assert.equal((await post('/v1/test_helpers/top_ups', { shopper: 'test_shared', amount: 4000, currency: 'usd' }, them)).json().balance, 4000);
    assert.equal((await get('/v1/test_helpers/wallets/test_shared?currency=usd')).json().balance, 0);
    const mine = (await post('/v1/payment_intents', intent({ amount: 1000 }))).json();
    assertError(await post(`/v1/payment_intents/${mine.id}/confirm`, { shopper: 'test_shared' }), 402, 'insufficient_funds');
    assert.equal((await get('/v1/test_helpers/wallets/test_shared?currency=usd', them)).json().balance, 4000);
    const theirs = (await post('/v1/payment_intents', { amount: 1000, currency: 'usd', store: otherStore.id, confirm: true, shopper: 'test_shared' }, them)).json();
    assert.equal(theirs.status, 'succeeded');
    assert.equal((await get('/v1/test_helpers/wallets/test_shared?currency=usd', them)).json().balance, 3000);
  });

  test('pay, refund in part and in full, never more than captured; declines are 402', async () => {
    assert.equal((await post('/v1/test_helpers/top_ups', { shopper: 'test_alice', amount: 5000, currency: 'usd' })).statusCode, 200);
    const pi = (await post('/v1/payment_intents', intent({ amount: 2000 }))).json();
    const paid = await post(`/v1/payment_intents/${pi.id}/confirm`, { shopper: 'test_alice' });
    assert.equal(paid.statusCode, 200);
    assert.equal(paid.json().status, 'succeeded');
    assert.equal(paid.json().platform_fee_amount, 50);
    assert.equal((await get('/v1/test_helpers/wallets/test_alice?currency=usd')).json().balance, 3000);
    assertError(await post(`/v1/payment_intents/${pi.id}/cancel`, {}), 409, 'payment_intent_unexpected_state');
    const r1 = await post('/v1/refunds', { payment_intent: pi.id, amount: 500 });
    assert.equal(r1.json().platform_fee_refunded, 12);
    assert.equal(assertError(await post('/v1/refunds', { payment_intent: pi.id, amount: 1501 }), 409, 'refund_exceeds_captured').details?.toString(), '[object Object]');
    const r2 = await post('/v1/refunds', { payment_intent: pi.id });
    assert.equal(r2.json().amount, 1500);
    assert.equal(r2.json().platform_fee_refunded, 38);
    assertError(await post('/v1/refunds', { payment_intent: pi.id, amount: 1 }), 409, 'payment_intent_fully_refunded');
    assert.equal((await get(`/v1/payment_intents/${pi.id}`)).json().amount_refunded, 2000);
    assert.equal((await get('/v1/test_helpers/wallets/test_alice?currency=usd')).json().balance, 5000);

    const big = (await post('/v1/payment_intents', intent({ amount: 9000 }))).json();
    const declined = assertError(await post(`/v1/payment_intents/${big.id}/confirm`, { shopper: 'test_alice' }), 402, 'insufficient_funds');
    assert.equal((declined.details as Record<string, unknown>).payment_intent, big.id);
    assert.equal((await get(`/v1/payment_intents/${big.id}`)).json().status, 'failed');
    assertError(await post(`/v1/payment_intents/${big.id}/confirm`, { shopper: 'test_alice' }), 409, 'payment_intent_unexpected_state');
    assertError(await post('/v1/payment_intents', intent({ confirm: true, shopper: 'real_shopper' })), 400, 'parameter_invalid');
    const events = (await get(`/v1/payment_intents/${pi.id}/events`)).json();
    assert.deepEqual(
      events.data.map((e: { type: string }) => e.type).reverse(),
      ['payment_intent.created', 'payment_intent.succeeded', 'payment_intent.refunded', 'payment_intent.refunded'],
    );
    const audit = await p.services.payments.audit();
    assert.deepEqual(audit.problems, []);
  });

  test('Idempotency-Key: same body replays, another body is 409, a bad key is 400', async () => {
    const h = { 'idempotency-key': 'order-77' };
    const a = await post('/v1/payment_intents', intent({ order_reference: '77' }), h);
    const b = await post('/v1/payment_intents', intent({ order_reference: '77' }), h);
    assert.equal(a.statusCode, 200);
    assert.equal(b.body, a.body);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assertError(await post('/v1/payment_intents', intent({ order_reference: '78' }), h), 409, 'idempotency_key_reused');
    assertError(await post('/v1/payment_intents', intent(), { 'idempotency-key': 'x'.repeat(300) }), 400, 'idempotency_key_invalid');
  });

  test("Idempotency-Key: another key of the same merchant never gets the first key's stored response", async () => {
    const h = { 'idempotency-key': 'new-key-1' };
    const owner = await post('/v1/api_keys', { name: 'full' }, h);
    assert.equal(owner.statusCode, 200);
    const keysOnly = (await post('/v1/api_keys', { name: 'keys', scopes: ['keys:write'] })).json().secret as string;
    const replayed = await post('/v1/api_keys', { name: 'full' }, { ...h, authorization: `Bearer ${keysOnly}` });
    assert.equal(replayed.statusCode, 200);
    assert.equal(replayed.headers['idempotent-replayed'], undefined);
    assert.notEqual(replayed.json().secret, owner.json().secret);
    assert.notEqual(replayed.json().id, owner.json().id);
    // The owner's own retry still replays.
    assert.equal((await post('/v1/api_keys', { name: 'full' }, h)).body, owner.body);
  });

  test('200 concurrent identical POSTs with one Idempotency-Key make exactly one payment', async () => {
    await post('/v1/test_helpers/top_ups', { shopper: 'test_bob', amount: 100_000, currency: 'usd' });
    const before = await p.services.payments.testWalletBalance(p.merchantId, 'test_bob', 'usd');
    const body = intent({ amount: 700, confirm: true, shopper: 'test_bob' });
    const res = await Promise.all(Array.from({ length: 200 }, () => post('/v1/payment_intents', body, { 'idempotency-key': 'burst-1' })));
    assert.ok(res.every((r) => r.statusCode === 200), JSON.stringify(res.find((r) => r.statusCode !== 200)?.json()));
    const ids = new Set(res.map((r) => r.json().id));
    assert.equal(ids.size, 1);
    assert.ok(res.every((r) => r.json().status === 'succeeded'));
    assert.equal(await p.services.payments.testWalletBalance(p.merchantId, 'test_bob', 'usd'), before - 700);
    const all = (await get('/v1/payment_intents?limit=100')).json().data.filter((x: { amount: number }) => x.amount === 700);
    assert.equal(all.length, 1);
  });

  test('webhooks: signed, retried with back-off, logged and replayable', async () => {
    const ep = await post('/v1/webhook_endpoints', { url: 'http://127.0.0.1:9/hook', enabled_events: ['payment_intent.created'] });
    assert.equal(ep.statusCode, 200);
    const secret = ep.json().secret as string;
    assert.match(secret, /^whsec_/);
    await p.services.webhooks.tick(); // earlier events were written before the endpoint existed: nothing for it
    sent.length = 0;
    const pi = (await post('/v1/payment_intents', intent({ amount: 123 }))).json();
    const t1 = await p.services.webhooks.tick();
    assert.equal(t1.attempted, 1);
    const deliveries = (await get(`/v1/webhook_deliveries?endpoint=${ep.json().id}`)).json();
    assert.equal(deliveries.data.length, 1);
    const d = deliveries.data[0];
    assert.equal(d.status, 'pending');
    assert.equal(d.last_status_code, 500);
    assert.ok(d.next_attempt_at > Date.now() + 20_000, 'the retry waits');
    assert.equal((await p.services.webhooks.tick()).attempted, 0);
    const replay = await post(`/v1/webhook_deliveries/${d.id}/retry`, {});
    assert.equal(replay.statusCode, 200);
    await p.services.webhooks.tick();
    const detail = (await get(`/v1/webhook_deliveries/${d.id}`)).json();
    assert.equal(detail.status, 'succeeded');
    assert.equal(detail.attempt_log.length, 2);
    const last = sent[sent.length - 1]!;
    assert.equal(JSON.parse(last.body).data.object.id, pi.id);
    assert.ok(verifySignature(secret, last.headers['facepay-signature']!, last.body, Math.floor(Date.now() / 1000)));
    assert.ok(!verifySignature(secret, last.headers['facepay-signature']!, last.body.replace('123', '124'), Math.floor(Date.now() / 1000)));
    assertError(await post('/v1/webhook_endpoints', { url: 'ftp://x' }), 400, 'url_invalid');
  });

  test('OpenAPI document, reference page, and a request id on every log line', async () => {
    const doc = (await p.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.equal(doc.openapi, '3.0.3');
    assert.ok(doc.paths['/v1/payment_intents'].post.requestBody);
    assert.ok(doc.paths['/v1/refunds/{id}'].get);
    const html = await p.app.inject({ method: 'GET', url: '/docs' });
    assert.match(html.headers['content-type'] as string, /text\/html/);
    assert.match(html.body, /\/v1\/payment_intents/);
    const withId = await get('/v1/payment_intents', { 'x-request-id': 'trace-abc' });
    assert.equal(withId.headers['request-id'], 'trace-abc');
    const requestLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    assert.ok(requestLines.length > 20);
    for (const l of lines.map((x) => JSON.parse(x) as Record<string, unknown>)) {
      if (l.worker === undefined) assert.equal(typeof l.request_id, 'string', JSON.stringify(l));
    }
    assert.ok(requestLines.some((l) => l.request_id === 'trace-abc'));
    for (const app of ['/terminal/', '/console/', '/portal/']) assert.equal((await p.app.inject({ method: 'GET', url: app })).statusCode, 200);
  });
});
