/**
 * The operator console end to end, on a real server on a real port with the console as shipped
 * in headless Chromium, and mail through a real SMTP server in this process: the operator's admin
 * creates a merchant and invites its owner; the owner accepts from the mailed link, chooses a
 * password and signs in; the admin imports a camt.053 file (one credit finds its shopper, one
 * waits), resolves the waiting credit by the shopper's reference, approves a withdrawal, makes a
 * payout run and downloads its pain.001 file; lowers a platform limit, which the next payment
 * meets; sets the merchant's fee rate from its page (a double click records one rate); a password reset link works once, in the console
 * and in the portal; the admin reads the merchant's overview, suspends it and closes it (refused
 * while it is owed money), and its owner can no longer sign in.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser } from '../testing/browser.ts';
import { startInbox, type Inbox } from '../testing/inbox.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

// A fixed port (this suite's range): the links in mail carry FACEPAY_PUBLIC_URL, set before the server starts.
const PORT = Number(process.env.FACEPAY_E2E_OPERATOR_PORT ?? 4310);
const base = `http://127.0.0.1:${PORT}`;
const ADMIN = { email: 'admin@operator.example', password: 'admin password 1' };
const OWNER = { email: 'olga@north-canteen.test', name: 'Olga Owner', password: 'owner password 1', newPassword: 'a new owner password' };
const SHOPPER = { email: 'nora.berg@example.com', password: 'a long passphrase', name: 'Nora Berg' };
const DEBTOR_IBAN = 'DE89370400440532013000';
const SHOPPER_IBAN = 'FR7630006000011234567890189';

function camt053(entries: { ref: string; amount: string; remittance: string }[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>STMT-E2E-OPS</MsgId><CreDtTm>2026-12-07T18:00:00Z</CreDtTm></GrpHdr>
<Stmt><Id>STMT-E2E-OPS-1</Id>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">45.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-07</Dt></Dt></Bal>
${entries
  .map(
    (e) =>
      `<Ntry><Amt Ccy="EUR">${e.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>${e.ref}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>${e.remittance}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>`,
  )
  .join('\n')}
</Stmt></BkToCstmrStmt></Document>`;
}

describe('the operator console in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let inbox: Inbox;
  let browser: Browser;
  let admin: Page;
  let owner: Page;
  let shopperCookie = '';
  let reference = '';
  let shopperId = '';
  const pageErrors: string[] = [];

  async function http<T = Record<string, any>>(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<{ body: T; headers: Headers }> {
    const r = await fetch(base + url, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
    return { body: JSON.parse(text) as T, headers: r.headers };
  }
  const wallet = async (): Promise<number> => (await http<{ wallet: { balance: number } }>('GET', '/v1/shopper/me', { cookie: shopperCookie })).body.wallet.balance;
  /** The mail worker's pass, then the link to `path` in the newest message to `to`. */
  async function mailedLink(to: string, path: string): Promise<string> {
    await p.mail.tick();
    const link = inbox.link(to, new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/console/${path}\\?token=[A-Za-z0-9_-]{43}`));
    assert.ok(link, `a ${path} link mailed to ${to}`);
    return link;
  }

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as { buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]> };
    await buildApps({ quiet: true, only: ['console', 'portal'] });
    inbox = await startInbox();
    p = await testPlatform('sqlite', {
      env: { FACEPAY_SMTP_URL: inbox.url, FACEPAY_PUBLIC_URL: base, FACEPAY_WALLET_CURRENCY: 'eur', FACEPAY_PAYOUT_DEBTOR_IBAN: DEBTOR_IBAN, FACEPAY_PAYOUT_DEBTOR_NAME: 'Campus Wallet Operator GmbH' },
    });
    await p.services.operators!.create({ email: ADMIN.email, name: 'Ada Admin', password: ADMIN.password, role: 'admin' });
    await p.app.listen({ port: PORT, host: '127.0.0.1' });
    browser = await launchBrowser();
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    admin = await adminContext.newPage();
    owner = await (await browser.newContext({ viewport: { width: 1024, height: 800 } })).newPage();
    for (const page of [admin, owner]) page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    await inbox?.close();
    assert.deepEqual(pageErrors, [], 'no script error in the console');
  });

  test('the admin creates a merchant and invites its owner; the owner accepts from the mailed link and signs in', async () => {
    await admin.goto(`${base}/console/#/ops`);
    await admin.getByLabel('E-mail').fill(ADMIN.email);
    await admin.getByLabel('Password').fill(ADMIN.password);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: 'Merchants' }).waitFor();
    // Only the admin's pages: the service desk is a desk user's.
    const nav = admin.getByRole('navigation', { name: 'Operator console' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Merchants', 'Bank & reconciliation', 'Withdrawals & payouts', 'Platform limits', 'Tablet certificate']);
    await admin.getByLabel("New merchant's name").fill('North Canteen');
    await admin.getByRole('button', { name: 'Create merchant' }).click();
    await admin.getByRole('heading', { name: /North Canteen/ }).waitFor();
    await admin.getByLabel("Owner's e-mail").fill(OWNER.email);
    await admin.getByLabel('The link works for').selectOption('1');
    await admin.getByRole('button', { name: 'Send invitation' }).click();
    await admin.getByRole('status').getByText(`Invitation sent to ${OWNER.email}`).waitFor();
    await admin.getByRole('cell', { name: 'pending' }).waitFor();

    const link = await mailedLink(OWNER.email, 'accept-invitation');
    await owner.goto(link);
    await owner.getByText('You are invited to run North Canteen on Facepay').waitFor();
    assert.ok(!owner.url().includes('token='), 'the token leaves the address bar');
    await owner.getByLabel('Your name').fill(OWNER.name);
    await owner.getByLabel(/Choose a password/).fill(OWNER.password);
    await owner.getByRole('button', { name: 'Accept and set password' }).click();
    await owner.getByRole('status').getByText('you are the owner of North Canteen').waitFor();
    await owner.getByRole('link', { name: 'Sign in' }).click();
    await owner.getByLabel('E-mail').fill(OWNER.email);
    await owner.getByLabel('Password').fill(OWNER.password);
    await owner.getByRole('button', { name: 'Sign in', exact: true }).click();
    await owner.locator('.merchant').getByText('North Canteen').waitFor();

    // The link was spent: opening it again says so.
    const again = await browser.newPage();
    await again.goto(link);
    await again.getByRole('alert').getByText('not valid any more').waitFor();
    await again.close();
    await admin.reload();
    await admin.getByLabel('E-mail').fill(ADMIN.email);
    await admin.getByLabel('Password').fill(ADMIN.password);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: /North Canteen/ }).waitFor();
    await admin.getByRole('cell', { name: 'accepted' }).waitFor();
  });

  test('the admin imports a camt.053 file and resolves the credit whose reference was mistyped, once', async () => {
    await http('POST', '/v1/shopper/signup', {}, SHOPPER);
    const login = await http<{ id: string }>('POST', '/v1/shopper/login', {}, { email: SHOPPER.email, password: SHOPPER.password });
    shopperCookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    shopperId = login.body.id;
    reference = await p.services.fundingService!.paymentReference(shopperId);
    const xml = camt053([
      { ref: 'E2E-OPS-1', amount: '30.00', remittance: reference },
      { ref: 'E2E-OPS-2', amount: '15.00', remittance: `${reference.slice(0, -2)}XX` },
    ]);
    await admin.getByRole('link', { name: 'Bank & reconciliation' }).click();
    await admin.getByRole('heading', { name: 'Bank & reconciliation' }).waitFor();
    await admin.getByLabel(/camt.053 or camt.054 file/).setInputFiles({ name: 'statement.xml', mimeType: 'application/xml', buffer: Buffer.from(xml) });
    await admin.getByRole('button', { name: 'Import' }).click();
    await admin.getByRole('status').getByText('1 credited to wallets, 1 to resolve by hand, 0 already imported before').waitFor();
    assert.equal(await wallet(), 3_000);

    const waiting = admin.locator('li[data-entry="E2E-OPS-2"]');
    await waiting.getByText('€15.00').waitFor();
    await waiting.getByLabel(/payment reference/).fill(reference.replace(/(.{4})/g, '$1 ').trim());
    await waiting.getByRole('button', { name: 'Credit this shopper' }).click();
    await admin.getByRole('status').getByText(`€15.00 credited to ${SHOPPER.name} (E2E-OPS-2).`).waitFor();
    await admin.getByText('None: every credit found its shopper.').waitFor();
    assert.equal(await wallet(), 4_500);

    // The same file again credits nothing more.
    await admin.getByLabel(/camt.053 or camt.054 file/).setInputFiles({ name: 'statement.xml', mimeType: 'application/xml', buffer: Buffer.from(xml) });
    await admin.getByRole('button', { name: 'Import' }).click();
    await admin.getByRole('status').getByText('0 credited to wallets, 0 to resolve by hand, 2 already imported before').waitFor();
    assert.equal(await wallet(), 4_500);
    const eur = admin.locator('[data-currency="eur"]');
    await eur.getByText('€45.00').first().waitFor();
  });

  test('the admin approves a withdrawal, makes a payout run, downloads its pain.001 file and marks it sent', async () => {
    await http('POST', '/v1/shopper/withdrawals', { cookie: shopperCookie }, { amount: 2_000, iban: SHOPPER_IBAN, holder_name: SHOPPER.name });
    await admin.getByRole('link', { name: 'Withdrawals & payouts' }).click();
    await admin.getByRole('heading', { name: 'Withdrawals waiting for a decision' }).waitFor();
    await admin.getByRole('row', { name: new RegExp(SHOPPER.name) }).getByRole('button', { name: 'Approve' }).click();
    await admin.getByRole('status').getByText('approved: the next payout run pays it').waitFor();
    await admin.getByRole('button', { name: 'Make a payout run' }).click();
    await admin.getByRole('status').getByText(/Payout run \S+: 1 transfers, €20.00/).waitFor();
    const row = admin.locator('tr[data-run]');
    const [download] = await Promise.all([admin.waitForEvent('download'), row.getByRole('button', { name: 'Download pain.001 file' }).click()]);
    const xml = await readFile((await download.path())!, 'utf8');
    assert.match(xml, /urn:iso:std:iso:20022:tech:xsd:pain\.001/);
    assert.deepEqual([...xml.matchAll(/<IBAN>([^<]*)<\/IBAN>/g)].map((m) => m[1]), [DEBTOR_IBAN, SHOPPER_IBAN], 'from the operator to the shopper');
    assert.deepEqual([...xml.matchAll(/<InstdAmt[^>]*>([^<]*)</g)].map((m) => m[1]), ['20.00']);
    await row.getByRole('button', { name: 'Mark sent' }).click();
    await row.getByRole('cell', { name: 'sent' }).waitFor();
    assert.equal(await wallet(), 2_500);
    assert.deepEqual((await p.services.settlement!.audit()).problems, []);
    assert.deepEqual((await p.services.fundingService!.audit()).problems, []);
    assert.deepEqual((await p.services.ledger.verify()).problems, []);
  });

  test('the admin lowers the per-payment limit after a confirmation of old and new; the next payment above it is refused', async () => {
    await admin.getByRole('link', { name: 'Platform limits' }).click();
    await admin.getByRole('heading', { name: 'Platform limits', level: 1 }).waitFor();
    const row = admin.locator('tr[data-limit="shopper_payment_limit"]');
    assert.deepEqual(await row.getByRole('cell').allTextContents(), ['€1,000.00', '€1,000.00', 'Server configuration']);
    await admin.getByText('No limit has been changed yet.').waitFor();
    const field = admin.getByLabel('Most a shopper pays in one payment (EUR)');
    assert.equal(await field.inputValue(), '1000.00');
    await field.fill('50');
    await admin.getByRole('button', { name: 'Review changes' }).click();
    const dialog = admin.getByRole('alertdialog', { name: 'Change these platform limits?' });
    assert.deepEqual(await dialog.getByRole('listitem').allTextContents(), ['Most a shopper pays in one payment: €1,000.00 → €50.00'], 'only the changed limit, old and new');
    await dialog.getByRole('button', { name: 'Apply changes' }).dblclick();
    await admin.getByRole('status').getByText('1 platform limit changed.').waitFor();
    assert.equal(await dialog.count(), 0);
    assert.equal(await field.inputValue(), '50.00', 'the form shows the value now in effect');
    await row.getByRole('cell', { name: '€50.00' }).first().waitFor();
    const history = admin.getByRole('row', { name: /Most a shopper pays in one payment.*€1,000\.00.*€50\.00.*Ada Admin/ });
    await history.waitFor();
    const changes = await p.services.platformLimits!.changes();
    assert.deepEqual(changes.map((c) => [c.key, c.oldValue, c.newValue]), [['shopper_payment_limit', 100_000, 5_000]], 'a double click changed it once');

    await p.services.payments.topUp('shp_e2e_limits', 20_000, 'eur', 'e2e-limits-seed');
    const pay = async (amount: number) => {
      const pi = await p.services.payments.createIntent(p.merchantId, { amount, currency: 'eur', storeId: p.storeId });
      return p.services.payments.confirmWithShopper(pi.id, 'shp_e2e_limits');
    };
    await assert.rejects(pay(6_000), (e: unknown) => (e as { code?: string }).code === 'shopper_payment_limit_exceeded');
    assert.equal((await pay(5_000)).status, 'succeeded');
    // The rest of the suite runs with the configured limit again.
    await p.services.platformLimits!.set('test', { shopper_payment_limit: 100_000 });
  });

  test("the admin sets the merchant's fee rate from its page after a confirmation of old and new; a double click records one rate", async () => {
    const merchant = (await p.services.merchants.listMerchants({ limit: 100 })).data.find((m) => m.name === 'North Canteen')!;
    const { token } = (await http<{ token: string }>('POST', '/v1/operator/login', {}, { email: ADMIN.email, password: ADMIN.password })).body;
    const rates = () => http<{ bps: number; default_bps: number; scheduled: { bps: number; effective_from: string }[]; history: { bps: number; set_by: string }[] }>('GET', `/v1/operator/merchants/${merchant.id}/fee_rates`, { authorization: `Bearer ${token}` });
    const before = (await rates()).body;
    assert.equal(before.history.length, 0, 'no rate of its own yet');
    const old = `${before.default_bps / 100}%`;
    // A week ahead is a day that has not begun in any time zone the merchant may be in.
    const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);

    await admin.getByRole('link', { name: 'Merchants' }).click();
    await admin.getByRole('link', { name: 'North Canteen' }).click();
    const fees = admin.getByRole('region', { name: 'Fees' });
    await fees.getByText(`Platform fee now: ${old} of each payment, the server's default`).waitFor();
    await fees.getByText('No rate set yet: the merchant pays the default.').waitFor();

    // The page refuses what the server would, before asking it.
    await fees.getByLabel('Rate (% of each payment)').fill('100.5');
    await fees.getByLabel('From (a day that has not begun)').fill(day);
    await fees.getByLabel('Reason').fill('Negotiated campus rate');
    await fees.getByRole('button', { name: 'Review rate' }).click();
    await fees.getByRole('alert').getByText('Enter the rate as a percentage from 0 to 100 with at most two decimals.').waitFor();

    await fees.getByLabel('Rate (% of each payment)').fill('2.5');
    await fees.getByRole('button', { name: 'Review rate' }).click();
    const dialog = admin.getByRole('alertdialog', { name: 'Set this platform fee rate?' });
    await dialog.getByText(`Fee rate: ${old} → 2.5%, from ${day} (the merchant's day).`).waitFor();
    await dialog.getByText('Reason: Negotiated campus rate').waitFor();
    await dialog.getByRole('button', { name: 'Set rate' }).dblclick();
    await fees.getByRole('status').getByText(`Fee rate 2.5% set from ${day}.`).waitFor();
    assert.equal(await dialog.count(), 0, 'the confirmation closes');
    assert.equal(await fees.getByLabel('Rate (% of each payment)').inputValue(), '', 'the form is reset');
    assert.equal(await fees.getByLabel('Reason').inputValue(), '');
    await fees.getByText(`2.5% from ${day}`).waitFor();
    const row = fees.getByRole('table', { name: 'Fee rates set' }).getByRole('row', { name: /Negotiated campus rate/ });
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    assert.equal(cells[0], '2.5%');
    assert.match(cells[1]!, new RegExp(`^${day} \\(.+\\)$`));
    assert.equal(cells[2], 'Ada Admin (you)');

    const after = (await rates()).body;
    assert.equal(after.history.length, 1, 'a double click records exactly one rate');
    assert.equal(after.history[0]!.bps, 250);
    assert.deepEqual(after.scheduled.map((r) => [r.bps, r.effective_from]), [[250, day]]);
    assert.equal(after.bps, before.bps, 'the rate in effect today is unchanged');

    // A later rate is confirmed against the one that will apply the day before it, not today's.
    const later = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
    await fees.getByLabel('Rate (% of each payment)').fill('3');
    await fees.getByLabel('From (a day that has not begun)').fill(later);
    await fees.getByLabel('Reason').fill('Second term');
    await fees.getByRole('button', { name: 'Review rate' }).click();
    await dialog.getByText(`Fee rate: 2.5% → 3%, from ${later} (the merchant's day).`).waitFor();
    await dialog.getByRole('button', { name: 'Set rate' }).click();
    await fees.getByRole('status').getByText(`Fee rate 3% set from ${later}.`).waitFor();
    await fees.getByRole('table', { name: 'Fee rates set' }).getByRole('row', { name: /Second term/ }).waitFor();
    assert.deepEqual((await rates()).body.scheduled.map((r) => [r.bps, r.effective_from]), [[250, day], [300, later]]);
    await admin.getByRole('link', { name: 'All merchants' }).click();
    await admin.getByRole('heading', { name: 'Merchants', level: 1 }).waitFor();
  });

  test('the owner forgets the password: the mailed reset link works once', async () => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/console/`);
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Your console e-mail').fill(OWNER.email);
    await page.getByRole('button', { name: 'Mail me a reset link' }).click();
    await page.getByRole('status').getByText('If an account uses this address').waitFor();
    const link = await mailedLink(OWNER.email, 'reset-password');
    await page.goto(link);
    await page.getByLabel(/New password/).fill(OWNER.newPassword);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').getByText('Your password is changed').waitFor();
    // The owner's old session ended with the change.
    await owner.reload();
    await owner.getByRole('heading', { name: 'Facepay merchant console' }).waitFor();
    await owner.getByLabel('E-mail').fill(OWNER.email);
    await owner.getByLabel('Password').fill(OWNER.newPassword);
    await owner.getByRole('button', { name: 'Sign in', exact: true }).click();
    await owner.locator('.merchant').getByText('North Canteen').waitFor();

    await page.goto(link);
    await page.getByLabel(/New password/).fill('yet another password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').getByText('This reset link is not valid any more').waitFor();
    await page.close();
  });

  test("the shopper's reset link opens the portal's page and sets her password", async () => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/portal/`);
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Your e-mail').fill(SHOPPER.email);
    await page.getByRole('button', { name: 'Mail me a reset link' }).click();
    await page.getByRole('status').getByText('If an account uses this address').waitFor();
    await p.mail.tick();
    const link = inbox.link(SHOPPER.email, new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/portal/reset-password\\?token=[A-Za-z0-9_-]{43}`));
    assert.ok(link, 'a portal reset link');
    await page.goto(link);
    await page.getByLabel('New password').fill('her new passphrase');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').getByText('Your password is changed').waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('E-mail').fill(SHOPPER.email);
    await page.getByLabel('Password').fill('her new passphrase');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    await page.close();
  });

  test('the admin reads the merchant overview, suspends it and closes it once it is owed nothing; its owner can no longer sign in', async () => {
    const merchant = (await p.services.merchants.listMerchants({ limit: 100 })).data.find((m) => m.name === 'North Canteen')!;
    const store = await p.services.merchants.createStore(merchant.id, { name: 'Hall' });
    const pi = await p.services.payments.createIntent(merchant.id, { amount: 1_200, currency: 'eur', storeId: store.id });
    await p.services.payments.confirmWithShopper(pi.id, shopperId, {});

    await admin.getByRole('link', { name: 'Merchants' }).click();
    await admin.getByRole('link', { name: 'North Canteen' }).click();
    await admin.getByRole('heading', { name: 'Overview' }).waitFor();
    const volume = admin.getByRole('table', { name: 'Live money in EUR' });
    const payments = volume.getByRole('row', { name: /Succeeded payments/ });
    assert.deepEqual(await payments.getByRole('cell').allTextContents(), ['€12.00 (1)', '€12.00 (1)'], 'the last 30 days and all time');
    await admin.getByText('0 active, 0 waiting for activation, 0 revoked.').waitFor();
    await admin.getByText('0 open, 0 in all.').waitFor();

    await admin.getByRole('button', { name: 'Suspend merchant' }).click();
    await admin.getByRole('heading', { name: /North Canteen/ }).getByText('suspended').waitFor();
    await admin.getByRole('button', { name: 'Close merchant' }).click();
    const dialog = admin.getByRole('alertdialog', { name: 'Close North Canteen for good?' });
    await dialog.getByText('Closing is final').waitFor();
    await dialog.getByRole('button', { name: 'Close for good' }).click();
    // Still owed the payment less its fee: the server refuses, and says why.
    await admin.getByRole('alert').getByText('its settlement balance must be zero before it is closed').waitFor();
    assert.equal((await p.services.merchants.getMerchant(merchant.id)).status, 'suspended');

    await p.services.payments.createRefund(merchant.id, { paymentIntentId: pi.id, amount: 1_200 });
    await dialog.getByRole('button', { name: 'Close for good' }).click();
    await admin.getByRole('status').getByText('North Canteen is closed.').waitFor();
    await admin.getByRole('heading', { name: /North Canteen/ }).getByText('closed').waitFor();
    await admin.getByText('closing is final').waitFor();
    assert.deepEqual(await volume.getByRole('row', { name: /Refunds/ }).getByRole('cell').allTextContents(), ['€12.00 (1)', '€12.00 (1)']);
    assert.equal(await admin.getByRole('button', { name: 'Reactivate merchant' }).count(), 0, 'nothing reopens it');

    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/console/`);
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('This merchant has been closed by the platform operator').waitFor();
    await page.close();
    assert.deepEqual((await p.services.settlement!.audit()).problems, []);
  });

  test('the operator admin forgets the password: the mailed link opens the operator reset page and works', async () => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/console/#/ops`);
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Your operator e-mail').fill(ADMIN.email);
    await page.getByRole('button', { name: 'Mail me a reset link' }).click();
    await page.getByRole('status').getByText('If an account uses this address').waitFor();
    const link = await mailedLink(ADMIN.email, 'operator-reset-password');
    await page.goto(link);
    await page.getByLabel(/New password/).fill('a new admin password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').getByText('Your password is changed').waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill('a new admin password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Merchants' }).waitFor();
    await page.close();
  });
});
