/**
 * The card rail over HTTP with a fake acquirer (no real one can be reached from here): a shopper's
 * pending top-up is started at the acquirer, and only its signed webhook, sent as raw bytes, makes
 * the wallet grow; a replay, a forgery and an unreadable body are refused with 4xx.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signCardWebhook, type CardAcquirer, type CardEvent } from '../../funding/index.ts';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

const SECRET = 'whsec_card_test_0123456789';

const fakeAcquirer: CardAcquirer = {
  rail: 'card',
  async startPayment(i) {
    return { paymentRef: `pay_${i.id}`, redirectUrl: `https://acquirer.example/pay/${i.id}` };
  },
  parseEvent(raw) {
    const e = JSON.parse(raw.toString('utf8')) as { id: string; type: CardEvent['type']; data: { order: string; payment: string; amount: number; currency: string } };
    return { id: e.id, type: e.type, intentId: e.data.order, paymentRef: e.data.payment, amount: e.data.amount, currency: e.data.currency };
  },
};

describeEachDialect('card rail over HTTP (fake acquirer)', (dialect) => {
  let p: TestPlatform;
  let cookie = '';
  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_CARD_WEBHOOK_SECRET: SECRET }, overrides: { cardAcquirer: fakeAcquirer } });
  });
  after(async () => {
    await p.dispose();
  });

  test('a top-up paid by card credits once when the signed webhook arrives', async () => {
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/shopper/signup', payload: { email: 'kai@example.com', password: 'a long passphrase', name: 'Kai Sato' } })).statusCode, 202);
    const su = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email: 'kai@example.com', password: 'a long passphrase' } });
    cookie = String(su.headers['set-cookie']).split(';')[0]!;
    const t = (await p.app.inject({ method: 'POST', url: '/v1/shopper/topups', headers: { cookie, 'idempotency-key': 'card-topup-0001' }, payload: { amount: 3_300, currency: 'eur' } })).json();
    assert.equal(t.top_up.status, 'pending');
    const start = await p.app.inject({ method: 'POST', url: `/v1/shopper/topups/${t.top_up.id}/card`, headers: { cookie, 'idempotency-key': 'card-start-0001' } });
    assert.equal(start.json().redirect_url, `https://acquirer.example/pay/${t.top_up.id}`);
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/shopper/topups/fi_nothing/card', headers: { cookie } })).statusCode, 404);

    const webhook = (payload: string, signature?: string) =>
      p.app.inject({ method: 'POST', url: '/v1/funding/card/webhook', headers: { 'content-type': 'application/json', ...(signature ? { 'facepay-card-signature': signature } : {}) }, payload });
    // Spacing a JSON parser would drop: the signature is over these exact bytes.
    const body = `{ "id": "evt_http_1", "type": "payment.captured", "data": { "order": "${t.top_up.id}", "payment": "pay_${t.top_up.id}", "amount": 3300, "currency": "eur" } }`;
    const now = Math.floor(p.clock.now().getTime() / 1000);
    assert.equal((await webhook(body)).statusCode, 401);
    assert.equal((await webhook(body, signCardWebhook('not the secret', Buffer.from(body), now))).statusCode, 401);
    assert.equal((await webhook(body, signCardWebhook(SECRET, Buffer.from(JSON.stringify(JSON.parse(body))), now))).statusCode, 401, 'a re-serialised body is not what was signed');
    const me = async () => (await p.app.inject({ method: 'GET', url: '/v1/shopper/me', headers: { cookie } })).json().wallet.balance as number;
    assert.equal(await me(), 0);
    const sig = signCardWebhook(SECRET, Buffer.from(body), now);
    const ok = await webhook(body, sig);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().top_up.status, 'confirmed');
    assert.equal(await me(), 3_300);
    const replay = await webhook(body, sig);
    assert.deepEqual([replay.statusCode, replay.json().error.code], [409, 'webhook_replayed']);
    const garbage = 'not json at all';
    const bad = await webhook(garbage, signCardWebhook(SECRET, Buffer.from(garbage), now));
    assert.deepEqual([bad.statusCode, bad.json().error.code], [400, 'card_event_invalid']);
    assert.equal(await me(), 3_300);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
    assert.deepEqual((await p.services.fundingService!.audit()).problems, []);
  });
});
