/**
 * What the face pay browser tests share: a real server with the face engine on (its own SQLite data
 * dir, a real port, a merchant with a store and a test key), headless Chromium whose camera plays
 * real live video of a person (testing/live-video.ts), and the steps a shopper and a cashier take in
 * the portal and the terminal as they are shipped.
 *
 * The server is told to ask only for a turn to the left, which is what the clips show; the photo
 * slideshows of testing/lfw-faces.ts are attacks. Videos are written only to a temp dir, never
 * logged; the camera view is masked in the screenshots.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { createPlatform, type Platform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, fakeCameraArgs, launchBrowser, screenshot } from '../testing/browser.ts';
import { writeY4m } from '../testing/fake-camera.ts';
import { LFW_IMAGES, lfwPhoto, type TurningPerson } from '../testing/lfw-faces.ts';
import { VIDEO_CLIPS } from '../testing/live-video.ts';

export const FACE_BROWSER_SKIP_REASON: string | false =
  BROWSER_SKIP_REASON ||
  (LFW_IMAGES === undefined || VIDEO_CLIPS === undefined
    ? 'no LFW or video clips under ../shared/datasets (or $FACEPAY_DATASETS): face pay browser test skipped'
    : false);

export const FPS = 10;
export const NOISE = 3;

/**
 * An attack, not a shopper: a slideshow of photos, looking at the camera for 1.2 s and turned
 * right for 0.4 s, over and over, on two photos of each pose.
 */
export async function headTurnVideo(file: string, person: TurningPerson): Promise<void> {
  const frames: Buffer[] = [];
  for (let i = 0; i < person.frontal.length; i++) {
    const f = lfwPhoto(person.frontal[i]!);
    const t = lfwPhoto(person.turned[i]!);
    frames.push(...Array<Buffer>(12).fill(f), ...Array<Buffer>(4).fill(t));
  }
  await writeY4m(file, frames, { fps: FPS, holdFrames: 1, noise: NOISE });
}

export interface Captured {
  /** Base64 JPEG frames the pages sent, to look for afterwards. */
  frames: string[];
  /** Every API answer the pages and the test received. */
  responses: { url: string; body: string }[];
}

/** The camera view shows dataset faces: screenshots keep everything else. */
export const shot = (page: Page, name: string) => screenshot(page, name, { mask: [page.locator('video')] });

/**
 * Screenshots every screen the terminal shows, in order, and records their names. `settled` waits
 * for the screenshots still being taken.
 */
