/**
 * Real money in and out, end to end, on a real server on a real port with the apps as shipped in
 * headless Chromium and the real (SQLite) database: a shopper signs up in the portal and asks for
 * a top-up, which waits with her RF reference; the operator's admin imports a camt.053 bank
 * statement carrying that reference (over the operator API; e2e/operator.browser.test.ts imports through the console) and her
 * wallet grows; she pays a terminal with the portal's pay code; the merchant's day ends and the
 * housekeeping worker's close makes its statement; the owner sees it in the console's Settlements
 * page with the payment in it; a payout run's pain.001 file pays exactly the statement's net.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { ManualClock, repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const SHOPPER = { name: 'Nora Berg', email: 'nora.berg@example.com', password: 'a long passphrase' };
const OWNER = { email: 'owner@canteen.test', password: 'owner-password-1' };
const ADMIN = { email: 'admin@operator.example', password: 'admin password 1' };
const MERCHANT_IBAN = 'FR7630006000011234567890189';
const DEBTOR_IBAN = 'DE89370400440532013000';
const DAY = 86_400_000;
const GRACE = 600_000;
const TOP_UP = 2_000;
const PRICE = 1_250;
/** 200 basis points of the price. */
const FEE = 25;

/** A camt.053 statement as a bank sends it: one booked credit carrying the shopper's reference. */
function camt053(reference: string, amount: string, day: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-E2E-${day}</MsgId><CreDtTm>${day}T18:00:00Z</CreDtTm></GrpHdr>
    <Stmt><Id>STMT-E2E-${day}-1</Id>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>${day}</Dt></Dt></Bal>
      <Ntry><NtryRef>1</NtryRef><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>${day}</Dt></BookgDt><AcctSvcrRef>BANK-E2E-MONEY-1</AcctSvcrRef>
        <NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>${reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>`;
}

describe('money in and out in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let portal: BrowserContext;
  let page: Page;
  let device: DeviceClient;
  let terminalId = '';
  let reference = '';
  let paymentId = '';
  let statementNet = 0;
  let statementDay = '';
  const pageErrors: string[] = [];
  const clock = new ManualClock(new Date());

  /** Real HTTP to the server, JSON in and out; fails the test on any status above 299. */
  async function http<T = Record<string, any>>(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<T> {
    const r = await fetch(base + url, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
    return JSON.parse(text) as T;
  }
  const merchant = <T = Record<string, any>>(method: string, url: string, body?: unknown) => http<T>(method, url, p.liveAuth, body);
  /** The operator admin's bearer header, from the statement import on. */
  let ops: Record<string, string> = {};

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as { buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]> };
    await buildApps({ quiet: true, only: ['portal', 'console'] });
    p = await testPlatform('sqlite', {
      env: { FACEPAY_SETTLEMENT_GRACE_MS: String(GRACE), FACEPAY_PLATFORM_FEE_BPS: '200', FACEPAY_WALLET_CURRENCY: 'eur', FACEPAY_PAYOUT_DEBTOR_IBAN: DEBTOR_IBAN, FACEPAY_PAYOUT_DEBTOR_NAME: 'Campus Wallet Operator GmbH' },
      overrides: { clock },
    });
    await p.services.staff!.create(p.merchantId, { email: OWNER.email, name: 'Olga Owner', password: OWNER.password, role: 'owner' });
    await p.services.operators!.create({ email: ADMIN.email, name: 'Ada Admin', password: ADMIN.password, role: 'admin' });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    await merchant('POST', '/v1/settlements/payout_account', { iban: MERCHANT_IBAN, holder_name: 'Test Shop SARL' });
    const created = await merchant<{ activation_code: string }>('POST', '/v1/terminals', { store: p.storeId });
    ({ client: device } = await activateDevice({ baseUrl: base, code: created.activation_code, keyStore: new MemoryKeyStore() }));
    terminalId = (await device.json<{ terminal_id: string }>('/device/v1/me')).terminal_id;
    browser = await launchBrowser();
    portal = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    page = await portal.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the apps');
  });

  test('the shopper signs up, signs in again, asks for a top-up and sees her RF reference; the wallet waits', async () => {
    await page.goto(`${base}/portal/`);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Your name').fill(SHOPPER.name);
    await page.getByLabel('E-mail').fill(SHOPPER.email);
    await page.getByLabel('Password').fill(SHOPPER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Facepay' }).waitFor();
    await page.getByLabel('E-mail').fill(SHOPPER.email);
    await page.getByLabel('Password').fill(SHOPPER.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    assert.equal((await page.locator('p.balance').textContent())?.trim(), '€0.00');

    await page.getByLabel(/^Top up/).fill('20.00');
    await page.getByRole('button', { name: 'Top up', exact: true }).click();
    const pending = page.locator('.pending-top-up');
    await pending.waitFor();
    await pending.getByText('Your top-up of €20.00 is waiting for your money.').waitFor();
    reference = ((await pending.locator('.reference').textContent()) ?? '').trim();
    assert.match(reference, /^RF\d{2}[0-9A-Z]{1,21}$/, 'an ISO 11649 creditor reference');
    await screenshot(page, 'money-portal-pending-top-up');
    await page.reload();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    assert.equal((await page.locator('p.balance').textContent())?.trim(), '€0.00', 'a live top-up does not credit before the money arrives');
  });

  test('the operator imports the camt.053 statement with that reference; the wallet grows once, however often it is imported', async () => {
    // The operator's admin signs in like any operator client (the console's import screen has its own test, e2e/operator.browser.test.ts).
    const { token } = await http<{ token: string }>('POST', '/v1/operator/login', {}, ADMIN);
    ops = { authorization: `Bearer ${token}` };
    const xml = camt053(reference, (TOP_UP / 100).toFixed(2), clock.now().toISOString().slice(0, 10));
    const first = await http('POST', '/v1/operator/funding/statements', ops, { xml });
    assert.deepEqual([first.credited, first.unmatched, first.duplicates], [1, 0, 0]);
    const again = await http('POST', '/v1/operator/funding/statements', ops, { xml });
    assert.deepEqual([again.credited, again.unmatched], [0, 0]);
    assert.deepEqual((await http<{ data: unknown[] }>('GET', '/v1/operator/funding/unmatched', ops)).data, []);

    await page.reload();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    await page.locator('p.balance').getByText('€20.00').waitFor();
    await screenshot(page, 'money-portal-funded');
  });

  test('the shopper pays the terminal with the portal\'s pay code; her wallet shrinks by the price', async () => {
    await page.getByRole('button', { name: 'Show a pay code' }).click();
    const code = ((await page.getByLabel('pay code', { exact: true }).textContent()) ?? '').replace(/\s/g, '');
    assert.match(code, /^\d{12}$/);
    await screenshot(page, 'money-portal-pay-code');
    const intent = await merchant<{ id: string }>('POST', '/v1/payment_intents', { amount: PRICE, currency: 'eur', store: p.storeId, terminal: terminalId });
    const paid = await device.json<{ status: string }>(`/device/v1/payment_intents/${intent.id}/pay_code`, { json: { code, payment_id: 'pay_money_e2e_0001' } });
    assert.equal(paid.status, 'succeeded');
    paymentId = intent.id;
    await page.reload();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    await page.locator('p.balance').getByText('€7.50').waitFor();
  });

  test("the merchant's day closes only after its midnight and the grace, into a statement of the payment less the fee", async () => {
    const s = p.services.settlement!;
    statementDay = clock.now().toISOString().slice(0, 10);
    // The test shop has no programme, so its days are UTC days.
    const midnight = Date.parse(`${statementDay}T00:00:00Z`) + DAY;
    clock.set(new Date(midnight + GRACE - 1_000));
    assert.deepEqual(await s.closeDays(), [], 'not before the grace has passed');
    clock.set(new Date(midnight + GRACE + 1_000));
    // What the housekeeping worker calls once a minute.
    const closed = await s.closeDays();
    assert.equal(closed.length, 1);
    const st = closed[0]!;
    assert.deepEqual(
      { day: st.day, gross: st.gross, fees: st.fees, refunds: st.refunds, net: st.net, status: st.status },
      { day: statementDay, gross: PRICE, fees: FEE, refunds: 0, net: PRICE - FEE, status: 'closed' },
    );
    statementNet = st.net;
    assert.deepEqual(await s.closeDays(), [], 'a day closes once');
  });

  test('the owner sees the statement in the console with the payment in it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const console_ = await context.newPage();
    console_.on('pageerror', (e) => pageErrors.push(String(e)));
    await console_.goto(`${base}/console/`);
    await console_.getByLabel('E-mail').fill(OWNER.email);
    await console_.getByLabel('Password').fill(OWNER.password);
    await console_.getByRole('button', { name: 'Sign in' }).click();
    await console_.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await console_.getByRole('link', { name: 'Settlements' }).click();
    await console_.getByRole('heading', { name: 'Settlements' }).waitFor();
    const rows = console_.getByRole('table', { name: 'Statements, newest first' }).locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const cells = await rows.first().locator('td').allTextContents();
    // Gross, coupons, refunds, fees, carried in, net, status, transfers.
    assert.deepEqual(cells.slice(0, 6).map((c) => c.trim()), ['€12.50', '€0.00', '€0.00', '€0.25', '€0.00', '€12.25']);
    await rows.first().getByRole('button', { name: statementDay }).click();
    const detail = console_.getByRole('region', { name: `Statement of ${statementDay}` });
    await detail.getByRole('heading', { name: `Statement of ${statementDay}` }).waitFor();
    const lines = detail.locator('tbody tr');
    assert.equal(await lines.count(), 2, 'the payment and its fee');
    const amounts = (await lines.locator('td:nth-child(3)').allTextContents()).map((t) => t.trim()).sort();
    assert.deepEqual(amounts, ['-€0.25', '€12.50'].sort());
    // The payment's own ledger transfer is the statement's line.
    const payment = await merchant<{ id: string; status: string; amount: number }>('GET', `/v1/payment_intents/${paymentId}`);
    assert.equal(payment.status, 'succeeded');
    const lineIds = await lines.locator('td:nth-child(1)').allTextContents();
    const st = (await p.services.settlement!.listStatements(p.merchantId)).data[0]!;
    const served = await p.services.settlement!.lines(p.merchantId, st.id, { limit: 10 });
    assert.deepEqual(lineIds.map((t) => t.trim()).sort(), served.map((l) => l.transferId).sort());
    await screenshot(console_, 'money-console-statement');
    await context.close();
  });

  test("a payout run pays the statement's net in a pain.001 file; a second run pays nothing twice", async () => {
    const s = p.services.settlement!;
    // The day closed after its midnight: the admin's session of the day before may have ended
    // (12 h), so the admin signs in again, as the next morning.
    ops = { authorization: `Bearer ${(await http<{ token: string }>('POST', '/v1/operator/login', {}, ADMIN)).token}` };
    // The operator's admin makes the run and downloads its file over HTTP, as a bank upload would take it.
    const makeRun = (key: string) =>
      fetch(`${base}/v1/operator/payouts`, { method: 'POST', headers: { ...ops, 'content-type': 'application/json', 'idempotency-key': key }, body: '{}' });
    const created = await makeRun('e2e-money-run-1');
    assert.equal(created.status, 201, await created.clone().text());
    const run = (await created.json()) as { id: string; total: number; item_count: number };
    assert.equal(run.total, statementNet);
    assert.equal(run.item_count, 1);
    const file = await fetch(`${base}/v1/operator/payouts/${run.id}/file`, { headers: ops });
    assert.equal(file.status, 200);
    assert.match(file.headers.get('content-type') ?? '', /^application\/xml/);
    assert.match(file.headers.get('content-disposition') ?? '', /^attachment; filename=/);
    const xml = await file.text();
    const all = (tag: string) => [...xml.matchAll(new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);
    assert.match(xml, /urn:iso:std:iso:20022:tech:xsd:pain\.001/);
    assert.deepEqual(all('NbOfTxs'), ['1', '1'], 'group header and payment information');
    assert.deepEqual(all('CtrlSum'), [(statementNet / 100).toFixed(2), (statementNet / 100).toFixed(2)]);
    assert.deepEqual(all('InstdAmt'), [(statementNet / 100).toFixed(2)]);
    assert.deepEqual(all('IBAN'), [DEBTOR_IBAN, MERCHANT_IBAN], 'from the operator to the merchant');
    const st = (await s.listStatements(p.merchantId)).data[0]!;
    assert.equal(st.status, 'in_payout');
    assert.equal(await s.payable(p.merchantId, 'eur'), 0);
    const second = await makeRun('e2e-money-run-2');
    assert.equal(((await second.json()) as { error: { code: string } }).error.code, 'payout_nothing_to_pay');
    assert.equal(((await (await makeRun('e2e-money-run-1')).json()) as { id: string }).id, run.id, 'a retried run is the same run');
    const sent = await fetch(`${base}/v1/operator/payouts/${run.id}/sent`, { method: 'POST', headers: { ...ops, 'idempotency-key': 'e2e-money-sent-1' } });
    assert.equal(((await sent.json()) as { status: string }).status, 'sent');
    assert.equal((await s.listStatements(p.merchantId)).data[0]!.status, 'paid');
    assert.deepEqual((await s.audit()).problems, []);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
    assert.deepEqual((await p.services.ledger.verify()).problems, []);
  });
});
