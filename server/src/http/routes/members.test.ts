/**
 * Membership, CRM and coupons over HTTP, on the whole platform: a shopper pays as a non-member
 * (nothing personal reaches the merchant), joins with one tap at the next payment, gets the
 * welcome coupon, pays with it (the wallet pays amount - discount), is refunded (the coupon comes
 * back), and leaves (the merchant loses the fields at once). The face engine is off here, so the
 * terminal pays with pay codes through the platform's own checkout, and the face path's checkout
 * (offers, then pay with the coupon shown) is driven directly, built exactly as the platform builds it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { createCheckout } from '../../checkout.ts';
import type { Checkout, TerminalRef } from '../../facepay/index.ts';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

const ANA = { email: 'ana.lima@example.com', password: 'a long passphrase', name: 'Ana Lima', phone: '+351 912 345 678' };
/** What must never reach the merchant from a non-member, nor after leaving. */
const PERSONAL = ['Ana Lima', 'ana.lima@example.com', '912345678', '912 345 678'];

describeEachDialect('membership, CRM and coupons over HTTP', (dialect) => {
  let p: TestPlatform;
  let base: string;
  let device: DeviceClient;
  let terminal: TerminalRef;
  let checkout: Checkout;
  let cookie = '';
  let shopperId = '';
  let memberId = '';
  let couponId = '';
  let couponPaymentId = '';
  const followUpErrors: string[] = [];

  before(async () => {
    p = await testPlatform(dialect);
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    const created = await p.app.inject({ method: 'POST', url: '/v1/terminals', payload: { store: p.storeId }, headers: p.auth });
    ({ client: device } = await activateDevice({ baseUrl: base, code: created.json().activation_code, keyStore: new MemoryKeyStore() }));
    terminal = { merchantId: p.merchantId, storeId: p.storeId, terminalId: (await device.json<{ terminal_id: string }>('/device/v1/me')).terminal_id };
    const { members, marketing, payments, shoppers, merchants } = p.services;
    ({ checkout } = createCheckout({
      db: p.db,
      payments,
      members,
      marketing,
      shoppers,
      merchants,
      clock: p.clock,
      ids: p.ids,
      log: { error: (_o, msg) => followUpErrors.push(msg) },
    }));
  });
  after(async () => {
    assert.deepEqual(followUpErrors, [], 'no follow-up step failed');
    await p.dispose();
  });

  const api = (method: string, url: string, payload?: unknown, headers = p.liveAuth) =>
    p.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload: payload as string }) });
  const shopper = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const intent = async (amount: number) => (await api('POST', '/v1/payment_intents', { amount, currency: 'eur', store: p.storeId, terminal: terminal.terminalId })).json().id as string;
  let payments = 0;
  const payByCode = async (intentId: string) => {
    const { body } = await shopper('POST', '/v1/shopper/pay_codes', {});
    return device.json<{ status: string; code: string | null }>(`/device/v1/payment_intents/${intentId}/pay_code`, {
      json: { code: body.code, payment_id: `tpay_${dialect}_${String(++payments).padStart(4, '0')}` },
    });
  };
  const wallet = async () => (await shopper('GET', '/v1/shopper/me')).body.wallet.balance as number;
  /** Every webhook event of the merchant, as its endpoints would receive them. */
  const allEvents = async () => {
    const out: unknown[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = (await api('GET', `/v1/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).json();
      out.push(...page.data);
      if (!page.has_more) return out;
      cursor = page.next_cursor;
    }
  };
  const assertNothingPersonal = (what: string, text: string) => {
    for (const s of [...PERSONAL, shopperId]) assert.ok(!text.includes(s), `${what} holds ${s}`);
  };

  test('the merchant sets up a programme and a welcome campaign', async () => {
    const bad = await api('PUT', '/v1/membership/programme', { name: 'Club', fields: ['name', 'shoe_size'], currency: 'eur' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'field_unknown');
    const prog = await api('PUT', '/v1/membership/programme', { name: 'Lima Club', benefits: 'Coffee perks', fields: ['name', 'phone', 'email'], currency: 'eur', time_zone: 'Europe/Lisbon' });
    assert.equal(prog.statusCode, 200, prog.body);
    assert.deepEqual(prog.json().fields, ['name', 'phone', 'email']);
    assert.equal(prog.json().currency, 'EUR');
    assert.equal((await api('GET', '/v1/membership/programme')).json().name, 'Lima Club');
    const now = p.clock.now().getTime();
    const welcome = await api('POST', '/v1/campaigns', {
      name: 'Welcome',
      trigger: 'join',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 500, min_spend: 2000 },
      currency: 'EUR',
      valid_to: now + 90 * 86_400_000,
      coupon_days: 30,
      holdout_percent: 0,
    });
    assert.equal(welcome.statusCode, 200, welcome.body);
    assert.deepEqual(welcome.json().reward, { kind: 'amount_off', amount: 500, min_spend: 2000 });
    assert.equal(welcome.json().status, 'active');
  });

  test("a non-member's payment: paid by pay code, counted only in aggregate, nothing personal reaches the merchant", async () => {
    const up = await fetch(base + '/v1/shopper/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ANA) });
    assert.equal(up.status, 202);
    const res = await fetch(base + '/v1/shopper/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ANA.email, password: ANA.password }) });
    assert.equal(res.status, 200);
    shopperId = ((await res.json()) as { id: string }).id;
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const topUp = await shopper('POST', '/v1/shopper/topups', { amount: 10_000, currency: 'eur' }, { 'idempotency-key': `topup-${dialect}-ana-1` });
    assert.equal(topUp.status, 200);
    // Live: the top-up waits for its money; the bank transfer arrives.
    await p.services.fundingService!.confirm((topUp.body as { top_up: { id: string } }).top_up.id, 'bank_transfer', `BANK-${dialect}-ana-1`);

    const offer = await checkout.offers(terminal, shopperId, { amount: 1200, currency: 'eur' });
    assert.deepEqual(offer, { discount: 0, offers: [], membership: { programme: 'Lima Club', fields: ['name', 'phone', 'email'] } });
    const pi = await intent(1200);
    assert.equal((await payByCode(pi)).status, 'succeeded');
    assert.equal(await wallet(), 10_000 - 1200);

    const json = (await api('GET', `/v1/payment_intents/${pi}`)).body;
    assert.equal(JSON.parse(json).amount_received, 1200);
    assertNothingPersonal('the payment', json);
    const list = (await api('GET', '/v1/members?status=all')).json();
    assert.equal(list.total, 0, 'a non-member is no member');
    assertNothingPersonal('the members list', JSON.stringify(list));
    assertNothingPersonal('the webhook events', JSON.stringify(await allEvents()));
    const today = new Date(p.clock.now().getTime()).toISOString().slice(0, 10);
    const stats = (await api('GET', '/v1/stats/non_members')).json();
    assert.deepEqual(stats.data.map((d: { payments: number; amount: number }) => [d.payments, d.amount]), [[1, 1200]], JSON.stringify(stats));
    assert.ok(stats.to >= today);
    const inbox = (await shopper('GET', '/v1/shopper/inbox')).body;
    assert.deepEqual(inbox.data.map((i: { kind: string; payment: { amount: number } }) => [i.kind, i.payment.amount]), [['receipt', 1200]]);
  });

  test('one tap joins at the next payment, with only the fields chosen; the welcome coupon lands in the inbox', async () => {
    const pi = await intent(1000);
    const r = await checkout.pay(pi, terminal, shopperId, { paymentId: `join_${dialect}_000001`, method: 'face', join: ['name', 'email'] });
    assert.equal(r.status, 'succeeded', JSON.stringify(r));
    const list = (await api('GET', '/v1/members')).json();
    assert.equal(list.total, 1);
    memberId = list.data[0].id;
    assert.match(memberId, /^mem_/);
    assert.deepEqual(list.data[0].fields, { name: 'Ana Lima', email: 'ana.lima@example.com' }, 'the phone was not chosen');
    assert.equal(list.data[0].visits, 1);
    assert.equal(list.data[0].spend, 1000);
    assert.ok(!JSON.stringify(list).includes(shopperId), 'never a shopper id');
    const coupons = (await api('GET', `/v1/members/${memberId}/coupons`)).json().data;
    assert.equal(coupons.length, 1);
    assert.equal(coupons[0].status, 'issued');
    couponId = coupons[0].id;
    const held = (await shopper('GET', '/v1/shopper/coupons')).body.data;
    assert.deepEqual(held.map((c: { coupon: { id: string }; merchant_name: string }) => [c.coupon.id, c.merchant_name]), [[couponId, 'Test Shop']]);
    const memberships = (await shopper('GET', '/v1/shopper/memberships')).body.data;
    assert.equal(memberships.length, 1);
    assert.equal(memberships[0].member_id, memberId);
    assert.deepEqual(memberships[0].asked_fields, ['name', 'phone', 'email']);
    const consents = (await shopper('GET', `/v1/shopper/memberships/${p.merchantId}/consents`)).body.data;
    assert.deepEqual(consents[0].fields, ['name', 'email']);
    assert.equal(consents[0].terminal, terminal.terminalId);
    const events = JSON.stringify(await allEvents());
    assert.ok(events.includes('"member.joined"') && events.includes('"coupon.issued"'));
    assert.ok(!events.includes(shopperId), 'no event carries the shopper id');
  });

  test('the next payment shows the welcome coupon and applies it: the wallet pays amount - discount', async () => {
    const before = await wallet();
    const small = await checkout.offers(terminal, shopperId, { amount: 1500, currency: 'eur' });
    assert.equal(small.discount, 0, 'below the minimum spend the coupon is shown but not applied');
    assert.deepEqual(small.offers.map((o) => o.id), [couponId]);
    const offer = await checkout.offers(terminal, shopperId, { amount: 3000, currency: 'eur' });
    assert.equal(offer.discount, 500);
    assert.equal(offer.coupon?.id, couponId);
    assert.deepEqual(offer.offers, [], 'the applied coupon is not listed again among the offers');
    assert.equal(offer.membership, undefined, 'a member is not asked to join');
    const pi = await intent(3000);
    const paymentId = `face_${dialect}_000001`;
    const r = await checkout.pay(pi, terminal, shopperId, { paymentId, method: 'face', couponId });
    assert.equal(r.status, 'succeeded', JSON.stringify(r));
    const retry = await checkout.pay(pi, terminal, shopperId, { paymentId, method: 'face', couponId });
    assert.equal(retry.status, 'succeeded', 'the terminal retry answers the same payment');
    assert.equal(await wallet(), before - 2500);
    const json = (await api('GET', `/v1/payment_intents/${pi}`)).json();
    assert.deepEqual([json.amount, json.discount, json.amount_received, json.coupon], [3000, 500, 2500, couponId]);
    const m = (await api('GET', `/v1/members/${memberId}`)).json();
    assert.equal(m.visits, 2);
    assert.equal(m.spend, 1000 + 2500, 'the CRM counts what was paid, once despite the retry');
    assert.equal(m.recent_purchases[0].payment_intent, pi);
    assert.equal((await api('GET', `/v1/members/${memberId}/coupons`)).json().data[0].status, 'redeemed');
    const receipts = (await shopper('GET', '/v1/shopper/inbox')).body.data.filter((i: { kind: string }) => i.kind === 'receipt');
    assert.equal(receipts.length, 3);
    assert.equal(receipts[0].payment.amount, 2500);
    couponPaymentId = pi;
  });

  test('a full refund reverses the redemption: the coupon is usable again and the payment still shows its discount', async () => {
    const before = await wallet();
    const partial = await api('POST', '/v1/refunds', { payment_intent: couponPaymentId, amount: 2501 });
    assert.equal(partial.statusCode, 409, 'a refund never exceeds what was received');
    assert.equal(partial.json().error.code, 'refund_exceeds_captured');
    const refund = await api('POST', '/v1/refunds', { payment_intent: couponPaymentId });
    assert.equal(refund.statusCode, 200, refund.body);
    assert.equal(refund.json().amount, 2500);
    assert.equal(await wallet(), before + 2500);
    const json = (await api('GET', `/v1/payment_intents/${couponPaymentId}`)).json();
    assert.deepEqual([json.discount, json.amount_received, json.amount_refunded], [500, 2500, 2500]);
    assert.equal((await api('GET', `/v1/members/${memberId}/coupons`)).json().data[0].status, 'issued');
    const offer = await checkout.offers(terminal, shopperId, { amount: 3000, currency: 'eur' });
    assert.equal(offer.coupon?.id, couponId, 'the coupon is offered again');
    const m = (await api('GET', `/v1/members/${memberId}`)).json();
    assert.deepEqual([m.visits, m.spend], [1, 1000], 'the refunded purchase no longer counts');
    assert.ok(JSON.stringify(await allEvents()).includes('"coupon.redemption_reversed"'));
    assert.deepEqual((await p.services.payments.audit()).problems, []);
  });

  test('a payment that fails or is cancelled after the coupon was reserved gives the coupon back', async () => {
    const pi = await intent(20_000);
    const r = await checkout.pay(pi, terminal, shopperId, { paymentId: `face_${dialect}_000002`, method: 'face', couponId });
    assert.deepEqual([r.status, r.code], ['failed', 'insufficient_funds']);
    const again = await checkout.pay(pi, terminal, shopperId, { paymentId: `face_${dialect}_000002`, method: 'face', couponId });
    assert.deepEqual([again.status, again.code], ['failed', 'insufficient_funds'], 'a retry answers the same failure');
    // The coupon was reserved and then the terminal gave up (a lost connection): cancelling the intent gives it back.
    const stuck = await intent(3000);
    await p.services.marketing.redeem({ merchantId: p.merchantId, memberId, couponId, paymentId: stuck, basket: { amount: 3000, currency: 'EUR' } });
    assert.equal((await api('GET', `/v1/members/${memberId}/coupons`)).json().data[0].status, 'redeemed');
    assert.equal((await api('POST', `/v1/payment_intents/${stuck}/cancel`)).json().status, 'cancelled');
    assert.equal((await api('GET', `/v1/members/${memberId}/coupons`)).json().data[0].status, 'issued');
    assert.equal((await api('GET', `/v1/members/${memberId}/coupons`)).json().data[0].status, 'issued');
  });

  test('search, filters and pagination; bad filters and pages are 4xx with stable codes', async () => {
    const q = async (s: string) => api('GET', `/v1/members?${s}`);
    assert.equal((await q('q=ana')).json().total, 1);
    assert.equal((await q('q=nobody')).json().total, 0);
    assert.equal((await q('spend_min=1000&spend_max=1000')).json().total, 1);
    assert.equal((await q('spend_min=1001')).json().total, 0);
    assert.equal((await q('segment=new')).json().total, 1);
    assert.equal((await q('last_visit_from=2000-01-01')).json().total, 1);
    const tag = await api('POST', `/v1/members/${memberId}/tags`, { tag: 'oat milk' });
    assert.deepEqual(tag.json().tags, ['oat milk']);
    assert.equal((await q('tag=oat%20milk')).json().total, 1);
    assert.equal((await api('POST', `/v1/members/${memberId}/tags`, { tag: '=cmd()' })).json().error.code, 'tag_invalid');
    assert.deepEqual((await api('DELETE', `/v1/members/${memberId}/tags/oat%20milk`)).json().tags, []);
    for (const [query, code] of [
      ['limit=0', 'parameter_invalid'],
      ['limit=201', 'parameter_invalid'],
      ['limit=ten', 'parameter_invalid'],
      ['cursor=not-a-cursor', 'cursor_invalid'],
      ['segment=vip', 'segment_invalid'],
      ['status=gone', 'status_invalid'],
      ['spend_min=-5', 'parameter_invalid'],
      ['last_visit_from=2026-13-45', 'filter_invalid'],
      ['colour=red', 'parameter_invalid'],
    ]) {
      const res = await q(query!);
      assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
      assert.equal(res.json().error.code, code, query);
    }
    assert.equal((await api('GET', '/v1/stats/non_members?from=2026-02-31')).json().error.code, 'filter_invalid');
    assert.equal((await api('GET', '/v1/stats/non_members?from=2026-11-20&to=2026-11-01')).statusCode, 400);
    assert.equal((await api('GET', '/v1/members/mem_nobody')).json().error.code, 'member_not_found');
    assert.equal((await api('GET', '/v1/members/mem_nobody/coupons')).statusCode, 404);
    const page = (await q('limit=1&status=all')).json();
    assert.equal(page.data.length, 1);
    assert.equal(page.has_more, false);
    assert.equal(page.next_cursor, null);
  });

  test('scopes: a read-only key reads the CRM but cannot tag, export or run campaigns', async () => {
    const { secret } = await p.services.merchants.createApiKey(p.merchantId, { mode: 'test', scopes: ['members:read', 'marketing:read'] });
    const ro = { authorization: `Bearer ${secret}` };
    assert.equal((await api('GET', '/v1/members', undefined, ro)).statusCode, 200);
    assert.equal((await api('POST', `/v1/members/${memberId}/tags`, { tag: 'x' }, ro)).statusCode, 403);
    assert.equal((await api('GET', '/v1/members/export.csv', undefined, ro)).json().error.code, 'api_key_scope_insufficient');
    assert.equal((await api('POST', '/v1/messages', { audience: { kind: 'all' }, title: 'Hi', body: '' }, ro)).statusCode, 403);
    const csv = await api('GET', '/v1/members/export.csv');
    assert.equal(csv.statusCode, 200);
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    assert.ok(csv.body.includes('Ana Lima'));
  });

  test('leaving cuts the merchant off at once: no fields in the member, the list, the CSV; coupons end', async () => {
    const left = await shopper('DELETE', `/v1/shopper/memberships/${p.merchantId}`);
    assert.equal(left.status, 200, JSON.stringify(left.body));
    const m = (await api('GET', `/v1/members/${memberId}`)).json();
    assert.equal(m.status, 'left');
    assert.deepEqual(m.fields, {});
    assert.equal(m.visits, 1, 'the history stays, without the person');
    assertNothingPersonal('the member after leaving', JSON.stringify(m));
    assert.equal((await api('GET', '/v1/members')).json().total, 0);
    assertNothingPersonal('the list after leaving', (await api('GET', '/v1/members?status=all')).body);
    assertNothingPersonal('the CSV after leaving', (await api('GET', '/v1/members/export.csv?status=all')).body);
    assert.equal((await api('GET', `/v1/members/${memberId}/coupons`)).json().data[0].status, 'void');
    assert.deepEqual((await shopper('GET', '/v1/shopper/memberships')).body.data, []);
    assert.equal((await shopper('DELETE', `/v1/shopper/memberships/${p.merchantId}`)).body.error.code, 'membership_not_found');
    const offer = await checkout.offers(terminal, shopperId, { amount: 3000, currency: 'eur' });
    assert.deepEqual([offer.discount, offer.membership?.programme], [0, 'Lima Club'], 'a former member is offered to join again');
    // Paying now counts only in the aggregate again.
    assert.equal((await payByCode(await intent(700))).status, 'succeeded');
    assert.equal((await api('GET', `/v1/members/${memberId}`)).json().visits, 1);
  });
});