async function recordScreens(page: Page, prefix: string): Promise<{ seen: string[]; settled(): Promise<unknown> }> {
  const seen: string[] = [];
  const pending: Promise<unknown>[] = [];
  await page.exposeBinding('__facepayScreen', (_source, screen: string) => {
    seen.push(screen);
    pending.push(shot(page, `${prefix}-${String(seen.length).padStart(2, '0')}-${screen}`).catch(() => undefined));
  });
  await page.addInitScript(() => {
    let last = '';
    new MutationObserver(() => {
      const screen = document.querySelector('[data-screen]')?.getAttribute('data-screen') ?? '';
      if (screen !== '' && screen !== last) {
        last = screen;
        void (window as unknown as { __facepayScreen(s: string): Promise<void> }).__facepayScreen(screen);
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-screen'] });
  });
  return { seen, settled: () => Promise.all(pending) };
}

/** Keeps what the page sent as frames and what the API answered. */
function watchTraffic(page: Page, captured: Captured): void {
  page.on('request', (r) => {
    if (r.method() !== 'POST' || !/\/captures$|\/v1\/shopper\/face$/.test(new URL(r.url()).pathname)) return;
    const body = JSON.parse(r.postData() ?? '{}') as { frames?: { jpeg: string }[] };
    for (const f of body.frames ?? []) captured.frames.push(f.jpeg);
  });
  page.on('response', async (r) => {
    const path = new URL(r.url()).pathname;
    if (!path.startsWith('/v1/') && !path.startsWith('/device/')) return;
    captured.responses.push({ url: r.url(), body: await r.text().catch(() => '') });
  });
}

export async function waitScreen(page: Page, screen: string, timeout = 60_000): Promise<void> {
  try {
    await page.locator(`[data-screen="${screen}"]`).waitFor({ timeout });
  } catch (e) {
    // Say where the page is instead, so a failure names the screen it stopped on.
    const at = await page
      .evaluate(() => ({
        screen: document.querySelector('[data-screen]')?.getAttribute('data-screen') ?? null,
        text: (document.querySelector('[data-screen]')?.textContent ?? '').slice(0, 300),
      }))
      .catch(() => ({ screen: null, text: '' }));
    throw new Error(`screen "${screen}" not shown within ${timeout} ms; the page shows "${at.screen}": ${at.text}`, { cause: e });
  }
}

/**
 * Waits for `screen` after the shopper looked at the terminal. A genuine shopper whose face the
 * camera did not catch steady in time ("Face pay did not start") presses "Try again", as anyone at
 * a till would; the wait covers every try.
 */
export async function waitFaceScreen(page: Page, screen: string, timeout = 240_000): Promise<void> {
  const deadline = Date.now() + timeout;
  const wanted = page.locator(`[data-screen="${screen}"]`);
  const stalled = page.locator('[data-screen="face_problem"]');
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return waitScreen(page, screen, 1);
    const seen = await Promise.race([
      wanted.waitFor({ timeout: left }).then(() => 'wanted' as const),
      stalled.waitFor({ timeout: left }).then(() => 'stalled' as const),
    ]).catch(() => 'timeout' as const);
    if (seen === 'wanted') return;
    if (seen === 'timeout') return waitScreen(page, screen, 1);
    await page.getByRole('button', { name: 'Try again' }).click();
    await stalled.waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
  }
}

export interface Shopper {
  name: string;
  email: string;
  password: string;
  phone: string;
}

/**
 * Live top-ups wait for real money, so the harness plays the operator's service desk: set by
 * startFaceE2e, it credits the shopper's wallet through the desk API as a clerk taking cash would.
 */
let deskCredit: ((email: string, minor: number) => Promise<void>) | undefined;

export async function signUp(page: Page, s: Shopper, topUp: string): Promise<void> {
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Your name').fill(s.name);
  await page.getByLabel('E-mail').fill(s.email);
  await page.getByLabel('Password').fill(s.password);
  await page.getByLabel('Phone number (optional)').fill(s.phone);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText(`Hello, ${s.name}`).waitFor();
  await page.getByLabel(/^Top up/).fill(topUp);
  await page.getByRole('button', { name: 'Top up' }).click();
  await page.getByText('is waiting for your money').waitFor();
  assert.ok(deskCredit, 'signUp needs startFaceE2e (the service desk)');
  await deskCredit(s.email, Math.round(Number(topUp) * 100));
  await page.reload();
  await page.locator('.balance', { hasText: topUp }).waitFor();
}

/** The signed-in shopper's wallet balance, in minor units. */
export async function walletOf(page: Page): Promise<number> {
  return page.evaluate(async () => ((await (await fetch('/v1/shopper/me')).json()) as { wallet: { balance: number } }).wallet.balance);
}

/**
 * Agrees to face payment and enrols the face the camera shows, from the portal's home page; or,
 * `again` (consent given, a face of an earlier model on file), enrols once more from the Face pay page.
 */
export async function enrolFace(portal: Page, prefix: string, again = false): Promise<void> {
  if (again) {
    await portal.getByRole('button', { name: 'Enrol my face again' }).click();
  } else {
    await portal.getByRole('link', { name: 'Face pay' }).click();
    await portal.getByLabel(/I agree to face payment/).check();
    await portal.getByRole('button', { name: 'Agree' }).click();
    await portal.getByRole('button', { name: 'Enrol my face' }).click();
  }
  // The enrolment view replaces the Face pay page (whose delete button would end the wait below at once when enrolling again).
  await portal.locator('.guidance').waitFor();
  await shot(portal, `${prefix}-01-enrol`);
  // A stream that began on a turned frame is "not frontal", not an attack: the shopper tries again.
  for (let attempt = 0; ; attempt++) {
    const outcome = await Promise.race([
      portal.getByRole('button', { name: 'Delete my face' }).waitFor({ timeout: 60_000 }).then(() => 'enrolled'),
      portal.getByRole('button', { name: 'Try again' }).waitFor({ timeout: 60_000 }).then(() => 'failed'),
    ]);
    if (outcome === 'enrolled') break;
    const why = await portal.locator('.guidance').textContent();
    assert.ok(attempt < 3, `enrolment kept failing: ${why}`);
    assert.doesNotMatch(why ?? '', /changed|same picture/, 'a live sequence of one person must not look like an attack');
    await portal.getByRole('button', { name: 'Try again' }).click();
    await portal.getByRole('button', { name: 'Try again' }).waitFor({ state: 'detached' });
  }
  await shot(portal, `${prefix}-02-enrolled`);
}

export interface ActivatedTerminal {
  page: Page;
  terminalId: string;
  /** The screens shown so far, in order. */
  screens: string[];
  settled(): Promise<unknown>;
}

export interface FaceE2e {
  platform: Platform;
  base: string;
  storeId: string;
  dataDir: string;
  videoDir: string;
  /** The server's log lines. */
  logs: string[];
  captured: Captured;
  /** The merchant's /v1 API with its test key; asserts a 2xx answer. */
  merchantApi<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** An intent the till creates for a terminal. */
  tillIntent(terminal: string, amount: number): Promise<string>;
  intentStatus(id: string): Promise<string>;
  browserWithCamera(video: string): Promise<Browser>;
  /** A new terminal in the store, activated in the page with the code the merchant got. */
  activatedTerminal(browser: Browser, prefix: string): Promise<ActivatedTerminal>;
  portalPage(browser: Browser): Promise<Page>;
  close(): Promise<void>;
}

/** Builds the apps named, starts the server and makes the merchant ("Corner Shop", its store and key). */
export async function startFaceE2e(apps: string[], opts: { challengeKinds?: ('turn_left' | 'turn_right' | 'blink')[] } = {}): Promise<FaceE2e> {
  const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
    buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
  };
  await buildApps({ quiet: true, only: apps });

  const dataDir = mkdtempSync(join(tmpdir(), 'facepay-e2e-'));
  const videoDir = mkdtempSync(join(tmpdir(), 'facepay-e2e-video-'));
  const logs: string[] = [];
  const captured: Captured = { frames: [], responses: [] };
  const browsers: Browser[] = [];
  const config = loadConfig({
    FACEPAY_DATA_DIR: dataDir,
    FACEPAY_FACE: '1',
    FACEPAY_FACE_WORKERS: '2',
    FACEPAY_LOG_LEVEL: 'info',
    FACEPAY_WEBHOOK_ALLOW_HTTP: '1', FACEPAY_WEBHOOK_ALLOW_PRIVATE: '1',
    FACEPAY_WEBHOOK_INTERVAL_MS: '200',
    // Every browser, terminal and helper shares 127.0.0.1; the limits have their own tests.
    FACEPAY_RATE_LIMITS: '0',
  });
  const platform = await createPlatform(config, {
    logStream: { write: (line) => void logs.push(line) },
    faceChallenge: { kinds: opts.challengeKinds ?? ['turn_left'] },
  });
  platform.startWorkers();
  // FACEPAY_E2E_PORT keeps the server in a port range given to this run on a shared machine (default: any free port).
  await platform.app.listen({ port: Number(process.env.FACEPAY_E2E_PORT ?? 0), host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;

  const m = await platform.services.merchants.createMerchant({ name: 'Corner Shop' });
  const storeId = (await platform.services.merchants.createStore(m.id, { name: 'Main street' })).id;
  const auth = { authorization: `Bearer ${(await platform.services.merchants.createApiKey(m.id, { mode: 'live' })).secret}` };

  const deskPassword = randomUUID();
  await platform.services.operators!.create({ email: 'desk@e2e.facepay.local', name: 'E2E desk', password: deskPassword, role: 'desk' });
  let deskToken: string | undefined;
  deskCredit = async (email, minor) => {
    const desk = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { ...(deskToken ? { authorization: `Bearer ${deskToken}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      assert.ok(r.ok, `${method} ${path} answered ${r.status}: ${text}`);
      return JSON.parse(text) as T;
    };
    deskToken ??= (await desk<{ token: string }>('POST', '/v1/operator/login', { email: 'desk@e2e.facepay.local', password: deskPassword })).token;
    const [found] = (await desk<{ data: { id: string }[] }>('GET', `/v1/operator/desk/shoppers?email=${encodeURIComponent(email)}`)).data;
    assert.ok(found, `the desk finds no shopper ${email}`);
    await desk('POST', '/v1/operator/desk/credits', { shopper_id: found.id, amount: minor, currency: 'eur', method: 'cash' });
  };

  async function merchantApi<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    captured.responses.push({ url: path, body: text });
    assert.ok(r.ok, `${method} ${path} answered ${r.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  return {
    platform,
    base,
    storeId,
    dataDir,
    videoDir,
    logs,
    captured,
    merchantApi,
    async tillIntent(terminal, amount) {
      return (await merchantApi<{ id: string }>('POST', '/v1/payment_intents', { amount, currency: 'eur', store: storeId, terminal, order_reference: `till-${amount}` })).id;
    },
    async intentStatus(id) {
      return (await merchantApi<{ status: string }>('GET', `/v1/payment_intents/${id}`)).status;
    },
    async browserWithCamera(video) {
      const b = await launchBrowser(fakeCameraArgs(video));
      browsers.push(b);
      return b;
    },
    async activatedTerminal(browser, prefix) {
      const t = await merchantApi<{ id: string; activation_code: string }>('POST', '/v1/terminals', { store: storeId, label: prefix });
      const page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
      watchTraffic(page, captured);
      const { seen: screens, settled } = await recordScreens(page, prefix);
      await page.goto(`${base}/terminal/`);
      await page.getByLabel('Activation code').fill(t.activation_code);
      await shot(page, `${prefix}-00-activate`);
      await page.getByRole('button', { name: 'Activate' }).click();
      await waitScreen(page, 'idle', 30_000);
      return { page, terminalId: t.id, screens, settled };
    },
    async portalPage(browser) {
      const page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
      watchTraffic(page, captured);
      await page.goto(`${base}/portal/`);
      return page;
    },
    async close() {
      for (const b of browsers) await b.close().catch(() => undefined);
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(videoDir, { recursive: true, force: true });
    },
  };
}
