/**
 * Face pay end to end, as a shopper and a cashier meet it: a real server (face engine on, its own
 * SQLite data dir, a real port), headless Chromium whose camera plays a video the test builds from
 * LFW photos, the portal and the terminal as they are shipped. Each fake video needs its own
 * browser, so the scenarios are grouped by what the camera shows:
 *
 * - person A: signs up, tops up and enrols in the portal; pays at the terminal by face for an
 *   intent the till created (ledger, signed webhook); then, having asked always to be asked for
 *   the digits, pays again after typing them;
 * - person B, never enrolled: the terminal offers another way, and B's typed pay code pays;
 * - a still photo of A: refused by the liveness challenge;
 * - a pay code shown as a QR code: the terminal reads it from the camera and pays.
 *
 * Then the database, the data dir, the log and every response are searched for the frames that
 * were sent and for templates: none may be there.
 *
 * The server is told to ask only for a turn to the right, which is what the photos show (see
 * testing/lfw-faces.ts). Images are written only to a temp dir, never logged; the camera view is
 * masked in the screenshots.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createPlatform, type Platform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { verifySignature } from '../merchants/index.ts';
import { repoRoot } from '../platform/index.ts';
import { BROWSER_SKIP_REASON, fakeCameraArgs, launchBrowser, screenshot } from '../testing/browser.ts';
import { writeY4m } from '../testing/fake-camera.ts';
import { LFW_IMAGES, lfwPhoto, PERSON_A, PERSON_B, type TurningPerson } from '../testing/lfw-faces.ts';

const skip = BROWSER_SKIP_REASON || (LFW_IMAGES === undefined ? 'no LFW under ../shared/datasets (or $FACEPAY_DATASETS): face pay browser test skipped' : false);

const FPS = 10;
const NOISE = 3;

/**
 * A head that looks at the camera for 1.2 s and turns right for 0.4 s, over and over, on two
 * photos of each pose. Any 2-second burst that starts on a frontal frame sees a turn and a return.
 */
async function headTurnVideo(file: string, person: TurningPerson): Promise<void> {
  const frames: Buffer[] = [];
  for (let i = 0; i < person.frontal.length; i++) {
    const f = lfwPhoto(person.frontal[i]!);
    const t = lfwPhoto(person.turned[i]!);
    frames.push(...Array<Buffer>(12).fill(f), ...Array<Buffer>(4).fill(t));
  }
  await writeY4m(file, frames, { fps: FPS, holdFrames: 1, noise: NOISE });
}

interface Captured {
  /** Base64 JPEG frames the pages sent, to look for afterwards. */
  frames: string[];
  /** Every API answer the pages and the test received. */
  responses: { url: string; body: string }[];
}

/** The camera view shows dataset faces: screenshots keep everything else. */
const shot = (page: Page, name: string) => screenshot(page, name, { mask: [page.locator('video')] });

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

async function waitScreen(page: Page, screen: string, timeout = 60_000): Promise<void> {
  await page.locator(`[data-screen="${screen}"]`).waitFor({ timeout });
}

