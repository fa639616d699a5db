/**
 * Campaigns, audiences, messages, the inbox and mutes over HTTP; and the follow-up steps after a
 * payment: a CRM failure once the money has moved is logged and retried, never a failed payment
 * (the follow-ups' own retries and backoff are tested in checkout/workflow.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCheckout } from '../../checkout.ts';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

const DAY = 86_400_000;

describeEachDialect('campaigns, messages, inbox and mutes over HTTP', (dialect) => {
  let p: TestPlatform;
  const cookies: string[] = [];
  const shopperIds: string[] = [];
  const memberIds: string[] = [];

  before(async () => {
    p = await testPlatform(dialect);
    const { members, shoppers } = p.services;
    await members.setProgramme(p.merchantId, { name: 'Club', benefits: '', fields: ['name', 'birthday'], currency: 'EUR', timeZone: 'UTC' });
    for (const name of ['Bo Berg', 'Cy Chen', 'Di Diaz']) {
      const { shopper, sessionToken } = await shoppers.signUp({ email: `${name.split(' ')[0]!.toLowerCase()}@example.com`, password: 'a long passphrase', name });
      shopperIds.push(shopper.id);
      cookies.push(`fp_session=${encodeURIComponent(sessionToken)}`);
      const joined = await members.join({ merchantId: p.merchantId, shopperId: shopper.id, fields: { name }, consentVersion: members.consent.version, terminalId: null });
      memberIds.push(joined.memberId);
    }
  });
  after(async () => {
    await p.dispose();
  });

  const api = (method: string, url: string, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers: p.liveAuth, ...(payload === undefined ? {} : { payload: payload as string }) });
  const asShopper = (i: number, method: string, url: string, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers: { cookie: cookies[i]! }, ...(payload === undefined ? {} : { payload: payload as string }) });
  const campaign = (extra: Record<string, unknown> = {}) => ({
    name: 'Ten off',
    trigger: 'manual',
    audience: { kind: 'all' },
    reward: { kind: 'percent_off', percent: 10, cap: 300 },
    currency: 'eur',
    valid_to: p.clock.now().getTime() + 30 * DAY,
    holdout_percent: 0,
    ...extra,
  });

  test('bad campaigns get 4xx with stable codes', async () => {
    for (const [body, code] of [
      [campaign({ reward: { kind: 'percent_off', percent: 120, cap: null } }), 'reward_invalid'],
      [campaign({ reward: { kind: 'bogus' } }), 'parameter_invalid'],
      [campaign({ audience: { kind: 'lapsed' } }), 'audience_invalid'],
      [campaign({ audience: { kind: 'segment', segment: 'vip' } }), 'audience_invalid'],
      [campaign({ currency: 'usd' }), 'currency_mismatch'],
      [campaign({ valid_from: p.clock.now().getTime() + 40 * DAY }), 'validity_invalid'],
      [campaign({ holdout_percent: 70 }), 'parameter_invalid'],
      [campaign({ trigger: 'sometimes' }), 'parameter_invalid'],
      [{ ...campaign(), extra: 1 }, 'parameter_invalid'],
    ] as const) {
      const res = await api('POST', '/v1/campaigns', body);
      assert.equal(res.statusCode, 400, `${code}: ${res.body}`);
      assert.equal(res.json().error.code, code);
    }
    assert.equal((await api('GET', '/v1/campaigns/cmp_nope')).statusCode, 404);
    assert.equal((await api('POST', '/v1/campaigns/cmp_nope/send')).json().error.code, 'campaign_not_found');
  });

  test('a manual campaign: preview the audience, send it, coupons reach inboxes, results report against the holdout', async () => {
    await p.services.members.addTag(p.merchantId, memberIds[0]!, 'vip');
    const preview = await api('POST', '/v1/audiences/preview', { audience: { kind: 'tag', tag: 'vip' } });
    assert.deepEqual(preview.json(), { object: 'audience_preview', count: 1 });
    assert.equal((await api('POST', '/v1/audiences/preview', { audience: { kind: 'all' } })).json().count, 3);
    assert.equal((await api('POST', '/v1/audiences/preview', { audience: { kind: 'new', days: 0 } })).json().error.code, 'audience_invalid');

    const created = await api('POST', '/v1/campaigns', campaign());
    assert.equal(created.statusCode, 200, created.body);
    const c = created.json();
    assert.deepEqual(c.reward, { kind: 'percent_off', percent: 10, cap: 300 });
    assert.equal((await api('GET', '/v1/campaigns')).json().data.length, 1);
    const sent = await api('POST', `/v1/campaigns/${c.id}/send`);
    assert.deepEqual(sent.json(), { object: 'campaign_send', campaign: c.id, issued: 3 });
    assert.equal((await api('POST', `/v1/campaigns/${c.id}/send`)).json().issued, 0, 'nobody gets a second unused coupon');
    const coupons = (await api('GET', `/v1/members/${memberIds[1]}/coupons`)).json().data;
    assert.equal(coupons.length, 1);
    assert.equal(coupons[0].campaign, c.id);
    const held = (await asShopper(1, 'GET', '/v1/shopper/coupons')).json().data;
    assert.deepEqual(held.map((h: { coupon: { id: string } }) => h.coupon.id), [coupons[0].id]);
    const results = (await api('GET', `/v1/campaigns/${c.id}/results`)).json();
    assert.equal(results.object, 'campaign_results');
    assert.equal(results.treatment.members, 3);
    assert.equal(results.coupons_issued, 3);
    assert.equal(results.holdout.members, 0);

    const paused = await api('POST', `/v1/campaigns/${c.id}/status`, { status: 'ended' });
    assert.equal(paused.json().status, 'ended');
    assert.equal((await api('POST', `/v1/campaigns/${c.id}/status`, { status: 'active' })).json().error.code, 'campaign_ended');
    assert.equal((await api('POST', `/v1/campaigns/${c.id}/status`, { status: 'maybe' })).statusCode, 400);
  });

  test('a message reaches inboxes and webhooks except for a shopper who muted the merchant; the inbox pages', async () => {
    const mute = await asShopper(2, 'PUT', `/v1/shopper/mutes/${p.merchantId}`);
    assert.equal(mute.statusCode, 200, mute.body);
    assert.equal((await asShopper(2, 'PUT', '/v1/shopper/mutes/mer_nope')).statusCode, 404);
    const mutes = (await asShopper(2, 'GET', '/v1/shopper/mutes')).json().data;
    assert.deepEqual(mutes.map((m: { merchant: string; merchant_name: string }) => [m.merchant, m.merchant_name]), [[p.merchantId, 'Test Shop']]);
    const sent = await api('POST', '/v1/messages', { audience: { kind: 'all' }, title: 'New menu', body: 'Try the matcha.' });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.deepEqual([sent.json().recipients, sent.json().muted], [2, 1]);
    assert.equal((await api('POST', '/v1/messages', { audience: { kind: 'all' }, title: '', body: 'x' })).statusCode, 400);

    const inbox = (await asShopper(0, 'GET', '/v1/shopper/inbox?limit=1')).json();
    assert.equal(inbox.data.length, 1);
    assert.equal(inbox.data[0].kind, 'message');
    assert.equal(inbox.data[0].title, 'New menu');
    assert.equal(inbox.has_more, true);
    const rest = (await asShopper(0, 'GET', `/v1/shopper/inbox?limit=100&cursor=${encodeURIComponent(inbox.next_cursor)}`)).json();
    assert.deepEqual(rest.data.map((i: { kind: string }) => i.kind), ['coupon']);
    assert.equal((await asShopper(2, 'GET', '/v1/shopper/inbox')).json().data.filter((i: { kind: string }) => i.kind === 'message').length, 0);
    for (const [q, code] of [['limit=0', 'parameter_invalid'], ['limit=101', 'parameter_invalid'], ['cursor=zzz', 'cursor_invalid']]) {
      const res = await asShopper(0, 'GET', `/v1/shopper/inbox?${q}`);
      assert.equal(res.statusCode, 400, q);
      assert.equal(res.json().error.code, code, q);
    }
    assert.equal((await p.app.inject({ method: 'GET', url: '/v1/shopper/inbox' })).statusCode, 401);

    const read = await asShopper(0, 'POST', `/v1/shopper/inbox/${inbox.data[0].id}/read`);
    assert.equal(read.statusCode, 200);
    assert.notEqual((await asShopper(0, 'GET', '/v1/shopper/inbox?limit=1')).json().data[0].read_at, null);
    assert.equal((await asShopper(1, 'POST', `/v1/shopper/inbox/${inbox.data[0].id}/read`)).statusCode, 404, "another shopper's item looks missing");

    const events = (await api('GET', '/v1/events?limit=100')).json().data.filter((e: { type: string }) => e.type === 'message.sent');
    assert.equal(events.length, 2);
    assert.deepEqual(Object.keys(events[0].data.object).sort(), ['body', 'id', 'member_id', 'object', 'title']);
    for (const id of shopperIds) assert.ok(!JSON.stringify(events).includes(id));
    assert.equal((await asShopper(2, 'DELETE', `/v1/shopper/mutes/${p.merchantId}`)).json().muted, false);
    assert.deepEqual((await asShopper(2, 'GET', '/v1/shopper/mutes')).json().data, []);
  });

  test('changing what a membership shares: a new consent, the merchant sees the new fields at once', async () => {
    const { version } = p.services.members.consent;
    const outdated = await asShopper(1, 'PATCH', `/v1/shopper/memberships/${p.merchantId}`, { fields: ['name'], consent_version: '1999-01-01' });
    assert.equal(outdated.json().error.code, 'consent_version_outdated');
    const notAsked = await asShopper(1, 'PATCH', `/v1/shopper/memberships/${p.merchantId}`, { fields: ['email'], consent_version: version });
    assert.equal(notAsked.json().error.code, 'field_not_asked');
    const changed = await asShopper(1, 'PATCH', `/v1/shopper/memberships/${p.merchantId}`, { fields: { birthday: '1990-04-02' }, consent_version: version });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json().shared_fields, { birthday: '1990-04-02' });
    assert.deepEqual((await api('GET', `/v1/members/${memberIds[1]}`)).json().fields, { birthday: '1990-04-02' }, 'the name is no longer shared');
    const consents = (await asShopper(1, 'GET', `/v1/shopper/memberships/${p.merchantId}/consents`)).json().data;
    assert.equal(consents.length, 2);
    assert.equal(consents.filter((c: { withdrawn_at: number | null }) => c.withdrawn_at === null).length, 1);
  });

  test('after the money moved, a CRM failure is logged and retried, never a failed payment', async () => {
    const { members, marketing, payments, shoppers, merchants } = p.services;
    const logged: string[] = [];
    const log = { error: (_o: unknown, msg: string) => logged.push(msg) };
    let failures = 1;
    const flakyMembers = {
      ...members,
      recordPayment: async (input: Parameters<typeof members.recordPayment>[0]) => {
        if (failures-- > 0) throw new Error('connection reset');
        return members.recordPayment(input);
      },
    };
    const flow = createCheckout({ db: p.db, payments, members: flakyMembers, marketing, shoppers, merchants, clock: p.clock, ids: p.ids, log, options: { delayMs: 0 } });
    const { checkout } = flow;
    await payments.topUp(shopperIds[0]!, 5000, 'eur', `seed-${dialect}`);
    const pi = await payments.createIntent(p.merchantId, { amount: 1234, currency: 'eur', storeId: p.storeId });
    const terminal = { merchantId: p.merchantId, storeId: p.storeId, terminalId: 'trm_x' };
    const r = await checkout.pay(pi.id, terminal, shopperIds[0]!, { paymentId: 'pay_flaky_0001', method: 'pay_code' });
    assert.equal(r.status, 'succeeded');
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /crm_payment for pi_\S+ failed; it will be retried/);
    assert.equal((await api('GET', `/v1/members/${memberIds[0]}`)).json().visits, 0);
    assert.equal(await flow.retryDue(), 1);
    assert.equal(await flow.pending(), 0);
    const m = (await api('GET', `/v1/members/${memberIds[0]}`)).json();
    assert.deepEqual([m.visits, m.spend], [1, 1234]);
  });
});
