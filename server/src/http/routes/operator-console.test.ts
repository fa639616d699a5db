/**
 * The operator console's API over HTTP, on both databases: an admin creates a merchant, invites
 * its owner (the link arrives by real SMTP, works once, within its hour), suspends it (its key, its
 * console login and its session are refused) and reactivates it; unmatched bank credits are
 * returned or assigned by reference, each once; withdrawals are approved and rejected; runs listed.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { activateDevice, DeviceApiError, MemoryKeyStore } from '@facepay/device-sdk';
import { ManualClock } from '../../platform/index.ts';
import { describeEachDialect } from '../../storage/testing.ts';
import { startInbox, type Inbox } from '../../testing/inbox.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

function camt(id: string, entries: { ref: string; amount: string; remittance: string }[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>${id}</MsgId><CreDtTm>2026-12-07T18:00:00Z</CreDtTm></GrpHdr>
<Stmt><Id>${id}</Id>
${entries
  .map(
    (e) =>
      `<Ntry><Amt Ccy="EUR">${e.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>${e.ref}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>${e.remittance}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>`,
  )
  .join('\n')}
</Stmt></BkToCstmrStmt></Document>`;
}

const LINK = /https:\/\/shop\.test:3443\/console\/accept-invitation\?token=([A-Za-z0-9_-]{43})/;

describeEachDialect('operator console API: merchants, invitations, unmatched credits, withdrawals', (dialect) => {
  let p: TestPlatform;
  let inbox: Inbox;
  let admin = '';
  let desk = '';
  let merchantId = '';
  let shopperCookie = '';
  let shopperId = '';
  let reference = '';
  const clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));

  before(async () => {
    inbox = await startInbox();
    p = await testPlatform(dialect, { env: { FACEPAY_SMTP_URL: inbox.url, FACEPAY_PUBLIC_URL: 'https://shop.test:3443', FACEPAY_PAYOUT_DEBTOR_IBAN: 'FR7630006000011234567890189' }, overrides: { clock } });
    await p.services.operators!.create({ email: 'admin@operator.example', name: 'Ada Admin', password: 'admin password 1', role: 'admin' });
    await p.services.operators!.create({ email: 'desk@operator.example', name: 'Dana Desk', password: 'desk password 1', role: 'desk' });
    admin = (await p.services.operators!.logIn('admin@operator.example', 'admin password 1')).sessionToken;
    desk = (await p.services.operators!.logIn('desk@operator.example', 'desk password 1')).sessionToken;
  });
  after(async () => {
    await p.dispose();
    await inbox.close();
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

  test('an admin creates and lists merchants; a desk user may not', async () => {
    assert.equal((await call('GET', '/v1/operator/me', { token: desk })).body.role, 'desk');
    // The desk screen asks for its last 20 credits: a number in a query string is digits, not refused as "not an integer".
    assert.equal((await call('GET', '/v1/operator/desk/credits?limit=20&from=0', { token: desk })).status, 200);
    assert.equal((await call('GET', '/v1/operator/desk/credits?limit=501', { token: desk })).status, 400);
    assert.equal((await call('GET', '/v1/operator/merchants', { token: desk })).body.error.code, 'operator_role_insufficient');
    assert.equal((await call('POST', '/v1/operator/merchants', { token: desk, body: { name: 'Canteen' } })).status, 403);
    assert.equal((await call('POST', '/v1/operator/merchants', { token: admin, body: { name: '   ' } })).body.error.code, 'merchant_name_invalid');
    const c = await call('POST', '/v1/operator/merchants', { token: admin, body: { name: 'North Canteen' } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.status, 'active');
    merchantId = c.body.id;
    const list = await call('GET', '/v1/operator/merchants?limit=100', { token: admin });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.data.map((m: { name: string }) => m.name).sort(), ['North Canteen', 'Test Shop']);
    assert.equal((await call('GET', '/v1/operator/merchants/mer_nobody', { token: admin })).status, 404);
  });

  test('the owner invitation comes by SMTP, works once and only within its hour; a newer one voids the older', async () => {
    const email = `owner-${dialect}@canteen.test`;
    const bad = await call('POST', `/v1/operator/merchants/${merchantId}/invitations`, { token: admin, body: { email, valid_hours: 5 } });
    assert.equal(bad.status, 400);
    const first = await call('POST', `/v1/operator/merchants/${merchantId}/invitations`, { token: admin, body: { email, valid_hours: 1 } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.status, 'pending');
    assert.equal(Date.parse(first.body.expires_at) - Date.parse(first.body.created_at), 3600_000);
    await p.mail.tick();
    const oldToken = inbox.link(email, LINK);
    assert.ok(oldToken, 'the invitation arrived with its link');
    assert.match(inbox.messages.at(-1)!.text, /North Canteen/);

    // An hour later the link is dead; the admin sends a day-long one, which voids nothing left open.
    clock.advance(3600_000);
    assert.equal((await call('POST', '/v1/staff/invitations/lookup', { body: { token: oldToken } })).body.error.code, 'invitation_invalid');
    const second = await call('POST', `/v1/operator/merchants/${merchantId}/invitations`, { token: admin, body: { email } });
    assert.equal(Date.parse(second.body.expires_at) - Date.parse(second.body.created_at), 24 * 3600_000);
    clock.advance(1000);
    const third = await call('POST', `/v1/operator/merchants/${merchantId}/invitations`, { token: admin, body: { email } });
    await p.mail.tick();
    const token = inbox.link(email, LINK)!;
    const states = (await call('GET', `/v1/operator/merchants/${merchantId}`, { token: admin })).body.invitations.map((i: { id: string; status: string }) => [i.id, i.status]);
    assert.deepEqual(states, [[third.body.id, 'pending'], [second.body.id, 'voided'], [first.body.id, 'expired']]);

    const look = await call('POST', '/v1/staff/invitations/lookup', { body: { token } });
    assert.deepEqual([look.body.email, look.body.merchant.name], [email, 'North Canteen']);
    const weak = await call('POST', '/v1/staff/invitations/accept', { body: { token, name: 'Olga Owner', password: 'short' } });
    assert.equal(weak.body.error.code, 'password_too_short', 'a weak password does not spend the link');
    const ok = await call('POST', '/v1/staff/invitations/accept', { body: { token, name: 'Olga Owner', password: 'owner password 1' } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.merchant_id, ok.body.role, ok.body.email], [merchantId, 'owner', email]);
    assert.equal((await call('POST', '/v1/staff/invitations/accept', { body: { token, name: 'Mallory', password: 'another password 1' } })).body.error.code, 'invitation_invalid');
    assert.equal((await call('POST', '/v1/staff/invitations/accept', { body: { token: 'x'.repeat(43), name: 'M', password: 'another password 1' } })).status, 400);
    const login = await call('POST', '/v1/staff/login', { body: { email, password: 'owner password 1' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.merchant.id, merchantId);
    // Inviting an address that already signs in is refused before any mail goes.
    assert.equal((await call('POST', `/v1/operator/merchants/${merchantId}/invitations`, { token: admin, body: { email } })).body.error.code, 'email_taken');
  });

  test('a suspended merchant: its API key, console login and session are refused until it is reactivated', async () => {
    const email = `owner-${dialect}@canteen.test`;
    const key = await p.services.merchants.createApiKey(merchantId, { mode: 'live' });
    const auth = { authorization: `Bearer ${key.secret}` };
    const login = await call('POST', '/v1/staff/login', { body: { email, password: 'owner password 1' } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.equal((await call('GET', '/v1/stores', { headers: auth })).status, 200);
    assert.equal((await call('GET', '/v1/staff/me', { headers: { cookie } })).status, 200, cookie);

    const s = await call('POST', `/v1/operator/merchants/${merchantId}/suspension`, { token: admin });
    assert.equal(s.body.status, 'suspended');
    assert.equal((await call('POST', `/v1/operator/merchants/${merchantId}/suspension`, { token: admin })).body.status, 'suspended', 'idempotent');
    const refused = await call('GET', '/v1/stores', { headers: auth });
    assert.deepEqual([refused.status, refused.body.error.code], [403, 'merchant_suspended']);
    assert.equal((await call('GET', '/v1/staff/me', { headers: { cookie } })).body.error.code, 'merchant_suspended');
    assert.equal((await call('POST', '/v1/staff/login', { body: { email, password: 'owner password 1' } })).body.error.code, 'merchant_suspended');
    assert.equal((await call('POST', '/v1/staff/login', { body: { email, password: 'wrong password 1' } })).body.error.code, 'invalid_credentials', 'no hint without the password');
    assert.equal((await call('GET', '/v1/stores', { headers: p.liveAuth })).status, 200, 'other merchants go on');
    assert.deepEqual((await call('GET', '/v1/operator/merchants?status=suspended', { token: admin })).body.data.map((m: { id: string }) => m.id), [merchantId]);

    assert.equal((await call('POST', `/v1/operator/merchants/${merchantId}/reactivation`, { token: admin })).body.status, 'active');
    assert.equal((await call('GET', '/v1/stores', { headers: auth })).status, 200);
    assert.equal((await call('GET', '/v1/staff/me', { headers: { cookie } })).status, 200);
  });

  test("a suspended merchant's terminals are refused too, after their signature is checked", async () => {
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    const created = await call('POST', '/v1/terminals', { headers: p.auth, body: { store: p.storeId } });
    const { client } = await activateDevice({ baseUrl: base, code: created.body.activation_code, keyStore: new MemoryKeyStore() });
    assert.ok((await client.json<{ terminal_id: string }>('/device/v1/me')).terminal_id);
    await call('POST', `/v1/operator/merchants/${p.merchantId}/suspension`, { token: admin });
    await assert.rejects(client.json('/device/v1/me'), (e: unknown) => e instanceof DeviceApiError && e.status === 403 && e.code === 'merchant_suspended');
    await call('POST', `/v1/operator/merchants/${p.merchantId}/reactivation`, { token: admin });
    assert.ok((await client.json<{ terminal_id: string }>('/device/v1/me')).terminal_id);
  });

  test('unmatched credits: returned once or assigned by reference once, never both', async () => {
    const up = await call('POST', '/v1/shopper/signup', { body: { email: `mia-${dialect}@example.com`, password: 'a long passphrase', name: 'Mia Ono' } });
    assert.equal(up.status, 202);
    const login = await call('POST', '/v1/shopper/login', { body: { email: `mia-${dialect}@example.com`, password: 'a long passphrase' } });
    shopperCookie = String(login.headers['set-cookie']).split(';')[0]!;
    shopperId = login.body.id;
    reference = await p.services.fundingService!.paymentReference(shopperId);
    const xml = camt('STMT-OPC-1', [
      { ref: 'OPC-1', amount: '30.00', remittance: 'typo in the reference' },
      { ref: 'OPC-2', amount: '9.00', remittance: 'nobody knows' },
    ]);
    assert.deepEqual((await call('POST', '/v1/operator/funding/statements', { token: admin, body: { xml } })).body.unmatched, 2);

    const who = await call('GET', `/v1/operator/funding/references/${encodeURIComponent(reference.toLowerCase())}`, { token: admin });
    assert.deepEqual([who.body.shopper_id, who.body.name], [shopperId, 'Mia Ono']);
    assert.equal((await call('GET', '/v1/operator/funding/references/RF00NOBODY', { token: admin })).body.error.code, 'reference_not_found');
    const assign = await call('POST', '/v1/operator/funding/unmatched/OPC-1/assignment', { token: admin, body: { shopper_id: who.body.shopper_id } });
    assert.equal(assign.body.status, 'confirmed');
    const noReturn = await call('POST', '/v1/operator/funding/unmatched/OPC-1/return', { token: admin, body: { note: 'sent back' } });
    assert.deepEqual([noReturn.status, noReturn.body.error.code], [409, 'bank_entry_already_matched']);

    assert.equal((await call('POST', '/v1/operator/funding/unmatched/OPC-2/return', { token: desk, body: { note: 'x' } })).status, 403);
    assert.equal((await call('POST', '/v1/operator/funding/unmatched/OPC-2/return', { token: admin, body: { note: '   ' } })).body.error.code, 'note_invalid');
    const ret = await call('POST', '/v1/operator/funding/unmatched/OPC-2/return', { token: admin, body: { note: 'payer unknown, returned to the bank' } });
    assert.deepEqual([ret.status, ret.body.status, ret.body.amount], [200, 'returned', 900]);
    assert.equal((await call('POST', '/v1/operator/funding/unmatched/OPC-2/return', { token: admin, body: { note: 'again' } })).body.note, 'payer unknown, returned to the bank', 'once');
    const noAssign = await call('POST', '/v1/operator/funding/unmatched/OPC-2/assignment', { token: admin, body: { shopper_id: shopperId } });
    assert.deepEqual([noAssign.status, noAssign.body.error.code], [409, 'bank_entry_returned']);
    // Importing the file again brings neither back.
    assert.deepEqual((await call('POST', '/v1/operator/funding/statements', { token: admin, body: { xml } })).body.duplicates, 2);
    assert.deepEqual((await call('GET', '/v1/operator/funding/unmatched', { token: admin })).body.data, []);
    assert.equal((await call('GET', '/v1/shopper/me', { headers: { cookie: shopperCookie } })).body.wallet.balance, 3_000);
    const rec = await call('GET', '/v1/operator/funding/reconciliation', { token: admin });
    assert.deepEqual(rec.body.currencies.find((c: { currency: string }) => c.currency === 'eur').unmatched, { count: 0, total: '0' });
    assert.deepEqual((await p.services.fundingService!.audit()).problems, []);
  });

  test('withdrawals are approved or rejected by an admin, each once; payout runs are listed', async () => {
    const ask = (amount: number, key: string) =>
      call('POST', '/v1/shopper/withdrawals', { headers: { cookie: shopperCookie, 'idempotency-key': key }, body: { amount, iban: 'DE89370400440532013000', holder_name: 'Mia Ono' } });
    const w1 = await ask(1_000, 'withdraw-opc-0001');
    const w2 = await ask(500, 'withdraw-opc-0002');
    assert.equal(w1.status, 201, JSON.stringify(w1.body));
    const pending = await call('GET', '/v1/operator/withdrawals?status=pending', { token: admin });
    assert.deepEqual(pending.body.data.map((w: { id: string }) => w.id).sort(), [w1.body.id, w2.body.id].sort());
    assert.equal(pending.body.data[0].iban, 'DE89370400440532013000');
    assert.equal((await call('POST', `/v1/operator/withdrawals/${w1.body.id}/approval`, { token: desk })).status, 403);
    assert.equal((await call('POST', `/v1/operator/withdrawals/${w1.body.id}/approval`, { token: admin })).body.status, 'approved');
    assert.equal((await call('POST', `/v1/operator/withdrawals/${w1.body.id}/approval`, { token: admin })).body.status, 'approved', 'approving again changes nothing');
    assert.equal((await call('POST', `/v1/operator/withdrawals/${w2.body.id}/rejection`, { token: admin })).body.status, 'rejected');
    assert.equal((await call('POST', `/v1/operator/withdrawals/${w2.body.id}/rejection`, { token: admin })).body.status, 'rejected', 'rejecting again gives nothing back twice');
    assert.equal((await call('POST', `/v1/operator/withdrawals/${w2.body.id}/approval`, { token: admin })).body.error.code, 'withdrawal_rejected');
    assert.equal((await call('GET', '/v1/shopper/me', { headers: { cookie: shopperCookie } })).body.wallet.balance, 2_000, 'the rejected one came back');

    const run = await call('POST', '/v1/operator/payouts', { token: admin, headers: { 'idempotency-key': 'payout-opc-0001' }, body: { currency: 'eur' } });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    const runs = await call('GET', '/v1/operator/payouts', { token: admin });
    assert.deepEqual(runs.body.data.map((r: { id: string; total: number }) => [r.id, r.total]), [[run.body.id, 1_000]]);
    assert.equal((await call('GET', '/v1/operator/withdrawals?status=in_payout', { token: admin })).body.data[0].id, w1.body.id);
  });
});