describe('face pay in the browser, end to end', { skip, timeout: 420_000 }, () => {
  let platform: Platform;
  let dataDir: string;
  let base: string;
  let auth: Record<string, string>;
  let storeId: string;
  const logs: string[] = [];
  const captured: Captured = { frames: [], responses: [] };
  const webhooks: { signature: string; body: string }[] = [];
  let webhookServer: Server;
  let webhookSecret: string;
  let videoDir: string;
  const browsers: Browser[] = [];
  /** B's second pay code as the portal shows it: a picture of its QR code. */
  let portalQr: Buffer | undefined;
  const shopperA = { name: 'George Walker', email: `a-${randomUUID()}@example.com`, password: 'correct horse battery', phone: '+1 202 555 4321' };

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

  async function tillIntent(terminal: string, amount: number): Promise<string> {
    return (await merchantApi<{ id: string }>('POST', '/v1/payment_intents', { amount, currency: 'eur', store: storeId, terminal, order_reference: `till-${amount}` })).id;
  }

  async function intentStatus(id: string): Promise<string> {
    return (await merchantApi<{ status: string }>('GET', `/v1/payment_intents/${id}`)).status;
  }

  async function browserWithCamera(video: string): Promise<Browser> {
    const b = await launchBrowser(fakeCameraArgs(video));
    browsers.push(b);
    return b;
  }

  /** A new terminal in the store, activated in the page with the code the merchant got. */
  async function activatedTerminal(
    browser: Browser,
    prefix: string,
  ): Promise<{ page: Page; terminalId: string; screens: string[]; settled(): Promise<unknown> }> {
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
  }

  async function portalPage(browser: Browser): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
    watchTraffic(page, captured);
    await page.goto(`${base}/portal/`);
    return page;
  }

  async function signUp(page: Page, s: { name: string; email: string; password: string; phone: string }, topUp: string): Promise<void> {
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Your name').fill(s.name);
    await page.getByLabel('E-mail').fill(s.email);
    await page.getByLabel('Password').fill(s.password);
    await page.getByLabel('Phone number (optional)').fill(s.phone);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`Hello, ${s.name}`).waitFor();
    await page.getByLabel(/^Top up/).fill(topUp);
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.locator('.balance', { hasText: topUp }).waitFor();
  }

  async function walletOf(page: Page): Promise<number> {
    return page.evaluate(async () => ((await (await fetch('/v1/shopper/me')).json()) as { wallet: { balance: number } }).wallet.balance);
  }

  before(async () => {
    const { buildApps } = (await import(pathToFileURL(join(repoRoot, 'scripts/build-apps.mjs')).href)) as {
      buildApps(o: { quiet?: boolean; only?: string[] }): Promise<string[]>;
    };
    await buildApps({ quiet: true, only: ['terminal', 'portal'] });

    dataDir = mkdtempSync(join(tmpdir(), 'facepay-e2e-'));
    videoDir = mkdtempSync(join(tmpdir(), 'facepay-e2e-video-'));
    const config = loadConfig({
      FACEPAY_DATA_DIR: dataDir,
      FACEPAY_FACE: '1',
      FACEPAY_FACE_WORKERS: '2',
      FACEPAY_LOG_LEVEL: 'info',
      FACEPAY_WEBHOOK_ALLOW_HTTP: '1',
      FACEPAY_WEBHOOK_INTERVAL_MS: '200',
    });
    platform = await createPlatform(config, {
      logStream: { write: (line) => void logs.push(line) },
      faceChallenge: { kinds: ['turn_right'] },
    });
    platform.startWorkers();
    await platform.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;

    const m = await platform.services.merchants.createMerchant({ name: 'Corner Shop' });
    storeId = (await platform.services.merchants.createStore(m.id, { name: 'Main street' })).id;
    auth = { authorization: `Bearer ${(await platform.services.merchants.createApiKey(m.id, { mode: 'test' })).secret}` };

    webhookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        webhooks.push({ signature: String(req.headers['facepay-signature'] ?? ''), body: Buffer.concat(chunks).toString() });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhookServer.listen(0, '127.0.0.1', r));
    const hook = await merchantApi<{ secret: string }>('POST', '/v1/webhook_endpoints', {
      url: `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hooks`,
      enabled_events: ['payment_intent.succeeded'],
    });
    webhookSecret = hook.secret;
  });

  after(async () => {
    for (const b of browsers) await b.close().catch(() => undefined);
    webhookServer?.close();
    await platform?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (videoDir) rmSync(videoDir, { recursive: true, force: true });
  });

  test('A enrols in the portal, pays by face for the till, and pays again after the digits', async () => {
    const video = join(videoDir, 'person-a.y4m');
    await headTurnVideo(video, PERSON_A);
    const browser = await browserWithCamera(video);

    const portal = await portalPage(browser);
    await signUp(portal, shopperA, '50.00');
    await portal.getByRole('link', { name: 'Face pay' }).click();
    await portal.getByLabel(/I agree to face payment/).check();
    await portal.getByRole('button', { name: 'Agree' }).click();
    await portal.getByRole('button', { name: 'Enrol my face' }).click();
    await shot(portal, 'portal-a-01-enrol');
    // A burst that began on a turned frame is "not frontal", not an attack: the shopper tries again.
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
    await shot(portal, 'portal-a-02-enrolled');
    assert.equal(await walletOf(portal), 5000);

    const { page, terminalId, screens, settled } = await activatedTerminal(browser, 'terminal-a');
    const intent = await tillIntent(terminalId, 1250);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    await waitScreen(page, 'confirm', 90_000);
    const hello = (await page.getByRole('heading').first().textContent()) ?? '';
    assert.match(hello, /^Hello, G\*{4} W\.$/, 'the terminal shows the masked name only');
    await page.getByRole('button', { name: 'Pay €12.50' }).click();
    await waitScreen(page, 'done');
    assert.match((await page.locator('.outcome h1').textContent()) ?? '', /Paid/);
    for (const s of ['idle', 'amount', 'scanning', 'challenge', 'deciding', 'confirm', 'done']) assert.ok(screens.includes(s), `screen ${s} was shown: ${screens.join(' > ')}`);
    assert.equal(await intentStatus(intent), 'succeeded');
    assert.equal(await walletOf(portal), 5000 - 1250, 'the ledger moved the money out of the wallet');

    // The merchant's endpoint receives the signed event.
    const deadline = Date.now() + 15_000;
    while (!webhooks.some((w) => w.body.includes(intent)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const hook = webhooks.find((w) => w.body.includes(intent));
    assert.ok(hook, 'the webhook for the payment arrived');
    assert.equal(verifySignature(webhookSecret, hook.signature, hook.body, Math.floor(Date.now() / 1000)), true);
    assert.equal(verifySignature(webhookSecret, hook.signature, hook.body.replace('1250', '1251'), Math.floor(Date.now() / 1000)), false);
    const event = JSON.parse(hook.body) as { type: string; data: { object: { id: string; amount: number; status: string } } };
    assert.equal(event.type, 'payment_intent.succeeded');

    // "Always ask for my digits": the face alone is no longer enough.
    await portal.getByRole('link', { name: 'Settings' }).click();
    await portal.getByLabel('Always ask for my phone digits').check();
    await portal.getByRole('button', { name: 'Save' }).click();
    await portal.getByText('Saved.').waitFor();
    await page.getByRole('button', { name: 'Next customer' }).click();
    await waitScreen(page, 'idle');
    const second = await tillIntent(terminalId, 730);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    await waitScreen(page, 'digits', 90_000);
    for (const d of '4321') await page.getByRole('group', { name: 'phone digits' }).getByRole('button', { name: d, exact: true }).click();
    await waitScreen(page, 'confirm', 30_000);
    await page.getByRole('button', { name: 'Pay €7.30' }).click();
    await waitScreen(page, 'done');
    assert.equal(await intentStatus(second), 'succeeded');
    assert.equal(await walletOf(portal), 5000 - 1250 - 730);
    await settled();
    await browser.close();
  });

  test('B, never enrolled, is offered another way and pays with a typed pay code', async () => {
    const video = join(videoDir, 'person-b.y4m');
    await headTurnVideo(video, PERSON_B);
    const browser = await browserWithCamera(video);
    const portal = await portalPage(browser);
    await signUp(portal, { name: 'Colin Lee', email: `b-${randomUUID()}@example.com`, password: 'another good password', phone: '+1 202 555 9876' }, '20.00');
    await portal.getByRole('button', { name: 'Show a pay code' }).click();
    const code = ((await portal.getByLabel('pay code', { exact: true }).textContent()) ?? '').replace(/\s/g, '');
    assert.match(code, /^\d{12}$/);
    await shot(portal, 'portal-b-01-pay-code');

    const { page, terminalId, screens, settled } = await activatedTerminal(browser, 'terminal-b');
    const intent = await tillIntent(terminalId, 990);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    await waitScreen(page, 'other_way', 90_000);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /couldn't recognise you/);
    assert.ok(!screens.includes('confirm'), 'an unknown face is never offered someone else\'s account');
    await page.getByLabel('Pay code').fill(code);
    await page.getByRole('button', { name: 'Pay with code' }).click();
    await waitScreen(page, 'done');
    assert.equal(await intentStatus(intent), 'succeeded');
    assert.equal(await walletOf(portal), 2000 - 990);

    // A new code, kept as the portal draws its QR code, for the camera of the next terminal.
    await portal.getByRole('button', { name: 'Show a pay code' }).click();
    await portal.getByLabel('pay code', { exact: true }).filter({ hasNotText: code.slice(0, 4) + ' ' + code.slice(4, 8) }).waitFor();
    portalQr = await portal.getByRole('img', { name: 'pay code as a QR code' }).screenshot();
    await settled();
    await browser.close();
  });

  test('a still photo of A fails the liveness challenge', async () => {
    const video = join(videoDir, 'still.y4m');
    await writeY4m(video, [lfwPhoto(PERSON_A.frontal[0])], { fps: FPS, holdFrames: 40, noise: NOISE });
    const browser = await browserWithCamera(video);
    const { page, terminalId, screens, settled } = await activatedTerminal(browser, 'terminal-still');
    const intent = await tillIntent(terminalId, 500);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    await waitScreen(page, 'other_way', 90_000);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /couldn't confirm a live face/);
    assert.ok(!screens.includes('confirm'));
    assert.notEqual(await intentStatus(intent), 'succeeded');
    await settled();
    await browser.close();
  });

  test('the terminal reads a pay code shown as a QR code', async () => {
    assert.ok(portalQr, 'the portal showed a QR code');
    const video = join(videoDir, 'qr.y4m');
    await writeY4m(video, [portalQr], { fps: FPS, holdFrames: 20, noise: 1 });
    const browser = await browserWithCamera(video);
    const { page, terminalId, settled } = await activatedTerminal(browser, 'terminal-qr');
    const intent = await tillIntent(terminalId, 300);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay another way' }).click();
    await waitScreen(page, 'other_way');
    await waitScreen(page, 'done', 30_000);
    assert.match((await page.locator('.outcome h1').textContent()) ?? '', /Paid/);
    assert.equal(await intentStatus(intent), 'succeeded');
    await settled();
    await browser.close();
  });

  test('no capture or template is stored, logged or answered', async () => {
    assert.ok(captured.frames.length >= 16, `frames were sent (${captured.frames.length})`);
    // Distinctive pieces of every frame sent, as base64 text and as bytes.
    const pieces = captured.frames.map((b64) => {
      const mid = Math.floor(b64.length / 2 / 4) * 4;
      const text = b64.slice(mid, mid + 64);
      return { text, bytes: Buffer.from(text, 'base64') };
    });
    const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
    const floats = /\[\s*-?\d+(\.\d+)?(e-?\d+)?(\s*,\s*-?\d+(\.\d+)?(e-?\d+)?){63,}\s*\]/;
    const dims = [128, 192, 256, 512];
    const plainTemplate = (b: Buffer): boolean => {
      if (!dims.some((d) => b.length === d * 4)) return false;
      const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      let n = 0;
      for (const x of f) n += x * x;
      return Math.abs(n - 1) < 1e-3;
    };

    const tables = await platform.db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    assert.ok(tables.length > 10);
    let cells = 0;
    for (const { name } of tables) {
      for (const row of await platform.db.query<Record<string, unknown>>(`SELECT * FROM "${name}"`)) {
        for (const [column, v] of Object.entries(row)) {
          const where = `${name}.${column}`;
          if (typeof v === 'string') {
            cells++;
            assert.ok(!v.includes('/9j/'), `${where} holds base64 JPEG`);
            assert.ok(!floats.test(v), `${where} holds an embedding-sized array`);
            for (const p of pieces) assert.ok(!v.includes(p.text), `${where} holds a frame`);
          } else if (v instanceof Uint8Array) {
            cells++;
            const b = Buffer.from(v);
            assert.ok(!b.subarray(0, 3).equals(JPEG), `${where} holds a JPEG`);
            assert.ok(!plainTemplate(b), `${where} holds a template in the clear`);
            for (const p of pieces) assert.equal(b.indexOf(p.bytes), -1, `${where} holds a frame`);
          }
        }
      }
    }
    assert.ok(cells > 50);

    // The files themselves, free pages included, and the snapshot: a frame deleted later still counts.
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dataDir);
    assert.ok(files.some((f) => f.endsWith('facepay.sqlite')));
    for (const file of files) {
      const bytes = readFileSync(file);
      const text = bytes.toString('latin1');
      for (const p of pieces) {
        assert.equal(bytes.indexOf(p.bytes), -1, `${file} holds a frame`);
        assert.ok(!text.includes(p.text), `${file} holds a frame as base64`);
      }
    }

    const log = logs.join('');
    assert.ok(log.length > 1000, 'the server logged its requests');
    assert.ok(!log.includes('/9j/'), 'the log holds no JPEG');
    assert.ok(!floats.test(log), 'the log holds no embedding');
    for (const p of pieces) assert.ok(!log.includes(p.text), 'the log holds no frame');

    // What merchants and terminals receive: API answers and webhook deliveries.
    const answers = [
      ...captured.responses.filter((r) => !new URL(r.url, base).pathname.startsWith('/v1/shopper/')),
      ...webhooks.map((w) => ({ url: 'webhook', body: w.body })),
    ];
    assert.ok(answers.some((r) => r.url.includes('/captures')), 'terminal answers were seen');
    for (const r of answers) {
      assert.ok(!r.body.includes('/9j/'), `${r.url} answered with a JPEG`);
      assert.ok(!floats.test(r.body), `${r.url} answered with a template`);
      assert.doesNotMatch(r.body, /"(embedding|embeddings|template|templates|jpeg|image|frames)"\s*:/, `${r.url} answered with face data`);
      if (r.url.includes('/device/')) assert.doesNotMatch(r.body, /shp_|"shopper/, `${r.url} told the terminal who the shopper is`);
    }
  });
});
