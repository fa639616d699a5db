/**
 * The console's money pages in Chromium, as an owner and a cashier use them: the payments list
 * says how each payment was made, by which member (a link to the profile), with which coupon and
 * at which terminal, by name; the owner downloads the payments as CSV and it holds the payment;
 * a store's id copies to the clipboard with a visible "Copied"; the sales chart's axis starts at
 * zero; a cashier sees member ids in payments and no download.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const OWNER = { email: 'owner@money.test', password: 'owner-password-1' };
const CASHIER = { email: 'cashier@money.test', password: 'cashier-password' };
const DAY = 86_400_000;

describe('console money pages in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 300_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let owner: { context: BrowserContext; page: Page };
  let memberId: string;
  let memberPayment: string;
  const pageErrors: string[] = [];

  async function signedIn(who: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/console/`);
    await page.getByLabel('E-mail').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    return { context, page };
  }

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['console'] });
    p = await testPlatform('sqlite');
    const { staff, members, marketing, payments, devices } = p.services;
    await staff!.create(p.merchantId, { email: OWNER.email, name: 'Olga Owner', password: OWNER.password, role: 'owner' });
    await staff!.create(p.merchantId, { email: CASHIER.email, name: 'Carl Cashier', password: CASHIER.password, role: 'cashier' });
    await members.setProgramme(p.merchantId, { name: 'Club', benefits: '', fields: ['name'], currency: 'EUR', timeZone: 'UTC' });
    memberId = (await members.join({ merchantId: p.merchantId, shopperId: 'shopper_rita', fields: { name: 'Rita Private' }, consentVersion: members.consent.version, terminalId: null })).memberId;
    const now = p.clock.now().getTime();
    const campaign = await marketing.createCampaign(p.merchantId, {
      name: 'Winter treat',
      trigger: 'manual',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 300 },
      currency: 'EUR',
      validFrom: now,
      validTo: now + 30 * DAY,
      holdoutPercent: 0,
    });
    await marketing.issueNow(p.merchantId, campaign.id);
    const [coupon] = await marketing.couponsOf(p.merchantId, memberId);
    const { terminal } = await devices!.createTerminal({ merchantId: p.merchantId, storeId: p.storeId, label: 'Till 3' });
    // Live payments, as the terminal's checkout makes them: the coupon, the method, then the CRM step.
    await payments.topUp('shopper_rita', 10_000, 'eur', 'rita-1');
    await payments.topUp('shopper_sam', 10_000, 'eur', 'sam-1');
    const a = await payments.createIntent(p.merchantId, { amount: 2400, currency: 'eur', storeId: p.storeId, terminalId: terminal.id, orderReference: 'Order 1001' });
    await payments.confirmWithShopper(a.id, 'shopper_rita', { discount: 300, couponId: coupon!.id, method: 'face_pin' });
    await members.recordPayment({ merchantId: p.merchantId, shopperId: 'shopper_rita', paymentId: a.id, storeId: p.storeId, amount: 2100, currency: 'EUR', at: now });
    memberPayment = a.id;
    const b = await payments.createIntent(p.merchantId, { amount: 905, currency: 'eur', storeId: p.storeId, orderReference: 'Order 2002' });
    await payments.confirmWithShopper(b.id, 'shopper_sam', { method: 'pay_code' });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    owner = await signedIn(OWNER);
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
  });

  test("the dashboard's charts start their y axis at zero, the sales one in euros", async () => {
    const { page } = owner;
    await page.locator('.chart-box[data-y-ticks]').nth(2).waitFor();
    const ticks = await page.locator('.chart-box').evaluateAll((els) => els.map((e) => (e.getAttribute('data-y-ticks') ?? '').split('|')));
    assert.equal(ticks[0]![0], '€0.00', `sales ticks ${ticks[0]}`);
    assert.ok(ticks[0]!.every((x) => /^€\d+(,\d{3})*\.\d{2}$/.test(x)), `sales ticks are euros: ${ticks[0]}`);
    assert.ok(ticks[0]!.length >= 2, 'more than one tick');
    assert.equal(ticks[1]![0], '0', `payment count ticks ${ticks[1]}`);
    assert.ok(ticks[1]!.every((x) => /^\d+$/.test(x)), `whole payments: ${ticks[1]}`);
    await screenshot(page, 'console-money-dashboard');
  });

  test('payments show method, member, coupon and terminal by name; the member opens their profile', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Payments', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'Order 1001' });
    await row.getByTestId('payment-method').filter({ hasText: 'Face and PIN' }).waitFor();
    await row.getByTestId('payment-terminal').filter({ hasText: 'Till 3' }).waitFor();
    await row.getByTestId('payment-coupon').filter({ hasText: 'Winter treat (€3.00 off)' }).waitFor();
    await row.getByRole('link', { name: memberId }).waitFor();
    const other = page.getByRole('row').filter({ hasText: 'Order 2002' });
    await other.getByTestId('payment-method').filter({ hasText: 'Pay code' }).waitFor();
    assert.equal((await other.getByTestId('payment-member').textContent())?.trim(), '—');
    await screenshot(page, 'console-money-payments');
    // The wider table still fits a tablet: no sideways scrolling at 1024 px.
    await page.setViewportSize({ width: 1024, height: 768 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the payments page scrolls sideways by ${overflow}px at 1024`);
    await screenshot(page, 'console-money-tablet-payments');
    await page.setViewportSize({ width: 1280, height: 800 });
    await row.getByRole('link', { name: memberId }).click();
    await page.getByRole('heading', { name: 'Rita Private' }).waitFor();
    await page.goto(`${base}/console/#/payments/${memberPayment}`);
    await page.getByTestId('payment-terminal').filter({ hasText: 'Till 3' }).waitFor();
    await page.getByTestId('payment-member').getByRole('link', { name: memberId }).waitFor();
    await page.getByTestId('payment-coupon').filter({ hasText: 'Winter treat' }).waitFor();
    await screenshot(page, 'console-money-payment-detail');
  });

  test('the owner downloads the payments as CSV, with the payment in it', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Payments', exact: true }).click();
    await page.getByRole('link', { name: 'Order 2002' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    assert.match(download.suggestedFilename(), /^payments-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const line = csv.split('\r\n').find((l) => l.startsWith(memberPayment));
    assert.ok(line, `the payment is in the file:\n${csv}`);
    for (const cell of ['EUR', '24.00', '21.00', '2400', 'face_pin', 'Till 3', memberId, 'Winter treat', 'Order 1001']) assert.ok(line.split(',').includes(cell), `${cell} in ${line}`);
    // A filtered list downloads what it shows.
    await page.getByLabel('Status').selectOption('requires_face');
    await page.getByText('No payments match.').waitFor();
    const [filtered] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    assert.equal((await readFile((await filtered.path())!, 'utf8')).trim().split('\r\n').length, 1, 'the header alone');
  });

  test("a store's id copies to the clipboard with a visible Copied", async () => {
    const { page, context } = owner;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.getByRole('link', { name: 'Stores & terminals' }).click();
    await page.getByTestId('store-id').filter({ hasText: p.storeId }).waitFor();
    await page.getByRole('button', { name: 'Copy the store id of Main street' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), p.storeId);
    await screenshot(page, 'console-money-store-id');
  });

  test('a cashier sees member ids in payments, never their names, and no CSV download', async () => {
    const cashier = await signedIn(CASHIER);
    const { page } = cashier;
    await page.getByRole('link', { name: 'Payments', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'Order 1001' });
    await row.getByRole('link', { name: memberId }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Download CSV' }).count(), 0);
    await row.getByRole('link', { name: memberId }).click();
    await page.getByRole('heading', { name: memberId }).waitFor();
    assert.equal(await page.getByText('Rita Private').count(), 0);
    await cashier.context.close();
    assert.deepEqual(pageErrors, []);
  });
});
