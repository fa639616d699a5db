/**
 * "This wasn't me" on the whole platform, over the API, on both databases: the shopper disputes a
 * face payment (face pay frozen at once, an inbox notice, one dispute however many taps), the
 * merchant receives a signed `dispute.created`, sees it in its own mode only, and refunds from it
 * through the payments module (balanced transfers, a clean audit, once).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AttemptRepo } from '../facepay/index.ts';
import { verifySignature } from '../merchants/index.ts';
import { merchantAccountId } from '../payments/index.ts';
import { ShopperRepo } from '../shoppers/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

describeEachDialect('disputes: "This wasn\'t me"', (dialect) => {
  let p: TestPlatform;
  const sent: { body: string; headers: Record<string, string> }[] = [];
  let secret = '';
  let ana = { id: '', cookie: '' };
  let bea = { id: '', cookie: '' };
  let other: { merchantId: string; auth: Record<string, string> };
  let attemptN = 0;

  before(async () => {
    p = await testPlatform(dialect, {
      env: { FACEPAY_PLATFORM_FEE_BPS: '250' },
      overrides: {
        webhookPoster: async (_url, body, headers) => {
          sent.push({ body, headers });
          return { status: 200 };
        },
      },
    });
    const ep = await p.app.inject({ method: 'POST', url: '/v1/webhook_endpoints', payload: { url: 'http://127.0.0.1:9/hook', enabled_events: ['dispute.created', 'dispute.updated'] }, headers: p.liveAuth });
    secret = ep.json().secret;
    ana = await signUp('ana@example.com', 'Ana Lima');
    bea = await signUp('bea@example.com', 'Bea Costa');
    const m = await p.services.merchants.createMerchant({ name: 'Other Shop' });
    const key = await p.services.merchants.createApiKey(m.id, { mode: 'live' });
    other = { merchantId: m.id, auth: { authorization: `Bearer ${key.secret}` } };
  });
  after(async () => {
    await p.dispose();
  });

  async function signUp(email: string, name: string): Promise<{ id: string; cookie: string }> {
    // Sign-up answers alike for new and known e-mails and signs nobody in: the shopper then logs in.
    const up = await p.app.inject({ method: 'POST', url: '/v1/shopper/signup', payload: { email, password: 'a long passphrase', name } });
    assert.equal(up.statusCode, 202, up.body);
    const res = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email, password: 'a long passphrase' } });
    assert.equal(res.statusCode, 200, res.body);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const id = (await p.app.inject({ method: 'GET', url: '/v1/shopper/me', headers: { cookie } })).json().id as string;
    // The face engine is off in these tests; an enrolled face with face pay on is set in storage as enrolment leaves it.
    await new ShopperRepo(p.db).update(id, { face_enrolled_at: Date.now(), face_pay_enabled: 1 });
    await p.services.payments.topUp(id, 100_000, 'eur', `${id}:seed`);
    return { id, cookie };
  }

  const portal = (who: { cookie: string }, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    p.app.inject({ method, url, headers: { cookie: who.cookie }, ...(payload === undefined ? {} : { payload: payload as string }) });
  const api = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = p.liveAuth, payload?: unknown) =>
    p.app.inject({ method, url, headers, ...(payload === undefined ? (method === 'POST' ? { payload: {} } : {}) : { payload: payload as string }) });

  /** A live payment by the shopper at the terminal, by face or pay code, with its inbox receipt (what checkout leaves). */
  async function livePayment(shopperId: string, amount: number, method: 'face' | 'pay_code'): Promise<string> {
    const created = await api('POST', '/v1/payment_intents', p.liveAuth, { amount, currency: 'eur', store: p.storeId });
    const pi = await p.services.payments.confirmWithShopper(created.json().id, shopperId, { merchantId: p.merchantId, mode: 'live' });
    const t = Date.now();
    await new AttemptRepo(p.db).insert({
      id: `fpa_test_${dialect}_${attemptN++}`, intent_id: pi.id, merchant_id: p.merchantId, store_id: p.storeId, terminal_id: 'term_test', method,
      challenge_id: null, challenge_kind: null, challenge_issued_at: null, challenge_expires_at: null, challenge_used_at: null, expires_at: t + 60_000,
      state: 'paid', outcome: 'succeeded', shopper_id: shopperId, digits_tries_left: 0, coupon_id: null, payment_id: `tpay_${attemptN}`, created_at: t, updated_at: t,
    });
    await p.services.marketing.addReceipt({ shopperId, merchantId: p.merchantId, merchantName: 'Test Shop', paymentId: pi.id, amount, currency: 'EUR', at: t });
    return pi.id;
  }

  const posted = async (account: string): Promise<number> => {
    const a = await p.services.ledger.getAccount(account);
    return a.creditsPosted - a.debitsPosted;
  };

  let faceDispute = '';
  let facePayment = '';

  test('the receipt offers it; tapping twice at once opens one dispute, freezes face pay and says so in the inbox', async () => {
    facePayment = await livePayment(ana.id, 1250, 'face');
    const inbox = (await portal(ana, 'GET', '/v1/shopper/inbox')).json();
    const receipt = inbox.data.find((i: { payment?: { payment_intent: string } }) => i.payment?.payment_intent === facePayment);
    assert.equal(receipt.payment.method, 'face');
    assert.equal(receipt.payment.dispute, null);

    const taps = await Promise.all([1, 2, 3].map(() => portal(ana, 'POST', '/v1/shopper/disputes', { payment_intent: facePayment })));
    assert.deepEqual(taps.map((r) => r.statusCode).sort(), [200, 200, 201], taps.map((r) => r.body).join('\n'));
    const ids = new Set(taps.map((r) => r.json().id as string));
    assert.equal(ids.size, 1, 'one dispute for all the taps');
    faceDispute = [...ids][0]!;
    assert.equal(taps[0]!.json().face_pay_frozen, true);
    assert.equal(taps[0]!.json().status, 'open');

    const me = (await portal(ana, 'GET', '/v1/shopper/me')).json();
    assert.equal(me.face_pay_enabled, false, 'face pay is frozen at once');
    const after = (await portal(ana, 'GET', '/v1/shopper/inbox')).json();
    const notices = after.data.filter((i: { title: string }) => i.title === 'Face pay is frozen');
    assert.equal(notices.length, 1, 'told once');
    assert.match(notices[0].body, /switch it on again in Face pay/);
    assert.deepEqual(after.data.find((i: { payment?: { payment_intent: string } }) => i.payment?.payment_intent === facePayment).payment.dispute, { id: faceDispute, status: 'open' });
    const mine = (await portal(ana, 'GET', '/v1/shopper/disputes')).json();
    assert.deepEqual(mine.data.map((d: { id: string }) => d.id), [faceDispute]);
  });

  test('the merchant receives dispute.created, signed, without the shopper', async () => {
    await p.services.webhooks.tick();
    const created = sent.filter((s) => JSON.parse(s.body).type === 'dispute.created');
    assert.equal(created.length, 1);
    const { body, headers } = created[0]!;
    assert.ok(verifySignature(secret, headers['facepay-signature']!, body, Math.floor(Date.now() / 1000)), 'signed with the endpoint secret');
    assert.ok(!verifySignature(secret, headers['facepay-signature']!, body.replace('1250', '1251'), Math.floor(Date.now() / 1000)));
    const object = JSON.parse(body).data.object;
    assert.equal(object.id, faceDispute);
    assert.equal(object.payment_intent, facePayment);
    assert.equal(object.amount, 1250);
    assert.equal(object.livemode, true);
    assert.ok(!body.includes(ana.id), 'the shopper id never reaches the merchant');
  });

  test('the merchant sees it in its own mode only; other merchants and other shoppers get 404', async () => {
    const list = (await api('GET', '/v1/disputes')).json();
    assert.deepEqual(list.data.map((d: { id: string }) => d.id), [faceDispute]);
    const one = (await api('GET', `/v1/disputes/${faceDispute}`)).json();
    assert.deepEqual(one.events.map((e: { type: string }) => e.type), ['opened', 'face_pay_frozen']);
    assert.equal(one.payment_method, 'face');
    assert.ok(!JSON.stringify(one).includes(ana.id));

    assert.deepEqual((await api('GET', '/v1/disputes', p.auth)).json().data, [], 'a test key sees no live dispute');
    const testGet = await api('GET', `/v1/disputes/${faceDispute}`, p.auth);
    assert.equal(testGet.statusCode, 404);
    assert.equal(testGet.json().error.code, 'dispute_not_found');
    assert.equal((await api('POST', `/v1/disputes/${faceDispute}/refund`, p.auth)).statusCode, 404);

    assert.deepEqual((await api('GET', '/v1/disputes', other.auth)).json().data, []);
    for (const [method, url] of [['GET', `/v1/disputes/${faceDispute}`], ['POST', `/v1/disputes/${faceDispute}/refund`], ['POST', `/v1/disputes/${faceDispute}/close`]] as const) {
      const res = await api(method, url, other.auth);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'dispute_not_found');
    }
    const stolen = await portal(bea, 'POST', '/v1/shopper/disputes', { payment_intent: facePayment });
    assert.equal(stolen.statusCode, 404);
    assert.equal(stolen.json().error.code, 'payment_intent_not_found');
    assert.equal((await portal(bea, 'GET', '/v1/shopper/me')).json().face_pay_enabled, true, "another shopper's tap freezes nothing");
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/shopper/disputes', payload: { payment_intent: facePayment } })).statusCode, 401);
    assert.equal((await portal(ana, 'POST', '/v1/shopper/disputes', { payment_intent: 'pi_nope' })).statusCode, 404);
    assert.equal((await portal(ana, 'POST', '/v1/shopper/disputes', {})).statusCode, 400);
  });

  test('refunding from the dispute moves the money back once, by balanced transfers, and says dispute.updated', async () => {
    const wallet = await p.services.payments.walletBalance(ana.id, 'eur');
    const merchantAccount = merchantAccountId(p.merchantId, 'eur', 'live');
    const merchantBefore = (await posted(merchantAccount));
    const [a, b] = await Promise.all([api('POST', `/v1/disputes/${faceDispute}/refund`), api('POST', `/v1/disputes/${faceDispute}/refund`)]);
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(b.statusCode, 200, b.body);
    assert.equal(a.json().status, 'refunded');
    assert.equal(a.json().refund, b.json().refund, 'one refund for both requests');
    const again = await api('POST', `/v1/disputes/${faceDispute}/refund`);
    assert.equal(again.json().refund, a.json().refund);
    assert.equal(await p.services.payments.walletBalance(ana.id, 'eur'), wallet + 1250, 'the whole payment is back');
    const refunds = (await api('GET', `/v1/refunds?payment_intent=${facePayment}`)).json().data;
    assert.equal(refunds.length, 1);
    assert.equal(refunds[0].amount, 1250);
    // 2.5 % of 1250 is 31 (rounded down): the platform gives its whole fee back on a full refund.
    assert.equal(refunds[0].platform_fee_refunded, 31);
    assert.equal((await posted(merchantAccount)), merchantBefore - 1250 + 31);
    const audit = await p.services.payments.audit();
    assert.deepEqual(audit.problems, []);
    assert.ok(audit.ok);
    await p.services.webhooks.tick();
    const updated = sent.filter((s) => JSON.parse(s.body).type === 'dispute.updated').map((s) => JSON.parse(s.body).data.object);
    assert.equal(updated.length, 1);
    assert.equal(updated[0].status, 'refunded');
    assert.equal(updated[0].refund, a.json().refund);
    // Tapping again on a refunded payment answers the same dispute.
    const tap = await portal(ana, 'POST', '/v1/shopper/disputes', { payment_intent: facePayment });
    assert.equal(tap.statusCode, 200);
    assert.equal(tap.json().id, faceDispute);
    assert.equal(tap.json().status, 'refunded');
    // She unfroze face pay; a further tap on that face payment freezes it again and says why.
    assert.equal((await portal(ana, 'PATCH', '/v1/shopper/me', { face_pay_enabled: true })).json().face_pay_enabled, true);
    await portal(ana, 'POST', '/v1/shopper/disputes', { payment_intent: facePayment });
    assert.equal((await portal(ana, 'GET', '/v1/shopper/me')).json().face_pay_enabled, false);
    const refrozen = (await portal(ana, 'GET', '/v1/shopper/inbox')).json().data.filter((i: { body: string }) => i.body.startsWith('Face pay is off again'));
    assert.equal(refrozen.length, 1);
  });

  test('a pay-code payment is disputed without freezing face pay; a closed dispute is not refunded', async () => {
    assert.equal((await portal(bea, 'GET', '/v1/shopper/me')).json().face_pay_enabled, true);
    const paid = await livePayment(bea.id, 700, 'pay_code');
    const res = await portal(bea, 'POST', '/v1/shopper/disputes', { payment_intent: paid });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().payment_method, 'pay_code');
    assert.equal(res.json().face_pay_frozen, false);
    assert.equal((await portal(bea, 'GET', '/v1/shopper/me')).json().face_pay_enabled, true, 'only face payments freeze face pay');
    const inbox = (await portal(bea, 'GET', '/v1/shopper/inbox')).json();
    assert.ok(inbox.data.some((i: { title: string }) => i.title === 'We told the shop'));

    const closed = await api('POST', `/v1/disputes/${res.json().id}/close`, p.liveAuth, { note: 'the CCTV shows you' });
    assert.equal(closed.json().status, 'closed');
    const refund = await api('POST', `/v1/disputes/${res.json().id}/refund`);
    assert.equal(refund.statusCode, 409);
    assert.equal(refund.json().error.code, 'dispute_closed');
    assert.equal(await p.services.payments.walletBalance(bea.id, 'eur'), 100_000 - 700, 'nothing moved');
    const told = (await portal(bea, 'GET', '/v1/shopper/inbox')).json().data.find((i: { title: string }) => i.title === 'Your dispute was closed');
    assert.match(told.body, /the CCTV shows you/);
    // Closed, the payment may be disputed anew.
    const anew = await portal(bea, 'POST', '/v1/shopper/disputes', { payment_intent: paid });
    assert.equal(anew.statusCode, 201);
    assert.notEqual(anew.json().id, res.json().id);
    assert.equal((await api('GET', '/v1/disputes?status=open')).json().data.length, 1);
    assert.equal((await api('GET', '/v1/disputes?status=bogus')).statusCode, 400);
    const ofPayment = (await api('GET', `/v1/disputes?payment_intent=${paid}`)).json().data;
    assert.deepEqual(ofPayment.map((d: { id: string; status: string }) => [d.id, d.status]), [[anew.json().id, 'open'], [res.json().id, 'closed']]);
  });

  test("a partial refund from a dispute, and a cashier's limit holds on it", async () => {
    const paid = await livePayment(ana.id, 2000, 'face');
    const d = (await portal(ana, 'POST', '/v1/shopper/disputes', { payment_intent: paid })).json();
    await p.services.staff!.create(p.merchantId, { email: 'cashier@example.com', name: 'Cal', password: 'a long passphrase', role: 'cashier', refundLimit: 400 });
    const login = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email: 'cashier@example.com', password: 'a long passphrase' } });
    const console = { cookie: String(login.headers['set-cookie']).split(';')[0]!, 'x-facepay-console': '1' };
    assert.equal((await api('GET', '/v1/disputes', console)).json().data[0].id, d.id, 'the console lists it');
    const cashier = await api('POST', `/v1/disputes/${d.id}/refund`, console, {});
    assert.equal(cashier.statusCode, 403);
    assert.equal(cashier.json().error.code, 'refund_above_staff_limit');
    assert.equal((await api('GET', `/v1/disputes/${d.id}`)).json().status, 'open');
    const tooMuch = await api('POST', `/v1/disputes/${d.id}/refund`, p.liveAuth, { amount: 2001 });
    assert.equal(tooMuch.statusCode, 409);
    assert.equal(tooMuch.json().error.code, 'refund_exceeds_captured');
    assert.equal((await api('GET', `/v1/disputes/${d.id}`)).json().status, 'open');
    const part = await api('POST', `/v1/disputes/${d.id}/refund`, p.liveAuth, { amount: 500 });
    assert.equal(part.json().status, 'refunded');
    assert.equal((await api('GET', `/v1/payment_intents/${paid}`)).json().amount_refunded, 500);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
  });

  test('a test key opens test disputes on test payments, which live keys never see', async () => {
    await api('POST', '/v1/test_helpers/top_ups', p.auth, { shopper: 'test_zoe', amount: 5000, currency: 'eur' });
    const pi = (await api('POST', '/v1/payment_intents', p.auth, { amount: 300, currency: 'eur', store: p.storeId, confirm: true, shopper: 'test_zoe' })).json();
    const first = await api('POST', '/v1/test_helpers/disputes', p.auth, { payment_intent: pi.id });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().livemode, false);
    assert.equal((await api('POST', '/v1/test_helpers/disputes', p.auth, { payment_intent: pi.id })).json().id, first.json().id);
    assert.equal((await api('POST', '/v1/test_helpers/disputes', p.liveAuth, { payment_intent: pi.id })).statusCode, 403);
    assert.equal((await api('POST', '/v1/test_helpers/disputes', p.auth, { payment_intent: facePayment })).statusCode, 404, 'a live payment is not found with a test key');
    assert.deepEqual((await api('GET', '/v1/disputes', p.auth)).json().data.map((x: { id: string }) => x.id), [first.json().id]);
    assert.ok(!(await api('GET', '/v1/disputes')).json().data.some((x: { id: string }) => x.id === first.json().id));
    assert.equal((await api('GET', `/v1/disputes/${first.json().id}`)).statusCode, 404);
    // No body at all is the same as an empty one: refund what is left.
    const refunded = await p.app.inject({ method: 'POST', url: `/v1/disputes/${first.json().id}/refund`, headers: p.auth });
    assert.equal(refunded.statusCode, 200, refunded.body);
    assert.equal(refunded.json().status, 'refunded');
    assert.equal(await p.services.payments.testWalletBalance(p.merchantId, 'test_zoe', 'eur'), 5000);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
  });

  test('the operator lists every merchant\'s disputes; the routes are in the OpenAPI document', async () => {
    const all = await p.services.disputes!.listAll();
    assert.ok(all.data.length >= 5);
    assert.ok(all.data.some((d) => d.mode === 'test') && all.data.some((d) => d.mode === 'live'));
    const doc = (await p.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, method] of [['/v1/disputes', 'get'], ['/v1/disputes/{id}', 'get'], ['/v1/disputes/{id}/refund', 'post'], ['/v1/disputes/{id}/close', 'post'], ['/v1/shopper/disputes', 'post'], ['/v1/test_helpers/disputes', 'post']] as const) {
      assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
    }
    assert.equal(doc.paths['/v1/disputes/{id}/refund'].post['x-scope'], 'payments:write');
  });
});
