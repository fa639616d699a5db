/**
 * Face pay end to end, as a shopper and a cashier meet it: a real server (face engine on, its own
 * SQLite data dir, a real port), headless Chromium whose camera plays real live video of a person
 * (clips of ../shared/datasets/video, see testing/live-video.ts), the portal and the terminal as
 * they are shipped. Each fake video needs its own
 * browser, so the scenarios are grouped by what the camera shows:
 *
 * - person A (the young man of tran_real): signs up, tops up and enrols in the portal; pays at the terminal by face for an
 *   intent the till created (ledger, signed webhook); then, having asked always to be asked for
 *   the digits, pays again after typing them;
 * - person B (the bearded man of krzys_real), never enrolled: the terminal offers another way, and B's typed pay code pays;
 * - a still photo of A: refused by the liveness challenge;
 * - a pay code shown as a QR code: the terminal reads it from the camera and pays.
 *
 * Then the database, the data dir, the log and every response are searched for the frames that
 * were sent and for templates: none may be there.
 *
 * The server is told to ask only for a turn to the left, which is what the clips show. The photo
 * slideshow attack is in facepay-attacks.browser.test.ts. Videos are written only to a temp dir,
 * never logged; the camera view is masked in the screenshots.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifySignature } from '../merchants/index.ts';
import { writeY4m } from '../testing/fake-camera.ts';
import { lfwPhoto, PERSON_A } from '../testing/lfw-faces.ts';
import { LIVE_SHOPPER, LIVE_STRANGER, liveClipVideo } from '../testing/live-video.ts';
import { enrolFace, FACE_BROWSER_SKIP_REASON, FPS, NOISE, shot, signUp, startFaceE2e, waitFaceScreen, waitScreen, walletOf, type FaceE2e } from './harness.ts';

describe('face pay in the browser, end to end', { skip: FACE_BROWSER_SKIP_REASON, timeout: 1_500_000 }, () => {
  let h: FaceE2e;
  const webhooks: { signature: string; body: string }[] = [];
  let webhookServer: Server;
  let webhookSecret: string;
  /** B's second pay code as the portal shows it: a picture of its QR code. */
  let portalQr: Buffer | undefined;
  const shopperA = { name: 'George Walker', email: `a-${randomUUID()}@example.com`, password: 'correct horse battery', phone: '+1 202 555 4321' };

  before(async () => {
    h = await startFaceE2e(['terminal', 'portal']);
    webhookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        webhooks.push({ signature: String(req.headers['facepay-signature'] ?? ''), body: Buffer.concat(chunks).toString() });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhookServer.listen(0, '127.0.0.1', r));
    const hook = await h.merchantApi<{ secret: string }>('POST', '/v1/webhook_endpoints', {
      url: `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hooks`,
      enabled_events: ['payment_intent.succeeded'],
    });
    webhookSecret = hook.secret;
  });

  after(async () => {
    webhookServer?.close();
    await h?.close();
  });

  test('A enrols in the portal, pays by face for the till, and pays again after the digits', async () => {
    const video = join(h.videoDir, 'person-a.y4m');
    await liveClipVideo(video, LIVE_SHOPPER);
    const browser = await h.browserWithCamera(video);

    const portal = await h.portalPage(browser);
    await signUp(portal, shopperA, '50.00');
    await enrolFace(portal, 'portal-a');
    assert.equal(await walletOf(portal), 5000);

    const { page, terminalId, screens, settled } = await h.activatedTerminal(browser, 'terminal-a');
    const intent = await h.tillIntent(terminalId, 1250);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    // The genuine clip often needs several answers before one shows the turn in its 3.3 s window
    // (a run reached the digits at its 89th screen), so the waits allow several tries.
    await waitFaceScreen(page, 'confirm');
    const hello = (await page.getByRole('heading').first().textContent()) ?? '';
    assert.match(hello, /^Hello, G\*{4} W\.$/, 'the terminal shows the masked name only');
    await page.getByRole('button', { name: 'Pay €12.50' }).click();
    await waitScreen(page, 'done');
    assert.match((await page.locator('.outcome h1').textContent()) ?? '', /Paid/);
    for (const s of ['idle', 'amount', 'scanning', 'challenge', 'deciding', 'confirm', 'done']) assert.ok(screens.includes(s), `screen ${s} was shown: ${screens.join(' > ')}`);
    assert.equal(await h.intentStatus(intent), 'succeeded');
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
    const second = await h.tillIntent(terminalId, 730);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    await waitFaceScreen(page, 'digits');
    for (const d of '4321') await page.getByRole('group', { name: 'phone digits' }).getByRole('button', { name: d, exact: true }).click();
    await waitScreen(page, 'confirm', 240_000);
    await page.getByRole('button', { name: 'Pay €7.30' }).click();
    await waitScreen(page, 'done');
    assert.equal(await h.intentStatus(second), 'succeeded');
    assert.equal(await walletOf(portal), 5000 - 1250 - 730);
    await settled();

    // A face model upgrade: A's templates are now of an earlier model, which the gallery no longer
    // searches. The portal says so on every page and A enrols again from the Face pay page.
    const me = (): Promise<{ id: string; face_enrol_again: boolean }> => portal.evaluate(async () => (await fetch('/v1/shopper/me')).json());
    const aId = (await me()).id;
    await h.platform.db.execute(`UPDATE gallery_templates SET model_version = 'retired' WHERE shopper_id = $1`, [aId]);
    await portal.reload();
    const notice = portal.getByRole('status').filter({ hasText: 'can no longer recognise your face' });
    await notice.waitFor();
    await shot(portal, 'portal-a-03-enrol-again');
    await portal.getByRole('link', { name: 'Enrol your face again' }).click();
    await enrolFace(portal, 'portal-a-again', true);
    assert.equal((await me()).face_enrol_again, false);
    assert.equal(await portal.getByRole('button', { name: 'Enrol my face again' }).count(), 0);
    assert.equal(await h.platform.face!.gallery.searchable(aId), true);
    await browser.close();
  });

  test('B, never enrolled, is offered another way and pays with a typed pay code', async () => {
    const video = join(h.videoDir, 'person-b.y4m');
    await liveClipVideo(video, LIVE_STRANGER);
    const browser = await h.browserWithCamera(video);
    const portal = await h.portalPage(browser);
    await signUp(portal, { name: 'Colin Lee', email: `b-${randomUUID()}@example.com`, password: 'another good password', phone: '+1 202 555 9876' }, '20.00');
    const { page, terminalId, screens, settled } = await h.activatedTerminal(browser, 'terminal-b');
    const intent = await h.tillIntent(terminalId, 990);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    await waitFaceScreen(page, 'other_way');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /couldn't recognise you/);
    assert.ok(!screens.includes('confirm'), 'an unknown face is never offered someone else\'s account');

    // Offered another way, he opens a pay code (it lives a few minutes, so only now).
    await portal.getByRole('button', { name: 'Show a pay code' }).click();
    const code = ((await portal.getByLabel('pay code', { exact: true }).textContent()) ?? '').replace(/\s/g, '');
    assert.match(code, /^\d{12}$/);
    await shot(portal, 'portal-b-01-pay-code');
    await page.getByLabel('Pay code').fill(code);
    await page.getByRole('button', { name: 'Pay with code' }).click();
    await waitScreen(page, 'done');
    assert.equal(await h.intentStatus(intent), 'succeeded');
    assert.equal(await walletOf(portal), 2000 - 990);

    // A new code, kept as the portal draws its QR code, for the camera of the next terminal.
    await portal.getByRole('button', { name: 'Show a pay code' }).click();
    await portal.getByLabel('pay code', { exact: true }).filter({ hasNotText: code.slice(0, 4) + ' ' + code.slice(4, 8) }).waitFor();
    portalQr = await portal.getByRole('img', { name: 'pay code as a QR code' }).screenshot();
    await settled();
    await browser.close();
  });

  test('the terminal reads a pay code shown as a QR code', async () => {
    assert.ok(portalQr, 'the portal showed a QR code');
    const video = join(h.videoDir, 'qr.y4m');
    await writeY4m(video, [portalQr], { fps: FPS, holdFrames: 20, noise: 1 });
    const browser = await h.browserWithCamera(video);
    const { page, terminalId, settled } = await h.activatedTerminal(browser, 'terminal-qr');
    const intent = await h.tillIntent(terminalId, 300);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay another way' }).click();
    await waitScreen(page, 'other_way');
    await waitScreen(page, 'done', 30_000);
    assert.match((await page.locator('.outcome h1').textContent()) ?? '', /Paid/);
    assert.equal(await h.intentStatus(intent), 'succeeded');
    await settled();
    await browser.close();
  });

  test('a still photo of A fails the liveness challenge', async () => {
    const video = join(h.videoDir, 'still.y4m');
    await writeY4m(video, [lfwPhoto(PERSON_A.frontal[0])], { fps: FPS, holdFrames: 40, noise: NOISE });
    const browser = await h.browserWithCamera(video);
    const { page, terminalId, screens, settled } = await h.activatedTerminal(browser, 'terminal-still');
    const intent = await h.tillIntent(terminalId, 500);
    await waitScreen(page, 'amount');
    await page.getByRole('button', { name: 'Pay with your face' }).click();
    // The still is refused only after the terminal's retries, each a full 40-frame answer
    // analysed on the server: on a busy 2-core machine that has taken over 90 s.
    await waitScreen(page, 'other_way', 300_000);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /couldn't confirm a live face/);
    assert.ok(!screens.includes('confirm'));
    assert.notEqual(await h.intentStatus(intent), 'succeeded');
    await settled();
    await browser.close();
  });

  test('no capture or template is stored, logged or answered', async () => {
    assert.ok(h.captured.frames.length >= 16, `frames were sent (${h.captured.frames.length})`);
    // Distinctive pieces of every frame sent, as base64 text and as bytes.
    const pieces = h.captured.frames.map((b64) => {
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

    const tables = await h.platform.db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    assert.ok(tables.length > 10);
    let cells = 0;
    for (const { name } of tables) {
      for (const row of await h.platform.db.query<Record<string, unknown>>(`SELECT * FROM "${name}"`)) {
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
    walk(h.dataDir);
    assert.ok(files.some((f) => f.endsWith('facepay.sqlite')));
    for (const file of files) {
      const bytes = readFileSync(file);
      const text = bytes.toString('latin1');
      for (const p of pieces) {
        assert.equal(bytes.indexOf(p.bytes), -1, `${file} holds a frame`);
        assert.ok(!text.includes(p.text), `${file} holds a frame as base64`);
      }
    }

    const log = h.logs.join('');
    assert.ok(log.length > 1000, 'the server logged its requests');
    assert.ok(!log.includes('/9j/'), 'the log holds no JPEG');
    assert.ok(!floats.test(log), 'the log holds no embedding');
    for (const p of pieces) assert.ok(!log.includes(p.text), 'the log holds no frame');

    // What merchants and terminals receive: API answers and webhook deliveries.
    const answers = [
      ...h.captured.responses.filter((r) => !new URL(r.url, h.base).pathname.startsWith('/v1/shopper/')),
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
