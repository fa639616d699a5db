/**
 * The console's Settlements page as an owner sees it: yesterday's live payments closed into a
 * statement, the 30-day chart, a statement's transfers, and the CSV downloads. Screenshot kept.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ManualClock, repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const OWNER = { email: 'owner@canteen.test', password: 'owner-password-1' };

describe('console settlements in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 180_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  const clock = new ManualClock(new Date(Date.now() - 3 * 86_400_000));

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as { buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]> };
    await buildApps({ quiet: true, only: ['console'] });
    p = await testPlatform('sqlite', { env: { FACEPAY_SETTLEMENT_GRACE_MS: '0', FACEPAY_PLATFORM_FEE_BPS: '200' }, overrides: { clock } });
    await p.services.staff!.create(p.merchantId, { email: OWNER.email, name: 'Olga Owner', password: OWNER.password, role: 'owner' });
    const s = p.services.settlement!;
    await p.services.payments.topUp('shopper_ann', 100_000, 'eur', 'ann-topup-1');
    for (const [day, amounts] of [[0, [1_200, 850, 2_400]], [1, [3_100, 990]], [2, [4_500]]] as const) {
      clock.set(new Date(Date.now() - (3 - day) * 86_400_000));
      for (const amount of amounts) {
        const pi = await p.services.payments.createIntent(p.merchantId, { amount, currency: 'eur', storeId: p.storeId });
        await p.services.payments.confirmWithShopper(pi.id, 'shopper_ann');
      }
    }
    clock.set(new Date());
    assert.equal((await s.closeDays()).length, 3);
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
  });

  test('the owner sees the statements, the chart, one statement with its transfers, and downloads the CSV', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/console/`);
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('link', { name: 'Settlements' }).click();
    await page.getByRole('heading', { name: 'Settlements' }).waitFor();
    await screenshot(page, 'console-settlements-list');
    await page.getByText('Net per day, last 30 days', { exact: true }).waitFor();
    const rows = page.getByRole('table', { name: 'Statements, newest first' }).locator('tbody tr');
    assert.equal(await rows.count(), 3);
    await rows.first().getByRole('button').click();
    await page.getByRole('heading', { name: /^Statement of / }).waitFor();
    assert.equal((await rows.first().locator('th').textContent())?.trim(), new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    // 1 payment and 1 fee on the newest day.
    assert.equal(await page.locator('section[aria-label^="Statement of"] tbody tr').count(), 2);
    await screenshot(page, 'console-settlements');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download statements as CSV' }).click();
    const d = await download;
    assert.equal(d.suggestedFilename(), 'settlements.csv');
    const csv = await page.request.get(`${base}/v1/settlements/export.csv`);
    assert.equal(csv.status(), 200);
    assert.equal((await csv.text()).trim().split('\n').length, 4);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
