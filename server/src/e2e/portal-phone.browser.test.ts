/**
 * The shopper portal on a phone (390 px wide, the width of a common phone held upright): a real
 * server on a real port, the portal as shipped, headless Chromium. A shopper signs up, joins a
 * merchant's programme at a payment and pays once more with a pay code at a terminal; every
 * portal page, with its widest content open (the pay code, the consent history, the sharing
 * form, the inbox's coupons and receipts), must fit the width: no sideways scrolling. The
 * payment history says how each payment was made, from what the payment recorded. No face is
 * enrolled or used (the enrolment screen is visited without a camera), so the face engine stays off. Each page is kept as a screenshot.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { createCheckout } from '../checkout.ts';
import type { TerminalRef } from '../facepay/index.ts';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const WIDTH = 390;
const SHOPPER = { name: 'Maximiliana Wolkenstein-Rodríguez', email: 'maximiliana.wolkenstein@example.com', password: 'a long passphrase', phone: '+351 912 345 678' };
const DAY = 86_400_000;

describe('shopper portal on a phone in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let device: DeviceClient;
  let terminal: TerminalRef;
  let cookie = '';
  const pageErrors: string[] = [];

  async function api<T = Record<string, any>>(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<T> {
    const r = await p.app.inject({ method, url, headers: p.liveAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.body}`);
    return r.json() as T;
  }
  async function asShopper<T = Record<string, any>>(method: string, url: string, body?: unknown): Promise<T> {
    const r = await fetch(base + url, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await r.json()) as T;
    assert.ok(r.ok, `${method} ${url}: ${JSON.stringify(json)}`);
    return json;
  }
  const intent = async (amount: number) =>
    (await api<{ id: string }>('POST', '/v1/payment_intents', { amount, currency: 'eur', store: p.storeId, terminal: terminal.terminalId })).id;

  /** Fails with the elements that stick out when the page is wider than the phone. */
  async function fits(name: string): Promise<void> {
    await page.waitForLoadState('networkidle');
    const { scrollWidth, outside } = await page.evaluate((width) => {
      const outside = [...document.querySelectorAll('body *')]
        .filter((e) => {
          const r = e.getBoundingClientRect();
          return r.width > 0 && r.right > width + 0.5;
        })
        .slice(0, 8)
        .map((e) => `${e.tagName.toLowerCase()}${e.className ? `.${String(e.className).replace(/ /g, '.')}` : ''} "${(e.textContent ?? '').trim().slice(0, 30)}" right=${Math.round(e.getBoundingClientRect().right)}`);
      return { scrollWidth: document.documentElement.scrollWidth, outside };
    }, WIDTH);
    await screenshot(page, `portal-phone-${name}`);
    assert.ok(scrollWidth <= WIDTH, `${name}: the page is ${scrollWidth}px wide at ${WIDTH}px; sticking out: ${outside.join('; ')}`);
  }
  const tab = async (name: string, heading: string) => {
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name }).click();
    await page.getByRole('heading', { name: heading, level: 2 }).waitFor();
  };

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['portal'] });
    p = await testPlatform('sqlite');
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    await api('PUT', '/v1/membership/programme', {
      name: 'The Extraordinarily Long-Named Neighbourhood Bakery Club',
      benefits: 'A free coffee every tenth visit',
      fields: ['name', 'phone', 'email'],
      currency: 'eur',
      time_zone: 'Europe/Lisbon',
    });
    await api('POST', '/v1/campaigns', {
      name: 'Welcome',
      trigger: 'join',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 500, min_spend: 2000 },
      currency: 'EUR',
      valid_to: p.clock.now().getTime() + 90 * DAY,
      coupon_days: 30,
      holdout_percent: 0,
      message: { title: 'Welcome to the club', body: 'Five euros off your next visit.' },
    });
    const created = await api<{ activation_code: string }>('POST', '/v1/terminals', { store: p.storeId });
    ({ client: device } = await activateDevice({ baseUrl: base, code: created.activation_code, keyStore: new MemoryKeyStore() }));
    terminal = { merchantId: p.merchantId, storeId: p.storeId, terminalId: (await device.json<{ terminal_id: string }>('/device/v1/me')).terminal_id };
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: WIDTH, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the portal');
  });

  test('sign-in and sign-up fit the phone', async () => {
    await page.goto(`${base}/portal/`);
    await page.getByRole('heading', { name: 'Sign in to Facepay' }).waitFor();
    await fits('signin');
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await fits('signup');
    await page.getByLabel('Your name').fill(SHOPPER.name);
    await page.getByLabel('E-mail').fill(SHOPPER.email);
    await page.getByLabel('Password').fill(SHOPPER.password);
    await page.getByLabel('Phone number (optional)').fill(SHOPPER.phone);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    const session = (await context.cookies()).find((c) => c.name === 'fp_session');
    assert.ok(session);
    cookie = `${session.name}=${session.value}`;
  });

  test('a face payment that joins the programme, and a pay-code payment at the terminal', async () => {
    const shopperId = (await asShopper<{ id: string }>('GET', '/v1/shopper/me')).id;
    // A live top-up waits for its rail; the money comes as a confirmed credit would bring it.
    await p.services.payments.topUp(shopperId, 10_000, 'eur', 'phone-seed-1');
    // The face path's checkout, as the platform builds it (no face engine here): it records "face".
    const { members, marketing, payments, shoppers, merchants } = p.services;
    const { checkout } = createCheckout({ db: p.db, payments, members, marketing, shoppers, merchants, clock: p.clock, ids: p.ids, log: { error: () => undefined } });
    const joined = await checkout.pay(await intent(3000), terminal, shopperId, { paymentId: 'pay_phone_join_0001', method: 'face', join: ['name', 'email'] });
    assert.equal(joined.status, 'succeeded');
    const { code } = await asShopper<{ code: string }>('POST', '/v1/shopper/pay_codes', {});
    const byCode = await device.json<{ status: string }>(`/device/v1/payment_intents/${await intent(1250)}/pay_code`, { json: { code, payment_id: 'pay_phone_code_0001' } });
    assert.equal(byCode.status, 'succeeded');
    await api('POST', '/v1/messages', { audience: { kind: 'all' }, title: 'A rather long title for a message to every member', body: 'Pastel de nata and a coffee, all week long, at every one of our shops.' });
  });

  test('every portal page fits 390 px: no sideways scrolling, the menu inside the header', async () => {
    await page.reload();
    await page.getByText(`Hello, ${SHOPPER.name}`).waitFor();
    const nav = page.getByRole('navigation', { name: 'sections' });
    for (const link of await nav.getByRole('link').all()) {
      const box = await link.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= WIDTH, `menu item ${await link.textContent()} is inside the screen: ${JSON.stringify(box)}`);
    }
    await tab('Wallet', 'Wallet');
    await page.getByRole('button', { name: 'Show a pay code' }).click();
    await page.getByLabel('pay code', { exact: true }).waitFor();
    await fits('wallet');

    await tab('Face pay', 'Face pay');
    await page.getByText('I agree to face payment').waitFor();
    await fits('face');
    // The enrolment screen too (this browser has no camera: it says so, and that must fit as well).
    await page.getByText('I agree to face payment').click();
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.getByRole('button', { name: 'Enrol my face' }).click();
    await page.getByRole('heading', { name: 'Enrol your face' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    await fits('enrol');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await tab('Payments', 'Payments');
    const methods = page.getByTestId('payment-method');
    await methods.first().waitFor();
    // Newest first: the pay code, then the face payment; each as the payment recorded it.
    assert.deepEqual(await methods.allTextContents(), ['Pay code', 'Face']);
    await fits('payments');

    await tab('Memberships', 'Memberships');
    const card = page.getByRole('article').first();
    await card.waitFor();
    await card.getByText('Consent history').click();
    await card.getByText('Change what I share').click();
    await fits('memberships');

    await tab('Inbox', 'Inbox');
    await page.locator('ul.inbox > li').first().waitFor();
    await fits('inbox');

    await tab('Settings', 'Settings');
    await fits('settings');
  });
});
