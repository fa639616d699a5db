/**
 * The shopper portal's memberships and inbox, as a shopper meets them: a real server on a real
 * port, the portal as shipped, headless Chromium. The shopper signs up in the portal; the merchant
 * (its API key) has a programme and a welcome campaign; a terminal joins the shopper with one tap
 * at a payment and takes a pay-code payment. In the portal the shopper then sees the membership,
 * what it shares and its consent history, shares one more field, reads receipts and the welcome
 * coupon in the inbox (paging, marking read), mutes the merchant, and leaves after a confirmation;
 * the merchant API no longer shows any personal field. Each page is kept as a screenshot.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { activateDevice, MemoryKeyStore, type DeviceClient } from '@facepay/device-sdk';
import { createCheckout } from '../checkout.ts';
import type { Checkout, TerminalRef } from '../facepay/index.ts';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshot } from '../testing/browser.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const ANA = { name: 'Ana Lima', email: 'ana.lima@example.com', password: 'a long passphrase', phone: '+351 912 345 678' };
/** What the merchant must not see once she has left. */
const PERSONAL = ['Ana Lima', 'ana.lima@example.com', '912345678', '912 345 678'];
const DAY = 86_400_000;
/** Messages the merchant sends before the shopper opens the inbox: with three receipts and two coupons, more than a page of 10. */
const MESSAGES = 8;
const ITEMS = 3 + 2 + MESSAGES;

