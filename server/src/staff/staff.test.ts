import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pgUrl, PG_SKIP_REASON } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { staffScopes } from './index.ts';

const CONSOLE = { 'x-facepay-console': '1' };

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`staff sign-in and roles over HTTP [${dialect}]`, { skip: dialect === 'postgres' && !pgUrl ? PG_SKIP_REASON : false }, () => {
    let p: TestPlatform;
    const cookies: Record<string, string> = {};

    async function logIn(email: string, password: string): Promise<string> {
      const r = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email, password } });
      assert.equal(r.statusCode, 200, r.body);
      const set = String(r.headers['set-cookie']);
      assert.match(set, /^fp_staff=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict/);
      return set.split(';')[0]!;
    }

    let topUps = 0;
    async function pay(amount: number): Promise<string> {
      // Staff sessions are live: a live payment, as a terminal would make it.
      const { payments } = p.services;
      await payments.topUp('shopper_ann', amount, 'eur', `ann-${++topUps}`);
      const pi = await payments.createIntent(p.merchantId, { amount, currency: 'eur', storeId: p.storeId });
      assert.equal((await payments.confirmWithShopper(pi.id, 'shopper_ann')).status, 'succeeded');
      return pi.id;
    }

    before(async () => {
      p = await testPlatform(dialect);
      const staff = p.services.staff!;
      await staff.create(p.merchantId, { email: 'Owner@Shop.test', name: 'Olga', password: 'owner-password-1', role: 'owner' });
      await staff.create(p.merchantId, { email: 'manager@shop.test', name: 'Max', password: 'manager-password', role: 'manager' });
      await staff.create(p.merchantId, { email: 'cashier@shop.test', name: 'Cleo', password: 'cashier-password', role: 'cashier', refundLimit: 500 });
      cookies.owner = await logIn('owner@shop.test', 'owner-password-1');
      cookies.manager = await logIn('manager@shop.test', 'manager-password');
      cookies.cashier = await logIn('cashier@shop.test', 'cashier-password');
    });
    after(async () => {
      await p?.dispose();
    });

    test('a wrong password or an unknown e-mail is 401 invalid_credentials, with nothing set', async () => {
      for (const payload of [
        { email: 'owner@shop.test', password: 'not-the-password' },
        { email: 'nobody@shop.test', password: 'owner-password-1' },
        { email: 'owner@shop.test', password: 'owner-password-1', merchant_id: 'mer_other' },
      ]) {
        const r = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload });
        assert.equal(r.statusCode, 401);
        assert.equal(r.json().error.code, 'invalid_credentials');
        assert.equal(r.headers['set-cookie'], undefined);
      }
    });

    test("ten wrong passwords hold the account's sign-in with 429 too_many_login_attempts, even for the right one", async () => {
      const staff = p.services.staff!;
      const gus = await staff.create(p.merchantId, { email: 'guessed@shop.test', name: 'Gus', password: 'guessed-password', role: 'cashier' });
      after(() => staff.remove(p.merchantId, gus.id));
      for (let i = 0; i < 10; i++) {
        const r = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email: 'guessed@shop.test', password: `guess-${i}` } });
        assert.equal(r.statusCode, 401);
      }
      const r = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email: 'GUESSED@shop.test', password: 'guessed-password' } });
      assert.equal(r.statusCode, 429);
      assert.equal(r.json().error.code, 'too_many_login_attempts');
      assert.equal(r.headers['set-cookie'], undefined);
      assert.equal((await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email: 'owner@shop.test', password: 'owner-password-1' } })).statusCode, 200, 'other accounts sign in');
    });

    test('the cookie authenticates the same /v1 merchant routes as an API key', async () => {
      const me = await p.app.inject({ method: 'GET', url: '/v1/staff/me', headers: { cookie: cookies.owner! } });
      assert.equal(me.statusCode, 200, me.body);
      assert.equal(me.json().role, 'owner');
      assert.equal(me.json().merchant.id, p.merchantId);
      const id = await pay(1200);
      const got = await p.app.inject({ method: 'GET', url: `/v1/payment_intents/${id}`, headers: { cookie: cookies.cashier! } });
      assert.equal(got.statusCode, 200);
      assert.equal(got.json().amount, 1200);
      const none = await p.app.inject({ method: 'GET', url: '/v1/payment_intents' });
      assert.equal(none.statusCode, 401);
      const forged = await p.app.inject({ method: 'GET', url: '/v1/payment_intents', headers: { cookie: 'fp_staff=forged' } });
      assert.equal(forged.statusCode, 401);
      assert.equal(forged.json().error.code, 'session_invalid');
    });

    test('a write with the cookie but without X-Facepay-Console is refused (CSRF guard)', async () => {
      const bare = await p.app.inject({ method: 'POST', url: '/v1/stores', headers: { cookie: cookies.owner! }, payload: { name: 'Forged' } });
      assert.equal(bare.statusCode, 403);
      assert.equal(bare.json().error.code, 'csrf_header_missing');
      const ok = await p.app.inject({ method: 'POST', url: '/v1/stores', headers: { cookie: cookies.owner!, ...CONSOLE }, payload: { name: 'Station' } });
      assert.equal(ok.statusCode, 200, ok.body);
      // An API key needs no such header: only the cookie travels by itself.
      const key = await p.app.inject({ method: 'POST', url: '/v1/stores', headers: p.auth, payload: { name: 'By key' } });
      assert.equal(key.statusCode, 200);
    });

    test('roles map to scopes: owners manage staff and keys, managers do not, cashiers cannot export members', async () => {
      assert.deepEqual(staffScopes('owner'), ['*']);
      assert.ok(!staffScopes('manager').some((s) => s.startsWith('keys:') || s.startsWith('staff:')));
      assert.ok(!staffScopes('cashier').includes('members:export'));
      assert.ok(!staffScopes('cashier').includes('marketing:write'));
      const list = await p.app.inject({ method: 'GET', url: '/v1/staff', headers: { cookie: cookies.owner! } });
      assert.equal(list.json().data.length, 3);
      for (const who of ['manager', 'cashier']) {
        for (const [method, url] of [['GET', '/v1/staff'], ['GET', '/v1/api_keys']] as const) {
          const r = await p.app.inject({ method, url, headers: { cookie: cookies[who]! } });
          assert.equal(r.statusCode, 403, `${who} ${url}`);
          assert.equal(r.json().error.code, 'staff_role_insufficient');
        }
      }
      const store = await p.app.inject({ method: 'POST', url: '/v1/stores', headers: { cookie: cookies.cashier!, ...CONSOLE }, payload: { name: 'No' } });
      assert.equal(store.statusCode, 403);
      const created = await p.app.inject({
        method: 'POST',
        url: '/v1/staff',
        headers: { cookie: cookies.manager!, ...CONSOLE },
        payload: { email: 'x@shop.test', name: 'X', password: 'long-enough-pw', role: 'owner' },
      });
      assert.equal(created.statusCode, 403);
      const exported = await p.app.inject({ method: 'GET', url: '/v1/members/export.csv', headers: { cookie: cookies.cashier! } });
      assert.ok(exported.statusCode === 403 || exported.statusCode === 404, exported.body);
      if (exported.statusCode === 403) assert.equal(exported.json().error.code, 'staff_role_insufficient');
    });

    test("a cashier sees members by member id with their visits, never the personal fields they share; the owner sees them", async () => {
      const { members } = p.services;
      await p.app.inject({ method: 'PUT', url: '/v1/membership/programme', headers: p.liveAuth, payload: { name: 'Club', fields: ['name', 'email', 'birthday'], currency: 'EUR', time_zone: 'Europe/Paris' } });
      const personal = { name: 'Rita Private', email: 'rita.private@example.com', birthday: '1990-04-12' };
      const joined = await members.join({ merchantId: p.merchantId, shopperId: 'shp_rita', fields: personal, consentVersion: members.consent.version, terminalId: null });
      const get = (who: string, url: string) => p.app.inject({ method: 'GET', url, headers: { cookie: cookies[who]! } });
      const mine = (body: { data: { id: string }[] }) => body.data.find((m) => m.id === joined.memberId);

      const owner = await get('owner', '/v1/members');
      assert.deepEqual((mine(owner.json()) as unknown as { fields: object }).fields, personal);
      for (const url of ['/v1/members', `/v1/members/${joined.memberId}`]) {
        const r = await get('cashier', url);
        assert.equal(r.statusCode, 200, r.body);
        const m = (url === '/v1/members' ? mine(r.json()) : r.json()) as { id: string; fields: object; visits: number };
        assert.equal(m.id, joined.memberId);
        assert.deepEqual(m.fields, {});
        assert.equal(typeof m.visits, 'number');
        for (const value of Object.values(personal)) assert.ok(!r.body.includes(value), `${url} shows a cashier ${value}`);
      }
      // Searching the personal fields would reveal them one guess at a time.
      const search = await get('cashier', '/v1/members?q=Rita');
      assert.equal(search.statusCode, 403);
      assert.equal(search.json().error.code, 'member_search_personal');
      assert.equal((await get('owner', '/v1/members?q=Rita')).json().data.length, 1);
      // An API key with members:read keeps what it had.
      const viaKey = await p.app.inject({ method: 'GET', url: `/v1/members/${joined.memberId}`, headers: p.liveAuth });
      assert.deepEqual(viaKey.json().fields, personal);
    });

    test('a cashier refunds up to the limit per payment, in one refund or several, and is refused above it with 403 refund_above_staff_limit', async () => {
      const id = await pay(2000);
      const above = await p.app.inject({ method: 'POST', url: '/v1/refunds', headers: { cookie: cookies.cashier!, ...CONSOLE }, payload: { payment_intent: id, amount: 501 } });
      assert.equal(above.statusCode, 403);
      assert.equal(above.json().error.code, 'refund_above_staff_limit');
      assert.equal(above.json().error.details.limit, 500);
      // Said as money, never as raw minor units.
      assert.match(above.json().error.message, /your refund limit is €5\.00 per payment/);
      assert.doesNotMatch(above.json().error.message, /minor units|\b500\b/);
      // Without an amount the refund is whatever is left (2000): above the limit too.
      const all = await p.app.inject({ method: 'POST', url: '/v1/refunds', headers: { cookie: cookies.cashier!, ...CONSOLE }, payload: { payment_intent: id } });
      assert.equal(all.json().error.code, 'refund_above_staff_limit');
      const within = await p.app.inject({ method: 'POST', url: '/v1/refunds', headers: { cookie: cookies.cashier!, ...CONSOLE }, payload: { payment_intent: id, amount: 500 } });
      assert.equal(within.statusCode, 200, within.body);
      // The limit is per payment, not per refund: after 500, even 1 more is above it.
      const again = await p.app.inject({ method: 'POST', url: '/v1/refunds', headers: { cookie: cookies.cashier!, ...CONSOLE }, payload: { payment_intent: id, amount: 1 } });
      assert.equal(again.statusCode, 403, again.body);
      assert.equal(again.json().error.code, 'refund_above_staff_limit');
      assert.equal(again.json().error.details.refunded_by_staff, 500);
      const manager = await p.app.inject({ method: 'POST', url: '/v1/refunds', headers: { cookie: cookies.manager!, ...CONSOLE }, payload: { payment_intent: id } });
      assert.equal(manager.statusCode, 200, manager.body);
      assert.equal(manager.json().amount, 1500);
    });

    test('owners change roles and limits at once, and the last owner stays an owner', async () => {
      const list = (await p.app.inject({ method: 'GET', url: '/v1/staff', headers: { cookie: cookies.owner! } })).json().data as { id: string; role: string }[];
      const owner = list.find((s) => s.role === 'owner')!;
      const cashier = list.find((s) => s.role === 'cashier')!;
      const demote = await p.app.inject({ method: 'POST', url: `/v1/staff/${owner.id}`, headers: { cookie: cookies.owner!, ...CONSOLE }, payload: { role: 'manager' } });
      assert.equal(demote.statusCode, 409);
      assert.equal(demote.json().error.code, 'last_owner');
      const raise = await p.app.inject({ method: 'POST', url: `/v1/staff/${cashier.id}`, headers: { cookie: cookies.owner!, ...CONSOLE }, payload: { refund_limit: 5000 } });
      assert.equal(raise.json().refund_limit, 5000);
      const me = await p.app.inject({ method: 'GET', url: '/v1/staff/me', headers: { cookie: cookies.cashier! } });
      assert.equal(me.json().refund_limit, 5000);
      const foreign = await p.app.inject({ method: 'DELETE', url: '/v1/staff/stf_unknown', headers: { cookie: cookies.owner!, ...CONSOLE } });
      assert.equal(foreign.statusCode, 404);
    });

    test('the dashboard counts today’s sales in the asked time zone; an unknown zone is 400', async () => {
      const r = await p.app.inject({ method: 'GET', url: '/v1/reports/dashboard?tz=Europe/Paris', headers: { cookie: cookies.cashier! } });
      assert.equal(r.statusCode, 200, r.body);
      const d = r.json();
      assert.equal(d.time_zone, 'Europe/Paris');
      assert.equal(d.currency, 'eur');
      assert.equal(d.today.payments, 2);
      assert.equal(d.today.sales, 3200);
      assert.equal(d.today.refunded, 2000);
      assert.equal(d.month.sales >= 3200, true);
      assert.equal(d.daily.length, 30);
      assert.equal(d.daily[29].sales, 3200);
      const bad = await p.app.inject({ method: 'GET', url: '/v1/reports/dashboard?tz=Mars/Olympus', headers: p.auth });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.code, 'time_zone_invalid');
    });

    test('signing out ends the session', async () => {
      const out = await p.app.inject({ method: 'POST', url: '/v1/staff/logout', headers: { cookie: cookies.manager! } });
      assert.match(String(out.headers['set-cookie']), /^fp_staff=; Max-Age=0/);
      const r = await p.app.inject({ method: 'GET', url: '/v1/staff/me', headers: { cookie: cookies.manager! } });
      assert.equal(r.statusCode, 401);
    });
  });
}
