/**
 * Chinese end to end, in CNY: a real server whose wallets are in CNY, the portal and the terminal
 * as shipped, headless Chromium whose browser language is zh-CN. A shopper signs up in Chinese,
 * tops up in yuan, pays at the terminal with a pay code; every screen shows Chinese words and ¥
 * amounts with two decimals, the payment history says 付款码 with a Chinese date, and a server
 * error is worded in Chinese from its code. The language switch changes the portal to English and
 * is remembered after a reload. The console, switched back to Chinese, lists the payment in ¥
 * with its method and confirms a ¥1.00 refund in Chinese. No face is used (the face engine stays
 * off). Screens are kept.
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

const SHOPPER = { name: '王小明', email: 'xiaoming@example.com', password: 'a long passphrase' };

describe('portal, terminal and console in Chinese with CNY in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let portal: Page;
  let terminal: Page;
  let terminalId = '';
  let paymentId = '';
  const pageErrors: string[] = [];

  async function api<T = Record<string, any>>(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<T> {
    const r = await p.app.inject({ method, url, headers: p.liveAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.body}`);
    return r.json() as T;
  }
  const screen = (name: string) => terminal.locator(`main[data-screen="${name}"]`).waitFor({ timeout: 20_000 });

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['portal', 'terminal', 'console'] });
    p = await testPlatform('sqlite', { env: { FACEPAY_WALLET_CURRENCY: 'CNY' } });
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    // The browser's language is Chinese: the apps pick it up from navigator.languages.
    context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 390, height: 844 } });
    portal = await context.newPage();
    terminal = await context.newPage();
    for (const page of [portal, terminal]) page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the apps');
  });

  test('the portal in zh-CN: sign-up in Chinese, a server error worded in Chinese, the wallet in ¥', async () => {
    await portal.goto(`${base}/portal/`);
    await portal.getByRole('heading', { name: '登录 Facepay' }).waitFor();
    assert.equal(await portal.evaluate(() => document.documentElement.lang), 'zh-CN');
    // A wrong password: the server's code, in Chinese, not its English text.
    await portal.getByLabel('电子邮箱').fill('nobody@example.com');
    await portal.getByLabel('密码').fill('not the password');
    await portal.getByRole('button', { name: '登录', exact: true }).click();
    await portal.getByRole('alert').filter({ hasText: '电子邮箱或密码错误。' }).waitFor();
    await screenshot(portal, 'i18n-zh-portal-signin-error');
    await portal.getByRole('button', { name: '新用户？注册账户' }).click();
    await portal.getByLabel('您的姓名').fill(SHOPPER.name);
    await portal.getByLabel('电子邮箱').fill(SHOPPER.email);
    await portal.getByLabel('密码').fill(SHOPPER.password);
    await portal.getByRole('button', { name: '注册账户' }).click();
    await portal.getByText(`您好，${SHOPPER.name}`).waitFor();
    await portal.getByRole('heading', { name: '钱包', level: 2 }).waitFor();
    const me = await (await context.request.get(`${base}/v1/shopper/me`)).json();
    assert.equal(me.wallet.currency.toUpperCase(), 'CNY');
    // A live top-up waits for its rail; the money comes as a confirmed credit would bring it: ¥123.45 is 12345 fen.
    await p.services.payments.topUp(me.id, 12_345, 'cny', 'zh-seed-1');
    await portal.reload();
    await portal.locator('.balance').filter({ hasText: '¥123.45' }).waitFor();
    await portal.getByLabel('充值（CNY）').waitFor();
    await screenshot(portal, 'i18n-zh-portal-wallet');
  });

  test('the terminal in zh-CN shows Chinese and ¥ amounts, and a pay code pays ¥12.50', async () => {
    const t = await api<{ id: string; activation_code: string }>('POST', '/v1/terminals', { store: p.storeId, label: '一号收银台' });
    terminalId = t.id;
    await terminal.goto(`${base}/terminal/`);
    await terminal.getByRole('heading', { name: '设置此终端' }).waitFor();
    await terminal.getByLabel('激活码').fill(t.activation_code);
    await terminal.getByRole('button', { name: '激活' }).click();
    await screen('idle');
    await terminal.getByRole('heading', { name: '就绪' }).waitFor();
    const pi = await api<{ id: string }>('POST', '/v1/payment_intents', { amount: 1250, currency: 'cny', store: p.storeId, terminal: terminalId, description: '两杯咖啡' });
    await screen('amount');
    await terminal.locator('.amount').filter({ hasText: '¥12.50' }).waitFor();
    await terminal.getByRole('button', { name: '刷脸支付' }).waitFor();
    await screenshot(terminal, 'i18n-zh-terminal-amount');
    await terminal.getByRole('button', { name: '其他方式付款' }).click();
    await screen('other_way');
    await portal.getByRole('button', { name: '显示付款码' }).click();
    const code = (await portal.getByLabel('付款码', { exact: true }).textContent())!.replace(/\s/g, '');
    assert.match(code, /^\d{12}$/);
    await terminal.getByLabel('付款码').fill(code);
    await terminal.getByRole('button', { name: '用付款码支付' }).click();
    await screen('done');
    await terminal.getByRole('heading', { name: '✓ 已支付' }).waitFor();
    await screenshot(terminal, 'i18n-zh-terminal-paid');
    paymentId = pi.id;
    const paid = await api<{ status: string; currency: string; amount_received: number; payment_method: string }>('GET', `/v1/payment_intents/${pi.id}`);
    assert.deepEqual([paid.status, paid.currency.toUpperCase(), paid.amount_received, paid.payment_method], ['succeeded', 'CNY', 1250, 'pay_code']);
  });

  test('the payment history says 付款码 with a Chinese date and ¥; the switch to English is remembered', async () => {
    await portal.getByRole('link', { name: '付款记录' }).click();
    await portal.getByRole('heading', { name: '付款记录', level: 2 }).waitFor();
    await portal.getByTestId('payment-method').filter({ hasText: '付款码' }).waitFor();
    const row = portal.locator('tbody tr').first();
    assert.match((await row.textContent()) ?? '', /¥12\.50/);
    assert.match((await row.textContent()) ?? '', /\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/, 'one Chinese date-and-time format');
    await screenshot(portal, 'i18n-zh-portal-payments');
    await portal.getByRole('combobox', { name: '语言' }).selectOption('en');
    await portal.getByRole('heading', { name: 'Payments', level: 2 }).waitFor();
    await portal.getByTestId('payment-method').filter({ hasText: 'Pay code' }).waitFor();
    await portal.reload();
    await portal.getByRole('heading', { name: 'Payments', level: 2 }).waitFor();
    assert.equal(await portal.evaluate(() => document.documentElement.lang), 'en-GB');
    assert.match((await portal.locator('tbody tr').first().textContent()) ?? '', /¥12\.50/);
    await screenshot(portal, 'i18n-en-portal-payments');
  });

  test('the console in zh-CN: the payment in ¥ with its method, and a refund confirmed in Chinese', async () => {
    await p.services.staff!.create(p.merchantId, { email: 'owner@example.com', name: '李店长', password: 'owner passphrase', role: 'owner' });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${base}/console/`);
    // The portal's switch chose English for this browser: the console follows it, and is switched back here.
    await page.getByRole('heading', { name: 'Facepay merchant console' }).waitFor();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
    await page.getByRole('heading', { name: 'Facepay 商户后台' }).waitFor();
    await page.getByLabel('电子邮箱').fill('owner@example.com');
    await page.getByLabel('密码').fill('owner passphrase');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('navigation', { name: '后台' }).getByRole('link', { name: '付款' }).click();
    await page.getByRole('heading', { name: '付款', level: 1 }).waitFor();
    const row = page.locator('tbody tr').filter({ hasText: paymentId });
    await row.getByTestId('payment-method').filter({ hasText: '付款码' }).waitFor();
    assert.match((await row.textContent()) ?? '', /¥12\.50/);
    await screenshot(page, 'i18n-zh-console-payments');
    await page.goto(`${base}/console/#/payments/${paymentId}`);
    await page.getByLabel('金额（CNY）').fill('1.00');
    await page.getByRole('button', { name: '退款…' }).click();
    const confirm = page.getByTestId('refund-confirm-text');
    await confirm.filter({ hasText: '¥1.00' }).waitFor();
    assert.match((await confirm.textContent()) ?? '', /之后还可退 ¥11\.50。/);
    await page.getByRole('button', { name: '退款 ¥1.00' }).click();
    await page.getByRole('status').filter({ hasText: '已退款 ¥1.00。' }).waitFor();
    await page.getByTestId('amount-refunded').filter({ hasText: '¥1.00' }).waitFor();
    await screenshot(page, 'i18n-zh-console-refunded');
    const refunded = await api<{ amount_refunded: number }>('GET', `/v1/payment_intents/${paymentId}`);
    assert.equal(refunded.amount_refunded, 100, 'one yuan is 100 fen');
  });
});
