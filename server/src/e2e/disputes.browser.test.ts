/**
 * "This wasn't me" as the shopper and the merchant meet it: a real server on a real port, the
 * portal and the console as shipped, headless Chromium. The shopper, who paid by face, finds the
 * receipt in her inbox, taps "This wasn't me", confirms, and sees her face pay frozen; the owner
 * finds the dispute in the console, refunds it after a confirmation, and the money is back.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { AttemptRepo } from '../facepay/index.ts';
import { repoRoot } from '../platform/index.ts';
import { ShopperRepo } from '../shoppers/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const ANA = { email: 'ana@example.com', password: 'a long passphrase', name: 'Ana Lima' };
const OWNER = { email: 'owner@shop.test', password: 'owner-password-1' };

describe('"This wasn\'t me" in Chromium: portal and console', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let shopperId = '';
  let paymentId = '';
  const pageErrors: string[] = [];

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['portal', 'console'] });
    p = await testPlatform('sqlite');
    await p.services.staff!.create(p.merchantId, { email: OWNER.email, name: 'Olga Owner', password: OWNER.password, role: 'owner' });
    shopperId = (await p.services.shoppers.signUp(ANA)).shopper.id;
    // The face engine is off here: the enrolled face and the paid face attempt are set in storage as they would be left.
    const now = Date.now();
    await new ShopperRepo(p.db).update(shopperId, { face_enrolled_at: now, face_pay_enabled: 1 });
    await p.services.payments.topUp(shopperId, 10_000, 'eur', 'ana-topup-1');
    const created = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', headers: p.liveAuth, payload: { amount: 1890, currency: 'eur', store: p.storeId } });
    paymentId = created.json().id;
    await p.services.payments.confirmWithShopper(paymentId, shopperId, { merchantId: p.merchantId, mode: 'live' });
    await new AttemptRepo(p.db).insert({
      id: 'fpa_browser_1', intent_id: paymentId, merchant_id: p.merchantId, store_id: p.storeId, terminal_id: 'term_1', method: 'face',
      challenge_id: null, challenge_kind: null, challenge_issued_at: null, challenge_expires_at: null, challenge_used_at: null, expires_at: now + 60_000,
      state: 'paid', outcome: 'succeeded', shopper_id: shopperId, digits_tries_left: 0, coupon_id: null, payment_id: 'tpay_1', created_at: now, updated_at: now,
    });
    await p.services.marketing.addReceipt({ shopperId, merchantId: p.merchantId, merchantName: 'Test Shop', paymentId, amount: 1890, currency: 'EUR', at: now });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the apps');
  });

  test('the shopper reports the face payment from its receipt and face pay is frozen at once', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/portal/`);
    await page.getByLabel('E-mail').fill(ANA.email);
    await page.getByLabel('Password').fill(ANA.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Hello, ${ANA.name}`).waitFor();
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('heading', { name: 'Inbox', level: 2 }).waitFor();
    const receipt = page.locator('li').filter({ hasText: 'Receipt: Paid' });
    await receipt.getByRole('button', { name: /This wasn't me/ }).click();
    const dialog = receipt.getByRole('alertdialog');
    await dialog.getByText('Face pay is switched off at once').waitFor();
    await screenshot(page, 'portal-dispute-confirm');
    // Cancel first: nothing happens.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await p.services.shoppers.get(shopperId)).facePayEnabled, true);
    await receipt.getByRole('button', { name: /This wasn't me/ }).click();
    await receipt.getByRole('button', { name: 'Yes, freeze face pay and report it' }).click();
    await page.getByText('You reported this payment. The shop has been told.').waitFor();
    await page.getByRole('heading', { name: /Face pay is frozen/ }).waitFor();
    await screenshot(page, 'portal-dispute-frozen');
    assert.equal((await p.services.shoppers.get(shopperId)).facePayEnabled, false);
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Face pay' }).click();
    assert.equal(await page.getByLabel('Pay by face at terminals').isChecked(), false, 'the switch shows it off');
    await context.close();
  });

  test('the owner refunds it from the console after a confirmation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${base}/console/`);
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('link', { name: 'Disputes' }).click();
    await page.getByRole('heading', { name: 'Disputes' }).waitFor();
    await page.getByRole('link', { name: paymentId }).waitFor();
    await screenshot(page, 'console-disputes');
    const questions: string[] = [];
    let accept = false;
    page.on('dialog', (d) => {
      questions.push(d.message());
      void (accept ? d.accept() : d.dismiss());
    });
    await page.getByRole('button', { name: `Refund the dispute of ${paymentId}` }).click();
    await page.waitForTimeout(200);
    assert.equal(await p.services.payments.walletBalance(shopperId, 'eur'), 10_000 - 1890, 'dismissed: nothing moved');
    accept = true;
    await page.getByRole('button', { name: `Refund the dispute of ${paymentId}` }).click();
    await page.getByRole('status').filter({ hasText: `Refunded ${paymentId}.` }).waitFor();
    assert.equal(questions.length, 2);
    assert.match(questions[0]!, /€18\.90/);
    assert.equal(await p.services.payments.walletBalance(shopperId, 'eur'), 10_000, 'the money is back');
    await page.getByLabel('Status').selectOption('refunded');
    await page.getByRole('link', { name: paymentId }).waitFor();
    await screenshot(page, 'console-disputes-refunded');
    // The payment itself says it was disputed.
    await page.getByRole('link', { name: paymentId }).click();
    await page.getByRole('status').filter({ hasText: 'The shopper reported this payment as not theirs (refunded' }).waitFor();
    await screenshot(page, 'console-payment-disputed');
    assert.deepEqual((await p.services.payments.audit()).problems, []);
    await context.close();
  });
});
