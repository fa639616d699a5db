/**
 * The merchant console as staff use it: a real server on a real port, the console as shipped,
 * headless Chromium. An owner signs in, creates a terminal and reads its activation code once,
 * refunds part of a payment made through the API after a confirmation (a double click and a retry
 * after a lost answer refund once: one idempotency key per intended refund), sees how each payment
 * was made, creates a campaign after seeing its audience count and confirms its sending; a cashier
 * is refused a refund above their limit, in money, sees members by member id without their
 * names, and no member export. Every main
 * page is kept as a screenshot, at laptop (1280x800) and tablet (1024x768) sizes.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const OWNER = { email: 'owner@bakery.test', password: 'owner-password-1' };
const CASHIER = { email: 'cashier@bakery.test', password: 'cashier-password' };

describe('merchant console in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let owner: { context: BrowserContext; page: Page };
  let paymentId: string;
  const pageErrors: string[] = [];

  async function api<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<T> {
    const r = await p.app.inject({ method, url, headers: p.liveAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.body}`);
    return r.json() as T;
  }

  async function signedIn(who: { email: string; password: string }, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport });
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
    const { staff, members } = p.services;
    await staff!.create(p.merchantId, { email: OWNER.email, name: 'Olga Owner', password: OWNER.password, role: 'owner' });
    await staff!.create(p.merchantId, { email: CASHIER.email, name: 'Carl Cashier', password: CASHIER.password, role: 'cashier', refundLimit: 500 });
    await api('PUT', '/v1/membership/programme', { name: 'Bakery friends', fields: ['name', 'email'], currency: 'EUR', time_zone: 'Europe/Paris' });
    for (const [i, name] of ['Ann Baker', 'Bob Crumb', 'Cleo Dough'].entries()) {
      await members.join({ merchantId: p.merchantId, shopperId: `shp_test_${i}`, fields: { name }, consentVersion: members.consent.version, terminalId: null });
    }
    // Staff sessions are live: a live payment, as a terminal would make it.
    await p.services.payments.topUp('shopper_ann', 10_000, 'eur', 'ann-topup-1');
    const pi = await api<{ id: string }>('POST', '/v1/payment_intents', { amount: 2400, currency: 'eur', store: p.storeId, order_reference: 'Order 1001' });
    // Recorded as a pay-code payment (the terminal's pay-code path records it so; see shoppers.test.ts).
    assert.equal((await p.services.payments.confirmWithShopper(pi.id, 'shopper_ann', { method: 'pay_code' })).status, 'succeeded');
    paymentId = pi.id;
    await api('POST', '/v1/payment_intents', { amount: 900, currency: 'eur', store: p.storeId, order_reference: 'Order 2002' });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
  });

  test('a wrong password is refused; the owner signs in and sees the dashboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/console/`);
    await screenshot(page, 'console-signin');
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await context.close();

    owner = await signedIn(OWNER);
    const { page: o } = owner;
    await o.getByText('Sales today').waitFor();
    await o.locator('.stat').filter({ hasText: 'Sales today' }).getByText('€24.00').waitFor();
    await o.locator('.chart canvas').first().waitFor();
    assert.equal(await o.locator('.chart').count(), 3);
    await screenshot(o, 'console-dashboard');
    const cookies = await owner.context.cookies();
    const session = cookies.find((c) => c.name === 'fp_staff');
    assert.ok(session?.httpOnly, 'the staff session cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Strict');
  });

  test('the owner creates a terminal and reads its activation code once', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Stores & terminals' }).click();
    await page.getByRole('heading', { name: 'New terminal' }).waitFor();
    await page.getByLabel('Name (e.g. Till 2)').fill('Till 9');
    await page.getByRole('button', { name: 'Create terminal' }).click();
    const code = (await page.getByTestId('shown-once').textContent())?.trim() ?? '';
    assert.match(code, /\S{6,}/);
    await page.getByRole('cell', { name: /^Till 9/ }).waitFor();
    await screenshot(page, 'console-stores-terminals');
    const list = await api<{ data: { label: string; status: string }[] }>('GET', `/v1/stores/${p.storeId}/terminals`);
    assert.deepEqual(
      list.data.filter((t) => t.label === 'Till 9').map((t) => t.status),
      ['pending'],
    );
  });

  test('the owner finds the payment and refunds part of it', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('link', { name: 'Order 2002' }).waitFor();
    await screenshot(page, 'console-payments');
    // The server searches: an order number's start, then an amount range that leaves nothing.
    await page.getByLabel('Payment id or order number').fill('Order 10');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Order 2002' }).waitFor({ state: 'detached' });
    await page.getByLabel('Amount from (EUR)').fill('25');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No payments match.').waitFor();
    await page.getByLabel('Amount from (EUR)').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Order 1001' }).click();
    await page.getByRole('heading', { name: 'Refund', exact: true }).waitFor();
    await page.getByTestId('payment-method').filter({ hasText: 'Pay code' }).waitFor();
    // The amount starts empty: nobody refunds everything by accident.
    assert.equal(await page.getByLabel('Amount (EUR)').inputValue(), '');
    await page.getByLabel('Amount (EUR)').fill('5.00');
    await page.getByLabel('Reason (optional)').fill('Stale croissant');
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/refunds')) posts.push(r.headers()['idempotency-key'] ?? '');
    });
    await page.getByRole('button', { name: 'Refund…' }).click();
    const confirmText = page.getByTestId('refund-confirm-text');
    await confirmText.filter({ hasText: "Refund €5.00 of €24.00 for Order 1001 to the shopper's wallet, now? €19.00 will be left to refund." }).waitFor();
    await screenshot(page, 'console-refund-confirm');
    assert.equal(posts.length, 0, 'nothing is sent before the confirmation');
    // A double click on the confirmation refunds once. Here both clicks land before the page can
    // redraw (and disable the button), as on a slow machine: both requests go, with one key.
    await page.getByRole('button', { name: 'Refund €5.00' }).evaluate((b: HTMLButtonElement) => {
      b.click();
      b.click();
    });
    await page.getByRole('status').filter({ hasText: 'Refunded €5.00' }).waitFor();
    await page.getByTestId('amount-refunded').filter({ hasText: '€5.00' }).waitFor();
    assert.equal(posts.length, 2, 'both clicks sent the refund');
    assert.equal(posts[0], posts[1], 'with one key');
    let refunds = await api<{ data: { amount: number }[] }>('GET', `/v1/refunds?payment_intent=${paymentId}`);
    assert.deepEqual(refunds.data.map((r) => r.amount), [500], 'one refund');
    // After the refund the form starts again.
    assert.equal(await page.getByLabel('Amount (EUR)').inputValue(), '');
    assert.equal(await page.getByLabel('Reason (optional)').inputValue(), '');
    assert.equal(await confirmText.count(), 0);
    await screenshot(page, 'console-payment-detail');

    // The answer is lost on the way back (the server refunded): trying again sends the same key and refunds nothing more.
    await page.route('**/v1/refunds', async (route) => {
      await route.fetch();
      await route.abort('connectionreset');
    }, { times: 1 });
    posts.length = 0;
    await page.getByLabel('Amount (EUR)').fill('1.00');
    await page.getByRole('button', { name: 'Refund…' }).click();
    await page.getByRole('button', { name: 'Refund €1.00' }).click();
    await page.getByRole('alert').filter({ hasText: 'Something went wrong' }).waitFor();
    await page.getByRole('button', { name: 'Try again: Refund €1.00' }).click();
    await page.getByRole('status').filter({ hasText: 'Refunded €1.00' }).waitFor();
    assert.equal(posts.length, 2);
    assert.equal(posts[0], posts[1], 'the retry carries the first try\'s key');
    refunds = await api<{ data: { amount: number }[] }>('GET', `/v1/refunds?payment_intent=${paymentId}`);
    assert.deepEqual(refunds.data.map((r) => r.amount).sort(), [100, 500], 'the lost answer and its retry made one refund');
    const pi = await api<{ amount_refunded: number }>('GET', `/v1/payment_intents/${paymentId}`);
    assert.equal(pi.amount_refunded, 600);
    await page.getByRole('link', { name: '← All payments' }).click();
    await page.getByRole('row').filter({ hasText: 'Order 1001' }).getByTestId('payment-method').filter({ hasText: 'Pay code' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Order 2002' }).getByTestId('payment-method').filter({ hasText: 'Not recorded' }).waitFor();
  });

  test('members: the CRM list and a profile, with the CSV export for the owner', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('link', { name: 'Bob Crumb' }).waitFor();
    assert.equal(await page.getByRole('link', { name: /Export these members/ }).count(), 1);
    await screenshot(page, 'console-members');
    await page.getByRole('link', { name: 'Bob Crumb' }).click();
    await page.getByRole('heading', { name: 'Bob Crumb' }).waitFor();
    await page.getByLabel('Add a tag').fill('regular');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('button', { name: 'Remove tag regular' }).waitFor();
    await screenshot(page, 'console-member-profile');
  });

  test('the owner creates a campaign after seeing its audience count, then its results', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByTestId('audience-count').filter({ hasText: '3 members in this audience now.' }).waitFor();
    await page.getByLabel('Who').selectOption('tag');
    await page.getByLabel('Tag').fill('regular');
    await page.getByTestId('audience-count').filter({ hasText: '1 member in this audience now.' }).waitFor();
    await page.getByLabel('Who').selectOption('all');
    await page.getByTestId('audience-count').filter({ hasText: '3 members' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Winter treat');
    await page.getByLabel('Amount off (EUR)').fill('2.50');
    await page.getByLabel('Holdout (%)').fill('20');
    await screenshot(page, 'console-campaign-new');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('heading', { name: 'Winter treat' }).waitFor();
    await page.getByTestId('uplift-summary').waitFor();
    await page.getByRole('button', { name: 'Send to the audience now' }).click();
    // Nothing is sent before the confirmation, which says whom it reaches and with what.
    await page.getByTestId('send-confirm-text').filter({ hasText: '3 members in this audience, less the 20 % holdout' }).waitFor();
    await page.getByTestId('send-confirm-text').filter({ hasText: '€2.50 off' }).waitFor();
    assert.equal((await api<{ coupons_issued: number }>('GET', `/v1/campaigns/${(await api<{ data: { id: string; name: string }[] }>('GET', '/v1/campaigns')).data.find((x) => x.name === 'Winter treat')!.id}/results`)).coupons_issued, 0);
    await page.getByRole('button', { name: 'Yes, send to 3 members' }).click();
    await page.getByRole('status').filter({ hasText: /Issued \d coupons/ }).waitFor();
    await screenshot(page, 'console-campaign-results');
    const list = await api<{ data: { name: string; holdout_percent: number; reward: { amount: number } }[] }>('GET', '/v1/campaigns');
    const c = list.data.find((x) => x.name === 'Winter treat');
    assert.equal(c?.holdout_percent, 20);
    assert.equal(c?.reward.amount, 250);
    await page.getByRole('link', { name: '← Campaigns' }).click();
    await page.getByRole('link', { name: 'Winter treat' }).waitFor();
    await screenshot(page, 'console-campaigns');
  });

  test('settings: API keys with the secret shown once, webhooks, programme and staff', async () => {
    const { page } = owner;
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByLabel("New key's name").fill('Till software');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('shown-once').textContent())?.trim() ?? '';
    assert.match(secret, /^sk_live_/);
    await page.getByRole('heading', { name: 'Staff' }).waitFor();
    await page.getByRole('cell', { name: 'Carl Cashier', exact: true }).waitFor();
    await screenshot(page, 'console-settings');
  });

  test('a cashier is refused a refund above their limit and sees no member export', async () => {
    const cashier = await signedIn(CASHIER);
    const { page } = cashier;
    assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 1);
    await page.goto(`${base}/console/#/payments/${paymentId}`);
    await page.getByRole('heading', { name: 'Refund', exact: true }).waitFor();
    await page.getByLabel('Amount (EUR)').fill('6.00');
    await page.getByRole('button', { name: 'Refund…' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'refund limit' });
    await refused.waitFor();
    assert.match((await refused.textContent()) ?? '', /€5\.00/);
    assert.doesNotMatch((await refused.textContent()) ?? '', /minor units|\b500\b/);
    await screenshot(page, 'console-cashier-refund-refused');
    const pi = await api<{ amount_refunded: number }>('GET', `/v1/payment_intents/${paymentId}`);
    assert.equal(pi.amount_refunded, 600, 'nothing more was refunded');
    await page.getByRole('link', { name: 'Members' }).click();
    // A cashier sees members by member id with their visits, never their names or other shared fields.
    await page.getByRole('link', { name: /^mem_/ }).first().waitFor();
    assert.equal(await page.getByRole('link', { name: /^mem_/ }).count(), 3);
    for (const name of ['Ann Baker', 'Bob Crumb', 'Cleo Dough']) assert.equal(await page.getByText(name).count(), 0, `a cashier sees ${name}`);
    assert.equal(await page.getByLabel('Name, e-mail or phone').count(), 0, 'no search of the personal fields');
    await screenshot(page, 'console-cashier-members');
    assert.equal(await page.getByRole('link', { name: /Export these members/ }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Campaigns' }).count(), 1);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'Winter treat' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'New campaign' }).count(), 0);
    await cashier.context.close();
  });

  test('at tablet width the pages still fit: no sideways scrolling', async () => {
    const tablet = await signedIn(OWNER, { width: 1024, height: 768 });
    const { page } = tablet;
    for (const [hash, name] of [
      ['dashboard', 'console-tablet-dashboard'],
      ['payments', 'console-tablet-payments'],
      ['members', 'console-tablet-members'],
      ['campaigns/new', 'console-tablet-campaign-new'],
      ['settings', 'console-tablet-settings'],
    ] as const) {
      await page.goto(`${base}/console/#/${hash}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${hash} scrolls sideways by ${overflow}px at 1024`);
      await screenshot(page, name);
    }
    await tablet.context.close();
    assert.deepEqual(pageErrors, []);
  });
});
