/**
 * "Your data" in the shopper portal, in headless Chromium at a phone's width: the shopper downloads
 * her data (the password asked again; a JSON file with her account and no face template), is told
 * that a wallet holding money must be emptied before deletion, and once it is empty deletes her
 * account with a last confirmation: she is signed out and cannot sign in again.
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

const GIA = { name: 'Gia Romano', email: 'gia.romano@example.com', password: 'a long passphrase' };

describe('shopper portal: your data (export, delete) in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shopperId = '';
  const pageErrors: string[] = [];

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['portal'] });
    p = await testPlatform('sqlite');
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the portal');
  });

  test('she signs up and opens Your data', async () => {
    await page.goto(`${base}/portal/`);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Your name').fill(GIA.name);
    await page.getByLabel('E-mail').fill(GIA.email);
    await page.getByLabel('Password').fill(GIA.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`Hello, ${GIA.name}`).waitFor();
    shopperId = (await p.services.shoppers.findByEmail(GIA.email))!.id;
    await p.services.payments.topUp(shopperId, 2_500, 'eur', `${shopperId}:seed`);
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Your data' }).click();
    await page.getByRole('heading', { name: 'Your data', level: 2 }).waitFor();
    await page.getByText('legal period').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scroll at 390 px (${overflow} px too wide)`);
    await screenshot(page, 'portal-your-data');
  });

  test('the export asks for the password and downloads her data, without any face template', async () => {
    await page.getByLabel('Your account password').first().fill('not my password');
    await page.getByRole('button', { name: 'Download my data' }).click();
    await page.getByRole('status').filter({ hasText: 'That is not your account password.' }).waitFor();
    await page.getByLabel('Your account password').first().fill(GIA.password);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my data' }).click()]);
    assert.match(download.suggestedFilename(), /^facepay-data-\d{4}-\d{2}-\d{2}\.json$/);
    const text = await readFile((await download.path())!, 'utf8');
    const data = JSON.parse(text) as { account: { email: string; name: string }; wallets: { available: number }[]; face: { templates: unknown[] } };
    assert.equal(data.account.email, GIA.email);
    assert.equal(data.account.name, GIA.name);
    assert.equal(data.wallets[0]?.available, 2_500);
    assert.ok(!/ciphertext|vector|embedding/i.test(text));
    await page.getByText(`Downloaded ${download.suggestedFilename()}.`).waitFor();
  });

  test('deleting is refused while the wallet holds money, then done after a last confirmation', async () => {
    const password = page.locator('#delete-password');
    await password.fill(GIA.password);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('alertdialog').waitFor();
    await screenshot(page, 'portal-delete-confirm');
    await page.getByRole('button', { name: 'Yes, delete my account' }).click();
    await page.getByRole('alert').filter({ hasText: 'Your wallet still holds money' }).waitFor();
    assert.equal((await p.services.rights!.deletionOf(shopperId)), null, 'nothing was deleted');

    // She spends the balance at a shop.
    const created = await p.app.inject({ method: 'POST', url: '/v1/payment_intents', headers: p.liveAuth, payload: { amount: 2_500, currency: 'eur', store: p.storeId } });
    await p.services.payments.confirmWithShopper(created.json().id, shopperId, { merchantId: p.merchantId, mode: 'live' });

    await password.fill(GIA.password);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('button', { name: 'Keep my account' }).click();
    assert.equal(await page.getByRole('alertdialog').count(), 0, 'keeping the account closes the question');
    await password.fill(GIA.password);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('button', { name: 'Yes, delete my account' }).click();
    await page.getByText('Your account was deleted.').waitFor();
    await page.getByRole('heading', { name: 'Sign in to Facepay' }).waitFor();
    await screenshot(page, 'portal-account-deleted');
    assert.equal((await p.services.rights!.deletionOf(shopperId))?.status, 'done');

    await page.getByLabel('E-mail').fill(GIA.email);
    await page.getByLabel('Password').fill(GIA.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That e-mail and password do not match.' }).waitFor();
    assert.deepEqual((await p.services.ledger.verify()).ok, true);
  });
});