describe('shopper portal: memberships and inbox in Chromium', { skip: BROWSER_SKIP_REASON, timeout: 240_000 }, () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let device: DeviceClient;
  let terminal: TerminalRef;
  let checkout: Checkout;
  let cookie = '';
  let shopperId = '';
  let memberId = '';
  const pageErrors: string[] = [];
  const followUpErrors: string[] = [];

  async function api<T = Record<string, any>>(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<T> {
    const r = await p.app.inject({ method, url, headers: p.liveAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.body}`);
    return r.json() as T;
  }
  /** The shopper API with the portal's own session cookie. */
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
  const intent = async (amount: number) => (await api<{ id: string }>('POST', '/v1/payment_intents', { amount, currency: 'eur', store: p.storeId, terminal: terminal.terminalId })).id;
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

    await api('PUT', '/v1/membership/programme', { name: 'Lima Club', benefits: 'A free coffee every tenth visit', fields: ['name', 'phone', 'email'], currency: 'eur', time_zone: 'Europe/Lisbon' });
    await api('POST', '/v1/campaigns', {
      name: 'Welcome',
      trigger: 'join',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 500, min_spend: 2000 },
      currency: 'EUR',
      valid_to: p.clock.now().getTime() + 90 * DAY,
      coupon_days: 30,
      holdout_percent: 0,
      message: { title: 'Welcome to Lima Club', body: 'Five euros off your next visit.' },
    });
    const created = await api<{ activation_code: string }>('POST', '/v1/terminals', { store: p.storeId });
    ({ client: device } = await activateDevice({ baseUrl: base, code: created.activation_code, keyStore: new MemoryKeyStore() }));
    terminal = { merchantId: p.merchantId, storeId: p.storeId, terminalId: (await device.json<{ terminal_id: string }>('/device/v1/me')).terminal_id };
    // The face path's checkout, built exactly as the platform builds it: the face engine is off here.
    const { members, marketing, payments, shoppers, merchants } = p.services;
    ({ checkout } = createCheckout({ db: p.db, payments, members, marketing, shoppers, merchants, clock: p.clock, ids: p.ids, log: { error: (_o, msg) => followUpErrors.push(msg) } }));

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await p?.dispose();
    assert.deepEqual(pageErrors, [], 'no script error in the portal');
    assert.deepEqual(followUpErrors, [], 'no follow-up step failed');
  });

  test('the shopper signs up in the portal', async () => {
    await page.goto(`${base}/portal/`);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Your name').fill(ANA.name);
    await page.getByLabel('E-mail').fill(ANA.email);
    await page.getByLabel('Password').fill(ANA.password);
    await page.getByLabel('Phone number (optional)').fill(ANA.phone);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`Hello, ${ANA.name}`).waitFor();
    const session = (await context.cookies()).find((c) => c.name === 'fp_session');
    assert.ok(session, 'the portal holds a session');
    cookie = `${session.name}=${session.value}`;
    shopperId = (await asShopper<{ id: string }>('GET', '/v1/shopper/me')).id;
    await tab('Memberships', 'Memberships');
    await page.getByText('You are not a member anywhere yet').waitFor();
    await tab('Inbox', 'Inbox');
    await page.getByText('No coupons right now.').waitFor();
  });

  test('a terminal joins her with one tap at a payment, then takes a pay-code payment; the merchant sends messages', async () => {
    const topUp = await asShopper<{ top_up: { id: string; status: string } }>('POST', '/v1/shopper/topups', { amount: 10_000, currency: 'eur' });
    // Live: the wallet grows only when the money arrives, here by bank transfer.
    assert.equal(topUp.top_up.status, 'pending');
    await p.services.fundingService!.confirm(topUp.top_up.id, 'bank_transfer', 'BANK-portal-crm-1');
    const joined = await checkout.pay(await intent(3000), terminal, shopperId, { paymentId: 'pay_portal_join_0001', method: 'face', join: ['name', 'email'] });
    assert.equal(joined.status, 'succeeded', JSON.stringify(joined));
    const { code } = await asShopper<{ code: string }>('POST', '/v1/shopper/pay_codes', {});
    const byCode = await device.json<{ status: string }>(`/device/v1/payment_intents/${await intent(1250)}/pay_code`, { json: { code, payment_id: 'pay_portal_code_0001' } });
    assert.equal(byCode.status, 'succeeded');
    const list = await api<{ data: { id: string; fields: Record<string, string> }[] }>('GET', '/v1/members');
    assert.equal(list.data.length, 1);
    memberId = list.data[0]!.id;
    assert.deepEqual(list.data[0]!.fields, { name: ANA.name, email: ANA.email });
    // A second coupon, used at once: its receipt shows the discount, and the welcome coupon stays held.
    const tenOff = await api<{ id: string }>('POST', '/v1/campaigns', {
      name: 'Ten percent',
      trigger: 'manual',
      audience: { kind: 'all' },
      reward: { kind: 'percent_off', percent: 10, cap: 1000 },
      currency: 'EUR',
      valid_to: p.clock.now().getTime() + 30 * DAY,
      holdout_percent: 0,
    });
    assert.equal((await api<{ issued: number }>('POST', `/v1/campaigns/${tenOff.id}/send`)).issued, 1);
    const coupons = await api<{ data: { id: string; campaign: string }[] }>('GET', `/v1/members/${memberId}/coupons`);
    const couponId = coupons.data.find((c) => c.campaign === tenOff.id)!.id;
    const withCoupon = await checkout.pay(await intent(4000), terminal, shopperId, { paymentId: 'pay_portal_coupon_0001', method: 'face', couponId });
    assert.equal(withCoupon.status, 'succeeded', JSON.stringify(withCoupon));
    for (let n = 1; n <= MESSAGES; n++) {
      const sent = await api<{ recipients: number }>('POST', '/v1/messages', { audience: { kind: 'all' }, title: `Special of week ${n}`, body: `Week ${n}: pastel de nata and a coffee.` });
      assert.equal(sent.recipients, 1);
    }
  });

  test('the portal shows the membership, what it shares and the consent history; sharing one more field reaches the merchant', async () => {
    await tab('Memberships', 'Memberships');
    const card = page.getByRole('article', { name: 'Test Shop: Lima Club' });
    await card.waitFor();
    await card.getByText('A free coffee every tenth visit').waitFor();
    await card.getByText(memberId).waitFor();
    const sees = card.locator('dl.facts').nth(1);
    assert.equal(await sees.locator('dt').allTextContents().then((t) => t.join('|')), 'Name|E-mail');
    assert.equal(await sees.locator('dd').allTextContents().then((t) => t.join('|')), `${ANA.name}|${ANA.email}`);
    await card.getByText('Consent history').click();
    const row = card.getByRole('row').filter({ hasText: 'name, e-mail' });
    await row.getByRole('cell', { name: `Terminal ${terminal.terminalId}` }).waitFor();
    await row.getByRole('cell', { name: 'In force' }).waitFor();
    await screenshot(page, 'portal-memberships');

    await card.getByText('Change what I share').click();
    await card.getByRole('checkbox', { name: 'Share my phone number' }).check();
    assert.equal(await card.getByLabel('Your phone number').inputValue(), '+351912345678', 'the account phone is offered, as the account keeps it');
    await screenshot(page, 'portal-memberships-share');
    await card.getByRole('button', { name: 'Save what I share' }).click();
    await card.getByRole('status').filter({ hasText: 'Test Shop now sees: name, phone number, e-mail' }).waitFor();
    const m = await api<{ fields: Record<string, string> }>('GET', `/v1/members/${memberId}`);
    assert.deepEqual(Object.keys(m.fields).sort(), ['email', 'name', 'phone']);
    // The open history shows the new consent in force and the old one ended.
    await card.getByRole('row').filter({ hasText: 'name, phone number, e-mail' }).getByRole('cell', { name: 'In force' }).waitFor();
    assert.equal(await card.getByRole('cell', { name: 'In force' }).count(), 1);
  });

  test('the inbox shows the welcome coupon, the receipts and the messages; items are marked read; older items page in', async () => {
    await tab('Inbox', 'Inbox');
    const held = page.getByRole('table').filter({ hasText: 'Coupons you can use now' });
    const coupon = held.getByRole('row').filter({ hasText: 'Welcome to Lima Club' });
    await coupon.getByRole('cell', { name: '€5.00 off when you spend €20.00' }).waitFor();
    await coupon.getByRole('cell', { name: 'Test Shop' }).waitFor();
    const items = page.locator('ul.inbox > li');
    await page.getByText('10 unread').waitFor();
    assert.equal(await items.count(), 10, 'one page of 10');
    await screenshot(page, 'portal-inbox');

    const newest = items.first();
    const heading = (await newest.getByRole('heading').textContent()) ?? '';
    const title = /^Unread\s+Message: (Special of week \d)$/.exec(heading)?.[1];
    assert.ok(title, `the newest item is an unread message: ${heading}`);
    await newest.getByRole('button', { name: `Mark read: ${title}` }).click();
    await page.getByText('9 unread').waitFor();
    assert.equal(await newest.locator('.badge').count(), 0);
    const onServer = await asShopper<{ data: { read_at: number | null }[] }>('GET', '/v1/shopper/inbox?limit=1');
    assert.notEqual(onServer.data[0]!.read_at, null, 'marked read on the server');

    await page.getByRole('button', { name: 'Show older items' }).click();
    await items.nth(ITEMS - 1).waitFor();
    assert.equal(await items.count(), ITEMS);
    await page.getByText(`${ITEMS - 1} unread`).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Show older items' }).count(), 0, 'nothing older');
    const receipts = items.filter({ hasText: 'Receipt:' });
    assert.equal(await receipts.count(), 3);
    await receipts.filter({ hasText: '€12.50' }).getByText('From Test Shop').waitFor();
    await receipts.filter({ hasText: '€30.00' }).waitFor();
    const discounted = receipts.filter({ hasText: '€36.00' });
    assert.equal(await discounted.locator('dt').allTextContents().then((t) => t.join('|')), 'Paid|Coupon discount');
    assert.equal(await discounted.locator('dd').allTextContents().then((t) => t.join('|')), '€36.00|€4.00');
    await items.filter({ hasText: 'Coupon: 10% off (up to €10.00)' }).getByText('Used').waitFor();
    const welcome = items.filter({ hasText: 'Coupon: Welcome to Lima Club' });
    await welcome.getByText('Five euros off your next visit.').waitFor();
    await welcome.getByText('Ready to use').waitFor();
    await screenshot(page, 'portal-inbox-all');
  });

  test('muting the merchant from the inbox: its next message does not arrive, the coupon stays', async () => {
    const mute = page.getByRole('button', { name: 'Mute Test Shop', exact: true }).first();
    await mute.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Unmute Test Shop', pressed: true }).first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Mute Test Shop', exact: true }).count(), 0, 'every item of the merchant shows it muted');
    const mutes = await asShopper<{ data: { merchant: string }[] }>('GET', '/v1/shopper/mutes');
    assert.deepEqual(mutes.data.map((m) => m.merchant), [p.merchantId]);
    const sent = await api<{ recipients: number; muted: number }>('POST', '/v1/messages', { audience: { kind: 'all' }, title: 'Muted news', body: 'Not for Ana.' });
    assert.deepEqual([sent.recipients, sent.muted], [0, 1]);
    await page.reload();
    await page.getByRole('heading', { name: 'Inbox', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Unmute Test Shop' }).first().waitFor();
    assert.equal(await page.getByText('Muted news').count(), 0);
    await page.getByRole('table').filter({ hasText: 'Coupons you can use now' }).getByRole('cell', { name: 'Welcome to Lima Club' }).waitFor();
    await screenshot(page, 'portal-inbox-muted');
  });

  test('leaving after a confirmation that says what the merchant keeps; the merchant API loses her fields at once', async () => {
    await tab('Memberships', 'Memberships');
    const card = page.getByRole('article', { name: 'Test Shop: Lima Club' });
    await card.getByRole('button', { name: 'Unmute Test Shop' }).waitFor();
    await card.getByRole('button', { name: 'Leave Lima Club', exact: true }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Leave Lima Club?' });
    await dialog.waitFor();
    await dialog.getByText('loses what you shared (name, phone number, e-mail)').waitFor();
    await dialog.getByText(`under member number ${memberId}, with no name or other personal details`).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Yes, leave Lima Club', 'the confirmation has the focus');
    await screenshot(page, 'portal-leave-confirm');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The focus moves back in an effect after the dialog is gone: on a busy machine that is a moment later.
    await page.waitForFunction(() => document.activeElement?.textContent === 'Leave Lima Club', undefined, { timeout: 5_000 }).catch(() => undefined);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Leave Lima Club', 'the focus returns to the button');
    assert.equal((await api<{ status: string }>('GET', `/v1/members/${memberId}`)).status, 'active', 'Escape keeps the membership');

    await card.getByRole('button', { name: 'Leave Lima Club', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, leave Lima Club' }).click();
    await page.getByRole('status').filter({ hasText: 'You left Lima Club. Test Shop no longer sees your personal details.' }).waitFor();
    await page.getByText('You are not a member anywhere yet').waitFor();
    await screenshot(page, 'portal-memberships-left');

    const r = await p.app.inject({ method: 'GET', url: `/v1/members/${memberId}`, headers: p.liveAuth });
    const m = r.json() as { status: string; fields: Record<string, string>; visits: number };
    assert.equal(m.status, 'left');
    assert.deepEqual(m.fields, {});
    assert.equal(m.visits, 3, 'the purchase history stays under the member id');
    for (const s of [...PERSONAL, shopperId]) assert.ok(!r.body.includes(s), `the member still holds ${s}`);
    await tab('Inbox', 'Inbox');
    await page.getByText('No coupons right now.').waitFor();
  });
});
