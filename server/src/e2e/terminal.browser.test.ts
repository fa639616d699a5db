/**
 * The terminal without the face: a real server on a real port, the terminal app as shipped,
 * headless Chromium with no camera (the face engine is off). The till's order description shows
 * with the amount; a mistyped pay code can be typed again while the payment stays open; with the
 * platform out of reach the terminal says "Offline" and clears it when the connection returns,
 * and a charge typed while offline is sent once, when it can be. Each screen is kept as a screenshot.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

describe('terminal without the face in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let page: Page;
  let terminalId = '';
  let cookie = '';
  const pageErrors: string[] = [];

  async function api<T = Record<string, any>>(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<T> {
    const r = await p.app.inject({ method, url, headers: p.liveAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.body}`);
    return r.json() as T;
  }
  async function asShopper<T = Record<string, any>>(method: string, url: string, body?: unknown): Promise<T> {
    const r = await fetch(base + url, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!cookie) cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
    const json = (await r.json()) as T;
    assert.ok(r.ok, `${method} ${url}: ${JSON.stringify(json)}`);
    return json;
  }
  const screen = (name: string) => page.locator(`main[data-screen="${name}"]`).waitFor({ timeout: 20_000 });

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['terminal'] });
    p = await testPlatform('sqlite');
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    await asShopper('POST', '/v1/shopper/signup', { email: 'tia@example.com', password: 'a long passphrase', name: 'Tia Terminal' });
    await asShopper('POST', '/v1/shopper/topups', { amount: 10_000, currency: 'eur' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const t = await api<{ id: string; activation_code: string }>('POST', '/v1/terminals', { store: p.storeId, label: 'Till 1' });
    terminalId = t.id;
    await page.goto(`${base}/terminal/`);
    await page.getByLabel('Activation code').fill(t.activation_code);
    await page.getByRole('button', { name: 'Activate' }).click();
    await screen('idle');
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the terminal');
  });

  test("the till's description shows with the amount; a mistyped pay code is typed again and pays", async () => {
    const pi = await api<{ id: string }>('POST', '/v1/payment_intents', {
      amount: 1250,
      currency: 'eur',
      store: p.storeId,
      terminal: terminalId,
      order_reference: 'R-1001',
      description: '2 coffees, 1 croissant',
    });
    await screen('amount');
    await page.getByTestId('order-description').filter({ hasText: '2 coffees, 1 croissant · R-1001' }).waitFor();
    await page.getByText('€12.50').first().waitFor();
    await screenshot(page, 'terminal-amount-description');
    await page.getByRole('button', { name: 'Pay another way' }).click();
    await screen('other_way');
    const { code } = await asShopper<{ code: string }>('POST', '/v1/shopper/pay_codes', {});
    // One digit wrong: the last one.
    const wrong = code.slice(0, 11) + String((Number(code[11]) + 1) % 10);
    await page.getByLabel('Pay code').fill(wrong);
    await page.getByRole('button', { name: 'Pay with code' }).click();
    await page.getByRole('heading', { name: 'Try again' }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'That pay code was not accepted' }).waitFor();
    assert.equal(await page.getByText('Not paid').count(), 0);
    assert.equal(await page.getByLabel('Pay code').inputValue(), wrong, 'the code is there to be corrected');
    await page.getByTestId('order-description').waitFor();
    await screenshot(page, 'terminal-pay-code-try-again');
    assert.equal((await api<{ status: string }>('GET', `/v1/payment_intents/${pi.id}`)).status, 'requires_face', 'the payment is still open');
    await page.getByLabel('Pay code').fill(code);
    await page.getByRole('button', { name: 'Pay with code' }).click();
    await screen('done');
    await page.getByRole('heading', { name: '✓ Paid' }).waitFor();
    const paid = await api<{ status: string; payment_method: string }>('GET', `/v1/payment_intents/${pi.id}`);
    assert.deepEqual([paid.status, paid.payment_method], ['succeeded', 'pay_code']);
    await page.getByRole('button', { name: 'Next customer' }).click();
    await screen('idle');
  });

  test('with the platform out of reach the terminal says Offline, a typed charge waits, and both clear when it is back', async () => {
    await page.getByRole('heading', { name: 'Ready' }).waitFor();
    assert.equal(await page.getByTestId('offline').count(), 0);
    // The network to the platform goes: every request fails as a cut connection would.
    const cut = (route: { abort(code?: string): Promise<void> }) => route.abort('internetdisconnected');
    await page.route(`${base}/**`, cut);
    const started = Date.now();
    await page.getByTestId('offline').waitFor({ timeout: 15_000 });
    const noticedMs = Date.now() - started;
    await page.getByRole('heading', { name: 'Offline' }).waitFor();
    // A charge typed now is kept and sent when it can be.
    for (const key of ['7', '5', '0']) await page.getByRole('group', { name: 'amount' }).getByRole('button', { name: key, exact: true }).click();
    await page.getByRole('button', { name: 'Charge' }).click();
    await page.getByTestId('charge-pending').filter({ hasText: 'Not sent yet' }).waitFor();
    await screenshot(page, 'terminal-offline');
    await page.unroute(`${base}/**`, cut);
    const back = Date.now();
    await screen('amount');
    const clearedMs = Date.now() - back;
    assert.equal(await page.getByTestId('offline').count(), 0, 'the sign is gone');
    await page.getByText('€7.50').first().waitFor();
    // However many times it was sent, the charge is one intent.
    const list = await api<{ data: { amount: number; terminal: string; status: string }[] }>('GET', '/v1/payment_intents?limit=100');
    assert.equal(list.data.filter((x) => x.amount === 750 && x.terminal === terminalId).length, 1);
    console.log(`# offline noticed in ${noticedMs} ms; charge sent and the sign cleared ${clearedMs} ms after the network returned`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await screen('done');
  });
});
